"""Feedback's periodic work on the job queue: unconfirmed reports expire once their code has,
and a year after a report closes its reporter's contact is removed (each through the engine,
as the platform); each photo's public copy is written, faces and plates blurred."""

from __future__ import annotations

import logging

from procrastinate import Blueprint, JobContext

from core.jobs import task_env
from core.notify import OutboxNotifier
from permits.documents.storage import FileStore
from permits.feedback.photos import PhotoService
from permits.feedback.repository import FeedbackRepository
from permits.feedback.service import FeedbackService

log = logging.getLogger(__name__)
NAMESPACE = "feedback"
# Photos whose public copy is still missing this long after they came are blurred by the
# sweep (their job was lost, or they came before copies were made), a batch a run.
PHOTO_PENDING_S, PHOTO_BATCH = 600, 20


def blueprint() -> Blueprint:
    """The feedback tasks (a fresh blueprint for each queue App)."""
    tasks = Blueprint()

    @tasks.periodic(cron="*/10 * * * *", periodic_id="expire-unconfirmed")
    @tasks.task(name="expire_unconfirmed", pass_context=True)
    def expire_unconfirmed(context: JobContext, timestamp: int) -> int:
        env = task_env(context)
        with env.engine.begin() as conn:
            return FeedbackService(FeedbackRepository(conn), OutboxNotifier(conn), b""
                                   ).expire_unconfirmed()

    # Nightly, outside office hours: a batch at a time, the rest the next night.
    @tasks.periodic(cron="30 2 * * *", periodic_id="remove-old-contacts")
    @tasks.task(name="remove_old_contacts", pass_context=True)
    def remove_old_contacts(context: JobContext, timestamp: int) -> int:
        env = task_env(context)
        with env.engine.begin() as conn:
            return FeedbackService(FeedbackRepository(conn), OutboxNotifier(conn), b""
                                   ).remove_old_contacts()

    # A photo's public copy (faces and plates pixelated): queued with the photo's row.
    @tasks.task(name="blur_photo", pass_context=True, retry=3)
    def blur_photo(context: JobContext, photo_id: int) -> int | None:
        env = task_env(context)
        with env.engine.begin() as conn:
            return PhotoService(conn, FileStore(env.settings.file_dir)).publish(photo_id)

    @tasks.periodic(cron="*/15 * * * *", periodic_id="blur-pending-photos")
    @tasks.task(name="blur_pending_photos", pass_context=True)
    def blur_pending_photos(context: JobContext, timestamp: int) -> int:
        env = task_env(context)
        store = FileStore(env.settings.file_dir)
        with env.engine.begin() as conn:
            pending = PhotoService(conn, store).pending(PHOTO_PENDING_S, PHOTO_BATCH)
        for photo_id in pending:  # each in its own transaction: one bad photo stops none
            try:
                with env.engine.begin() as conn:
                    PhotoService(conn, store).publish(photo_id)
            except Exception:
                log.exception("photo %s: no public copy written", photo_id)
        return len(pending)

    return tasks

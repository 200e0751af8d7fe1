"""Feedback's periodic work on the job queue: unconfirmed reports expire once their code has,
and a year after a report closes its reporter's contact is removed (each through the engine,
as the platform)."""

from __future__ import annotations

from procrastinate import Blueprint, JobContext

from core.jobs import task_env
from core.notify import OutboxNotifier
from permits.feedback.repository import FeedbackRepository
from permits.feedback.service import FeedbackService

NAMESPACE = "feedback"


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

    return tasks

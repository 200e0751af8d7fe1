"""A report's photos: JPEG or PNG judged by their bytes, written again without EXIF (no place,
no camera), kept in the document store by their hash; at most five a report. Added by its
reporter: signed in, or holding the upload token the report's answer gave.

The public sees a photo only once a job on the queue has written its public copy (faces and
number plates pixelated, `blur.py`); the original stays for the report's department and its
reporter."""

from __future__ import annotations

import hashlib
import hmac
import logging
from pathlib import Path
from typing import Any, BinaryIO

from procrastinate import App
from sqlalchemy import Connection

from accounts.policy import Principal, Subject, check
from core.errors import ConflictError, InvalidInputError, NotFoundError, TooLargeError
from permits.documents import sniff
from permits.documents.repository import DocumentRepository
from permits.documents.storage import FileStore, digest_of
from permits.feedback.blur import blur_file
from permits.feedback.workflow import HANDLE

MAX_PHOTOS = 5
PHOTO_MAX_MB = 10
TYPES = (sniff.JPEG, sniff.PNG)
log = logging.getLogger(__name__)
# The task's name on the queue: permits/feedback/tasks.py's namespace and task.
BLUR_TASK = "feedback:blur_photo"


def token_hash(token: str) -> str:
    """What is kept of a report's upload token."""
    return hashlib.sha256(token.encode()).hexdigest()


class PhotoService:
    """Photos of reports."""

    def __init__(self, conn: Connection, store: FileStore, queue: App | None = None) -> None:
        self.conn, self.store = conn, store
        self.queue = queue  # where a new photo's public copy is queued (None: by the sweep)

    def _report(self, principal: Principal, report_id: int, token: str | None) -> Any:
        row = self.conn.exec_driver_sql(
            "SELECT id, reporter_id, upload_token_hash, status, joined FROM feedback_report "
            "WHERE id = %(i)s FOR UPDATE", {"i": report_id}).first()
        mine = row is not None and (
            (principal.person_id is not None and row.reporter_id == principal.person_id)
            or (token is not None and row.upload_token_hash is not None
                and hmac.compare_digest(token_hash(token), row.upload_token_hash)))
        if row is None or not mine:
            raise NotFoundError("no report of yours has this number", "report_id")
        # A "me too" is closed as it is joined: its photo still goes with it.
        if row.status == "expired" or (row.status == "closed" and not row.joined):
            raise ConflictError(f"a report that is {row.status} takes no more photos", "status")
        return row

    def add(self, principal: Principal, report_id: int, token: str | None,
            stream: BinaryIO) -> Any:
        """One photo for the report (the same photo again answers the first row)."""
        self._report(principal, report_id, token)
        count = self.conn.exec_driver_sql(
            "SELECT count(*) FROM feedback_photo WHERE report_id = %(r)s",
            {"r": report_id}).scalar_one()
        limit = PHOTO_MAX_MB * 1024**2
        with self.store.scratch() as scratch:
            received = scratch.receive(stream, limit)
            if received is None:
                raise TooLargeError(f"the photo is larger than {PHOTO_MAX_MB} MB", "file")
            path, size = received
            kind = sniff.content_type(path) if size else None
            if kind not in TYPES:
                raise InvalidInputError("a photo is a JPEG or a PNG", "file")
            cleaned = scratch.new(sniff.EXTENSIONS[kind])
            problem = sniff.clean_image(path, kind, cleaned)
            if problem is not None:
                raise InvalidInputError(f"the photo: {problem}", "file")
            digest = digest_of(cleaned)
            same = self.conn.exec_driver_sql(
                "SELECT id, sha256, content_type, size_bytes, created_at FROM feedback_photo "
                "WHERE report_id = %(r)s AND sha256 = %(h)s", {"r": report_id, "h": digest}
            ).first()
            if same is not None:
                return same
            if count >= MAX_PHOTOS:
                raise ConflictError(f"a report takes at most {MAX_PHOTOS} photos", "file")
            kept = DocumentRepository(self.conn).keep(self.store, cleaned, digest)
        row = self.conn.exec_driver_sql(
            "INSERT INTO feedback_photo (report_id, sha256, content_type, size_bytes) "
            "VALUES (%(r)s, %(h)s, %(t)s, %(s)s) "
            "RETURNING id, sha256, content_type, size_bytes, created_at",
            {"r": report_id, "h": digest, "t": kind, "s": kept}).one()
        if self.queue is not None:
            defer_blur(self.queue, self.conn, int(row.id))
        return row

    def publish(self, photo_id: int) -> int | None:
        """Write the photo's public copy, faces and plates pixelated, and say so on its row:
        the number of regions blurred (None: no such photo). Done once: a photo already
        published answers its count again, and two runs at once write one copy."""
        row = self.conn.exec_driver_sql(
            "SELECT sha256, content_type, public_sha256, blurred_regions FROM feedback_photo "
            "WHERE id = %(i)s", {"i": photo_id}).first()
        if row is None:
            return None
        if row.public_sha256 is not None:
            return int(row.blurred_regions)
        with self.store.scratch() as scratch:
            out = scratch.new(sniff.EXTENSIONS[row.content_type])
            # The slow part runs before any lock: a run at the same time waits only below.
            regions = blur_file(self.store.path_of(row.sha256), row.content_type, out)
            # Nothing found: the original (already without EXIF) is the public copy.
            digest = digest_of(out) if regions else row.sha256
            locked = self.conn.exec_driver_sql(
                "SELECT public_sha256, blurred_regions FROM feedback_photo "
                "WHERE id = %(i)s FOR UPDATE", {"i": photo_id}).one()
            if locked.public_sha256 is not None:
                return int(locked.blurred_regions)
            if regions:
                DocumentRepository(self.conn).keep(self.store, out, digest)
        self.conn.exec_driver_sql(
            "UPDATE feedback_photo SET public_sha256 = %(h)s, blurred_regions = %(n)s "
            "WHERE id = %(i)s", {"h": digest, "n": regions, "i": photo_id})
        log.info("photo %s published with %d regions blurred", photo_id, regions)
        return regions

    def pending(self, older_than_s: int, limit: int) -> list[int]:
        """Photos still without a public copy a while after they came (a job lost, or photos
        kept before copies were made), in no fixed order: one that never blurs (its file
        broken) cannot keep the others waiting run after run."""
        return [int(r[0]) for r in self.conn.exec_driver_sql(
            "SELECT id FROM feedback_photo WHERE public_sha256 IS NULL AND created_at < "
            "now() - make_interval(secs => %(s)s) ORDER BY random() LIMIT %(n)s",
            {"s": older_than_s, "n": limit})]

    def public_file(self, report_id: int, photo_id: int) -> tuple[Any, Path]:
        """The public copy of a photo of a public report (not hidden by moderation), and its
        file; none until the copy is written."""
        row = self.conn.exec_driver_sql(
            "SELECT p.id, p.public_sha256 AS sha256, p.content_type FROM feedback_photo p "
            "JOIN feedback_report r ON r.id = p.report_id WHERE p.id = %(p)s "
            "AND p.report_id = %(r)s AND p.public_sha256 IS NOT NULL "
            "AND r.status NOT IN ('unconfirmed', 'expired') AND r.hidden_reason IS NULL",
            {"p": photo_id, "r": report_id}).first()
        if row is None:
            raise NotFoundError("no such photo to show", "photo_id")
        return row, self.store.path_of(row.sha256)

    def original_file(self, principal: Principal, report_id: int, photo_id: int,
                      token: str | None) -> tuple[Any, Path]:
        """The photo as it was sent (without its EXIF), for the report's reporter (account or
        upload token) and its department's officers (feedback.handle); 404 for anyone else,
        403 for staff outside their department or wards."""
        row = self.conn.exec_driver_sql(
            "SELECT p.id, p.sha256, p.content_type, r.reporter_id, r.upload_token_hash, "
            "r.department, r.ward_code, r.status FROM feedback_photo p JOIN feedback_report r "
            "ON r.id = p.report_id WHERE p.id = %(p)s AND p.report_id = %(r)s",
            {"p": photo_id, "r": report_id}).first()
        missing = NotFoundError("no such photo of a report of yours", "photo_id")
        if row is None:
            raise missing
        mine = (principal.person_id is not None and row.reporter_id == principal.person_id) \
            or (principal.person_id is None and token is not None
                and row.upload_token_hash is not None
                and hmac.compare_digest(token_hash(token), row.upload_token_hash))
        if not mine:
            # As the officer's view of a report: not before it is confirmed.
            if not principal.is_staff or row.status == "unconfirmed":
                raise missing
            check(principal, HANDLE, Subject(owner_id=row.reporter_id,
                                             department=row.department, ward=row.ward_code))
        return row, self.store.path_of(row.sha256)


def defer_blur(queue: App, conn: Connection, photo_id: int) -> int:
    """Queue the photo's public copy in the caller's transaction (no job if it rolls back),
    one run of a photo at a time."""
    driver = conn.connection.driver_connection
    return queue.configure_task(BLUR_TASK, connection=driver,
                                lock=f"feedback_photo:{photo_id}").defer(photo_id=photo_id)

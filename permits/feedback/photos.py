"""A report's photos: JPEG or PNG judged by their bytes, written again without EXIF (no place,
no camera), kept in the document store by their hash; at most five a report. Added by its
reporter: signed in, or holding the upload token the report's answer gave."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, BinaryIO

from sqlalchemy import Connection

from accounts.policy import Principal
from core.errors import ConflictError, InvalidInputError, NotFoundError, TooLargeError
from permits.documents import sniff
from permits.documents.repository import DocumentRepository
from permits.documents.storage import FileStore, digest_of

MAX_PHOTOS = 5
PHOTO_MAX_MB = 10
TYPES = (sniff.JPEG, sniff.PNG)


def token_hash(token: str) -> str:
    """What is kept of a report's upload token."""
    return hashlib.sha256(token.encode()).hexdigest()


class PhotoService:
    """Photos of reports."""

    def __init__(self, conn: Connection, store: FileStore) -> None:
        self.conn, self.store = conn, store

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
            DocumentRepository(self.conn).hold_file(digest)
            kept = cleaned.stat().st_size
            self.store.place(cleaned, digest)
        return self.conn.exec_driver_sql(
            "INSERT INTO feedback_photo (report_id, sha256, content_type, size_bytes) "
            "VALUES (%(r)s, %(h)s, %(t)s, %(s)s) "
            "RETURNING id, sha256, content_type, size_bytes, created_at",
            {"r": report_id, "h": digest, "t": kind, "s": kept}).one()

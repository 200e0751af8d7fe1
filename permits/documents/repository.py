"""SQL of a dossier's documents."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from sqlalchemy import Connection

from core.workflow import driver

if TYPE_CHECKING:  # the store's module reads this one (its sweep)
    from permits.documents.storage import FileStore

COLUMNS = ("id, dossier_id, doc_key, sha256, content_type, size_bytes, file_name, uploaded_by, "
           "uploaded_at, for_event_id")


def hash_lock_key(digest: str) -> int:
    """The advisory lock of one stored file (60 bits of its hash: a signed bigint)."""
    return int(digest[:15], 16)


class DocumentRepository:
    """Reads and writes the rows of attached files."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def requirements(self, procedure_id: str) -> list[dict[str, Any]]:
        """The documents a procedure asks for (the catalogue's JSON)."""
        found = self.conn.exec_driver_sql(
            "SELECT documents FROM procedure WHERE id = %(i)s", {"i": procedure_id}).first()
        return list(found[0]) if found is not None else []

    def supplement_request(self, dossier_id: int) -> int | None:
        """The event that last asked this dossier for a supplement, if any."""
        found = self.conn.exec_driver_sql(
            "SELECT max(id) FROM dossier_event WHERE dossier_id = %(d)s "
            "AND to_status = 'supplement_requested'", {"d": dossier_id}).scalar()
        return None if found is None else int(found)

    def add(self, dossier_id: int, key: str, digest: str, content_type: str, size: int,
            file_name: str, person_id: int, for_event_id: int | None) -> Any:
        """A new row for a file already in the store."""
        return self.conn.exec_driver_sql(
            "INSERT INTO dossier_document (dossier_id, doc_key, sha256, content_type, "
            "size_bytes, file_name, uploaded_by, for_event_id) VALUES (%(d)s, %(k)s, %(h)s, "
            f"%(t)s, %(s)s, %(n)s, %(p)s, %(e)s) RETURNING {COLUMNS}",
            {"d": dossier_id, "k": key, "h": digest, "t": content_type, "s": size,
             "n": file_name, "p": person_id, "e": for_event_id}).one()

    def same(self, dossier_id: int, key: str, digest: str) -> Any:
        """The attached row with this content for this document, or None."""
        return self.conn.exec_driver_sql(
            f"SELECT {COLUMNS} FROM dossier_document WHERE dossier_id = %(d)s AND doc_key = "
            "%(k)s AND sha256 = %(h)s AND removed_at IS NULL ORDER BY id LIMIT 1",
            {"d": dossier_id, "k": key, "h": digest}).first()

    def of_dossier(self, dossier_id: int) -> list[Any]:
        """The files attached to a dossier (not removed), oldest first."""
        return list(self.conn.exec_driver_sql(
            f"SELECT {COLUMNS} FROM dossier_document WHERE dossier_id = %(d)s "
            "AND removed_at IS NULL ORDER BY uploaded_at, id", {"d": dossier_id}).all())

    def get(self, dossier_id: int, document_id: int) -> Any:
        """One attached file of this dossier, or None."""
        return self.conn.exec_driver_sql(
            f"SELECT {COLUMNS} FROM dossier_document WHERE id = %(i)s AND dossier_id = %(d)s "
            "AND removed_at IS NULL", {"i": document_id, "d": dossier_id}).first()

    def remove(self, document_id: int) -> None:
        """Mark the row removed (its file goes with the sweep when no row needs it)."""
        self.conn.exec_driver_sql(
            "UPDATE dossier_document SET removed_at = now() WHERE id = %(i)s",
            {"i": document_id})

    def hold_file(self, digest: str) -> None:
        """Keep the sweep off this file until the transaction ends (an upload placing it)."""
        self.conn.exec_driver_sql("SELECT pg_advisory_xact_lock_shared(%(k)s)",
                                  {"k": hash_lock_key(digest)})

    def keep(self, store: FileStore, src: Path, digest: str) -> int:
        """A finished temporary file moved into the store under its hash, the sweep held off
        it until the transaction that references it ends; its size."""
        self.hold_file(digest)
        size = src.stat().st_size
        store.place(src, digest)
        return size


def referenced(conn: Connection, digests: Collection[str]) -> set[str]:
    """Those of the hashes that a row not removed still needs (a document's, a result's, a
    report's photo and its public copy, a register entry's file)."""
    return {str(r[0]) for r in conn.exec_driver_sql(
        "SELECT sha256 FROM dossier_document WHERE removed_at IS NULL "
        "AND sha256 = ANY(%(h)s) UNION SELECT sha256 FROM dossier_result "
        "WHERE sha256 = ANY(%(h)s) UNION SELECT sha256 FROM feedback_photo "
        "WHERE sha256 = ANY(%(h)s) UNION SELECT public_sha256 FROM feedback_photo "
        "WHERE public_sha256 = ANY(%(h)s) UNION SELECT file_sha256 FROM office_document "
        "WHERE file_sha256 = ANY(%(h)s)", {"h": list(digests)})}


def claim_file(conn: Connection, digest: str) -> bool:
    """Whether the sweep may remove this file now: no upload is placing it (held till the
    end of the sweep's transaction)."""
    return bool(conn.exec_driver_sql("SELECT pg_try_advisory_xact_lock(%(k)s)",
                                     {"k": hash_lock_key(digest)}).scalar())


def missing_documents(conn: psycopg.Connection[Any] | Connection,
                      dossier_id: int) -> list[dict[str, Any]]:
    """The mandatory documents of the dossier's procedure that no attached file answers yet,
    in the procedure's order (a guard on submission takes a psycopg connection)."""
    rows = driver(conn).execute(
        """
        SELECT d.spec FROM dossier x
        JOIN procedure p ON p.id = x.procedure_id
        CROSS JOIN LATERAL jsonb_array_elements(p.documents) WITH ORDINALITY AS d(spec, n)
        WHERE x.id = %(d)s AND coalesce((d.spec->>'mandatory')::boolean, true)
          AND NOT EXISTS (SELECT 1 FROM dossier_document a WHERE a.dossier_id = x.id
                          AND a.doc_key = d.spec->>'key' AND a.removed_at IS NULL)
        ORDER BY d.n
        """, {"d": dossier_id}).fetchall()
    return [dict(r[0]) for r in rows]

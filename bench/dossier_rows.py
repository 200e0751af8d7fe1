"""A dossier's three writes by plain SQL: the draft and its event, a document's row, the move
to awaiting receipt and its event. The raw baseline of bench/dossiers.py runs them from its
client; the bare app (bench/bare_upload.py) behind HTTP. Each runs in the caller's
transaction; those writing a status say so as the engine does (the table's trigger refuses
anything else)."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from core.workflow import ENGINE_SETTING


def draft(conn: psycopg.Connection[Any], owner: int, procedure_id: str, department: str,
          ward: str, parcel_key: str, applicant: dict[str, Any],
          answers: dict[str, Any]) -> int:
    """Insert a draft and its event; its id."""
    conn.execute("SELECT set_config(%s, 'dossier', true)", (ENGINE_SETTING,))
    row = conn.execute(
        "INSERT INTO dossier (owner_id, procedure_id, department, ward_code, parcel_key, "
        "applicant, answers, status, version) VALUES (%s, %s, %s, %s, %s, %s, %s, 'draft', 1) "
        "RETURNING id",
        (owner, procedure_id, department, ward, parcel_key, json.dumps(applicant),
         json.dumps(answers))).fetchone()
    assert row is not None
    conn.execute("INSERT INTO dossier_event (dossier_id, actor_id, action, to_status, "
                 "visibility) VALUES (%s, %s, 'create', 'draft', 'applicant')", (row[0], owner))
    return int(row[0])


def document(conn: psycopg.Connection[Any], dossier_id: int, digest: str, size: int,
             file_name: str | None, owner: int) -> None:
    """The row of the application document kept under `digest`."""
    conn.execute("INSERT INTO dossier_document (dossier_id, doc_key, sha256, content_type, "
                 "size_bytes, file_name, uploaded_by) VALUES (%s, 'application', %s, "
                 "'application/pdf', %s, %s, %s)", (dossier_id, digest, size, file_name, owner))


def submit(conn: psycopg.Connection[Any], dossier_id: int, owner: int, code: str) -> None:
    """The move from draft to awaiting receipt, with its code, and its event."""
    conn.execute("SELECT set_config(%s, 'dossier', true)", (ENGINE_SETTING,))
    conn.execute("UPDATE dossier SET status = 'awaiting_receipt', version = version + 1, "
                 "code = %s, submitted_at = now() WHERE id = %s", (code, dossier_id))
    conn.execute("INSERT INTO dossier_event (dossier_id, actor_id, action, from_status, "
                 "to_status, visibility) VALUES (%s, %s, 'submit', 'draft', "
                 "'awaiting_receipt', 'public')", (dossier_id, owner))


def receive(conn: psycopg.Connection[Any], dossier_id: int, version: int,
            officer: int) -> None:
    """The move from awaiting receipt to received at the version read, with its return date,
    and its event."""
    conn.execute("SELECT set_config(%s, 'dossier', true)", (ENGINE_SETTING,))
    conn.execute("UPDATE dossier SET status = 'received', version = version + 1, "
                 "received_at = now(), due_on = current_date + 3 "
                 "WHERE id = %s AND version = %s", (dossier_id, version))
    conn.execute("INSERT INTO dossier_event (dossier_id, actor_id, action, from_status, "
                 "to_status, visibility) VALUES (%s, %s, 'receive', 'awaiting_receipt', "
                 "'received', 'public')", (dossier_id, officer))

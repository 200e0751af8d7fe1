"""The floor under the HTTP paths of the feedback and dossier benches: a bare FastAPI app on
the same uvicorn, taking the same requests (a report as JSON, then its photo as multipart; a
dossier's draft as JSON, its document as multipart, its submission; an officer's receipt) and
writing the same rows by plain SQL and the same files, with nothing checked (no account, no
rate limit, no engine, no decoding). What it leaves is what HTTP and multipart cost on this machine.

Run by bench/feedback.py and bench/dossiers.py: `uvicorn bench.bare_upload:app`,
BENCH_BARE_DSN naming the database, BENCH_BARE_FILES the folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import psycopg
from fastapi import FastAPI, File, Form, UploadFile
from psycopg_pool import ConnectionPool

from bench import dossier_rows as rows
from bench.common import keep_file
from core.workflow import ENGINE_SETTING

POOL = ConnectionPool(os.environ.get("BENCH_BARE_DSN", ""), min_size=1, max_size=4, open=False)
FILES = Path(os.environ.get("BENCH_BARE_FILES", "/tmp/bench-bare-files"))


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    POOL.open()
    FILES.mkdir(parents=True, exist_ok=True)
    yield
    POOL.close()


app = FastAPI(lifespan=_lifespan)


@app.post("/r", status_code=201)
def report(body: dict[str, Any]) -> dict[str, int]:
    """The report and its two events, received at once."""
    conn: psycopg.Connection[Any]
    with POOL.connection() as conn, conn.transaction():
        conn.execute("SELECT set_config(%s, 'feedback_report', true)", (ENGINE_SETTING,))
        row = conn.execute(
            "INSERT INTO feedback_report (category, status, description, geom, ward_code, "
            "department, reporter_id, show_name, confirmed_at, due_on) VALUES (%s, 'received', "
            "%s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, %s, false, now(), "
            "current_date + 5) RETURNING id",
            (body["category"], body["description"], body["lon"], body["lat"], body["ward"],
             body["department"], body["reporter"])).fetchone()
        assert row is not None
        for action, status in (("send", "unconfirmed"), ("confirm", "received")):
            conn.execute("INSERT INTO feedback_event (report_id, actor_id, action, to_status, "
                         "visibility) VALUES (%s, %s, %s, %s, 'public')",
                         (row[0], body["reporter"], action, status))
    return {"id": int(row[0])}


@app.post("/r/{report_id}/p", status_code=201)
def photo(report_id: int, file: Annotated[UploadFile, File()]) -> dict[str, str]:
    """The photo's file as it came (fsynced, renamed into place) and its row."""
    data = file.file.read()
    digest = keep_file(FILES, data)
    with POOL.connection() as conn, conn.transaction():
        conn.execute("INSERT INTO feedback_photo (report_id, sha256, content_type, size_bytes) "
                     "VALUES (%s, %s, 'image/jpeg', %s)", (report_id, digest, len(data)))
    return {"sha256": digest}


@app.post("/d", status_code=201)
def draft(body: dict[str, Any]) -> dict[str, int]:
    """A dossier's draft and its event."""
    with POOL.connection() as conn, conn.transaction():
        dossier = rows.draft(conn, body["owner"], body["procedure_id"], body["department"],
                             body["ward"], body["parcel_key"], body["applicant"],
                             body["answers"])
    return {"id": dossier}


@app.post("/d/{dossier_id}/f", status_code=201)
def document(dossier_id: int, owner: Annotated[int, Form()],
             file: Annotated[UploadFile, File()]) -> dict[str, str]:
    """The document's file as it came (fsynced, renamed into place) and its row."""
    data = file.file.read()
    digest = keep_file(FILES, data)
    with POOL.connection() as conn, conn.transaction():
        rows.document(conn, dossier_id, digest, len(data), file.filename, owner)
    return {"sha256": digest}


@app.post("/d/{dossier_id}/s")
def submit(dossier_id: int, body: dict[str, Any]) -> dict[str, str]:
    """The move to awaiting receipt, with a code, and its event."""
    code = f"BARE-{uuid.uuid4().hex[:16]}"
    with POOL.connection() as conn, conn.transaction():
        rows.submit(conn, dossier_id, body["owner"], code)
    return {"code": code}


@app.post("/d/{dossier_id}/r")
def receive(dossier_id: int, body: dict[str, Any]) -> dict[str, int]:
    """The officer's receipt at the version they read, and its event."""
    with POOL.connection() as conn, conn.transaction():
        rows.receive(conn, dossier_id, body["version"], body["officer"])
    return {"version": body["version"] + 1}

"""BENCH dossiers: citizens submitting dossiers with a 1 MB attachment each over HTTP (draft,
upload, submit: three requests through the engine, the form's and the documents' checks)
against the same rows and file written by plain SQL and a file write, and beside them the same
three requests to a bare app that checks nothing (bench/bare_upload.py: HTTP's and
multipart's floor on this machine); and an officer's move (receive, through the engine with
If-Match) against its raw UPDATE + INSERT, and the same UPDATE + INSERT as one request to the
bare app. Rounds rotate the sides; the medians are printed."""

from __future__ import annotations

import http.client
import io
import json
import os
import secrets
import shutil
import statistics
import time
import uuid
from collections.abc import Callable
from functools import partial

import psycopg
from pypdf import PdfWriter
from pypdf.generic import ContentStream, NameObject

from accounts.service import AccountService, GrantSpec
from bench import dossier_rows as rows
from bench.common import (
    BENCH_DIR,
    bench_database,
    keep_file,
    log,
    percentile,
    run_clients,
    start_bare,
    start_server,
    stop,
)
from core.db import make_engine
from core.notify import OutboxNotifier
from core.pgcluster import PostgresCluster

PARCELS = int(os.environ.get("BENCH_DOSSIER_PARCELS", "200000"))
CLIENTS = int(os.environ.get("BENCH_DOSSIER_CLIENTS", "4"))
PER_ROUND = int(os.environ.get("BENCH_DOSSIER_SUBMISSIONS", "48"))
MOVES = int(os.environ.get("BENCH_DOSSIER_MOVES", "60"))
ROUNDS = int(os.environ.get("BENCH_DOSSIER_ROUNDS", "3"))
WORKERS = int(os.environ.get("BENCH_DOSSIER_WORKERS", "2"))
# A procedure of one mandatory document and no fee: "a 1 MB attachment each" is the whole
# dossier (a fee would be paid online before receipt, through a gateway not measured here).
PROCEDURE = "bench-one-document"
DEPARTMENT = "economy"
APPLICANT = {"full_name": "Người Đo", "phone": "0909000111"}
ANSWERS = {"business_name": "Tạp hoá Thử", "business_lines": "Bán lẻ", "capital_vnd": 50_000_000}
FILES = BENCH_DIR / "files-raw"
FILES_BARE = BENCH_DIR / "files-bare"


def _pdf(size: int = 1 << 20) -> bytes:
    """A valid one-page PDF of about `size` bytes, unique (no two files share a hash)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    stream = ContentStream(None, writer)
    # Comments in a content stream: bytes a reader must read, that draw nothing.
    filler = b"".join(b"% " + secrets.token_hex(38).encode() + b"\n"
                      for _ in range(size // 80))
    stream.set_data(b"BT /F1 12 Tf 72 720 Td (Ho so thu) Tj ET\n" + filler)
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _setup(cluster: PostgresCluster) -> tuple[list[dict[str, str]], dict[str, str], str, str]:
    """Citizens signed in (one per client), an officer of the ward, a parcel of the ward."""
    with psycopg.connect(cluster.libpq_dsn()) as conn:
        conn.execute(
            "INSERT INTO procedure (id, name_vi, name_en, online_level, statutory_days, "
            "fee_vnd, fee_verified, applies_to, documents, department, national_code, field, "
            "day_kind, fee_basis, level, form_schema, applies_to_land_use, unverified, "
            "name_search, version) SELECT %s, name_vi || ' (đo)', name_en || ' (bench)', "
            "online_level, statutory_days, NULL, fee_verified, applies_to, "
            "jsonb_build_array(documents -> 0), department, NULL, field, day_kind, fee_basis, "
            "level, form_schema, applies_to_land_use, unverified, name_search, 1 "
            "FROM procedure WHERE id = 'household-business-registration' "
            "ON CONFLICT (id) DO NOTHING", (PROCEDURE,))
        parcel, ward = conn.execute(
            "SELECT p.parcel_key, w.code FROM parcel p "
            "JOIN admin_unit w ON w.id = coalesce(p.current_ward_id, p.ward_id) "
            "ORDER BY p.id LIMIT 1").fetchone() or ("", "")
        conn.commit()
    engine = make_engine(cluster.sqlalchemy_url(), pool_size=1, max_overflow=0)
    citizens = []
    with engine.begin() as db:
        service = AccountService(db, OutboxNotifier(db), b"k" * 32)
        for _ in range(CLIENTS):
            phone = "+8497" + "".join(secrets.choice("0123456789") for _ in range(7))
            person = int(db.exec_driver_sql(
                "INSERT INTO person (phone, password_hash, display_name, verified_at) "
                "VALUES (%(p)s, 'x', 'Người Đo', now()) RETURNING id", {"p": phone}).scalar_one())
            db.exec_driver_sql("INSERT INTO role_grant (person_id, role) "
                               "VALUES (%(p)s, 'citizen')", {"p": person})
            session = service._new_session(person)
            citizens.append({"cookie": session.token, "csrf": session.csrf_token,
                             "phone": phone, "person": str(person)})
        officer_id, _ = service.create_staff(
            "09" + "".join(secrets.choice("0123456789") for _ in range(8)), "Cán Bộ Đo",
            GrantSpec("officer", DEPARTMENT, (str(ward),)))
        session = service._new_session(officer_id)
        officer = {"cookie": session.token, "csrf": session.csrf_token,
                   "person": str(officer_id)}
    engine.dispose()
    return citizens, officer, str(parcel), str(ward)


class Http:
    """A kept-alive HTTP/1.1 connection of one signed-in person."""

    def __init__(self, port: int, who: dict[str, str]) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.headers = {"Cookie": f"civicmap_session={who['cookie']}",
                        "X-CSRF-Token": who["csrf"]}

    def send(self, method: str, path: str, body: bytes | None = None,
             **headers: str) -> tuple[int, dict[str, str], bytes]:
        try:
            self.conn.request(method, path, body=body, headers={**self.headers, **headers})
            res = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            if method != "GET":
                raise
            # The server closed the idle connection (its keep-alive timeout): once more.
            self.conn.close()
            self.conn.request(method, path, body=body, headers={**self.headers, **headers})
            res = self.conn.getresponse()
        return res.status, dict(res.getheaders()), res.read()

    def json(self, method: str, path: str, value: object,
             **headers: str) -> tuple[int, dict[str, str], bytes]:
        return self.send(method, path, json.dumps(value).encode(),
                         **{"Content-Type": "application/json", **headers})


def _multipart(fields: dict[str, str], name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = ("".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n"
                    f"{v}\r\n" for k, v in fields.items())
            + f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def _our_submitter(port: int, citizens: list[dict[str, str]], parcel: str
                   ) -> Callable[[int, bytes], None]:
    """Draft, attach, submit: what the web app sends, three requests."""
    clients: dict[int, Http] = {}

    def submit(slot: int, attachment: bytes) -> None:
        client = clients.setdefault(slot, Http(port, citizens[slot % len(citizens)]))
        status, headers, body = client.json("POST", "/api/dossiers", {
            "procedure_id": PROCEDURE, "parcel_key": parcel, "answers": ANSWERS,
            "applicant": APPLICANT},
            **{"Idempotency-Key": secrets.token_hex(16)})
        assert status == 201, body[:300]
        dossier = json.loads(body)["id"]
        data, boundary = _multipart({"key": "application"}, "don.pdf", attachment)
        status, _, body = client.send(
            "POST", f"/api/dossiers/{dossier}/documents", data,
            **{"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert status == 201, body[:300]
        status, _, body = client.send(
            "POST", f"/api/dossiers/{dossier}/submit", None,
            **{"If-Match": headers["etag"], "Idempotency-Key": secrets.token_hex(16)})
        assert status == 200, body[:300]
    return submit


def _raw_submitter(dsn: str, citizens: list[dict[str, str]], parcel: str, ward: str
                   ) -> Callable[[int, bytes], None]:
    """The same rows and file: draft and its event, the file and its row, the move."""
    conn = psycopg.connect(dsn)
    FILES.mkdir(parents=True, exist_ok=True)

    def submit(slot: int, attachment: bytes) -> None:
        owner = int(citizens[slot % len(citizens)]["person"])
        with conn.transaction():
            dossier = rows.draft(conn, owner, PROCEDURE, DEPARTMENT, ward, parcel, APPLICANT,
                                 ANSWERS)
        digest = keep_file(FILES, attachment)
        with conn.transaction():
            rows.document(conn, dossier, digest, len(attachment), "don.pdf", owner)
        with conn.transaction():
            rows.submit(conn, dossier, owner, f"RAW-{uuid.uuid4().hex[:16]}")
    return submit


def _bare_submitter(port: int, citizens: list[dict[str, str]], parcel: str, ward: str
                    ) -> Callable[[int, bytes], None]:
    """The same three requests to the bare app (bench/bare_upload.py): HTTP's floor."""
    clients: dict[int, Http] = {}

    def submit(slot: int, attachment: bytes) -> None:
        client = clients.setdefault(slot, Http(port, {"cookie": "", "csrf": ""}))
        owner = citizens[slot % len(citizens)]["person"]
        status, _, body = client.json("POST", "/d", {
            "owner": int(owner), "procedure_id": PROCEDURE, "department": DEPARTMENT,
            "ward": ward, "parcel_key": parcel, "answers": ANSWERS,
            "applicant": APPLICANT})
        assert status == 201, body[:300]
        dossier = json.loads(body)["id"]
        data, boundary = _multipart({"owner": owner}, "don.pdf", attachment)
        status, _, body = client.send(
            "POST", f"/d/{dossier}/f", data,
            **{"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert status == 201, body[:300]
        status, _, body = client.json("POST", f"/d/{dossier}/s", {"owner": int(owner)})
        assert status == 200, body[:300]
    return submit


def _awaiting(dsn: str, side: str, limit: int) -> list[tuple[int, int]]:
    """Dossiers waiting for receipt, made by one side (ours, raw SQL or the bare app), with
    their versions."""
    made_by = {"ours": "code NOT LIKE 'RAW-%%' AND code NOT LIKE 'BARE-%%'",
               "raw": "code LIKE 'RAW-%%'", "bare": "code LIKE 'BARE-%%'"}[side]
    with psycopg.connect(dsn) as conn:
        return [(int(r[0]), int(r[1])) for r in conn.execute(
            "SELECT id, version FROM dossier WHERE procedure_id = %s "
            f"AND status = 'awaiting_receipt' AND {made_by} ORDER BY id LIMIT %s",
            (PROCEDURE, limit))]


def _our_mover(port: int, officer: dict[str, str]) -> Callable[[int, int], None]:
    client = Http(port, officer)

    def receive(dossier: int, version: int) -> None:
        status, _, body = client.json(
            "POST", f"/api/dossiers/{dossier}/actions", {"action": "receive"},
            **{"If-Match": f'"dossier-{dossier}-v{version}"'})
        assert status == 200, body[:300]
    return receive


def _raw_mover(dsn: str, officer: dict[str, str]) -> Callable[[int, int], None]:
    conn = psycopg.connect(dsn)

    def receive(dossier: int, version: int) -> None:
        with conn.transaction():
            rows.receive(conn, dossier, version, int(officer["person"]))
    return receive


def _bare_mover(port: int, officer: dict[str, str]) -> Callable[[int, int], None]:
    """The same move as one request to the bare app: HTTP's floor for an action."""
    client = Http(port, {"cookie": "", "csrf": ""})

    def receive(dossier: int, version: int) -> None:
        status, _, body = client.json("POST", f"/d/{dossier}/r", {
            "version": version, "officer": int(officer["person"])})
        assert status == 200, body[:300]
    return receive


def _floor_ms(port: int, officer: dict[str, str], n: int = 40) -> float:
    """The floor of our stack: the p50 of one signed-in request that reads one row (GET
    /api/me: the session, the roles, the person), no workflow at all."""
    client = Http(port, officer)
    took = []
    for _ in range(n):
        started = time.perf_counter()
        status, _, body = client.send("GET", "/api/me")
        took.append((time.perf_counter() - started) * 1000)
        assert status == 200, body[:200]
    return percentile(took, 50)


def main() -> None:
    """Rotate the sides round by round; print the medians."""
    cluster = bench_database(PARCELS)
    dsn = cluster.libpq_dsn()
    citizens, officer, parcel, ward = _setup(cluster)
    files = BENCH_DIR / "files-ours"
    proc, port = start_server(cluster, WORKERS, {"CIVICMAP_FILES_DIR": str(files),
                                                 "CIVICMAP_EMBEDDED_WORKER": "false"})
    bare_proc, bare_port = start_bare(dsn, FILES_BARE, WORKERS)
    log(f"dossiers: {ROUNDS} rounds of {PER_ROUND} submissions by {CLIENTS} clients, "
        f"{MOVES} receipts by one officer, {WORKERS} server workers")
    rates: dict[str, list[float]] = {"ours": [], "raw": [], "bare": []}
    moves: dict[str, list[float]] = {"ours": [], "raw": [], "bare": []}
    floors: list[float] = []
    sides = ("ours", "raw", "bare")
    try:
        for n in range(ROUNDS):
            for path in sides[n % 3:] + sides[:n % 3]:
                items = [(i, _pdf()) for i in range(PER_ROUND)]
                make = (partial(_our_submitter, port, citizens, parcel) if path == "ours"
                        else partial(_raw_submitter, dsn, citizens, parcel, ward)
                        if path == "raw" else
                        partial(_bare_submitter, bare_port, citizens, parcel, ward))
                _, wall = run_clients(make, items, CLIENTS, 0)
                rates[path].append(PER_ROUND / wall)
            for folder in (FILES, FILES_BARE):  # the rows stay; their files are not read again
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
            for path in sides[n % 3:] + sides[:n % 3]:
                waiting = _awaiting(dsn, path, MOVES)
                mover = (partial(_our_mover, port, officer) if path == "ours"
                         else partial(_raw_mover, dsn, officer) if path == "raw"
                         else partial(_bare_mover, bare_port, officer))
                latencies, _ = run_clients(mover, waiting, 1, 0)  # a move is made once
                moves[path].append(percentile(latencies, 50))
            floors.append(_floor_ms(port, officer))
            log(f"  round {n + 1}: submit/s ours={rates['ours'][-1]:.2f} "
                f"raw={rates['raw'][-1]:.2f} bare_http={rates['bare'][-1]:.2f}; receive p50 "
                f"ours={moves['ours'][-1]:.2f} ms raw={moves['raw'][-1]:.2f} ms "
                f"bare_http={moves['bare'][-1]:.2f} ms; signed-in GET "
                f"p50 {floors[-1]:.2f} ms")
    finally:
        stop(bare_proc)
        stop(proc)
    ours, raw = statistics.median(rates["ours"]), statistics.median(rates["raw"])
    bare = statistics.median(rates["bare"])
    # bare_http: the same requests to an app that checks nothing, its ratio to raw the most
    # any HTTP path can reach here.
    print(f"BENCH dossiers submit_per_s ours={ours:.2f} raw={raw:.2f} bare_http={bare:.2f} "
          f"bare_http_ratio={bare / raw:.2f} ours_to_bare={ours / bare:.2f} clients={CLIENTS} "
          f"attachment_mb=1 rounds={ROUNDS} ratio={ours / raw:.2f}", flush=True)
    ours, raw = statistics.median(moves["ours"]), statistics.median(moves["raw"])
    bare, floor = statistics.median(moves["bare"]), statistics.median(floors)
    print(f"BENCH dossiers action_p50_ms ours={ours:.2f} raw={raw:.2f} bare_http={bare:.2f} "
          f"bare_http_ratio={bare / raw:.2f} signed_in_get_p50_ms={floor:.2f} "
          f"rounds={ROUNDS} ratio={ours / raw:.2f} floor_ratio={floor / raw:.2f}", flush=True)

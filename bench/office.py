"""BENCH office: an officer's queue of 5,000 open items across the district (dossiers, feedback
reports and tasks) over HTTP, against its raw SQL (sql/queue.sql, every row fetched); and a
half year's statistics of 3,400 dossiers with their events, against its raw SQL
(sql/dossier_stats.sql and sql/feedback_stats.sql). Rounds alternate ours and raw; medians."""

from __future__ import annotations

import json
import os
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

import psycopg

from accounts.policy import Principal
from accounts.repository import grants
from accounts.service import AccountService, GrantSpec
from bench.common import bench_database, log, percentile, start_server, stop
from bench.dossiers import Http
from core.db import make_engine
from core.notify import OutboxNotifier
from core.pgcluster import PostgresCluster
from core.workflow import ENGINE_SETTING
from permits.office.repository import QUEUE_SQL, OfficeRepository
from permits.office.service import OfficeService
from permits.office.stats import SQL as STATS_SQL

PARCELS = int(os.environ.get("BENCH_OFFICE_PARCELS", "20000"))
ITEMS = int(os.environ.get("BENCH_OFFICE_ITEMS", "5000"))
DOSSIERS = int(os.environ.get("BENCH_OFFICE_DOSSIERS", "3400"))
ROUNDS = int(os.environ.get("BENCH_OFFICE_ROUNDS", "5"))
CALLS = int(os.environ.get("BENCH_OFFICE_CALLS", "10"))
DEPARTMENT = "urban-management"
PROCEDURE = "construction-permit-house"
HALF = (date(2026, 1, 1), date(2026, 6, 30))
MARK = "bench-office"


def _seed(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Open items across every ward (a third each: dossiers, reports, tasks), and a half year
    of dossiers received and decided, with their events; once per database."""
    if conn.execute("SELECT 1 FROM office_task WHERE title LIKE %s LIMIT 1",
                    (f"{MARK}%",)).fetchone():
        return
    log(f"office: seeding {ITEMS} open items and {DOSSIERS} dossiers of a half year ...")
    owner = conn.execute(
        "INSERT INTO person (phone, password_hash, display_name) VALUES (%s, 'x', 'Người Đo') "
        "RETURNING id", ("+8496" + "".join(secrets.choice("0123456789") for _ in range(7)),)
    ).fetchone()
    assert owner is not None
    parcels = conn.execute(
        "SELECT p.parcel_key, w.code FROM parcel p JOIN admin_unit w "
        "ON w.id = coalesce(p.current_ward_id, p.ward_id) ORDER BY p.id LIMIT 2000").fetchall()
    answers = json.dumps({"floors": 3})
    today = date.today()
    conn.execute("SELECT set_config(%s, 'dossier', true)", (ENGINE_SETTING,))
    for i in range(ITEMS // 3):
        key, ward = parcels[i % len(parcels)]
        conn.execute(
            "INSERT INTO dossier (code, owner_id, procedure_id, department, ward_code, "
            "parcel_key, applicant, answers, status, version, submitted_at, due_on) VALUES "
            "(%s, %s, %s, %s, %s, %s, '{}', %s, 'in_processing', 1, now(), %s)",
            (f"OPEN-{i}", owner[0], PROCEDURE, DEPARTMENT, ward, key, answers,
             today + timedelta(days=i % 40 - 10)))
    conn.execute("SELECT set_config(%s, 'feedback_report', true)", (ENGINE_SETTING,))
    conn.execute(
        "INSERT INTO feedback_report (category, status, description, geom, ward_code, "
        "department, reporter_phone, due_on, confirmed_at) "
        "SELECT 'roads', 'received', 'Ổ gà', ST_PointOnSurface(p.geom), w.code, %s, "
        "'+84900000000', current_date + (g %% 30 - 5), now() FROM generate_series(1, %s) g "
        "JOIN LATERAL (SELECT geom, coalesce(current_ward_id, ward_id) AS ward_id FROM parcel "
        "ORDER BY id OFFSET g %% 2000 LIMIT 1) p ON true JOIN admin_unit w ON w.id = p.ward_id",
        (DEPARTMENT, ITEMS // 3))
    conn.execute("SELECT set_config(%s, 'office_task', true)", (ENGINE_SETTING,))
    conn.execute(
        "INSERT INTO office_task (status, title, department, due_on) "
        "SELECT 'open', %s || g, %s, current_date + (g %% 20) "
        "FROM generate_series(1, %s) g", (MARK, DEPARTMENT, ITEMS - 2 * (ITEMS // 3)))
    conn.execute("SELECT set_config(%s, 'dossier', true)", (ENGINE_SETTING,))
    for i in range(DOSSIERS):
        key, ward = parcels[i % len(parcels)]
        received = HALF[0] + timedelta(days=i * 180 // DOSSIERS)
        due = received + timedelta(days=14)
        decided = received + timedelta(days=10 if i % 20 else 18)
        row = conn.execute(
            "INSERT INTO dossier (code, owner_id, procedure_id, department, ward_code, "
            "parcel_key, applicant, answers, status, version) VALUES (%s, %s, %s, %s, %s, %s, "
            "'{}', %s, 'approved', 3) RETURNING id",
            (f"HALF-{i}", owner[0], PROCEDURE, DEPARTMENT, ward, key, answers)).fetchone()
        assert row is not None
        for action, day, detail in (("receive", received, {"due_on": str(due)}),
                                    ("approve", decided, {})):
            conn.execute(
                "INSERT INTO dossier_event (dossier_id, at, action, to_status, visibility, "
                "detail) VALUES (%s, %s, %s, 'x', 'public', %s)",
                (row[0], f"{day} 09:00+07", action, json.dumps(detail)))
    conn.execute("SELECT set_config(%s, '', true)", (ENGINE_SETTING,))
    conn.commit()
    conn.execute("ANALYZE")


def _people(cluster: PostgresCluster) -> tuple[dict[str, str], dict[str, str]]:
    """An officer serving every ward of the department, and its leader."""
    with psycopg.connect(cluster.libpq_dsn()) as conn:
        wards = [str(r[0]) for r in conn.execute(
            "SELECT code FROM admin_unit WHERE level = 'ward' AND valid_to IS NULL")]
    engine = make_engine(cluster.sqlalchemy_url(), pool_size=1, max_overflow=0)
    made = []
    with engine.begin() as db:
        service = AccountService(db, OutboxNotifier(db), b"k" * 32)
        for role, wards_ in (("officer", tuple(wards)), ("leader", ())):
            person, _ = service.create_staff(
                "09" + "".join(secrets.choice("0123456789") for _ in range(8)), "Cán Bộ Đo",
                GrantSpec(role, DEPARTMENT, wards_))
            session = service._new_session(person)
            made.append({"cookie": session.token, "csrf": session.csrf_token,
                         "person": str(person)})
    engine.dispose()
    return made[0], made[1]


def _queue_query(cluster: PostgresCluster, person_id: int) -> dict[str, object]:
    """The parameters our path gives sql/queue.sql for the officer (made once for the raw
    path; ours makes them on each request)."""
    engine = make_engine(cluster.sqlalchemy_url(), pool_size=1, max_overflow=0)
    with engine.connect() as db:
        principal = Principal(person_id=person_id, grants=grants(db, person_id), via="cookie")
        query = OfficeService(OfficeRepository(db)).queue_query(principal, ITEMS)
    engine.dispose()
    return query


def _timed(call: Callable[[], object], n: int) -> float:
    took = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        took.append((time.perf_counter() - started) * 1000)
    return percentile(took, 50)


def main() -> None:
    """Alternate rounds of both paths; print the medians."""
    cluster = bench_database(PARCELS)
    dsn = cluster.libpq_dsn()
    with psycopg.connect(dsn) as conn:
        _seed(conn)
    officer, leader = _people(cluster)
    proc, port = start_server(cluster, 1, {"CIVICMAP_EMBEDDED_WORKER": "false"})
    ours_officer, ours_leader = Http(port, officer), Http(port, leader)
    raw = psycopg.connect(dsn)
    queue_params = _queue_query(cluster, int(officer["person"]))
    stats_params = {"first": HALF[0], "last": HALF[1], "today": date.today(), "all": False,
                    "depts": [DEPARTMENT], "group": "procedure"}

    def our_queue() -> bytes:
        # Timed to the last byte received, as the raw path to its last row: the client's
        # own parse of 2 MB of JSON is not the server's time (its rows are counted once).
        status, _, body = ours_officer.send("GET", f"/api/office/queue?limit={ITEMS}")
        assert status == 200, body[:300]
        return body

    def raw_queue() -> None:
        rows = raw.execute(QUEUE_SQL, queue_params).fetchall()  # type: ignore[arg-type]
        assert len(rows) >= ITEMS * 0.9

    def our_stats() -> None:
        status, _, body = ours_leader.send("GET", "/api/office/stats?period=2026-H1")
        assert status == 200, body[:300]

    def raw_stats() -> None:
        for sql in STATS_SQL.values():
            raw.execute(sql, stats_params).fetchall()  # type: ignore[arg-type]

    log(f"office: {ROUNDS} rounds of {CALLS} calls each")
    took: dict[str, list[float]] = {k: [] for k in ("queue_ours", "queue_raw", "stats_ours",
                                                     "stats_raw")}
    try:
        for fn in (our_queue, raw_queue, our_stats, raw_stats):  # warm both paths
            fn()
        assert len(json.loads(our_queue())) >= ITEMS * 0.9
        for n in range(ROUNDS):
            pairs = [("queue_ours", our_queue), ("queue_raw", raw_queue),
                     ("stats_ours", our_stats), ("stats_raw", raw_stats)]
            for name, fn in pairs if n % 2 == 0 else pairs[::-1]:
                took[name].append(_timed(fn, CALLS))
            log(f"  round {n + 1}: " + " ".join(f"{k}={v[-1]:.1f}" for k, v in took.items()))
    finally:
        stop(proc)
        raw.close()
    for what in ("queue", "stats"):
        ours, base = (statistics.median(took[f"{what}_{k}"]) for k in ("ours", "raw"))
        extra = f"items={ITEMS}" if what == "queue" else f"dossiers={DOSSIERS}"
        print(f"BENCH office {what}_p50_ms ours={ours:.1f} raw={base:.1f} {extra} "
              f"rounds={ROUNDS} ratio={ours / base:.2f}", flush=True)


if __name__ == "__main__":
    main()

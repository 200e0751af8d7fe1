"""The job queue across processes: a job whose worker is killed mid-run is finished once by
the next worker; a periodic task runs once a period however many workers run; a job deferred
in a transaction exists only if that commits."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from core.db import libpq_url
from core.pgcluster import PostgresCluster
from core.settings import PROJECT_ROOT
from core.workflow import SYSTEM, create
from gisapi.queue import platform_queue
from layers.catalogue.tasks import INGEST, defer_ingest
from layers.catalogue.workflow import JOB
from tests.gisapi.queue_worker import TICK_QUEUE

FEATURES = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"ma": "A"},
     "geometry": {"type": "Polygon", "coordinates": [[[106.715, 10.73], [106.716, 10.73],
                                                       [106.716, 10.731], [106.715, 10.73]]]}}]}


KILL_QUEUE = "test-kill"


@pytest.fixture
def dsn(engine: Engine, cluster: PostgresCluster) -> str:
    return libpq_url(cluster.sqlalchemy_url())


@pytest.fixture
def workers(dsn: str, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    env = dict(os.environ, CIVICMAP_DATABASE_URL=dsn, CIVICMAP_VAR_DIR=str(tmp_path / "var"),
               CIVICMAP_JOB_HEARTBEAT_S="0.5", CIVICMAP_JOB_STALLED_S="2")

    def start(*args: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-m", "tests.gisapi.queue_worker", *args],
                                cwd=PROJECT_ROOT, env=env)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
    for proc in started:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    with psycopg.connect(dsn, autocommit=True) as conn:  # no test job left for other workers
        conn.execute("DELETE FROM procrastinate_jobs WHERE task_name LIKE 'test:%' "
                     "AND status <> 'doing'")


def _until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen in {seconds} s: {what}")
        time.sleep(0.2)


def _upload(dsn: str, folder: Path, layer: str) -> tuple[int, int]:
    """An upload's job row and its queue job, committed together."""
    source = folder / "upload" / "congtrinh.geojson"
    source.parent.mkdir(parents=True)
    source.write_text(json.dumps(FEATURES))
    queue = platform_queue(dsn, 1)
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO catalogue_layer (id, kind, title_vi, title_en) VALUES "
                     "(%s, 'free', 'Công trình', 'Buildings')", (layer,))
        job = create(conn, JOB, "upload", SYSTEM, {
            "layer_id": layer, "source_name": source.name, "source_path": str(source),
            "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest()}).row_id
        # On a queue of its own: the session's other workers (the live server's) leave it.
        return job, queue.configure_task(
            INGEST, connection=conn, lock=f"etl_job:{job}", queue=KILL_QUEUE).defer(job_id=job)


def test_a_job_deferred_in_a_rolled_back_transaction_never_exists(dsn: str) -> None:
    queue = platform_queue(dsn, 1)
    with psycopg.connect(dsn) as conn:
        queued = defer_ingest(queue, conn, 2**40)
        seen = conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE id = %s",
                            (queued,)).fetchone()
        conn.rollback()
        after = conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE id = %s",
                             (queued,)).fetchone()
    assert (seen, after) == ((1,), (0,))


def test_an_ingest_whose_worker_is_killed_is_finished_once_by_the_next(
    dsn: str, tmp_path: Path, workers: Callable[..., subprocess.Popen[bytes]]
) -> None:
    layer = f"t_kill_{secrets.token_hex(3)}"
    marker = tmp_path / "blocked"
    first = workers("--block-ingest", str(marker), "--queue", KILL_QUEUE)
    job_id, queued = _upload(dsn, tmp_path, layer)
    _until(marker.exists, 60, "the first worker running the ingest")
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT status FROM etl_job WHERE id = %s",
                            (job_id,)).fetchone() == ("running",)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    time.sleep(2.5)  # its heartbeat goes stale (CIVICMAP_JOB_STALLED_S=2)
    workers("--queue", KILL_QUEUE)

    def done() -> bool:
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SELECT status FROM etl_job WHERE id = %s", (job_id,)).fetchone()
        return row is not None and row[0] not in ("queued", "running")

    _until(done, 60, "the ingest finished by the second worker")
    with psycopg.connect(dsn) as conn:
        status, message = conn.execute("SELECT status, message FROM etl_job WHERE id = %s",
                                       (job_id,)).fetchone() or (None, None)
        versions = conn.execute("SELECT count(*) FROM catalogue_version WHERE layer_id = %s",
                                (layer,)).fetchone()
        queue_job = conn.execute("SELECT status, attempts FROM procrastinate_jobs "
                                 "WHERE id = %s", (queued,)).fetchone()
        events = conn.execute("SELECT type::text, count(*) FROM procrastinate_events "
                              "WHERE job_id = %s GROUP BY type ORDER BY type",
                              (queued,)).fetchall()
    assert status == "succeeded", message
    assert versions == (1,)
    assert queue_job == ("succeeded", 2)  # the killed attempt, and the one that finished
    assert dict(events)["started"] == 2
    assert dict(events)["succeeded"] == 1
    assert marker.read_text() == str(first.pid)


def test_a_periodic_task_runs_once_a_period_with_three_workers(
    dsn: str, workers: Callable[..., subprocess.Popen[bytes]]
) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS test_tick (ts bigint, pid int)")
        conn.execute("TRUNCATE test_tick")
    procs = [workers("--tick", "--queue", TICK_QUEUE) for _ in range(3)]

    def ticked(n: int) -> Callable[[], bool]:
        def check() -> bool:
            with psycopg.connect(dsn) as conn:
                row = conn.execute("SELECT count(DISTINCT ts) FROM test_tick").fetchone()
            return row is not None and row[0] >= n
        return check

    _until(ticked(1), 60, "a first tick")
    with psycopg.connect(dsn) as conn:  # from here on, all three workers run
        _until(lambda: conn.execute("SELECT count(*) FROM procrastinate_workers WHERE "
                                   "last_heartbeat > now() - interval '2 s'").fetchone()
               >= (3,), 30, "three workers registered")
        since = int(time.time())
    _until(ticked(6), 30, "more ticks")
    for proc in procs:
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=20)
    with psycopg.connect(dsn) as conn:
        runs = conn.execute("SELECT ts, count(*) FROM test_tick WHERE ts >= %s GROUP BY ts "
                            "ORDER BY ts", (since,)).fetchall()
        conn.execute("DROP TABLE test_tick")
        conn.commit()
    assert len(runs) >= 3
    assert all(count == 1 for _, count in runs), runs
    # No second missing in between: each period ran, once.
    assert [ts for ts, _ in runs] == list(range(runs[0][0], runs[0][0] + len(runs)))


def test_serve_runs_one_worker_whatever_its_processes_and_stops_it(
    dsn: str, tmp_path: Path
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with psycopg.connect(dsn) as conn:
        before = (conn.execute("SELECT max(id) FROM procrastinate_workers").fetchone()
                  or (None,))[0] or 0
    env = dict(os.environ, CIVICMAP_DATABASE_URL=dsn, CIVICMAP_VAR_DIR=str(tmp_path / "var"),
               CIVICMAP_TILE_CACHE_SIZE="0")
    server = subprocess.Popen([sys.executable, "-m", "gisapi.cli", "serve", "--port",
                               str(port), "--workers", "2"], cwd=PROJECT_ROOT, env=env,
                              stdout=subprocess.DEVNULL)

    def registered() -> int:
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SELECT count(*) FROM procrastinate_workers WHERE id > %s",
                               (before,)).fetchone()
        return row[0] if row else 0

    try:
        _until(lambda: registered() >= 1, 60, "a worker beside the server")
        def answers() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health",
                                            timeout=5) as res:
                    return bool(res.status == 200)
            except OSError:
                return False

        _until(answers, 60, "the server answering")
        time.sleep(3)
        assert registered() == 1
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert registered() == 0  # the worker stopped (and signed off) with the server


def test_outbox_delivery_runs_on_the_queue(
    dsn: str, workers: Callable[..., subprocess.Popen[bytes]]
) -> None:
    recipient = "09" + "".join(secrets.choice("0123456789") for _ in range(8))
    queue = platform_queue(dsn, 1)
    with psycopg.connect(dsn) as conn:
        row = conn.execute("INSERT INTO outbox_message (channel, recipient, body) VALUES "
                           "('sms', %s, 'Mã xác thực: 123456') RETURNING id",
                           (recipient,)).fetchone()
        assert row is not None
        # What the minute's periodic job does, asked for now.
        queue.configure_task("outbox:deliver", connection=conn).defer(timestamp=0)
    workers()

    def sent() -> bool:
        with psycopg.connect(dsn) as conn:
            found = conn.execute("SELECT sent_at IS NOT NULL FROM outbox_message WHERE id = %s",
                                 (row[0],)).fetchone()
        return found == (True,)

    _until(sent, 60, "the message delivered by a worker")

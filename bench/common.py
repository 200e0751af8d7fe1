"""Shared set-up for benchmarks: a dedicated PostGIS cluster with a large sample, a server."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import psycopg

from core.db import libpq_url, make_engine
from core.migrate import upgrade
from core.pgcluster import PostgresCluster
from core.settings import PROJECT_ROOT
from etl.sample import generate
from layers.planning_set import LAYER_ORDER, PlanningSetLoader

BENCH_DIR = PROJECT_ROOT / "var" / "bench"


def log(message: str) -> None:
    """Progress on stderr, so that stdout holds only BENCH lines."""
    print(message, file=sys.stderr, flush=True)


def bench_database(parcels: int) -> PostgresCluster:
    """A running cluster holding the sample of that size (built once, kept under var/bench)."""
    cluster = PostgresCluster(BENCH_DIR / f"pg-{parcels}")
    cluster.start()
    engine = make_engine(cluster.sqlalchemy_url(), pool_size=1, max_overflow=0)
    with engine.begin() as conn:
        upgrade(conn)
    engine.dispose()
    with psycopg.connect(cluster.libpq_dsn(), autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM parcel").fetchone()
        if row and row[0]:
            return cluster
        folder = BENCH_DIR / f"sample-{parcels}"
        if not (folder / "parcels.gpkg").exists():
            log(f"generating the {parcels}-parcel sample ...")
            generate(folder, parcels=parcels, seed=7)
        log(f"loading the {parcels}-parcel sample ...")
        files = {k: folder / f"{k}.gpkg" for k in LAYER_ORDER}
        PlanningSetLoader(conn).load(files)
    return cluster


def free_port() -> int:
    """A free TCP port on the loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(cluster: PostgresCluster, workers: int,
                 env_extra: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """Our server (uvicorn) against the bench database; returns the process and its port."""
    port = free_port()
    env = dict(os.environ)
    env["CIVICMAP_DATABASE_URL"] = libpq_url(cluster.sqlalchemy_url())
    env.update(env_extra or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "gisapi.cli", "serve", "--port", str(port), "--workers",
         str(workers)],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
    )
    return listening(proc, port), port


def start_bare(dsn: str, files: Path, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    """The bare app (bench/bare_upload.py: HTTP's floor) on uvicorn, writing into `dsn` and
    `files`; returns the process and its port."""
    port = free_port()
    env = dict(os.environ, BENCH_BARE_DSN=dsn, BENCH_BARE_FILES=str(files))
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.bare_upload:app", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL)
    return listening(proc, port), port


def listening(proc: subprocess.Popen[bytes], port: int) -> subprocess.Popen[bytes]:
    """The server process once its port takes connections (killed after 30 s without)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server process."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()




Client = Callable[..., None]


def _client_process(make: Callable[[], Client], mine: Sequence[tuple[Any, ...]], warmup: int,
                    barrier: Barrier, out: Queue[list[float]]) -> None:
    call = make()
    for item in mine[:warmup]:
        call(*item)
    barrier.wait()
    local = []
    for item in mine:
        started = time.perf_counter()
        call(*item)
        local.append((time.perf_counter() - started) * 1000)
    out.put(local)


def run_clients(make: Callable[[], Client], items: Sequence[tuple[Any, ...]], clients: int,
                warmup: int) -> tuple[list[float], float]:
    """`clients` processes (no shared GIL) each call their share of items once, timed.

    Returns every call's latency (ms) and the wall time (s) from the common start.
    """
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(clients + 1)
    out: Queue[list[float]] = ctx.Queue()
    procs = [ctx.Process(target=_client_process,
                         args=(make, items[i::clients], warmup // clients, barrier, out))
             for i in range(clients)]
    for proc in procs:
        proc.start()
    barrier.wait()
    started = time.perf_counter()
    latencies = [ms for _ in procs for ms in out.get()]
    wall = time.perf_counter() - started
    for proc in procs:
        proc.join()
    return latencies, wall


def http_getter(port: int) -> Callable[[str], tuple[int, bytes]]:
    """A keep-alive HTTP/1.1 GET on a bare socket: as little client CPU as a driver call."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = sock.makefile("rb")

    def get(path: str) -> tuple[int, bytes]:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        status = int(reader.readline().split()[1])
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, reader.read(length)
    return get


def http_caller(port: int, template: str) -> Callable[..., None]:
    """A client that GETs template.format(*args) on a kept-alive connection, expecting 200."""
    get = http_getter(port)

    def call(*args: object) -> None:
        status, body = get(template.format(*args))
        assert status == 200, body[:200]
    return call


def keep_file(folder: Path, data: bytes) -> str:
    """A baseline's file write: the bytes under their hash, fsynced and renamed into place (as
    the document store does, with nothing checked); the hash."""
    digest = hashlib.sha256(data).hexdigest()
    temp, final = folder / f"{digest}.tmp", folder / digest
    with open(temp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, final)
    return digest

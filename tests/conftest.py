"""Fixtures: a throwaway PostGIS cluster per session, one rolled-back transaction per test."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine

from core.db import libpq_url, make_engine
from core.deps import get_connection
from core.migrate import upgrade
from core.pgcluster import PostgresCluster
from core.settings import PROJECT_ROOT, Settings
from etl.sample import generate
from gisapi.main import create_app
from layers.planning_set import LAYER_ORDER, PlanningSetLoader
from permits.sample.service import HalfYear

TEST_PARCELS = 20_000


@pytest.fixture(scope="session")
def cluster() -> Iterator[PostgresCluster]:
    home = Path(tempfile.mkdtemp(prefix="civicmap-test-pg-"))
    pg = PostgresCluster(home, fast_unsafe=True)
    pg.start()
    yield pg
    pg.destroy()


@pytest.fixture(scope="session")
def sample_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate(tmp_path_factory.mktemp("sample"), parcels=TEST_PARCELS, seed=7)


def _planning_database(cluster: PostgresCluster, sample_files: dict[str, Path]) -> Engine:
    """An engine on the cluster's database, migrated, with the sample planning data."""
    eng = make_engine(cluster.sqlalchemy_url(), pool_size=2, max_overflow=2)
    with eng.begin() as conn:
        upgrade(conn)
    raw = eng.raw_connection()
    try:
        files = {k: sample_files[k] for k in LAYER_ORDER}
        PlanningSetLoader(raw.driver_connection).load(files)  # type: ignore[arg-type]
        raw.commit()
    finally:
        raw.close()
    return eng


@pytest.fixture(scope="session")
def engine(cluster: PostgresCluster, sample_files: dict[str, Path]) -> Iterator[Engine]:
    # The sample is loaded once and only read by tests; what a test writes is rolled back.
    eng = _planning_database(cluster, sample_files)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        trans = connection.begin()
        try:
            yield connection
        finally:
            trans.rollback()


@pytest.fixture(scope="session")
def uploads_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the test session's uploads go (not the project's var/)."""
    return tmp_path_factory.mktemp("uploads")


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    """Where a test's dossier documents go: its own folder, so that it sees what it left."""
    return tmp_path / "files"


@pytest.fixture(scope="session")
def signing_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's development signing identity (made on first use; not the project's)."""
    return tmp_path_factory.mktemp("signing") / "identity"


@contextmanager
def app_client(engine: Engine, conn: Connection, uploads_dir: Path, files_dir: Path,
               signing_dir: Path, **settings: Any) -> Iterator[TestClient]:
    """The app, its requests inside the test's transaction (`settings`: more of its own)."""
    # No shared tile cache in HTTP tests: its rows would outlive the test.
    app = create_app(Settings(tile_cache_size=0, uploads_dir=uploads_dir, files_dir=files_dir,
                              signing_dir=signing_dir, **settings), engine=engine)
    app.dependency_overrides[get_connection] = lambda: conn
    app.state.side_transaction = lambda: nullcontext(conn)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def client(engine: Engine, conn: Connection, uploads_dir: Path, files_dir: Path,
           signing_dir: Path) -> Iterator[TestClient]:
    with app_client(engine, conn, uploads_dir, files_dir, signing_dir) as test_client:
        yield test_client


LIVE_ENV: dict[str, str] = {}  # the live server's environment, for its workers


def _server_env(cluster: PostgresCluster, **folders: Path) -> dict[str, str]:
    """The environment of an app served over `cluster`'s database, with no tile cache and no
    queue worker of its own, and its folders (`files_dir=…`: CIVICMAP_FILES_DIR)."""
    return dict(os.environ, CIVICMAP_DATABASE_URL=libpq_url(cluster.sqlalchemy_url()),
                CIVICMAP_TILE_CACHE_SIZE="0", CIVICMAP_EMBEDDED_WORKER="false",
                **{f"CIVICMAP_{name.upper()}": str(path) for name, path in folders.items()})


@contextmanager
def _serving(env: dict[str, str]) -> Iterator[str]:
    """The app served by its own process on a free port, with `env` (its database named
    there), until the block ends."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gisapi.cli", "serve", "--port", str(port), "--workers", "1"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the server did not start") from None
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server(cluster: PostgresCluster, engine: Engine, uploads_dir: Path, signing_dir: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # No queue worker in the server: the session's jobs are run by the apps (and settings)
    # that queue them; a browser test that uploads asks for `live_worker`.
    env = _server_env(cluster, uploads_dir=uploads_dir, signing_dir=signing_dir,
                      files_dir=tmp_path_factory.mktemp("files"))
    LIVE_ENV.clear()
    LIVE_ENV.update(env)
    with _serving(env) as url:
        yield url


def _half_year_cluster(cluster: PostgresCluster) -> PostgresCluster:
    """The suite's cluster, addressed at the half year's database."""
    return dataclasses.replace(cluster, dbname="civicmap_half_year")


@pytest.fixture(scope="session")
def half_year(cluster: PostgresCluster, sample_files: dict[str, Path],
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A database of its own holding the sample planning data and the sample's half year,
    committed (a live server reads it), so that no other test sees its 3,349 dossiers."""
    own = _half_year_cluster(cluster)
    own.ensure_database()
    eng = _planning_database(own, sample_files)
    with eng.begin() as conn:
        # The figures alone: the signed results (some minutes more) are the small test's.
        HalfYear(conn, Settings(files_dir=tmp_path_factory.mktemp("half-year-files")),
                 results=False).live()
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def half_year_server(cluster: PostgresCluster, half_year: Engine, signing_dir: Path,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served over the half year's database."""
    own = _half_year_cluster(cluster)
    env = _server_env(own, signing_dir=signing_dir,
                      uploads_dir=tmp_path_factory.mktemp("half-year-uploads"),
                      files_dir=tmp_path_factory.mktemp("half-year-served"))
    with _serving(env) as url:
        yield url


@pytest.fixture
def live_worker(live_server: str) -> Iterator[None]:
    """A queue worker for the live server, with its settings, for one test."""
    proc = subprocess.Popen([sys.executable, "-m", "gisapi.cli", "worker"], cwd=PROJECT_ROOT,
                            env=LIVE_ENV, stdout=subprocess.DEVNULL)
    yield
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()

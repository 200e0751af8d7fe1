"""A private PostgreSQL + PostGIS cluster in a folder: the embedded default, the tests' server."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

SERVER_USER = "postgres"  # system account that owns the cluster when we run as root
DB_USER = "civicmap"
MAX_SOCKET_PATH = 100  # sun_path is 108 bytes including the socket file name


class ClusterError(RuntimeError):
    """The cluster could not be created, started or reached."""


def find_bin_dir() -> Path:
    """Folder of the PostgreSQL 15 server binaries (initdb, pg_ctl)."""
    candidates = [Path("/usr/lib/postgresql/15/bin")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise ClusterError(
        "PostgreSQL 15 server binaries not found: install them with "
        "'apt-get install postgresql-15-postgis-3' (as root), or set CIVICMAP_DATABASE_URL"
    )


def _is_root() -> bool:
    return os.geteuid() == 0


def _reachable_by(user: str, path: Path) -> bool:
    """Whether the system user can traverse to path (needed when the server runs as them)."""
    probe = subprocess.run(
        ["runuser", "-u", user, "--", "test", "-x", str(path)], capture_output=True
    )
    return probe.returncode == 0


def _reachable_home(home: Path) -> Path:
    """Where the server user can live: home itself, or a folder under /var/lib linked from it.

    A project checked out under /root cannot be traversed by the 'postgres' account, so the
    cluster then lives in /var/lib/civicmap and home becomes a symbolic link to it.
    """
    probe = home.parent  # home itself is handed to the server user on init
    while not probe.exists():
        probe = probe.parent
    if _reachable_by(SERVER_USER, probe):
        return home
    digest = hashlib.sha1(str(home).encode()).hexdigest()[:12]
    elsewhere = Path("/var/lib/civicmap") / f"pg-{digest}"
    elsewhere.mkdir(parents=True, exist_ok=True)
    Path("/var/lib/civicmap").chmod(0o755)
    home.parent.mkdir(parents=True, exist_ok=True)
    home.symlink_to(elsewhere, target_is_directory=True)
    return elsewhere


@dataclass
class PostgresCluster:
    """A cluster living in `home`: data/, a socket folder, a log; unix socket only."""

    home: Path
    port: int = 5432
    dbname: str = "civicmap"
    fast_unsafe: bool = False  # fsync off: for throwaway test clusters only

    def __post_init__(self) -> None:
        self.home = _reachable_home(self.home.resolve()) if _is_root() else self.home.resolve()
        self.data = self.home / "data"
        self.log = self.home / "postgres.log"
        socket_dir = self.home / "run"
        if len(str(socket_dir)) + len(f"/.s.PGSQL.{self.port}") > MAX_SOCKET_PATH:
            digest = hashlib.sha1(str(self.home).encode()).hexdigest()[:12]
            socket_dir = Path("/tmp") / f"civicmap-pg-{digest}"
        self.socket_dir = socket_dir

    # -- running commands as the cluster's owner ---------------------------------

    def _cmd(self, *args: str | Path) -> list[str]:
        argv = [str(a) for a in args]
        return ["runuser", "-u", SERVER_USER, "--", *argv] if _is_root() else argv

    def _run(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self._cmd(*args), capture_output=True, text=True)

    def _give_to_server_user(self, path: Path) -> None:
        if _is_root():
            shutil.chown(path, SERVER_USER, SERVER_USER)

    # -- lifecycle -----------------------------------------------------------------

    @property
    def initialized(self) -> bool:
        """Whether initdb has run in this folder."""
        return (self.data / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster (initdb), loopback-only: no TCP listener, a socket in home."""
        bin_dir = find_bin_dir()
        self.home.mkdir(parents=True, exist_ok=True)
        self._give_to_server_user(self.home)
        if _is_root() and not _reachable_by(SERVER_USER, self.home):
            raise ClusterError(
                f"the '{SERVER_USER}' system user cannot reach {self.home}: move the project "
                "to a folder others may traverse, or set CIVICMAP_VAR_DIR"
            )
        out = self._run(
            bin_dir / "initdb", "-D", self.data, "-U", DB_USER, "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions",
        )
        if out.returncode != 0:
            raise ClusterError(f"initdb failed: {out.stderr.strip() or out.stdout.strip()}")
        settings = {
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "port": str(self.port),
            "shared_buffers": "'256MB'",
            "work_mem": "'16MB'",
            "maintenance_work_mem": "'256MB'",
            "max_connections": "100",
            "logging_collector": "off",
            "jit": "off",  # JIT compile time dominates our short spatial queries
        }
        if self.fast_unsafe:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        conf = "".join(f"{k} = {v}\n" for k, v in settings.items())
        with open(self.data / "postgresql.auto.conf", "a", encoding="utf-8") as fh:
            fh.write(conf)

    @property
    def running(self) -> bool:
        """Whether the server of this cluster is up."""
        if not self.initialized:
            return False
        return self._run(find_bin_dir() / "pg_ctl", "status", "-D", self.data).returncode == 0

    def start(self) -> None:
        """Start the server (initialising it when needed) and make sure the database exists."""
        if not self.initialized:
            self.init()
        if not self.running:
            self.socket_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
            self._give_to_server_user(self.socket_dir)
            if not self.log.exists():
                self.log.touch()
            self._give_to_server_user(self.log)
            out = self._run(
                find_bin_dir() / "pg_ctl", "start", "-w", "-t", "60", "-D", self.data,
                "-l", self.log,
                # The socket folder given at each start, not only at initdb: a project
                # folder that moved keeps its cluster.
                "-o", f"-k '{self.socket_dir}'",
            )
            if out.returncode != 0:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise ClusterError(f"pg_ctl start failed: {out.stderr.strip()}\n{tail}")
        self.ensure_database()

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; 'immediate' for throwaway clusters."""
        if self.running:
            out = self._run(find_bin_dir() / "pg_ctl", "stop", "-w", "-m", mode, "-D", self.data)
            if out.returncode != 0:
                raise ClusterError(f"pg_ctl stop failed: {out.stderr.strip()}")

    def destroy(self) -> None:
        """Stop the server and remove its folder."""
        self.stop("immediate")
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.rmtree(self.socket_dir, ignore_errors=True)

    def ensure_database(self) -> None:
        """Create the application database with PostGIS when missing."""
        deadline = time.monotonic() + 10
        while True:
            try:
                with psycopg.connect(self.libpq_dsn("postgres"), autocommit=True) as conn:
                    exists = conn.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", (self.dbname,)
                    ).fetchone()
                    if not exists:
                        conn.execute(f'CREATE DATABASE "{self.dbname}"')
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with psycopg.connect(self.libpq_dsn(), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    # -- addresses -----------------------------------------------------------------

    def libpq_dsn(self, dbname: str | None = None) -> str:
        """A libpq connection string for psycopg or GDAL."""
        return (
            f"host={self.socket_dir} port={self.port} user={DB_USER} "
            f"dbname={dbname or self.dbname}"
        )

    def sqlalchemy_url(self) -> str:
        """The SQLAlchemy URL of the application database."""
        return (
            f"postgresql+psycopg://{DB_USER}@/{self.dbname}"
            f"?host={self.socket_dir}&port={self.port}"
        )

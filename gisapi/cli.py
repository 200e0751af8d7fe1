"""The civicmap command: each package's commands registered under one root, and serving."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Annotated

import typer

from accounts.cli import staff_app
from core.cli import current_settings, db_app, db_migrate, ensure_database, outbox_app
from core.db import database_url
from core.settings import PROJECT_ROOT, get_settings
from layers.cli import etl_app, sample_app, sample_load
from permits.cli import work_app, work_sample
from tiles.cli import raster_app

app = typer.Typer(
    help="civicmap: planning information and public services for District 7, map first.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(sample_app, name="sample")
app.add_typer(staff_app, name="staff")
app.add_typer(raster_app, name="raster")
app.add_typer(outbox_app, name="outbox")
app.add_typer(etl_app, name="etl")
app.add_typer(work_app, name="work")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CIVICMAP_PORT)")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes")] = None,
) -> None:
    """Serve the API and the web app."""
    import uvicorn

    from gisapi.server import HotTileProtocol

    settings = current_settings()
    ensure_database(settings)
    bind_host = host or settings.host
    bind_port = port or settings.port
    # One queue worker per server, in a process of its own: however many uvicorn processes
    # serve, none of them runs one (and it keeps the API's processes for requests).
    queue_worker = _start_worker() if settings.embedded_worker else None
    os.environ["CIVICMAP_EMBEDDED_WORKER"] = "false"
    get_settings.cache_clear()
    typer.echo(f"civicmap on http://{bind_host}:{bind_port} (API docs at /docs)")
    try:
        uvicorn.run(
            "gisapi.main:create_app", factory=True, host=bind_host, port=bind_port,
            workers=workers or settings.workers, log_level="warning", access_log=False,
            http=HotTileProtocol,
        )
    finally:
        if queue_worker is not None:
            _stop_worker(queue_worker)


WORKER_STOP_S = 30


def _start_worker() -> subprocess.Popen[bytes]:
    """`civicmap worker` as a child that stops when this process is gone."""
    return subprocess.Popen(
        [sys.executable, "-m", "gisapi.cli", "worker", "--parent-pid", str(os.getpid())],
        cwd=PROJECT_ROOT)


def _stop_worker(child: subprocess.Popen[bytes]) -> None:
    """Ask the worker to stop after its running jobs; a job still running after a while is
    left to the next worker (the queue gives it again)."""
    child.terminate()
    try:
        child.wait(timeout=WORKER_STOP_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _stop_with(parent: int) -> None:
    """Stop this process (as SIGTERM does: gracefully) once its parent is gone."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(
        help="Jobs run at once (CIVICMAP_WORKER_CONCURRENCY)", min=1, max=64)] = None,
    parent_pid: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Run queued jobs (ingest, COG conversion, outbox delivery) until stopped; run more of
    these on other machines against the same database to share the work."""
    import asyncio
    import logging

    from gisapi.queue import work

    settings = current_settings()
    ensure_database(settings)
    if parent_pid is not None:
        _stop_with(parent_pid)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    typer.echo(f"civicmap worker {os.getpid()}: "
               f"{concurrency or settings.worker_concurrency} jobs at once")
    asyncio.run(work(database_url(settings), settings, concurrency))


@app.command()
def run(
    host: Annotated[str | None, typer.Option(help="Address to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port (CIVICMAP_PORT)")] = None,
) -> None:
    """Everything `make run` does after setup: database, migrations, sample data (the offices'
    half year queued for the worker), serve."""
    db_migrate()
    sample_load(parcels=None, seed=7, folder=None, replace=False, if_empty=True)
    work_sample(if_empty=True, background=True)
    serve(host=host, port=port, workers=None)


if __name__ == "__main__":
    app()

"""A queue worker process for the queue's tests: the platform's tasks, a periodic tick that
records each run, and a hook that makes an ingest block (to be killed mid-run)."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path
from typing import Any

import psycopg
from procrastinate import Blueprint

from core.db import database_url, libpq_url
from core.settings import Settings
from gisapi.queue import work
from layers.catalogue.ingest import Ingest

TICK_QUEUE = "test-tick"  # the session's other workers leave it


def ticks(dsn: str) -> Blueprint:
    tasks = Blueprint()

    @tasks.periodic(cron="* * * * * *", periodic_id="tick")  # every second
    @tasks.task(name="tick", queue=TICK_QUEUE)
    def tick(timestamp: int) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("INSERT INTO test_tick (ts, pid) VALUES (%s, %s)",
                         (timestamp, os.getpid()))

    return tasks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tick", action="store_true")
    parser.add_argument("--block-ingest", type=Path, help="file written when an ingest blocks")
    parser.add_argument("--queue", help="only this queue's jobs (away from the session's workers)")
    args = parser.parse_args()
    settings = Settings()
    url = database_url(settings)
    if args.block_ingest is not None:
        marker: Path = args.block_ingest

        def blocked(self: Ingest, job_id: int, progress: Any) -> None:
            progress("reading", force=True)
            marker.write_text(str(os.getpid()))
            while True:
                time.sleep(1)

        Ingest._run = blocked  # type: ignore[assignment,method-assign]
    extra = {"test": ticks(libpq_url(url))} if args.tick else None
    asyncio.run(work(url, settings, 1, extra, name=f"test-{os.getpid()}",
                     queues=[args.queue] if args.queue else None))


if __name__ == "__main__":
    main()

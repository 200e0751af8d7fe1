"""The sample half year on the job queue: `civicmap run` queues it once, so the server answers
at once while a worker lives the half year (a few minutes, in one transaction: it appears
whole or not at all)."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from procrastinate import App, Blueprint, JobContext
from procrastinate.exceptions import AlreadyEnqueued

from core.jobs import task_env
from permits.sample.service import HalfYear

log = logging.getLogger(__name__)
NAMESPACE = "sample"
LIVE = f"{NAMESPACE}:live_half_year"
LOCK = "sample-half-year"


def defer_half_year(queue: App, conn: psycopg.Connection[Any]) -> bool:
    """Queue the half year in the caller's transaction; False when it waits in the queue
    already."""
    try:
        queue.configure_task(LIVE, connection=conn, lock=LOCK, queueing_lock=LOCK).defer()
    except AlreadyEnqueued:
        return False
    return True


def blueprint() -> Blueprint:
    """The sample's task (a fresh blueprint for each queue App)."""
    tasks = Blueprint()

    @tasks.task(name="live_half_year", pass_context=True)
    def live_half_year(context: JobContext) -> int:
        env = task_env(context)
        with env.engine.begin() as conn:
            half = HalfYear(conn, env.settings)
            if half.present():
                return 0
            made = half.live()
        log.warning("the sample half year is loaded: %s moves", made.moves)
        return made.moves

    return tasks

"""The job queue: procrastinate on the platform's own PostgreSQL.

Each package declares its tasks (and periodic tasks) on a procrastinate `Blueprint` made by a
function of its own; the roof adds them to one `App` per process (`make_queue`). A fresh
blueprint per App, because adding a blueprint to an App renames its tasks in place.

A job is deferred in the caller's transaction (`configure_task(..., connection=conn)`): it
exists exactly when the row it works on does. A worker's heartbeat lives in the database; a job
whose worker stopped beating (killed, machine gone) is put back in the queue by the next worker
that starts and by a periodic sweep, so every job finishes once, on some worker.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, LiteralString, cast

import psycopg
from procrastinate import App, Blueprint, JobContext, PsycopgConnector, SyncPsycopgConnector
from procrastinate.app import WorkerOptions
from procrastinate.jobs import DEFAULT_QUEUE
from sqlalchemy import Engine

from core.settings import Settings

log = logging.getLogger(__name__)
CONTEXT_KEY = "civicmap"
EVERY_MINUTE = "* * * * *"
KEEP_JOBS_HOURS = 7 * 24


@dataclass(frozen=True)
class TaskEnv:
    """What a worker hands its tasks: its database and the platform's settings."""

    dsn: str  # libpq form
    engine: Engine
    settings: Settings


def task_env(context: JobContext) -> TaskEnv:
    """The worker's environment, from a task's context (tasks declared with pass_context)."""
    return cast(TaskEnv, context.additional_context[CONTEXT_KEY])


class QueueConnector(PsycopgConnector):
    """procrastinate's psycopg connector, which also defers on a caller's sync connection
    (in its open transaction) while the App is open for a worker in the same process."""

    def __init__(self, conninfo: str, max_size: int = 4) -> None:
        super().__init__(conninfo=conninfo, min_size=1, max_size=max_size,
                         kwargs={"application_name": "civicmap-queue"})
        self._on_caller = SyncPsycopgConnector()  # never opened: only given connections

    def execute_query_one_with_connection(self, connection: Any, query: LiteralString,
                                          **arguments: Any) -> dict[str, Any]:
        """Run one query on the given connection."""
        if isinstance(connection, psycopg.Connection):
            return self._on_caller.execute_query_one_with_connection(connection, query,
                                                                     **arguments)
        return super().execute_query_one_with_connection(connection, query, **arguments)

    def execute_query_all_with_connection(self, connection: Any, query: LiteralString,
                                          **arguments: Any) -> list[dict[str, Any]]:
        """Run one query on the given connection."""
        if isinstance(connection, psycopg.Connection):
            return self._on_caller.execute_query_all_with_connection(connection, query,
                                                                     **arguments)
        return super().execute_query_all_with_connection(connection, query, **arguments)


async def retry_stalled_jobs(queue: App, stalled_seconds: float) -> int:
    """Put back in the queue the jobs of workers silent for longer than `stalled_seconds`."""
    stalled = list(await queue.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=stalled_seconds))
    for job in stalled:
        log.warning("job %s (%s) lost its worker: queued again", job.id, job.task_name)
        await queue.job_manager.retry_job(job)
    return len(stalled)


def maintenance() -> Blueprint:
    """The queue's own periodic work: retrying the jobs of dead workers."""
    blueprint = Blueprint()

    @blueprint.periodic(cron=EVERY_MINUTE, periodic_id="retry_stalled")
    @blueprint.task(name="retry_stalled", pass_context=True)
    async def retry_stalled(context: JobContext, timestamp: int) -> int:
        return await retry_stalled_jobs(context.app, task_env(context).settings.job_stalled_s)

    @blueprint.periodic(cron="17 3 * * *", periodic_id="remove_old_jobs")
    @blueprint.task(name="remove_old_jobs", pass_context=True)
    async def remove_old_jobs(context: JobContext, timestamp: int) -> None:
        # Finished jobs are kept a week for whoever looks into one; the records users read
        # (an upload's etl_job, a message's outbox row) are kept by their own packages.
        await context.app.job_manager.delete_old_jobs(nb_hours=KEEP_JOBS_HOURS,
                                                      include_failed=True)

    return blueprint


def make_queue(conninfo: str, blueprints: Mapping[str, Blueprint], pool_size: int = 4) -> App:
    """The App on this database with the ground floor's tasks and the given blueprints, each
    under its namespace; it connects only when opened."""
    queue = App(connector=QueueConnector(conninfo, pool_size))
    queue.add_tasks_from(maintenance(), namespace="queue")
    for namespace, blueprint in blueprints.items():
        queue.add_tasks_from(blueprint, namespace=namespace)
    return queue


# The queues a worker takes unless told otherwise: those the platform's tasks are deferred to.
PLATFORM_QUEUES = [DEFAULT_QUEUE]


async def run_worker(queue: App, env: TaskEnv, *, concurrency: int, name: str = "worker",
                     install_signal_handlers: bool = True,
                     queues: list[str] | None = None) -> None:
    """Work the queue (opened) until stopped: first the jobs dead workers left behind."""
    settings = env.settings
    await retry_stalled_jobs(queue, settings.job_stalled_s)
    options: WorkerOptions = {
        "concurrency": concurrency, "name": name,
        "install_signal_handlers": install_signal_handlers,
        "additional_context": {CONTEXT_KEY: env},
        "update_heartbeat_interval": settings.job_heartbeat_s,
        "stalled_worker_timeout": settings.job_stalled_s,
    }
    options["queues"] = queues or PLATFORM_QUEUES
    await queue.run_worker_async(**options)

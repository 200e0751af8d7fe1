"""The catalogue's jobs on the queue: an upload's ingest (vector layers and COG conversion of
scanned plans alike). `etl_job` stays the record planners follow; the queue only runs it."""

from __future__ import annotations

import logging

import psycopg
from procrastinate import App, Blueprint, JobContext

from core.errors import ConflictError
from core.jobs import task_env
from core.workflow import NOW, SYSTEM, fire
from layers.catalogue.ingest import Ingest
from layers.catalogue.workflow import JOB

log = logging.getLogger(__name__)
NAMESPACE = "catalogue"
INGEST = f"{NAMESPACE}:ingest"


def defer_ingest(queue: App, conn: psycopg.Connection[object], job_id: int) -> int:
    """Queue the job's run in the caller's transaction: it runs only if that commits. One run
    of an upload at a time (its lock), however often it is queued."""
    return queue.configure_task(INGEST, connection=conn, lock=f"etl_job:{job_id}").defer(
        job_id=job_id)


def blueprint() -> Blueprint:
    """The catalogue's tasks (a fresh blueprint for each queue App)."""
    tasks = Blueprint()

    @tasks.task(name="ingest", pass_context=True)
    def ingest(context: JobContext, job_id: int) -> str:
        env = task_env(context)
        settings = env.settings
        runner = Ingest(env.dsn, settings.upload_dir, settings.var_dir / "rasters",
                        processes=settings.ingest_processes)
        try:
            # A second attempt means the worker of the first one died mid-run.
            return runner.run(job_id, resume=context.job.attempts > 0).status
        except Exception:
            # An unexpected failure is still the job's end, and said on its record.
            log.exception("ingest job %s failed unexpectedly", job_id)
            with psycopg.connect(env.dsn) as conn:
                try:
                    fire(conn, JOB, job_id, "fail", SYSTEM, values={
                        "message": "an internal error stopped the job; it can be retried",
                        "updated_at": NOW})
                except ConflictError:  # it had ended (or asked) before the error: it says so
                    conn.rollback()
            return "failed"

    return tasks

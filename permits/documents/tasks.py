"""The documents' periodic work on the queue: sweeping files no row needs."""

from __future__ import annotations

from procrastinate import Blueprint, JobContext

from core.jobs import task_env
from permits.documents.storage import FileStore, sweep

NAMESPACE = "documents"


def blueprint() -> Blueprint:
    """The documents' tasks (a fresh blueprint for each queue App)."""
    tasks = Blueprint()

    @tasks.periodic(cron="23 * * * *", periodic_id="sweep-files")
    @tasks.task(name="sweep_files", pass_context=True)
    def sweep_files(context: JobContext, timestamp: int) -> int:
        env = task_env(context)
        with env.engine.begin() as conn:
            return sweep(conn, FileStore(env.settings.file_dir)).removed

    return tasks

"""Dossiers' periodic work on the job queue: past their return date, dossiers become overdue
(each through the engine, as the platform)."""

from __future__ import annotations

from procrastinate import Blueprint, JobContext

from core.jobs import task_env
from permits.repository import DossierRepository
from permits.service import DossierService

NAMESPACE = "dossiers"


def blueprint() -> Blueprint:
    """The dossiers' tasks (a fresh blueprint for each queue App)."""
    tasks = Blueprint()

    # Every hour at :05, so a dossier due yesterday is overdue early in the office's morning
    # whichever worker was up at midnight.
    @tasks.periodic(cron="5 * * * *", periodic_id="mark-overdue")
    @tasks.task(name="mark_overdue", pass_context=True)
    def mark_overdue(context: JobContext, timestamp: int) -> int:
        env = task_env(context)
        with env.engine.begin() as conn:
            return DossierService(DossierRepository(conn), env.settings.agency_code
                                  ).mark_overdue()

    return tasks

"""The office's periodic work on the job queue: the morning digest at 07:30 in Hồ Chí Minh
City (00:30 UTC) on working days, every quarter hour the alerts of items entering their last
working day or becoming overdue (each once, whatever the workers), and each month's map
reports."""

from __future__ import annotations

from procrastinate import Blueprint, JobContext

from core.jobs import task_env
from permits.office.reminders import Reminders
from permits.office.report import ReportService
from permits.office.repository import OfficeRepository
from permits.workflow import today

NAMESPACE = "office"


def blueprint() -> Blueprint:
    """The office's tasks (a fresh blueprint for each queue App)."""
    tasks = Blueprint()

    @tasks.periodic(cron="30 0 * * *", periodic_id="morning-digest")
    @tasks.task(name="morning_digest", pass_context=True)
    def morning_digest(context: JobContext, timestamp: int) -> int:
        env = task_env(context)
        with env.engine.begin() as conn:
            return Reminders(conn).run(digest=True).digests

    @tasks.periodic(cron="*/15 * * * *", periodic_id="deadline-alerts")
    @tasks.task(name="deadline_alerts", pass_context=True)
    def deadline_alerts(context: JobContext, timestamp: int) -> int:
        env = task_env(context)
        with env.engine.begin() as conn:
            return sum(Reminders(conn).run(digest=False).alerts.values())

    # On the first of each month at 08:00 in Hồ Chí Minh City: the month before's map reports.
    @tasks.periodic(cron="0 1 1 * *", periodic_id="monthly-reports")
    @tasks.task(name="monthly_reports", pass_context=True)
    def monthly_reports(context: JobContext, timestamp: int) -> int:
        env = task_env(context)
        with env.engine.begin() as conn:
            return len(ReportService(OfficeRepository(conn)).monthly(today()))

    return tasks

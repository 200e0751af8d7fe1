"""Outbox delivery on the job queue: every minute, by whichever worker gets the minute.

Reminders and other periodic work go the same way: a blueprint of the package's own, with
`@blueprint.periodic(cron=..., periodic_id=...)` above `@blueprint.task(...)`, added by the roof
(`gisapi/queue.py`). A period is deferred once however many workers run.
"""

from __future__ import annotations

from procrastinate import Blueprint, JobContext

from core.jobs import EVERY_MINUTE, task_env
from core.notify import deliver, development_senders

NAMESPACE = "outbox"


def blueprint() -> Blueprint:
    """The outbox's tasks (a fresh blueprint for each queue App)."""
    tasks = Blueprint()

    @tasks.periodic(cron=EVERY_MINUTE, periodic_id="deliver")
    @tasks.task(name="deliver", pass_context=True)
    def deliver_pending(context: JobContext, timestamp: int) -> dict[str, int]:
        # Failed messages stay pending with their attempts counted: each minute retries them.
        with task_env(context).engine.begin() as conn:
            done = deliver(conn, development_senders())
        return {"sent": done.sent, "failed": done.failed}

    return tasks

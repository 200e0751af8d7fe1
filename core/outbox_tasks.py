"""Outbox delivery on the job queue, every minute by whichever worker gets the minute; and
the daily clean-up of kept Idempotency-Key answers.

Reminders and other periodic work go the same way: a blueprint of the package's own, with
`@blueprint.periodic(cron=..., periodic_id=...)` above `@blueprint.task(...)`, added by the roof
(`gisapi/queue.py`). A period is deferred once however many workers run.
"""

from __future__ import annotations

from collections.abc import Callable

from procrastinate import Blueprint, JobContext

from core.idempotency import forget_old
from core.jobs import EVERY_MINUTE, TaskEnv, task_env
from core.notify import Sender, deliver, development_senders

NAMESPACE = "outbox"


def blueprint(senders: Callable[[TaskEnv], dict[str, Sender]] | None = None) -> Blueprint:
    """The outbox's tasks (a fresh blueprint for each queue App); `senders` gives the adapters
    that deliver (the development sinks unless the roof says otherwise)."""
    tasks = Blueprint()

    @tasks.periodic(cron=EVERY_MINUTE, periodic_id="deliver")
    @tasks.task(name="deliver", pass_context=True)
    def deliver_pending(context: JobContext, timestamp: int) -> dict[str, int]:
        # Failed messages stay pending with their attempts counted: each minute retries them.
        env = task_env(context)
        with env.engine.begin() as conn:
            done = deliver(conn, senders(env) if senders else development_senders())
        return {"sent": done.sent, "failed": done.failed}

    @tasks.periodic(cron="17 3 * * *", periodic_id="forget-idempotency-keys")
    @tasks.task(name="forget_idempotency_keys", pass_context=True)
    def forget_idempotency_keys(context: JobContext, timestamp: int) -> int:
        # Answers kept for retries are kept a day; 03:17, when nobody submits.
        with task_env(context).engine.begin() as conn:
            return forget_old(conn)

    return tasks

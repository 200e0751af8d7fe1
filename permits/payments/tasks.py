"""Payments' periodic work on the job queue: the gateway asked to pay back the fees of
dossiers that ended without a result (and of payments made twice), every minute."""

from __future__ import annotations

from procrastinate import Blueprint, JobContext

from core.jobs import EVERY_MINUTE, task_env
from permits.payments.providers import provider_for
from permits.payments.repository import PaymentRepository
from permits.payments.service import PaymentService

NAMESPACE = "payments"


def blueprint() -> Blueprint:
    """The payments' tasks (a fresh blueprint for each queue App)."""
    tasks = Blueprint()

    @tasks.periodic(cron=EVERY_MINUTE, periodic_id="ask-refunds")
    @tasks.task(name="ask_refunds", pass_context=True)
    def ask_refunds(context: JobContext, timestamp: int) -> int:
        # The refunding rows stay locked while their gateway is asked: two workers never ask
        # for one refund twice, and a crash leaves them to be asked again.
        env = task_env(context)
        with env.engine.begin() as conn:
            return PaymentService(PaymentRepository(conn), provider_for(env.settings)
                                  ).ask_refunds()

    return tasks

"""The roof's job queue: every package's blueprint added to one App, and a worker for it.

A package with background or periodic work gives a `blueprint()` function; its line here is
all it takes for every worker to run it.
"""

from __future__ import annotations

from collections.abc import Mapping

from procrastinate import App, Blueprint

from accounts.push import PushSender, platform_key
from core import outbox_tasks
from core.db import libpq_url, make_engine
from core.jobs import TaskEnv, make_queue, run_worker
from core.notify import Sender, development_senders
from core.settings import Settings
from layers.catalogue import tasks as catalogue_tasks
from permits import tasks as dossier_tasks
from permits.documents import tasks as document_tasks
from permits.feedback import tasks as feedback_tasks
from permits.office import tasks as office_tasks
from permits.payments import tasks as payment_tasks
from permits.sample import tasks as sample_tasks


def senders(env: TaskEnv) -> dict[str, Sender]:
    """The outbox's adapters: development sinks, and Web Push when its delivery is on."""
    found = development_senders()
    settings = env.settings
    if settings.push_delivery:
        found["push"] = PushSender(env.engine.begin, platform_key(settings.push_key_dir),
                                   settings.push_subject)
    return found


def blueprints() -> dict[str, Blueprint]:
    """A fresh blueprint of each package's tasks, by namespace."""
    return {catalogue_tasks.NAMESPACE: catalogue_tasks.blueprint(),
            outbox_tasks.NAMESPACE: outbox_tasks.blueprint(senders),
            dossier_tasks.NAMESPACE: dossier_tasks.blueprint(),
            document_tasks.NAMESPACE: document_tasks.blueprint(),
            payment_tasks.NAMESPACE: payment_tasks.blueprint(),
            feedback_tasks.NAMESPACE: feedback_tasks.blueprint(),
            office_tasks.NAMESPACE: office_tasks.blueprint(),
            sample_tasks.NAMESPACE: sample_tasks.blueprint()}


def platform_queue(url: str, concurrency: int,
                   extra: Mapping[str, Blueprint] | None = None) -> App:
    """The App on this database with every package's tasks (not connected yet), sized for a
    worker running `concurrency` jobs at once."""
    # A worker holds a connection to listen, one per job running, one for its heartbeat.
    return make_queue(libpq_url(url), {**blueprints(), **(extra or {})},
                      pool_size=concurrency + 3)


async def work(url: str, settings: Settings, concurrency: int | None = None,
               extra: Mapping[str, Blueprint] | None = None, name: str = "worker",
               queues: list[str] | None = None) -> None:
    """Run one worker process's worker until it is signalled (SIGINT, SIGTERM) to stop
    (`queues`: only jobs of these queues; default all)."""
    concurrency = concurrency or settings.worker_concurrency
    engine = make_engine(url, pool_size=2, max_overflow=2)
    queue = platform_queue(url, concurrency, extra)
    try:
        async with queue.open_async():
            await run_worker(queue, TaskEnv(libpq_url(url), engine, settings),
                             concurrency=concurrency, name=name, queues=queues)
    finally:
        engine.dispose()

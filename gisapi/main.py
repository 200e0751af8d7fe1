"""The FastAPI application: lifespan, routers, error handlers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message

from accounts.auth import authorize, install_access_audit
from accounts.routes import router as accounts_router
from core.db import database_url, libpq_url, make_engine, make_read_pool
from core.errors import install_error_handlers
from core.health import router as health_router
from core.http import HttpMannersMiddleware, content_security_policy
from core.jobs import TaskEnv, run_worker
from core.limits import DOCUMENT_PATH, UPLOAD_PATH, UploadSizeMiddleware
from core.routing import WALK_EVERY_ROUTE
from core.settings import Settings, get_settings
from gisapi.docs import router as docs_router
from gisapi.queue import platform_queue
from gisapi.web import page_script_hashes
from gisapi.web import router as web_router
from layers.catalogue.routes import router as catalogue_router
from layers.ogc.routes import router as ogc_router
from layers.routes import router as parcels_router
from permits.calendar.routes import router as calendar_router
from permits.clock import warm as warm_clock
from permits.documents.routes import router as documents_router
from permits.feedback.open311.routes import admin as open311_admin_router
from permits.feedback.open311.routes import router as open311_router
from permits.feedback.photos import PHOTO_MAX_MB
from permits.feedback.routes import router as feedback_router
from permits.office.routes import router as office_router
from permits.papers.routes import router as papers_router
from permits.payments.routes import router as payments_router
from permits.payments.sandbox import router as sandbox_router
from permits.precheck.routes import router as precheck_router
from permits.procedures.routes import router as procedures_router
from permits.results.routes import router as results_router
from permits.routes import router as dossiers_router
from permits.routes import supplements as supplements_router
from permits.workflow import today
from tiles.http import HotTileMiddleware
from tiles.raster import install_raster_tiles
from tiles.routes import assets as assets_router
from tiles.routes import router as tiles_router

log = logging.getLogger(__name__)
DESCRIPTION = """
civicmap: thông tin quy hoạch và dịch vụ công của Quận 7 trên bản đồ.
Planning information and public services of District 7, Ho Chi Minh City, map first.
"""


BODY_LIMIT = 1024**2
MULTIPART_OVERHEAD = 64 * 1024


class CivicmapApp(FastAPI):
    """FastAPI with the hot-tile answer in front of its whole middleware stack, and HTTP
    manners (headers, HEAD, request ids) around everything else."""

    upload_max_bytes = BODY_LIMIT
    document_max_bytes = BODY_LIMIT

    def build_middleware_stack(self) -> ASGIApp:
        """Wrap the stack: a tile held in memory needs no error or body-limit middleware (its
        answer carries the security headers itself); an upload declared too large is refused
        (in JSON) before any other."""
        manners = HttpMannersMiddleware(
            UploadSizeMiddleware(super().build_middleware_stack(), {
                UPLOAD_PATH: self.upload_max_bytes, DOCUMENT_PATH: self.document_max_bytes}),
            content_security_policy(page_script_hashes()))
        return HotTileMiddleware(manners)


WARM_UP_PATH = "/-/warm-up/matches-no-route"


async def _walk_every_route(app: ASGIApp) -> None:
    """Match one request that no route takes, so that every route is looked at now.

    FastAPI builds a route's handler state the first time a request is matched against it:
    measured, that was ~370 ms added to the first request of every new worker (the first
    visitor's page). Nothing is read or written: it ends in a 404 inside the process.
    """
    scope = {"type": "http", "method": "GET", "path": WARM_UP_PATH,
             "raw_path": WARM_UP_PATH.encode(), "query_string": b"", "headers": [],
             "http_version": "1.1", "scheme": "http", "root_path": "",
             "server": ("127.0.0.1", 0), "client": ("127.0.0.1", 0), "asgi": {"version": "3.0"},
             WALK_EVERY_ROUTE: True}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        return None

    await app(scope, receive, send)


def _said_if_failed(worker: asyncio.Task[None]) -> None:
    """A worker that stopped on its own (its database gone) says why; requests go on."""
    if not worker.cancelled() and worker.exception() is not None:
        log.error("the embedded queue worker stopped", exc_info=worker.exception())


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app; the engine is made in the lifespan unless one is given (tests)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = engine is None
        url = (
            database_url(settings) if engine is None
            else engine.url.render_as_string(hide_password=False)
        )
        app.state.engine = engine or make_engine(
            url, settings.pool_size, settings.pool_max_overflow
        )
        app.state.read_pool = await make_read_pool(url, settings.pool_size)
        # Requests defer jobs on their own connection; the App connects only for a worker.
        app.state.queue = queue = platform_queue(url, settings.worker_concurrency)
        worker = None
        if settings.embedded_worker:
            await queue.open_async()
            env = TaskEnv(libpq_url(url), app.state.engine, settings)
            worker = asyncio.create_task(run_worker(
                queue, env, concurrency=settings.worker_concurrency, name="embedded",
                install_signal_handlers=False))
            worker.add_done_callback(_said_if_failed)
        await _walk_every_route(app)
        await asyncio.to_thread(warm_clock, today())
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()  # stops taking jobs, waits for those running
                await asyncio.gather(worker, return_exceptions=True)
                await queue.close_async()
            await app.state.read_pool.close()
            if own:
                app.state.engine.dispose()

    # Bodies are small JSON everywhere but uploads, which get the planners' limit.
    app = CivicmapApp(title="civicmap", version="0.1.0", description=DESCRIPTION,
                      lifespan=lifespan, max_body_size=BODY_LIMIT, docs_url=None,
                      redoc_url=None)
    app.state.settings = settings
    app.state.server_key = settings.server_key()
    install_error_handlers(app)
    install_access_audit(app)
    app.upload_max_bytes = settings.upload_max_mb * 1024**2 + MULTIPART_OVERHEAD
    app.document_max_bytes = settings.document_max_mb * 1024**2 + MULTIPART_OVERHEAD
    # Every route names its action in the policy: public ones at the router, others per route.
    public = [Depends(authorize("public.read"))]
    app.include_router(health_router, dependencies=public)
    app.include_router(parcels_router, dependencies=public)
    app.include_router(ogc_router, dependencies=public)
    app.include_router(accounts_router)
    app.include_router(dossiers_router)
    app.include_router(supplements_router)
    app.include_router(documents_router, max_body_size=app.document_max_bytes)
    app.include_router(payments_router)
    if settings.payment_provider == "sandbox":  # the gateway's stand-in, never beside a real one
        app.include_router(sandbox_router)
    app.include_router(papers_router)
    app.include_router(results_router)
    app.include_router(feedback_router, max_body_size=PHOTO_MAX_MB * 1024**2 + MULTIPART_OVERHEAD)
    app.include_router(office_router)
    app.include_router(open311_router)  # public reads; posts carry a client's api_key
    app.include_router(open311_admin_router)  # administrators' routes, per route
    app.include_router(calendar_router)  # public reads and administrators' edits, per route
    app.include_router(procedures_router)  # likewise
    app.include_router(precheck_router)  # public, its action named at the route
    app.include_router(catalogue_router, max_body_size=app.upload_max_bytes)
    app.include_router(tiles_router, dependencies=public)
    app.include_router(assets_router, dependencies=public)
    install_raster_tiles(app)
    app.include_router(docs_router, dependencies=public)
    app.include_router(web_router, dependencies=public)  # last: /{name} matches any segment
    return app

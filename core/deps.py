"""Request dependencies: a pooled database connection per request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager
from typing import Annotated

import asyncpg
from fastapi import Depends, FastAPI, Header, Request
from sqlalchemy import Connection


def get_connection(request: Request) -> Iterator[Connection]:
    """A connection from the app's pool, in a transaction committed when the route has made
    its answer and before a byte of it is sent (the dependency's scope is the function): a
    client never reads what the database could still refuse."""
    engine = request.app.state.engine
    with engine.begin() as conn:
        yield conn


ConnectionDep = Annotated[Connection, Depends(get_connection, scope="function")]
# The ETag of the version a write changes (workflow rows: 412 when stale, 428 when staff omit it).
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=200)]


async def get_read_connection(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """A connection from the app's read pool (no transaction: reads only)."""
    async with request.app.state.read_pool.acquire() as conn:
        yield conn


ReadConnectionDep = Annotated[asyncpg.Connection, Depends(get_read_connection)]


def side_transaction(app: FastAPI) -> AbstractContextManager[Connection]:
    """A transaction of its own, committed even when the request's rolls back (tests may set
    `app.state.side_transaction` to keep it inside theirs)."""
    factory = getattr(app.state, "side_transaction", None)
    return factory() if factory is not None else app.state.engine.begin()  # type: ignore[no-any-return]

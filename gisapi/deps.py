"""Request dependencies: a pooled database connection per request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, Request
from psycopg import AsyncConnection
from sqlalchemy import Connection


def get_connection(request: Request) -> Iterator[Connection]:
    """A connection from the app's pool, in a transaction committed when the request ends."""
    engine = request.app.state.engine
    with engine.begin() as conn:
        yield conn


ConnectionDep = Annotated[Connection, Depends(get_connection)]


async def get_read_connection(request: Request) -> AsyncIterator[AsyncConnection[object]]:
    """An autocommit connection from the app's async read pool."""
    async with request.app.state.read_pool.connection() as conn:
        yield conn


ReadConnectionDep = Annotated[AsyncConnection[object], Depends(get_read_connection)]

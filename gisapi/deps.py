"""Request dependencies: a pooled database connection per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection


def get_connection(request: Request) -> Iterator[Connection]:
    """A connection from the app's pool, in a transaction committed when the request ends."""
    engine = request.app.state.engine
    with engine.begin() as conn:
        yield conn


ConnectionDep = Annotated[Connection, Depends(get_connection)]

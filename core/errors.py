"""Errors, and the one table that maps them to HTTP answers.

Services raise; nothing else picks a status. A 5xx never carries an exception's own text: a
database that cannot be reached is a plain 503 with Retry-After, anything unexpected a 500
naming the request id, its details in the log.
"""

from __future__ import annotations

import logging
import re

import asyncpg
import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from rasterio.errors import RasterioError, RasterioIOError
from rio_tiler.errors import (
    InvalidAssetName,
    InvalidBandName,
    InvalidColorFormat,
    InvalidExpression,
    InvalidFormat,
    MissingAssets,
    MissingBands,
    RioTilerError,
    TileOutsideBounds,
)
from titiler.core.errors import BadRequestError, TileNotFoundError

log = logging.getLogger("civicmap.errors")
RETRY_AFTER_SECONDS = 5
UNAVAILABLE = "the database cannot be reached just now; try again in a few seconds"
BUSY = "the database is too busy to answer just now; try again in a few seconds"
INTERNAL = "internal error; quote the request id when reporting it"


class DomainError(Exception):
    """An error a caller can act on; carries the field or object it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    @property
    def status_code(self) -> int:
        """The HTTP status the table gives this error."""
        return status_of(self)


class NotFoundError(DomainError):
    """The thing asked for does not exist (or may not be shown)."""


class InvalidInputError(DomainError):
    """The request is well-formed but its values make no sense."""


class ConflictError(DomainError):
    """The request clashes with the current state."""


class UnauthorizedError(DomainError):
    """Not signed in, or the credentials do not match."""


class ForbiddenError(DomainError):
    """Signed in, but not allowed."""


class TooLargeError(DomainError):
    """The upload is bigger than allowed."""


class UnsupportedTypeError(DomainError):
    """The file is not of a type accepted here (judged by its content, not its name)."""


class UnavailableError(DomainError):
    """A service the request needs (a virus scanner) does not answer; retry later."""

    def __init__(self, message: str, field: str | None = None, retry_after: int = 30) -> None:
        super().__init__(message, field)
        self.retry_after = retry_after


class TooManyRequestsError(DomainError):
    """Too many attempts; retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PreconditionFailedError(DomainError):
    """If-Match names a version that is no longer the current one."""


class PreconditionRequiredError(DomainError):
    """A write that must say which version it changes (If-Match) did not."""


class DatabaseUnavailableError(Exception):
    """The database does not answer (stopped, restarting, unreachable)."""


# The one table, most specific first where classes are related: the first class in an
# exception's MRO that the table names decides its status.
STATUS_CODES: dict[type[BaseException], int] = {
    NotFoundError: 404,
    InvalidInputError: 422,
    ConflictError: 409,
    UnauthorizedError: 401,
    ForbiddenError: 403,
    TooLargeError: 413,
    UnsupportedTypeError: 415,
    TooManyRequestsError: 429,
    PreconditionFailedError: 412,
    PreconditionRequiredError: 428,
    UnavailableError: 503,
    DomainError: 400,
    # The database gone or going: a connection refused or lost, a server shutting down.
    DatabaseUnavailableError: 503,
    asyncpg.PostgresConnectionError: 503,
    asyncpg.exceptions.OperatorInterventionError: 503,
    asyncpg.exceptions.TooManyConnectionsError: 503,
    psycopg.OperationalError: 503,
    sqlalchemy.exc.OperationalError: 503,
    # The database answered, but not this time: a lock it could not take in time, a deadlock
    # or a serialization it broke (psycopg's are OperationalErrors, above).
    asyncpg.exceptions.LockNotAvailableError: 503,
    asyncpg.exceptions.TransactionRollbackError: 503,
    # The raster tiler's own errors (titiler's table, less its catch-all).
    BadRequestError: 400,
    MissingBands: 400,
    MissingAssets: 400,
    InvalidColorFormat: 400,
    InvalidExpression: 400,
    InvalidFormat: 400,
    TileOutsideBounds: 404,
    TileNotFoundError: 404,
    InvalidAssetName: 404,
    InvalidBandName: 404,
    RasterioIOError: 500,
    RasterioError: 500,
    RioTilerError: 500,
}


# A 503 of these is the database too slow or in the way (a statement or lock timeout, a
# deadlock), not gone: said so, that no one goes looking for a stopped server.
BUSY_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable,
    psycopg.errors.TransactionRollback, asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.LockNotAvailableError, asyncpg.exceptions.TransactionRollbackError)


# A uniqueness a service's own check lost to a twin request (a double tap, a retry at once):
# a 409 naming the key's columns (never its values, which may be a phone number).
UNIQUE_KEY = re.compile(r"Key \(([^)]*)\)=")


def _cause(exc: BaseException) -> BaseException:
    """The driver's error under SQLAlchemy's wrapping."""
    return getattr(exc, "orig", None) or exc


def status_of(exc: BaseException) -> int:
    """The status the table gives an exception (500 for anything it does not name)."""
    if isinstance(_cause(exc), psycopg.errors.UniqueViolation):
        return 409
    for kind in type(exc).__mro__:
        if kind in STATUS_CODES:
            return STATUS_CODES[kind]
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return 503
    return 500


def request_id(request: Request) -> str:
    """The id the HTTP middleware gave this request ('-' outside it)."""
    return str(getattr(request.state, "request_id", "-"))


def error_response(exc: DomainError) -> JSONResponse:
    """The JSON answer for a domain error (also returned directly where the transaction must
    still commit, e.g. a failed sign-in whose audit event and rate-limit hit must stay)."""
    body: dict[str, object] = {"detail": exc.message}
    if exc.field:
        body["field"] = exc.field
    body.update(getattr(exc, "extra", {}))
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


def failure_response(request: Request, exc: BaseException) -> JSONResponse:
    """The answer for any exception: a domain error says what is wrong; a 4xx from a
    library says it in its words; a 5xx says nothing of its cause, which goes to the log."""
    if isinstance(exc, DomainError):
        return error_response(exc)
    status, cause = status_of(exc), _cause(exc)
    rid = request_id(request)
    if status == 503:
        busy = isinstance(cause, BUSY_ERRORS)
        log.warning("request %s: database %s: %s", rid, "busy" if busy else "unavailable", exc)
        return JSONResponse({"detail": BUSY if busy else UNAVAILABLE, "request_id": rid},
                            status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if isinstance(cause, psycopg.errors.UniqueViolation):
        found = UNIQUE_KEY.search(cause.diag.message_detail or "")
        field = found.group(1) if found else None
        log.warning("request %s: %s %s lost a race on %s", rid, request.method,
                    request.url.path, cause.diag.constraint_name)
        return JSONResponse({"detail": f"{field or 'it'}: made by another request a moment "
                             "ago; read it again", "field": field}, status_code=409)
    if status >= 500:
        log.error("request %s: %s %s failed", rid, request.method, request.url.path,
                  exc_info=exc)
        return JSONResponse({"detail": INTERNAL, "request_id": rid}, status_code=status)
    return JSONResponse({"detail": str(exc)}, status_code=status)


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    return failure_response(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every exception through the table (`Exception` last: Starlette gives it to its
    outermost middleware, so even a failure in a middleware is answered this way)."""
    for kind in (*STATUS_CODES, Exception):
        app.add_exception_handler(kind, _handle)

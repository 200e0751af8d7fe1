"""Domain errors and the one table that maps them to HTTP answers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class DomainError(Exception):
    """An error a caller can act on; carries the field or object it is about."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(DomainError):
    """The thing asked for does not exist (or may not be shown)."""

    status_code = 404


class InvalidInputError(DomainError):
    """The request is well-formed but its values make no sense."""

    status_code = 422


class ConflictError(DomainError):
    """The request clashes with the current state."""

    status_code = 409


def error_response(exc: DomainError) -> JSONResponse:
    """The JSON answer for a domain error (also returned directly where the transaction must
    still commit, e.g. a failed sign-in whose audit event and rate-limit hit must stay)."""
    body: dict[str, object] = {"detail": exc.message}
    if exc.field:
        body["field"] = exc.field
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(exc)


def install_error_handlers(app: FastAPI) -> None:
    """Register the domain-error handler."""
    app.add_exception_handler(DomainError, _domain_error)

"""Authentication and the one authorization dependency every route goes through."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from accounts import repository
from accounts.policy import (
    NOBODY,
    HiddenError,
    Principal,
    check,
    is_public,
)
from core.deps import ConnectionDep, side_transaction
from core.errors import DomainError, ForbiddenError, UnauthorizedError, error_response

COOKIE = "civicmap_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
POLICY_ACTION = "__policy_action__"


def _principal(conn: Any, request: Request) -> Principal:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        row = repository.token_person(conn, token.strip()) if scheme.lower() == "bearer" else None
        if row is None:
            raise UnauthorizedError("the API token is unknown, expired or revoked",
                                    "Authorization")
        return Principal(row.person_id, repository.grants(conn, row.person_id), "token",
                         frozenset(row.scopes))
    cookie = request.cookies.get(COOKIE)
    if cookie:
        row = repository.session_person(conn, cookie)
        if row is not None:
            return Principal(row.person_id, row.grants, "cookie", csrf_token=row.csrf_token)
    return NOBODY


def _check_csrf(principal: Principal, request: Request) -> None:
    # Cookies ride along with cross-site requests; tokens and anonymous calls do not need this.
    if principal.via != "cookie" or request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, principal.csrf_token or ""):
        raise ForbiddenError("missing or wrong X-CSRF-Token", CSRF_HEADER)


def authorize(action: str) -> Callable[..., Any]:
    """The dependency of a route doing `action`: resolves the caller, checks the policy, checks
    CSRF on cookie writes, and records every staff write in the audit log."""
    if is_public(action):
        async def public(request: Request) -> Principal:
            request.state.principal = NOBODY
            return NOBODY

        setattr(public, POLICY_ACTION, action)
        return public

    def guarded(request: Request, conn: ConnectionDep) -> Principal:
        principal = _principal(conn, request)
        request.state.principal = principal
        check(principal, action)
        _check_csrf(principal, request)
        if request.method not in SAFE_METHODS and principal.is_staff:
            route = request.scope.get("route")
            repository.audit(conn, "staff_write", principal.person_id, action=action,
                             method=request.method, route=getattr(route, "path", ""),
                             params=dict(request.path_params), via=principal.via)
        return principal

    setattr(guarded, POLICY_ACTION, action)
    return guarded


def authorize_or_holder(action: str, header: str) -> Callable[..., Any]:
    """`authorize(action)`, except that a caller without credentials who sends `header` (a
    secret the service checks on the object, such as a report's token) passes as nobody."""
    guarded = authorize(action)

    def either(request: Request, conn: ConnectionDep) -> Principal:
        if header.lower() in request.headers and "authorization" not in request.headers \
                and COOKIE not in request.cookies:
            request.state.principal = NOBODY
            return NOBODY
        return cast(Principal, guarded(request, conn))

    setattr(either, POLICY_ACTION, action)
    return either


def caller(request: Request, conn: Any) -> Principal:
    """Who calls a public route that also serves signed-in people (a report sent from an
    account): the session's or token's person, else nobody. A cookie write checks CSRF."""
    if "authorization" not in request.headers and COOKIE not in request.cookies:
        return NOBODY
    principal = _principal(conn, request)
    _check_csrf(principal, request)
    return principal


def may(request: Request, action: str) -> bool:
    """Whether the caller of a public route may also do `action` (staff extras on public
    pages); no credentials, or credentials that do not hold, mean no, never an error."""
    if "authorization" not in request.headers and COOKIE not in request.cookies:
        return False
    with side_transaction(request.app) as conn:
        try:
            check(_principal(conn, request), action)
        except DomainError:
            return False
    return True


def _record_denial(request: Request, exc: DomainError) -> None:
    principal: Principal = getattr(request.state, "principal", NOBODY)
    route = request.scope.get("route")
    # Its own transaction: the request's rolls back with the error.
    with side_transaction(request.app) as conn:
        repository.audit(conn, "access_denied", principal.person_id,
                         status=exc.status_code, route=getattr(route, "path", ""),
                         method=request.method, reason=exc.message)


async def _denied(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if isinstance(exc, (ForbiddenError, HiddenError)) or (
        isinstance(exc, UnauthorizedError) and exc.field == "Authorization"
    ):
        await run_in_threadpool(_record_denial, request, exc)
    return error_response(exc)


def install_access_audit(app: FastAPI) -> None:
    """Denials (403, hidden 404, bad tokens) are audited even though the request rolls back."""
    for kind in (ForbiddenError, HiddenError, UnauthorizedError):
        app.add_exception_handler(kind, _denied)

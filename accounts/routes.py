"""HTTP routes of sign-up, verification, sign-in, sign-out and "me"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Header, Request, Response

from accounts.notify import OutboxNotifier
from accounts.schemas import PersonPublic, SignIn, SignUp, SignUpAccepted, Verify
from accounts.service import PURPOSE, SESSION_DAYS, AccountService
from gisapi.deps import ConnectionDep
from gisapi.errors import DomainError, error_response

router = APIRouter(prefix="/api", tags=["accounts"])
COOKIE = "civicmap_session"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "testserver"}


def _service(conn: ConnectionDep, request: Request) -> AccountService:
    address = request.client.host if request.client else ""
    return AccountService(conn, OutboxNotifier(conn), address)


@router.post("/auth/signup", status_code=202, response_model=SignUpAccepted,
             summary="Citizen sign-up (đăng ký): a one-time code is sent")
def sign_up(body: SignUp, request: Request, conn: ConnectionDep) -> SignUpAccepted:
    """Create the account; it is usable once the code is verified."""
    channel = _service(conn, request).sign_up(body.identifier, body.password, body.display_name,
                                     body.lang, body.accept_purpose)
    return SignUpAccepted(channel=channel, purpose=PURPOSE)


@router.get("/auth/purpose", summary="Why personal data is processed (shown before sign-up)")
def purpose() -> dict[str, str]:
    """The purpose statement."""
    return {"purpose": PURPOSE}


@router.post("/auth/verify", status_code=204, summary="Verify the one-time code")
def verify(body: Verify, request: Request, conn: ConnectionDep) -> Response:
    """Mark the account verified."""
    failure = _service(conn, request).verify(body.identifier, body.code)
    return error_response(failure) if failure else Response(status_code=204)


@router.post("/auth/signin", response_model=PersonPublic, summary="Sign in (đăng nhập)")
def sign_in(body: SignIn, request: Request, response: Response,
            conn: ConnectionDep) -> PersonPublic | Response:
    """A new session in an HttpOnly cookie; the answer carries the CSRF token."""
    service = _service(conn, request)
    session = service.sign_in(body.identifier, body.password)
    if isinstance(session, DomainError):
        return error_response(session)
    response.set_cookie(
        COOKIE, session.token, max_age=SESSION_DAYS * 86_400, httponly=True, samesite="lax",
        secure=request.url.hostname not in LOCAL_HOSTS, path="/",
    )
    return _public(service.current(session.token))


@router.post("/auth/signout", status_code=204, summary="Sign out (here, or everywhere)")
def sign_out(
    conn: ConnectionDep,
    request: Request,
    everywhere: bool = False,
    session: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    csrf: Annotated[str | None, Header(alias="X-CSRF-Token")] = None,
) -> Response:
    """End the session; needs the CSRF token like every cookie-authenticated write."""
    _service(conn, request).sign_out(session, csrf, everywhere)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=PersonPublic, summary="The signed-in person")
def me(conn: ConnectionDep, request: Request,
       session: Annotated[str | None, Cookie(alias=COOKIE)] = None) -> PersonPublic:
    """Who is signed in."""
    return _public(_service(conn, request).current(session))


def _public(row: object) -> PersonPublic:
    return PersonPublic.model_validate(row, from_attributes=True)

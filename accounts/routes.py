"""HTTP routes of accounts: sign-up and in, passwords, one's own data, tokens, staff, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from accounts.auth import COOKIE, authorize
from accounts.oidc import STATE_SECONDS, Providers
from accounts.policy import Principal
from accounts.push import check_endpoint, platform_key, public_key, subscribe, unsubscribe
from accounts.schemas import (
    AuditEvent,
    Deletion,
    Forgot,
    GrantIn,
    PasswordChange,
    PersonPublic,
    ProfileUpdate,
    PushEnd,
    PushKey,
    PushSubscriptionIn,
    Reset,
    RolesUpdate,
    SignIn,
    SignUp,
    SignUpAccepted,
    StaffCreate,
    StaffCreated,
    StaffPublic,
    TokenCreate,
    TokenIssued,
    TokenPublic,
    Verify,
)
from accounts.service import PURPOSE, SESSION_DAYS, AccountService, GrantSpec, Session
from core.deps import ConnectionDep
from core.errors import DomainError, error_response
from core.notify import OutboxNotifier
from core.routing import Router

router = Router(prefix="/api", tags=["accounts"])
LOCAL_HOSTS = {"127.0.0.1", "localhost", "testserver"}
OIDC_COOKIE = "civicmap_oidc"
ProviderName = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,32}$", examples=["vneid"])]

Entering = Annotated[Principal, Depends(authorize("account.enter"))]
Public = Annotated[Principal, Depends(authorize("public.read"))]
Self = Annotated[Principal, Depends(authorize("account.self"))]
TokenOwner = Annotated[Principal, Depends(authorize("token.manage"))]
Administrator = Annotated[Principal, Depends(authorize("staff.manage"))]
Auditor = Annotated[Principal, Depends(authorize("audit.read"))]


async def _service(conn: ConnectionDep, request: Request) -> AccountService:
    address = request.client.host if request.client else ""
    return AccountService(conn, OutboxNotifier(conn), request.app.state.server_key, address)


Service = Annotated[AccountService, Depends(_service)]


def _set_cookie(response: Response, request: Request, session: Session) -> None:
    response.set_cookie(
        COOKIE, session.token, max_age=SESSION_DAYS * 86_400, httponly=True, samesite="lax",
        secure=request.url.hostname not in LOCAL_HOSTS, path="/",
    )


def _me(service: AccountService, person_id: int, csrf_token: str | None) -> PersonPublic:
    row = service.me(person_id)
    return PersonPublic(id=row.id, display_name=row.display_name, phone=row.phone,
                        email=row.email, lang=row.lang, roles=row.roles, csrf_token=csrf_token)


def _grant(body: GrantIn) -> GrantSpec:
    return GrantSpec(body.role, body.department, tuple(body.wards))


# -- entering ----------------------------------------------------------------------------------

@router.post("/auth/signup", status_code=202, response_model=SignUpAccepted,
             summary="Citizen sign-up (đăng ký): a one-time code is sent")
def sign_up(body: SignUp, _: Entering, service: Service) -> SignUpAccepted:
    """Create the account; it is usable once the code is verified."""
    channel = service.sign_up(body.identifier, body.password, body.display_name, body.lang,
                              body.accept_purpose)
    return SignUpAccepted(channel=channel, purpose=PURPOSE)


@router.get("/auth/purpose", summary="Why personal data is processed (shown before sign-up)")
def purpose(_: Public) -> dict[str, str]:
    """The purpose statement."""
    return {"purpose": PURPOSE}


@router.post("/auth/verify", status_code=204, summary="Verify the one-time code")
def verify(body: Verify, _: Entering, service: Service) -> Response:
    """Mark the account verified."""
    failure = service.verify(body.identifier, body.code)
    return error_response(failure) if failure else Response(status_code=204)


@router.post("/auth/signin", response_model=PersonPublic, summary="Sign in (đăng nhập)")
def sign_in(body: SignIn, _: Entering, request: Request, response: Response,
            service: Service) -> PersonPublic | JSONResponse:
    """A new session in an HttpOnly cookie (any old one ends); the answer has the CSRF token."""
    session = service.sign_in(body.identifier, body.password, request.cookies.get(COOKIE))
    if isinstance(session, DomainError):
        return error_response(session)
    _set_cookie(response, request, session)
    return _me(service, session.person_id, session.csrf_token)


@router.post("/auth/password/forgot", status_code=202,
             summary="Send a password-reset code (the answer is the same for unknown accounts)")
def forgot(body: Forgot, _: Entering, service: Service) -> Response:
    """Send a reset code to the phone or e-mail, if it has an account."""
    service.forgot_password(body.identifier)
    return Response(status_code=202)


@router.post("/auth/password/reset", status_code=204,
             summary="Set a new password with the reset code; every session ends")
def reset(body: Reset, _: Entering, service: Service) -> Response:
    """A new password; sessions and API tokens of the account end."""
    failure = service.reset_password(body.identifier, body.code, body.new_password)
    return error_response(failure) if failure else Response(status_code=204)


def _providers(request: Request) -> Providers:
    return getattr(request.app.state, "identity_providers", None) or Providers()


@router.get("/auth/oidc/{provider}/start", status_code=302,
            summary="Sign in with an identity provider (VNeID, city SSO)")
def oidc_start(provider: ProviderName, _: Entering, request: Request,
               next_path: Annotated[str | None, Query(alias="next", max_length=200)] = None,
               ) -> Response:
    """Redirect to the provider; the state, nonce and PKCE verifier wait in a sealed cookie."""
    callback = str(request.url_for("oidc_callback", provider=provider))
    start = _providers(request).start(request.app.state.server_key, provider, callback, next_path)
    response = RedirectResponse(start.url, status_code=302)
    response.set_cookie(OIDC_COOKIE, start.sealed, max_age=STATE_SECONDS, httponly=True,
                        samesite="lax", secure=request.url.hostname not in LOCAL_HOSTS,
                        path="/api/auth/oidc/")
    return response


@router.get("/auth/oidc/{provider}/callback", name="oidc_callback", status_code=302,
            summary="Where the identity provider sends the browser back")
def oidc_callback(provider: ProviderName, _: Entering, request: Request, service: Service,
                  code: Annotated[str, Query(min_length=1, max_length=2000)],
                  state: Annotated[str, Query(min_length=1, max_length=200)]) -> Response:
    """Verify the answer, sign the person in and go back to where they started."""
    claims, target = _providers(request).finish(
        request.app.state.server_key, provider, request.cookies.get(OIDC_COOKIE), state, code,
        str(request.url_for("oidc_callback", provider=provider)))
    session = service.sign_in_external(claims, request.cookies.get(COOKIE))
    response = RedirectResponse(target, status_code=302)
    response.delete_cookie(OIDC_COOKIE, path="/api/auth/oidc/")
    _set_cookie(response, request, session)
    return response


# -- one's own account -------------------------------------------------------------------------

@router.post("/auth/signout", status_code=204, summary="Sign out (here, or everywhere)")
def sign_out(me: Self, request: Request, service: Service, everywhere: bool = False) -> Response:
    """End the session (or all sessions and tokens); needs the CSRF token."""
    service.sign_out(me, request.cookies.get(COOKIE), everywhere)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_model=PersonPublic, summary="The signed-in person")
def me(caller: Self, service: Service) -> PersonPublic:
    """Who is signed in, with the CSRF token for writes."""
    assert caller.person_id is not None
    return _me(service, caller.person_id, caller.csrf_token)


@router.patch("/me", response_model=PersonPublic, summary="Change my name or language")
def update_me(body: ProfileUpdate, caller: Self, service: Service) -> PersonPublic:
    """Display name and language preference."""
    assert caller.person_id is not None
    service.update_profile(caller.person_id, body.display_name, body.lang)
    return _me(service, caller.person_id, caller.csrf_token)


@router.post("/me/password", response_model=PersonPublic,
             summary="Change my password; every other session and token ends")
def change_password(body: PasswordChange, caller: Self, request: Request, response: Response,
                    service: Service) -> PersonPublic | JSONResponse:
    """A new password; this browser gets a fresh session."""
    assert caller.person_id is not None
    session = service.change_password(caller, body.current_password, body.new_password)
    if isinstance(session, DomainError):
        return error_response(session)
    _set_cookie(response, request, session)
    return _me(service, caller.person_id, session.csrf_token)


@router.get("/me/export", summary="Everything kept about me, as JSON (Law 91/2025/QH15)")
def export(caller: Self, service: Service) -> JSONResponse:
    """A download of one's own data."""
    assert caller.person_id is not None
    return JSONResponse(service.export(caller.person_id), headers={
        "Content-Disposition": 'attachment; filename="civicmap-my-data.json"',
        "Cache-Control": "no-store"})


@router.post("/me/deletion", status_code=204,
             summary="Delete my account: personal data anonymised, dossiers kept as the record")
def delete_me(body: Deletion, caller: Self, service: Service) -> Response:
    """Anonymise the account; the password confirms it."""
    failure = service.delete(caller, body.password)
    if failure:
        return error_response(failure)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/")
    return response


# -- API tokens --------------------------------------------------------------------------------

@router.get("/tokens", response_model=list[TokenPublic], summary="My API tokens")
def tokens(caller: TokenOwner, service: Service) -> list[Any]:
    """Tokens (never their secrets)."""
    return [TokenPublic.model_validate(row, from_attributes=True)
            for row in service.tokens(caller)]


@router.post("/tokens", status_code=201, response_model=TokenIssued,
             summary="Issue a scoped API token (shown once)")
def issue_token(body: TokenCreate, caller: TokenOwner, service: Service) -> TokenIssued:
    """A bearer token for an integration, limited to the given actions."""
    token_id, token = service.issue_token(caller, body.name, body.scopes, body.days)
    return TokenIssued(id=token_id, token=token)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke one of my API tokens")
def revoke_token(token_id: int, caller: TokenOwner, service: Service) -> Response:
    """The token stops working at once."""
    service.revoke_token(caller, token_id)
    return Response(status_code=204)


# -- administration ----------------------------------------------------------------------------

@router.get("/staff", response_model=list[StaffPublic], summary="Staff accounts and their roles")
def staff(_: Administrator, service: Service) -> list[Any]:
    """Everyone holding a staff role."""
    return [StaffPublic.model_validate(row, from_attributes=True) for row in service.staff()]


@router.post("/staff", status_code=201, response_model=StaffCreated,
             summary="Create a staff account (a code to set the password is sent)")
def create_staff(body: StaffCreate, admin: Administrator, service: Service) -> StaffCreated:
    """No self sign-up for staff: an administrator creates them."""
    person_id, _ = service.create_staff(body.identifier, body.display_name, _grant(body.grant),
                                        admin.person_id, send_code=True)
    return StaffCreated(id=person_id)


@router.put("/people/{person_id}/roles", status_code=204, summary="Set a person's roles")
def set_roles(person_id: int, body: RolesUpdate, admin: Administrator,
              service: Service) -> Response:
    """Replace every role the person holds (audited as a role change)."""
    service.set_roles(admin, person_id, [_grant(g) for g in body.grants])
    return Response(status_code=204)


@router.get("/audit", response_model=list[AuditEvent], summary="The audit log")
def audit(
    _: Auditor,
    service: Service,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    person_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Any]:
    """Security events and staff writes, newest first."""
    return [AuditEvent.model_validate(row, from_attributes=True)
            for row in service.audit_events(kind, person_id, since, limit)]


def _push_key(request: Request) -> Any:
    key = getattr(request.app.state, "push_key", None)
    if key is None:
        key = request.app.state.push_key = platform_key(request.app.state.settings.push_key_dir)
    return key


@router.get("/push/key", response_model=PushKey,
            summary="The applicationServerKey to subscribe a browser to Web Push with")
def push_key(_: Public, request: Request) -> PushKey:
    """The platform's VAPID public key (made once)."""
    return PushKey(key=public_key(_push_key(request)))


@router.post("/push/subscriptions", status_code=204,
             summary="Receive my notices on this browser (Web Push)")
def add_push(body: PushSubscriptionIn, principal: Self, conn: ConnectionDep,
             request: Request) -> Response:
    """The browser's PushSubscription; a push service's https address."""
    assert principal.person_id is not None
    check_endpoint(body.endpoint, request.app.state.settings.push_allow_loopback)
    subscribe(conn, principal.person_id, body.endpoint, body.keys.p256dh, body.keys.auth)
    return Response(status_code=204)


@router.post("/push/subscriptions/end", status_code=204,
             summary="No more notices on this browser")
def end_push(body: PushEnd, principal: Self, conn: ConnectionDep) -> Response:
    """The subscription ends (unknown ones too, silently)."""
    assert principal.person_id is not None
    unsubscribe(conn, principal.person_id, body.endpoint)
    return Response(status_code=204)

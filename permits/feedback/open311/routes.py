"""HTTP routes of the Open311 GeoReport v2 face (XML and JSON, by the resource's suffix), and
the administrators' routes that issue and revoke the clients' API keys. Errors are the spec's
list of {code, description}: their status still comes from the project's one table."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from accounts.auth import authorize
from accounts.policy import Principal
from accounts.ratelimit import OPEN311_READ, OPEN311_SEND, RateLimiter
from core.deps import ConnectionDep, side_transaction
from core.errors import NotFoundError, failure_response
from core.notify import OutboxNotifier
from core.routing import CheckedRoute, Router
from permits.feedback.open311.repository import Open311Repository
from permits.feedback.open311.schemas import ClientIn, ClientIssued, ClientPublic
from permits.feedback.open311.service import ClientKeys, Open311Service, RequestError
from permits.feedback.open311.writer import Format, answer, format_of
from permits.feedback.repository import FeedbackRepository
from permits.feedback.service import FeedbackService

KEPT_HEADERS = ("retry-after", "www-authenticate")


async def _app_answer(handlers: dict[Any, Callable[..., Any]], request: Request,
                      exc: Exception) -> Response:
    """What the app's own handlers answer (the table's status, the denial's audit)."""
    for kind in type(exc).__mro__:
        handler = handlers.get(kind)
        if handler is not None:
            made = (await handler(request, exc) if inspect.iscoroutinefunction(handler)
                    else await run_in_threadpool(handler, request, exc))
            return made  # type: ignore[no-any-return]
    return failure_response(request, exc)


def _spec_errors(request: Request, exc: Exception, made: Response) -> Response:
    """The same answer as the spec's errors: its status, its words, its format."""
    status = made.status_code
    body = json.loads(bytes(made.body)) if made.body else {}
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(exc, RequestValidationError):  # a field the route parsed itself
        status = 400
        description = "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors())
    elif isinstance(body, dict) and body.get("field"):
        description = f"{body['field']}: {detail}"
    else:
        description = str(detail or "error")
    if isinstance(body, dict) and body.get("request_id"):
        description += f" (request {body['request_id']})"
    headers = {k: v for k, v in made.headers.items() if k.lower() in KEPT_HEADERS}
    return answer(format_of(request.url.path), "errors",
                  [{"code": status, "description": description}], status, headers)


class Open311Route(CheckedRoute):
    """A route whose errors are answered in the spec's format, after its transaction has
    rolled back (the handlers run where the app's own do, outside the route's dependencies)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the route with the app's handlers wrapped."""
        handlers, status_handlers = scope.get("starlette.exception_handlers", ({}, {}))

        async def spec_errors(request: Request, exc: Exception) -> Response:
            return _spec_errors(request, exc, await _app_answer(handlers, request, exc))

        await super().handle({**scope, "starlette.exception_handlers": (
            {Exception: spec_errors}, status_handlers)}, receive, send)


router = Router(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)
admin = Router(prefix="/api/admin/open311-clients", tags=["open311"])
Reader = Annotated[Principal, Depends(authorize("public.read"))]
Sender = Annotated[Principal, Depends(authorize("feedback.report"))]
Administrator = Annotated[Principal, Depends(authorize("open311.clients"))]
FORMATS: dict[str, Any] = {"description": "The answer, in the format the suffix names",
           "content": {"text/xml": {}, "application/json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A field missing or wrong: the spec's errors name it"},
    404: {"description": "No such service, request or token"},
    429: {"description": "Too many requests from this address or client"}}


def _read_limit(request: Request) -> None:
    """Reads per address: a scraper cannot crowd out the district's own map."""
    address = request.client.host if request.client else ""
    with side_transaction(request.app) as side:
        limits = RateLimiter(side)
        limits.check(OPEN311_READ, address)
        limits.hit(OPEN311_READ, address)


Limited = Depends(_read_limit)


async def _form(request: Request) -> dict[str, str]:
    """The form a client posts (attribute[code] names are the service's, hence no model)."""
    fields: dict[str, str] = {}
    for name, value in (await request.form()).multi_items():
        if not isinstance(value, str):
            raise RequestError("no files here: send media_url, a link", name)
        if name in fields:
            raise RequestError("given twice", name)
        fields[name] = value
    return fields


def _service(conn: ConnectionDep, request: Request) -> Open311Service:
    feedback = FeedbackService(FeedbackRepository(conn), OutboxNotifier(conn),
                               request.app.state.server_key)
    return Open311Service(Open311Repository(conn), feedback, str(request.base_url))


Service = Annotated[Open311Service, Depends(_service)]
Form = Annotated[dict[str, str], Depends(_form)]


def _format(fmt: str) -> Format:
    if fmt not in Format.__members__.values():
        raise NotFoundError(f"no format {fmt!r}: xml or json", "format")
    return Format(fmt)


def _dump(items: list[Any]) -> list[dict[str, Any]]:
    return [i.model_dump(mode="json") for i in items]


@router.get("/discovery.{fmt}", summary="Open311 discovery: this endpoint and its formats",
            responses={200: FORMATS}, dependencies=[Limited])
def discovery(fmt: str, _: Reader, service: Service, request: Request) -> Response:
    """Where GeoReport v2 is served, and how to get a key."""
    url = str(request.base_url).rstrip("/") + router.prefix
    return answer(_format(fmt), "discovery", service.discovery(url).model_dump(mode="json"))


@router.get("/services.{fmt}", summary="Open311 services: the feedback categories",
            responses={200: FORMATS, **ERRORS}, dependencies=[Limited])
def services(fmt: str, _: Reader, service: Service) -> Response:
    """One service per category, with its department."""
    return answer(_format(fmt), "services", _dump(service.services()))


@router.get("/services/{service_code}.{fmt}", summary="Open311 service definition",
            responses={200: FORMATS, **ERRORS}, dependencies=[Limited])
def definition(service_code: str, fmt: str, _: Reader, service: Service) -> Response:
    """The attributes a service asks for (attribute[code] in a request)."""
    return answer(_format(fmt), "service_definition",
                  service.definition(service_code).model_dump(mode="json"))


# Parsed by the service (a bad one is the spec's 400, naming it): listed here for the docs.
QUERY = {"service_request_id": "Report numbers, comma separated (overrides the rest)",
         "service_code": "Services, comma separated",
         "start_date": "W3C date-time with its zone; the window is 90 days at most",
         "end_date": "W3C date-time with its zone (default: now)",
         "status": "open, closed, or both comma separated",
         "bbox": "Our extension: west,south,east,north in degrees (WGS84)"}


@router.get("/requests.{fmt}", summary="Open311 service requests: reports anyone may see",
            responses={200: FORMATS, **ERRORS}, dependencies=[Limited],
            openapi_extra={"parameters": [
                {"name": k, "in": "query", "required": False, "description": v,
                 "schema": {"type": "string", "maxLength": 20000}} for k, v in QUERY.items()]})
def requests(fmt: str, _: Reader, service: Service, request: Request) -> Response:
    """By service_request_id (comma list), or service_code, start_date, end_date (90 days at
    most; the last 90 by default), status (open, closed) and bbox=west,south,east,north."""
    params = {k: ",".join(request.query_params.getlist(k)) for k in request.query_params}
    return answer(_format(fmt), "service_requests", _dump(service.requests(params)))


@router.post("/requests.{fmt}", status_code=201,
             summary="Open311: send a report (form-encoded, with the client's api_key)",
             responses={201: FORMATS, 403: {"description": "No, unknown or revoked api_key"},
                        **ERRORS},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/x-www-form-urlencoded": {"schema": {"type": "object",
                     "required": ["api_key", "service_code"], "properties": {
                         k: {"type": "string"} for k in (
                             "api_key", "service_code", "lat", "long", "address_string",
                             "address_id", "attribute[parcel_key]", "description",
                             "media_url", "email", "phone", "device_id", "account_id",
                             "first_name", "last_name")}}}}}})
def send(fmt: str, _: Sender, service: Service, form: Form, request: Request) -> Response:
    """Received at once (the client is trusted); the reporter's name and contact are the
    department's only; the answer carries the report's number and a token."""
    chosen = _format(fmt)
    client_id = service.client(form.get("api_key"))
    with side_transaction(request.app) as side:
        limits = RateLimiter(side)
        limits.check(OPEN311_SEND, str(client_id))
        limits.hit(OPEN311_SEND, str(client_id))
    return answer(chosen, "service_requests", _dump(service.send(client_id, form)), 201)


@router.get("/requests/{service_request_id}.{fmt}", summary="Open311: one service request",
            responses={200: FORMATS, **ERRORS}, dependencies=[Limited])
def one_request(service_request_id: str, fmt: str, _: Reader, service: Service) -> Response:
    """A report by its number, as a list of one."""
    return answer(_format(fmt), "service_requests",
                  _dump(service.request(service_request_id)))


@router.get("/tokens/{token}.{fmt}", summary="Open311: the request a token stands for",
            responses={200: FORMATS, **ERRORS}, dependencies=[Limited])
def token(token: str, fmt: str, _: Reader, service: Service) -> Response:
    """The report's number for the token a POST answered."""
    return answer(_format(fmt), "service_requests", _dump(service.token(token)))


def _keys(conn: ConnectionDep) -> ClientKeys:
    return ClientKeys(Open311Repository(conn))


Keys = Annotated[ClientKeys, Depends(_keys)]


@admin.get("", response_model=list[ClientPublic], summary="Open311 clients (revoked ones too)")
def clients(_: Administrator, keys: Keys) -> list[ClientPublic]:
    """Each client with its key's first characters, never the key."""
    return keys.list()


@admin.post("", status_code=201, response_model=ClientIssued,
            summary="Issue an Open311 client its API key (shown once)")
def issue(body: ClientIn, me: Administrator, keys: Keys) -> ClientIssued:
    """Only the key's hash is kept: lost, it is revoked and a new one issued."""
    return keys.issue(body.name, body.contact, me.person_id)


@admin.delete("/{client_id}", status_code=204, summary="Revoke an Open311 client's API key")
def revoke(client_id: int, me: Administrator, keys: Keys) -> Response:
    """The key stops working at once; the client's reports stay."""
    keys.revoke(client_id, me.person_id)
    return Response(status_code=204)

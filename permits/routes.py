"""HTTP routes of dossiers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from accounts.auth import authorize
from accounts.policy import Principal
from accounts.ratelimit import DOSSIER_LOOKUP, RateLimiter
from core.deps import ConnectionDep, IfMatch, side_transaction
from core.idempotency import IdempotencyDep
from core.routing import Router
from permits.precheck.schemas import PrecheckPublic
from permits.repository import DossierRepository
from permits.results.service import LazyResultMaker
from permits.schemas import (
    DossierAction,
    DossierCreate,
    DossierStatus,
    DossierUpdate,
    DossierView,
    EventView,
    FormView,
    PublicEvent,
    SupplementAnswer,
    SupplementRequest,
)
from permits.service import DossierService
from permits.workflow import DOSSIER, FORM_TITLES

router = Router(prefix="/api/dossiers", tags=["dossiers"])

Creator = Annotated[Principal, Depends(authorize("dossier.create"))]
Reader = Annotated[Principal, Depends(authorize("dossier.read"))]
Editor = Annotated[Principal, Depends(authorize("dossier.edit"))]
Applicant = Annotated[Principal, Depends(authorize("dossier.apply"))]
Anyone = Annotated[Principal, Depends(authorize("dossier.lookup"))]
Handler = Annotated[Principal, Depends(authorize("dossier.handle"))]
DossierId = Annotated[int, Path(ge=1, le=2**62)]


async def _service(conn: ConnectionDep, request: Request) -> DossierService:
    settings = request.app.state.settings
    return DossierService(DossierRepository(conn), settings.agency_code,
                          results=LazyResultMaker(conn, settings))


Service = Annotated[DossierService, Depends(_service)]


def _view(row: Any, actions: Sequence[str] = ()) -> DossierView:
    view = DossierView.model_validate(row, from_attributes=True)
    view.actions = list(actions)
    return view


def _answer(row: Any, status: int = 200, actions: Sequence[str] = ()) -> Response:
    """The dossier as JSON with its ETag (send it back as If-Match)."""
    view = _view(row, actions)
    return JSONResponse(view.model_dump(mode="json"), status_code=status,
                        headers={"ETag": DOSSIER.etag(view.id, row.version)})


def _origin(request: Request) -> str:
    """Where the links in messages point: this server as the applicant reached it."""
    return str(request.base_url).rstrip("/")


@router.post("", status_code=201, response_model=DossierView,
             summary="Start a dossier (draft) from a parcel")
def create(body: DossierCreate, caller: Creator, service: Service,
           idem: IdempotencyDep) -> Response:
    """A draft only its applicant sees until it is submitted (Idempotency-Key: a retry
    gets the same draft)."""
    return idem.answer(lambda: _answer(service.create(
        caller, body.procedure_id, body.parcel_key, body.applicant.model_dump(), body.answers),
        201))


@router.get("", response_model=list[DossierView],
            summary="Dossiers I may see (mine; or my department's and wards' for staff)")
def list_dossiers(caller: Reader, service: Service,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50,
                  offset: Annotated[int, Query(ge=0, le=100_000)] = 0) -> list[DossierView]:
    """Newest first."""
    return [_view(row) for row in service.list(caller, limit, offset)]


@router.get("/lookup/{code}", response_model=DossierStatus,
            summary="Look a dossier up by its code (tra cứu hồ sơ): status, dates, public moves",
            responses={429: {"description": "Too many look-ups from this client"}})
def lookup(code: Annotated[str, Path(pattern=r"^[0-9A-Z.]{3,24}-\d{6}-\d{4}$")], _: Anyone,
           service: Service, request: Request) -> DossierStatus:
    """Public: nothing personal. Codes are sequential, so each client may look up only so
    many (counted in a transaction of its own: a miss counts too)."""
    client = request.client.host if request.client else ""
    with side_transaction(request.app) as side:
        limits = RateLimiter(side)
        limits.check(DOSSIER_LOOKUP, client)
        limits.hit(DOSSIER_LOOKUP, client)
    return _public_status(service, code)


def _public_status(service: DossierService, code: str) -> DossierStatus:
    row, events = service.status(code)
    answer = DossierStatus.model_validate(row, from_attributes=True)
    answer.events = [PublicEvent.model_validate(e, from_attributes=True) for e in events]
    return answer


@router.get("/{dossier_id}", response_model=DossierView, summary="One dossier")
def get(dossier_id: DossierId, caller: Reader, service: Service) -> Response:
    """A dossier of one's own, or of one's department and wards, with its ETag and the moves
    the caller may make now."""
    row = service.get(caller, dossier_id)
    return _answer(row, actions=service.next_actions(caller, row))


@router.get("/{dossier_id}/events", response_model=list[EventView],
            summary="The dossier's history (staff see their notes too)")
def events(dossier_id: DossierId, caller: Reader, service: Service) -> list[EventView]:
    """Oldest first."""
    row = service.get(caller, dossier_id)
    return [EventView.model_validate(e, from_attributes=True)
            for e in service.history(caller, row)]


@router.get("/{dossier_id}/precheck", response_model=PrecheckPublic,
            summary="The planned building checked against the parcel's zoning and widening")
def precheck(dossier_id: DossierId, caller: Reader, service: Service) -> PrecheckPublic:
    """The same check the applicant saw before submitting, for the officer deciding."""
    return service.precheck(caller, dossier_id)


@router.get("/{dossier_id}/forms", response_model=list[FormView],
            summary="The forms its moves wrote: receipt (01), supplement requests (02), "
            "reasons (03), apologies with a new date (04)")
def forms(dossier_id: DossierId, caller: Reader, service: Service) -> list[FormView]:
    """For the applicant and the staff handling the dossier, oldest first."""
    row, events = service.forms(caller, dossier_id)
    return [FormView(form=str(e.detail["form"]), title_vi=FORM_TITLES[str(e.detail["form"])],
                     event_id=e.id, at=e.at, officer=e.actor_name, code=row.code,
                     procedure_id=row.procedure_id, parcel_key=row.parcel_key,
                     applicant_name=row.applicant["full_name"], detail=e.detail, note=e.note)
            for e in events]


@router.post("/{dossier_id}/actions", response_model=DossierView,
             summary="Move the dossier: receive, ask for a supplement, decide, return…",
             responses={409: {"description": "Not allowed from its status, or a guard refused"},
                        412: {"description": "If-Match is stale"},
                        428: {"description": "Staff must send If-Match"}})
def act(dossier_id: DossierId, body: DossierAction, caller: Handler, service: Service,
        idem: IdempotencyDep, request: Request, if_match: IfMatch = None) -> Response:
    """One transition of the table, through the engine (each move's policy decides who may:
    leaders approve and refuse)."""
    def move() -> Response:
        row, _ = service.act(caller, dossier_id, body.action, if_match, body.note, body.form(),
                             _origin(request))
        return _answer(row, actions=service.next_actions(caller, row))
    return idem.answer(move)


@router.patch("/{dossier_id}", response_model=DossierView, summary="Change my draft")
def update(dossier_id: DossierId, body: DossierUpdate, caller: Editor, service: Service,
           if_match: IfMatch = None) -> Response:
    """Applicant and answers of a draft (If-Match, when sent, must be its ETag)."""
    applicant = body.applicant.model_dump() if body.applicant else None
    return _answer(service.update(caller, dossier_id, applicant, body.answers, if_match))


@router.post("/{dossier_id}/submit", response_model=DossierView,
             summary="Submit my draft: it gets its code",
             responses={409: {"description": "A guard refused: each is named in `guards`"}})
def submit(dossier_id: DossierId, caller: Applicant, service: Service, idem: IdempotencyDep,
           if_match: IfMatch = None) -> Response:
    """Draft → awaiting receipt, with the code for the look-up."""
    return idem.answer(lambda: _answer(service.act(caller, dossier_id, "submit", if_match)[0]))


@router.post("/{dossier_id}/withdraw", response_model=DossierView,
             summary="Withdraw my dossier before it is received")
def withdraw(dossier_id: DossierId, caller: Applicant, service: Service,
             idem: IdempotencyDep, if_match: IfMatch = None) -> Response:
    """Awaiting receipt → withdrawn."""
    return idem.answer(lambda: _answer(
        service.act(caller, dossier_id, "withdraw", if_match)[0]))


@router.post("/{dossier_id}/supplement", response_model=DossierView,
             summary="Answer the supplement request on my dossier")
def supplement(dossier_id: DossierId, body: SupplementAnswer, caller: Applicant,
               service: Service, idem: IdempotencyDep, if_match: IfMatch = None) -> Response:
    """Supplement requested → supplemented; the clock runs again, the return date moves on by
    the working days it stood still."""
    return idem.answer(lambda: _answer(
        service.act(caller, dossier_id, "supplement", if_match, body.note)[0]))


supplements = Router(prefix="/api/supplements", tags=["dossiers"])
AccessCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{20,40}$",
                                 description="The code in the message's link")]


@supplements.get("/{access_code}", response_model=SupplementRequest,
                 summary="What the supplement request behind a message's link asks")
def supplement_request(access_code: AccessCode, _: Anyone,
                       service: Service) -> SupplementRequest:
    """The code opens this one request until it is answered or expires; nothing personal."""
    found = service.supplement_request(access_code)
    return SupplementRequest(code=found.code, procedure_name_vi=found.procedure_name_vi,
                             procedure_name_en=found.procedure_name_en,
                             missing=found.detail.get("missing", []),
                             due_on=found.detail["due_on"], expires_at=found.expires_at)


@supplements.post("/{access_code}", response_model=DossierStatus,
                  summary="Answer the supplement request from the message's link")
def answer_supplement(access_code: AccessCode, body: SupplementAnswer, _: Anyone,
                      service: Service, idem: IdempotencyDep) -> Response:
    """Supplement requested → supplemented; the answer is the dossier's public status."""
    def move() -> Response:
        row, _ = service.answer_supplement(access_code, body.note)
        return JSONResponse(_public_status(service, row.code).model_dump(mode="json"))
    return idem.answer(move)

"""HTTP routes of dossiers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from accounts.auth import authorize
from accounts.policy import Principal
from core.deps import ConnectionDep, IfMatch
from core.idempotency import IdempotencyDep
from permits.repository import DossierRepository
from permits.schemas import DossierCreate, DossierStatus, DossierUpdate, DossierView
from permits.service import DossierService
from permits.workflow import DOSSIER

router = APIRouter(prefix="/api/dossiers", tags=["dossiers"])

Creator = Annotated[Principal, Depends(authorize("dossier.create"))]
Reader = Annotated[Principal, Depends(authorize("dossier.read"))]
Editor = Annotated[Principal, Depends(authorize("dossier.edit"))]
Applicant = Annotated[Principal, Depends(authorize("dossier.apply"))]
Anyone = Annotated[Principal, Depends(authorize("dossier.lookup"))]
DossierId = Annotated[int, Path(ge=1, le=2**62)]


def _service(conn: ConnectionDep, request: Request) -> DossierService:
    return DossierService(DossierRepository(conn), request.app.state.settings.agency_code)


Service = Annotated[DossierService, Depends(_service)]


def _view(row: Any) -> DossierView:
    return DossierView.model_validate(row, from_attributes=True)


def _answer(row: Any, status: int = 200) -> Response:
    """The dossier as JSON with its ETag (send it back as If-Match)."""
    view = _view(row)
    return JSONResponse(view.model_dump(mode="json"), status_code=status,
                        headers={"ETag": DOSSIER.etag(view.id, row.version)})


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
            summary="Look a dossier up by its code (tra cứu hồ sơ): status and dates only")
def lookup(code: Annotated[str, Path(pattern=r"^[0-9A-Z.]{3,24}-\d{6}-\d{4}$")], _: Anyone,
           service: Service) -> DossierStatus:
    """Public: nothing personal."""
    return DossierStatus.model_validate(service.status(code), from_attributes=True)


@router.get("/{dossier_id}", response_model=DossierView, summary="One dossier")
def get(dossier_id: DossierId, caller: Reader, service: Service) -> Response:
    """A dossier of one's own, or of one's department and wards, with its ETag."""
    return _answer(service.get(caller, dossier_id))


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

"""HTTP routes of dossiers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from accounts.auth import authorize
from accounts.policy import Principal
from core.deps import ConnectionDep
from permits.repository import DossierRepository
from permits.schemas import DossierCreate, DossierStatus, DossierUpdate, DossierView
from permits.service import DossierService

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


@router.post("", status_code=201, response_model=DossierView,
             summary="Start a dossier (draft) from a parcel")
def create(body: DossierCreate, caller: Creator, service: Service) -> DossierView:
    """A draft only its applicant sees until it is submitted."""
    return _view(service.create(caller, body.procedure_id, body.parcel_key,
                                body.applicant.model_dump(), body.answers))


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
def get(dossier_id: DossierId, caller: Reader, service: Service) -> DossierView:
    """A dossier of one's own, or of one's department and wards."""
    return _view(service.get(caller, dossier_id))


@router.patch("/{dossier_id}", response_model=DossierView, summary="Change my draft")
def update(dossier_id: DossierId, body: DossierUpdate, caller: Editor,
           service: Service) -> DossierView:
    """Applicant and answers of a draft."""
    applicant = body.applicant.model_dump() if body.applicant else None
    return _view(service.update(caller, dossier_id, applicant, body.answers))


@router.post("/{dossier_id}/submit", response_model=DossierView,
             summary="Submit my draft: it gets its code")
def submit(dossier_id: DossierId, caller: Applicant, service: Service) -> DossierView:
    """Draft → awaiting receipt, with the code for the look-up."""
    return _view(service.act(caller, dossier_id, "submit"))


@router.post("/{dossier_id}/withdraw", response_model=DossierView,
             summary="Withdraw my dossier before it is received")
def withdraw(dossier_id: DossierId, caller: Applicant, service: Service) -> DossierView:
    """Awaiting receipt → withdrawn."""
    return _view(service.act(caller, dossier_id, "withdraw"))

"""HTTP routes of the procedure catalogue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Response

from accounts.auth import authorize
from accounts.policy import Principal
from core.deps import ConnectionDep, IfMatch
from core.routing import Router
from permits.procedures.repository import ProcedureRepository
from permits.procedures.schemas import (
    ProcedureField,
    ProcedurePublic,
    ProcedureSummary,
    ProcedureUpdate,
)
from permits.procedures.service import ProcedureService

router = Router(prefix="/api/procedures", tags=["procedures"])

Anyone = Annotated[Principal, Depends(authorize("public.read"))]
Editor = Annotated[Principal, Depends(authorize("procedure.edit"))]
ProcedureId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9-]{1,63}$",
                                  examples=["construction-permit-house"])]


async def _service(conn: ConnectionDep) -> ProcedureService:
    return ProcedureService(ProcedureRepository(conn))


Service = Annotated[ProcedureService, Depends(_service)]


def _answer(procedure: ProcedurePublic) -> Response:
    return Response(procedure.model_dump_json(), media_type="application/json",
                    headers={"ETag": procedure.etag})


@router.get("", response_model=list[ProcedureSummary],
            summary="The procedure catalogue (thủ tục hành chính)")
def search(
    _: Anyone, service: Service,
    q: Annotated[str | None, Query(max_length=100, examples=["giay phep xay dung"],
                                   description="Words of its name, accents optional")] = None,
    field: Annotated[ProcedureField | None, Query()] = None,
) -> list[Any]:
    """Every procedure whose name holds each word, by field."""
    return service.search(q, field.value if field else None)


@router.get("/{procedure_id}", response_model=ProcedurePublic, summary="One procedure, whole")
def get(procedure_id: ProcedureId, _: Anyone, service: Service) -> Response:
    """Its documents, its form (a JSON Schema), where it applies, what is not verified."""
    return _answer(service.get(procedure_id))


@router.patch("/{procedure_id}", response_model=ProcedurePublic,
              summary="Change a procedure (administrators; audited)")
def update(procedure_id: ProcedureId, body: ProcedureUpdate, caller: Editor,
           service: Service, if_match: IfMatch = None) -> Response:
    """If-Match with the ETag read (428 without, 412 when stale); each change is audited."""
    return _answer(service.update(procedure_id, body, if_match, caller.person_id))

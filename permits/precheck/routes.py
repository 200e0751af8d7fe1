"""HTTP route of the pre-check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from accounts.auth import authorize
from accounts.policy import Principal
from core.deps import ConnectionDep
from core.routing import Router
from permits.precheck.schemas import PrecheckPublic, PrecheckRequest
from permits.precheck.service import precheck_for

router = Router(prefix="/api/precheck", tags=["precheck"])

Anyone = Annotated[Principal, Depends(authorize("public.read"))]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such parcel"}}


@router.post("", response_model=PrecheckPublic, responses=NOT_FOUND,
             summary="Pre-check a planned building on a parcel (kiểm tra sơ bộ)",
             description="The parcel's limits (its card's `buildable`) and every way the "
             "answers of the construction-permit form go beyond them. Only the fields given "
             "are checked; `unchecked` names the rules the zoning gives no indicator for.")
def precheck(body: PrecheckRequest, _: Anyone, conn: ConnectionDep) -> PrecheckPublic:
    """Findings for the planned building, with the parcel's numbers and their blocks."""
    return precheck_for(conn, body.parcel_key, body.answers)

"""HTTP routes of the working-day calendar."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Response

from accounts.auth import authorize
from accounts.policy import Principal
from core.deps import ConnectionDep
from core.routing import Router
from permits.calendar.repository import CalendarRepository
from permits.calendar.schemas import (
    ClosureCreate,
    ClosurePublic,
    DueDatePublic,
    SwapCreate,
    SwapPublic,
    WorkingDaysPublic,
)
from permits.calendar.service import MAX_DAYS, CalendarService

router = Router(prefix="/api/calendar", tags=["calendar"])

Anyone = Annotated[Principal, Depends(authorize("public.read"))]
Editor = Annotated[Principal, Depends(authorize("calendar.edit"))]
Department = Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]{1,63}$",
                                         description="Department code: adds its closures",
                                         examples=["urban-management"])]
Year = Annotated[int | None, Query(ge=2000, le=2098)]


async def _service(conn: ConnectionDep) -> CalendarService:
    return CalendarService(CalendarRepository(conn))


Service = Annotated[CalendarService, Depends(_service)]


@router.get("/working-days", response_model=WorkingDaysPublic,
            summary="Working days of a window (ngày làm việc): days off with their reasons")
def working_days(
    _: Anyone, service: Service,
    start: Annotated[date, Query(alias="from", examples=["2026-02-13"])],
    end: Annotated[date, Query(alias="to", examples=["2026-02-27"],
                               description="Included; at most 2 years after 'from'")],
    department: Department = None,
) -> WorkingDaysPublic:
    """Weekends, public holidays, government swaps and the department's closures."""
    return service.window(start, end, department)


@router.get("/add", response_model=DueDatePublic,
            summary="Due date: n working days from receipt (ngày hẹn trả kết quả)")
def add(
    _: Anyone, service: Service,
    start: Annotated[date, Query(description="Day of receipt", examples=["2026-02-13"])],
    days: Annotated[int, Query(ge=0, le=MAX_DAYS, examples=[3])],
    department: Department = None,
) -> DueDatePublic:
    """Day 1 is the first working day after the day of receipt; a receipt on a non-working
    day counts from the next working day."""
    return service.due(start, days, department)


@router.get("/swaps", response_model=list[SwapPublic],
            summary="The government's swaps (ngày nghỉ bù, làm bù)")
def list_swaps(_: Editor, service: Service, year: Year = None) -> list[Any]:
    """By date."""
    return service.swaps(year)


@router.post("/swaps", status_code=201, response_model=SwapPublic, summary="Add a swap")
def add_swap(body: SwapCreate, caller: Editor, service: Service) -> Any:
    """One swap per date; a second one is refused (409)."""
    return service.add_swap(caller.person_id, body.date, body.kind.value, body.reason,
                            body.reference)


@router.delete("/swaps/{date}", status_code=204, response_class=Response,
               summary="Remove a swap")
def delete_swap(date: Annotated[date, Path()], caller: Editor, service: Service) -> Response:
    """The date becomes whatever the holiday list makes it."""
    service.delete_swap(caller.person_id, date)
    return Response(status_code=204)


@router.get("/closures", response_model=list[ClosurePublic],
            summary="Departments' own closures")
def list_closures(_: Editor, service: Service, department: Department = None,
                  year: Year = None) -> list[Any]:
    """By date and department."""
    return service.closures(department, year)


@router.post("/closures", status_code=201, response_model=ClosurePublic,
             summary="Close a department's office for a day")
def add_closure(body: ClosureCreate, caller: Editor, service: Service) -> Any:
    """One closure per department and date; a second one is refused (409)."""
    return service.add_closure(caller.person_id, body.department, body.date, body.reason)


@router.delete("/closures/{closure_id}", status_code=204, response_class=Response,
               summary="Remove a closure")
def delete_closure(closure_id: Annotated[int, Path(ge=1, le=2**62)], caller: Editor,
                   service: Service) -> Response:
    """The department's office is open that day again (unless the calendar says otherwise)."""
    service.delete_closure(caller.person_id, closure_id)
    return Response(status_code=204)

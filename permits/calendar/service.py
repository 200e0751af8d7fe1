"""Rules of the working-day calendar: windows, due dates, and administrators' overrides."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.workdays import CalendarRangeError, DayKind, WorkingCalendar
from permits.calendar.repository import CalendarRepository
from permits.calendar.schemas import DayPublic, DueDatePublic, WorkingDaysPublic

FIRST_YEAR, LAST_YEAR = 2000, 2098  # dates asked about; the package's lists reach 2100
MAX_WINDOW_YEARS = 2
MAX_DAYS = 365
# A due date of MAX_DAYS working days lies well within this many years after the start.
ADD_YEARS_AHEAD = 2


def _plus_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return date(d.year + years, 3, 1)


def _supported(d: date, field: str) -> None:
    if not FIRST_YEAR <= d.year <= LAST_YEAR:
        raise InvalidInputError(f"the calendar covers {FIRST_YEAR}–{LAST_YEAR}", field)


class CalendarService:
    """Working days for anyone; swaps and closures for administrators."""

    def __init__(self, repository: CalendarRepository) -> None:
        self.repo = repository

    def calendar(self, first_year: int, last_year: int,
                 department: str | None) -> WorkingCalendar:
        """Holidays of those years with the overrides stored for them."""
        swaps, closures = self.repo.overrides(first_year, last_year, department)
        return WorkingCalendar.for_years(first_year, last_year, swaps, closures, department)

    def window(self, start: date, end: date, department: str | None) -> WorkingDaysPublic:
        """The non-working days of a window (both ends included) and its working-day count."""
        _supported(start, "from")
        _supported(end, "to")
        if end < start:
            raise InvalidInputError("'to' is before 'from'", "to")
        if end > _plus_years(start, MAX_WINDOW_YEARS):
            raise InvalidInputError(f"the window is at most {MAX_WINDOW_YEARS} years", "to")
        days = list(self.calendar(start.year, end.year, department).days(start, end))
        return WorkingDaysPublic(
            start=start, end=end, department=department,
            working_days=sum(1 for d in days if d.working),
            non_working=[_day(d) for d in days if not d.working],
            working_weekend_days=[_day(d) for d in days
                                  if d.working and d.kind is not DayKind.WORKDAY],
        )

    def due(self, start: date, days: int, department: str | None) -> DueDatePublic:
        """The due date of something received on `start` with `days` working days."""
        _supported(start, "start")
        if not 0 <= days <= MAX_DAYS:
            raise InvalidInputError(f"days must be 0–{MAX_DAYS}", "days")
        cal = self.calendar(start.year, start.year + ADD_YEARS_AHEAD, department)
        try:
            return DueDatePublic(start=start, days=days, department=department,
                                 received=cal.add_working_days(start, 0),
                                 due=cal.add_working_days(start, days))
        except CalendarRangeError as exc:  # not reached with MAX_DAYS: a guard, not a rule
            raise InvalidInputError(str(exc), "days") from exc

    def swaps(self, year: int | None) -> list[Any]:
        """The stored swaps."""
        return self.repo.swaps(year)

    def add_swap(self, person_id: int | None, day: date, kind: str, reason: str,
                 reference: str | None) -> Any:
        """Store a swap; one per date."""
        _supported(day, "date")
        row = self.repo.add_swap(day, kind, reason, reference, person_id)
        if row is None:
            raise ConflictError(f"{day.isoformat()} has a swap already", "date")
        self.repo.record(person_id, change="swap_added", date=day.isoformat(), swap_kind=kind,
                         reference=reference)
        return row

    def delete_swap(self, person_id: int | None, day: date) -> None:
        """Remove the swap of a date."""
        if not self.repo.delete_swap(day):
            raise NotFoundError(f"no swap on {day.isoformat()}", "date")
        self.repo.record(person_id, change="swap_removed", date=day.isoformat())

    def closures(self, department: str | None, year: int | None) -> list[Any]:
        """The stored closures."""
        return self.repo.closures(department, year)

    def add_closure(self, person_id: int | None, department: str, day: date,
                    reason: str) -> Any:
        """Store a closure; one per department and date."""
        _supported(day, "date")
        row = self.repo.add_closure(department, day, reason, person_id)
        if row is None:
            raise ConflictError(f"{department} is closed on {day.isoformat()} already", "date")
        self.repo.record(person_id, change="closure_added", closure_id=int(row.id),
                         department=department, date=day.isoformat())
        return row

    def delete_closure(self, person_id: int | None, closure_id: int) -> None:
        """Remove a closure."""
        row = self.repo.closure(closure_id)
        if row is None or not self.repo.delete_closure(closure_id):
            raise NotFoundError(f"no closure {closure_id}", "closure_id")
        self.repo.record(person_id, change="closure_removed", closure_id=closure_id,
                         department=row.department, date=row.date.isoformat())


def _day(d: Any) -> DayPublic:
    return DayPublic(date=d.day, kind=d.kind, reason=d.reason, reference=d.reference)

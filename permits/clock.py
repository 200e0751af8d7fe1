"""A dossier's clock: the return date from the statutory time, in the department's working
days (holidays, the government's swaps, its closures) or in calendar days."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection

from core.workdays import WorkingCalendar
from permits.calendar.repository import CalendarRepository
from permits.calendar.service import CalendarService

# A statutory time reaches at most this far ahead: the calendar is loaded for these years.
YEARS_AHEAD = 2


def warm(day: date) -> None:
    """Build the public holidays of the years a receipt on `day` asks about, once per process:
    measured, a worker's first receipt paid ~240 ms for them (the package imports every
    country)."""
    WorkingCalendar.for_years(day.year - 1, day.year + YEARS_AHEAD)


class Clock:
    """Return dates and stopped days of dossiers."""

    def __init__(self, conn: Connection) -> None:
        self.calendars = CalendarService(CalendarRepository(conn))
        # Read once per clock (a request's, an import's): each reading queries the overrides.
        self._read: dict[tuple[int, str], WorkingCalendar] = {}

    def _calendar(self, start: date, department: str) -> WorkingCalendar:
        key = (start.year, department)
        if key not in self._read:
            self._read[key] = self.calendars.calendar(start.year - 1,
                                                      start.year + YEARS_AHEAD, department)
        return self._read[key]

    def due(self, received: date, days: int, day_kind: str, department: str) -> date:
        """The return date of a dossier received on `received`.

        Calendar days count every day, but a time that ends on a day the office is closed
        ends on its next working day (Civil Code 2015, art. 148).
        """
        cal = self._calendar(received, department)
        if day_kind == "calendar":
            end = received + timedelta(days=days)
            return end if cal.is_working_day(end) else cal.next_working_day(end)
        return cal.add_working_days(received, days)

    def stood(self, stopped: date, resumed: date, department: str) -> int:
        """Working days the clock stood still: after the day it stopped, up to the day it ran
        again."""
        return max(0, self._calendar(stopped, department).working_days_between(stopped, resumed))

    def extend(self, due: date, days: int, department: str) -> date:
        """The return date moved on by the working days the clock stood still."""
        return self._calendar(due, department).add_working_days(due, days) if days else due

    def working_days(self, first: date, last: date, department: str) -> list[date]:
        """The department's working days from `first` to `last`, both included."""
        cal = self._calendar(first, department)
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        return [d for d in days if cal.is_working_day(d)]

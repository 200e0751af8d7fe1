"""Working days in Vietnam: public holidays, the government's yearly swaps and a department's
own closures, and the statutory "n working days from receipt".

Pure: no database access. The overrides come in as values (see `core.workdays_repository`).

Precedence for one day, for one department:
1. a closure of that department: closed (it beats even a compensatory working Saturday);
2. a swap from the override table: `day_off` closed, `working_day` open (the table is the
   government's decision for that year and wins over the package's list);
3. a public holiday of the `holidays` package: closed;
4. a Saturday the package knows is worked in exchange (e.g. Sat 22 Aug 2026): open;
5. Saturday and Sunday: closed; any other day: open.

Counting convention (`add_working_days`): a dossier received on a non-working day counts as
received on the next working day; the due date is the n-th working day after that day of
receipt, so day 1 is the first working day after it and n = 0 is the day of receipt itself.
`working_days_between(a, b)` counts the working days d with a < d <= b (negative when b < a),
so that for a working day a, `working_days_between(a, add_working_days(a, n)) == n`.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import holidays

ONE_DAY = timedelta(days=1)
SATURDAY, SUNDAY = 5, 6
WEEKEND_NAMES = {SATURDAY: "Thứ Bảy", SUNDAY: "Chủ Nhật"}
LANGUAGE = "vi"


class SwapKind(enum.StrEnum):
    """What a government swap makes of a day."""

    DAY_OFF = "day_off"  # an extra day off
    WORKING_DAY = "working_day"  # a compensatory working day (usually a Saturday)


class DayKind(enum.StrEnum):
    """Why a day is (or is not) a working day."""

    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    SWAP = "swap"
    CLOSURE = "closure"


@dataclass(frozen=True)
class Swap:
    """A government swap: one day off or worked, with the decision behind it."""

    day: date
    kind: SwapKind
    reason: str
    reference: str | None = None


@dataclass(frozen=True)
class Closure:
    """A day a department's office is closed."""

    department: str
    day: date
    reason: str
    id: int | None = None


@dataclass(frozen=True)
class DayStatus:
    """One day of the calendar: working or not, and why."""

    day: date
    working: bool
    kind: DayKind
    reason: str | None = None
    reference: str | None = None


class CalendarRangeError(ValueError):
    """A date outside the years the calendar was built for."""

    def __init__(self, day: date, first_year: int, last_year: int) -> None:
        super().__init__(f"{day.isoformat()} is outside the calendar's years "
                         f"{first_year}–{last_year}")
        self.day = day


@functools.lru_cache(maxsize=64)
def _public_holidays(first_year: int, last_year: int) -> tuple[dict[date, str], frozenset[date]]:
    """Vietnam's public holidays and the weekend days worked instead, of those years: the law's,
    the same for every request (made once; building them costs milliseconds)."""
    # country_holidays("VN") is holidays.VN, with a typed signature.
    public = holidays.country_holidays("VN", years=range(first_year, last_year + 1),
                                      language=LANGUAGE)
    worked = frozenset(d for d in public.weekend_workdays if first_year <= d.year <= last_year)
    return dict(public.items()), worked


class WorkingCalendar:
    """Working days of one department (or of every office, when none is named) over a range of
    whole years."""

    def __init__(self, first_year: int, last_year: int, public_holidays: Mapping[date, str],
                 swaps: Iterable[Swap] = (), closures: Iterable[Closure] = (),
                 department: str | None = None, weekend_workdays: Iterable[date] = ()) -> None:
        if last_year < first_year:
            raise ValueError("last_year is before first_year")
        self.first_year, self.last_year = first_year, last_year
        self.department = department
        self._holidays = dict(public_holidays)
        self._weekend_workdays = frozenset(weekend_workdays)
        self._swaps = {s.day: s for s in swaps}
        self._closures = {c.day: c for c in closures
                          if department is not None and c.department == department}

    @classmethod
    def for_years(cls, first_year: int, last_year: int, swaps: Iterable[Swap] = (),
                  closures: Iterable[Closure] = (),
                  department: str | None = None) -> WorkingCalendar:
        """The calendar of Vietnam's public holidays (`holidays.VN`) with the overrides."""
        public, worked = _public_holidays(first_year, last_year)
        return cls(first_year, last_year, public, swaps, closures, department, worked)

    def _check(self, d: date) -> None:
        if not self.first_year <= d.year <= self.last_year:
            raise CalendarRangeError(d, self.first_year, self.last_year)

    def status(self, d: date) -> DayStatus:
        """Whether `d` is a working day, and why."""
        self._check(d)
        closure = self._closures.get(d)
        if closure is not None:
            return DayStatus(d, False, DayKind.CLOSURE, closure.reason)
        swap = self._swaps.get(d)
        if swap is not None:
            return DayStatus(d, swap.kind is SwapKind.WORKING_DAY, DayKind.SWAP, swap.reason,
                             swap.reference)
        holiday = self._holidays.get(d)
        if holiday is not None:
            return DayStatus(d, False, DayKind.HOLIDAY, holiday)
        weekday = d.weekday()
        if weekday in WEEKEND_NAMES:
            if d in self._weekend_workdays:
                return DayStatus(d, True, DayKind.SWAP, "Ngày làm bù")
            return DayStatus(d, False, DayKind.WEEKEND, WEEKEND_NAMES[weekday])
        return DayStatus(d, True, DayKind.WORKDAY)

    def is_working_day(self, d: date) -> bool:
        """Whether the office is open on `d`."""
        return self.status(d).working

    def exceptions(self) -> tuple[list[date], list[date]]:
        """The days of its years the weekday rule gets wrong: weekdays closed, weekend days
        worked (what SQL needs to count working days with `extract(isodow)`)."""
        closed: list[date] = []
        worked: list[date] = []
        for d in sorted({*self._holidays, *self._weekend_workdays, *self._swaps,
                         *self._closures}):
            if not self.first_year <= d.year <= self.last_year:
                continue
            working = self.is_working_day(d)
            if working == (d.weekday() in WEEKEND_NAMES):
                (worked if working else closed).append(d)
        return closed, worked

    def days(self, first: date, last: date) -> Iterator[DayStatus]:
        """Every day from `first` to `last`, both included."""
        d = first
        while d <= last:
            yield self.status(d)
            d += ONE_DAY

    def next_working_day(self, d: date) -> date:
        """The first working day after `d`."""
        d += ONE_DAY
        while not self.is_working_day(d):
            d += ONE_DAY
        return d

    def add_working_days(self, start: date, n: int) -> date:
        """The due date of something received on `start` with `n` working days to answer."""
        if n < 0:
            raise ValueError("n must not be negative")
        d = start if self.is_working_day(start) else self.next_working_day(start)
        for _ in range(n):
            d = self.next_working_day(d)
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b; the negative count when b is before a."""
        if b < a:
            return -self.working_days_between(b, a)
        self._check(a)
        return sum(1 for s in self.days(a + ONE_DAY, b) if s.working)

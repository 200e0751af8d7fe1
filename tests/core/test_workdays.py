"""The working-day calendar: holidays of `holidays` 0.109 (as DOMAIN.md lists them for 2026 and
2027), government swaps, departments' closures, and the counting convention.

Expected dates are worked out by hand from a wall calendar (1 Jan 2026 is a Thursday, 1 Feb
2026 a Sunday, 1 Aug 2026 a Saturday, 1 Feb 2027 a Monday), never by the code under test.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Connection

from core.workdays import (
    CalendarRangeError,
    Closure,
    DayKind,
    Swap,
    SwapKind,
    WorkingCalendar,
)
from core.workdays_repository import load_overrides

URBAN, ECONOMY = "urban-management", "economy"
CAL = WorkingCalendar.for_years(2026, 2027)


def d(text: str) -> date:
    return date.fromisoformat(text)


def off_days(cal: WorkingCalendar, first: str, last: str) -> list[str]:
    return [s.day.isoformat() for s in cal.days(d(first), d(last)) if not s.working]


def test_holidays_2026_and_2027_as_the_pinned_package_gives_them() -> None:
    weekdays_off = {
        "2026-01-01", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",
        "2026-04-27", "2026-04-30", "2026-05-01", "2026-08-31", "2026-09-01", "2026-09-02",
        "2026-11-24",
        "2027-01-01", "2027-02-04", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10",
        "2027-04-16", "2027-04-30", "2027-05-03", "2027-09-02", "2027-09-03", "2027-11-24",
    }
    found = {s.day.isoformat() for s in CAL.days(d("2026-01-01"), d("2027-12-31"))
             if not s.working and s.day.weekday() < 5}
    assert found == weekdays_off


def test_tet_2026() -> None:
    assert off_days(CAL, "2026-02-12", "2026-02-24") == [
        "2026-02-14", "2026-02-15",  # weekend
        "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",  # Tết
        "2026-02-21", "2026-02-22",  # weekend
    ]
    assert CAL.status(d("2026-02-17")).kind is DayKind.HOLIDAY
    assert CAL.status(d("2026-02-17")).reason == "Tết Nguyên Đán"
    # Fri 13 Feb: day 1 Mon 23, day 2 Tue 24, day 3 Wed 25.
    assert CAL.add_working_days(d("2026-02-13"), 3) == d("2026-02-25")
    assert CAL.add_working_days(d("2026-02-13"), 1) == d("2026-02-23")
    assert CAL.add_working_days(d("2026-02-13"), 0) == d("2026-02-13")
    assert CAL.working_days_between(d("2026-02-13"), d("2026-02-27")) == 5


def test_receipt_on_a_non_working_day_counts_from_the_next_working_day() -> None:
    # Received Sat 14 Feb 2026 (or on Tết): received as of Mon 23; day 1 is Tue 24.
    assert CAL.add_working_days(d("2026-02-14"), 0) == d("2026-02-23")
    assert CAL.add_working_days(d("2026-02-14"), 1) == d("2026-02-24")
    assert CAL.add_working_days(d("2026-02-18"), 3) == d("2026-02-26")


def test_tet_2027() -> None:
    assert off_days(CAL, "2027-02-03", "2027-02-11") == [
        "2027-02-04", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09",
        "2027-02-10"]
    assert CAL.add_working_days(d("2027-02-03"), 1) == d("2027-02-11")
    assert CAL.add_working_days(d("2027-02-03"), 3) == d("2027-02-15")
    # February 2027: 20 weekdays, five of them Tết.
    assert CAL.working_days_between(d("2027-01-31"), d("2027-02-28")) == 15


def test_hung_kings_and_30_4_1_5_2026() -> None:
    # Sun 26 Apr is observed on Mon 27; Thu 30 Apr and Fri 1 May are off.
    assert CAL.add_working_days(d("2026-04-24"), 1) == d("2026-04-28")
    assert CAL.add_working_days(d("2026-04-28"), 2) == d("2026-05-04")


def test_2_september_and_its_neighbours() -> None:
    # 2026: Mon 31 Aug off in exchange for Sat 22 Aug worked; Tue 1 and Wed 2 Sep off.
    assert off_days(CAL, "2026-08-28", "2026-09-03") == [
        "2026-08-29", "2026-08-30", "2026-08-31", "2026-09-01", "2026-09-02"]
    assert CAL.is_working_day(d("2026-08-22"))
    assert not CAL.is_working_day(d("2026-08-29"))
    assert CAL.add_working_days(d("2026-08-28"), 1) == d("2026-09-03")
    # Fri 21 → Fri 28 Aug: Sat 22 and Mon 24–Fri 28.
    assert CAL.working_days_between(d("2026-08-21"), d("2026-08-28")) == 6
    # 2027: Thu 2 and Fri 3 Sep off.
    assert CAL.add_working_days(d("2027-09-01"), 1) == d("2027-09-06")


NEW_YEAR_SWAPS = [
    Swap(d("2026-01-02"), SwapKind.DAY_OFF, "Nghỉ bù Tết Dương lịch", "TB 1/2025"),
    Swap(d("2026-01-10"), SwapKind.WORKING_DAY, "Làm bù ngày 2/1", "TB 1/2025"),
]


def test_a_government_swap_moves_a_day_off_and_makes_a_saturday_worked() -> None:
    cal = WorkingCalendar.for_years(2026, 2026, NEW_YEAR_SWAPS)
    assert not cal.is_working_day(d("2026-01-02"))
    assert cal.is_working_day(d("2026-01-10"))
    assert not cal.is_working_day(d("2026-01-03"))  # an ordinary Saturday stays off
    assert cal.status(d("2026-01-10")).reference == "TB 1/2025"
    # Wed 7 Jan: Thu 8, Fri 9, then the worked Saturday 10.
    assert cal.add_working_days(d("2026-01-07"), 3) == d("2026-01-10")
    assert CAL.add_working_days(d("2026-01-07"), 3) == d("2026-01-12")
    # Thu 1 → Fri 9 Jan: Mon 5–Fri 9 only (Fri 2 is off now).
    assert cal.working_days_between(d("2026-01-01"), d("2026-01-09")) == 5
    assert CAL.working_days_between(d("2026-01-01"), d("2026-01-09")) == 6


def test_a_closure_applies_to_its_department_only() -> None:
    closures = [Closure(URBAN, d("2026-03-09"), "Chuyển trụ sở"),
                Closure(URBAN, d("2026-01-10"), "Kiểm kê")]
    urban = WorkingCalendar.for_years(2026, 2026, NEW_YEAR_SWAPS, closures, URBAN)
    economy = WorkingCalendar.for_years(2026, 2026, NEW_YEAR_SWAPS, closures, ECONOMY)
    everyone = WorkingCalendar.for_years(2026, 2026, NEW_YEAR_SWAPS, closures)
    assert urban.status(d("2026-03-09")).kind is DayKind.CLOSURE
    assert urban.add_working_days(d("2026-03-06"), 1) == d("2026-03-10")
    assert economy.add_working_days(d("2026-03-06"), 1) == d("2026-03-09")
    assert everyone.add_working_days(d("2026-03-06"), 1) == d("2026-03-09")
    # The closure beats the compensatory working Saturday, for that department only.
    assert not urban.is_working_day(d("2026-01-10"))
    assert economy.is_working_day(d("2026-01-10"))


def test_working_days_between_edges_and_symmetry() -> None:
    fri, sat, sun, mon = d("2026-03-06"), d("2026-03-07"), d("2026-03-08"), d("2026-03-09")
    assert CAL.working_days_between(fri, fri) == 0
    assert CAL.working_days_between(sat, sun) == 0
    assert CAL.working_days_between(fri, sat) == 0
    assert CAL.working_days_between(sun, mon) == 1
    assert CAL.working_days_between(d("2026-03-05"), fri) == 1
    assert CAL.working_days_between(fri, d("2026-03-13")) == 5
    assert CAL.working_days_between(d("2026-03-13"), fri) == -5
    for a, b in [(d("2026-02-10"), d("2026-03-02")), (d("2026-12-20"), d("2027-02-15"))]:
        assert CAL.working_days_between(a, b) == -CAL.working_days_between(b, a)
    # 2026 has 261 weekdays, 13 of them holidays (Thu 1 Jan among them), and Sat 22 Aug is
    # worked: 249 working days, none of them 1 Jan, which the count leaves out.
    assert CAL.working_days_between(d("2026-01-01"), d("2026-12-31")) == 261 - 13 + 1


def test_due_date_and_count_agree() -> None:
    start = d("2026-01-01")
    for offset in range(0, 365, 5):
        a = start + timedelta(days=offset)
        if not CAL.is_working_day(a):
            continue
        for n in (0, 1, 3, 15):
            assert CAL.working_days_between(a, CAL.add_working_days(a, n)) == n


def test_refuses_what_it_cannot_answer() -> None:
    with pytest.raises(ValueError, match="negative"):
        CAL.add_working_days(d("2026-03-06"), -1)
    with pytest.raises(CalendarRangeError):
        CAL.is_working_day(d("2028-01-03"))
    with pytest.raises(CalendarRangeError):
        CAL.add_working_days(d("2027-12-30"), 3)  # runs into 2028, which was not loaded


def test_pure_calendar_from_plain_values() -> None:
    cal = WorkingCalendar(2030, 2030, {d("2030-06-05"): "Ngày thử"})
    assert not cal.is_working_day(d("2030-06-05"))  # a Wednesday
    assert cal.add_working_days(d("2030-06-04"), 1) == d("2030-06-06")


def _swap(conn: Connection, day: str, kind: str) -> None:
    conn.exec_driver_sql("INSERT INTO working_day_swap (day, kind, reason) "
                         "VALUES (%(d)s, %(k)s, 'thử')", {"d": day, "k": kind})


def test_load_overrides_by_years_and_department(conn: Connection) -> None:
    _swap(conn, "2025-12-29", "day_off")
    _swap(conn, "2026-01-02", "day_off")
    _swap(conn, "2027-01-09", "working_day")
    _swap(conn, "2028-01-03", "day_off")
    for dept, day in [(URBAN, "2026-03-09"), (ECONOMY, "2026-03-10"), (URBAN, "2028-03-09")]:
        conn.exec_driver_sql("INSERT INTO department_closure (department, day, reason) "
                             "VALUES (%(p)s, %(d)s, 'thử')", {"p": dept, "d": day})
    swaps, closures = load_overrides(conn, 2026, 2027, URBAN)
    assert [(s.day.isoformat(), s.kind) for s in swaps] == [
        ("2026-01-02", SwapKind.DAY_OFF), ("2027-01-09", SwapKind.WORKING_DAY)]
    assert [(c.department, c.day.isoformat()) for c in closures] == [(URBAN, "2026-03-09")]
    assert load_overrides(conn, 2026, 2027)[1] == []


def test_the_tables_refuse_bad_rows(conn: Connection) -> None:
    from sqlalchemy.exc import IntegrityError

    for sql in ["INSERT INTO working_day_swap (day, kind, reason) "
                "VALUES ('2026-05-04', 'holiday', 'x')",
                "INSERT INTO working_day_swap (day, kind, reason) "
                "VALUES ('2026-05-04', 'day_off', '  ')"]:
        savepoint = conn.begin_nested()
        with pytest.raises(IntegrityError):
            conn.exec_driver_sql(sql)
        savepoint.rollback()
    _swap(conn, "2026-05-04", "day_off")
    savepoint = conn.begin_nested()
    with pytest.raises(IntegrityError):
        _swap(conn, "2026-05-04", "working_day")
    savepoint.rollback()
    conn.exec_driver_sql("INSERT INTO department_closure (department, day, reason) "
                         "VALUES ('economy', '2026-05-05', 'x')")
    savepoint = conn.begin_nested()
    with pytest.raises(IntegrityError):
        conn.exec_driver_sql("INSERT INTO department_closure (department, day, reason) "
                             "VALUES ('economy', '2026-05-05', 'y')")
    savepoint.rollback()

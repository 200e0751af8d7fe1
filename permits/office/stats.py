"""The on-time figures of the office, per field, procedure, ward, officer or department and
period, computed from the workflows' events (sql/*_stats.sql), in the shape of the district's
proposal: "household business registration: 1538/1618 = 95 %"."""

from __future__ import annotations

import calendar
import io
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import xlsxwriter
from sqlalchemy import Connection

from accounts.policy import Principal, check, reach
from core.errors import InvalidInputError
from permits.departments import DEPARTMENT_NAMES, FIELD_NAMES
from permits.office.repository import OfficeRepository
from permits.workflow import today

STATS = "office.stats"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SQL = {kind: (Path(__file__).parent / "sql" / f"{name}_stats.sql").read_text()
       for kind, name in (("dossiers", "dossier"), ("feedback", "feedback"))}
GROUPS = ("field", "procedure", "ward", "officer", "department")
PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>0[1-9]|1[0-2])|-Q(?P<quarter>[1-4])"
                    r"|-H(?P<half>[12]))?$")


def period(text: str) -> tuple[date, date]:
    """The days of "2026", "2026-06", "2026-Q2" or "2026-H1", both ends included."""
    found = PERIOD.match(text)
    if found is None:
        raise InvalidInputError("a period such as 2026, 2026-06, 2026-Q2 or 2026-H1",
                                "period")
    year = int(found["year"])
    if found["month"]:
        first_month = last_month = int(found["month"])
    elif found["quarter"]:
        first_month = 3 * int(found["quarter"]) - 2
        last_month = first_month + 2
    elif found["half"]:
        first_month = 6 * int(found["half"]) - 5
        last_month = first_month + 5
    else:
        first_month, last_month = 1, 12
    return (date(year, first_month, 1),
            date(year, last_month, calendar.monthrange(year, last_month)[1]))


@dataclass(frozen=True)
class Row:
    """One group's figures."""

    key: str | None
    name: str | None
    received: int
    handled: int
    on_time: int
    late: int
    overdue: int
    supplement_days: int

    @property
    def rate(self) -> float | None:
        """Handled on time, of those handled (None when none were)."""
        return self.on_time / self.handled if self.handled else None

    @property
    def said(self) -> str:
        """As the proposal writes it: 1538/1618 = 95 %."""
        if not self.handled:
            return "—"
        return f"{self.on_time}/{self.handled} = {round(100 * self.on_time / self.handled)} %"


def figures(conn: Connection, principal: Principal, first: date, last: date,
            group: str) -> dict[str, list[Row]]:
    """Dossiers' and feedback's figures of the period, grouped, for what the caller reaches."""
    check(principal, STATS)
    if group not in GROUPS:
        raise InvalidInputError(f"group by one of {', '.join(GROUPS)}", "group")
    if last < first:
        raise InvalidInputError("the period ends before it begins", "to")
    reached = reach(principal, STATS)
    params: dict[str, Any] = {"first": first, "last": last, "today": today(),
                              "all": reached.everything, "depts": list(reached.departments),
                              "group": group}
    found = {kind: [Row(**r._mapping) for r in conn.exec_driver_sql(sql, params)]
             for kind, sql in SQL.items()}
    names = _names(conn, group, {r.key for rows in found.values() for r in rows if r.key})
    return {kind: [replace(r, name=r.name or names.get(r.key or "")) for r in rows]
            for kind, rows in found.items()}


def _names(conn: Connection, group: str, keys: set[str]) -> dict[str, str]:
    """What a group's keys are called: a ward's name (today's), an officer's, a field's or a
    department's in Vietnamese (a procedure's comes with its row)."""
    if group == "field":
        return FIELD_NAMES
    if group == "department":
        return DEPARTMENT_NAMES
    repo = OfficeRepository(conn)
    if group == "ward":
        return repo.ward_names(sorted(keys))
    if group == "officer":
        return repo.person_names(sorted(int(k) for k in keys if k.isdigit()))
    return {}


def xlsx(title: str, header: list[str], rows: list[list[Any]]) -> bytes:
    """One sheet: a title, the header in bold, the rows (the rate as a percentage)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Thống kê")
    bold, percent = book.add_format({"bold": True}), book.add_format({"num_format": "0%"})
    sheet.write(0, 0, f"Thống kê giải quyết hồ sơ và phản ánh {title}", bold)
    sheet.write_row(2, 0, header, bold)
    rate = header.index("rate") if "rate" in header else -1
    for i, row in enumerate(rows, start=3):
        for j, value in enumerate(row):
            sheet.write(i, j, value, percent if j == rate else None)
    sheet.set_column(0, len(header) - 1, 14)
    book.close()
    return out.getvalue()

"""Administrators' reads and writes of the calendar's overrides (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert

from accounts.repository import audit
from core.workdays import Closure, Swap
from core.workdays_repository import closure_table, load_overrides, swap_table

SWAP_COLUMNS = (swap_table.c.day.label("date"), swap_table.c.kind, swap_table.c.reason,
                swap_table.c.reference, swap_table.c.created_at)
CLOSURE_COLUMNS = (closure_table.c.id, closure_table.c.department,
                   closure_table.c.day.label("date"), closure_table.c.reason,
                   closure_table.c.created_at)


def _year(column: Any, year: int | None) -> sa.ColumnElement[bool]:
    if year is None:
        return sa.true()
    return column.between(date(year, 1, 1), date(year, 12, 31))  # type: ignore[no-any-return]


class CalendarRepository:
    """The swap and closure tables."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def overrides(self, first_year: int, last_year: int,
                  department: str | None) -> tuple[list[Swap], list[Closure]]:
        """What the calendar of those years needs from the database."""
        return load_overrides(self.conn, first_year, last_year, department)

    def swaps(self, year: int | None) -> list[Any]:
        """Swaps, by date."""
        return list(self.conn.execute(
            sa.select(*SWAP_COLUMNS).where(_year(swap_table.c.day, year))
            .order_by(swap_table.c.day)).all())

    def add_swap(self, day: date, kind: str, reason: str, reference: str | None,
                 person_id: int | None) -> Any:
        """The new swap, or None when the date has one already."""
        return self.conn.execute(
            insert(swap_table).values(day=day, kind=kind, reason=reason, reference=reference,
                                      created_by=person_id)
            .on_conflict_do_nothing(index_elements=[swap_table.c.day])
            .returning(*SWAP_COLUMNS)).first()

    def delete_swap(self, day: date) -> bool:
        """Whether there was a swap on that date."""
        return self.conn.execute(
            sa.delete(swap_table).where(swap_table.c.day == day)).rowcount > 0

    def closures(self, department: str | None, year: int | None) -> list[Any]:
        """Closures, by date and department."""
        where = [_year(closure_table.c.day, year)]
        if department is not None:
            where.append(closure_table.c.department == department)
        return list(self.conn.execute(
            sa.select(*CLOSURE_COLUMNS).where(*where)
            .order_by(closure_table.c.day, closure_table.c.department)).all())

    def add_closure(self, department: str, day: date, reason: str,
                    person_id: int | None) -> Any:
        """The new closure, or None when the department has one on that date already."""
        return self.conn.execute(
            insert(closure_table).values(department=department, day=day, reason=reason,
                                         created_by=person_id)
            .on_conflict_do_nothing(index_elements=[closure_table.c.department,
                                                    closure_table.c.day])
            .returning(*CLOSURE_COLUMNS)).first()

    def record(self, person_id: int | None, **detail: object) -> None:
        """An audit event saying what changed (the request's own event names only the route)."""
        audit(self.conn, "calendar_change", person_id, **detail)

    def closure(self, closure_id: int) -> Any:
        """One closure, or None."""
        return self.conn.execute(
            sa.select(*CLOSURE_COLUMNS).where(closure_table.c.id == closure_id)).first()

    def delete_closure(self, closure_id: int) -> bool:
        """Whether there was such a closure."""
        return self.conn.execute(
            sa.delete(closure_table).where(closure_table.c.id == closure_id)).rowcount > 0

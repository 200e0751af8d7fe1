"""The override tables of the working-day calendar and the query that loads them (SQLAlchemy
Core, bound parameters)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy import Connection

from core.workdays import Closure, Swap, SwapKind

metadata = sa.MetaData()

swap_table = sa.Table(
    "working_day_swap", metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("reference", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("created_by", sa.BigInteger),
)

closure_table = sa.Table(
    "department_closure", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("department", sa.String(64), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("created_by", sa.BigInteger),
)


def _years(table: sa.Table, first_year: int, last_year: int) -> sa.ColumnElement[bool]:
    return table.c.day.between(date(first_year, 1, 1), date(last_year, 12, 31))


def load_overrides(conn: Connection, first_year: int, last_year: int,
                   department: str | None = None) -> tuple[list[Swap], list[Closure]]:
    """The swaps of those years, and the closures of the department (none without one)."""
    swaps = [Swap(r.day, SwapKind(r.kind), r.reason, r.reference) for r in conn.execute(
        sa.select(swap_table.c.day, swap_table.c.kind, swap_table.c.reason,
                  swap_table.c.reference)
        .where(_years(swap_table, first_year, last_year)).order_by(swap_table.c.day))]
    closures: list[Closure] = []
    if department is not None:
        closures = [Closure(r.department, r.day, r.reason, r.id) for r in conn.execute(
            sa.select(closure_table.c.id, closure_table.c.department, closure_table.c.day,
                      closure_table.c.reason)
            .where(_years(closure_table, first_year, last_year),
                   closure_table.c.department == department)
            .order_by(closure_table.c.day))]
    return swaps, closures

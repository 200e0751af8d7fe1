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


# Built once: a statement made per call cost more Python than its round trip.
_FIRST, _LAST, _DEPARTMENT = (sa.bindparam("first", type_=sa.Date),
                              sa.bindparam("last", type_=sa.Date),
                              sa.bindparam("department", type_=sa.String))
OVERRIDES = sa.union_all(
    sa.select(
        sa.literal("swap").label("what"), swap_table.c.day, swap_table.c.kind,
        swap_table.c.reason, swap_table.c.reference,
        sa.null().label("department"), sa.null().label("id"),
    ).where(swap_table.c.day.between(_FIRST, _LAST)),
    sa.select(
        sa.literal("closure").label("what"), closure_table.c.day, sa.null(),
        closure_table.c.reason, sa.null(), closure_table.c.department, closure_table.c.id,
    ).where(closure_table.c.day.between(_FIRST, _LAST),
            closure_table.c.department == _DEPARTMENT),
).order_by("day")


def load_overrides(conn: Connection, first_year: int, last_year: int,
                   department: str | None = None) -> tuple[list[Swap], list[Closure]]:
    """The swaps of those years, and the closures of the department (none without one): one
    round trip, on every dossier received."""
    rows = conn.execute(OVERRIDES, {"first": date(first_year, 1, 1),
                                    "last": date(last_year, 12, 31),
                                    "department": department}).all()
    swaps = [Swap(r.day, SwapKind(r.kind), r.reason, r.reference) for r in rows
             if r.what == "swap"]
    closures = [Closure(r.department, r.day, r.reason, r.id) for r in rows
                if r.what == "closure"]
    return swaps, closures

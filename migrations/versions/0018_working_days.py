"""Working days: the government's yearly swaps (extra days off, compensatory working days) and
a department's own closures, over the public holidays the `holidays` package gives.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

NOW = sa.func.now()


def upgrade() -> None:
    op.create_table(
        "working_day_swap",
        sa.Column("day", sa.Date, primary_key=True),  # one swap per date
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        # The decision or notice behind it, e.g. "Thông báo 6150/TB-LĐTBXH".
        sa.Column("reference", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.CheckConstraint("kind IN ('day_off', 'working_day')", name="known_kind"),
        sa.CheckConstraint("btrim(reason) <> ''", name="reason_given"),
    )
    op.create_table(
        "department_closure",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.UniqueConstraint("department", "day", name="uq_department_closure_department_day"),
        sa.CheckConstraint("btrim(reason) <> ''", name="reason_given"),
        sa.CheckConstraint("btrim(department) <> ''", name="department_given"),
    )
    op.create_index("ix_department_closure_day", "department_closure", ["day"])


def downgrade() -> None:
    op.drop_table("department_closure")
    op.drop_table("working_day_swap")

"""The office's map reports (the workload and feedback-density map of a period), kept as the
pages they are so that a link to one can be shared; one per kind, period and department (the
district's has none), made again in place.

Revision ID: 0037
Revises: 0036
"""

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "office_report",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("department", sa.String(64)),
        sa.Column("html", sa.Text, nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("made_by", sa.BigInteger, sa.ForeignKey("person.id")),
    )
    op.execute("CREATE UNIQUE INDEX ux_office_report ON office_report "
               "(kind, period, (coalesce(department, '')))")


def downgrade() -> None:
    op.drop_table("office_report")

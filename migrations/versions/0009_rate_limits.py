"""Rate-limit hits, shared by every API worker.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_hit",
        sa.Column("id", sa.BigInteger, primary_key=True),
        # A hash of (rule, client address, identifier): no personal data kept in clear.
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_rate_hit_key_at", "rate_hit", ["key", "at"])


def downgrade() -> None:
    op.drop_table("rate_hit")

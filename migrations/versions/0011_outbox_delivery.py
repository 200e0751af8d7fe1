"""Outbox delivery: attempts and the last error of each message, for sender adapters.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox_message",
                  sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
    op.add_column("outbox_message", sa.Column("last_error", sa.Text))
    op.create_index("ix_outbox_message_pending", "outbox_message", ["id"],
                    postgresql_where=sa.text("sent_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_outbox_message_pending", "outbox_message")
    op.drop_column("outbox_message", "last_error")
    op.drop_column("outbox_message", "attempts")

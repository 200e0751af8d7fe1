"""A kept Idempotency-Key answer's `status` is an HTTP status, not a workflow's: named so.

Revision ID: 0028
Revises: 0027
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("idempotency_key", "status", new_column_name="http_status")


def downgrade() -> None:
    op.alter_column("idempotency_key", "http_status", new_column_name="status")

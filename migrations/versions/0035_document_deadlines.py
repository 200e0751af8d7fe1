"""The deadline an incoming document's text sets (read when it is entered, for the officer to
confirm as a task with reminders).

Revision ID: 0035
Revises: 0034
"""

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("office_document", sa.Column("deadline_on", sa.Date, nullable=True))


def downgrade() -> None:
    op.drop_column("office_document", "deadline_on")

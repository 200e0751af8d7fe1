"""The dossier's life after submission: received with its return date, the clock stopped
while a supplement is owed, decided, its result returned; overdue until an apology gives a
new date; one access code per supplement request, for the link in the applicant's message.

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
BEFORE = ("draft", "awaiting_receipt", "received", "in_processing", "supplement_requested",
          "refused", "overdue", "result_ready", "result_returned", "withdrawn", "cancelled")
NEW = ("supplemented", "approved")


def _statuses(names: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{n}'" for n in names) + ")"


def upgrade() -> None:
    op.drop_constraint("known_status", "dossier", type_="check")
    op.create_check_constraint("known_status", "dossier", _statuses(BEFORE + NEW))
    # The day the office received it, the day the result is due (the receipt's return date),
    # the day the clock stopped (a supplement owed), the working days it stood still so far.
    op.add_column("dossier", sa.Column("received_at", sa.DateTime(timezone=True)))
    op.add_column("dossier", sa.Column("due_on", sa.Date))
    op.add_column("dossier", sa.Column("clock_stopped_on", sa.Date))
    op.add_column("dossier", sa.Column("stopped_days", sa.Integer, nullable=False,
                                       server_default="0"))
    op.add_column("dossier", sa.Column("decided_at", sa.DateTime(timezone=True)))
    op.add_column("dossier", sa.Column("returned_at", sa.DateTime(timezone=True)))
    op.create_index("ix_dossier_due", "dossier", ["due_on"],
                    postgresql_where=sa.text("due_on IS NOT NULL"))
    op.create_table(
        "dossier_access",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("dossier_id", sa.BigInteger, sa.ForeignKey("dossier.id"), nullable=False),
        # The supplement request it answers; the code is good until then or until it expires.
        sa.Column("event_id", sa.BigInteger, sa.ForeignKey("dossier_event.id"), nullable=False),
        # Only the code's SHA-256 is kept: the code itself is in the applicant's message.
        sa.Column("code_hash", sa.LargeBinary, nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_dossier_access_dossier", "dossier_access", ["dossier_id"])


def downgrade() -> None:
    op.drop_table("dossier_access")
    op.drop_index("ix_dossier_due", "dossier")
    for column in ("returned_at", "decided_at", "stopped_days", "clock_stopped_on", "due_on",
                   "received_at"):
        op.drop_column("dossier", column)
    op.drop_constraint("known_status", "dossier", type_="check")
    # Rows standing in the new states keep them: the old check holds for the rest.
    op.execute(f"ALTER TABLE dossier ADD CONSTRAINT known_status CHECK ({_statuses(BEFORE)}) "
               "NOT VALID")

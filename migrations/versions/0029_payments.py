"""Fees paid online (Decree 42/2022's toàn trình): a payment per attempt, on the workflow
engine (pending, paid, failed, cancelled, refunding, refunded), its events, and every notice
the gateway sent, kept once (a replay finds its twin and changes nothing).

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
VISIBILITIES = "'public', 'applicant', 'staff', 'internal'"
STATUSES = "'pending', 'paid', 'failed', 'cancelled', 'refunding', 'refunded'"
OUTCOMES = "'paid', 'failed', 'cancelled', 'refunded'"


def upgrade() -> None:
    op.create_table(
        "payment",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("dossier_id", sa.BigInteger, sa.ForeignKey("dossier.id"), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        # What the gateway is told: random, so that a payment's number says nothing of another.
        sa.Column("reference", sa.String(40), nullable=False, unique=True),
        # The procedure's fee when the payment began: never a figure the client sent.
        sa.Column("amount_vnd", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("provider_txn", sa.String(64)),  # the gateway's own number, once it paid
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("paid_at", sa.DateTime(timezone=True)),
        sa.Column("refund_asked_at", sa.DateTime(timezone=True)),
        sa.Column("refunded_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("amount_vnd > 0", name="positive_amount"),
        sa.CheckConstraint(f"status IN ({STATUSES})", name="known_status"),
    )
    op.create_index("ix_payment_dossier", "payment", ["dossier_id"])
    # The refund sweep's work: payments whose money is to go back.
    op.create_index("ix_payment_refunding", "payment", ["status"],
                    postgresql_where=sa.text("status = 'refunding'"))
    op.create_table(
        "payment_event",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("payment_id", sa.BigInteger, sa.ForeignKey("payment.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("actor_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("visibility", sa.String(12), nullable=False, server_default="applicant"),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
        sa.CheckConstraint(f"visibility IN ({VISIBILITIES})", name="known_visibility"),
    )
    op.create_index("ix_payment_event_payment", "payment_event", ["payment_id"])
    op.execute("CREATE TRIGGER payment_event_no_change BEFORE UPDATE OR DELETE ON payment_event "
               "FOR EACH ROW EXECUTE FUNCTION append_only()")
    op.execute("CREATE TRIGGER payment_status_by_engine BEFORE INSERT OR UPDATE OF status "
               "ON payment FOR EACH ROW EXECUTE FUNCTION status_by_engine()")
    op.create_table(
        "payment_notice",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("payment_id", sa.BigInteger, sa.ForeignKey("payment.id"), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("provider_txn", sa.String(64), nullable=False),
        sa.Column("amount_vnd", sa.Integer, nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),  # when the gateway says it happened
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=NOW),
        # What it did: moved the payment, or nothing (late, out of order).
        sa.Column("applied", sa.String(32), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.CheckConstraint(f"outcome IN ({OUTCOMES})", name="known_outcome"),
        # The same notice twice is one notice.
        sa.UniqueConstraint("payment_id", "outcome", "provider_txn", name="one_notice"),
    )
    op.execute("CREATE TRIGGER payment_notice_no_change BEFORE UPDATE OR DELETE ON "
               "payment_notice FOR EACH ROW EXECUTE FUNCTION append_only()")


def downgrade() -> None:
    op.drop_table("payment_notice")
    op.drop_table("payment_event")
    op.drop_table("payment")

"""Accounts: people, roles, one-time codes, web sessions, notification outbox, audit events.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NOW = sa.func.now()


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("phone", sa.String(16), unique=True),
        sa.Column("email", sa.String(254), unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("display_name", sa.Text, nullable=False),
        sa.Column("lang", sa.String(2), nullable=False, server_default="vi"),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("phone IS NOT NULL OR email IS NOT NULL", name="reachable"),
    )
    op.create_table(
        "role_grant",
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), primary_key=True),
        sa.Column("role", sa.String(16), primary_key=True),
        sa.Column("department", sa.String(64)),
        sa.Column("wards", ARRAY(sa.String(10))),
        sa.CheckConstraint(
            "role IN ('citizen', 'officer', 'leader', 'planner', 'administrator')",
            name="known_role"),
    )
    op.create_table(
        "one_time_code",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_one_time_code_person", "one_time_code", ["person_id", "purpose"])
    op.create_table(
        "web_session",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_web_session_person", "web_session", ["person_id"])
    # Messages leave the machine only through a sender adapter reading this table; the local
    # development sink is the table itself.
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("channel IN ('sms', 'email')", name="known_channel"),
    )
    # Append-only: security events and staff writes; who, what, when; no personal data.
    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
    )
    op.execute(
        "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_event_no_change ON audit_event")
    op.execute("DROP FUNCTION audit_event_append_only()")
    for table in ("audit_event", "outbox_message", "web_session", "one_time_code", "role_grant",
                  "person"):
        op.drop_table(table)

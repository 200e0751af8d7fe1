"""Bearer tokens, external identities, dossiers (drafts and submission) with their transition
table and append-only events; procedures name the department that handles them.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NOW = sa.func.now()
# Who handles what: reference data, editable (department codes are the platform's own).
DEPARTMENTS = {
    "household-business-registration": "economy",
    "construction-permit-house": "urban-management",
}
# Circular 01/2018/TT-VPCP statuses, plus the applicant's draft.
STATUSES = ("draft", "awaiting_receipt", "received", "in_processing", "supplement_requested",
            "refused", "overdue", "result_ready", "result_returned", "withdrawn", "cancelled")
TRANSITIONS = [
    ("draft", "awaiting_receipt", "submit", "citizen"),
    ("awaiting_receipt", "withdrawn", "withdraw", "citizen"),
]


def upgrade() -> None:
    op.add_column("procedure", sa.Column("department", sa.String(64)))
    for procedure, department in DEPARTMENTS.items():
        op.execute(sa.text("UPDATE procedure SET department = :d WHERE id = :p")
                   .bindparams(d=department, p=procedure))
    # A person deleted at their request keeps neither phone nor e-mail.
    op.drop_constraint("reachable", "person", type_="check")
    op.create_check_constraint("reachable", "person",
                               "phone IS NOT NULL OR email IS NOT NULL OR deleted_at IS NOT NULL")
    op.create_table(
        "api_token",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", ARRAY(sa.String(32)), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_api_token_person", "api_token", ["person_id"])
    op.create_table(
        "external_identity",
        sa.Column("issuer", sa.Text, primary_key=True),
        sa.Column("subject", sa.Text, primary_key=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_table(
        "dossier_transition",
        sa.Column("from_status", sa.String(24), primary_key=True),
        sa.Column("action", sa.String(24), primary_key=True),
        sa.Column("to_status", sa.String(24), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
    )
    op.bulk_insert(
        sa.table("dossier_transition", sa.column("from_status"), sa.column("to_status"),
                 sa.column("action"), sa.column("actor_role")),
        [dict(zip(("from_status", "to_status", "action", "actor_role"), t, strict=True))
         for t in TRANSITIONS],
    )
    statuses = ", ".join(f"'{s}'" for s in STATUSES)
    op.create_table(
        "dossier",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("code", sa.String(40), unique=True),
        sa.Column("procedure_id", sa.String(64), sa.ForeignKey("procedure.id"), nullable=False),
        sa.Column("owner_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("ward_code", sa.String(10), nullable=False),
        sa.Column("parcel_key", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False, server_default="draft"),
        # Personal data of the applicant, never shown by the public look-up.
        sa.Column("applicant", JSONB, nullable=False),
        sa.Column("answers", JSONB, nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(f"status IN ({statuses})", name="known_status"),
        sa.CheckConstraint("(status = 'draft') = (code IS NULL)", name="code_once_submitted"),
    )
    op.create_index("ix_dossier_owner", "dossier", ["owner_id"])
    op.create_index("ix_dossier_scope", "dossier", ["department", "ward_code"])
    op.create_table(
        "dossier_code_counter",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )
    op.create_table(
        "dossier_event",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("dossier_id", sa.BigInteger, sa.ForeignKey("dossier.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("actor_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("from_status", sa.String(24)),
        sa.Column("to_status", sa.String(24), nullable=False),
    )
    op.create_index("ix_dossier_event_dossier", "dossier_event", ["dossier_id"])
    op.execute(
        "CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
    )
    op.execute(
        "CREATE TRIGGER dossier_event_no_change BEFORE UPDATE OR DELETE ON dossier_event "
        "FOR EACH ROW EXECUTE FUNCTION append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER dossier_event_no_change ON dossier_event")
    op.execute("DROP FUNCTION append_only()")
    for table in ("dossier_event", "dossier_code_counter", "dossier", "dossier_transition",
                  "external_identity", "api_token"):
        op.drop_table(table)
    op.drop_constraint("reachable", "person", type_="check")
    op.create_check_constraint("reachable", "person", "phone IS NOT NULL OR email IS NOT NULL")
    op.drop_column("procedure", "department")

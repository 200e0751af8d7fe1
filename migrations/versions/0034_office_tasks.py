"""The officers' mobile office: free tasks (a workflow of their own, with their append-only
events), the officer a dossier is assigned to, the reminders already sent (each once per item
and moment, whatever restarts or workers), each person's in-app notices, and the register of
incoming and outgoing official documents with its full-text search without diacritics, the
work calendar's meetings, inspections and leave, each person's secret calendar feed, and their
browsers' Web Push subscriptions (a third outbox channel).

Revision ID: 0034
Revises: 0033
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
VISIBILITIES = "'public', 'applicant', 'staff', 'internal'"


def upgrade() -> None:
    op.add_column("dossier", sa.Column("assignee_id", sa.BigInteger,
                                       sa.ForeignKey("person.id")))
    op.create_index("ix_dossier_assignee", "dossier", ["assignee_id"])
    op.create_table(
        "office_task",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("ward_code", sa.String(10)),
        # An inspection's place, say: a dot on the officer's map.
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False)),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("assignee_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("person.id")),
        # What the task is about, when it is about something.
        sa.Column("dossier_id", sa.BigInteger, sa.ForeignKey("dossier.id")),
        sa.Column("report_id", sa.BigInteger, sa.ForeignKey("feedback_report.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('open', 'done', 'cancelled')", name="known_status"),
        sa.CheckConstraint("length(title) BETWEEN 3 AND 300", name="sane_title"),
    )
    op.create_index("ix_office_task_open", "office_task", ["department", "status", "due_on"])
    op.create_index("ix_office_task_assignee", "office_task", ["assignee_id", "status"])
    op.create_table(
        "office_task_event",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("task_id", sa.BigInteger, sa.ForeignKey("office_task.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("actor_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("visibility", sa.String(12), nullable=False, server_default="staff"),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
        sa.CheckConstraint(f"visibility IN ({VISIBILITIES})", name="known_visibility"),
    )
    op.create_index("ix_office_task_event_task", "office_task_event", ["task_id"])
    op.execute("CREATE TRIGGER office_task_event_no_change BEFORE UPDATE OR DELETE ON "
               "office_task_event FOR EACH ROW EXECUTE FUNCTION append_only()")
    op.execute("CREATE TRIGGER office_task_status_by_engine BEFORE INSERT OR UPDATE OF "
               "status ON office_task FOR EACH ROW EXECUTE FUNCTION status_by_engine()")

    op.create_table(
        "office_reminder",
        # The morning digest ('digest', the person, the day), an item entering its last
        # working day ('due_soon') or its first overdue one ('overdue'), for one person.
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("item_kind", sa.String(16), primary_key=True),
        sa.Column("item_id", sa.BigInteger, primary_key=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), primary_key=True),
        sa.Column("moment", sa.Date, primary_key=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("kind IN ('digest', 'due_soon', 'overdue')", name="known_kind"),
    )
    op.create_table(
        "person_notice",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("link", sa.Text),  # the app's route of what it is about
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("read_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_person_notice_person", "person_notice", ["person_id", "id"])

    # "quy hoach" finds "quy hoạch": unaccent in an immutable wrapper an index may use.
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE FUNCTION civic_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE "
               "PARALLEL SAFE STRICT AS $$ SELECT public.unaccent('public.unaccent', $1) $$")
    op.create_table(
        "office_document",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("direction", sa.String(8), nullable=False),  # văn bản đến / văn bản đi
        sa.Column("number", sa.String(40), nullable=False),  # its number in the register
        sa.Column("symbol", sa.String(80), nullable=False),  # ký hiệu: 123/UBND-QLĐT
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("issuer", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),  # trích yếu
        sa.Column("doc_type", sa.String(40), nullable=False),
        sa.Column("urgency", sa.String(12), nullable=False, server_default="normal"),
        sa.Column("body_text", sa.Text, nullable=False, server_default=""),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("handler_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("source", sa.String(40), nullable=False, server_default="manual"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("search", TSVECTOR, sa.Computed(
            "to_tsvector('simple', civic_unaccent(symbol || ' ' || number || ' ' || issuer "
            "|| ' ' || summary || ' ' || doc_type || ' ' || body_text))", persisted=True)),
        sa.CheckConstraint("direction IN ('incoming', 'outgoing')", name="known_direction"),
        sa.CheckConstraint("urgency IN ('normal', 'urgent', 'very_urgent', 'flash')",
                           name="known_urgency"),
        sa.UniqueConstraint("department", "direction", "number", "issued_on",
                            name="one_entry_per_number"),
    )
    op.create_index("ix_office_document_search", "office_document", ["search"],
                    postgresql_using="gin")
    op.create_index("ix_office_document_issued", "office_document",
                    ["department", "issued_on"])
    op.create_table(
        "office_document_link",
        sa.Column("document_id", sa.BigInteger, sa.ForeignKey("office_document.id"),
                  primary_key=True),
        # What the document is about, found in its text (a dossier's code, a parcel key) or
        # named by hand.
        sa.Column("kind", sa.String(12), primary_key=True),
        sa.Column("ref", sa.String(40), primary_key=True),
        sa.Column("found", sa.Boolean, nullable=False, server_default="true"),
        sa.CheckConstraint("kind IN ('dossier', 'parcel', 'task')", name="known_kind"),
    )

    op.create_table(
        "office_event",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        # The department's (a meeting of all) or one person's (their inspection, their leave).
        sa.Column("department", sa.String(64)),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("place", sa.Text, nullable=False, server_default=""),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False)),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("kind IN ('meeting', 'inspection', 'leave')", name="known_kind"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("department IS NOT NULL OR person_id IS NOT NULL",
                           name="someones"),
    )
    op.create_index("ix_office_event_when", "office_event", ["starts_at"])
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        # Only the hash of the feed's secret (the URL a phone's calendar subscribes to).
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )

    op.create_table(
        "push_subscription",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("person_id", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        # What the browser's PushManager gave: the push service's address and the keys the
        # message is encrypted to (RFC 8291).
        sa.Column("endpoint", sa.Text, nullable=False, unique=True),
        sa.Column("p256dh", sa.String(100), nullable=False),
        sa.Column("auth", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_push_subscription_person", "push_subscription", ["person_id"])
    op.drop_constraint("known_channel", "outbox_message", type_="check")
    op.create_check_constraint("known_channel", "outbox_message",
                               "channel IN ('sms', 'email', 'push')")


def downgrade() -> None:
    op.drop_constraint("known_channel", "outbox_message", type_="check")
    op.create_check_constraint("known_channel", "outbox_message", "channel IN ('sms', 'email')")
    op.drop_table("push_subscription")
    op.drop_table("calendar_feed")
    op.drop_table("office_event")
    op.drop_table("office_document_link")
    op.drop_table("office_document")
    op.execute("DROP FUNCTION civic_unaccent(text)")
    op.drop_table("person_notice")
    op.drop_table("office_reminder")
    op.drop_table("office_task_event")
    op.drop_table("office_task")
    op.drop_index("ix_dossier_assignee", "dossier")
    op.drop_column("dossier", "assignee_id")

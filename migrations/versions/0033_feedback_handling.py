"""Handling feedback: "me too" voices and merged duplicates (both followed on the original),
the officer a report is assigned to, the reporter's rating, flood events grouping one day's
flood reports (a workflow of their own), the public copy of each photo (faces and number
plates blurred), and Open311 clients with their API keys.

Revision ID: 0033
Revises: 0032
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
VISIBILITIES = "'public', 'applicant', 'staff', 'internal'"


def upgrade() -> None:
    op.create_table(
        "feedback_flood",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("day", sa.Date, nullable=False),  # the day in Vietnam its reports were sent
        # The flooded area: its reports' places, grown as reports join.
        sa.Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False),
        sa.Column("ward_code", sa.String(8)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('open', 'closed')", name="known_status"),
    )
    op.create_index("ix_feedback_flood_geom", "feedback_flood", ["geom"],
                    postgresql_using="gist")
    op.create_index("ix_feedback_flood_day", "feedback_flood", ["day", "status"])
    op.create_table(
        "feedback_flood_event",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("flood_id", sa.BigInteger, sa.ForeignKey("feedback_flood.id"),
                  nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("actor_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("visibility", sa.String(12), nullable=False, server_default="public"),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
        sa.CheckConstraint(f"visibility IN ({VISIBILITIES})", name="known_visibility"),
    )
    op.create_index("ix_feedback_flood_event_flood", "feedback_flood_event", ["flood_id"])
    op.execute("CREATE TRIGGER feedback_flood_event_no_change BEFORE UPDATE OR DELETE ON "
               "feedback_flood_event FOR EACH ROW EXECUTE FUNCTION append_only()")
    op.execute("CREATE TRIGGER feedback_flood_status_by_engine BEFORE INSERT OR UPDATE OF "
               "status ON feedback_flood FOR EACH ROW EXECUTE FUNCTION status_by_engine()")

    op.create_table(
        "open311_client",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("contact", sa.Text),
        # Only the key's hash is kept; its first characters name it in the administrators' list.
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("key_prefix", sa.String(12), nullable=False),
        sa.Column("issued_by", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_by", sa.BigInteger, sa.ForeignKey("person.id")),
    )

    # A "me too" is a report of its own (its reporter, contact and photo), joined at once to
    # the report it adds a voice to (duplicate_of); an officer's merge closes a report as a
    # duplicate the same way. Either way its reporters hear what the original hears.
    op.add_column("feedback_report", sa.Column("joined", sa.Boolean, nullable=False,
                                               server_default="false"))
    op.add_column("feedback_report", sa.Column("assignee_id", sa.BigInteger,
                                               sa.ForeignKey("person.id")))
    op.add_column("feedback_report", sa.Column("rating", sa.SmallInteger))
    op.add_column("feedback_report", sa.Column("flood_id", sa.BigInteger,
                                               sa.ForeignKey("feedback_flood.id")))
    op.add_column("feedback_report", sa.Column("open311_client_id", sa.BigInteger,
                                               sa.ForeignKey("open311_client.id")))
    op.add_column("feedback_report", sa.Column("open311_token", sa.String(40), unique=True))
    # What an Open311 client sent as the report's picture (never fetched by us).
    op.add_column("feedback_report", sa.Column("media_url", sa.Text))
    op.create_check_constraint("rating_1_to_5", "feedback_report",
                               "rating IS NULL OR rating BETWEEN 1 AND 5")
    op.create_index("ix_feedback_report_duplicate_of", "feedback_report", ["duplicate_of"])
    op.create_index("ix_feedback_report_flood", "feedback_report", ["flood_id"])

    # The copy the public sees: faces and number plates blurred (staff see the original).
    op.add_column("feedback_photo", sa.Column("public_sha256", sa.String(64)))
    op.add_column("feedback_photo", sa.Column("blurred_regions", sa.Integer))
    op.create_check_constraint("hex_public_sha256", "feedback_photo",
                               "public_sha256 IS NULL OR public_sha256 ~ '^[0-9a-f]{64}$'")


def downgrade() -> None:
    op.drop_constraint("hex_public_sha256", "feedback_photo")
    op.drop_column("feedback_photo", "blurred_regions")
    op.drop_column("feedback_photo", "public_sha256")
    op.drop_index("ix_feedback_report_flood", "feedback_report")
    op.drop_index("ix_feedback_report_duplicate_of", "feedback_report")
    op.drop_constraint("rating_1_to_5", "feedback_report")
    for column in ("media_url", "open311_token", "open311_client_id", "flood_id", "rating",
                   "assignee_id", "joined"):
        op.drop_column("feedback_report", column)
    op.drop_table("open311_client")
    op.drop_table("feedback_flood_event")
    op.drop_table("feedback_flood")

"""Citizen feedback (phản ánh kiến nghị): the 1022 system's categories as data (each routed to a
department with its response time in working days), reports on the workflow engine with their
append-only events, the reporter's contact kept apart from what the public sees.

Revision ID: 0031
Revises: 0030
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import JSONB

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
VISIBILITIES = "'public', 'applicant', 'staff', 'internal'"
STATUSES = ("unconfirmed", "expired", "received", "assigned", "in_progress", "question",
            "answered", "closed")
CLOSINGS = "'fixed', 'not_competent', 'duplicate', 'cannot_fix'"
URBAN, ECONOMY, ENVIRONMENT = "urban-management", "economy", "natural-resources-environment"
# The city's 1022 categories (and construction without a permit, which attaches to a parcel):
# code, Vietnamese and English names, department, working days to answer. The departments and
# times are the district's to set (unverified: no published table was found).
CATEGORIES = [
    ("administration", "Thủ tục hành chính, thái độ phục vụ", "Public administration",
     "home-affairs", 10),
    ("roads", "Đường sá, vỉa hè hư hỏng", "Roads and pavements", URBAN, 5),
    ("manholes", "Hố ga, nắp cống", "Manholes and drain covers", URBAN, 3),
    ("street-lighting", "Đèn chiếu sáng công cộng", "Street lighting", URBAN, 5),
    ("drainage-flooding", "Thoát nước, ngập nước", "Drainage and flooding", URBAN, 3),
    ("buses", "Xe buýt, trạm dừng", "Buses and bus stops", URBAN, 10),
    ("noise", "Tiếng ồn", "Noise", ENVIRONMENT, 5),
    ("urban-order", "Trật tự đô thị, lấn chiếm vỉa hè", "Urban order and pavement encroachment",
     URBAN, 5),
    ("trees", "Cây xanh", "Trees", URBAN, 5),
    ("electricity", "Điện", "Electricity", ECONOMY, 5),
    ("water", "Cấp nước", "Water supply", ECONOMY, 5),
    ("telecoms", "Viễn thông, cáp treo", "Telecoms and overhead cables", ECONOMY, 10),
    ("construction-without-permit", "Xây dựng không phép, sai phép",
     "Construction without a permit", URBAN, 7),
]


def upgrade() -> None:
    category = op.create_table(
        "feedback_category",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name_vi", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("response_days", sa.Integer, nullable=False),
        # Construction without a permit is about a parcel: its reports name one.
        sa.Column("about_parcel", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("unverified", JSONB, nullable=False, server_default='["department", '
                  '"response_days"]'),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint("response_days BETWEEN 1 AND 90", name="sane_response_days"),
    )
    op.bulk_insert(category, [
        {"code": code, "name_vi": vi, "name_en": en, "department": department,
         "response_days": days, "about_parcel": code == "construction-without-permit"}
        for code, vi, en, department, days in CATEGORIES])
    op.create_table(
        "feedback_report",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("category", sa.String(40), sa.ForeignKey("feedback_category.code"),
                  nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("description", sa.Text, nullable=False),
        # Moderation hides a description (abuse, someone's personal data) with its reason.
        sa.Column("hidden_reason", sa.Text),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("parcel_key", sa.String(12)),
        sa.Column("ward_code", sa.String(8)),
        sa.Column("department", sa.String(64), nullable=False),
        # Who reported it: an account, or a phone / e-mail confirmed by a one-time code. The
        # public sees the name only when the reporter allowed it, never the contact.
        sa.Column("reporter_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("reporter_name", sa.Text),
        sa.Column("reporter_phone", sa.Text),
        sa.Column("reporter_email", sa.Text),
        sa.Column("show_name", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("confirm_hash", sa.String(64)),
        sa.Column("confirm_expires_at", sa.DateTime(timezone=True)),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("due_on", sa.Date),
        sa.Column("closing", sa.String(16)),
        sa.Column("referred_to", sa.Text),
        sa.Column("duplicate_of", sa.BigInteger, sa.ForeignKey("feedback_report.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("contact_removed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")",
                           name="known_status"),
        sa.CheckConstraint(f"closing IS NULL OR closing IN ({CLOSINGS})", name="known_closing"),
        sa.CheckConstraint("reporter_id IS NOT NULL OR reporter_phone IS NOT NULL "
                           "OR reporter_email IS NOT NULL OR contact_removed_at IS NOT NULL",
                           name="reporter_reachable"),
    )
    op.create_index("ix_feedback_report_geom", "feedback_report", ["geom"],
                    postgresql_using="gist")
    op.create_index("ix_feedback_report_status", "feedback_report", ["status", "category"])
    op.create_table(
        "feedback_event",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("report_id", sa.BigInteger, sa.ForeignKey("feedback_report.id"),
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
    op.create_index("ix_feedback_event_report", "feedback_event", ["report_id"])
    op.execute("CREATE TRIGGER feedback_event_no_change BEFORE UPDATE OR DELETE ON "
               "feedback_event FOR EACH ROW EXECUTE FUNCTION append_only()")
    op.execute("CREATE TRIGGER feedback_report_status_by_engine BEFORE INSERT OR UPDATE OF "
               "status ON feedback_report FOR EACH ROW EXECUTE FUNCTION status_by_engine()")


def downgrade() -> None:
    op.drop_table("feedback_event")
    op.drop_table("feedback_report")
    op.drop_table("feedback_category")

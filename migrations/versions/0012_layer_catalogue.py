"""The layer catalogue: layers (kind, titles, schema, style, visibility) and their versions
(draft → validated → published → superseded) with a transition table and append-only events.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

NOW = sa.func.now()
KINDS = ("parcels", "zoning_blocks", "land_use", "roads", "water", "zoning_plans",
         "detailed_plans", "scanned_plan", "free")
# The planning layers the platform knows; their published data are the planning tables.
LAYERS = [
    # id, kind, vi, en, live table, id column, queryable fields
    ("zoning_blocks", "zoning_blocks", "Quy hoạch phân khu 1/2000 — ô phố", "1/2000 zoning blocks",
     "zoning_block", "id", ["block_code", "function_category"]),
    ("land_use", "land_use", "Quy hoạch sử dụng đất", "Land-use plan", "land_use_zone", "id",
     ["code"]),
    ("parcels", "parcels", "Thửa đất", "Parcels", "parcel", "id", ["parcel_key", "sheet_no",
                                                                  "parcel_no"]),
    ("roads", "roads", "Lộ giới đường", "Roads and rights-of-way", "road", "id", ["name"]),
    ("water", "water", "Sông, kênh, rạch", "Rivers and canals", "water_body", "id", ["kind"]),
    ("zoning_plans", "zoning_plans", "Đồ án quy hoạch phân khu", "Zoning plans", "zoning_plan",
     "id", ["plan_code"]),
    ("detailed_plans", "detailed_plans", "Quy hoạch chi tiết 1/500", "1/500 detailed plans",
     "detailed_plan", "id", ["kind"]),
]
STATUSES = ("draft", "needs_input", "validated", "rejected", "published", "superseded")
TRANSITIONS = [  # from, action, to, who
    ("draft", "ask", "needs_input", "system"),
    ("needs_input", "answer", "draft", "planner"),
    ("draft", "validate", "validated", "system"),
    ("draft", "reject", "rejected", "system"),
    ("validated", "publish", "published", "planner"),
    ("published", "supersede", "superseded", "system"),
    ("superseded", "publish", "published", "planner"),  # rollback
]


def upgrade() -> None:
    kinds = ", ".join(f"'{k}'" for k in KINDS)
    statuses = ", ".join(f"'{s}'" for s in STATUSES)
    layer = op.create_table(
        "catalogue_layer",
        sa.Column("id", sa.String(48), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("title_vi", sa.Text, nullable=False),
        sa.Column("title_en", sa.Text, nullable=False),
        # [{"name", "type", "required"}]: what a version's features must carry.
        sa.Column("schema", JSONB, nullable=False, server_default="[]"),
        sa.Column("style", JSONB, nullable=False, server_default="{}"),
        sa.Column("visibility", sa.String(8), nullable=False, server_default="public"),
        # Planning layers are published into their table; free layers are read from the
        # published version's own table.
        sa.Column("live_table", sa.String(63)),
        sa.Column("id_column", sa.String(63), nullable=False, server_default="fid"),
        sa.Column("queryables", ARRAY(sa.String(63)), nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint(f"kind IN ({kinds})", name="known_kind"),
        sa.CheckConstraint("visibility IN ('public', 'staff')", name="known_visibility"),
        sa.CheckConstraint("id ~ '^[a-z][a-z0-9_]{1,47}$'", name="slug"),
    )
    op.bulk_insert(layer, [
        {"id": i, "kind": k, "title_vi": vi, "title_en": en, "live_table": t, "id_column": c,
         "queryables": q} for i, k, vi, en, t, c, q in LAYERS])
    op.create_table(
        "catalogue_version",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("layer_id", sa.String(48), sa.ForeignKey("catalogue_layer.id"),
                  nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("source_name", sa.Text),
        sa.Column("source_sha256", sa.String(64)),
        sa.Column("srid", sa.Integer),
        sa.Column("encoding", sa.String(16)),
        sa.Column("feature_count", sa.Integer),
        sa.Column("data_table", sa.String(63)),
        sa.Column("report", JSONB, nullable=False, server_default="{}"),
        sa.Column("changes", JSONB, nullable=False, server_default="{}"),
        sa.Column("changed_area", Geometry("MULTIPOLYGON", srid=3857, spatial_index=False)),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("layer_id", "number"),
        sa.CheckConstraint(f"status IN ({statuses})", name="known_status"),
    )
    op.create_index("ux_catalogue_version_published", "catalogue_version", ["layer_id"],
                    unique=True, postgresql_where=sa.text("status = 'published'"))
    op.create_table(
        "catalogue_transition",
        sa.Column("from_status", sa.String(16), primary_key=True),
        sa.Column("action", sa.String(16), primary_key=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
    )
    op.bulk_insert(
        sa.table("catalogue_transition", sa.column("from_status"), sa.column("action"),
                 sa.column("to_status"), sa.column("actor_role")),
        [dict(zip(("from_status", "action", "to_status", "actor_role"), t, strict=True))
         for t in TRANSITIONS],
    )
    op.create_table(
        "catalogue_event",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("version_id", sa.BigInteger, sa.ForeignKey("catalogue_version.id"),
                  nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("actor_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
    )
    op.create_index("ix_catalogue_event_version", "catalogue_event", ["version_id"])
    op.execute(
        "CREATE TRIGGER catalogue_event_no_change BEFORE UPDATE OR DELETE ON catalogue_event "
        "FOR EACH ROW EXECUTE FUNCTION append_only()"
    )
    op.execute("CREATE SCHEMA IF NOT EXISTS layer_data")


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS layer_data CASCADE")
    op.execute("DROP TRIGGER catalogue_event_no_change ON catalogue_event")
    for table in ("catalogue_event", "catalogue_transition", "catalogue_version",
                  "catalogue_layer"):
        op.drop_table(table)

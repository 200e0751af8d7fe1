"""The field doctor's memory and what it may derive: a layer's answered field mappings by the
source's field signature; zoning blocks may name their plan by its decision and carry a
land-use code; a plan made from a decision may not know its date or approving body yet;
zoning blocks and land-use zones keep the fields their file carried beyond the schema.

Revision ID: 0022
Revises: 0021
"""

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

BLOCK_FIELDS = [
    {"name": "ma_loai_dat", "type": "text", "aliases": ["land_use_code", "maloaidat"]},
    {"name": "so_qd", "type": "text", "aliases": ["decision_no", "soqd"]},
    {"name": "ngay_qd", "type": "date", "aliases": ["decision_date", "ngayqd"]},
]


def upgrade() -> None:
    op.create_table(
        "catalogue_field_map",
        sa.Column("layer_id", sa.String(48), sa.ForeignKey("catalogue_layer.id",
                                                           ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("signature", sa.Text, primary_key=True),  # the source's fields, folded
        sa.Column("answers", JSONB, nullable=False),  # map:<target> = <source> ("" for none)
        sa.Column("updated_by", sa.Integer, sa.ForeignKey("person.id", ondelete="SET NULL")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    for table in ("zoning_block", "land_use_zone"):  # what the file carried beyond the schema
        op.add_column(table, sa.Column("extra", JSONB))
    op.alter_column("zoning_plan", "decision_date", nullable=True)
    op.alter_column("zoning_plan", "approving_body", nullable=True)
    op.execute(sa.text("UPDATE catalogue_layer SET schema = schema || CAST(:f AS jsonb) "
                       "WHERE id = 'zoning_blocks'").bindparams(f=json.dumps(BLOCK_FIELDS)))


def downgrade() -> None:
    op.execute(sa.text(
        "UPDATE catalogue_layer SET schema = (SELECT coalesce(jsonb_agg(f ORDER BY n), '[]') "
        "FROM jsonb_array_elements(schema) WITH ORDINALITY AS e(f, n) "
        "WHERE NOT f->>'name' = ANY(:names)) WHERE id = 'zoning_blocks'")
        .bindparams(names=[f["name"] for f in BLOCK_FIELDS]))
    op.execute("UPDATE zoning_plan SET approving_body = '' WHERE approving_body IS NULL")
    op.execute("DELETE FROM zoning_plan p WHERE decision_date IS NULL AND NOT EXISTS "
               "(SELECT 1 FROM zoning_block b WHERE b.plan_id = p.id)")
    op.alter_column("zoning_plan", "decision_date", nullable=False)
    op.alter_column("zoning_plan", "approving_body", nullable=False)
    for table in ("zoning_block", "land_use_zone"):
        op.drop_column(table, "extra")
    op.drop_table("catalogue_field_map")

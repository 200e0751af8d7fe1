"""Per-parcel planning facts: zoning and land-use shares, frontage, detailed plans.

Revision ID: 0003
Revises: 0002
"""

from importlib import resources

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete="CASCADE")


def upgrade() -> None:
    # Derived from the planning layers when they are loaded (layers/sql/parcel_facts.sql), so a
    # tap reads them instead of overlaying geometries: taps outnumber publishes by far.
    op.create_table(
        "parcel_zoning",
        sa.Column("parcel_id", sa.BigInteger, _fk("parcel"), primary_key=True),
        sa.Column("block_id", sa.Integer, _fk("zoning_block"), primary_key=True),
        sa.Column("share_pct", sa.Float, nullable=False),
    )
    op.create_table(
        "parcel_land_use",
        sa.Column("parcel_id", sa.BigInteger, _fk("parcel"), primary_key=True),
        sa.Column("code", sa.String(8), primary_key=True),
        sa.Column("share_pct", sa.Float, nullable=False),
    )
    op.create_table(
        "parcel_frontage",
        sa.Column("parcel_id", sa.BigInteger, _fk("parcel"), primary_key=True),
        sa.Column("road_id", sa.Integer, _fk("road"), primary_key=True),
        sa.Column("frontage_m", sa.Float, nullable=False),
        sa.Column("side", sa.String(2), nullable=False),
    )
    op.create_table(
        "parcel_detailed_plan",
        sa.Column("parcel_id", sa.BigInteger, _fk("parcel"), primary_key=True),
        sa.Column("plan_id", sa.Integer, _fk("detailed_plan"), primary_key=True),
        sa.Column("share_pct", sa.Float, nullable=False),
    )
    for table, column in (("parcel_zoning", "block_id"), ("parcel_frontage", "road_id"),
                          ("parcel_detailed_plan", "plan_id")):
        op.create_index(f"ix_{table}_{column}", table, [column])
    # Databases loaded before this revision get their facts now.
    op.execute(resources.files("layers.sql").joinpath("parcel_facts.sql").read_text())


def downgrade() -> None:
    for table in ("parcel_detailed_plan", "parcel_frontage", "parcel_land_use", "parcel_zoning"):
        op.drop_table(table)

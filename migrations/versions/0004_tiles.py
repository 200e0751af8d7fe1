"""Tiles: Web Mercator outlines of units, layer versions, the tile cache.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TILE_LAYERS = ("wards", "wards_old", "water", "roads", "zoning_blocks", "land_use", "parcels")


def upgrade() -> None:
    op.add_column(
        "admin_unit",
        sa.Column("geom_3857", Geometry("MULTIPOLYGON", srid=3857, spatial_index=False),
                  sa.Computed("ST_Transform(geom, 3857)", persisted=True)),
    )
    op.create_index("ix_admin_unit_geom_3857", "admin_unit", ["geom_3857"],
                    postgresql_using="gist")
    # The version of each tile layer's data: part of tile URLs, bumped when the data changes.
    layer_version = op.create_table(
        "layer_version",
        sa.Column("layer", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.bulk_insert(layer_version, [{"layer": layer} for layer in TILE_LAYERS])
    # Rendered tiles shared by every API worker; entries stay valid across versions until a
    # change touches their envelope.
    op.create_table(
        "tile_cache",
        sa.Column("layer", sa.String(32), primary_key=True),
        sa.Column("z", sa.SmallInteger, primary_key=True),
        sa.Column("x", sa.Integer, primary_key=True),
        sa.Column("y", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("etag", sa.String(40), nullable=False),
        sa.Column("envelope", Geometry("POLYGON", srid=3857, spatial_index=False),
                  nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_index("ix_tile_cache_envelope", "tile_cache", ["envelope"],
                    postgresql_using="gist")
    op.create_index("ix_tile_cache_used_at", "tile_cache", ["used_at"])


def downgrade() -> None:
    op.drop_table("tile_cache")
    op.drop_table("layer_version")
    op.drop_index("ix_admin_unit_geom_3857", "admin_unit")
    op.drop_column("admin_unit", "geom_3857")

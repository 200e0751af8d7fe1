"""Land-use zones cut into small pieces for fast point and overlay look-ups.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Road and water zones are long polygons whose bounding boxes cover whole districts of
    # parcels; cut into pieces of at most 16 vertices, the parcel-fact overlay touches only
    # small geometries. Derived from land_use_zone, rebuilt whenever it is loaded.
    op.create_table(
        "land_use_piece",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("zone_id", sa.Integer, sa.ForeignKey("land_use_zone.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("geom", Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("ix_land_use_piece_geom", "land_use_piece", ["geom"],
                    postgresql_using="gist")
    op.execute(
        "INSERT INTO land_use_piece (zone_id, code, geom) "
        "SELECT id, code, ST_Subdivide(geom, 16) FROM land_use_zone"
    )


def downgrade() -> None:
    op.drop_table("land_use_piece")

"""A layer's minimum zoom can follow its data (parcels: by their size).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from tiles.layers import readable_minzoom

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("layer_version", sa.Column("minzoom", sa.SmallInteger))
    row = op.get_bind().execute(sa.text(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY area_m2), "
        "ST_Y(ST_Centroid(ST_Extent(geom))) FROM parcel"
    )).one()
    if row[0] is not None:
        op.execute(sa.text("UPDATE layer_version SET minzoom = :z WHERE layer = 'parcels'")
                   .bindparams(z=readable_minzoom(float(row[0]), float(row[1]))))


def downgrade() -> None:
    op.drop_column("layer_version", "minzoom")

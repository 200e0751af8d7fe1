"""Generalized land use for low-zoom tiles.

Revision ID: 0005
Revises: 0004
"""

from importlib import resources

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "land_use_generalized",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("geom_3857", Geometry("MULTIPOLYGON", srid=3857, spatial_index=False),
                  nullable=False),
    )
    op.create_index("ix_land_use_generalized_geom_3857", "land_use_generalized", ["geom_3857"],
                    postgresql_using="gist")
    op.execute(resources.files("layers.sql").joinpath("generalize.sql").read_text())


def downgrade() -> None:
    op.drop_table("land_use_generalized")

"""A scanned-plan layer's versions are rasters: each keeps the catalogue id of its COG.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("catalogue_version", sa.Column("raster_id", sa.String(64)))


def downgrade() -> None:
    op.drop_column("catalogue_version", "raster_id")

"""Raster layers (scanned plans, orthophotos) as catalogue entries pointing at local COGs.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "raster_layer",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        # Relative to the platform's raster folder; never a URL, never absolute.
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.CheckConstraint("id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'", name="id_slug"),
        sa.CheckConstraint("file ~ '^[A-Za-z0-9_-]+\\.tif$'", name="file_plain_name"),
    )


def downgrade() -> None:
    op.drop_table("raster_layer")

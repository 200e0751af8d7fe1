"""Roads, water, zoning plans and detailed plans keep the fields their file carried beyond the
schema too (served by the OGC API with the rest). Parcels do not: a cadastral file's other
fields may name owners, and the parcel layer is public.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TABLES = ("road", "water_body", "zoning_plan", "detailed_plan")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("extra", JSONB))


def downgrade() -> None:
    for table in TABLES:
        op.drop_column(table, "extra")

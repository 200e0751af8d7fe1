"""What uploads of parcels, roads and water must carry, so that they can be published into
the planning tables; limits the planning tables set on zoning-block codes.

Revision ID: 0016
Revises: 0015
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SCHEMAS = {
    "parcels": [
        # The parcel's id is its ward (before the 2025 merger), map sheet and number.
        {"name": "ma_xa", "type": "text", "required": True, "key": True,
         "aliases": ["ward_code", "maxa", "ma_phuong"]},
        {"name": "so_to", "type": "integer", "required": True, "key": True, "min": 1,
         "max": 999, "aliases": ["sheet_no", "soto", "so_hieu_to"]},
        {"name": "so_thua", "type": "integer", "required": True, "key": True, "min": 1,
         "max": 9999, "aliases": ["parcel_no", "sothua"]},
        {"name": "dia_chi", "type": "text", "aliases": ["address", "diachi"]},
    ],
    "roads": [
        {"name": "ten_duong", "type": "text", "required": True,
         "aliases": ["name", "ten", "tenduong"]},
        {"name": "lo_gioi", "type": "number", "required": True, "min": 1, "max": 200,
         "aliases": ["right_of_way_m", "logioi"]},
    ],
    "water": [
        {"name": "ten", "type": "text", "required": True, "aliases": ["name", "ten_song"]},
        {"name": "loai", "type": "text", "required": True, "max_length": 16,
         "aliases": ["kind", "loai_song"]},
    ],
}
# Codes longer than their planning-table columns would fail at publishing: refused at ingest.
LIMITS = {"zoning_blocks": {"ma_o_pho": 32, "ma_chuc_nang": 32}}


def upgrade() -> None:
    for layer, schema in SCHEMAS.items():
        op.execute(sa.text("UPDATE catalogue_layer SET schema = CAST(:s AS jsonb) WHERE id = :i")
                   .bindparams(s=json.dumps(schema), i=layer))
    for layer, limits in LIMITS.items():
        for field, longest in limits.items():
            op.execute(sa.text(
                "UPDATE catalogue_layer SET schema = (SELECT jsonb_agg(CASE WHEN f->>'name' = :f "
                "THEN f || jsonb_build_object('max_length', CAST(:n AS int)) ELSE f END "
                "ORDER BY n) FROM jsonb_array_elements(schema) WITH ORDINALITY AS e(f, n)) "
                "WHERE id = :i").bindparams(f=field, n=longest, i=layer))


def downgrade() -> None:
    op.execute("UPDATE catalogue_layer SET schema = '[]' WHERE id IN ('parcels', 'roads', "
               "'water')")
    op.execute("UPDATE catalogue_layer SET schema = (SELECT jsonb_agg(f - 'max_length' ORDER BY n) "
               "FROM jsonb_array_elements(schema) WITH ORDINALITY AS e(f, n)) "
               "WHERE id = 'zoning_blocks'")

"""What the planning layers' uploads must carry: fields, types, keys and the names planning
offices use for them.

Revision ID: 0014
Revises: 0013
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SCHEMAS = {
    "land_use": [
        {"name": "ma_loai_dat", "type": "text", "required": True,
         "aliases": ["code", "maloaidat", "mld", "ma_sdd", "loai_dat"]},
    ],
    "zoning_blocks": [
        {"name": "ma_o_pho", "type": "text", "required": True, "key": True,
         "aliases": ["block_code", "maopho", "ma_o"]},
        {"name": "ma_qh", "type": "text", "required": True, "aliases": ["plan_code", "maqh"]},
        {"name": "chuc_nang", "type": "text", "required": True,
         "aliases": ["function_name", "chucnang"]},
        {"name": "ma_chuc_nang", "type": "text", "required": True,
         "aliases": ["function_category", "machucnang"]},
        {"name": "tang_cao_min", "type": "integer", "aliases": ["floors_min"]},
        {"name": "tang_cao_max", "type": "integer", "aliases": ["floors_max", "tang_cao"]},
        {"name": "chieu_cao", "type": "number", "aliases": ["height_max_m"]},
        {"name": "mat_do_xd", "type": "number", "aliases": ["coverage_max_pct", "mdxd"]},
        {"name": "he_so_sdd", "type": "number", "aliases": ["far_max", "hssdd"]},
        {"name": "dan_so", "type": "integer", "aliases": ["population"]},
        {"name": "mau", "type": "text", "aliases": ["colour", "color"]},
    ],
}


def upgrade() -> None:
    for layer, schema in SCHEMAS.items():
        op.execute(sa.text("UPDATE catalogue_layer SET schema = CAST(:s AS jsonb) WHERE id = :i")
                   .bindparams(s=json.dumps(schema), i=layer))


def downgrade() -> None:
    op.execute("UPDATE catalogue_layer SET schema = '[]' WHERE id IN ('land_use', "
               "'zoning_blocks')")

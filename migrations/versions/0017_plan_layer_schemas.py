"""What uploads of zoning plans and 1/500 detailed plans must carry (with their decisions'
dates), so that they can be published into the planning tables.

Revision ID: 0017
Revises: 0016
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_DECISION = [
    {"name": "so_qd", "type": "text", "required": True, "aliases": ["decision_no", "soqd"]},
    {"name": "ngay_qd", "type": "date", "required": True,
     "aliases": ["decision_date", "ngayqd", "ngay_phe_duyet"]},
    {"name": "co_quan", "type": "text", "required": True,
     "aliases": ["approving_body", "coquan", "co_quan_phe_duyet"]},
]
SCHEMAS = {
    "zoning_plans": [
        {"name": "ma_qh", "type": "text", "required": True, "key": True, "max_length": 32,
         "aliases": ["plan_code", "maqh"]},
        {"name": "ten", "type": "text", "required": True, "aliases": ["name", "ten_do_an"]},
        {"name": "ty_le", "type": "text", "max_length": 16, "aliases": ["scale", "tyle"]},
        *_DECISION,
    ],
    "detailed_plans": [
        {"name": "loai", "type": "text", "required": True, "max_length": 32,
         "aliases": ["kind"]},
        {"name": "ten", "type": "text", "required": True, "aliases": ["name", "ten_do_an"]},
        *_DECISION,
    ],
}


def upgrade() -> None:
    for layer, schema in SCHEMAS.items():
        op.execute(sa.text("UPDATE catalogue_layer SET schema = CAST(:s AS jsonb) WHERE id = :i")
                   .bindparams(s=json.dumps(schema), i=layer))


def downgrade() -> None:
    op.execute("UPDATE catalogue_layer SET schema = '[]' WHERE id IN ('zoning_plans', "
               "'detailed_plans')")

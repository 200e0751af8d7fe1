"""A report's photos (at most five): each re-encoded without its EXIF (place, camera) and kept
in the document store by its hash; the anonymous reporter adds them with the upload token the
report's answer gave (only its hash is kept).

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.add_column("feedback_report", sa.Column("upload_token_hash", sa.String(64)))
    op.create_table(
        "feedback_photo",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("report_id", sa.BigInteger, sa.ForeignKey("feedback_report.id"),
                  nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="hex_sha256"),
        sa.UniqueConstraint("report_id", "sha256", name="one_copy_per_report"),
    )
    op.create_index("ix_feedback_photo_report", "feedback_photo", ["report_id"])


def downgrade() -> None:
    op.drop_table("feedback_photo")
    op.drop_column("feedback_report", "upload_token_hash")

"""Ingest jobs: an upload's way from file to validated version, with progress, the doctors'
questions and their answers.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

NOW = sa.func.now()


def upgrade() -> None:
    op.create_table(
        "etl_job",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("layer_id", sa.String(48), sa.ForeignKey("catalogue_layer.id"),
                  nullable=False),
        sa.Column("version_id", sa.BigInteger, sa.ForeignKey("catalogue_version.id")),
        sa.Column("status", sa.String(16), nullable=False, server_default="queued"),
        sa.Column("stage", sa.String(24), nullable=False, server_default="queued"),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("message", sa.Text),
        sa.Column("question", JSONB),
        sa.Column("answers", JSONB, nullable=False, server_default="{}"),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
        sa.Column("publish", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'needs_input', 'failed', 'succeeded')",
            name="known_status"),
    )
    op.create_index("ix_etl_job_layer", "etl_job", ["layer_id"])
    op.add_column("catalogue_version", sa.Column("answers", JSONB, nullable=False,
                                                 server_default="{}"))
    op.create_index("ix_catalogue_version_source", "catalogue_version",
                    ["layer_id", "source_sha256"])


def downgrade() -> None:
    op.drop_index("ix_catalogue_version_source", "catalogue_version")
    op.drop_column("catalogue_version", "answers")
    op.drop_table("etl_job")

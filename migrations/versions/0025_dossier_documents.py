"""A dossier's documents: one row per file attached for one of its procedure's documents, the
file itself on disk under its content hash (never under the name it came with). A removed
document keeps its row (removed_at); its file goes with the sweep once no row needs it.

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

NOW = sa.func.now()


def upgrade() -> None:
    op.create_table(
        "dossier_document",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("dossier_id", sa.BigInteger, sa.ForeignKey("dossier.id"), nullable=False),
        sa.Column("doc_key", sa.String(40), nullable=False),  # the procedure's document key
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),  # as sniffed, not as sent
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),  # for display only, never a path
        sa.Column("uploaded_by", sa.BigInteger, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=NOW),
        # The supplement request the file answers (its table comes later: no foreign key).
        sa.Column("for_event_id", sa.BigInteger),
        sa.Column("removed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        sa.CheckConstraint("size_bytes > 0", name="not_empty"),
    )
    op.create_index("ix_dossier_document_dossier", "dossier_document",
                    ["dossier_id", "doc_key"])
    # The sweep asks, for each file on disk, whether a row still needs it.
    op.create_index("ix_dossier_document_sha256", "dossier_document", ["sha256"],
                    postgresql_where=sa.text("removed_at IS NULL"))


def downgrade() -> None:
    op.drop_table("dossier_document")

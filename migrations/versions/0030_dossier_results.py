"""A dossier's result (the permit, the certificate) as a signed PDF: its file in the store by
its hash, who signed it and when; anyone holding a copy checks it against the hash.

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "dossier_result",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("dossier_id", sa.BigInteger, sa.ForeignKey("dossier.id"), nullable=False,
                  unique=True),
        sa.Column("event_id", sa.BigInteger, sa.ForeignKey("dossier_event.id"), nullable=False),
        sa.Column("result_no", sa.String(60), nullable=False),
        # The signed file, in the document store under this SHA-256.
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("signer", sa.Text, nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="hex_sha256"),
    )
    op.execute("CREATE TRIGGER dossier_result_no_change BEFORE UPDATE OR DELETE ON "
               "dossier_result FOR EACH ROW EXECUTE FUNCTION append_only()")


def downgrade() -> None:
    op.drop_table("dossier_result")

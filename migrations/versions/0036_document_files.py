"""A register entry's file (the scanned or signed document itself): kept in the document store
by its hash, as dossiers' files are, with its sniffed type, size and the name it is downloaded
under.

Revision ID: 0036
Revises: 0035
"""

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("office_document", sa.Column("file_sha256", sa.String(64)))
    op.add_column("office_document", sa.Column("file_type", sa.String(100)))
    op.add_column("office_document", sa.Column("file_size", sa.BigInteger))
    op.add_column("office_document", sa.Column("file_name", sa.Text))
    op.create_check_constraint(
        "file_whole", "office_document",
        "(file_sha256 IS NULL) = (file_type IS NULL) AND (file_sha256 IS NULL) = "
        "(file_size IS NULL) AND (file_sha256 IS NULL) = (file_name IS NULL)")
    op.create_index("ix_office_document_file", "office_document", ["file_sha256"],
                    postgresql_where=sa.text("file_sha256 IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_office_document_file", "office_document")
    op.drop_constraint("file_whole", "office_document")
    for column in ("file_name", "file_size", "file_type", "file_sha256"):
        op.drop_column("office_document", column)

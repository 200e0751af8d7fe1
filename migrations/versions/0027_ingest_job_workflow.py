"""An upload's ingest job moves through the workflow engine like every other status: a
version for If-Match, an append-only event per move, the trigger that refuses any other write.

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
VISIBILITIES = "'public', 'applicant', 'staff', 'internal'"


def upgrade() -> None:
    op.add_column("etl_job", sa.Column("version", sa.Integer, nullable=False,
                                       server_default="1"))
    op.create_table(
        "etl_job_event",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("job_id", sa.BigInteger, sa.ForeignKey("etl_job.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("actor_id", sa.BigInteger, sa.ForeignKey("person.id")),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("visibility", sa.String(12), nullable=False, server_default="staff"),
        sa.Column("detail", JSONB, nullable=False, server_default="{}"),
        sa.CheckConstraint(f"visibility IN ({VISIBILITIES})", name="known_visibility"),
    )
    op.create_index("ix_etl_job_event_job", "etl_job_event", ["job_id"])
    op.execute("CREATE TRIGGER etl_job_event_no_change BEFORE UPDATE OR DELETE ON etl_job_event "
               "FOR EACH ROW EXECUTE FUNCTION append_only()")
    op.execute("CREATE TRIGGER etl_job_status_by_engine BEFORE INSERT OR UPDATE OF status "
               "ON etl_job FOR EACH ROW EXECUTE FUNCTION status_by_engine()")


def downgrade() -> None:
    op.execute("DROP TRIGGER etl_job_status_by_engine ON etl_job")
    op.execute("DROP TRIGGER etl_job_event_no_change ON etl_job_event")
    op.drop_table("etl_job_event")
    op.drop_column("etl_job", "version")

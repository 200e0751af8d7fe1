"""The job queue: procrastinate's schema (its own tables, types and functions, as shipped with
the pinned version), and a queue job for each upload a stopped process left waiting.

Revision ID: 0019
Revises: 0018
"""

from alembic import op
from procrastinate.schema import SchemaManager

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

TABLES = ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs",
          "procrastinate_workers")
TYPES = ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type",
         "procrastinate_job_status")


def upgrade() -> None:
    # The driver's own execute, without parameters: the schema's '%' are not placeholders.
    driver = op.get_bind().connection.driver_connection
    driver.execute(SchemaManager.get_schema())
    # Jobs the in-process runner had not finished: queued again, on the queue this time (the
    # task name and lock are layers/catalogue/tasks.py's).
    op.execute("UPDATE etl_job SET status = 'queued' WHERE status IN ('queued', 'running')")
    op.execute(
        "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args) "
        "SELECT 'default', 'catalogue:ingest', 'etl_job:' || id, "
        "jsonb_build_object('job_id', id) FROM etl_job WHERE status = 'queued' ORDER BY id")


def downgrade() -> None:
    op.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)} CASCADE")
    op.execute(
        "DO $$ DECLARE f regprocedure; BEGIN "
        "FOR f IN SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n "
        "ON n.oid = p.pronamespace WHERE n.nspname = current_schema() "
        "AND p.proname LIKE 'procrastinate\\_%' LOOP "
        "EXECUTE 'DROP FUNCTION ' || f || ' CASCADE'; END LOOP; END $$")
    op.execute(f"DROP TYPE IF EXISTS {', '.join(TYPES)} CASCADE")

"""One workflow engine: a version on every workflow row (If-Match), a note, a visibility and a
detail on every event, the transition tables moved into Python (the status CHECK from the
same enum), and a trigger that refuses a status written by anything but the engine.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from core.workflow import ENGINE_SETTING, Visibility
from layers.catalogue.workflow import VERSION
from permits.workflow import DOSSIER

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

WORKFLOWS = (DOSSIER, VERSION)
VISIBILITIES = ", ".join(f"'{v.value}'" for v in Visibility)


def upgrade() -> None:
    op.execute(f"""
        CREATE FUNCTION status_by_engine() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF coalesce(current_setting('{ENGINE_SETTING}', true), '') <> TG_TABLE_NAME THEN
            RAISE EXCEPTION '%.status is moved only by the workflow engine', TG_TABLE_NAME
              USING ERRCODE = 'insufficient_privilege';
          END IF;
          RETURN NEW;
        END $$""")
    for wf in WORKFLOWS:
        op.add_column(wf.table, sa.Column("version", sa.Integer, nullable=False,
                                          server_default="1"))
        op.drop_constraint("known_status", wf.table, type_="check")
        op.create_check_constraint("known_status", wf.table, wf.check_constraint())
        op.add_column(wf.events, sa.Column("note", sa.Text))
        op.add_column(wf.events, sa.Column("visibility", sa.String(12), nullable=False,
                                           server_default=Visibility.STAFF.value))
        op.create_check_constraint("known_visibility", wf.events,
                                   f"visibility IN ({VISIBILITIES})")
        op.execute(f"CREATE TRIGGER {wf.table}_status_by_engine BEFORE INSERT OR UPDATE OF "
                   f"status ON {wf.table} FOR EACH ROW EXECUTE FUNCTION status_by_engine()")
    op.add_column("dossier_event", sa.Column("detail", JSONB, nullable=False,
                                             server_default="{}"))
    # What applicants did so far (submit, withdraw) was theirs to see, and the public's.
    op.execute("ALTER TABLE dossier_event DISABLE TRIGGER dossier_event_no_change")
    op.execute("UPDATE dossier_event SET visibility = 'public'")
    op.execute("ALTER TABLE dossier_event ENABLE TRIGGER dossier_event_no_change")
    op.drop_table("dossier_transition")
    op.drop_table("catalogue_transition")


def downgrade() -> None:
    for wf in WORKFLOWS:
        op.execute(f"DROP TRIGGER {wf.table}_status_by_engine ON {wf.table}")
        op.drop_constraint("known_visibility", wf.events, type_="check")
        op.drop_column(wf.events, "visibility")
        op.drop_column(wf.events, "note")
        op.drop_column(wf.table, "version")
    op.drop_column("dossier_event", "detail")
    op.execute("DROP FUNCTION status_by_engine()")
    op.create_table(
        "dossier_transition",
        sa.Column("from_status", sa.String(24), primary_key=True),
        sa.Column("action", sa.String(24), primary_key=True),
        sa.Column("to_status", sa.String(24), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
    )
    op.create_table(
        "catalogue_transition",
        sa.Column("from_status", sa.String(16), primary_key=True),
        sa.Column("action", sa.String(16), primary_key=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
    )

"""The closing check from evidence (R-CHK-1): the agencies' versions of the closing checklists,
and on the case list the version a check used and each missing item with its reasons. The
review worklist (R-CHK-2) reads the columns already there (closing_file_at, signed_off_at).

Revision ID: 0006_closing_checklists
Revises: 0005
"""
from alembic import op

revision = "0006_closing_checklists"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Idempotent, as the kernel's migration 0005 before it: tests/integration re-runs both over a
    # database stamped back to 0004.
    op.execute("ALTER TABLE cases ADD COLUMN IF NOT EXISTS closing_check_checklist_version integer")
    op.execute("ALTER TABLE cases ADD COLUMN IF NOT EXISTS closing_check_missing jsonb")
    # Checks recorded before versions used the seed items, version 1, and named no reasons (as
    # their events read back: rebuilding the projection gives the same).
    op.execute("UPDATE cases SET closing_check_checklist_version = 1, closing_check_missing = '[]'::jsonb "
               "WHERE closing_check_passed IS NOT NULL")
    op.execute("""
        CREATE TABLE IF NOT EXISTS closing_checklist_versions (
            agency_id text NOT NULL,
            case_kind text NOT NULL,
            version integer NOT NULL,
            standard text NOT NULL,
            items jsonb NOT NULL,
            filed_by text NOT NULL,
            filed_at timestamptz NOT NULL,
            PRIMARY KEY (agency_id, case_kind, version)
        )
    """)


def downgrade() -> None:
    op.execute("DROP TABLE closing_checklist_versions")
    op.execute("ALTER TABLE cases DROP COLUMN closing_check_missing")
    op.execute("ALTER TABLE cases DROP COLUMN closing_check_checklist_version")

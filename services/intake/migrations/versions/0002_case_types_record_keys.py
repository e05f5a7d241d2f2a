"""Case types (criminal stage and role, matter), notifications' references, the handling
record's milestones on the case list, and the registrations' idempotency keys.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = {
    "criminal_stage": "text",
    "criminal_role": "text",
    "matter": "text",
    "source_system": "text",
    "external_reference": "text",
    "first_meeting_at": "timestamptz",
    "mandate_signed_at": "timestamptz",
    "record_entries": "integer NOT NULL DEFAULT 0",
    "closing_file_at": "timestamptz",
}


def upgrade() -> None:
    for name, kind in COLUMNS.items():
        op.execute(f"ALTER TABLE cases ADD COLUMN {name} {kind}")
    op.execute("CREATE INDEX ix_cases_institution_id ON cases (institution_id)")
    # Write side, not a projection: a notification's (source system, external reference) or a
    # client's Idempotency-Key, claimed in the registration's own transaction.
    op.execute("CREATE TABLE registration_keys (key text PRIMARY KEY, case_id text NOT NULL)")


def downgrade() -> None:
    op.execute("DROP TABLE registration_keys")
    op.execute("DROP INDEX ix_cases_institution_id")
    for name in COLUMNS:
        op.execute(f"ALTER TABLE cases DROP COLUMN {name}")

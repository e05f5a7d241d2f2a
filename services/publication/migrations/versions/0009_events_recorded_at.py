"""The store's events by the moment they were recorded, so a disclosure composed as of a cut-off
asks in one index probe whether any fact came after it (queries.disclosures.disclosure_as_of):
when none did, the read models hold exactly the facts up to it, and the disclosure is read from
them as the draft is, instead of from every fact event of the store.

Revision ID: 0009_events_recorded_at
Revises: 0008_closure_criminal_role
"""
from alembic import op

revision = "0009_events_recorded_at"
down_revision = "0008_closure_criminal_role"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS events_recorded_at ON events (recorded_at)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS events_recorded_at")

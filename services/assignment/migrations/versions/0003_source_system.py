"""The notifying organ's system of a case (CaseRegistered.source_system), so the organ that
notified a case may read whom it was assigned to, and no other organ may (R-ASG-7).

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null for cases the agency registered itself and for cases decided before this column:
    # their decisions' events carry no source_system, so no organ may read them.
    op.execute("ALTER TABLE case_assignments ADD COLUMN source_system text")


def downgrade() -> None:
    op.execute("ALTER TABLE case_assignments DROP COLUMN source_system")

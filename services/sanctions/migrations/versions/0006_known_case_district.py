"""The district of each case sanctions knows of (intake's CaseRegistered), which scopes a
district's bureau to its district's investigations, complaints and suspensions (docs/security.md
"Scoping"). Cases heard of before carry none: a district's bureau does not see them.

Revision ID: 0006_known_case_district
Revises: 0005_bar_association_loop
"""
from alembic import op

revision = "0006_known_case_district"
down_revision = "0005_bar_association_loop"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE known_cases ADD COLUMN IF NOT EXISTS district text")
    op.execute("CREATE INDEX IF NOT EXISTS ix_known_cases_district ON known_cases (district)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_known_cases_district")
    op.execute("ALTER TABLE known_cases DROP COLUMN IF EXISTS district")

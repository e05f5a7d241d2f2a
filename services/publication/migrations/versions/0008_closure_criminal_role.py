"""A closed case's criminal role, so that duty-lawyer legal help is disclosed as sessions of its
own, apart from the cases (R-PUB-1). Closures recorded before carry none: they count as cases,
as they did.

Revision ID: 0008_closure_criminal_role
Revises: 0007_kernel_held_snapshot_keys
"""
from alembic import op

revision = "0008_closure_criminal_role"
down_revision = "0007_kernel_held_snapshot_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE closed_cases ADD COLUMN criminal_role text")


def downgrade() -> None:
    op.execute("ALTER TABLE closed_cases DROP COLUMN criminal_role")

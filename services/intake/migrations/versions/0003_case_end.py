"""The end of a case on the case list: termination, the closing check, archive, the last
follow-up's satisfaction, a pending request for another handler.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = {
    "reassignment_requested_at": "timestamptz",
    "terminated_at": "timestamptz",
    "termination_reason": "text",
    "closing_check_passed": "boolean",
    "archived_at": "timestamptz",
    "satisfaction": "text",
}


def upgrade() -> None:
    for name, kind in COLUMNS.items():
        op.execute(f"ALTER TABLE cases ADD COLUMN {name} {kind}")


def downgrade() -> None:
    for name in COLUMNS:
        op.execute(f"ALTER TABLE cases DROP COLUMN {name}")

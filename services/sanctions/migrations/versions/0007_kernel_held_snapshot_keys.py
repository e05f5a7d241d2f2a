"""The kernel's tables and columns added since the last kernel migration, for databases
migrated before them: `parked_cases` and `parked_events` (a case's events held behind its dead
letter) with `dead_letters.case_key` and `discarded_at` (docs/reliability.md), `snapshots`
(shared/snapshot.py) and `idempotency_keys` (shared/idempotency.py). Fresh databases got them
from 0001 already; the kernel's DDL is idempotent, so running it again changes nothing there.

Revision ID: 0007_kernel_held_snapshot_keys
Revises: 0006_known_case_district
"""
from alembic import op

from shared.db import create_kernel_tables

revision = "0007_kernel_held_snapshot_keys"
down_revision = "0006_known_case_district"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kernel_tables(op.execute)


def downgrade() -> None:
    # Nothing: the kernel's tables belong to 0001, whose downgrade drops them all.
    pass

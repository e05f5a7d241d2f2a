"""The kernel's tables added since this service's first migration (personal_data_keys,
personal_data_reads: docs/privacy.md), for databases migrated before them. Fresh databases got
them from 0001 already; the kernel's DDL is idempotent, so running it again changes nothing there.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

from shared.db import create_kernel_tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kernel_tables(op.execute)


def downgrade() -> None:
    # Nothing: the kernel's tables belong to 0001, whose downgrade drops them all.
    pass

"""Kernel tables, the case list and the case-number sequence.

Revision ID: 0001
Revises:
"""
from alembic import op

from shared.db import create_kernel_tables, drop_kernel_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kernel_tables(op.execute)
    op.execute("CREATE SEQUENCE IF NOT EXISTS case_number_seq")
    op.execute(
        """
        CREATE TABLE cases (
            case_id          text PRIMARY KEY,
            case_number      text NOT NULL UNIQUE,
            case_kind        text NOT NULL,
            cause            text NOT NULL,
            district         text NOT NULL,
            agency_id        text NOT NULL,
            group_case       boolean NOT NULL DEFAULT false,
            status           text NOT NULL,
            handler_id       text,
            handler_name     text,
            handler_kind     text,
            institution_id   text,
            institution_name text,
            registered_at    timestamptz NOT NULL,
            assigned_at      timestamptz,
            closed_at        timestamptz,
            ended_on         date,
            outcome          text,
            version          integer NOT NULL
        )
        """
    )
    for column in ("case_kind", "district", "agency_id", "status", "handler_id"):
        op.execute(f"CREATE INDEX ix_cases_{column} ON cases ({column})")
    op.execute("CREATE INDEX ix_cases_registered_at ON cases (registered_at DESC)")


def downgrade() -> None:
    op.execute("DROP TABLE cases")
    op.execute("DROP SEQUENCE case_number_seq")
    drop_kernel_tables(op.execute)

"""Kernel tables, the closed cases awaiting evaluation and the completed evaluations.

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
    op.execute(
        """
        CREATE TABLE closed_cases (
            case_id          text PRIMARY KEY,
            case_number      text NOT NULL,
            case_kind        text NOT NULL,
            district         text NOT NULL,
            agency_id        text NOT NULL,
            handler_id       text NOT NULL,
            handler_name     text NOT NULL,
            handler_kind     text NOT NULL,
            licence_number   text,
            institution_id   text NOT NULL,
            institution_name text NOT NULL,
            closed_at        timestamptz NOT NULL,
            evaluation_id    text
        )
        """
    )
    for column in ("case_kind", "agency_id", "handler_id", "institution_id"):
        op.execute(f"CREATE INDEX ix_closed_cases_{column} ON closed_cases ({column})")
    op.execute("CREATE INDEX ix_closed_cases_awaiting ON closed_cases (closed_at, case_id) "
               "WHERE evaluation_id IS NULL")
    op.execute(
        """
        CREATE TABLE evaluations (
            evaluation_id           text PRIMARY KEY,
            case_id                 text NOT NULL UNIQUE,
            case_number             text NOT NULL,
            case_kind               text NOT NULL,
            agency_id               text NOT NULL,
            handler_id              text NOT NULL,
            handler_name            text NOT NULL,
            handler_kind            text NOT NULL,
            licence_number          text,
            institution_id          text NOT NULL,
            institution_name        text NOT NULL,
            standard                text NOT NULL,
            indicators              jsonb NOT NULL,
            grade                   text NOT NULL,
            rule_version            text NOT NULL,
            reviewer_id             text NOT NULL,
            reviewer_institution_id text NOT NULL,
            findings                text NOT NULL,
            completed_at            timestamptz NOT NULL,
            version                 integer NOT NULL
        )
        """
    )
    for column in ("agency_id", "handler_id", "institution_id", "grade"):
        op.execute(f"CREATE INDEX ix_evaluations_{column} ON evaluations ({column})")
    op.execute("CREATE INDEX ix_evaluations_completed_at ON evaluations (completed_at DESC)")


def downgrade() -> None:
    op.execute("DROP TABLE evaluations")
    op.execute("DROP TABLE closed_cases")
    drop_kernel_tables(op.execute)

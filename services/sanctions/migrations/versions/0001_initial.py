"""Kernel tables, the investigations of failed cases and the notices to the bar association.

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
        CREATE TABLE investigations (
            investigation_id text PRIMARY KEY,
            evaluation_id    text NOT NULL UNIQUE,
            case_id          text NOT NULL,
            case_number      text NOT NULL,
            case_kind        text NOT NULL,
            agency_id        text NOT NULL,
            handler_id       text NOT NULL,
            handler_name     text NOT NULL,
            handler_kind     text NOT NULL,
            licence_number   text,
            institution_id   text NOT NULL,
            institution_name text NOT NULL,
            findings         text NOT NULL,
            status           text NOT NULL,
            opened_at        timestamptz NOT NULL,
            version          integer NOT NULL
        )
        """
    )
    for column in ("case_id", "agency_id", "handler_id", "institution_id", "status"):
        op.execute(f"CREATE INDEX ix_investigations_{column} ON investigations ({column})")
    op.execute("CREATE INDEX ix_investigations_opened_at ON investigations (opened_at DESC)")
    op.execute(
        """
        CREATE TABLE bar_notices (
            notice_id        text PRIMARY KEY,
            investigation_id text NOT NULL UNIQUE REFERENCES investigations (investigation_id),
            case_id          text NOT NULL,
            case_number      text NOT NULL,
            case_kind        text NOT NULL,
            lawyer_id        text NOT NULL,
            lawyer_name      text NOT NULL,
            licence_number   text,
            institution_id   text NOT NULL,
            institution_name text NOT NULL,
            reason           text NOT NULL,
            issued_at        timestamptz NOT NULL
        )
        """
    )
    for column in ("case_id", "lawyer_id"):
        op.execute(f"CREATE INDEX ix_bar_notices_{column} ON bar_notices ({column})")
    op.execute("CREATE INDEX ix_bar_notices_issued_at ON bar_notices (issued_at DESC)")


def downgrade() -> None:
    op.execute("DROP TABLE bar_notices")
    op.execute("DROP TABLE investigations")
    drop_kernel_tables(op.execute)

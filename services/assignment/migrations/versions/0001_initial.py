"""Kernel tables, the provider registry, monthly counts and the case assignments.

Revision ID: 0001
Revises:
"""
from alembic import op

from shared.db import create_kernel_tables, drop_kernel_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = [
    """
    CREATE TABLE institutions (
        institution_id         text PRIMARY KEY,
        name                   text NOT NULL,
        kind                   text NOT NULL,
        agency_id              text NOT NULL,
        district               text NOT NULL,
        recruited_at           timestamptz NOT NULL,
        commitment_signed_on   date,
        commitment_valid_until date,
        version                integer NOT NULL
    )
    """,
    "CREATE INDEX ix_institutions_agency_id ON institutions (agency_id)",
    """
    CREATE TABLE commitments (
        institution_id text NOT NULL,
        version        integer NOT NULL,
        signed_on      date NOT NULL,
        valid_until    date NOT NULL,
        signed_at      timestamptz NOT NULL,
        PRIMARY KEY (institution_id, version)
    )
    """,
    """
    CREATE TABLE handlers (
        handler_id        text PRIMARY KEY,
        name              text NOT NULL,
        kind              text NOT NULL,
        licence_number    text,
        institution_id    text NOT NULL,
        agency_id         text NOT NULL,
        years_of_practice integer NOT NULL,
        status            text NOT NULL,
        registered_order  bigint NOT NULL,
        registered_at     timestamptz NOT NULL,
        last_assigned_at  timestamptz,
        version           integer NOT NULL
    )
    """,
    "CREATE INDEX ix_handlers_institution_id ON handlers (institution_id)",
    "CREATE INDEX ix_handlers_agency_id ON handlers (agency_id)",
    """
    CREATE TABLE handler_month_counts (
        handler_id text NOT NULL,
        month      text NOT NULL,
        case_count integer NOT NULL,
        PRIMARY KEY (handler_id, month)
    )
    """,
    """
    CREATE TABLE case_assignments (
        case_id          text PRIMARY KEY,
        case_number      text NOT NULL,
        case_kind        text NOT NULL,
        agency_id        text NOT NULL,
        group_case       boolean NOT NULL,
        status           text NOT NULL,
        method           text,
        handler_id       text,
        handler_name     text,
        institution_name text,
        reason           text,
        proposal         text,
        candidates       jsonb NOT NULL,
        decided_at       timestamptz NOT NULL,
        version          integer NOT NULL
    )
    """,
    "CREATE INDEX ix_case_assignments_agency_id ON case_assignments (agency_id)",
    "CREATE INDEX ix_case_assignments_status ON case_assignments (status)",
    "CREATE INDEX ix_case_assignments_handler_id ON case_assignments (handler_id)",
]


def upgrade() -> None:
    create_kernel_tables(op.execute)
    for statement in TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in ("case_assignments", "handler_month_counts", "handlers", "commitments", "institutions"):
        op.execute(f"DROP TABLE {table}")
    drop_kernel_tables(op.execute)

"""Kernel tables and the disclosure's read models: evaluation results and closed cases.

Revision ID: 0001
Revises:
"""
from alembic import op

from shared.db import create_kernel_tables, drop_kernel_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

HANDLER_COLUMNS = """
            institution_id   text NOT NULL,
            institution_name text NOT NULL,
            handler_id       text NOT NULL,
            handler_name     text NOT NULL,
            handler_kind     text NOT NULL,
"""


def upgrade() -> None:
    create_kernel_tables(op.execute)
    op.execute(
        f"""
        CREATE TABLE evaluation_results (
            case_id          text PRIMARY KEY,
            evaluation_id    text NOT NULL,
            case_number      text NOT NULL,
            case_kind        text NOT NULL,
            agency_id        text NOT NULL,
            grade            text NOT NULL,
            {HANDLER_COLUMNS}
            completed_at     timestamptz NOT NULL,
            period           text NOT NULL
        )
        """
    )
    op.execute(
        f"""
        CREATE TABLE closed_cases (
            case_id          text PRIMARY KEY,
            case_number      text NOT NULL,
            case_kind        text NOT NULL,
            agency_id        text NOT NULL,
            {HANDLER_COLUMNS}
            group_case       boolean NOT NULL DEFAULT false,
            closed_at        timestamptz NOT NULL,
            period           text NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_evaluation_results_period ON evaluation_results "
               "(period, agency_id, case_number)")
    op.execute("CREATE INDEX ix_closed_cases_period ON closed_cases "
               "(period, agency_id, institution_id, handler_id)")


def downgrade() -> None:
    op.execute("DROP TABLE closed_cases")
    op.execute("DROP TABLE evaluation_results")
    drop_kernel_tables(op.execute)

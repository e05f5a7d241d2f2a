"""The aided person's answers at follow-ups (R-EVL-5) and the cases whose aid was terminated
(never evaluated).

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE follow_ups (
            follow_up_id text PRIMARY KEY,
            case_id      text NOT NULL,
            visited_on   date NOT NULL,
            channel      text NOT NULL,
            satisfaction text NOT NULL,
            recorded_at  timestamptz NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_follow_ups_case_id ON follow_ups (case_id, visited_on, recorded_at)")
    op.execute(
        """
        CREATE TABLE terminated_cases (
            case_id       text PRIMARY KEY,
            reason        text NOT NULL,
            terminated_at timestamptz NOT NULL
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE terminated_cases")
    op.execute("DROP TABLE follow_ups")

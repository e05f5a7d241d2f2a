"""The reviewers each closed case was given to (R-EVL-4, R-EVL-6): what a peer reviewer may see
and grade.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE review_assignments (
            case_id                 text NOT NULL,
            reviewer_id             text NOT NULL,
            reviewer_name           text NOT NULL,
            reviewer_institution_id text NOT NULL,
            years_of_practice       integer NOT NULL,
            given_at                timestamptz NOT NULL,
            PRIMARY KEY (case_id, reviewer_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_review_assignments_reviewer_id ON review_assignments (reviewer_id)")


def downgrade() -> None:
    op.execute("DROP TABLE review_assignments")

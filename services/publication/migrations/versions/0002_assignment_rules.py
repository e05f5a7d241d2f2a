"""The assignment rules the agencies published (R-ASG-5, R-PUB-3).

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE assignment_rules (
            agency_id                text NOT NULL,
            version                  integer NOT NULL,
            title                    text NOT NULL,
            text                     text NOT NULL,
            effective_from           date NOT NULL,
            monthly_cap              integer,
            senior_years_of_practice integer,
            filed_with               text NOT NULL,
            published_at             timestamptz NOT NULL,
            PRIMARY KEY (agency_id, version)
        )
    """)


def downgrade() -> None:
    op.execute("DROP TABLE assignment_rules")

"""The agencies' recruitment calls as the public reads them (R-PUB-3).

Revision ID: 0006_recruitment_calls
Revises: 0005_disclosure_workflow
"""
from alembic import op

revision = "0006_recruitment_calls"
down_revision = "0005_disclosure_workflow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE recruitment_calls (
            call_id       text PRIMARY KEY,
            agency_id     text NOT NULL,
            title         text NOT NULL,
            fields_sought text[] NOT NULL,
            deadline      date NOT NULL,
            how_to_apply  text NOT NULL,
            announced_at  timestamptz NOT NULL
        )
    """)
    op.execute("CREATE INDEX ix_recruitment_calls_agency_id ON recruitment_calls (agency_id)")


def downgrade() -> None:
    op.execute("DROP TABLE recruitment_calls")

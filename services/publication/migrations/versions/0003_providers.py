"""The public's view of the provider pool: recruited institutions and volunteers (R-PUB-3).

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE recruited_institutions (
            institution_id       text PRIMARY KEY,
            name                 text NOT NULL,
            kind                 text NOT NULL,
            agency_id            text NOT NULL,
            district             text NOT NULL,
            recruitment_method   text,
            recruited_on         date,
            recruiting_agency    text,
            results_published_on date,
            recruited_at         timestamptz NOT NULL
        )
    """)
    op.execute("CREATE INDEX ix_recruited_institutions_agency_id ON recruited_institutions (agency_id)")
    op.execute("""
        CREATE TABLE volunteers (
            handler_id       text PRIMARY KEY,
            name             text NOT NULL,
            institution_name text NOT NULL,
            agency_id        text NOT NULL,
            registered_at    timestamptz NOT NULL
        )
    """)
    op.execute("CREATE INDEX ix_volunteers_agency_id ON volunteers (agency_id)")


def downgrade() -> None:
    op.execute("DROP TABLE volunteers")
    op.execute("DROP TABLE recruited_institutions")

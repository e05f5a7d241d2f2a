"""The bureau's suspensions of handlers (R-SAN-2, R-ASG-6).

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
        CREATE TABLE suspensions (
            suspension_id        text PRIMARY KEY,
            handler_id           text NOT NULL,
            agency_id            text,
            investigation_id     text,
            reason               text NOT NULL,
            until                date,
            status               text NOT NULL,
            decided_at           timestamptz NOT NULL,
            reinstated_at        timestamptz,
            reinstatement_reason text
        )
    """)
    op.execute("CREATE INDEX ix_suspensions_handler_id ON suspensions (handler_id)")
    op.execute("CREATE INDEX ix_suspensions_status ON suspensions (status)")


def downgrade() -> None:
    op.execute("DROP TABLE suspensions")

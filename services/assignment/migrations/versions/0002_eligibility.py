"""What eligibility reads besides the commitment and the cap: practice areas and
qualifications (R-ASG-8), suspensions (R-ASG-6), unavailability, and the parties each handler
and institution acted for (the conflict check).

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATEMENTS = [
    # R-PRV-1: the recruitment record
    "ALTER TABLE institutions ADD COLUMN recruitment_method text",
    "ALTER TABLE institutions ADD COLUMN recruited_on date",
    "ALTER TABLE institutions ADD COLUMN recruiting_agency text",
    "ALTER TABLE institutions ADD COLUMN results_published_on date",
    # R-PRV-3: a volunteer's own letters
    """
    CREATE TABLE volunteer_commitments (
        handler_id  text NOT NULL,
        version     integer NOT NULL,
        signed_on   date NOT NULL,
        valid_until date NOT NULL,
        PRIMARY KEY (handler_id, version)
    )
    """,
    "ALTER TABLE handlers ADD COLUMN practice_areas jsonb NOT NULL DEFAULT '[]'",
    "ALTER TABLE handlers ADD COLUMN qualifications jsonb NOT NULL DEFAULT '[]'",
    """
    CREATE TABLE handler_suspensions (
        handler_id    text NOT NULL,
        suspension_id text NOT NULL,
        reason        text NOT NULL,
        until         date,
        suspended_at  timestamptz NOT NULL,
        PRIMARY KEY (handler_id, suspension_id)
    )
    """,
    """
    CREATE TABLE handler_unavailability (
        handler_id       text NOT NULL,
        version          integer NOT NULL,
        unavailable_from date NOT NULL,
        unavailable_to   date NOT NULL,
        PRIMARY KEY (handler_id, version)
    )
    """,
    """
    CREATE TABLE represented_parties (
        case_id        text NOT NULL,
        handler_id     text NOT NULL,
        institution_id text NOT NULL,
        party_hash     text NOT NULL,
        PRIMARY KEY (case_id, handler_id)
    )
    """,
    "CREATE INDEX ix_represented_parties_party_hash ON represented_parties (party_hash)",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for table in ("represented_parties", "handler_unavailability", "handler_suspensions",
                  "volunteer_commitments"):
        op.execute(f"DROP TABLE {table}")
    op.execute("ALTER TABLE handlers DROP COLUMN qualifications")
    op.execute("ALTER TABLE handlers DROP COLUMN practice_areas")
    for column in ("recruitment_method", "recruited_on", "recruiting_agency", "results_published_on"):
        op.execute(f"ALTER TABLE institutions DROP COLUMN {column}")

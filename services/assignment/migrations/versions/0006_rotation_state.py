"""The rotation's read model, so a decision never folds the agency's rotation stream (which
takes one event per case): `rotation_state` (each agency's stream version and turns),
`rotation_last_turns` (each handler's last turn), `rotation_month_counts` (each handler's cases
in a month, group cases excluded, R-ASG-4) and `rotation_turns` (the turns each case took).
Filled here from the rotation streams already stored, so the first decision after the upgrade
appends at the stream's true version.

A turn's number is its rank among its stream's `TurnTaken` events (every event of a rotation
stream is one). Idempotent, as the migrations before it.

Revision ID: 0006_rotation_state
Revises: 0005_institution_arrangement
"""
from alembic import op

revision = "0006_rotation_state"
down_revision = "0005_institution_arrangement"
branch_labels = None
depends_on = None

STATEMENTS = [
    """
    CREATE TABLE IF NOT EXISTS rotation_state (
        agency_id text    NOT NULL PRIMARY KEY,
        version   integer NOT NULL,
        turns     integer NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rotation_last_turns (
        agency_id  text    NOT NULL,
        handler_id text    NOT NULL,
        last_turn  integer NOT NULL,
        PRIMARY KEY (agency_id, handler_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rotation_month_counts (
        agency_id  text    NOT NULL,
        month      text    NOT NULL,
        handler_id text    NOT NULL,
        case_count integer NOT NULL,
        PRIMARY KEY (agency_id, month, handler_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rotation_turns (
        agency_id  text NOT NULL,
        case_id    text NOT NULL,
        handler_id text NOT NULL,
        PRIMARY KEY (agency_id, case_id, handler_id)
    )
    """,
    """
    CREATE TEMPORARY TABLE rotation_backfill AS
    SELECT substr(stream_id, length('rotation-') + 1) AS agency_id, version,
           row_number() OVER (PARTITION BY stream_id ORDER BY version) AS turn,
           data ->> 'handler_id' AS handler_id, data ->> 'case_id' AS case_id, data ->> 'month' AS month,
           (data ->> 'counts_toward_cap')::boolean AS counts
    FROM events WHERE stream_id LIKE 'rotation-%' AND type = 'TurnTaken'
    """,
    """
    INSERT INTO rotation_state (agency_id, version, turns)
    SELECT agency_id, max(version), count(*) FROM rotation_backfill GROUP BY agency_id
    ON CONFLICT DO NOTHING
    """,
    """
    INSERT INTO rotation_last_turns (agency_id, handler_id, last_turn)
    SELECT agency_id, handler_id, max(turn) FROM rotation_backfill GROUP BY agency_id, handler_id
    ON CONFLICT DO NOTHING
    """,
    """
    INSERT INTO rotation_month_counts (agency_id, month, handler_id, case_count)
    SELECT agency_id, month, handler_id, count(*) FROM rotation_backfill WHERE counts
    GROUP BY agency_id, month, handler_id
    ON CONFLICT DO NOTHING
    """,
    """
    INSERT INTO rotation_turns (agency_id, case_id, handler_id)
    SELECT DISTINCT agency_id, case_id, handler_id FROM rotation_backfill
    ON CONFLICT DO NOTHING
    """,
    "DROP TABLE rotation_backfill",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for table in ("rotation_turns", "rotation_month_counts", "rotation_last_turns", "rotation_state"):
        op.execute(f"DROP TABLE IF EXISTS {table}")

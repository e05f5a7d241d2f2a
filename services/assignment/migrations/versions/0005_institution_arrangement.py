"""Cases given to an institution, which arranges a person (R-PRV-4), and the conflict check the
other way round: whom each handler and institution acted against.

- `case_assignments.institution_id`: the institution the case was given to (awaiting its
  person) or of the handler assigned; `due_at`: when the institution must have arranged one.
- `opposed_parties`: the adverse parties' keyed hashes of every case assigned to a handler,
  with the handler's institution. Filled here from the cases already decided (their
  HandlerAssigned events carry the case's adverse parties), so the check covers the past too.

Idempotent, as the kernel migration before it: a database stamped back and upgraded again (as
tests/integration/test_migrations.py does) runs it once more and changes nothing.

Revision ID: 0005_institution_arrangement
Revises: 0004
"""
from alembic import op

revision = "0005_institution_arrangement"
down_revision = "0004"
branch_labels = None
depends_on = None

STATEMENTS = [
    "ALTER TABLE case_assignments ADD COLUMN IF NOT EXISTS institution_id text",
    "ALTER TABLE case_assignments ADD COLUMN IF NOT EXISTS due_at timestamptz",
    "CREATE INDEX IF NOT EXISTS ix_case_assignments_institution_id ON case_assignments (institution_id)",
    """
    UPDATE case_assignments AS c SET institution_id = h.institution_id
    FROM handlers AS h WHERE h.handler_id = c.handler_id AND c.institution_id IS NULL
    """,
    """
    CREATE TABLE IF NOT EXISTS opposed_parties (
        case_id        text NOT NULL,
        handler_id     text NOT NULL,
        party_hash     text NOT NULL,
        institution_id text NOT NULL,
        PRIMARY KEY (case_id, handler_id, party_hash)
    )
    """,
    "CREATE INDEX IF NOT EXISTS ix_opposed_parties_party_hash ON opposed_parties (party_hash)",
    """
    INSERT INTO opposed_parties (case_id, handler_id, party_hash, institution_id)
    SELECT e.data -> 'case' ->> 'case_id', e.data -> 'handler' ->> 'handler_id', party.hash,
           e.data -> 'handler' ->> 'institution_id'
    FROM events AS e,
         jsonb_array_elements_text(coalesce(e.data -> 'case' -> 'adverse_party_hashes', '[]'::jsonb))
             AS party(hash)
    WHERE e.type = 'HandlerAssigned' AND e.stream_id LIKE 'assignment-%'
    ON CONFLICT DO NOTHING
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS opposed_parties")
    op.execute("DROP INDEX IF EXISTS ix_case_assignments_institution_id")
    op.execute("ALTER TABLE case_assignments DROP COLUMN IF EXISTS due_at")
    op.execute("ALTER TABLE case_assignments DROP COLUMN IF EXISTS institution_id")

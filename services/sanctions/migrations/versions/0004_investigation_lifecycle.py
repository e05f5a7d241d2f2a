"""The investigation's lifecycle (bureau, due date, assignee, notes, evidence, findings,
decision, closure, the organ informed), complaints of aided persons, the cases sanctions knows
of (their notifying organ and handler), and suspensions' scope and period. Idempotent, as the
kernel migration before it (a database stamped back to an earlier revision runs it again).

Revision ID: 0004_investigation_lifecycle
Revises: 0003
"""
from alembic import op

revision = "0004_investigation_lifecycle"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An investigation opened on a complaint follows no evaluation.
    op.execute("ALTER TABLE investigations ALTER COLUMN evaluation_id DROP NOT NULL")
    op.execute("""
        ALTER TABLE investigations
            ADD COLUMN IF NOT EXISTS origin           text NOT NULL DEFAULT 'evaluation',
            ADD COLUMN IF NOT EXISTS complaint_id     text,
            ADD COLUMN IF NOT EXISTS bureau_id        text,
            ADD COLUMN IF NOT EXISTS due_on           date,
            ADD COLUMN IF NOT EXISTS assignee_id      text,
            ADD COLUMN IF NOT EXISTS bureau_findings  text,
            ADD COLUMN IF NOT EXISTS violation        boolean,
            ADD COLUMN IF NOT EXISTS measures         jsonb NOT NULL DEFAULT '[]',
            ADD COLUMN IF NOT EXISTS reasoning        text,
            ADD COLUMN IF NOT EXISTS suspension_id    text,
            ADD COLUMN IF NOT EXISTS decided_at       timestamptz,
            ADD COLUMN IF NOT EXISTS closed_at        timestamptz,
            ADD COLUMN IF NOT EXISTS organ_id         text,
            ADD COLUMN IF NOT EXISTS informed_at      timestamptz
    """)
    for column in ("bureau_id", "due_on", "assignee_id", "organ_id"):
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_investigations_{column} ON investigations ({column})")
    op.execute("""
        CREATE TABLE IF NOT EXISTS investigation_notes (
            note_id          text PRIMARY KEY,
            investigation_id text NOT NULL REFERENCES investigations (investigation_id),
            text             text NOT NULL,
            author           text NOT NULL,
            added_at         timestamptz NOT NULL
        )
    """)
    op.execute("CREATE INDEX IF NOT EXISTS ix_investigation_notes_investigation_id "
               "ON investigation_notes (investigation_id)")
    op.execute("""
        CREATE TABLE IF NOT EXISTS investigation_evidence (
            evidence_id      text PRIMARY KEY,
            investigation_id text NOT NULL REFERENCES investigations (investigation_id),
            reference        text NOT NULL,
            description      text NOT NULL,
            added_by         text NOT NULL,
            added_at         timestamptz NOT NULL
        )
    """)
    op.execute("CREATE INDEX IF NOT EXISTS ix_investigation_evidence_investigation_id "
               "ON investigation_evidence (investigation_id)")
    op.execute("""
        CREATE TABLE IF NOT EXISTS complaints (
            complaint_id     text PRIMARY KEY,
            case_id          text NOT NULL,
            case_number      text NOT NULL,
            agency_id        text NOT NULL,
            bureau_id        text NOT NULL,
            handler_id       text,
            text             text NOT NULL,
            received_on      date NOT NULL,
            answer_due_on    date NOT NULL,
            status           text NOT NULL,
            recorded_by      text NOT NULL,
            recorded_at      timestamptz NOT NULL,
            answer           text,
            answered_by      text,
            answered_at      timestamptz,
            investigation_id text
        )
    """)
    for column in ("case_id", "agency_id", "bureau_id", "answer_due_on", "status"):
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_complaints_{column} ON complaints ({column})")
    op.execute("CREATE INDEX IF NOT EXISTS ix_complaints_recorded_at ON complaints (recorded_at DESC)")
    op.execute("""
        CREATE TABLE IF NOT EXISTS known_cases (
            case_id          text PRIMARY KEY,
            case_number      text NOT NULL,
            case_kind        text,
            agency_id        text,
            source_system    text,
            handler_id       text,
            handler_name     text,
            handler_kind     text,
            licence_number   text,
            institution_id   text,
            institution_name text
        )
    """)
    op.execute("""
        ALTER TABLE suspensions
            ADD COLUMN IF NOT EXISTS scope           text,
            ADD COLUMN IF NOT EXISTS case_id         text,
            ADD COLUMN IF NOT EXISTS starts_on       date,
            ADD COLUMN IF NOT EXISTS decided_by      text,
            ADD COLUMN IF NOT EXISTS automatic       boolean NOT NULL DEFAULT false
    """)
    op.execute("CREATE INDEX IF NOT EXISTS ix_suspensions_until ON suspensions (until)")


_INVESTIGATION_COLUMNS = ("origin", "complaint_id", "bureau_id", "due_on", "assignee_id", "bureau_findings",
                          "violation", "measures", "reasoning", "suspension_id", "decided_at", "closed_at",
                          "organ_id", "informed_at")
_SUSPENSION_COLUMNS = ("scope", "case_id", "starts_on", "decided_by", "automatic")


def _drop_columns(table: str, columns: tuple[str, ...]) -> None:
    op.execute(f"ALTER TABLE {table} " + ", ".join(f"DROP COLUMN IF EXISTS {c}" for c in columns))


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_suspensions_until")
    _drop_columns("suspensions", _SUSPENSION_COLUMNS)
    op.execute("DROP TABLE IF EXISTS known_cases")
    op.execute("DROP TABLE IF EXISTS complaints")
    op.execute("DROP TABLE IF EXISTS investigation_evidence")
    op.execute("DROP TABLE IF EXISTS investigation_notes")
    _drop_columns("investigations", _INVESTIGATION_COLUMNS)
    # Investigations opened on a complaint follow no evaluation: the older schema cannot hold them.
    op.execute("DELETE FROM bar_notices WHERE investigation_id IN "
               "(SELECT investigation_id FROM investigations WHERE evaluation_id IS NULL)")
    op.execute("DELETE FROM investigations WHERE evaluation_id IS NULL")
    op.execute("ALTER TABLE investigations ALTER COLUMN evaluation_id SET NOT NULL")

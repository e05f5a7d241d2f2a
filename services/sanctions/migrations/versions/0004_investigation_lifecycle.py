"""The investigation's lifecycle (bureau, due date, assignee, notes, evidence, findings,
decision, closure, the organ informed), complaints of aided persons, the cases sanctions knows
of (their notifying organ and handler), and suspensions' scope and period.

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
            ADD COLUMN origin           text NOT NULL DEFAULT 'evaluation',
            ADD COLUMN complaint_id     text,
            ADD COLUMN bureau_id        text,
            ADD COLUMN due_on           date,
            ADD COLUMN assignee_id      text,
            ADD COLUMN bureau_findings  text,
            ADD COLUMN violation        boolean,
            ADD COLUMN measures         jsonb NOT NULL DEFAULT '[]',
            ADD COLUMN reasoning        text,
            ADD COLUMN suspension_id    text,
            ADD COLUMN decided_at       timestamptz,
            ADD COLUMN closed_at        timestamptz,
            ADD COLUMN organ_id         text,
            ADD COLUMN informed_at      timestamptz
    """)
    for column in ("bureau_id", "due_on", "assignee_id", "organ_id"):
        op.execute(f"CREATE INDEX ix_investigations_{column} ON investigations ({column})")
    op.execute("""
        CREATE TABLE investigation_notes (
            note_id          text PRIMARY KEY,
            investigation_id text NOT NULL REFERENCES investigations (investigation_id),
            text             text NOT NULL,
            author           text NOT NULL,
            added_at         timestamptz NOT NULL
        )
    """)
    op.execute("CREATE INDEX ix_investigation_notes_investigation_id "
               "ON investigation_notes (investigation_id)")
    op.execute("""
        CREATE TABLE investigation_evidence (
            evidence_id      text PRIMARY KEY,
            investigation_id text NOT NULL REFERENCES investigations (investigation_id),
            reference        text NOT NULL,
            description      text NOT NULL,
            added_by         text NOT NULL,
            added_at         timestamptz NOT NULL
        )
    """)
    op.execute("CREATE INDEX ix_investigation_evidence_investigation_id "
               "ON investigation_evidence (investigation_id)")
    op.execute("""
        CREATE TABLE complaints (
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
        op.execute(f"CREATE INDEX ix_complaints_{column} ON complaints ({column})")
    op.execute("CREATE INDEX ix_complaints_recorded_at ON complaints (recorded_at DESC)")
    op.execute("""
        CREATE TABLE known_cases (
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
            ADD COLUMN scope           text,
            ADD COLUMN case_id         text,
            ADD COLUMN starts_on       date,
            ADD COLUMN decided_by      text,
            ADD COLUMN automatic       boolean NOT NULL DEFAULT false
    """)
    op.execute("CREATE INDEX ix_suspensions_until ON suspensions (until)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_suspensions_until")
    op.execute("ALTER TABLE suspensions DROP COLUMN scope, DROP COLUMN case_id, DROP COLUMN starts_on, "
               "DROP COLUMN decided_by, DROP COLUMN automatic")
    op.execute("DROP TABLE known_cases")
    op.execute("DROP TABLE complaints")
    op.execute("DROP TABLE investigation_evidence")
    op.execute("DROP TABLE investigation_notes")
    op.execute("ALTER TABLE investigations DROP COLUMN origin, DROP COLUMN complaint_id, "
               "DROP COLUMN bureau_id, DROP COLUMN due_on, DROP COLUMN assignee_id, "
               "DROP COLUMN bureau_findings, "
               "DROP COLUMN violation, DROP COLUMN measures, DROP COLUMN reasoning, "
               "DROP COLUMN suspension_id, DROP COLUMN decided_at, DROP COLUMN closed_at, "
               "DROP COLUMN organ_id, DROP COLUMN informed_at")
    op.execute("DELETE FROM investigations WHERE evaluation_id IS NULL")
    op.execute("ALTER TABLE investigations ALTER COLUMN evaluation_id SET NOT NULL")


"""The publishing workflow of disclosures (R-PUB-1): the case's end day on closed cases (it places the
case in a period), the subsidies paid (Annex 4) and the published disclosures, frozen.

Rows folded before this revision came straight from integration events; they are recorded here as
publication's own fact events (ClosureNoted, GradeNoted), as the consumers now record them, so that
a disclosure rebuilt from the events counts them too. Their end day was never received: it is taken
as the Beijing day the closure was recorded (what placed them before), their district as unknown.

Revision ID: 0005_disclosure_workflow
Revises: 0004
"""
from alembic import op

revision = "0005_disclosure_workflow"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE closed_cases ADD COLUMN ended_on date")
    op.execute("ALTER TABLE closed_cases ADD COLUMN district text")
    op.execute("UPDATE closed_cases SET ended_on = (closed_at AT TIME ZONE 'Asia/Shanghai')::date")
    op.execute("ALTER TABLE closed_cases ALTER COLUMN ended_on SET NOT NULL")
    op.execute("CREATE INDEX ix_closed_cases_ended_on ON closed_cases (ended_on)")
    op.execute("""
        INSERT INTO events (stream_id, version, event_id, type, data)
        SELECT 'closure-' || case_id, 1, gen_random_uuid(), 'ClosureNoted', jsonb_build_object(
            'case_id', case_id, 'case_number', case_number, 'case_kind', case_kind, 'district', '',
            'agency_id', agency_id, 'institution_id', institution_id, 'institution_name', institution_name,
            'handler_id', handler_id, 'handler_name', handler_name, 'handler_kind', handler_kind,
            'group_case', group_case, 'ended_on', ended_on, 'closed_at', closed_at)
        FROM closed_cases ORDER BY closed_at
        ON CONFLICT DO NOTHING
    """)
    op.execute("""
        INSERT INTO events (stream_id, version, event_id, type, data)
        SELECT 'grade-' || case_id, 1, gen_random_uuid(), 'GradeNoted', jsonb_build_object(
            'evaluation_id', evaluation_id, 'case_id', case_id, 'case_number', case_number,
            'case_kind', case_kind, 'agency_id', agency_id, 'institution_id', institution_id,
            'institution_name', institution_name, 'handler_id', handler_id, 'handler_name', handler_name,
            'handler_kind', handler_kind, 'grade', grade, 'completed_at', completed_at)
        FROM evaluation_results ORDER BY completed_at
        ON CONFLICT DO NOTHING
    """)
    op.execute("""
        CREATE TABLE subsidy_payments (
            case_id          text PRIMARY KEY,
            case_number      text NOT NULL,
            case_kind        text NOT NULL,
            agency_id        text NOT NULL,
            institution_id   text NOT NULL,
            institution_name text NOT NULL,
            handler_id       text NOT NULL,
            handler_name     text NOT NULL,
            amount           numeric(12, 2) NOT NULL,
            paid_on          date NOT NULL
        )
    """)
    op.execute("CREATE INDEX ix_subsidy_payments_paid_on ON subsidy_payments (paid_on, agency_id)")
    op.execute("""
        CREATE TABLE published_disclosures (
            number       text PRIMARY KEY,
            scope_key    text NOT NULL,
            scope_level  text NOT NULL,
            scope_id     text,
            scope_name   text NOT NULL,
            period       text NOT NULL,
            version      integer NOT NULL,
            title        text NOT NULL,
            published_at timestamptz NOT NULL,
            replaces     text,
            changes      jsonb NOT NULL,
            document     text NOT NULL,
            CONSTRAINT uq_published_disclosures_version UNIQUE (scope_key, period, version)
        )
    """)


def downgrade() -> None:
    op.execute("DROP TABLE published_disclosures")
    op.execute("DROP TABLE subsidy_payments")
    op.execute("DELETE FROM events WHERE type IN ('ClosureNoted', 'GradeNoted', 'SubsidyPaymentNoted')")
    op.execute("DROP INDEX ix_closed_cases_ended_on")
    op.execute("ALTER TABLE closed_cases DROP COLUMN district")
    op.execute("ALTER TABLE closed_cases DROP COLUMN ended_on")

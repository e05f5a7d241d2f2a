"""The bar association's loop and recognition: answers to notices and reminders (R-SAN-4), duty
facts and published years (R-SAN-5), confirmed commendation lists (R-SAN-6).

Revision ID: 0005_bar_association_loop
Revises: 0004_investigation_lifecycle
"""
from alembic import op

revision = "0005_bar_association_loop"
down_revision = "0004_investigation_lifecycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        ALTER TABLE bar_notices
            ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'awaiting_answer',
            ADD COLUMN IF NOT EXISTS discipline text,
            ADD COLUMN IF NOT EXISTS decided_on date,
            ADD COLUMN IF NOT EXISTS reference text,
            ADD COLUMN IF NOT EXISTS answered_at timestamptz,
            ADD COLUMN IF NOT EXISTS reminders_sent integer NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS last_reminded_at timestamptz
    """)
    op.execute("CREATE INDEX IF NOT EXISTS ix_bar_notices_status ON bar_notices (status)")
    op.execute("""
        CREATE TABLE IF NOT EXISTS bar_notice_outcomes (
            notice_id   text NOT NULL REFERENCES bar_notices (notice_id),
            outcome     text NOT NULL,
            discipline  text,
            decided_on  date,
            reference   text,
            channel     text NOT NULL,
            recorded_at timestamptz NOT NULL,
            PRIMARY KEY (notice_id, outcome)
        )
    """)
    op.execute("""
        CREATE TABLE IF NOT EXISTS duty_facts (
            fact_id          text PRIMARY KEY,
            kind             text NOT NULL,
            year             integer NOT NULL,
            at               timestamptz NOT NULL,
            handler_id       text NOT NULL,
            handler_name     text,
            handler_kind     text,
            licence_number   text,
            institution_id   text,
            institution_name text,
            case_id          text,
            grade            text
        )
    """)
    op.execute("CREATE INDEX IF NOT EXISTS ix_duty_facts_year ON duty_facts (year)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_duty_facts_at ON duty_facts (at)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_duty_facts_handler_id ON duty_facts (handler_id)")
    op.execute("""
        CREATE TABLE IF NOT EXISTS duty_years (
            year         integer PRIMARY KEY,
            lawyers      integer NOT NULL,
            firms        integer NOT NULL,
            published_at timestamptz NOT NULL
        )
    """)
    op.execute("""
        CREATE TABLE IF NOT EXISTS commendation_lists (
            period       text PRIMARY KEY,
            rule         text NOT NULL,
            handlers     jsonb NOT NULL,
            institutions jsonb NOT NULL,
            confirmed_by text NOT NULL,
            confirmed_at timestamptz NOT NULL
        )
    """)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS commendation_lists")
    op.execute("DROP TABLE IF EXISTS duty_years")
    op.execute("DROP TABLE IF EXISTS duty_facts")
    op.execute("DROP TABLE IF EXISTS bar_notice_outcomes")
    op.execute("DROP INDEX IF EXISTS ix_bar_notices_status")
    op.execute("""
        ALTER TABLE bar_notices
            DROP COLUMN IF EXISTS status, DROP COLUMN IF EXISTS discipline, DROP COLUMN IF EXISTS decided_on,
            DROP COLUMN IF EXISTS reference, DROP COLUMN IF EXISTS answered_at,
            DROP COLUMN IF EXISTS reminders_sent, DROP COLUMN IF EXISTS last_reminded_at
    """)

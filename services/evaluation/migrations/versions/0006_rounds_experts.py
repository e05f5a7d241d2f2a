"""The method of peer evaluation (R-EVL-4, R-EVL-6): the expert pool, evaluation rounds with the
rule and seed of their draw, the drawn files with their panel's result, and each file's readers
and their readings.

Revision ID: 0006_rounds_experts
Revises: 0005_subsidies
"""
from alembic import op

revision = "0006_rounds_experts"
down_revision = "0005_subsidies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE experts (
            reviewer_id        text PRIMARY KEY,
            name               text NOT NULL,
            licence_number     text NOT NULL,
            practising_since   date NOT NULL,
            fields             jsonb NOT NULL,
            district           text NOT NULL,
            institution_id     text NOT NULL,
            institution_name   text NOT NULL,
            assigning_agencies jsonb NOT NULL,
            trained_on         jsonb NOT NULL,
            disciplined_on     jsonb NOT NULL,
            active             boolean NOT NULL,
            recorded_by        text NOT NULL,
            recorded_at        timestamptz NOT NULL,
            version            integer NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE evaluation_rounds (
            round_id            text PRIMARY KEY,
            agency_id           text NOT NULL,
            period_from         date NOT NULL,
            period_to           date NOT NULL,
            opens_on            date NOT NULL,
            draw_rule           text NOT NULL,
            sample_share        numeric(6, 5) NOT NULL,
            seed                text NOT NULL,
            readers             text NOT NULL,
            panel_rule          text NOT NULL,
            grading_rule        text NOT NULL,
            candidates          integer,
            candidates_digest   text,
            previous_year_cases integer,
            sample_size         integer,
            drawn               integer,
            status              text NOT NULL,
            opened_by           text NOT NULL,
            opened_at           timestamptz NOT NULL,
            closed_at           timestamptz
        )
        """
    )
    op.execute("CREATE INDEX ix_evaluation_rounds_agency_id ON evaluation_rounds (agency_id)")
    op.execute(
        """
        CREATE TABLE round_files (
            file_id          text PRIMARY KEY,
            round_id         text NOT NULL,
            draw_order       integer NOT NULL,
            case_id          text NOT NULL,
            case_number      text NOT NULL,
            case_kind        text NOT NULL,
            agency_id        text NOT NULL,
            district         text NOT NULL,
            handler_id       text NOT NULL,
            handler_name     text NOT NULL,
            institution_id   text NOT NULL,
            institution_name text NOT NULL,
            stage            text NOT NULL,
            wanted           integer NOT NULL,
            first_grade      text,
            first_result     text,
            result_no        integer,
            grade            text,
            indicators       jsonb,
            disputed         boolean NOT NULL,
            final            boolean NOT NULL,
            version          integer NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_round_files_round_id ON round_files (round_id)")
    op.execute("CREATE INDEX ix_round_files_case_id ON round_files (case_id)")
    op.execute(
        """
        CREATE TABLE file_readers (
            file_id     text NOT NULL,
            reviewer_id text NOT NULL,
            stage       text NOT NULL,
            given_at    timestamptz NOT NULL,
            grade       text,
            indicators  jsonb,
            findings    text,
            read_at     timestamptz,
            PRIMARY KEY (file_id, reviewer_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_file_readers_reviewer_id ON file_readers (reviewer_id)")


def downgrade() -> None:
    op.execute("DROP TABLE file_readers")
    op.execute("DROP TABLE round_files")
    op.execute("DROP TABLE evaluation_rounds")
    op.execute("DROP TABLE experts")

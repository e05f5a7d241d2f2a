"""Case subsidies (R-CHK-2, R-CHK-3, R-EVL-7): what evaluation keeps of each case's registration
(its stage or matter, whether a group case), the agencies' subsidy schedule versions, and each
case's subsidy from computation to payment.

Revision ID: 0005_subsidies
Revises: 0004
"""
from alembic import op

revision = "0005_subsidies"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE registered_cases (
            case_id        text PRIMARY KEY,
            case_kind      text NOT NULL,
            agency_id      text NOT NULL,
            criminal_stage text,
            criminal_role  text,
            matter         text,
            group_case     boolean NOT NULL,
            registered_at  timestamptz NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE TABLE subsidy_schedule_versions (
            agency_id      text NOT NULL,
            version        text NOT NULL,
            number         integer NOT NULL,
            effective_from date NOT NULL,
            terms          jsonb NOT NULL,
            published_by   text NOT NULL,
            published_at   timestamptz NOT NULL,
            PRIMARY KEY (agency_id, version)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE subsidies (
            case_id           text PRIMARY KEY,
            case_number       text NOT NULL,
            case_kind         text NOT NULL,
            agency_id         text NOT NULL,
            handler_id        text NOT NULL,
            handler_name      text NOT NULL,
            handler_kind      text NOT NULL,
            licence_number    text,
            institution_id    text NOT NULL,
            institution_name  text NOT NULL,
            stage             text,
            group_case        boolean NOT NULL,
            schedule_version  text NOT NULL,
            lines             jsonb NOT NULL,
            computed_amount   numeric(12, 2) NOT NULL,
            amount            numeric(12, 2) NOT NULL,
            status            text NOT NULL,
            signed_off_by     text NOT NULL,
            signed_off_at     timestamptz NOT NULL,
            computed_at       timestamptz NOT NULL,
            approved_by       text,
            approved_at       timestamptz,
            paid_on           date,
            payment_reference text,
            paid_at           timestamptz,
            failed_evaluation_id text,
            adjustment        text,
            rule_applied      text,
            amount_to_recover numeric(12, 2),
            version           integer NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_subsidies_agency_computed ON subsidies (agency_id, computed_at DESC)")


def downgrade() -> None:
    op.execute("DROP TABLE subsidies")
    op.execute("DROP TABLE subsidy_schedule_versions")
    op.execute("DROP TABLE registered_cases")

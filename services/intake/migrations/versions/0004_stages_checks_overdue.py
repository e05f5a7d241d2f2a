"""The next stage of a criminal case (R-HDL-7), a change of handler (and the first assignment, for
the R-ASG-7 time limit), the closing check's items and
the quality lead's sign-off (R-CHK-1, R-CHK-2), and working days in SQL for the overdue filter.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = {
    "previous_case_id": "text",
    "next_case_id": "text",
    "reassigned_at": "timestamptz",
    "first_assigned_at": "timestamptz",
    "reassignment_accepted_at": "timestamptz",
    "closing_check_standard": "text",
    "closing_check_failed_items": "jsonb",
    "signed_off_at": "timestamptz",
    "signed_off_by": "text",
}

# The same count as services/intake/deadlines.py add_working_days (Monday to Friday): the case
# list's overdue filter runs in the database, so that it pages like every other filter.
WORKING_DAYS = """
CREATE FUNCTION intake_add_working_days(day date, n integer) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN n <= 0 THEN day ELSE (
        SELECT d FROM generate_series(day + 1, day + n * 2 + 7, interval '1 day') AS g(t), \
LATERAL (SELECT t::date AS d) x
        WHERE extract(isodow FROM d) < 6 ORDER BY d OFFSET n - 1 LIMIT 1)
    END
$$
"""


def upgrade() -> None:
    for name, kind in COLUMNS.items():
        op.execute(f"ALTER TABLE cases ADD COLUMN {name} {kind}")
    op.execute("CREATE INDEX ix_cases_previous_case_id ON cases (previous_case_id)")
    # A notifying organ looks its case up by its own reference (R-ASG-7).
    op.execute("CREATE INDEX ix_cases_source_reference ON cases (source_system, external_reference)")
    # No change of handler before this revision: the first assignment is the current one.
    op.execute("UPDATE cases SET first_assigned_at = assigned_at")
    op.execute(WORKING_DAYS)


def downgrade() -> None:
    op.execute("DROP FUNCTION intake_add_working_days(date, integer)")
    op.execute("DROP INDEX ix_cases_source_reference")
    op.execute("DROP INDEX ix_cases_previous_case_id")
    for name in COLUMNS:
        op.execute(f"ALTER TABLE cases DROP COLUMN {name}")

"""The read model of a case's assignment stops copying every decision's candidates: each
decision's event keeps them, with why each was passed over, and the decision record and the
rotation's fairness report read them there. Copying them was most of what a rebuild wrote.

`case_assignments.candidates` is kept only while the case is blocked (the list of blocked cases
shows why no one may take it): emptied here on every other row.

Idempotent, as the migrations before it. The downgrade fills `candidates` again from each case's
latest decision in the store.

Revision ID: 0008_decision_candidates
Revises: 0007_kernel_held_snapshot_keys
"""
from alembic import op

revision = "0008_decision_candidates"
down_revision = "0007_kernel_held_snapshot_keys"
branch_labels = None
depends_on = None

STATEMENTS = [
    "UPDATE case_assignments SET candidates = '[]' WHERE status <> 'blocked' AND candidates <> '[]'",
]

DOWNGRADE = [
    """
    UPDATE case_assignments AS c SET candidates = latest.data -> 'candidates'
    FROM (SELECT DISTINCT ON (stream_id) stream_id, data FROM events
          WHERE stream_id LIKE 'assignment-%'
            AND type IN ('CaseAwaitingChoice', 'HandlerAssigned', 'AssignmentBlocked')
          ORDER BY stream_id, version DESC) AS latest
    WHERE latest.stream_id = 'assignment-' || c.case_id
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)

"""A round's readings graded as a single reviewer's evaluation is (R-EVL-1, R-EVL-2, R-EVL-6): each
drawn file records the standard version its readings are graded under, and each reading what a
points rule, a veto item not done or a late closing file made of it.

Revision ID: 0009_panel_grading
Revises: 0008_kernel_held_snapshot_keys
"""
from alembic import op

revision = "0009_panel_grading"
down_revision = "0008_kernel_held_snapshot_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE round_files ADD COLUMN standard_version text")
    # Files drawn before versions were graded under version 1 of their kind's standard.
    op.execute("UPDATE round_files SET standard_version = CASE case_kind WHEN 'criminal' "
               "THEN 'criminal-v1' ELSE 'civil-administrative-v1' END")
    op.execute("ALTER TABLE round_files ALTER COLUMN standard_version SET NOT NULL")
    op.execute("ALTER TABLE file_readers ADD COLUMN points jsonb")
    op.execute("ALTER TABLE file_readers ADD COLUMN total_points numeric(5, 2)")
    op.execute("ALTER TABLE file_readers ADD COLUMN not_done jsonb NOT NULL DEFAULT '[]'")
    op.execute("ALTER TABLE file_readers ADD COLUMN late_file boolean NOT NULL DEFAULT false")


def downgrade() -> None:
    for column in ("late_file", "not_done", "total_points", "points"):
        op.execute(f"ALTER TABLE file_readers DROP COLUMN {column}")
    op.execute("ALTER TABLE round_files DROP COLUMN standard_version")

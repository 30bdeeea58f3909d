"""reception: indexes for the readiness board and the department item lists

The board decides per visit whether an open item is past due (run_id, state, due_at); the department and
"items to do" lists walk a department's open items in due order (department, state, due_at), which also
covers the old (department, state) index; open follow-ups are listed by due time (status, due_at).
No (state, due_at) index: SQLite would prefer it for the board's per-visit test and scan every open item.

Revision ID: 0005_reception
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_reception"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runitem", schema=None) as batch_op:
        batch_op.drop_index("ix_runitem_dept_state")
        batch_op.create_index("ix_runitem_run_state_due", ["run_id", "state", "due_at"], unique=False)
        batch_op.create_index("ix_runitem_dept_state_due", ["department", "state", "due_at"], unique=False)
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.create_index("ix_followup_status_due", ["status", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("followup", schema=None) as batch_op:
        batch_op.drop_index("ix_followup_status_due")
    with op.batch_alter_table("runitem", schema=None) as batch_op:
        batch_op.drop_index("ix_runitem_dept_state_due")
        batch_op.drop_index("ix_runitem_run_state_due")
        batch_op.create_index("ix_runitem_dept_state", ["department", "state"], unique=False)

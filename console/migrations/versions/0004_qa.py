"""qa: derived KPI rollups (calls per caller and day, evaluation facts and section results)

The Agent KPIs page aggregates these instead of a million calls and every evaluation answer. They hold
nothing that cannot be rebuilt from call, evaluation and evaluationanswer (console.qa.rollups).

Revision ID: 0004_qa
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision: str = "0004_qa"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "qarollupstate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_max_id", sa.Integer(), nullable=False),
        sa.Column("call_count", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", models.base.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qarollupstate")),
    )
    op.create_table(
        "qacallday",
        sa.Column("caller_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("connected", sa.Integer(), nullable=False),
        sa.Column("success", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["caller_id"], ["staff.id"], name=op.f("fk_qacallday_caller_id_staff")),
        sa.PrimaryKeyConstraint("caller_id", "day", "stream", name=op.f("pk_qacallday")),
    )
    op.create_index("ix_qacallday_day_stream", "qacallday", ["day", "stream"], unique=False)
    op.create_table(
        "qaevalfact",
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("evaluatee_id", sa.Integer(), nullable=False),
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("call_day", sa.Date(), nullable=False),
        sa.Column("tier_rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["evaluatee_id"], ["staff.id"], name=op.f("fk_qaevalfact_evaluatee_id_staff")),
        sa.ForeignKeyConstraint(
            ["evaluation_id"], ["evaluation.id"], name=op.f("fk_qaevalfact_evaluation_id_evaluation")
        ),
        sa.PrimaryKeyConstraint("evaluation_id", name=op.f("pk_qaevalfact")),
    )
    op.create_index(
        "ix_qaevalfact_day_stream_evaluatee", "qaevalfact", ["call_day", "stream", "evaluatee_id"], unique=False
    )
    op.create_table(
        "qaevalsection",
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("earned", sa.Integer(), nullable=False),
        sa.Column("possible", sa.Integer(), nullable=False),
        sa.Column("zeroed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["evaluation_id"], ["evaluation.id"], name=op.f("fk_qaevalsection_evaluation_id_evaluation")
        ),
        sa.ForeignKeyConstraint(
            ["section_id"], ["scorecardsection.id"], name=op.f("fk_qaevalsection_section_id_scorecardsection")
        ),
        sa.PrimaryKeyConstraint("evaluation_id", "section_id", name=op.f("pk_qaevalsection")),
    )


def downgrade() -> None:
    op.drop_table("qaevalsection")
    op.drop_index("ix_qaevalfact_day_stream_evaluatee", table_name="qaevalfact")
    op.drop_table("qaevalfact")
    op.drop_index("ix_qacallday_day_stream", table_name="qacallday")
    op.drop_table("qacallday")
    op.drop_table("qarollupstate")

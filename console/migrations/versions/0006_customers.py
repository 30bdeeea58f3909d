"""customers: the coverage-gap snapshot (issue 7)

One row per customer and gap kind, rebuilt whole by each computation of the six gap rules, so Home, the gap
lists and the search filter read it by index (kind, position) instead of re-running the rules on every view.

Revision ID: 0006_customers
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision: str = "0006_customers"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customergap",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("computed_at", models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name="fk_customergap_customer_id_customer", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_customergap"),
    )
    with op.batch_alter_table("customergap", schema=None) as batch_op:
        batch_op.create_index("ix_customergap_customer_id", ["customer_id"], unique=False)
        batch_op.create_index("ix_customergap_kind_position", ["kind", "position"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customergap", schema=None) as batch_op:
        batch_op.drop_index("ix_customergap_kind_position")
        batch_op.drop_index("ix_customergap_customer_id")
    op.drop_table("customergap")

"""Client-manager assignment history (append-only) and batches."""

import datetime as dt
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.base import one_of, utc_field

ASSIGNMENT_REASONS = (
    "new_vip",
    "rebalance",
    "manager_leave",
    "manager_exit",
    "cover",
    "cover_end",
    "customer_request",
    "performance",
    "tier_change",
    "import",
    "undo",
    "auto_assign",
    "seed",
)
BATCH_KINDS = ("auto_assign", "rebalance", "leave_cover", "exit", "import", "bulk", "undo", "seed")


class AssignmentBatch(SQLModel, table=True):
    __table_args__ = (one_of("kind", BATCH_KINDS, "kind"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    created_at: dt.datetime = utc_field(nullable=False, default_now=True)
    by_user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    moves: int = 0
    note: Optional[str] = Field(default=None, max_length=500)
    undone_by_batch_id: Optional[int] = Field(default=None, foreign_key="assignmentbatch.id")


class Assignment(SQLModel, table=True):
    """One change of a VIP's client manager. Rows are only ever inserted."""

    __table_args__ = (
        one_of("reason", ASSIGNMENT_REASONS, "reason"),
        Index("ix_assignment_customer_at", "customer_id", "at"),
        Index("ix_assignment_to_at", "to_manager_id", "at"),
        Index("ix_assignment_from_at", "from_manager_id", "at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    from_manager_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    to_manager_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    at: dt.datetime = utc_field(nullable=False)
    by_user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    reason: str = Field(max_length=20)
    batch_id: Optional[int] = Field(default=None, foreign_key="assignmentbatch.id", index=True)
    note: Optional[str] = Field(default=None, max_length=500)

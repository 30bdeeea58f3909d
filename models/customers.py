"""Customers, purchases, contacts and calls."""

import datetime as dt
from typing import Optional

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from models.base import one_of, utc_field

CALL_STREAMS = ("maintenance", "ob")
CALL_TYPES = (
    "onboarding_visit",
    "rights_notification",
    "care",
    "retention",
    "winback",
    "complaint_followup",
    "upsell",
    "campaign",
    "renewal",
)
CALL_OUTCOMES = ("connected", "no_answer", "busy", "refused", "wrong_number", "callback_requested")
CALL_RESULTS = ("success", "declined", "escalated", "pending")
CONTACT_KINDS = ("call", "sms", "visit")


class Customer(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("tier_rank BETWEEN 0 AND 5", name="tier_rank_range"),
        CheckConstraint("override_rank IS NULL OR override_rank BETWEEN 0 AND 5", name="override_range"),
        CheckConstraint("assignment_version >= 0", name="version_nonneg"),
        Index("ix_customer_tier_manager", "tier_rank", "manager_id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=120, index=True)
    phone: Optional[str] = Field(default=None, max_length=32, index=True)
    id_number: Optional[str] = Field(default=None, max_length=32)
    region: Optional[str] = Field(default=None, max_length=64, index=True)
    birthday: Optional[dt.date] = None
    # Current tier (derived from TierChange events, kept here for fast reads)
    tier_rank: int = 0
    tier_since: Optional[dt.datetime] = utc_field()
    vip_since: Optional[dt.datetime] = utc_field()
    override_rank: Optional[int] = None
    override_reason: Optional[str] = Field(default=None, max_length=500)
    override_until: Optional[dt.date] = None
    override_by: Optional[int] = Field(default=None, foreign_key="user.id")
    supreme: bool = False
    # Current client manager (the history lives in Assignment)
    manager_id: Optional[int] = Field(default=None, foreign_key="staff.id", index=True)
    assigned_at: Optional[dt.datetime] = utc_field()
    binding_due: Optional[dt.date] = None
    waiting_since: Optional[dt.datetime] = utc_field()
    assignment_version: int = 0
    # Preferences (002 L10-14)
    dietary: Optional[str] = Field(default=None, max_length=200)
    hometown: Optional[str] = Field(default=None, max_length=64)
    notes: Optional[str] = Field(default=None, sa_type=Text)
    is_training: bool = False
    created_at: dt.datetime = utc_field(nullable=False, default_now=True)


class Purchase(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("amount_fen >= 0", name="amount_nonneg"),
        Index("ix_purchase_customer_at", "customer_id", "at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False))
    at: dt.datetime = utc_field(nullable=False)
    amount_fen: int = Field(sa_type=BigInteger)
    reference: str = Field(unique=True, max_length=64)


class Call(SQLModel, table=True):
    __table_args__ = (
        one_of("stream", CALL_STREAMS, "stream"),
        one_of("call_type", CALL_TYPES, "call_type"),
        one_of("outcome", CALL_OUTCOMES, "outcome"),
        one_of("result", CALL_RESULTS, "result", nullable=True),
        CheckConstraint("duration_s >= 0", name="duration_nonneg"),
        CheckConstraint("result IS NULL OR outcome = 'connected'", name="result_when_connected"),
        Index("ix_call_caller_started", "caller_id", "started_at"),
        Index("ix_call_customer_started", "customer_id", "started_at"),
        Index("ix_call_stream_started", "stream", "started_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=64)
    customer_id: int = Field(foreign_key="customer.id")
    caller_id: int = Field(foreign_key="staff.id")
    stream: str = Field(max_length=16)
    call_type: str = Field(max_length=32)
    started_at: dt.datetime = utc_field(nullable=False)
    duration_s: int = 0
    outcome: str = Field(max_length=24)
    result: Optional[str] = Field(default=None, max_length=16)
    recording_ref: Optional[str] = Field(default=None, max_length=128)
    transcript: Optional[str] = Field(default=None, sa_type=Text)


class Contact(SQLModel, table=True):
    __table_args__ = (
        one_of("kind", CONTACT_KINDS, "kind"),
        Index("ix_contact_customer_at", "customer_id", "at"),
        Index("ix_contact_staff_at", "staff_id", "at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    staff_id: Optional[int] = Field(default=None, foreign_key="staff.id")
    kind: str = Field(max_length=8)
    at: dt.datetime = utc_field(nullable=False)
    outcome: Optional[str] = Field(default=None, max_length=24)
    stream: Optional[str] = Field(default=None, max_length=16)
    call_id: Optional[int] = Field(default=None, foreign_key="call.id", unique=True)


class CustomerGap(SQLModel, table=True):
    """A coverage gap of one customer as of the last computation (console.customers.gaps, issue 7).

    The six gap rules run over every customer; their result is kept here so Home, the gap lists and the
    search filter read it by index instead of re-running the rules over 200,000 customers on each page view.
    The whole table is rebuilt by each computation; ``position`` is the list order within a kind
    (highest tier first, then the oldest gap, then the code).
    """

    __table_args__ = (Index("ix_customergap_kind_position", "kind", "position"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=24)
    customer_id: int = Field(
        sa_column=Column(Integer, ForeignKey("customer.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    position: int
    since: Optional[dt.date] = None
    computed_at: dt.datetime = utc_field(nullable=False)

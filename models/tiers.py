"""The tier ladder (effective-dated), tier change events and quarterly reviews."""

import datetime as dt
from typing import Optional

from sqlalchemy import BigInteger, CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import one_of, utc_field

TIER_CHANGE_KINDS = ("initial", "upgrade", "downgrade", "override", "override_expired", "designation")


class TierLevel(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("rank", "effective_from", name="uq_tierlevel_rank_effective"),
        CheckConstraint("rank BETWEEN 0 AND 5", name="rank_range"),
        CheckConstraint("ratio IS NULL OR ratio > 0", name="ratio_positive"),
        CheckConstraint("units >= 0", name="units_nonneg"),
        CheckConstraint("min_spend_fen IS NULL OR min_spend_fen >= 0", name="spend_nonneg"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    rank: int
    code: str = Field(max_length=16)
    name_en: str = Field(max_length=32)
    name_zh: str = Field(max_length=32)
    min_spend_fen: Optional[int] = Field(default=None, sa_type=BigInteger)
    min_purchases: Optional[int] = None
    require_both: bool = False
    ratio: Optional[int] = None
    units: int = 0
    contact_days: Optional[int] = None
    designation_only: bool = False
    enterprise_only: bool = False
    color: str = Field(default="#999999", max_length=9)
    effective_from: dt.date


class TierChange(SQLModel, table=True):
    __table_args__ = (
        one_of("kind", TIER_CHANGE_KINDS, "kind"),
        CheckConstraint("to_rank BETWEEN 0 AND 5", name="to_range"),
        Index("ix_tierchange_customer_at", "customer_id", "at"),
        Index("ix_tierchange_at", "at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    from_rank: Optional[int] = None
    to_rank: int
    kind: str = Field(max_length=20)
    at: dt.datetime = utc_field(nullable=False)
    by_user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    reason: Optional[str] = Field(default=None, max_length=500)


class TierReview(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    period: str = Field(unique=True, max_length=16)  # e.g. 2026-Q4
    ran_at: dt.datetime = utc_field(nullable=False, default_now=True)
    by_user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    downgrades: int = 0

"""VIP reception: levels and posts, checklist templates, visits, runs and their items."""

import datetime as dt
from typing import Optional

from sqlalchemy import CheckConstraint, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import one_of, utc_field

TIMINGS = ("offset", "per_shift", "during_stay", "optional")
ANCHORS = ("arrival", "departure")
TEMPLATE_STATUSES = ("draft", "active", "retired")
VISIT_STATUSES = ("planned", "in_progress", "completed", "cancelled")
RUN_STATUSES = ("scheduled", "in_progress", "submitted", "signed_off", "cancelled")
ITEM_STATES = ("open", "done", "na", "failed")
FOLLOWUP_STATUSES = ("open", "done")
EVIDENCE_LIMIT_BYTES = 10 * 1024 * 1024


class Department(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name_en: str = Field(max_length=64)
    name_zh: str = Field(max_length=64)


class ReceptionLevel(SQLModel, table=True):
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 3", name="level_range"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    level: int = Field(unique=True)
    name_en: str = Field(max_length=64)
    name_zh: str = Field(max_length=64)
    applies_to_en: str = Field(max_length=300)
    applies_to_zh: str = Field(max_length=300)
    reinforcements: Optional[int] = None
    on_duty: Optional[int] = None
    shift_groups: Optional[int] = None
    rotation_hours: Optional[int] = None
    post_count: int = 0
    cordon_zone: bool = False
    source: Optional[str] = Field(default=None, max_length=64)


class GuardPost(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("level_id", "number", name="uq_guardpost_level_number"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    level_id: int = Field(foreign_key="receptionlevel.id")
    number: int
    location_en: str = Field(max_length=200)
    location_zh: str = Field(max_length=200)
    duty_en: str = Field(max_length=300)
    duty_zh: str = Field(max_length=300)


class ChecklistTemplate(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("code", "version", name="uq_checklisttemplate_code_version"),
        one_of("status", TEMPLATE_STATUSES, "status"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=16)
    version: int = 1
    status: str = Field(default="draft", max_length=10)
    name_en: str = Field(max_length=120)
    name_zh: str = Field(max_length=120)
    owner_department: Optional[str] = Field(default=None, max_length=32)
    source: Optional[str] = Field(default=None, max_length=64)
    activated_at: Optional[dt.datetime] = utc_field()


class TemplateItem(SQLModel, table=True):
    __table_args__ = (
        one_of("timing", TIMINGS, "timing"),
        one_of("anchor", ANCHORS, "anchor", nullable=True),
        CheckConstraint("timing != 'offset' OR (anchor IS NOT NULL AND offset_minutes IS NOT NULL)", name="offset_set"),
        UniqueConstraint("template_id", "seq", name="uq_templateitem_template_seq"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    template_id: int = Field(foreign_key="checklisttemplate.id", index=True)
    seq: int
    phase: str = Field(max_length=8)
    phase_en: str = Field(max_length=120)
    phase_zh: str = Field(max_length=120)
    text_en: str = Field(max_length=500)
    text_zh: str = Field(max_length=500)
    department: str = Field(max_length=32)
    timing: str = Field(max_length=12)
    anchor: Optional[str] = Field(default=None, max_length=10)
    offset_minutes: Optional[int] = None
    levels: str = Field(default="1,2,3", max_length=8)
    required: bool = True
    critical: bool = False
    evidence_required: bool = False
    source: Optional[str] = Field(default=None, max_length=64)


class Visit(SQLModel, table=True):
    __table_args__ = (
        one_of("status", VISIT_STATUSES, "status"),
        CheckConstraint("level BETWEEN 1 AND 3", name="level_range"),
        CheckConstraint("departure_at > arrival_at", name="departure_after_arrival"),
        CheckConstraint("party_size >= 1", name="party_positive"),
        CheckConstraint("customer_id IS NOT NULL OR guest_name IS NOT NULL", name="guest_or_customer"),
        Index("ix_visit_arrival", "arrival_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: Optional[int] = Field(default=None, foreign_key="customer.id", index=True)
    guest_name: Optional[str] = Field(default=None, max_length=120)
    level: int = 3
    arrival_at: dt.datetime = utc_field(nullable=False)
    departure_at: dt.datetime = utc_field(nullable=False)
    location: str = Field(max_length=200)
    host_id: Optional[int] = Field(default=None, foreign_key="staff.id", index=True)
    party_size: int = 1
    purpose: Optional[str] = Field(default=None, max_length=500)
    dietary: Optional[str] = Field(default=None, max_length=200)
    hometown: Optional[str] = Field(default=None, max_length=64)
    notes: Optional[str] = Field(default=None, sa_type=Text)
    reinforcements: Optional[int] = None
    on_duty: Optional[int] = None
    shift_groups: Optional[int] = None
    rotation_hours: Optional[int] = None
    post_count: Optional[int] = None
    status: str = Field(default="planned", max_length=12)
    created_by: Optional[int] = Field(default=None, foreign_key="user.id")
    created_at: dt.datetime = utc_field(nullable=False, default_now=True)


class Run(SQLModel, table=True):
    __table_args__ = (one_of("status", RUN_STATUSES, "status"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    templates: str = Field(max_length=64)  # e.g. "T1@1,T4@1"
    status: str = Field(default="scheduled", max_length=12)
    alerts: Optional[str] = Field(default=None, sa_type=Text)  # JSON
    created_at: dt.datetime = utc_field(nullable=False, default_now=True)
    submitted_at: Optional[dt.datetime] = utc_field()
    signed_off_by: Optional[int] = Field(default=None, foreign_key="user.id")
    signed_off_at: Optional[dt.datetime] = utc_field()
    reopened_reason: Optional[str] = Field(default=None, max_length=500)


class RunItem(SQLModel, table=True):
    __table_args__ = (
        one_of("state", ITEM_STATES, "state"),
        one_of("timing", TIMINGS, "timing"),
        CheckConstraint("state != 'na' OR na_reason IS NOT NULL", name="na_needs_reason"),
        Index("ix_runitem_run_due", "run_id", "due_at"),
        # 0005_reception: the readiness board and the department lists walk these in due order.
        Index("ix_runitem_run_state_due", "run_id", "state", "due_at"),
        Index("ix_runitem_dept_state_due", "department", "state", "due_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id")
    template_item_id: Optional[int] = Field(default=None, foreign_key="templateitem.id")
    template_code: str = Field(max_length=16)
    seq: int
    phase: str = Field(max_length=8)
    phase_en: str = Field(max_length=120)
    phase_zh: str = Field(max_length=120)
    text_en: str = Field(max_length=500)
    text_zh: str = Field(max_length=500)
    department: str = Field(max_length=32)
    timing: str = Field(max_length=12)
    anchor: Optional[str] = Field(default=None, max_length=10)
    offset_minutes: Optional[int] = None
    due_at: Optional[dt.datetime] = utc_field()
    required: bool = True
    critical: bool = False
    evidence_required: bool = False
    state: str = Field(default="open", max_length=8)
    na_reason: Optional[str] = Field(default=None, max_length=500)
    done_by: Optional[int] = Field(default=None, foreign_key="user.id")
    done_at: Optional[dt.datetime] = utc_field()


class FollowUp(SQLModel, table=True):
    __table_args__ = (
        one_of("status", FOLLOWUP_STATUSES, "status"),
        Index("ix_followup_status_due", "status", "due_at"),  # 0005_reception
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    run_item_id: int = Field(foreign_key="runitem.id", index=True)
    owner_id: int = Field(foreign_key="staff.id")
    due_at: dt.datetime = utc_field(nullable=False)
    action: str = Field(max_length=500)
    status: str = Field(default="open", max_length=8)
    done_by: Optional[int] = Field(default=None, foreign_key="user.id")
    done_at: Optional[dt.datetime] = utc_field()


class Evidence(SQLModel, table=True):
    __table_args__ = (
        one_of("kind", ("note", "file"), "kind"),
        CheckConstraint(f"size_bytes IS NULL OR size_bytes <= {EVIDENCE_LIMIT_BYTES}", name="size_limit"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    run_item_id: int = Field(foreign_key="runitem.id", index=True)
    kind: str = Field(max_length=8)
    note: Optional[str] = Field(default=None, max_length=2000)
    filename: Optional[str] = Field(default=None, max_length=200)
    mime: Optional[str] = Field(default=None, max_length=64)
    size_bytes: Optional[int] = None
    data: Optional[bytes] = Field(default=None, sa_type=LargeBinary)
    uploaded_by: Optional[int] = Field(default=None, foreign_key="user.id")
    at: dt.datetime = utc_field(nullable=False, default_now=True)


class Incident(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    reported_by_post: str = Field(max_length=120)
    description: str = Field(max_length=2000)
    reported_at: dt.datetime = utc_field(nullable=False)
    plan_activated_at: Optional[dt.datetime] = utc_field()
    gm_notified_at: Optional[dt.datetime] = utc_field()
    resolved_at: Optional[dt.datetime] = utc_field()
    resolution: Optional[str] = Field(default=None, max_length=2000)
    recorded_by: Optional[int] = Field(default=None, foreign_key="user.id")

"""Jobs, the audit log and small key/value settings (the demo marker lives here)."""

import datetime as dt
from typing import Optional

from sqlalchemy import CheckConstraint, Index, Text
from sqlmodel import Field, SQLModel

from models.base import one_of, utc_field

JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")


class Job(SQLModel, table=True):
    __table_args__ = (
        one_of("status", JOB_STATUSES, "status"),
        CheckConstraint("progress >= 0", name="progress_nonneg"),
        Index("ix_job_status_created", "status", "created_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    status: str = Field(default="queued", max_length=12)
    params: str = Field(default="{}", sa_type=Text)  # JSON
    progress: int = 0
    total: int = 0
    message: Optional[str] = Field(default=None, max_length=500)
    checkpoint: Optional[str] = Field(default=None, sa_type=Text)  # JSON, for resuming
    result: Optional[str] = Field(default=None, sa_type=Text)  # JSON
    error: Optional[str] = Field(default=None, sa_type=Text)
    created_by: Optional[int] = None  # user id; no FK, so a demo reset can replace the users
    created_at: dt.datetime = utc_field(nullable=False, default_now=True)
    started_at: Optional[dt.datetime] = utc_field()
    heartbeat_at: Optional[dt.datetime] = utc_field()
    finished_at: Optional[dt.datetime] = utc_field()
    worker: Optional[str] = Field(default=None, max_length=120)
    attempts: int = 0


class AuditLog(SQLModel, table=True):
    """One row per command. Rows are only ever inserted."""

    __table_args__ = (Index("ix_auditlog_at", "at"), Index("ix_auditlog_action_at", "action", "at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    at: dt.datetime = utc_field(nullable=False, default_now=True)
    actor_user_id: Optional[int] = Field(default=None, index=True)  # no FK: survives user changes
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    entity: Optional[str] = Field(default=None, max_length=64)
    entity_id: Optional[str] = Field(default=None, max_length=64)
    batch: Optional[str] = Field(default=None, max_length=64)
    params: Optional[str] = Field(default=None, sa_type=Text)
    counts: Optional[str] = Field(default=None, sa_type=Text)
    before: Optional[str] = Field(default=None, sa_type=Text)
    after: Optional[str] = Field(default=None, sa_type=Text)
    outcome: str = Field(default="ok", max_length=16)


class AppMeta(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_type=Text)
    updated_at: dt.datetime = utc_field(nullable=False, default_now=True)

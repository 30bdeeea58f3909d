"""Staff, teams and logins."""

import datetime as dt
from typing import Optional

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from models.base import one_of, utc_field

ROLES = ("admin", "supervisor", "team_lead", "client_manager", "agent", "reception", "trainee")
STREAMS = ("maintenance", "ob")
MANAGER_LEVELS = ("junior", "senior", "enterprise")
DEPARTMENTS = ("security", "fnb", "front_office", "engineering", "admin_hr", "marketing", "member_value")


class Team(SQLModel, table=True):
    """A maintenance or OB team; its lead is the staff member with role team_lead in it."""

    __table_args__ = (one_of("stream", STREAMS, "stream"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=120)
    stream: str = Field(max_length=16)


class Staff(SQLModel, table=True):
    __table_args__ = (
        one_of("role", ROLES, "role"),
        one_of("stream", STREAMS, "stream", nullable=True),
        one_of("manager_level", MANAGER_LEVELS, "manager_level", nullable=True),
        CheckConstraint("capacity_units >= 0", name="capacity_nonneg"),
        CheckConstraint("leave_end IS NULL OR leave_start IS NULL OR leave_end >= leave_start", name="leave_order"),
        Index("ix_staff_role_active", "role", "active"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=120)
    role: str = Field(max_length=20)
    team_id: Optional[int] = Field(default=None, foreign_key="team.id", index=True)
    stream: Optional[str] = Field(default=None, max_length=16)
    department: Optional[str] = Field(default=None, max_length=32)
    manager_level: Optional[str] = Field(default=None, max_length=16)
    capacity_units: int = 1000
    region: Optional[str] = Field(default=None, max_length=64)
    phone: Optional[str] = Field(default=None, max_length=32)
    active: bool = True
    leave_start: Optional[dt.date] = None
    leave_end: Optional[dt.date] = None
    exit_date: Optional[dt.date] = None
    is_training: bool = False
    created_at: dt.datetime = utc_field(nullable=False, default_now=True)


class User(SQLModel, table=True):
    __table_args__ = (one_of("role", ROLES, "role"), CheckConstraint("failed_attempts >= 0", name="failed_nonneg"))

    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=64)
    staff_id: Optional[int] = Field(default=None, foreign_key="staff.id", unique=True)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=255)
    must_change_password: bool = False
    failed_attempts: int = 0
    locked_until: Optional[dt.datetime] = utc_field()
    active: bool = True
    language: str = Field(default="en", max_length=8)
    last_login_at: Optional[dt.datetime] = utc_field()
    created_at: dt.datetime = utc_field(nullable=False, default_now=True)

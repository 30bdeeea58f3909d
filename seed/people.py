"""Teams, staff and the demo logins."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from console.auth import hash_password
from seed.context import REGIONS, Ctx, StaffRec

TEAM_COLUMNS = ("id", "code", "name", "stream")
STAFF_COLUMNS = (
    "id",
    "code",
    "name",
    "role",
    "team_id",
    "stream",
    "department",
    "manager_level",
    "capacity_units",
    "region",
    "phone",
    "active",
    "leave_start",
    "leave_end",
    "exit_date",
    "is_training",
    "created_at",
)
USER_COLUMNS = (
    "id",
    "username",
    "staff_id",
    "role",
    "password_hash",
    "must_change_password",
    "failed_attempts",
    "locked_until",
    "active",
    "language",
    "last_login_at",
    "created_at",
)
DEMO_USERNAMES = ("admin", "supervisor", "lead", "manager", "agent", "reception", "trainee")
CN_NUMBERS = "一二三四五六七八九十"


def _team_label(n: int) -> str:
    return CN_NUMBERS[n - 1] if n <= 10 else str(n)


def build_people(ctx: Ctx) -> None:
    """Create teams and staff in memory (ids 1..n in order) and pick the scenario people."""
    rng = ctx.rng("people")
    scale = ctx.scale
    staff: list[StaffRec] = []

    def add(code: str, role: str, **kw: Any) -> StaffRec:
        rec = StaffRec(id=len(staff) + 1, code=code, name=ctx.name(rng), role=role, phone=ctx.phone(rng), **kw)
        staff.append(rec)
        return rec

    admin = add("AD01", "admin", department="member_value")
    supervisors = [add(f"SV{i:02d}", "supervisor", department="member_value") for i in range(1, scale.supervisors + 1)]

    team_id = 0
    maint_teams: list[int] = []
    ob_teams: list[int] = []
    for stream, count, prefix in (
        ("maintenance", scale.maintenance_teams, "MT"),
        ("ob", scale.ob_teams, "OB"),
    ):
        for n in range(1, count + 1):
            team_id += 1
            ctx.teams.append((team_id, f"{prefix}{n:02d}", stream))
            (maint_teams if stream == "maintenance" else ob_teams).append(team_id)
            lead = add(f"TL-{prefix}{n:02d}", "team_lead", team_id=team_id, stream=stream, department="member_value")
            ctx.leads[team_id] = lead.id
            for a in range(1, scale.agents_per_team + 1):
                add(f"AG-{prefix}{n:02d}-{a:02d}", "agent", team_id=team_id, stream=stream, department="member_value")
    team_names: dict[int, str] = {}
    for i, tid in enumerate(maint_teams, start=1):
        team_names[tid] = f"维护{_team_label(i)}组"
    for i, tid in enumerate(ob_teams, start=1):
        team_names[tid] = f"外呼营销{_team_label(i)}组"
    ctx.data["team_names"] = team_names

    levels = ["enterprise"] * scale.managers[0] + ["senior"] * scale.managers[1] + ["junior"] * scale.managers[2]
    managers: list[StaffRec] = []
    for i, level in enumerate(levels):
        rec = add(
            f"CM{i + 1:03d}",
            "client_manager",
            team_id=maint_teams[i % len(maint_teams)],
            stream="maintenance",
            department="member_value",
            level=level,
            capacity=scale.capacity_units,
            region=REGIONS[rng.randrange(len(REGIONS))],
        )
        rec.weight = rng.uniform(0.76, 1.0)
        managers.append(rec)
    for dept in ctx.ref.departments:
        for n in range(1, scale.reception_per_department + 1):
            add(f"RC-{dept.upper()}-{n:02d}", "reception", department=dept)
    trainees = [
        add(f"TR{i:02d}", "trainee", department="member_value", is_training=True) for i in range(1, scale.trainees + 1)
    ]
    # the pseudonymised caller of the training drill calls (never a real person, never in KPIs)
    drill_agent = add("TRN-DEMO", "trainee", department="member_value", is_training=True)
    drill_agent.name = "示范坐席"

    juniors = [m for m in managers if m.level == "junior"]
    seniors = [m for m in managers if m.level == "senior"]
    enterprise = [m for m in managers if m.level == "enterprise"]
    junior_platinum, overcap_junior, exiting = juniors[0], juniors[1], juniors[2]
    overcap_senior, on_leave = seniors[0], seniors[1]
    # the demo manager and the lead's team are the first maintenance team
    junior_platinum.team_id = maint_teams[0]
    on_leave.weight = 1.0  # a full portfolio before the cover moves part of it away
    on_leave.leave_start = ctx.as_of - dt.timedelta(days=6)
    on_leave.leave_end = ctx.as_of + dt.timedelta(days=9)
    exiting.exit_date = ctx.as_of + dt.timedelta(days=10)
    ctx.staff = staff
    lead_team = maint_teams[0]
    agents_first_team = [s for s in staff if s.role == "agent" and s.team_id == lead_team]
    security = [s for s in staff if s.role == "reception" and s.department == "security"]
    ctx.roles.update(
        admin=admin,
        supervisors=supervisors,
        managers=managers,
        juniors=juniors,
        seniors=seniors,
        enterprise=enterprise,
        junior_platinum=junior_platinum,
        overcap=[overcap_junior, overcap_senior],
        exiting=exiting,
        on_leave=on_leave,
        trainees=trainees,
        drill_agent=drill_agent,
        lead_team=lead_team,
        maint_teams=maint_teams,
        ob_teams=ob_teams,
        demo_agent=agents_first_team[0],
        reception_user_staff=security[0] if security else [s for s in staff if s.role == "reception"][0],
    )
    ctx.user_staff = {
        "admin": admin.id,
        "supervisor": supervisors[0].id,
        "lead": ctx.leads[lead_team],
        "manager": junior_platinum.id,
        "agent": agents_first_team[0].id,
        "reception": ctx.roles["reception_user_staff"].id,
        "trainee": trainees[0].id,
    }
    ctx.users = {name: i + 1 for i, name in enumerate(DEMO_USERNAMES)}


def write_people(ctx: Ctx) -> None:
    w = ctx.writer
    rng = ctx.rng("people-dates")
    w.table("team", TEAM_COLUMNS)
    w.table("staff", STAFF_COLUMNS)
    w.table("user", USER_COLUMNS)
    names = ctx.data["team_names"]
    for tid, code, stream in ctx.teams:
        w.add("team", (tid, code, names[tid], stream))
    for s in ctx.staff:
        hired = ctx.local(ctx.as_of - dt.timedelta(days=rng.randint(200, 2400)), 9, rng.randrange(60))
        if s.is_training:
            hired = ctx.local(ctx.as_of - dt.timedelta(days=rng.randint(3, 20)), 9)
        is_manager = s.role == "client_manager"
        w.add(
            "staff",
            (
                s.id,
                s.code,
                s.name,
                s.role,
                s.team_id,
                s.stream,
                s.department,
                s.level,
                s.capacity if is_manager else 0,
                s.region,
                s.phone,
                ctx.flag(s.active),
                ctx.day(s.leave_start),
                ctx.day(s.leave_end),
                ctx.day(s.exit_date),
                ctx.flag(s.is_training),
                ctx.ts(hired),
            ),
        )
    password = os.environ.get("CONSOLE_DEMO_PASSWORD") or "demo"
    hashed = hash_password(password)  # argon2 is slow: hash once, reuse for every demo login
    created = ctx.local(ctx.as_of - dt.timedelta(days=30), 9)
    for username, uid in ctx.users.items():
        staff_id = ctx.user_staff[username]
        role = ctx.staff_by_id(staff_id).role
        w.add(
            "user",
            (
                uid,
                username,
                staff_id,
                role,
                hashed,
                ctx.flag(False),
                0,
                None,
                ctx.flag(True),
                "en",
                None,
                ctx.ts(created),
            ),
        )
    w.flush()

"""Visits, their checklist runs (items copied from the active templates, due times from compute_due),
follow-ups, evidence notes, incidents and the visit contacts.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from console.checklists import compute_due
from seed.context import Ctx, StaffRec, TemplateItemRef
from seed.customers import Cust
from seed.texts import GUEST_TITLES, INCIDENTS, LOCATIONS, PURPOSES, follow_up_action, na_reason

VISIT_COLUMNS = (
    "id",
    "customer_id",
    "guest_name",
    "level",
    "arrival_at",
    "departure_at",
    "location",
    "host_id",
    "party_size",
    "purpose",
    "dietary",
    "hometown",
    "notes",
    "reinforcements",
    "on_duty",
    "shift_groups",
    "rotation_hours",
    "post_count",
    "status",
    "created_by",
    "created_at",
)
RUN_COLUMNS = (
    "id",
    "visit_id",
    "templates",
    "status",
    "alerts",
    "created_at",
    "submitted_at",
    "signed_off_by",
    "signed_off_at",
    "reopened_reason",
)
RUNITEM_COLUMNS = (
    "id",
    "run_id",
    "template_item_id",
    "template_code",
    "seq",
    "phase",
    "phase_en",
    "phase_zh",
    "text_en",
    "text_zh",
    "department",
    "timing",
    "anchor",
    "offset_minutes",
    "due_at",
    "required",
    "critical",
    "evidence_required",
    "state",
    "na_reason",
    "done_by",
    "done_at",
)
FOLLOWUP_COLUMNS = ("id", "run_item_id", "owner_id", "due_at", "action", "status", "done_by", "done_at")
EVIDENCE_COLUMNS = ("id", "run_item_id", "kind", "note", "filename", "mime", "size_bytes", "data", "uploaded_by", "at")
INCIDENT_COLUMNS = (
    "id",
    "visit_id",
    "reported_by_post",
    "description",
    "reported_at",
    "plan_activated_at",
    "gm_notified_at",
    "resolved_at",
    "resolution",
    "recorded_by",
)
CONTACT_COLUMNS = ("id", "customer_id", "staff_id", "kind", "at", "outcome", "stream", "call_id")


@dataclass
class VisitPlan:
    arrival: dt.datetime
    departure: dt.datetime
    level: int
    customer: Cust | None
    guest: str | None
    host: StaffRec
    templates: tuple[str, ...]
    scenario: str = ""
    cancelled: bool = False
    id: int = 0
    extras: dict[str, object] = field(default_factory=dict)


def _plan_visits(ctx: Ctx, custs: list[Cust]) -> list[VisitPlan]:
    rng = ctx.rng("visits")
    scale = ctx.scale
    days = dt.timedelta
    sups: list[StaffRec] = ctx.roles["supervisors"]
    staff_by_id = {s.id: s for s in ctx.staff}
    vip_pool = [c for c in custs if c.rank >= 3 and not c.is_training]
    vip_pool += [c for c in custs if c.rank == 2 and not c.is_training][: len(vip_pool) // 2]
    rng.shuffle(vip_pool)
    n_l3_customers = int(scale.visits * 0.8)
    pool = vip_pool[: max(3, int(n_l3_customers * 0.6))]  # a smaller pool: customers return

    def host_for(c: Cust | None) -> StaffRec:
        if c is not None and c.manager is not None:
            return staff_by_id[c.manager]
        return sups[rng.randrange(len(sups))]

    def stay(level: int, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        arrival = ctx.local(day, rng.randint(9, 16), rng.choice((0, 15, 30, 45)))
        if level <= 2:
            return arrival, arrival + days(days=rng.randint(1, 2), hours=rng.randint(0, 4))
        if rng.random() < 0.35:
            return arrival, arrival + days(days=1, hours=rng.randint(0, 6))
        return arrival, arrival + days(hours=rng.randint(2, 7))

    def templates_for(level: int) -> tuple[str, ...]:
        if level <= 2:
            return ("T1", "T4", "T3")
        return rng.choice((("T2",), ("T4", "T3"), ("T1", "T4"), ("T2", "T3")))

    plans: list[VisitPlan] = []
    # scenarios first: an upcoming L1 visit, a recent visit with a failed critical item, the demo manager's visit
    l1_day = ctx.as_of + days(days=rng.randint(2, 4))
    arr, dep = stay(1, l1_day)
    plans.append(
        VisitPlan(
            arr,
            dep,
            1,
            None,
            f"{GUEST_TITLES[0]}（{ctx.name(rng)}团长）",
            sups[0],
            ("T1", "T4", "T3"),
            scenario="upcoming_l1",
        )
    )
    fc_customer = pool[0] if pool else None
    arr = ctx.local(ctx.as_of - days(days=2), 10)
    plans.append(
        VisitPlan(
            arr,
            arr + days(hours=27),
            3,
            fc_customer,
            None if fc_customer else "商务访客",
            host_for(fc_customer),
            ("T1", "T4"),
            scenario="failed_critical",
        )
    )
    jp: Cust = ctx.roles["junior_platinum_customer"]
    arr, dep = stay(3, ctx.as_of + days(days=rng.randint(3, 6)))
    plans.append(VisitPlan(arr, dep, 3, jp, None, ctx.roles["junior_platinum"], ("T2", "T3"), scenario="manager_visit"))
    first_day = ctx.as_of - days(days=scale.visit_past_days)
    span = scale.visit_past_days + 14
    while len(plans) < scale.visits:
        day = first_day + days(days=rng.randint(0, span))
        x = rng.random()
        level = 1 if x < 0.02 else 2 if x < 0.10 else 3
        cust: Cust | None = None
        guest: str | None = None
        if level <= 2:
            guest = f"{rng.choice(GUEST_TITLES)}（{ctx.name(rng)}）"
        elif pool and rng.random() < 0.9:
            cust = pool[rng.randrange(len(pool))]
        else:
            guest = f"{ctx.fake.company()} {ctx.name(rng)}"
        arr, dep = stay(level, day)
        plan = VisitPlan(
            arr,
            dep,
            level,
            cust,
            guest,
            host_for(cust) if level == 3 else sups[rng.randrange(len(sups))],
            templates_for(level),
        )
        plan.cancelled = rng.random() < 0.04
        plans.append(plan)
    plans.sort(key=lambda p: (p.arrival, p.level, p.customer.id if p.customer else 0, p.guest or ""))
    for i, p in enumerate(plans, 1):
        p.id = i
    return plans


def write_reception(ctx: Ctx, custs: list[Cust]) -> dict[str, int]:
    rng = ctx.rng("runs")
    w = ctx.writer
    for name, cols in (
        ("visit", VISIT_COLUMNS),
        ("run", RUN_COLUMNS),
        ("runitem", RUNITEM_COLUMNS),
        ("followup", FOLLOWUP_COLUMNS),
        ("evidence", EVIDENCE_COLUMNS),
        ("incident", INCIDENT_COLUMNS),
        ("contact", CONTACT_COLUMNS),
    ):
        w.table(name, cols)
    days = dt.timedelta
    now = ctx.as_of_start
    plans = _plan_visits(ctx, custs)
    sup_user = ctx.users["supervisor"]
    reception_user = ctx.users["reception"]
    manager_user = ctx.users["manager"]
    demo_manager = ctx.roles["junior_platinum"].id
    reception_by_dept: dict[str, list[StaffRec]] = {}
    for s in ctx.staff:
        if s.role == "reception" and s.department:
            reception_by_dept.setdefault(s.department, []).append(s)
    levels = ctx.ref.levels
    templates = ctx.ref.templates
    # customer -> (visit id, arrival, failed/N-A items) of their last visit (the alerts of console.reception.runs)
    last_issues: dict[int, tuple[int, dt.datetime, list[dict[str, object]]]] = {}
    item_id = run_id = fu_id = ev_id = inc_id = 0
    contact_id = int(ctx.data.get("next_contact_id", 1)) - 1
    incident_slots = set(rng.sample(range(len(plans)), min(len(plans), ctx.scale.incidents * 3)))
    incidents_left = ctx.scale.incidents
    counts = {"visits": 0, "runs": 0, "runitems": 0}

    for p in plans:
        past = p.departure < now
        current = p.arrival < now <= p.departure
        status = "cancelled" if p.cancelled else "completed" if past else "in_progress" if current else "planned"
        c = p.customer
        lv = levels.get(p.level, {})
        on_duty = lv.get("on_duty") if p.level <= 2 else rng.randint(2, 6)
        created = min(p.arrival - days(days=rng.randint(3, 20), hours=rng.randint(0, 8)), now - days(hours=3))
        created_by = manager_user if p.host.id == demo_manager else sup_user
        w.add(
            "visit",
            (
                p.id,
                c.id if c else None,
                p.guest,
                p.level,
                ctx.ts(p.arrival),
                ctx.ts(p.departure),
                LOCATIONS[p.id % len(LOCATIONS)] if p.level == 3 else LOCATIONS[0],
                p.host.id,
                rng.randint(10, 30) if p.level == 1 else rng.randint(6, 15) if p.level == 2 else rng.randint(1, 6),
                PURPOSES[rng.randrange(len(PURPOSES))] if p.level == 3 else "公务接待",
                c.dietary if c else None,
                c.hometown if c else None,
                c.notes if c else None,
                lv.get("reinforcements") if p.level <= 2 else None,
                on_duty,
                lv.get("shift_groups") if p.level <= 2 else None,
                lv.get("rotation_hours") if p.level <= 2 else None,
                lv.get("post_count") if p.level <= 2 else None,
                status,
                created_by,
                ctx.ts(created),
            ),
        )
        counts["visits"] += 1
        if status == "completed" and c is not None:
            contact_id += 1
            w.add(
                "contact", (contact_id, c.id, p.host.id, "visit", ctx.ts(p.arrival), "completed", "maintenance", None)
            )

        # -- the run --------------------------------------------------------------------------------------
        run_id += 1
        codes = [t for t in p.templates if t in templates]
        items: list[tuple[str, TemplateItemRef]] = []
        for code in codes:
            for it in templates[code].items:
                if code == "T1" and p.level not in it.levels:
                    continue
                items.append((code, it))
        tpl_label = ",".join(f"{code}@{templates[code].version}" for code in codes)
        alerts = None
        if c is not None and c.id in last_issues:
            prev_visit, prev_arrival, issues = last_issues[c.id]
            prefs = {"dietary": c.dietary, "hometown": c.hometown, "notes": c.notes}
            alerts = json.dumps(
                {
                    "last_visit_id": prev_visit,
                    "last_visit_arrival": prev_arrival.replace(tzinfo=dt.UTC).isoformat(),
                    "items": sorted(issues, key=lambda x: (str(x["template"]), int(str(x["seq"])))),
                    "preferences": {k: v for k, v in prefs.items() if v},
                }
            )
        issues_now: list[dict[str, object]] = []
        run_created = created + days(minutes=rng.randint(5, 90))
        any_done = False
        critical_failed_open = False
        signed = status == "completed" and p.scenario != "failed_critical" and rng.random() < 0.85
        forced_fail: int | None = None
        if p.scenario in ("failed_critical", "upcoming_l1"):
            crit = [
                i
                for i, (_, it) in enumerate(items)
                if it.critical
                and (
                    p.scenario == "failed_critical"
                    or (compute_due(it.timing, it.anchor, it.offset_minutes, p.arrival, p.departure) or now) < now
                )
            ]
            forced_fail = crit[len(crit) // 2] if crit else None
        run_item_rows: list[tuple[object, ...]] = []
        followups: list[tuple[object, ...]] = []
        evidences: list[tuple[object, ...]] = []
        for idx, (code, it) in enumerate(items):
            due = compute_due(it.timing, it.anchor, it.offset_minutes, p.arrival, p.departure)
            anchor_time = due or p.arrival
            state, reason_na, done_by, done_at = "open", None, None, None
            worked = not p.cancelled and (past or anchor_time < now)
            if worked:
                x = rng.random()
                if idx == forced_fail:
                    state = "failed"
                elif not it.required:
                    state = "done" if x < 0.6 else "na" if x < 0.72 else "open"
                elif past:
                    state = "done" if x < 0.90 else "na" if x < 0.96 else "failed"
                else:
                    state = "done" if x < 0.82 else "na" if x < 0.86 else "open"
                if state == "open" and (past and it.required):
                    state = "done"
                if state != "open":
                    done_at = anchor_time - days(minutes=rng.randint(0, 240))
                    if done_at >= now:
                        done_at = now - days(minutes=rng.randint(5, 600))
                    done_by = (
                        reception_user
                        if it.department == "security"
                        else (manager_user if p.host.id == demo_manager else None)
                    )
                    any_done = True
                if state == "na":
                    reason_na = na_reason(rng, it.department)
            item_id += 1
            run_item_rows.append(
                (
                    item_id,
                    run_id,
                    it.id,
                    code,
                    it.seq,
                    it.phase,
                    it.phase_en,
                    it.phase_zh,
                    it.text_en,
                    it.text_zh,
                    it.department,
                    it.timing,
                    it.anchor,
                    it.offset_minutes,
                    ctx.ts(due),
                    ctx.flag(it.required),
                    ctx.flag(it.critical),
                    ctx.flag(it.evidence_required),
                    state,
                    reason_na,
                    done_by,
                    ctx.ts(done_at),
                )
            )
            action = follow_up_action(rng, it.text_zh) if state == "failed" else None
            if state in ("failed", "na"):
                issues_now.append(
                    {
                        "template": code,
                        "seq": it.seq,
                        "text_en": it.text_en,
                        "text_zh": it.text_zh,
                        "department": it.department,
                        "state": state,
                        "reason": reason_na if state == "na" else action,
                    }
                )
            if state == "failed" and done_at is not None:
                owners = reception_by_dept.get(it.department) or [p.host]
                owner = owners[rng.randrange(len(owners))]
                fu_open = idx == forced_fail or (not signed and it.critical and rng.random() < 0.5)
                if fu_open and it.critical:
                    critical_failed_open = True
                fu_due = (now + days(days=1, hours=2)) if fu_open else done_at + days(hours=rng.randint(4, 48))
                fu_done_at = None if fu_open else min(fu_due - days(hours=1), now - days(minutes=30))
                fu_id += 1
                followups.append(
                    (
                        fu_id,
                        item_id,
                        owner.id,
                        ctx.ts(fu_due),
                        action,
                        "open" if fu_open else "done",
                        None if fu_open else sup_user,
                        ctx.ts(fu_done_at),
                    )
                )
            if state == "done" and it.evidence_required:
                ev_id += 1
                evidences.append(
                    (
                        ev_id,
                        item_id,
                        "note",
                        "已完成并拍照存档，照片见部门共享盘。",
                        None,
                        None,
                        None,
                        None,
                        done_by,
                        ctx.ts(done_at),
                    )
                )
        if p.cancelled:
            run_status = "cancelled"
        elif signed and not critical_failed_open:
            run_status = "signed_off"
        elif past:
            run_status = "submitted"
        elif current or any_done:
            run_status = "in_progress"
        else:
            run_status = "scheduled"
        submitted_at = signed_at = None
        if run_status in ("submitted", "signed_off"):
            submitted_at = min(p.departure + days(hours=rng.randint(1, 12)), now - days(hours=2))
        if run_status == "signed_off" and submitted_at is not None:
            signed_at = min(submitted_at + days(hours=rng.randint(1, 30)), now - days(hours=1))
        w.add(
            "run",
            (
                run_id,
                p.id,
                tpl_label,
                run_status,
                alerts,
                ctx.ts(run_created),
                ctx.ts(submitted_at),
                sup_user if signed_at else None,
                ctx.ts(signed_at),
                None,
            ),
        )
        for row in run_item_rows:
            w.add("runitem", row)
        for row in followups:
            w.add("followup", row)
        for row in evidences:
            w.add("evidence", row)
        counts["runs"] += 1
        counts["runitems"] += len(run_item_rows)
        if c is not None and not p.cancelled:
            last_issues[c.id] = (p.id, p.arrival, issues_now)

        if status == "completed" and incidents_left > 0 and (p.id - 1) in incident_slots:
            incidents_left -= 1
            post, desc, resolution = INCIDENTS[inc_id % len(INCIDENTS)]
            stay_s = max(600, int((p.departure - p.arrival).total_seconds()) - 7200)
            reported = p.arrival + days(seconds=rng.randrange(600, stay_s + 600))
            activated = reported + days(minutes=rng.randint(2, 8))
            gm = activated + days(minutes=rng.randint(5, 20))
            resolved = gm + days(minutes=rng.randint(20, 120))
            inc_id += 1
            w.add(
                "incident",
                (
                    inc_id,
                    p.id,
                    post,
                    desc,
                    ctx.ts(reported),
                    ctx.ts(activated),
                    ctx.ts(gm),
                    ctx.ts(resolved),
                    resolution,
                    reception_user,
                ),
            )
        if p.id % 500 == 0:
            ctx.report("visits", p.id, len(plans))
    w.flush()
    ctx.data["next_contact_id"] = contact_id + 1
    ctx.report("visits", len(plans), len(plans))
    return counts

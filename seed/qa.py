"""Evaluations (answers, violation marks, score via console.scoring), disputes, calibration and training
sessions, coaching notes and floor-discipline events.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from console.scoring import Answer, compute_score
from seed.calls import CallInfo
from seed.context import Ctx, ScorecardRef, StaffRec
from seed.texts import COACHING_TEXTS, DISCIPLINE_NOTES, DISPUTE_REASONS, RESOLUTION_NOTES

EVALUATION_COLUMNS = (
    "id",
    "call_id",
    "version_id",
    "evaluator_id",
    "evaluatee_id",
    "kind",
    "status",
    "total",
    "passed",
    "fatal",
    "void",
    "revision",
    "session_id",
    "created_at",
    "submitted_at",
    "acknowledged_at",
    "auto_acknowledged",
)
ANSWER_COLUMNS = ("id", "evaluation_id", "item_id", "points", "na", "comment")
MARK_COLUMNS = ("id", "evaluation_id", "violation_id", "comment")
REVISION_COLUMNS = ("id", "evaluation_id", "revision", "snapshot", "at", "by_user_id", "reason")
DISPUTE_COLUMNS = (
    "id",
    "evaluation_id",
    "raised_by",
    "raised_at",
    "item_ids",
    "reason",
    "status",
    "resolved_by",
    "resolved_at",
    "resolution_note",
)
SESSION_COLUMNS = ("id", "kind", "title", "call_id", "version_id", "deadline", "created_by", "created_at")
PARTICIPANT_COLUMNS = ("id", "session_id", "staff_id", "evaluation_id")
COACHING_COLUMNS = (
    "id",
    "staff_id",
    "author_id",
    "at",
    "text",
    "evaluation_id",
    "focus_item_ids",
    "follow_up_on",
    "follow_up_done",
    "acknowledged_at",
)
DISCIPLINE_COLUMNS = ("id", "rule_id", "staff_id", "recorded_by", "at", "points", "note")
DISPUTE_WINDOW = dt.timedelta(days=7)

# id, kind, title, call id, version id, deadline, created by, created at
SessionRow = tuple[int, str, str, int, int, dt.datetime, int, dt.datetime]
# evaluation id, revision, snapshot JSON, at, by user, reason
RevisionRow = tuple[int, int, str, dt.datetime, int, str]
# evaluation id, raised by, raised at, item ids JSON, reason, status, resolved by, resolved at, note
DisputeRow = tuple[int, int, dt.datetime, str, str, str, int | None, dt.datetime | None, str | None]


@dataclass
class Ev:
    id: int
    call: CallInfo
    card: ScorecardRef
    evaluator: int
    evaluatee: int
    kind: str = "regular"
    status: str = "submitted"
    answers: dict[int, Answer] = field(default_factory=dict)
    marks: list[int] = field(default_factory=list)
    total: float | None = None
    passed: bool | None = None
    fatal: bool = False
    void: bool = False
    revision: int = 1
    session_id: int | None = None
    created: dt.datetime | None = None
    submitted: dt.datetime | None = None
    acknowledged: dt.datetime | None = None
    auto_ack: bool = False


class QaGen:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("qa")
        self.evals: list[Ev] = []
        self.skill: dict[int, float] = {}
        srng = ctx.rng("skill")
        for s in ctx.staff:
            self.skill[s.id] = srng.uniform(0.72, 0.97)

    def answers(self, card: ScorecardRef, skill: float) -> dict[int, Answer]:
        r = self.rng
        out: dict[int, Answer] = {}
        for item in card.items:
            if item.na_allowed and r.random() < 0.12:
                out[item.item_id] = Answer(None, True)
            elif item.kind == "yes_no":
                out[item.item_id] = Answer(item.max_points if r.random() < skill else 0)
            else:
                pts = item.max_points if r.random() < skill else r.randint(item.max_points // 3, item.max_points - 1)
                out[item.item_id] = Answer(pts)
        return out

    def near_key(self, card: ScorecardRef, key: dict[int, Answer], agreement: float) -> dict[int, Answer]:
        """A grader's answers: mostly the key's, sometimes a point or a yes/no away."""
        r = self.rng
        out: dict[int, Answer] = {}
        for item in card.items:
            k = key[item.item_id]
            if r.random() < agreement:
                out[item.item_id] = k
            elif k.na:
                out[item.item_id] = Answer(item.max_points)
            elif item.kind == "yes_no":
                out[item.item_id] = Answer(0 if k.points else item.max_points)
            else:
                pts = max(0, min(item.max_points, (k.points or 0) + r.choice((-2, -1, 1))))
                out[item.item_id] = Answer(pts)
        return out

    def score(self, ev: Ev) -> None:
        card = ev.card
        res = compute_score(card.sections, card.items, ev.answers, card.violations, set(ev.marks), card.pass_mark)
        ev.total, ev.passed, ev.fatal = res.total, res.passed, res.fatal

    def new(self, call: CallInfo, evaluator: int, evaluatee: int, kind: str, submitted: dt.datetime) -> Ev:
        card = self.ctx.ref.scorecards[call.stream]
        ev = Ev(id=len(self.evals) + 1, call=call, card=card, evaluator=evaluator, evaluatee=evaluatee, kind=kind)
        ev.submitted = submitted
        ev.created = submitted - dt.timedelta(minutes=self.rng.randint(5, 40))
        self.evals.append(ev)
        return ev


def _evaluator_for(ctx: Ctx, caller: StaffRec, k: int) -> int:
    if caller.role == "client_manager" or caller.team_id is None:
        sups = ctx.roles["supervisors"]
        return sups[k % len(sups)].id
    return ctx.leads[caller.team_id]


def write_qa(ctx: Ctx) -> dict[str, int]:
    rng = ctx.rng("qa-flow")
    gen = QaGen(ctx)
    w = ctx.writer
    for name, cols in (
        ("calibrationsession", SESSION_COLUMNS),
        ("evaluation", EVALUATION_COLUMNS),
        ("evaluationanswer", ANSWER_COLUMNS),
        ("evaluationviolationmark", MARK_COLUMNS),
        ("evaluationrevision", REVISION_COLUMNS),
        ("dispute", DISPUTE_COLUMNS),
        ("calibrationparticipant", PARTICIPANT_COLUMNS),
        ("coachingnote", COACHING_COLUMNS),
        ("disciplineevent", DISCIPLINE_COLUMNS),
    ):
        w.table(name, cols)
    days = dt.timedelta
    now = ctx.as_of_start  # history ends where the as-of day starts
    sup_ids = [s.id for s in ctx.roles["supervisors"]]
    supervisor_user = ctx.users["supervisor"]
    lead_team = ctx.roles["lead_team"]
    demo_agent = ctx.roles["demo_agent"].id

    # -- regular evaluations ---------------------------------------------------------------------------
    calls: list[CallInfo] = sorted(ctx.data["evaluated_calls"], key=lambda c: (c.started, c.id))
    planned: list[tuple[CallInfo, dt.datetime]] = []
    for call in calls:
        end = call.started + days(seconds=call.duration)
        submitted = end + days(minutes=rng.randint(60, 4 * 24 * 60))
        if submitted >= now:
            submitted = max(end + days(minutes=20), now - days(minutes=rng.randint(10, 120)))
            if submitted >= now:
                submitted = end + days(minutes=5)
        planned.append((call, submitted))
    planned.sort(key=lambda p: (p[1], p[0].id))
    for k, (call, submitted) in enumerate(planned):
        caller = ctx.staff_by_id(call.caller_id)
        ev = gen.new(call, _evaluator_for(ctx, caller, k), caller.id, "regular", submitted)
        ev.answers = gen.answers(ev.card, gen.skill[caller.id])
        if rng.random() < 0.03 and ev.card.violations:
            ev.marks = [rng.choice(ev.card.violations).violation_id]
        gen.score(ev)

    # -- lifecycle: acknowledged, submitted (inside the window), disputed, resolved ----------------------
    disputes: list[tuple[Ev, dict[str, object]]] = []
    open_lead = 0
    pending_agent = 0
    for ev in gen.evals:
        assert ev.submitted is not None
        age = now - ev.submitted
        evaluatee = ctx.staff_by_id(ev.evaluatee)
        in_lead_team = evaluatee.team_id == lead_team and evaluatee.role == "agent"
        x = rng.random()
        if age < DISPUTE_WINDOW:
            if ev.evaluatee == demo_agent and pending_agent < 2:
                pending_agent += 1
                continue  # stays submitted: awaiting the agent's acknowledgement
            if in_lead_team and open_lead < 2 and ev.evaluatee != demo_agent:
                open_lead += 1
                disputes.append((ev, {"status": "open"}))
                continue
            if x < 0.62:
                continue
            if x < 0.90:
                ev.status = "acknowledged"
                ev.acknowledged = ev.submitted + (now - ev.submitted) * rng.uniform(0.05, 0.9)
                continue
            disputes.append((ev, {"status": "open"}))
            continue
        if x < 0.92:
            ev.status = "acknowledged"
            if rng.random() < 0.7:
                ev.acknowledged, ev.auto_ack = ev.submitted + DISPUTE_WINDOW, True
            else:
                ev.acknowledged = ev.submitted + days(hours=rng.randint(1, 6 * 24))
        elif x < 0.94 and age < days(days=25):
            disputes.append((ev, {"status": "open"}))
        else:
            disputes.append((ev, {"status": rng.choice(("upheld", "upheld", "adjusted", "overturned"))}))
    # the lead's team must show open disputes even when its recent evaluations were few
    if open_lead < 2:
        team_evs = [
            ev
            for ev in gen.evals
            if ctx.staff_by_id(ev.evaluatee).team_id == lead_team
            and ctx.staff_by_id(ev.evaluatee).role == "agent"
            and ev.status == "submitted"
            and ev.evaluatee != demo_agent
            and all(d[0] is not ev for d in disputes)
        ]
        for ev in team_evs[-(2 - open_lead) :]:
            disputes.append((ev, {"status": "open"}))

    dispute_rows: list[DisputeRow] = []
    revisions: list[RevisionRow] = []
    for ev, info in disputes:
        assert ev.submitted is not None
        status = str(info["status"])
        latest = min(ev.submitted + DISPUTE_WINDOW - days(hours=1), now - days(minutes=30))
        span = max(60, int((latest - ev.submitted).total_seconds()))
        raised = ev.submitted + days(seconds=rng.randrange(30 * 60, span + 30 * 60))
        raised = min(raised, latest)
        items = [
            i.item_id
            for i in ev.card.items
            if not ev.answers[i.item_id].na and (ev.answers[i.item_id].points or 0) < i.max_points
        ]
        disputed_items = sorted(rng.sample(items, min(len(items), rng.randint(1, 2)))) if items else []
        reason = rng.choice(DISPUTE_REASONS)
        resolver: int | None = None
        resolved_at: dt.datetime | None = None
        note: str | None = None
        if status == "open":
            ev.status = "disputed"
        else:
            ev.status = "resolved"
            others = [s for s in sup_ids if s != ev.evaluator]
            resolver = others[rng.randrange(len(others))]
            resolved_at = min(raised + days(hours=rng.randint(4, 96)), now - days(minutes=10))
            note = RESOLUTION_NOTES[status]
            if status == "overturned":
                ev.void = True
            elif status == "adjusted" and disputed_items:
                snapshot = {
                    "answers": {str(k): {"points": a.points, "na": a.na} for k, a in ev.answers.items()},
                    "violations": ev.marks,
                    "total": ev.total,
                    "passed": ev.passed,
                }
                revisions.append(
                    (
                        ev.id,
                        1,
                        json.dumps(snapshot, sort_keys=True, ensure_ascii=False),
                        resolved_at,
                        supervisor_user,
                        "Adjusted on dispute",
                    )
                )
                max_points = {i.item_id: i.max_points for i in ev.card.items}
                for item_id in disputed_items:
                    ev.answers[item_id] = Answer(max_points[item_id])
                ev.revision = 2
                gen.score(ev)
        dispute_rows.append(
            (ev.id, ev.evaluatee, raised, json.dumps(disputed_items), reason, status, resolver, resolved_at, note)
        )

    # -- calibration and training sessions ---------------------------------------------------------------
    sessions: list[SessionRow] = []
    participants: list[tuple[int, int, int | None]] = []
    # sessions use calls that carry a transcript (evaluated ones), preferably recent calls of the lead's team
    evaluated_ids = {c.id for c in calls}
    recent = [c for c in ctx.data["recent_calls"] if c.id in evaluated_ids]
    lead_agents = {s.id for s in ctx.staff if s.team_id == lead_team and s.role == "agent"}
    leads = sorted(ctx.leads.values())
    creator = sup_ids[0]

    def session(
        kind: str,
        title: str,
        call: CallInfo,
        deadline: dt.datetime,
        created: dt.datetime,
        graders: list[int],
        submitted_graders: list[int],
        expert: int,
        grader_kind: str,
    ) -> None:
        sid = len(sessions) + 1
        card = ctx.ref.scorecards[call.stream]
        sessions.append((sid, kind, title, call.id, card.version_id, deadline, creator, created))
        key = gen.new(call, expert, call.caller_id, "expert_key", created + days(hours=2))
        key.session_id, key.status = sid, "submitted"
        key.answers = gen.answers(card, 0.85)
        gen.score(key)
        for g in graders:
            eid: int | None = None
            if g in submitted_graders:
                sub = min(created + days(hours=rng.randint(3, 60)), now - days(minutes=15))
                ev = gen.new(call, g, call.caller_id, grader_kind, sub)
                ev.session_id, ev.status = sid, "submitted"
                ev.answers = gen.near_key(card, key.answers, rng.uniform(0.7, 0.95))
                gen.score(ev)
                eid = ev.id
            participants.append((sid, g, eid))

    cal_pool = (
        [c for c in recent if c.caller_id in lead_agents and c.stream == "maintenance"]
        or [c for c in calls if c.caller_id in lead_agents and c.stream == "maintenance"]
        or recent
        or calls
    )
    if cal_pool:
        call = cal_pool[len(cal_pool) // 2]
        graders = leads + sup_ids[1:]
        demo_lead = ctx.leads[lead_team]
        done = [g for g in graders if g != demo_lead][: max(1, len(graders) // 2)]
        session(
            "calibration",
            f"Calibration: maintenance call {ctx.as_of:%Y-%m-%d}",
            call,
            ctx.local(ctx.as_of + days(days=3), 18),
            now - days(days=2),
            graders,
            done,
            creator,
            "calibration",
        )
    older = [c for c in ctx.data["evaluated_calls"] if c.started < now - days(days=40) and c.stream == "ob"]
    if older:
        call = older[len(older) // 3]
        graders = leads + sup_ids[1:]
        session(
            "calibration",
            "Calibration: OB consent wording",
            call,
            call.started + days(days=10),
            call.started + days(days=3),
            graders,
            graders,
            creator,
            "calibration",
        )
    drills: list[CallInfo] = ctx.data["drill_calls"]
    trainees = [t.id for t in ctx.roles["trainees"]]
    if drills:
        first = sorted(drills, key=lambda c: (c.started, c.id))
        session(
            "training",
            "Training drill: identity check and rights",
            first[0],
            first[0].started + days(days=5),
            first[0].started + days(hours=3),
            trainees,
            trainees,
            creator,
            "training",
        )
        session(
            "training",
            "Training drill: care call closing",
            first[-1],
            ctx.local(ctx.as_of + days(days=5), 18),
            now - days(days=1),
            trainees,
            trainees[1:],
            creator,
            "training",
        )

    # -- write -------------------------------------------------------------------------------------------
    for row in sessions:
        sid, kind, title, call_id, version_id, deadline, created_by, created = row
        w.add(
            "calibrationsession",
            (
                sid,
                kind,
                title,
                call_id,
                version_id,
                ctx.ts(deadline),
                created_by,
                ctx.ts(created),
            ),
        )
    answer_id = 0
    mark_id = 0
    for ev in gen.evals:
        w.add(
            "evaluation",
            (
                ev.id,
                ev.call.id,
                ev.card.version_id,
                ev.evaluator,
                ev.evaluatee,
                ev.kind,
                ev.status,
                ev.total,
                None if ev.passed is None else ctx.flag(ev.passed),
                ctx.flag(ev.fatal),
                ctx.flag(ev.void),
                ev.revision,
                ev.session_id,
                ctx.ts(ev.created),
                ctx.ts(ev.submitted),
                ctx.ts(ev.acknowledged),
                ctx.flag(ev.auto_ack),
            ),
        )
        for item in ev.card.items:
            a = ev.answers[item.item_id]
            answer_id += 1
            comment = "录音中未听到" if (not a.na and (a.points or 0) == 0) else None
            w.add("evaluationanswer", (answer_id, ev.id, item.item_id, a.points, ctx.flag(a.na), comment))
        for vid in ev.marks:
            mark_id += 1
            w.add("evaluationviolationmark", (mark_id, ev.id, vid, "见录音 01:20 处"))
    for n, (eid, rev, snap, at, by, reason) in enumerate(revisions, 1):
        w.add("evaluationrevision", (n, eid, rev, snap, ctx.ts(at), by, reason))
    for n, (eid, raised_by, raised, items_json, reason, status, resolver, resolved_at, note) in enumerate(
        dispute_rows, 1
    ):
        w.add(
            "dispute",
            (
                n,
                eid,
                raised_by,
                ctx.ts(raised),
                items_json,
                reason,
                status,
                resolver,
                ctx.ts(resolved_at),
                note,
            ),
        )
    for n, (sid, staff_id, eid) in enumerate(participants, 1):
        w.add("calibrationparticipant", (n, sid, staff_id, eid))
    w.flush()
    ctx.report("evaluations", len(gen.evals), len(gen.evals))

    _coaching(ctx, gen)
    _discipline(ctx)
    w.flush()
    return {"evaluations": len(gen.evals)}


def _coaching(ctx: Ctx, gen: QaGen) -> None:
    rng = ctx.rng("coaching")
    w = ctx.writer
    now = ctx.as_of_start
    days = dt.timedelta
    by_staff: dict[int, list[Ev]] = {}
    for ev in gen.evals:
        if ev.kind == "regular" and not ev.void:
            by_staff.setdefault(ev.evaluatee, []).append(ev)
    n = 0
    for s in ctx.staff:
        if s.role not in ("agent", "client_manager") or s.is_training:
            continue
        evs = by_staff.get(s.id, [])
        author = (
            ctx.leads.get(s.team_id or -1)
            if s.role == "agent"
            else ctx.roles["supervisors"][s.id % len(ctx.roles["supervisors"])].id
        )
        if author is None:
            continue
        for _ in range(rng.choice((0, 1, 1, 2))):
            low = [
                e for e in evs if e.total is not None and e.total < 85 and e.submitted and e.submitted > now - days(90)
            ]
            ev = rng.choice(low) if low else None
            at = (
                (ev.submitted + days(hours=rng.randint(2, 72)))
                if ev and ev.submitted
                else now - days(days=rng.randint(3, 90))
            )
            at = min(at, now - days(hours=2))
            focus: list[int] = []
            if ev:
                focus = [
                    i.item_id
                    for i in ev.card.items
                    if not ev.answers[i.item_id].na and (ev.answers[i.item_id].points or 0) < i.max_points
                ][:2]
            follow = ctx.local_day(at) + days(days=14)
            ack = at + days(hours=rng.randint(1, 48)) if rng.random() < 0.6 else None
            if ack is not None and ack >= now:
                ack = None
            n += 1
            w.add(
                "coachingnote",
                (
                    n,
                    s.id,
                    author,
                    ctx.ts(at),
                    rng.choice(COACHING_TEXTS),
                    ev.id if ev else None,
                    json.dumps(focus),
                    ctx.day(follow),
                    ctx.flag(follow < ctx.as_of and rng.random() < 0.7),
                    ctx.ts(ack),
                ),
            )


def _discipline(ctx: Ctx) -> None:
    rng = ctx.rng("discipline")
    w = ctx.writer
    rules = ctx.ref.discipline
    if not rules:
        return
    weighted = [r for r in rules for _ in range(3 if r[2] > 0 else 1)]
    n = 0
    for s in ctx.staff:
        if s.role not in ("agent", "client_manager") or s.is_training or s.team_id is None:
            continue
        recorder = ctx.leads[s.team_id]
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2, 3))):
            rule_id, _code, points = rng.choice(weighted)
            day = ctx.as_of - dt.timedelta(days=rng.randint(1, 120))
            at = ctx.local(day, rng.randint(8, 17), rng.randrange(60))
            n += 1
            w.add("disciplineevent", (n, rule_id, s.id, recorder, ctx.ts(at), points, rng.choice(DISCIPLINE_NOTES)))

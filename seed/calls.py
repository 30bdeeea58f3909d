"""Outbound calls (maintenance by managers and agents, OB by agents) with their Contact rows, and SMS contacts.

Calls are generated caller by caller. The calls that will be evaluated are chosen while generating (they are
forced connected and get a transcript); the QA phase receives them in ``ctx.data["evaluated_calls"]``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import random
from collections.abc import Sequence
from dataclasses import dataclass

from console.timeutil import is_working_day
from seed.context import Ctx, StaffRec
from seed.customers import Cust
from seed.texts import transcript

CALL_COLUMNS = (
    "id",
    "reference",
    "customer_id",
    "caller_id",
    "stream",
    "call_type",
    "started_at",
    "duration_s",
    "outcome",
    "result",
    "recording_ref",
    "transcript",
)
CONTACT_COLUMNS = ("id", "customer_id", "staff_id", "kind", "at", "outcome", "stream", "call_id")

OUTCOMES = ("connected", "no_answer", "busy", "refused", "wrong_number", "callback_requested")
OUTCOME_CUM = (62, 80, 87, 91, 93, 100)
NOT_CONNECTED = OUTCOMES[1:]
NOT_CONNECTED_CUM = (18, 25, 29, 31, 38)
MANAGER_CONNECT = 0.78  # managers' own customers pick up more often than campaign lists
TIER_PRIORITY = {0: 0, 1: 0, 2: 10, 3: 20, 4: 30, 5: 45}  # days of extra urgency per tier when the day is short
RESULTS = ("success", "declined", "escalated", "pending")
RESULT_CUM = {"maintenance": (70, 82, 87, 100), "ob": (25, 75, 78, 100)}
MANAGER_TYPES = ("rights_notification", "care", "retention", "winback", "complaint_followup", "onboarding_visit")
MANAGER_TYPE_CUM = (25, 70, 82, 88, 95, 100)
AGENT_TYPES = ("rights_notification", "care", "retention", "winback", "complaint_followup")
AGENT_TYPE_CUM = (35, 70, 85, 95, 100)
OB_TYPES = ("upsell", "campaign", "renewal")
OB_TYPE_CUM = (45, 80, 100)
SAMPLED_SHARE = 0.02  # connected calls sampled for review also carry a transcript
# Every connected call of the last five weeks carries one too, so this and last ISO week's review queue
# (SPEC §4: a transcript for sampled calls) always has something to read.
TRANSCRIPT_RECENT_DAYS = 35
CALL_SHARES = (0.60, 0.22, 0.18)  # managers, maintenance agents, OB agents


@dataclass(frozen=True)
class CallInfo:
    """What later phases need to know about an evaluated or recent call."""

    id: int
    customer_id: int
    caller_id: int
    stream: str
    call_type: str
    started: dt.datetime
    duration: int


def _pick(rng: random.Random, items: Sequence[str], cum: Sequence[int]) -> str:
    return items[bisect.bisect_right(cum, rng.randrange(cum[-1]))]


def _quotas(total: int, weights: list[float]) -> list[int]:
    """Integer quotas proportional to weights, summing to total (largest remainder, ties by position)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [int(x) for x in raw]
    rest = total - sum(out)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[:rest]:
        out[i] += 1
    return out


class CallGen:
    def __init__(self, ctx: Ctx, custs: list[Cust]) -> None:
        self.ctx = ctx
        self.custs = custs
        self.rng = ctx.rng("calls")
        self.trng = ctx.rng("transcripts")
        self.call_id = 0
        self.contact_id = 0
        self.evaluated: list[CallInfo] = []
        self.recent: list[CallInfo] = []
        as_of = ctx.as_of
        self.transcripts_from = ctx.as_of_start - dt.timedelta(days=TRANSCRIPT_RECENT_DAYS)
        self.window_days = [as_of - dt.timedelta(days=d) for d in range(ctx.scale.call_days, 0, -1)]
        weights = [1.0 if is_working_day(d) else 0.25 for d in self.window_days]
        cum: list[float] = []
        acc = 0.0
        for wgt in weights:
            acc += wgt
            cum.append(acc)
        self.day_cum = cum
        self.window_start = ctx.local(self.window_days[0])
        self.recent_from = ctx.local(as_of - dt.timedelta(days=14))

    # -- helpers ----------------------------------------------------------------------------------------
    def days(self, k: int) -> list[dt.date]:
        return self.rng.choices(self.window_days, cum_weights=self.day_cum, k=k)

    def at(self, day: dt.date) -> dt.datetime:
        r = self.rng
        return self.ctx.local(day, r.randint(9, 19), r.randrange(60), r.randrange(60))

    def emit(
        self,
        caller: StaffRec,
        cust: Cust,
        stream: str,
        call_type: str,
        started: dt.datetime,
        connected: bool | None,
        evaluated: bool,
    ) -> None:
        """Write one call and its contact. connected: True/False to fix the outcome, None to draw it."""
        ctx, r = self.ctx, self.rng
        if connected is None:
            outcome = _pick(r, OUTCOMES, OUTCOME_CUM)
        elif connected:
            outcome = "connected"
        else:
            outcome = _pick(r, NOT_CONNECTED, NOT_CONNECTED_CUM)
        self.call_id += 1
        cid = self.call_id
        result = None
        recording = None
        text = None
        if outcome == "connected":
            result = _pick(r, RESULTS, RESULT_CUM[stream])
            duration = int(min(1500, 45 + r.expovariate(1 / 200)))
        elif outcome == "no_answer":
            duration = r.randint(25, 45)
        elif outcome == "busy":
            duration = r.randint(0, 5)
        else:
            duration = r.randint(8, 60)
        if outcome in ("connected", "refused", "callback_requested"):
            recording = f"rec/{ctx.local_day(started):%Y/%m/%d}/CL{cid:09d}.mp3"
        if outcome == "connected" and (evaluated or r.random() < SAMPLED_SHARE or started >= self.transcripts_from):
            text = transcript(
                self.trng,
                call_type=call_type,
                stream=stream,
                agent=caller.name,
                customer=cust.name,
                phone=cust.phone,
                rank=cust.rank,
            )
        w = ctx.writer
        w.add(
            "call",
            (
                cid,
                f"CL{cid:09d}",
                cust.id,
                caller.id,
                stream,
                call_type,
                ctx.ts(started),
                duration,
                outcome,
                result,
                recording,
                text,
            ),
        )
        self.contact_id += 1
        w.add("contact", (self.contact_id, cust.id, caller.id, "call", ctx.ts(started), outcome, stream, cid))
        if evaluated or (outcome == "connected" and started >= self.recent_from):
            info = CallInfo(cid, cust.id, caller.id, stream, call_type, started, duration)
            if evaluated:
                self.evaluated.append(info)
            if started >= self.recent_from and not caller.is_training:
                self.recent.append(info)

    def eval_slots(self, eligible: list[int], n_evals: int, times: list[dt.datetime], force_recent: int) -> set[int]:
        """Which of a caller's calls (indices into its time-sorted calls) are evaluated."""
        picks = set(self.rng.sample(eligible, min(n_evals, len(eligible))))
        if force_recent:
            cutoff = self.ctx.local(self.ctx.as_of - dt.timedelta(days=5))
            recent = [i for i in eligible if times[i] >= cutoff][-force_recent:]
            for i in recent:
                if i not in picks and picks:
                    picks.discard(max(picks - set(recent), default=i))
                picks.add(i)
        return picks


def _holdings(ctx: Ctx, custs: list[Cust]) -> dict[int, list[tuple[Cust, dt.datetime, dt.datetime]]]:
    """Per manager: (customer, from, to) periods of holding that overlap the call window."""
    start = ctx.local(ctx.as_of - dt.timedelta(days=ctx.scale.call_days))
    end = ctx.as_of_start
    leave: StaffRec = ctx.roles["on_leave"]
    leave_from = ctx.local(leave.leave_start) if leave.leave_start else end
    out: dict[int, list[tuple[Cust, dt.datetime, dt.datetime]]] = {}
    for c in custs:
        for i, mv in enumerate(c.moves):
            to = mv[1]
            if to is None:
                continue
            frm = mv[2]
            until = c.moves[i + 1][2] if i + 1 < len(c.moves) else end
            if to == leave.id:
                until = min(until, leave_from)
            frm = max(frm, start)
            if until - frm < dt.timedelta(days=1):
                continue
            out.setdefault(to, []).append((c, frm, until))
    return out


Spec = tuple[dt.datetime, Cust, str, "bool | None"]  # when, customer, call type, connected (None = draw)


def _manager_schedule(
    ctx: Ctx, gen: CallGen, held: list[tuple[Cust, dt.datetime, dt.datetime]], quota: int
) -> list[Spec]:
    """A manager works through the portfolio by due date.

    A customer becomes ready a few days before its regular contact is due; each day's calls go to the ready
    customers in order of due date, higher tiers counted as that many days more urgent (TIER_PRIORITY), so when
    the day is short the lower tiers wait. Spare capacity calls the next customers due. A connected call
    restarts the clock, a missed one is retried in 1-3 days; a new VIP's first call is the onboarding call.
    """
    rng = gen.rng
    days = dt.timedelta
    window = gen.window_days
    per_day = _quotas(quota, [1.0 if is_working_day(d) else 0.25 for d in window])
    order = sorted(range(len(held)), key=lambda i: (held[i][1], held[i][0].id))
    start_day = [ctx.local_day(h[1]) for h in held]
    end_day = [ctx.local_day(h[2]) for h in held]
    onboarding = [False] * len(held)
    due = [0] * len(held)  # ordinal of the next due date
    pending: list[tuple[int, int]] = []  # (due, i): not ready yet
    ready: list[tuple[int, int]] = []  # (due - tier priority, i)
    nxt = 0
    specs: list[Spec] = []

    def schedule(i: int, due_day: dt.date) -> None:
        due[i] = due_day.toordinal()
        heapq.heappush(pending, (due[i], i))

    for day, cap in zip(window, per_day, strict=True):
        today = day.toordinal()
        while nxt < len(order) and start_day[order[nxt]] <= day:
            i = order[nxt]
            nxt += 1
            c = held[i][0]
            freq = ctx.ref.tiers[c.rank].contact_days or 90
            if start_day[i] > window[0]:
                onboarding[i] = c.story == "new_assigned"
                schedule(i, start_day[i] + days(days=rng.randint(1, 20)))
            else:
                schedule(i, window[0] + days(days=rng.randint(-freq // 4, freq)))
        while pending and pending[0][0] <= today + 3:
            d, i = heapq.heappop(pending)
            heapq.heappush(ready, (d - TIER_PRIORITY[held[i][0].rank], i))
        for _ in range(cap):
            source = ready if ready else pending
            while source and end_day[source[0][1]] <= day:
                heapq.heappop(source)  # moved to another manager (or the leave began)
            if not source:
                break
            _, i = heapq.heappop(source)
            c, frm, until = held[i]
            when = gen.at(day)
            if when < frm:
                when = frm + days(minutes=rng.randint(30, 180))
            if when >= until:
                continue
            connected = rng.random() < MANAGER_CONNECT
            call_type = "onboarding_visit" if onboarding[i] else _pick(rng, MANAGER_TYPES, MANAGER_TYPE_CUM)
            specs.append((when, c, call_type, connected))
            if connected:
                onboarding[i] = False
                freq = ctx.ref.tiers[c.rank].contact_days or 90
                schedule(i, day + days(days=max(1, round(freq * rng.uniform(0.85, 1.0)))))
            else:
                schedule(i, day + days(days=rng.randint(1, 3)))
    return specs


def write_calls(ctx: Ctx, custs: list[Cust]) -> None:
    w = ctx.writer
    w.table("call", CALL_COLUMNS)
    w.table("contact", CONTACT_COLUMNS)
    gen = CallGen(ctx, custs)
    rng = gen.rng
    scale = ctx.scale
    managers: list[StaffRec] = ctx.roles["managers"]
    agents_m = [s for s in ctx.staff if s.role == "agent" and s.stream == "maintenance" and not s.is_training]
    agents_ob = [s for s in ctx.staff if s.role == "agent" and s.stream == "ob" and not s.is_training]
    total = scale.calls
    drill_calls = 2 * scale.training_customers
    regular = total - drill_calls
    n_mgr = _quotas(regular, list(CALL_SHARES))[0]
    holdings = _holdings(ctx, custs)
    scheduled: dict[int, list[Spec]] = {}
    for m, quota in zip(managers, _quotas(n_mgr, [rng.uniform(0.8, 1.2) for _ in managers]), strict=True):
        scheduled[m.id] = _manager_schedule(ctx, gen, holdings.get(m.id, []), quota)
    placed = sum(len(sp) for sp in scheduled.values())
    n_am, n_ob = _quotas(regular - placed, list(CALL_SHARES[1:]))
    callers: list[tuple[StaffRec, int]] = [(m, len(scheduled[m.id])) for m in managers]
    callers += list(zip(agents_m, _quotas(n_am, [rng.uniform(0.8, 1.2) for _ in agents_m]), strict=True))
    callers += list(zip(agents_ob, _quotas(n_ob, [rng.uniform(0.8, 1.2) for _ in agents_ob]), strict=True))
    evals = _quotas(scale.evaluations, [q for _, q in callers])
    vips = [c for c in custs if c.rank >= 1 and not c.is_training]
    vip_cum: list[int] = []
    acc = 0
    for c in vips:
        acc += ctx.ref.units(c.rank)
        vip_cum.append(acc)
    everyone = [c for c in custs if not c.is_training]
    demo_agent: StaffRec = ctx.roles["demo_agent"]
    days = dt.timedelta
    for (caller, quota), n_eval in zip(callers, evals, strict=True):
        specs: list[Spec] = []
        if caller.role == "client_manager":
            specs = scheduled.pop(caller.id)
            stream = "maintenance"
        elif caller.stream == "maintenance":
            picks_c = rng.choices(vips, cum_weights=vip_cum, k=quota)
            for c, day in zip(picks_c, gen.days(quota), strict=True):
                specs.append((gen.at(day), c, _pick(rng, AGENT_TYPES, AGENT_TYPE_CUM), None))
            stream = "maintenance"
        else:
            for day in gen.days(quota):
                c = everyone[rng.randrange(len(everyone))]
                specs.append((gen.at(day), c, _pick(rng, OB_TYPES, OB_TYPE_CUM), None))
            stream = "ob"
        specs.sort(key=lambda sp: (sp[0], sp[1].id))
        times = [sp[0] for sp in specs]
        eligible = [i for i, sp in enumerate(specs) if sp[3] is not False]
        slots = gen.eval_slots(eligible, n_eval, times, 3 if caller.id == demo_agent.id else 0)
        for i, (when, c, call_type, connected) in enumerate(specs):
            gen.emit(caller, c, stream, call_type, when, True if i in slots else connected, i in slots)
        ctx.report("calls", gen.call_id, total)

    # drill material for training sessions: a pseudonymised agent calling pseudonymised customers
    drill: StaffRec = ctx.roles["drill_agent"]
    trainees_custs = [c for c in custs if c.is_training]
    drill_calls_info: list[CallInfo] = []
    for k in range(drill_calls):
        c = trainees_custs[k % len(trainees_custs)]
        when = gen.at(ctx.as_of - days(rng.randint(1, 30)))
        gen.emit(drill, c, "maintenance", "care" if k % 2 else "rights_notification", when, True, True)
        drill_calls_info.append(gen.evaluated.pop())
    ctx.data["drill_calls"] = drill_calls_info
    w.flush()
    ctx.report("calls", gen.call_id, total)

    # SMS contacts: the binding notice to new VIPs, and rights notices to a share of the VIPs
    sms = 0
    for c in custs:
        if c.is_training:
            continue
        if c.story == "new_assigned" and c.manager is not None and rng.random() < 0.7:
            first = c.moves[0][2]
            gen.contact_id += 1
            sms += 1
            when = min(first + days(hours=rng.randint(1, 48)), ctx.as_of_start - days(minutes=rng.randint(30, 300)))
            w.add("contact", (gen.contact_id, c.id, c.manager, "sms", ctx.ts(when), "delivered", "maintenance", None))
        elif c.rank >= 1 and rng.random() < 0.3:
            when = gen.at(gen.days(1)[0])
            gen.contact_id += 1
            sms += 1
            staff = c.manager if c.manager is not None and rng.random() < 0.6 else None
            w.add(
                "contact",
                (
                    gen.contact_id,
                    c.id,
                    staff,
                    "sms",
                    ctx.ts(when),
                    "delivered" if rng.random() < 0.96 else "failed",
                    "maintenance",
                    None,
                ),
            )
    w.flush()
    ctx.data["evaluated_calls"] = gen.evaluated
    ctx.data["recent_calls"] = gen.recent
    ctx.data["next_contact_id"] = gen.contact_id + 1
    ctx.data["call_count"] = gen.call_id
    ctx.report("sms contacts", sms, sms)

"""Agent KPIs (SPEC §4 glossary), aggregated in SQL.

A period selects calls by call date and evaluations by their call's date (Asia/Shanghai calendar days: the
period filter uses the UTC bounds of local midnight, which is the same as comparing console.timeutil.shanghai_date
but can use the call index; weekly buckets group by the Monday of shanghai_date). The customer's tier is the
tier at the call's time.

| KPI | Formula |
| Evaluations | count of non-void evaluations, calibration and training excluded |
| Average score | mean total of scored evaluations |
| Pass rate | passed / scored |
| Fatal rate | evaluations with any violation (fail_all or fail_section) / scored |
| Attempts | calls placed |
| Contact rate | connected / attempts |
| Success rate | result success / connected |
| SLA compliance | met / due in the period, per SLA (client managers; first contact, see sla_compliance) |
| Discipline points | Σ points per calendar month |
| Ranking | by average score, then pass rate, then evaluations; fewer than 3 evaluations = unranked |

Open disputes count with the submitted score and are shown as disputed; overturned (void) evaluations leave
every KPI. Training staff and training customers never count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Date, and_, case
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, func, select

from console.audit import query
from console.i18n import pick
from console.permissions import Actor
from console.qa import rollups
from console.qa.common import active_version_id, call_window, label, load_version, staff_scope, tier_names
from console.timeutil import shanghai_date, today_local
from models import (
    Contact,
    Customer,
    DisciplineEvent,
    Evaluation,
    Scorecard,
    ScorecardSection,
    ScorecardVersion,
    Staff,
    Team,
)
from models.qa import QaCallDay, QaEvalFact, QaEvalSection

CALLER_ROLES = ("agent", "client_manager")
MIN_RANKED = 3


class week_monday(FunctionElement):  # noqa: N801 - reads like a SQL function
    """SQL: the Monday of the ISO week of a date column (the dates are Asia/Shanghai calendar days)."""

    type = Date()
    inherit_cache = True
    name = "week_monday"


@compiles(week_monday, "sqlite")
def _week_sqlite(element, compiler, **kw):  # type: ignore[no-untyped-def]
    (arg,) = list(element.clauses)
    return f"date({compiler.process(arg, **kw)}, 'weekday 0', '-6 days')"


@compiles(week_monday, "postgresql")
def _week_pg(element, compiler, **kw):  # type: ignore[no-untyped-def]
    (arg,) = list(element.clauses)
    return f"CAST(date_trunc('week', {compiler.process(arg, **kw)}) AS DATE)"


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def months_of(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar months a period touches: first day of start's month .. last day of end's month."""
    first = start.replace(day=1)
    last = (end.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return first, last


@dataclass(frozen=True)
class KpiQuery:
    start: dt.date
    end: dt.date
    stream: str | None = None
    team_id: int | None = None
    staff_id: int | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("The period ends before it starts.")


def population(actor: Actor, q: KpiQuery) -> Any:
    """SQL select of the staff ids the KPIs cover: callers the actor may see, training staff excluded."""
    stmt = select(Staff.id).where(
        col(Staff.role).in_(CALLER_ROLES),
        Staff.is_training == False,  # noqa: E712
        staff_scope(actor, Staff.id),
    )
    if q.team_id is not None:
        stmt = stmt.where(Staff.team_id == q.team_id)
    if q.staff_id is not None:
        stmt = stmt.where(Staff.id == q.staff_id)
    return stmt


def _eval_conds(actor: Actor, q: KpiQuery) -> list[Any]:
    """Conditions over QaEvalFact joined to Evaluation: submitted regular evaluations (facts hold only
    those) that are not void, whose call falls in the period, of people in the population."""
    conds: list[Any] = [
        QaEvalFact.call_day >= q.start,
        QaEvalFact.call_day <= q.end,
        Evaluation.void == False,  # noqa: E712
        col(QaEvalFact.evaluatee_id).in_(population(actor, q)),
    ]
    if q.stream:
        conds.append(QaEvalFact.stream == q.stream)
    return conds


def _call_conds(actor: Actor, q: KpiQuery) -> list[Any]:
    return [
        col(QaCallDay.stream).in_([q.stream] if q.stream else ["maintenance", "ob"]),
        QaCallDay.day >= q.start,
        QaCallDay.day <= q.end,
        col(QaCallDay.caller_id).in_(population(actor, q)),
    ]


def _flag(cond: Any) -> Any:
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _eval_aggregates() -> list[Any]:
    scored = col(Evaluation.total).is_not(None)
    return [
        func.count(Evaluation.id).label("evaluations"),
        func.count(Evaluation.total).label("scored"),
        func.coalesce(func.sum(Evaluation.total), 0).label("score_sum"),
        _flag(and_(scored, Evaluation.passed == True)).label("passed"),  # noqa: E712
        _flag(and_(scored, Evaluation.fatal == True)).label("fatal"),  # noqa: E712
        _flag(Evaluation.status == "disputed").label("disputed"),
    ]


def _rates(df: pd.DataFrame) -> pd.DataFrame:
    def ratio(num: str, den: str) -> pd.Series:
        n = df[num].astype(float)
        d = df[den].astype(float)
        return (n / d).where(d > 0)

    df["average"] = ratio("score_sum", "scored")
    df["pass_rate"] = ratio("passed", "scored")
    df["fatal_rate"] = ratio("fatal", "scored")
    df["contact_rate"] = ratio("connected", "attempts")
    df["success_rate"] = ratio("success", "connected")
    return df


def rank_rows(df: pd.DataFrame) -> pd.Series:
    """Competition ranking (1, 2, 2, 4) by average, then pass rate, then evaluations; < 3 evaluations unranked."""
    ranks = pd.Series([None] * len(df), index=df.index, dtype="object")
    eligible = df[(df["evaluations"] >= MIN_RANKED) & df["average"].notna()]
    ordered = eligible.sort_values(["average", "pass_rate", "evaluations"], ascending=[False, False, False])
    previous: tuple[Any, ...] | None = None
    current = 0
    for position, (idx, row) in enumerate(ordered.iterrows(), start=1):
        key = (row["average"], row["pass_rate"], row["evaluations"])
        if key != previous:
            current = position
            previous = key
        ranks[idx] = current
    return ranks


PERSON_COLUMNS = [
    "rank",
    "staff_id",
    "person",
    "role",
    "team_id",
    "team",
    "evaluations",
    "scored",
    "average",
    "pass_rate",
    "fatal_rate",
    "disputed",
    "attempts",
    "connected",
    "contact_rate",
    "success",
    "success_rate",
    "discipline_points",
    "trend",
    "score_sum",
    "passed",
    "fatal",
]


@query("kpis.read")
def person_kpis(*, session: Session, actor: Actor, q: KpiQuery) -> pd.DataFrame:
    """One row per caller in scope with every KPI of the glossary, ranked; trend = weekly average scores."""
    people = session.exec(
        select(Staff.id, Staff.name, Staff.role, Staff.team_id, Team.name)
        .join(Team, Team.id == Staff.team_id, isouter=True)
        .where(col(Staff.id).in_(population(actor, q)))
    ).all()
    base = pd.DataFrame(people, columns=["staff_id", "person", "role", "team_id", "team"])
    if q.stream and not base.empty:
        # a caller belongs to a stream through the calls placed in it; keep people of that stream's teams
        streams = dict(session.exec(select(Team.id, Team.stream)).all())
        base = base[base["team_id"].map(lambda tid: streams.get(tid) == q.stream if tid is not None else False)]
    rollups.refresh(session)
    ev = pd.DataFrame(
        session.exec(
            select(QaEvalFact.evaluatee_id, *_eval_aggregates())
            .join(Evaluation, Evaluation.id == QaEvalFact.evaluation_id)
            .where(*_eval_conds(actor, q))
            .group_by(QaEvalFact.evaluatee_id)
        ).all(),
        columns=["staff_id", "evaluations", "scored", "score_sum", "passed", "fatal", "disputed"],
    )
    calls = pd.DataFrame(
        session.exec(
            select(
                QaCallDay.caller_id,
                func.coalesce(func.sum(QaCallDay.attempts), 0),
                func.coalesce(func.sum(QaCallDay.connected), 0),
                func.coalesce(func.sum(QaCallDay.success), 0),
            )
            .where(*_call_conds(actor, q))
            .group_by(QaCallDay.caller_id)
        ).all(),
        columns=["staff_id", "attempts", "connected", "success"],
    )
    first, last = months_of(q.start, q.end)
    d_start, d_end = call_window(first, last)
    disc = pd.DataFrame(
        session.exec(
            select(DisciplineEvent.staff_id, func.coalesce(func.sum(DisciplineEvent.points), 0))
            .where(
                DisciplineEvent.at >= d_start,
                DisciplineEvent.at < d_end,
                col(DisciplineEvent.staff_id).in_(population(actor, q)),
            )
            .group_by(DisciplineEvent.staff_id)
        ).all(),
        columns=["staff_id", "discipline_points"],
    )
    df = base.merge(ev, on="staff_id", how="left").merge(calls, on="staff_id", how="left")
    df = df.merge(disc, on="staff_id", how="left")
    counts = ["evaluations", "scored", "passed", "fatal", "disputed", "attempts", "connected", "success"]
    for name in [*counts, "discipline_points"]:
        df[name] = df[name].fillna(0).astype(int)
    df["score_sum"] = df["score_sum"].fillna(0.0).astype(float)
    df = _rates(df)
    trends = weekly_by_person(session, actor, q)
    weeks = week_starts(q.start, q.end)
    df["trend"] = [[trends.get((sid, w)) for w in weeks] for sid in df["staff_id"]]
    df["rank"] = rank_rows(df)
    df = df.sort_values(["rank", "person"], key=lambda s: s.fillna(10**9) if s.name == "rank" else s)
    return df[PERSON_COLUMNS].reset_index(drop=True)


def week_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    monday = start - dt.timedelta(days=start.weekday())
    out = []
    while monday <= end:
        out.append(monday)
        monday += dt.timedelta(days=7)
    return out


def weekly_by_person(session: Session, actor: Actor, q: KpiQuery) -> dict[tuple[int, dt.date], float]:
    rollups.refresh(session)
    week = week_monday(QaEvalFact.call_day)
    rows = session.exec(
        select(QaEvalFact.evaluatee_id, week, func.avg(Evaluation.total))
        .join(Evaluation, Evaluation.id == QaEvalFact.evaluation_id)
        .where(*_eval_conds(actor, q), col(Evaluation.total).is_not(None))
        .group_by(QaEvalFact.evaluatee_id, week)
    ).all()
    return {(int(sid), _as_date(w)): float(avg) for sid, w, avg in rows}


@query("kpis.read")
def team_kpis(*, session: Session, actor: Actor, q: KpiQuery) -> pd.DataFrame:
    """The same KPIs per team (sums of the per-person SQL aggregates, so averages are over evaluations)."""
    people = person_kpis(session=session, actor=actor, q=q)
    cols = ["evaluations", "scored", "score_sum", "passed", "fatal", "disputed", "attempts", "connected", "success"]
    if people.empty:
        return pd.DataFrame(columns=["rank", "team_id", "team", "people", *cols, "discipline_points"])
    people = people.assign(team=people["team"].fillna("—"), team_id=people["team_id"].fillna(-1))
    grouped = people.groupby(["team_id", "team"], as_index=False).agg(
        people=("staff_id", "count"), discipline_points=("discipline_points", "sum"), **{c: (c, "sum") for c in cols}
    )
    grouped = _rates(grouped)
    grouped["rank"] = rank_rows(grouped)
    return grouped.sort_values(["rank", "team"], key=lambda s: s.fillna(10**9) if s.name == "rank" else s).reset_index(
        drop=True
    )


@dataclass
class Trend:
    weekly: pd.DataFrame  # week, average, evaluations, pass_rate
    pass_mark: float
    pass_marks: dict[str, float] = field(default_factory=dict)


@query("kpis.read")
def weekly_trend(*, session: Session, actor: Actor, q: KpiQuery) -> Trend:
    rollups.refresh(session)
    week = week_monday(QaEvalFact.call_day)
    rows = session.exec(
        select(
            week,
            func.avg(Evaluation.total),
            func.count(Evaluation.total),
            _flag(Evaluation.passed == True),  # noqa: E712
        )
        .join(Evaluation, Evaluation.id == QaEvalFact.evaluation_id)
        .where(*_eval_conds(actor, q), col(Evaluation.total).is_not(None))
        .group_by(week)
        .order_by(week)
    ).all()
    df = pd.DataFrame(
        [
            {"week": _as_date(w), "average": float(avg), "evaluations": int(n), "pass_rate": int(p) / int(n)}
            for w, avg, n, p in rows
        ],
        columns=["week", "average", "evaluations", "pass_rate"],
    )
    marks = {}
    for stream in ("maintenance", "ob"):
        vid = active_version_id(session, stream)
        if vid is not None:
            marks[stream] = load_version(session, vid).pass_mark
    mark = marks.get(q.stream or "maintenance", 80.0) if q.stream else (max(marks.values()) if marks else 80.0)
    return Trend(df, mark, marks)


@query("kpis.read")
def section_averages(*, session: Session, actor: Actor, q: KpiQuery) -> pd.DataFrame:
    """Mean section % over scored evaluations (N/A items left out, fail_section zeroing applied); weakest first."""
    rollups.refresh(session)
    percent = case(
        (QaEvalSection.possible == 0, None),
        (QaEvalSection.zeroed == True, 0.0),  # noqa: E712
        else_=QaEvalSection.earned * 1.0 / QaEvalSection.possible,
    )
    per_section = session.exec(
        select(QaEvalSection.section_id, func.sum(percent), func.count(percent))
        .select_from(QaEvalFact)
        .join(Evaluation, Evaluation.id == QaEvalFact.evaluation_id)
        .join(QaEvalSection, QaEvalSection.evaluation_id == QaEvalFact.evaluation_id)
        .where(*_eval_conds(actor, q), col(Evaluation.total).is_not(None))
        .group_by(QaEvalSection.section_id)
    ).all()
    # Sections of different scorecard versions merge by code within a stream; streams never merge.
    sums: dict[tuple[str, str], list[Any]] = {}
    if per_section:
        sections = {
            sec.id: (sec, stream)
            for sec, stream in session.exec(
                select(ScorecardSection, Scorecard.stream)
                .join(ScorecardVersion, ScorecardVersion.id == ScorecardSection.version_id)
                .join(Scorecard, Scorecard.id == ScorecardVersion.scorecard_id)
                .where(col(ScorecardSection.id).in_([r[0] for r in per_section]))
            ).all()
        }
        for section_id, total, n in sorted(per_section, key=lambda r: r[0]):
            if not n:
                continue
            sec, stream = sections[section_id]
            entry = sums.setdefault((stream, sec.code), [sec, 0.0, 0])
            entry[0] = sec  # the newest version's names
            entry[1] += float(total)
            entry[2] += int(n)
    df = pd.DataFrame(
        [
            {
                "stream": stream,
                "code": code,
                "section": pick(sec, "name") if q.stream else f"{pick(sec, 'name')} ({label(stream)})",
                "average": total / n,
                "evaluations": n,
            }
            for (stream, code), (sec, total, n) in sums.items()
        ],
        columns=["stream", "code", "section", "average", "evaluations"],
    )
    df["average"] = df["average"].astype(float)
    df = df.sort_values(["average", "code"]).reset_index(drop=True)
    df["weakest"] = df.index == 0
    return df


@query("kpis.read")
def score_by_tier(*, session: Session, actor: Actor, q: KpiQuery) -> pd.DataFrame:
    """QA score by the customer's tier at the call's time."""
    rollups.refresh(session)
    rows = session.exec(
        select(
            QaEvalFact.tier_rank,
            func.count(Evaluation.id),
            func.avg(Evaluation.total),
            _flag(Evaluation.passed == True),  # noqa: E712
            _flag(Evaluation.fatal == True),  # noqa: E712
        )
        .join(Evaluation, Evaluation.id == QaEvalFact.evaluation_id)
        .where(*_eval_conds(actor, q), col(Evaluation.total).is_not(None))
        .group_by(QaEvalFact.tier_rank)
        .order_by(QaEvalFact.tier_rank)
    ).all()
    names = tier_names(session)
    return pd.DataFrame(
        [
            {
                "rank": int(rank),
                "tier": names.get(int(rank), str(rank)),
                "evaluations": int(n),
                "average": float(avg),
                "pass_rate": int(p) / int(n),
                "fatal_rate": int(f) / int(n),
            }
            for rank, n, avg, p, f in rows
        ],
        columns=["rank", "tier", "evaluations", "average", "pass_rate", "fatal_rate"],
    )


@query("kpis.read")
def discipline_by_month(*, session: Session, actor: Actor, q: KpiQuery) -> pd.DataFrame:
    """Discipline points per person and calendar month over the months the period touches."""
    first, last = months_of(q.start, q.end)
    d_start, d_end = call_window(first, last)
    month = func.substr(func.cast(shanghai_date(DisciplineEvent.at), _text_type()), 1, 7)
    rows = session.exec(
        select(Staff.name, month, func.count(DisciplineEvent.id), func.coalesce(func.sum(DisciplineEvent.points), 0))
        .join(Staff, Staff.id == DisciplineEvent.staff_id)
        .where(
            DisciplineEvent.at >= d_start,
            DisciplineEvent.at < d_end,
            col(DisciplineEvent.staff_id).in_(population(actor, q)),
        )
        .group_by(Staff.name, month)
        .order_by(month, Staff.name)
    ).all()
    return pd.DataFrame(
        [{"person": n, "month": m, "violations": int(c), "points": int(p)} for n, m, c, p in rows],
        columns=["person", "month", "violations", "points"],
    )


def _text_type() -> Any:
    from sqlalchemy import String

    return String()


# ---------------------------------------------------------------- SLA compliance (client managers)


def sla_available() -> bool:
    try:
        import console.assignment.sla  # noqa: F401
    except ImportError:
        return False
    return True


@query("kpis.read")
def sla_compliance(*, session: Session, actor: Actor, q: KpiQuery, today: dt.date | None = None) -> pd.DataFrame:
    """First-contact SLA per client manager: met / due in the period (items due on days already past or met).

    Due = binding day of the current assignment + 30 days; met = a connected maintenance call by the bound
    manager on or before the due date (console.assignment.sla). Notice SMS and regular contact are judged
    on the current state by the Assignment page; their per-period history is not reconstructed here.
    """
    if not sla_available() or q.stream == "ob":
        return pd.DataFrame(columns=["staff_id", "person", "sla", "due", "met", "compliance"])
    from console.assignment.sla import FIRST_CONTACT_DAYS

    today = today or today_local()
    # Only VIPs whose due date (binding day + 30) falls in the period matter: bound 30 days before it.
    lag = dt.timedelta(days=FIRST_CONTACT_DAYS)
    bind_at = func.coalesce(Customer.assigned_at, Customer.vip_since, Customer.created_at)
    first_call = (
        select(func.min(Contact.at))
        .where(
            Contact.customer_id == Customer.id,
            Contact.staff_id == Customer.manager_id,
            Contact.kind == "call",
            Contact.outcome == "connected",
            Contact.stream == "maintenance",
            Contact.at >= bind_at,
        )
        .correlate(Customer)
        .scalar_subquery()
    )
    lo, hi = call_window(q.start - lag, q.end - lag)
    base = (
        select(
            Customer.manager_id.label("manager_id"),
            shanghai_date(bind_at).label("bind_day"),
            shanghai_date(first_call).label("first_call_day"),
        )
        .where(
            Customer.tier_rank > 0,
            Customer.is_training == False,  # noqa: E712
            col(Customer.manager_id).in_(population(actor, q)),
            bind_at >= lo,
            bind_at < hi,
        )
        .subquery()
    )
    rows_raw = session.exec(select(base.c.manager_id, base.c.bind_day, base.c.first_call_day)).all()
    per: dict[int, list[int]] = {}
    for manager_id, bind_day, first_day in rows_raw:
        due = _as_date(bind_day) + lag
        met = first_day is not None and _as_date(first_day) <= due
        if not (q.start <= due <= q.end) or not (met or due < today):
            continue
        counts = per.setdefault(int(manager_id), [0, 0])
        counts[0] += 1
        counts[1] += int(met)
    names = dict(session.exec(select(Staff.id, Staff.name).where(col(Staff.id).in_(list(per) or [-1]))).all())
    rows = [(mid, names.get(mid, "?"), d, m) for mid, (d, m) in per.items()]
    df = pd.DataFrame(
        [
            {
                "staff_id": int(mid),
                "person": name,
                "sla": "first_contact",
                "due": int(d),
                "met": int(m),
                "compliance": (int(m) / int(d)) if int(d) else None,
            }
            for mid, name, d, m in rows
        ],
        columns=["staff_id", "person", "sla", "due", "met", "compliance"],
    )
    return df.sort_values(["compliance", "person"], na_position="last").reset_index(drop=True)


@query("kpis.read")
def kpi_people(*, session: Session, actor: Actor, stream: str | None = None) -> list[tuple[int, str]]:
    """(staff id, label) of the callers the actor may see, for pickers."""
    stmt = (
        select(Staff.id, Staff.name, Staff.code)
        .where(col(Staff.role).in_(CALLER_ROLES), Staff.is_training == False, staff_scope(actor, Staff.id))  # noqa: E712
        .order_by(Staff.name)
    )
    if stream:
        stmt = stmt.join(Team, Team.id == Staff.team_id).where(Team.stream == stream)
    return [(sid, f"{name} ({code})") for sid, name, code in session.exec(stmt).all()]

"""Early warning (issue 7 item 6): per client manager and per team, over the last two quarters (the previous
calendar quarter and the current one to date, Asia/Shanghai dates), the share of the portfolio downgraded
beside the average QA score and the trend of the weakest scorecard section — so a supervisor can see whether
falling call quality precedes downgrades.

Definitions:
- portfolio of a quarter: the VIPs a manager held when the quarter began (the latest Assignment row before it);
- downgraded: customers with a ``downgrade`` TierChange in the quarter, counted for the manager who held them
  just before the downgrade (the latest Assignment row before it); share = downgraded / portfolio;
- average QA score: mean total of the scored, non-void, submitted regular evaluations of the person's calls
  placed in the quarter (SPEC §4 glossary); a team's is over its members' evaluations;
- section %: earned / possible over applicable items, a ``fail_section`` violation zeroes it (as in the KPIs);
  the weakest section is the one with the lowest mean over both quarters; its trend = later − earlier mean.

Every figure is one grouped SQL query over all managers (no loop per manager); teams are sums of their members'.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import case, false, func, select
from sqlmodel import Session

from console.audit import query
from console.i18n import pick, t
from console.permissions import Actor
from console.tiers.common import period_of, quarter_start
from console.timeutil import local_midnight_utc
from models import (
    Assignment,
    Call,
    Customer,
    Evaluation,
    EvaluationAnswer,
    EvaluationViolationMark,
    ScorecardItem,
    ScorecardSection,
    ScorecardViolation,
    Staff,
    Team,
    TierChange,
)

QUARTERS = 2


@dataclass(frozen=True)
class Quarter:
    label: str  # e.g. "2026-Q4 (to date)"
    start: dt.date
    end: dt.date  # exclusive (today + 1 for the current quarter)

    @property
    def period(self) -> str:
        """The quarter's short name, e.g. 2026-Q4."""
        return period_of(self.start)

    @property
    def start_at(self) -> dt.datetime:
        return local_midnight_utc(self.start)

    @property
    def end_at(self) -> dt.datetime:
        return local_midnight_utc(self.end)


def quarters(today: dt.date, n: int = QUARTERS) -> list[Quarter]:
    """The last n calendar quarters, oldest first; the current one runs to today (inclusive)."""
    starts = [quarter_start(today)]
    while len(starts) < n:
        starts.insert(0, quarter_start(starts[0] - dt.timedelta(days=1)))
    out = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else today + dt.timedelta(days=1)
        label = period_of(start) + ("" if i + 1 < len(starts) else " " + t("(to date)"))
        out.append(Quarter(label, start, end))
    return out


def _quarter_case(col: Any, qs: list[Quarter]) -> Any:
    whens = [(col < q.end_at, i) for i, q in enumerate(qs)]
    return case(*whens, else_=None)


# ------------------------------------------------------------------------------------------------ SQL figures


def portfolio_at(session: Session, at: dt.datetime) -> dict[int, int]:
    """Per manager: the VIPs they held at an instant (latest assignment row before it)."""
    a = Assignment.__table__
    c = Customer.__table__
    rn = func.row_number().over(partition_by=a.c.customer_id, order_by=(a.c.at.desc(), a.c.id.desc()))
    latest = (
        select(a.c.customer_id, a.c.to_manager_id, rn.label("rn"))
        .select_from(a.join(c, c.c.id == a.c.customer_id))
        .where(a.c.at < at, c.c.is_training == false())
        .subquery("latest")
    )
    rows = session.execute(
        select(latest.c.to_manager_id, func.count())
        .where(latest.c.rn == 1, latest.c.to_manager_id.is_not(None))
        .group_by(latest.c.to_manager_id)
    ).all()
    return {int(mid): int(n) for mid, n in rows}


def downgrades_by_holder(session: Session, qs: list[Quarter]) -> dict[tuple[int, int], int]:
    """(manager id, quarter index) -> customers downgraded in the quarter while that manager held them."""
    tc = TierChange.__table__
    c = Customer.__table__
    a = Assignment.__table__.alias("held")
    holder = (
        select(a.c.to_manager_id)
        .where(a.c.customer_id == tc.c.customer_id, a.c.at < tc.c.at)
        .order_by(a.c.at.desc(), a.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    events = (
        select(
            tc.c.customer_id,
            holder.label("manager_id"),
            _quarter_case(tc.c.at, qs).label("q"),
        )
        .select_from(tc.join(c, c.c.id == tc.c.customer_id))
        .where(
            tc.c.kind == "downgrade",
            tc.c.at >= qs[0].start_at,
            tc.c.at < qs[-1].end_at,
            c.c.is_training == false(),
        )
        .subquery("events")
    )
    rows = session.execute(
        select(events.c.manager_id, events.c.q, func.count(func.distinct(events.c.customer_id)))
        .where(events.c.manager_id.is_not(None))
        .group_by(events.c.manager_id, events.c.q)
    ).all()
    return {(int(mid), int(q)): int(n) for mid, q, n in rows if q is not None}


def _eval_conds(qs: list[Quarter]) -> list[Any]:
    e = Evaluation.__table__
    k = Call.__table__
    return [
        e.c.kind == "regular",
        e.c.void == false(),
        e.c.status != "draft",
        e.c.total.is_not(None),
        k.c.started_at >= qs[0].start_at,
        k.c.started_at < qs[-1].end_at,
    ]


def scores_by_person(session: Session, qs: list[Quarter]) -> dict[tuple[int, int], tuple[float, int]]:
    """(staff id, quarter index) -> (sum of totals, scored evaluations)."""
    e = Evaluation.__table__
    k = Call.__table__
    q = _quarter_case(k.c.started_at, qs)
    rows = session.execute(
        select(e.c.evaluatee_id, q, func.sum(e.c.total), func.count(e.c.total))
        .select_from(e.join(k, k.c.id == e.c.call_id))
        .where(*_eval_conds(qs))
        .group_by(e.c.evaluatee_id, q)
    ).all()
    return {(int(sid), int(qi)): (float(total or 0), int(n)) for sid, qi, total, n in rows if qi is not None}


def sections_by_person(session: Session, qs: list[Quarter]) -> dict[tuple[int, int, str], tuple[float, int, str, str]]:
    """(staff id, quarter index, section code) -> (sum of section %, evaluations, name_en, name_zh)."""
    e = Evaluation.__table__
    k = Call.__table__
    ans = EvaluationAnswer.__table__
    item = ScorecardItem.__table__
    sec = ScorecardSection.__table__
    q = _quarter_case(k.c.started_at, qs)
    per_section = (
        select(
            e.c.id.label("evaluation_id"),
            e.c.evaluatee_id.label("staff_id"),
            q.label("q"),
            sec.c.id.label("section_id"),
            sec.c.code.label("code"),
            sec.c.name_en.label("name_en"),
            sec.c.name_zh.label("name_zh"),
            func.sum(case((ans.c.na == True, 0), else_=ans.c.points)).label("earned"),  # noqa: E712
            func.sum(case((ans.c.na == True, 0), else_=item.c.max_points)).label("possible"),  # noqa: E712
        )
        .select_from(
            e.join(k, k.c.id == e.c.call_id)
            .join(ans, ans.c.evaluation_id == e.c.id)
            .join(item, item.c.id == ans.c.item_id)
            .join(sec, sec.c.id == item.c.section_id)
        )
        .where(*_eval_conds(qs))
        .group_by(e.c.id, e.c.evaluatee_id, q, sec.c.id, sec.c.code, sec.c.name_en, sec.c.name_zh)
        .subquery("per_section")
    )
    mark = EvaluationViolationMark.__table__
    viol = ScorecardViolation.__table__
    zeroed = (
        select(mark.c.id)
        .join(viol, viol.c.id == mark.c.violation_id)
        .where(
            mark.c.evaluation_id == per_section.c.evaluation_id,
            viol.c.rule == "fail_section",
            viol.c.section_id == per_section.c.section_id,
        )
        .exists()
    )
    percent = case(
        (per_section.c.possible == 0, None),
        (zeroed, 0.0),
        else_=per_section.c.earned * 1.0 / per_section.c.possible,
    )
    rows = session.execute(
        select(
            per_section.c.staff_id,
            per_section.c.q,
            per_section.c.code,
            per_section.c.name_en,
            per_section.c.name_zh,
            func.sum(percent),
            func.count(percent),
        ).group_by(
            per_section.c.staff_id, per_section.c.q, per_section.c.code, per_section.c.name_en, per_section.c.name_zh
        )
    ).all()
    return {
        (int(sid), int(qi), code): (float(total or 0), int(n), en, zh)
        for sid, qi, code, en, zh, total, n in rows
        if qi is not None and n
    }


# ------------------------------------------------------------------------------------------------ assembling


@dataclass
class EarlyWarning:
    quarters: list[Quarter]
    managers: pd.DataFrame
    teams: pd.DataFrame
    chart: pd.DataFrame  # level, id, name, team, score_change, share_last, portfolio, weakest_trend


def _row(
    *,
    n: int,
    portfolio: list[int],
    downgraded: list[int],
    score: list[tuple[float, int]],
    sections: dict[str, list[tuple[float, int]]],
    names: dict[str, tuple[str, str]],
) -> dict[str, Any]:
    """The figures of one manager or team from its summed counts."""
    rec: dict[str, Any] = {}
    for i in range(n):
        rec[f"portfolio_{i}"] = portfolio[i]
        rec[f"downgraded_{i}"] = downgraded[i]
        rec[f"share_{i}"] = downgraded[i] / portfolio[i] if portfolio[i] else None
        total, count = score[i]
        rec[f"evaluations_{i}"] = count
        rec[f"score_{i}"] = total / count if count else None
    first, last = rec["score_0"], rec[f"score_{n - 1}"]
    rec["score_change"] = last - first if first is not None and last is not None else None
    weakest = None
    best_mean = None
    for code, per_q in sections.items():
        total = sum(s for s, _ in per_q)
        count = sum(c for _, c in per_q)
        if count and (
            best_mean is None or total / count < best_mean or (total / count == best_mean and code < weakest)
        ):
            weakest, best_mean = code, total / count
    rec["weakest_code"] = weakest
    rec["weakest_section"] = (
        pick({"name_en": names[weakest][0], "name_zh": names[weakest][1]}, "name") if weakest else ""
    )
    for i in range(n):
        s, c = sections[weakest][i] if weakest else (0.0, 0)
        rec[f"weakest_{i}"] = s / c if c else None
    w0, w1 = rec["weakest_0"], rec[f"weakest_{n - 1}"]
    rec["weakest_trend"] = w1 - w0 if w0 is not None and w1 is not None else None
    return rec


def compute_warning(session: Session, today: dt.date, n: int = QUARTERS) -> EarlyWarning:
    qs = quarters(today, n)
    starts = [portfolio_at(session, q.start_at) for q in qs]
    downs = downgrades_by_holder(session, qs)
    scores = scores_by_person(session, qs)
    sections = sections_by_person(session, qs)
    st = Staff.__table__
    tm = Team.__table__
    people = session.execute(
        select(st.c.id, st.c.code, st.c.name, st.c.role, st.c.team_id, tm.c.name.label("team"))
        .select_from(st.outerjoin(tm, tm.c.id == st.c.team_id))
        .where(st.c.is_training == false())
    ).all()
    section_names: dict[str, tuple[str, str]] = {}
    per_person_sections: dict[int, dict[str, list[tuple[float, int]]]] = defaultdict(dict)
    for (sid, qi, code), (total, count, en, zh) in sections.items():
        section_names.setdefault(code, (en, zh))
        per_person_sections[sid].setdefault(code, [(0.0, 0)] * n)
        per_person_sections[sid][code][qi] = (total, count)

    def person_parts(sid: int) -> dict[str, Any]:
        return {
            "portfolio": [starts[i].get(sid, 0) for i in range(n)],
            "downgraded": [downs.get((sid, i), 0) for i in range(n)],
            "score": [scores.get((sid, i), (0.0, 0)) for i in range(n)],
            "sections": per_person_sections.get(sid, {}),
        }

    manager_rows = []
    team_parts: dict[int, dict[str, Any]] = {}
    for person in people:
        sid = int(person.id)
        parts = person_parts(sid)
        if person.team_id is not None:
            acc = team_parts.setdefault(
                int(person.team_id),
                {"portfolio": [0] * n, "downgraded": [0] * n, "score": [(0.0, 0)] * n, "sections": {}, "people": 0},
            )
            acc["people"] += 1
            for i in range(n):
                acc["portfolio"][i] += parts["portfolio"][i]
                acc["downgraded"][i] += parts["downgraded"][i]
                acc["score"][i] = (acc["score"][i][0] + parts["score"][i][0], acc["score"][i][1] + parts["score"][i][1])
            for code, per_q in parts["sections"].items():
                cur = acc["sections"].setdefault(code, [(0.0, 0)] * n)
                acc["sections"][code] = [(cur[i][0] + per_q[i][0], cur[i][1] + per_q[i][1]) for i in range(n)]
        if person.role != "client_manager":
            continue
        rec = _row(n=n, names=section_names, **parts)
        manager_rows.append({"id": sid, "name": f"{person.code} · {person.name}", "team": person.team or "", **rec})
    teams = {
        int(row.id): (row.name, row.stream) for row in session.execute(select(tm.c.id, tm.c.name, tm.c.stream)).all()
    }
    team_rows = []
    for team_id, acc in team_parts.items():
        if team_id not in teams:
            continue
        people_count = acc.pop("people")
        rec = _row(n=n, names=section_names, **acc)
        team_rows.append(
            {"id": team_id, "name": teams[team_id][0], "team": teams[team_id][0], "people": people_count, **rec}
        )
    columns = ["id", "name", "team", *_figure_columns(n)]
    managers = pd.DataFrame(manager_rows, columns=columns)
    team_frame = pd.DataFrame(team_rows, columns=["id", "name", "team", "people", *_figure_columns(n)])
    last = n - 1

    def ordered(frame: pd.DataFrame) -> pd.DataFrame:
        if frame.empty:
            return frame
        by = [f"share_{last}", "name"]
        return frame.sort_values(by, ascending=[False, True], na_position="last").reset_index(drop=True)

    managers, team_frame = ordered(managers), ordered(team_frame)
    chart = pd.concat(
        [
            managers.assign(level="manager")[
                ["level", "id", "name", "team", "score_change", f"share_{last}", f"portfolio_{last}", "weakest_trend"]
            ],
            team_frame.assign(level="team")[
                ["level", "id", "name", "team", "score_change", f"share_{last}", f"portfolio_{last}", "weakest_trend"]
            ],
        ],
        ignore_index=True,
    ).rename(columns={f"share_{last}": "share_last", f"portfolio_{last}": "portfolio"})
    return EarlyWarning(quarters=qs, managers=managers, teams=team_frame, chart=chart)


def _figure_columns(n: int) -> list[str]:
    cols: list[str] = []
    for i in range(n):
        cols += [f"portfolio_{i}", f"downgraded_{i}", f"share_{i}", f"evaluations_{i}", f"score_{i}"]
    cols += ["score_change", "weakest_code", "weakest_section"]
    cols += [f"weakest_{i}" for i in range(n)]
    cols += ["weakest_trend"]
    return cols


@query("customers.warning")
def early_warning(*, session: Session, actor: Actor, today: dt.date) -> EarlyWarning:
    """Per manager and per team: downgrade share, average QA score and weakest-section trend, last two quarters."""
    return compute_warning(session, today)

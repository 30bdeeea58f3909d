"""A customer's timeline (issue 7 item 3): one chronological list of everything that happened to the VIP.

| kind | source | what an entry says | links to |
|---|---|---|---|
| tier | TierChange | from → to, kind (upgrade, downgrade, override, ...), who, why | Tiers (customer=code) |
| assignment | Assignment (+ batch) | manager from → to, reason, batch and its kind, who, note | Assignment (batch=id, else customer=code) |
| call | Call (+ its evaluation and dispute) | type, stream, caller, outcome, result, evaluation score and pass, dispute | Call QA (evaluation=id) |
| contact | Contact that is not a call's or a visit's own record (SMS, other logged contacts) | kind, who, outcome | Assignment (customer=code): the SLAs it meets |
| visit | Visit (+ runs, items, incidents) | level, status, location, host, readiness, failed items, incidents | Reception (visit=id) |

One SQL query per kind, each ordered by time and cut with LIMIT (offset + limit rows), merged in Python; so a
page costs the same whatever the customer's history. Evaluation scores are shown to whoever may see that
evaluation on the Call QA page (SPEC §1, §4: a team lead their team's, a client manager their own); a link is
given only to a page the role may open.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import and_, case, exists, func, not_, select
from sqlmodel import Session

from console.assignment.rules import BATCH_LABELS, REASON_LABELS
from console.assignment.services import load_ladder
from console.audit import query
from console.customers.common import EXPORT_LIMIT, Link, customer_in_scope, page_allowed
from console.i18n import t
from console.masking import mask_phone
from console.permissions import Actor
from console.qa.common import label as qa_label
from console.qa.common import staff_scope
from console.reception.common import status_label
from console.reception.runs import readiness_by_run
from console.scoring import round_half_up
from console.tiers.drill import KIND_LABELS as TIER_KIND_LABELS
from models import (
    Assignment,
    AssignmentBatch,
    Call,
    Contact,
    Dispute,
    Evaluation,
    Incident,
    Run,
    RunItem,
    Staff,
    TierChange,
    User,
    Visit,
)

TIMELINE_KINDS: tuple[str, ...] = ("tier", "assignment", "call", "contact", "visit")
KIND_LABELS: dict[str, str] = {
    "tier": "Tier change",
    "assignment": "Assignment",
    "call": "Call",
    "contact": "Contact",
    "visit": "Visit",
}
KIND_ORDER = {kind: i for i, kind in enumerate(TIMELINE_KINDS)}
MAX_PAGE = 500


@dataclass(frozen=True)
class Entry:
    """One event of the timeline. title and detail are in the current language."""

    kind: str
    id: int
    at: dt.datetime
    title: str
    detail: str
    by: str
    link: Link | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def sort_key(self) -> tuple[dt.datetime, int, int]:
        return (self.at, -KIND_ORDER[self.kind], self.id)


@dataclass
class TimelinePage:
    total: int
    counts: dict[str, int]
    entries: list[Entry]

    def frame(self) -> pd.DataFrame:
        return entries_frame(self.entries)


TIMELINE_COLUMNS = ["at", "kind", "kind_label", "title", "detail", "by", "link_page", "link_label", "link_url", "id"]


def entries_frame(entries: Iterable[Entry]) -> pd.DataFrame:
    rows = [
        {
            "at": entry.at,
            "kind": entry.kind,
            "kind_label": t(KIND_LABELS[entry.kind]),
            "title": entry.title,
            "detail": entry.detail,
            "by": entry.by,
            "link_page": entry.link.page if entry.link else None,
            "link_label": t(entry.link.label, **_link_params(entry.link)) if entry.link else "",
            "link_url": entry.link.url() if entry.link else None,
            "id": entry.id,
        }
        for entry in entries
    ]
    frame = pd.DataFrame(rows, columns=TIMELINE_COLUMNS)
    if not frame.empty:
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
    return frame


def _link_params(link: Link) -> dict[str, str]:
    return {"value": link.value}


# ------------------------------------------------------------------------------------------------ per kind


@dataclass(frozen=True)
class _Ctx:
    session: Session
    actor: Actor
    customer_id: int
    code: str
    today: dt.date


def _window(stmt: Any, at_col: Any, id_col: Any, newest_first: bool, n: int) -> Any:
    if newest_first:
        return stmt.order_by(at_col.desc(), id_col.desc()).limit(n)
    return stmt.order_by(at_col, id_col).limit(n)


def _tier_entries(ctx: _Ctx, n: int, newest_first: bool) -> list[Entry]:
    ladder = load_ladder(ctx.session, ctx.today)
    tcx = TierChange.__table__
    u = User.__table__
    stmt = (
        select(tcx.c.id, tcx.c.at, tcx.c.from_rank, tcx.c.to_rank, tcx.c.kind, tcx.c.reason, u.c.username)
        .select_from(tcx.outerjoin(u, u.c.id == tcx.c.by_user_id))
        .where(tcx.c.customer_id == ctx.customer_id)
    )
    link = Link("tiers", "customer", ctx.code, "Tiers") if page_allowed(ctx.actor, "tiers") else None
    out = []
    for row in ctx.session.execute(_window(stmt, tcx.c.at, tcx.c.id, newest_first, n)).all():
        to_name = ladder.name(int(row.to_rank))
        title = (
            t(
                "{kind}: {from_tier} → {to_tier}",
                kind=t(TIER_KIND_LABELS.get(row.kind, row.kind)),
                from_tier=ladder.name(int(row.from_rank)),
                to_tier=to_name,
            )
            if row.from_rank is not None
            else t("{kind}: {to_tier}", kind=t(TIER_KIND_LABELS.get(row.kind, row.kind)), to_tier=to_name)
        )
        out.append(
            Entry(
                kind="tier",
                id=int(row.id),
                at=row.at,
                title=title,
                detail=t(row.reason) if row.reason else "",
                by=row.username or ("" if row.kind == "initial" else t("Tier evaluation")),
                link=link,
                facts={"from_rank": row.from_rank, "to_rank": row.to_rank, "tier_kind": row.kind},
            )
        )
    return out


def _assignment_entries(ctx: _Ctx, n: int, newest_first: bool) -> list[Entry]:
    a = Assignment.__table__
    b = AssignmentBatch.__table__
    frm = Staff.__table__.alias("from_manager")
    to = Staff.__table__.alias("to_manager")
    u = User.__table__
    stmt = (
        select(
            a.c.id,
            a.c.at,
            a.c.reason,
            a.c.batch_id,
            a.c.note,
            b.c.kind.label("batch_kind"),
            frm.c.code.label("from_code"),
            frm.c.name.label("from_name"),
            to.c.code.label("to_code"),
            to.c.name.label("to_name"),
            u.c.username,
        )
        .select_from(
            a.outerjoin(b, b.c.id == a.c.batch_id)
            .outerjoin(frm, frm.c.id == a.c.from_manager_id)
            .outerjoin(to, to.c.id == a.c.to_manager_id)
            .outerjoin(u, u.c.id == a.c.by_user_id)
        )
        .where(a.c.customer_id == ctx.customer_id)
    )
    allowed = page_allowed(ctx.actor, "assignment")
    out = []
    for row in ctx.session.execute(_window(stmt, a.c.at, a.c.id, newest_first, n)).all():
        nobody = t("(unassigned)")
        src = f"{row.from_code} · {row.from_name}" if row.from_code else nobody
        dst = f"{row.to_code} · {row.to_name}" if row.to_code else nobody
        parts = [t(REASON_LABELS.get(row.reason, row.reason))]
        if row.batch_id is not None:
            kind = t(BATCH_LABELS.get(row.batch_kind, row.batch_kind or ""))
            parts.append(t("batch #{id} ({kind})", id=row.batch_id, kind=kind))
        if row.note:
            parts.append(row.note)
        link = None
        if allowed:
            link = (
                Link("assignment", "batch", str(row.batch_id), "Batch #{value}")
                if row.batch_id is not None
                else Link("assignment", "customer", ctx.code, "Assignment")
            )
        out.append(
            Entry(
                kind="assignment",
                id=int(row.id),
                at=row.at,
                title=t("Manager: {from_manager} → {to_manager}", from_manager=src, to_manager=dst),
                detail=" · ".join(parts),
                by=row.username or t("System"),
                link=link,
                facts={"reason": row.reason, "batch_id": row.batch_id},
            )
        )
    return out


def _call_entries(ctx: _Ctx, n: int, newest_first: bool) -> list[Entry]:
    k = Call.__table__
    ev = Evaluation.__table__
    d = Dispute.__table__
    caller = Staff.__table__.alias("caller")
    e2 = Evaluation.__table__.alias("latest_eval")
    latest_eval = (
        select(func.max(e2.c.id))
        .where(e2.c.call_id == k.c.id, e2.c.kind == "regular", e2.c.status != "draft")
        .scalar_subquery()
    )
    d2 = Dispute.__table__.alias("latest_dispute")
    latest_dispute = select(func.max(d2.c.id)).where(d2.c.evaluation_id == ev.c.id).scalar_subquery()
    may_see = case((staff_scope(ctx.actor, ev.c.evaluatee_id), 1), else_=0)
    stmt = (
        select(
            k.c.id,
            k.c.started_at,
            k.c.stream,
            k.c.call_type,
            k.c.duration_s,
            k.c.outcome,
            k.c.result,
            caller.c.name.label("caller"),
            ev.c.id.label("eval_id"),
            ev.c.total,
            ev.c.passed,
            ev.c.fatal,
            ev.c.void,
            ev.c.status.label("eval_status"),
            may_see.label("may_see"),
            d.c.status.label("dispute_status"),
        )
        .select_from(
            k.join(caller, caller.c.id == k.c.caller_id)
            .outerjoin(ev, ev.c.id == latest_eval)
            .outerjoin(d, d.c.id == latest_dispute)
        )
        .where(k.c.customer_id == ctx.customer_id)
    )
    allowed = page_allowed(ctx.actor, "call_qa")
    out = []
    for row in ctx.session.execute(_window(stmt, k.c.started_at, k.c.id, newest_first, n)).all():
        parts = [qa_label(row.outcome)]
        if row.result:
            parts.append(t("result: {result}", result=qa_label(row.result)))
        if row.duration_s:
            parts.append(t("{minutes} min {seconds} s", minutes=row.duration_s // 60, seconds=row.duration_s % 60))
        link = None
        evaluation: dict[str, Any] = {}
        if row.eval_id is not None:
            if row.may_see:
                if row.void:
                    parts.append(t("evaluation #{id} overturned", id=row.eval_id))
                elif row.total is None:
                    parts.append(t("evaluation #{id}: not scored", id=row.eval_id))
                else:
                    verdict = t("pass") if row.passed else t("fail")
                    parts.append(
                        t(
                            "evaluation #{id}: {score} ({verdict})",
                            id=row.eval_id,
                            score=str(round_half_up(float(row.total))),
                            verdict=verdict,
                        )
                    )
                if row.dispute_status:
                    parts.append(t("dispute: {status}", status=qa_label(row.dispute_status)))
                if allowed:
                    link = Link("call_qa", "evaluation", str(row.eval_id), "Evaluation #{value}")
                evaluation = {"eval_id": row.eval_id, "total": row.total, "passed": row.passed}
            else:
                parts.append(t("evaluated (the score is visible to the caller's team)"))
                evaluation = {"eval_id": row.eval_id}
        out.append(
            Entry(
                kind="call",
                id=int(row.id),
                at=row.started_at,
                title=t("{stream} call ({type})", stream=qa_label(row.stream), type=qa_label(row.call_type)),
                detail=" · ".join(parts),
                by=row.caller,
                link=link,
                facts={"outcome": row.outcome, "result": row.result, "dispute": row.dispute_status, **evaluation},
            )
        )
    return out


CONTACT_KIND_LABELS = {"call": "Call logged", "sms": "SMS", "visit": "Visit logged"}
CONTACT_OUTCOMES = {"delivered": "delivered", "failed": "failed", "completed": "completed"}


def _own_contacts(customer_id: int) -> list[Any]:
    """Contacts that are events of their own: not the mirror of a call (shown as the call) and not a logged
    visit at the arrival of one of the customer's visits (shown as the visit)."""
    ctt = Contact.__table__
    vv = Visit.__table__.alias("mirrored_visit")
    mirrors_visit = exists(select(vv.c.id).where(vv.c.customer_id == ctt.c.customer_id, vv.c.arrival_at == ctt.c.at))
    return [
        ctt.c.customer_id == customer_id,
        ctt.c.call_id.is_(None),
        not_(and_(ctt.c.kind == "visit", mirrors_visit)),
    ]


def _contact_entries(ctx: _Ctx, n: int, newest_first: bool) -> list[Entry]:
    ctt = Contact.__table__
    who = Staff.__table__.alias("contact_staff")
    stmt = (
        select(ctt.c.id, ctt.c.at, ctt.c.kind, ctt.c.outcome, ctt.c.stream, who.c.name)
        .select_from(ctt.outerjoin(who, who.c.id == ctt.c.staff_id))
        .where(*_own_contacts(ctx.customer_id))
    )
    link = Link("assignment", "customer", ctx.code, "SLAs") if page_allowed(ctx.actor, "assignment") else None
    out = []
    for row in ctx.session.execute(_window(stmt, ctt.c.at, ctt.c.id, newest_first, n)).all():
        outcome = row.outcome or ""
        shown = t(CONTACT_OUTCOMES[outcome]) if outcome in CONTACT_OUTCOMES else qa_label(outcome or None)
        out.append(
            Entry(
                kind="contact",
                id=int(row.id),
                at=row.at,
                title=t(CONTACT_KIND_LABELS.get(row.kind, row.kind)),
                detail=" · ".join(p for p in (shown, qa_label(row.stream) if row.stream else "") if p),
                by=row.name or "",
                link=link,
                facts={"contact_kind": row.kind, "outcome": row.outcome},
            )
        )
    return out


def _visit_entries(ctx: _Ctx, n: int, newest_first: bool) -> list[Entry]:
    vt = Visit.__table__
    host = Staff.__table__.alias("host")
    stmt = (
        select(
            vt.c.id,
            vt.c.arrival_at,
            vt.c.departure_at,
            vt.c.level,
            vt.c.status,
            vt.c.location,
            vt.c.party_size,
            host.c.name.label("host"),
        )
        .select_from(vt.outerjoin(host, host.c.id == vt.c.host_id))
        .where(vt.c.customer_id == ctx.customer_id)
    )
    rows = ctx.session.execute(_window(stmt, vt.c.arrival_at, vt.c.id, newest_first, n)).all()
    visit_ids = [int(row.id) for row in rows]
    runs: dict[int, list[int]] = {}
    failed: dict[int, tuple[int, int]] = {}
    incidents: dict[int, int] = {}
    if visit_ids:
        rt = Run.__table__
        for run_id, visit_id in ctx.session.execute(
            select(rt.c.id, rt.c.visit_id).where(rt.c.visit_id.in_(visit_ids), rt.c.status != "cancelled")
        ).all():
            runs.setdefault(int(visit_id), []).append(int(run_id))
        it = RunItem.__table__
        for visit_id, n_failed, n_critical in ctx.session.execute(
            select(
                rt.c.visit_id,
                func.count(it.c.id),
                func.sum(case((it.c.critical == True, 1), else_=0)),  # noqa: E712
            )
            .select_from(it.join(rt, rt.c.id == it.c.run_id))
            .where(rt.c.visit_id.in_(visit_ids), rt.c.status != "cancelled", it.c.state == "failed")
            .group_by(rt.c.visit_id)
        ).all():
            failed[int(visit_id)] = (int(n_failed), int(n_critical or 0))
        inc = Incident.__table__
        incidents = {
            int(vid): int(cnt)
            for vid, cnt in ctx.session.execute(
                select(inc.c.visit_id, func.count(inc.c.id))
                .where(inc.c.visit_id.in_(visit_ids))
                .group_by(inc.c.visit_id)
            ).all()
        }
    readiness = readiness_by_run(ctx.session, [rid for ids in runs.values() for rid in ids])
    allowed = page_allowed(ctx.actor, "reception")
    out = []
    for row in rows:
        vid = int(row.id)
        required = sum(readiness.get(rid, (0, 0, 0))[0] for rid in runs.get(vid, []))
        ready = sum(readiness.get(rid, (0, 0, 0))[1] for rid in runs.get(vid, []))
        parts = [status_label(row.status)]
        ready_share = ready / required if required else None
        if ready_share is not None:
            parts.append(t("readiness {pct}", pct=f"{ready_share:.0%}"))
        elif not runs.get(vid):
            parts.append(t("no checklist run"))
        n_failed, n_critical = failed.get(vid, (0, 0))
        if n_failed:
            parts.append(t("{count} failed item(s), {critical} critical", count=n_failed, critical=n_critical))
        if incidents.get(vid):
            parts.append(t("{count} incident(s)", count=incidents[vid]))
        out.append(
            Entry(
                kind="visit",
                id=vid,
                at=row.arrival_at,
                title=t("L{level} visit at {location}", level=row.level, location=row.location),
                detail=" · ".join(parts),
                by=row.host or "",
                link=Link("reception", "visit", str(vid), "Visit #{value}") if allowed else None,
                facts={
                    "level": row.level,
                    "status": row.status,
                    "readiness": ready_share,
                    "failed": n_failed,
                    "incidents": incidents.get(vid, 0),
                },
            )
        )
    return out


_SOURCES = {
    "tier": _tier_entries,
    "assignment": _assignment_entries,
    "call": _call_entries,
    "contact": _contact_entries,
    "visit": _visit_entries,
}


def _counts(session: Session, customer_id: int, kinds: Sequence[str]) -> dict[str, int]:
    stmts = {
        "tier": select(func.count())
        .select_from(TierChange.__table__)
        .where(TierChange.__table__.c.customer_id == customer_id),
        "assignment": select(func.count())
        .select_from(Assignment.__table__)
        .where(Assignment.__table__.c.customer_id == customer_id),
        "call": select(func.count()).select_from(Call.__table__).where(Call.__table__.c.customer_id == customer_id),
        "contact": select(func.count()).select_from(Contact.__table__).where(*_own_contacts(customer_id)),
        "visit": select(func.count()).select_from(Visit.__table__).where(Visit.__table__.c.customer_id == customer_id),
    }
    return {kind: int(session.execute(stmts[kind]).scalar_one()) for kind in kinds}


def _kinds(kinds: Iterable[str] | None) -> list[str]:
    if kinds is None:
        return list(TIMELINE_KINDS)
    chosen = [kind for kind in TIMELINE_KINDS if kind in set(kinds)]
    return chosen


def merge_entries(sources: Sequence[list[Entry]], *, newest_first: bool) -> list[Entry]:
    """Merge lists that are each already in timeline order into one list in that order."""
    return list(heapq.merge(*sources, key=Entry.sort_key, reverse=newest_first))


@query("customers.read")
def customer_timeline(
    *,
    session: Session,
    actor: Actor,
    customer_id: int,
    today: dt.date,
    kinds: Iterable[str] | None = None,
    offset: int = 0,
    limit: int = 50,
    newest_first: bool = True,
) -> TimelinePage:
    """One page of the customer's timeline, filtered by kind, newest first (or oldest first)."""
    customer = customer_in_scope(session, actor, customer_id)
    chosen = _kinds(kinds)
    offset = max(0, int(offset))
    limit = max(0, min(int(limit), MAX_PAGE))
    counts = _counts(session, customer_id, chosen)
    ctx = _Ctx(session, actor, customer_id, customer.code, today)
    wanted = offset + limit
    sources = [_SOURCES[kind](ctx, wanted, newest_first) for kind in chosen if counts[kind] and wanted]
    merged = merge_entries(sources, newest_first=newest_first)
    return TimelinePage(total=sum(counts.values()), counts=counts, entries=merged[offset:wanted])


EXPORT_HEADERS = {
    "at": "When",
    "kind_label": "Kind",
    "title": "Event",
    "detail": "Details",
    "by": "By",
    "link_label": "Where it lives",
}


@query("customers.read")
def timeline_export(
    *,
    session: Session,
    actor: Actor,
    customer_id: int,
    today: dt.date,
    kinds: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The whole filtered timeline (up to EXPORT_LIMIT events, oldest first) for CSV/XLSX, with the customer's
    code, name and masked phone on every row."""
    customer = customer_in_scope(session, actor, customer_id)
    chosen = _kinds(kinds)
    ctx = _Ctx(session, actor, customer_id, customer.code, today)
    sources = [_SOURCES[kind](ctx, EXPORT_LIMIT, False) for kind in chosen]
    frame = entries_frame(merge_entries(sources, newest_first=False)[:EXPORT_LIMIT])
    out = frame[list(EXPORT_HEADERS)].rename(columns={col: t(name) for col, name in EXPORT_HEADERS.items()})
    out.insert(0, t("Phone"), mask_phone(customer.phone))
    out.insert(0, t("Customer"), customer.name)
    out.insert(0, t("Customer code"), customer.code)
    return out

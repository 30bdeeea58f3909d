"""Evaluations: draft, save, submit; acknowledge or dispute within the window; automatic acknowledgement;
resolution by a supervisor who did not score it (upheld, adjusted with history kept, overturned = void)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import delete, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from console import audit
from console.audit import command, query
from console.i18n import pick, t
from console.jobs import JobContext, handler
from console.permissions import Actor
from console.qa import rollups
from console.qa.calls import CallView, load_call
from console.qa.common import (
    QAError,
    QAPermissionDenied,
    VersionSpec,
    active_version_id,
    dispute_deadline,
    dispute_last_day,
    label,
    load_version,
    may_manage_staff,
    may_see_staff,
    require_staff,
    staff_scope,
    tier_at,
    tier_names,
    window_cutoff,
)
from console.qa.explain import AnswerIn, ScoreExplanation, explain_score
from console.scoring import Answer, ScoreError, compute_score, round_half_up
from console.timeutil import local_date, local_midnight_utc, utcnow
from models import (
    Call,
    Customer,
    Dispute,
    Evaluation,
    EvaluationAnswer,
    EvaluationRevision,
    EvaluationViolationMark,
    Staff,
    Team,
)

RESOLUTIONS = ("upheld", "adjusted", "overturned")
REGULAR = "regular"


# ---------------------------------------------------------------- reading and writing answers


def read_answers(session: Session, evaluation_id: int) -> tuple[dict[int, AnswerIn], dict[int, str | None]]:
    answers = {
        a.item_id: AnswerIn(points=a.points, na=a.na, comment=a.comment)
        for a in session.exec(select(EvaluationAnswer).where(EvaluationAnswer.evaluation_id == evaluation_id))
    }
    marks = {
        m.violation_id: m.comment
        for m in session.exec(
            select(EvaluationViolationMark).where(EvaluationViolationMark.evaluation_id == evaluation_id)
        )
    }
    return answers, marks


def validate_answers(spec: VersionSpec, answers: dict[int, AnswerIn], marks: dict[int, str | None]) -> None:
    """Refuse what no form should send: unknown items, points out of range, N/A where not allowed."""
    items = {i.item_id: i for i in spec.items}
    for item_id, ans in answers.items():
        item = items.get(item_id)
        if item is None:
            raise QAError("Item {item} is not on this scorecard version.", item=item_id)
        name = pick(item, "text")
        if ans.na:
            if not item.na_allowed:
                raise QAError("“{item}” does not allow N/A.", item=name)
            continue
        if ans.points is None:
            continue
        if ans.points < 0 or ans.points > item.max_points:
            raise QAError("“{item}”: points must be between 0 and {max}.", item=name, max=item.max_points)
        if item.kind == "yes_no" and ans.points not in (0, item.max_points):
            raise QAError("“{item}” is a yes/no item: 0 or {max} points.", item=name, max=item.max_points)
        if ans.comment and len(ans.comment) > 1000:
            raise QAError("A comment may have at most 1000 characters.")
    known = {v.violation_id for v in spec.violations}
    for vid, comment in marks.items():
        if vid not in known:
            raise QAError("Violation {violation} is not on this scorecard version.", violation=vid)
        if comment and len(comment) > 1000:
            raise QAError("A comment may have at most 1000 characters.")


def unanswered_items(spec: VersionSpec, answers: dict[int, AnswerIn]) -> list[str]:
    return [pick(i, "text") for i in spec.items if not (answers.get(i.item_id) or AnswerIn()).answered]


def score_of(spec: VersionSpec, answers: dict[int, AnswerIn], marks: dict[int, str | None]) -> Any:
    """The final score; every item must be answered."""
    missing = unanswered_items(spec, answers)
    if missing:
        raise QAError(
            "Answer every item before submitting ({count} unanswered: {items}).",
            count=len(missing),
            items="; ".join(missing[:5]) + ("…" if len(missing) > 5 else ""),
        )
    try:
        return compute_score(
            spec.section_specs,
            spec.item_specs,
            {iid: Answer(points=a.points, na=a.na) for iid, a in answers.items() if a.answered},
            spec.violation_specs,
            set(marks),
            spec.pass_mark,
        )
    except ScoreError as exc:  # validate_answers runs first, so this is a safety net
        raise QAError("The answers do not fit the scorecard: {error}", error=str(exc)) from exc


def write_answers(
    session: Session, evaluation_id: int, answers: dict[int, AnswerIn], marks: dict[int, str | None]
) -> None:
    session.exec(delete(EvaluationAnswer).where(EvaluationAnswer.evaluation_id == evaluation_id))  # type: ignore[call-overload]
    session.exec(delete(EvaluationViolationMark).where(EvaluationViolationMark.evaluation_id == evaluation_id))  # type: ignore[call-overload]
    for item_id, ans in answers.items():
        if not ans.answered:
            continue
        session.add(
            EvaluationAnswer(
                evaluation_id=evaluation_id,
                item_id=item_id,
                points=None if ans.na else ans.points,
                na=ans.na,
                comment=(ans.comment or "").strip() or None,
            )
        )
    for vid, comment in marks.items():
        session.add(
            EvaluationViolationMark(
                evaluation_id=evaluation_id, violation_id=vid, comment=(comment or "").strip() or None
            )
        )
    session.flush()


def apply_score(evaluation: Evaluation, result: Any) -> None:
    evaluation.total = result.total
    evaluation.passed = result.passed
    evaluation.fatal = bool(result.fatal)


def snapshot(session: Session, evaluation: Evaluation) -> dict[str, Any]:
    answers, marks = read_answers(session, evaluation.id)  # type: ignore[arg-type]
    return {
        "revision": evaluation.revision,
        "total": evaluation.total,
        "passed": evaluation.passed,
        "fatal": evaluation.fatal,
        "answers": {str(k): {"points": a.points, "na": a.na, "comment": a.comment} for k, a in answers.items()},
        "violations": {str(k): v for k, v in marks.items()},
    }


# ---------------------------------------------------------------- scoring a call


@dataclass
class ScoringForm:
    call: CallView
    spec: VersionSpec
    evaluation_id: int | None
    answers: dict[int, AnswerIn]
    marks: dict[int, str | None]
    blocked: str | None = None  # why this actor cannot score the call (already scored, someone's draft)
    submitted_id: int | None = None


def _regular_for_call(session: Session, call_id: int) -> list[Evaluation]:
    return list(
        session.exec(
            select(Evaluation).where(
                Evaluation.call_id == call_id,
                Evaluation.kind == REGULAR,
                Evaluation.void == False,  # noqa: E712
            )
        ).all()
    )


def _check_may_score(session: Session, actor: Actor, call: CallView) -> int:
    staff_id = require_staff(actor)
    if call.is_training:
        raise QAError("Training calls are scored in training drills, not in the review queue.")
    if not may_manage_staff(session, actor, call.caller_id):
        raise QAPermissionDenied("You may score calls of your own team only; {name} is not in it.", name=call.caller)
    if call.caller_id == staff_id:
        raise QAError("You cannot score your own call.")
    if call.outcome != "connected":
        raise QAError("Only connected calls are scored.")
    return staff_id


@query("qa.score")
def scoring_form(*, session: Session, actor: Actor, call_id: int) -> ScoringForm:
    """The active scorecard version of the call's stream, with the actor's draft if there is one."""
    call = load_call(session, call_id, actor=actor)
    staff_id = _check_may_score(session, actor, call)
    blocked = None
    submitted_id = None
    draft: Evaluation | None = None
    for ev in _regular_for_call(session, call_id):
        if ev.status == "draft" and ev.evaluator_id == staff_id:
            draft = ev
        elif ev.status == "draft":
            evaluator = session.get(Staff, ev.evaluator_id)
            blocked = t("{name} has a draft evaluation of this call.", name=evaluator.name if evaluator else "?")
        else:
            submitted_id = ev.id
            blocked = t("This call is already scored (evaluation #{id}).", id=ev.id)
    if draft is not None:
        spec = load_version(session, draft.version_id)
        answers, marks = read_answers(session, draft.id)  # type: ignore[arg-type]
        return ScoringForm(call, spec, draft.id, answers, marks, blocked, submitted_id)
    version_id = active_version_id(session, call.stream)
    if version_id is None:
        raise QAError("There is no active scorecard for the {stream} stream.", stream=label(call.stream))
    return ScoringForm(call, load_version(session, version_id), None, {}, {}, blocked, submitted_id)


def _save(
    session: Session,
    actor: Actor,
    call_id: int,
    answers: dict[int, AnswerIn],
    marks: dict[int, str | None],
    *,
    submit: bool,
    now: dt.datetime | None,
) -> Evaluation:
    call = load_call(session, call_id, actor=actor)
    staff_id = _check_may_score(session, actor, call)
    draft: Evaluation | None = None
    for ev in _regular_for_call(session, call_id):
        if ev.status != "draft":
            raise QAError("This call is already scored (evaluation #{id}).", id=ev.id)
        if ev.evaluator_id != staff_id:
            evaluator = session.get(Staff, ev.evaluator_id)
            raise QAError("{name} has a draft evaluation of this call.", name=evaluator.name if evaluator else "?")
        draft = ev
    if draft is None:
        version_id = active_version_id(session, call.stream)
        if version_id is None:
            raise QAError("There is no active scorecard for the {stream} stream.", stream=label(call.stream))
        draft = Evaluation(
            call_id=call_id,
            version_id=version_id,
            evaluator_id=staff_id,
            evaluatee_id=call.caller_id,
            kind=REGULAR,
            status="draft",
        )
    spec = load_version(session, draft.version_id)
    validate_answers(spec, answers, marks)
    result = score_of(spec, answers, marks) if submit else None
    session.add(draft)
    session.flush()
    write_answers(session, draft.id, answers, marks)  # type: ignore[arg-type]
    if submit:
        apply_score(draft, result)
        draft.status = "submitted"
        draft.submitted_at = now or utcnow()
        session.add(draft)
        session.flush()
        rollups.invalidate(session)
    audit.note(
        entity="evaluation",
        entity_id=draft.id,
        after={"status": draft.status, "total": draft.total, "passed": draft.passed, "call_id": call_id},
        counts={"answered": sum(1 for a in answers.values() if a.answered), "violations": len(marks)},
    )
    return draft


@command("qa.score")
def save_draft(
    *,
    session: Session,
    actor: Actor,
    call_id: int,
    answers: dict[int, AnswerIn],
    violations: dict[int, str | None],
) -> int:
    """Save the answers so far (unanswered items allowed); returns the evaluation id."""
    return _save(session, actor, call_id, answers, violations, submit=False, now=None).id  # type: ignore[return-value]


@command("qa.score")
def submit_evaluation(
    *,
    session: Session,
    actor: Actor,
    call_id: int,
    answers: dict[int, AnswerIn],
    violations: dict[int, str | None],
    now: dt.datetime | None = None,
) -> int:
    """Submit: every item answered; the score is computed and the dispute window opens."""
    return _save(session, actor, call_id, answers, violations, submit=True, now=now).id  # type: ignore[return-value]


# ---------------------------------------------------------------- automatic acknowledgement


def auto_acknowledge_due(session: Session, now: dt.datetime | None = None) -> int:
    """Acknowledge every submitted evaluation whose dispute window has closed. Returns how many."""
    now = now or utcnow()
    cutoff = window_cutoff(now)
    due = session.exec(
        select(Evaluation.id, Evaluation.submitted_at).where(
            Evaluation.status == "submitted",
            Evaluation.kind == REGULAR,
            Evaluation.submitted_at < cutoff,  # type: ignore[operator]
        )
    ).all()
    if not due:
        return 0
    by_deadline: dict[dt.datetime, list[int]] = {}
    for eid, submitted_at in due:
        by_deadline.setdefault(dispute_deadline(submitted_at), []).append(eid)
    for deadline, ids in by_deadline.items():
        for start in range(0, len(ids), 500):
            session.exec(
                update(Evaluation)  # type: ignore[call-overload]
                .where(col(Evaluation.id).in_(ids[start : start + 500]), Evaluation.status == "submitted")
                .values(status="acknowledged", acknowledged_at=deadline, auto_acknowledged=True)
            )
    session.flush()
    return len(due)


@handler("qa.auto_acknowledge", action="qa.auto_acknowledge")
def _auto_acknowledge_job(ctx: JobContext) -> dict[str, Any]:
    with Session(ctx.engine) as s:
        count = auto_acknowledge_due(s)
        s.commit()
    ctx.progress(count, count, f"{count} acknowledged")
    return {"acknowledged": count, "message": f"{count} evaluations acknowledged automatically"}


# ---------------------------------------------------------------- one evaluation


@dataclass
class DisputeView:
    dispute_id: int
    status: str
    raised_at: dt.datetime
    raised_by: str
    reason: str
    item_ids: list[int]
    violation_ids: list[int]
    resolved_by: str | None
    resolved_at: dt.datetime | None
    note: str | None


@dataclass
class RevisionView:
    revision: int
    at: dt.datetime
    reason: str | None
    total: float | None
    passed: bool | None
    answers: dict[str, Any]
    violations: dict[str, Any]


@dataclass
class EvaluationView:
    evaluation_id: int
    call: CallView
    spec: VersionSpec
    kind: str
    status: str
    evaluator_id: int
    evaluator: str
    evaluatee_id: int
    evaluatee: str
    total: float | None
    display_total: str
    passed: bool | None
    fatal: bool
    void: bool
    revision: int
    submitted_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    auto_acknowledged: bool
    last_day: dt.date | None
    window_open: bool
    answers: dict[int, AnswerIn]
    marks: dict[int, str | None]
    explanation: ScoreExplanation
    dispute: DisputeView | None = None
    revisions: list[RevisionView] = field(default_factory=list)
    can_acknowledge: bool = False
    can_dispute: bool = False
    can_resolve: bool = False

    @property
    def items_table(self) -> pd.DataFrame:
        """One row per item: section, item, answer, points, comment; disputed items flagged."""
        disputed = set(self.dispute.item_ids) if self.dispute else set()
        names = {s.code: pick(s, "name") for s in self.spec.sections}
        rows = []
        for item in self.spec.items:
            ans = self.answers.get(item.item_id, AnswerIn())
            if ans.na:
                shown = t("N/A")
            elif ans.points is None:
                shown = "—"
            elif item.kind == "yes_no":
                shown = t("Yes") if ans.points == item.max_points else t("No")
            else:
                shown = f"{ans.points}/{item.max_points}"
            rows.append(
                {
                    "item_id": item.item_id,
                    "section": names.get(item.section, item.section),
                    "item": pick(item, "text"),
                    "answer": shown,
                    "points": None if ans.na else ans.points,
                    "max": item.max_points,
                    "comment": ans.comment or "",
                    "disputed": item.item_id in disputed,
                }
            )
        return pd.DataFrame(rows)


def parse_disputed(raw: str | None) -> tuple[list[int], list[int]]:
    """Dispute.item_ids holds item ids (ints) and violation marks as "V<id>"."""
    try:
        values = json.loads(raw or "[]")
    except ValueError:
        return [], []
    items: list[int] = []
    violations: list[int] = []
    for v in values if isinstance(values, list) else []:
        if isinstance(v, int):
            items.append(v)
        elif isinstance(v, str) and v.startswith("V") and v[1:].isdigit():
            violations.append(int(v[1:]))
        elif isinstance(v, str) and v.isdigit():
            items.append(int(v))
    return items, violations


def _dispute_view(session: Session, dispute: Dispute) -> DisputeView:
    items, violations = parse_disputed(dispute.item_ids)
    raiser = session.get(Staff, dispute.raised_by)
    resolver = session.get(Staff, dispute.resolved_by) if dispute.resolved_by else None
    return DisputeView(
        dispute_id=dispute.id,  # type: ignore[arg-type]
        status=dispute.status,
        raised_at=dispute.raised_at,
        raised_by=raiser.name if raiser else "?",
        reason=dispute.reason,
        item_ids=items,
        violation_ids=violations,
        resolved_by=resolver.name if resolver else None,
        resolved_at=dispute.resolved_at,
        note=dispute.resolution_note,
    )


def _may_read(session: Session, actor: Actor, ev: Evaluation) -> bool:
    if ev.status == "draft":
        return actor.staff_id == ev.evaluator_id
    if ev.kind != REGULAR:
        return actor.is_supervisor or actor.staff_id == ev.evaluator_id
    if actor.staff_id is not None and actor.staff_id in (ev.evaluator_id, ev.evaluatee_id):
        return True
    return actor.role != "trainee" and may_see_staff(session, actor, ev.evaluatee_id)


def _latest_dispute(session: Session, evaluation_id: int) -> Dispute | None:
    return session.exec(
        select(Dispute).where(Dispute.evaluation_id == evaluation_id).order_by(col(Dispute.id).desc())
    ).first()


@query("qa.evaluations.read")
def get_evaluation(
    *, session: Session, actor: Actor, evaluation_id: int, now: dt.datetime | None = None
) -> EvaluationView:
    now = now or utcnow()
    auto_acknowledge_due(session, now)
    ev = session.get(Evaluation, evaluation_id)
    if ev is None:
        raise QAError("No such evaluation.")
    if not _may_read(session, actor, ev):
        raise QAPermissionDenied("You may not see this evaluation.")
    spec = load_version(session, ev.version_id)
    answers, marks = read_answers(session, evaluation_id)
    call = load_call(session, ev.call_id, actor=actor)
    evaluator = session.get(Staff, ev.evaluator_id)
    evaluatee = session.get(Staff, ev.evaluatee_id)
    dispute = _latest_dispute(session, evaluation_id)
    last_day = dispute_last_day(ev.submitted_at) if ev.submitted_at else None
    window_open = ev.submitted_at is not None and now < dispute_deadline(ev.submitted_at)
    own = actor.staff_id == ev.evaluatee_id
    view = EvaluationView(
        evaluation_id=evaluation_id,
        call=call,
        spec=spec,
        kind=ev.kind,
        status=ev.status,
        evaluator_id=ev.evaluator_id,
        evaluator=evaluator.name if evaluator else "?",
        evaluatee_id=ev.evaluatee_id,
        evaluatee=evaluatee.name if evaluatee else "?",
        total=ev.total,
        display_total="—" if ev.total is None else str(round_half_up(ev.total)),
        passed=ev.passed,
        fatal=ev.fatal,
        void=ev.void,
        revision=ev.revision,
        submitted_at=ev.submitted_at,
        acknowledged_at=ev.acknowledged_at,
        auto_acknowledged=ev.auto_acknowledged,
        last_day=last_day,
        window_open=window_open,
        answers=answers,
        marks=marks,
        explanation=explain_score(spec, answers, set(marks)),
        dispute=_dispute_view(session, dispute) if dispute else None,
        can_acknowledge=own and ev.kind == REGULAR and ev.status == "submitted" and window_open,
        can_dispute=own and ev.kind == REGULAR and ev.status == "submitted" and window_open,
        can_resolve=actor.is_supervisor
        and ev.status == "disputed"
        and actor.staff_id is not None
        and actor.staff_id != ev.evaluator_id,
    )
    for rev in session.exec(
        select(EvaluationRevision)
        .where(EvaluationRevision.evaluation_id == evaluation_id)
        .order_by(EvaluationRevision.revision)
    ):
        data = json.loads(rev.snapshot or "{}")
        view.revisions.append(
            RevisionView(
                revision=rev.revision,
                at=rev.at,
                reason=rev.reason,
                total=data.get("total"),
                passed=data.get("passed"),
                answers=data.get("answers", {}),
                violations=data.get("violations", {}),
            )
        )
    return view


# ---------------------------------------------------------------- acknowledge, dispute, resolve


def _own_open(session: Session, actor: Actor, evaluation_id: int, now: dt.datetime) -> Evaluation:
    staff_id = require_staff(actor)
    auto_acknowledge_due(session, now)
    ev = session.get(Evaluation, evaluation_id)
    if ev is None or ev.kind != REGULAR or ev.status == "draft":
        raise QAError("No such evaluation.")
    if ev.evaluatee_id != staff_id:
        raise QAPermissionDenied("Only the evaluated person may acknowledge or dispute an evaluation.")
    if ev.status == "acknowledged":
        if ev.auto_acknowledged:
            raise QAError(
                "The dispute window closed on {day}; the evaluation was acknowledged automatically.",
                day=dispute_last_day(ev.submitted_at).isoformat() if ev.submitted_at else "?",
            )
        raise QAError("You have already acknowledged this evaluation.")
    if ev.status != "submitted":
        raise QAError("This evaluation is {status}: nothing to acknowledge or dispute.", status=label(ev.status))
    assert ev.submitted_at is not None
    if now >= dispute_deadline(ev.submitted_at):
        raise QAError(
            "The dispute window closed on {day}; the evaluation was acknowledged automatically.",
            day=dispute_last_day(ev.submitted_at).isoformat(),
        )
    return ev


@command("qa.acknowledge")
def acknowledge(*, session: Session, actor: Actor, evaluation_id: int, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    ev = _own_open(session, actor, evaluation_id, now)
    ev.status = "acknowledged"
    ev.acknowledged_at = now
    session.add(ev)
    session.flush()
    audit.note(
        entity="evaluation", entity_id=evaluation_id, before={"status": "submitted"}, after={"status": ev.status}
    )


@command("qa.dispute")
def dispute(
    *,
    session: Session,
    actor: Actor,
    evaluation_id: int,
    item_ids: list[int],
    reason: str,
    violation_ids: list[int] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Dispute items (and/or violation marks) with a reason, within the window. Returns the dispute id."""
    now = now or utcnow()
    ev = _own_open(session, actor, evaluation_id, now)
    reason = (reason or "").strip()
    violation_ids = list(violation_ids or [])
    if not item_ids and not violation_ids:
        raise QAError("Choose at least one item to dispute.")
    if not reason:
        raise QAError("Give a reason for the dispute.")
    if len(reason) > 2000:
        raise QAError("The reason may have at most 2000 characters.")
    spec = load_version(session, ev.version_id)
    for iid in item_ids:
        spec.item(iid)
    known = {v.violation_id for v in spec.violations}
    if any(v not in known for v in violation_ids):
        raise QAError("Violation {violation} is not on this scorecard version.", violation=violation_ids[0])
    row = Dispute(
        evaluation_id=evaluation_id,
        raised_by=ev.evaluatee_id,
        raised_at=now,
        item_ids=json.dumps([*sorted(set(item_ids)), *[f"V{v}" for v in sorted(set(violation_ids))]]),
        reason=reason,
        status="open",
    )
    session.add(row)
    ev.status = "disputed"
    session.add(ev)
    session.flush()
    audit.note(
        entity="evaluation",
        entity_id=evaluation_id,
        before={"status": "submitted"},
        after={"status": "disputed", "dispute_id": row.id},
        counts={"items": len(item_ids), "violations": len(violation_ids)},
    )
    return row.id  # type: ignore[return-value]


@command("qa.resolve")
def resolve_dispute(
    *,
    session: Session,
    actor: Actor,
    dispute_id: int,
    outcome: str,
    note: str,
    answers: dict[int, AnswerIn] | None = None,
    violations: dict[int, str | None] | None = None,
    now: dt.datetime | None = None,
) -> None:
    """upheld: the score stands. adjusted: answers given replace those items (violations replace the marks
    when given), the score is recomputed and the original kept as a revision. overturned: the evaluation is void."""
    now = now or utcnow()
    staff_id = require_staff(actor)
    row = session.get(Dispute, dispute_id)
    if row is None:
        raise QAError("No such dispute.")
    if row.status != "open":
        raise QAError("This dispute is already resolved ({status}).", status=label(row.status))
    ev = session.get(Evaluation, row.evaluation_id)
    assert ev is not None
    if ev.evaluator_id == staff_id:
        raise QAPermissionDenied("You scored this evaluation, so another supervisor must resolve the dispute.")
    if outcome not in RESOLUTIONS:
        raise QAError("Choose upheld, adjusted or overturned.")
    note = (note or "").strip()
    if not note:
        raise QAError("Write a resolution note for the evaluated person.")
    before = {"status": ev.status, "total": ev.total, "passed": ev.passed, "void": ev.void}
    if outcome == "adjusted":
        spec = load_version(session, ev.version_id)
        current, marks = read_answers(session, ev.id)  # type: ignore[arg-type]
        changes = dict(answers or {})
        validate_answers(spec, changes, violations or {})
        merged = {**current, **changes}
        new_marks = dict(violations) if violations is not None else marks
        changed = any(current.get(k) != v for k, v in changes.items()) or set(new_marks) != set(marks)
        if not changed:
            raise QAError("Adjusted means re-answering at least one item; nothing changed. Choose upheld instead.")
        result = score_of(spec, merged, new_marks)
        session.add(
            EvaluationRevision(
                evaluation_id=ev.id,  # type: ignore[arg-type]
                revision=ev.revision,
                snapshot=json.dumps(snapshot(session, ev), ensure_ascii=False),
                at=now,
                by_user_id=actor.user_id,
                reason=note[:500],
            )
        )
        write_answers(session, ev.id, merged, new_marks)  # type: ignore[arg-type]
        apply_score(ev, result)
        ev.revision += 1
        rollups.forget_sections(session, ev.id)  # type: ignore[arg-type]
    elif outcome == "overturned":
        ev.void = True
    ev.status = "resolved"
    row.status = outcome
    row.resolved_by = staff_id
    row.resolved_at = now
    row.resolution_note = note
    session.add(ev)
    session.add(row)
    session.flush()
    audit.note(
        entity="evaluation",
        entity_id=ev.id,
        before=before,
        after={"status": ev.status, "total": ev.total, "passed": ev.passed, "void": ev.void, "outcome": outcome},
    )


# ---------------------------------------------------------------- lists


def _evaluation_rows(session: Session, stmt: Any, now: dt.datetime) -> pd.DataFrame:
    names = tier_names(session)
    rows = []
    for ev, call, customer_name, rank, evaluatee, evaluator, dispute_status in session.exec(stmt).all():
        deadline = dispute_last_day(ev.submitted_at) if ev.submitted_at and ev.kind == REGULAR else None
        rows.append(
            {
                "id": ev.id,
                "call_date": local_date(call.started_at),
                "call": call.reference,
                "stream": call.stream,
                "type": call.call_type,
                "customer": customer_name,
                "tier": names.get(int(rank or 0), str(rank)),
                "evaluatee": evaluatee,
                "evaluator": evaluator,
                "status": ev.status,
                "total": None if ev.total is None else float(round_half_up(ev.total)),
                "passed": ev.passed,
                "fatal": ev.fatal,
                "void": ev.void,
                "dispute": dispute_status,
                "last_day_to_dispute": deadline if ev.status == "submitted" else None,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "call_date",
            "call",
            "stream",
            "type",
            "customer",
            "tier",
            "evaluatee",
            "evaluator",
            "status",
            "total",
            "passed",
            "fatal",
            "void",
            "dispute",
            "last_day_to_dispute",
        ],
    )


@query("qa.evaluations.read")
def list_evaluations(
    *,
    session: Session,
    actor: Actor,
    mine: bool = False,
    stream: str | None = None,
    status: str | None = None,
    evaluatee_id: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    include_void: bool = True,
    offset: int = 0,
    limit: int = 50,
    now: dt.datetime | None = None,
) -> tuple[pd.DataFrame, int]:
    """Regular evaluations the actor may see (mine = where I am the evaluated person), newest call first."""
    now = now or utcnow()
    auto_acknowledge_due(session, now)
    evaluatee = aliased(Staff)
    evaluator = aliased(Staff)
    conds: list[Any] = [Evaluation.kind == REGULAR, Evaluation.status != "draft"]
    if mine:
        conds.append(Evaluation.evaluatee_id == require_staff(actor))
    else:
        conds.append(staff_scope(actor, Evaluation.evaluatee_id))
    if stream:
        conds.append(Call.stream == stream)
    if status:
        conds.append(Evaluation.status == status)
    if evaluatee_id is not None:
        conds.append(Evaluation.evaluatee_id == evaluatee_id)
    if start is not None:
        conds.append(Call.started_at >= local_midnight_utc(start))
    if end is not None:
        conds.append(Call.started_at < local_midnight_utc(end + dt.timedelta(days=1)))
    if not include_void:
        conds.append(Evaluation.void == False)  # noqa: E712
    total = session.exec(
        select(func.count()).select_from(Evaluation).join(Call, Call.id == Evaluation.call_id).where(*conds)
    ).one()
    latest_dispute = (
        select(Dispute.status)
        .where(Dispute.evaluation_id == Evaluation.id)
        .order_by(col(Dispute.id).desc())
        .limit(1)
        .correlate(Evaluation)
        .scalar_subquery()
    )
    stmt = (
        select(
            Evaluation,
            Call,
            Customer.name,
            tier_at(Call.customer_id, Call.started_at),
            evaluatee.name,
            evaluator.name,
            latest_dispute,
        )
        .join(Call, Call.id == Evaluation.call_id)
        .join(Customer, Customer.id == Call.customer_id)
        .join(evaluatee, evaluatee.id == Evaluation.evaluatee_id)
        .join(evaluator, evaluator.id == Evaluation.evaluator_id)
        .where(*conds)
        .order_by(col(Call.started_at).desc(), col(Evaluation.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return _evaluation_rows(session, stmt, now), int(total)


@query("qa.evaluations.read")
def my_drafts(*, session: Session, actor: Actor) -> pd.DataFrame:
    """The actor's unsubmitted evaluations (to resume)."""
    staff_id = require_staff(actor)
    rows = session.exec(
        select(Evaluation.id, Evaluation.call_id, Call.reference, Staff.name, Evaluation.created_at)
        .join(Call, Call.id == Evaluation.call_id)
        .join(Staff, Staff.id == Evaluation.evaluatee_id)
        .where(Evaluation.evaluator_id == staff_id, Evaluation.status == "draft", Evaluation.kind == REGULAR)
        .order_by(col(Evaluation.created_at).desc())
    ).all()
    return pd.DataFrame(rows, columns=["id", "call_id", "call", "evaluatee", "created_at"])


@dataclass
class DueSummary:
    count: int
    nearest_last_day: dt.date | None


@query("qa.evaluations.read")
def acknowledgements_due(*, session: Session, actor: Actor, now: dt.datetime | None = None) -> DueSummary:
    """The evaluated person's submitted evaluations still waiting for acknowledgement or dispute."""
    now = now or utcnow()
    if actor.staff_id is None:
        return DueSummary(0, None)
    auto_acknowledge_due(session, now)
    count, first = session.exec(
        select(func.count(), func.min(Evaluation.submitted_at)).where(
            Evaluation.evaluatee_id == actor.staff_id,
            Evaluation.status == "submitted",
            Evaluation.kind == REGULAR,
        )
    ).one()
    return DueSummary(int(count or 0), dispute_last_day(first) if first else None)


# ---------------------------------------------------------------- disputes


@query("qa.disputes.read")
def list_disputes(
    *,
    session: Session,
    actor: Actor,
    status: str | None = "open",
    stream: str | None = None,
    item_ids: list[int] | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[pd.DataFrame, int]:
    """Disputes by status (and disputed item: any of item_ids, e.g. one item across versions), oldest first.
    Leads see their team's."""
    evaluatee = aliased(Staff)
    evaluator = aliased(Staff)
    conds: list[Any] = [staff_scope(actor, Evaluation.evaluatee_id)]
    if status:
        conds.append(Dispute.status == status)
    if stream:
        conds.append(Call.stream == stream)
    if item_ids:
        # item_ids is a short JSON list such as [12, 15, "V3"]; match the number as a whole element.
        conds.append(
            or_(
                *[
                    col(Dispute.item_ids).like(pattern.format(i=item_id))
                    for item_id in item_ids
                    for pattern in ("[{i},%", "[{i}]", "%, {i},%", "%, {i}]", "%,{i},%", "%,{i}]")
                ]
            )
        )
    base = (
        select(Dispute, Evaluation, Call, evaluatee.name, evaluator.name, Team.name)
        .join(Evaluation, Evaluation.id == Dispute.evaluation_id)
        .join(Call, Call.id == Evaluation.call_id)
        .join(evaluatee, evaluatee.id == Evaluation.evaluatee_id)
        .join(evaluator, evaluator.id == Evaluation.evaluator_id)
        .join(Team, Team.id == evaluatee.team_id, isouter=True)
        .where(*conds)
    )
    total = session.exec(select(func.count()).select_from(base.subquery())).one()
    rows = []
    item_text: dict[int, str] = {}
    for d, ev, call, who, scorer, team in session.exec(
        base.order_by(col(Dispute.raised_at), col(Dispute.id)).offset(offset).limit(limit)
    ).all():
        items, violations = parse_disputed(d.item_ids)
        if items and any(i not in item_text for i in items):
            spec = load_version(session, ev.version_id)
            item_text.update({i.item_id: pick(i, "text") for i in spec.items})
        rows.append(
            {
                "dispute_id": d.id,
                "evaluation_id": ev.id,
                "raised_at": d.raised_at,
                "status": d.status,
                "evaluatee": who,
                "team": team,
                "evaluator": scorer,
                "stream": call.stream,
                "call": call.reference,
                "total": None if ev.total is None else float(round_half_up(ev.total)),
                "items": "; ".join(item_text.get(i, str(i)) for i in items)
                + (f" (+{len(violations)} " + t("violation(s)") + ")" if violations else ""),
                "reason": d.reason,
                "resolved_at": d.resolved_at,
                "note": d.resolution_note,
            }
        )
    columns = [
        "dispute_id",
        "evaluation_id",
        "raised_at",
        "status",
        "evaluatee",
        "team",
        "evaluator",
        "stream",
        "call",
        "total",
        "items",
        "reason",
        "resolved_at",
        "note",
    ]
    return pd.DataFrame(rows, columns=columns), int(total)


@query("qa.disputes.read")
def disputes_by_item(*, session: Session, actor: Actor, stream: str | None = None) -> pd.DataFrame:
    """How often each item was disputed, per status: which items are worded poorly or scored unevenly."""
    stmt = (
        select(Dispute.item_ids, Dispute.status, Evaluation.version_id)
        .join(Evaluation, Evaluation.id == Dispute.evaluation_id)
        .join(Call, Call.id == Evaluation.call_id)
        .where(staff_scope(actor, Evaluation.evaluatee_id))
    )
    if stream:
        stmt = stmt.where(Call.stream == stream)
    counts: dict[tuple[str, str], dict[str, int]] = {}
    ids: dict[tuple[str, str], set[int]] = {}
    specs: dict[int, VersionSpec] = {}
    for raw, status, version_id in session.exec(stmt).all():
        items, _ = parse_disputed(raw)
        if version_id not in specs:
            specs[version_id] = load_version(session, version_id)
        spec = specs[version_id]
        sections = {s.code: pick(s, "name") for s in spec.sections}
        for iid in items:
            try:
                item = spec.item(iid)
            except QAError:
                continue
            key = (sections.get(item.section, item.section), pick(item, "text"))
            counts.setdefault(key, {s: 0 for s in ("open", "upheld", "adjusted", "overturned")})
            counts[key][status] = counts[key].get(status, 0) + 1
            ids.setdefault(key, set()).add(iid)
    rows = [
        {"section": k[0], "item": k[1], **v, "total": sum(v.values()), "item_ids": sorted(ids[k])}
        for k, v in counts.items()
    ]
    df = pd.DataFrame(
        rows, columns=["section", "item", "open", "upheld", "adjusted", "overturned", "total", "item_ids"]
    )
    return df.sort_values(["total", "item"], ascending=[False, True]).reset_index(drop=True)

"""Calibration sessions and training drills (SPEC §4).

A session is one call scored on one locked scorecard version by its participants, compared with an expert
key (the session's evaluation of kind expert_key), with a deadline. It is blind: a participant sees the key
and the others' answers only after submitting their own. Training sessions are the trainees' drills on
pseudonymised training calls. Neither kind ever counts in a KPI (KPIs read kind = regular only).

Agreement per item = share of participants whose answer equals the key's (scale items: within one point;
N/A agrees only with N/A). A grader's deviation = mean absolute difference of their item points from the
key's (an N/A against points counts as the item's maximum), and the absolute difference of the totals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import or_
from sqlmodel import Session, col, func, select

from console import audit
from console.audit import command, query
from console.i18n import pick, t
from console.permissions import Actor
from console.qa.calls import CallView, load_call
from console.qa.common import (
    QAError,
    QAPermissionDenied,
    VersionSpec,
    active_version_id,
    label,
    load_version,
    require_staff,
)
from console.qa.evaluations import read_answers, score_of, validate_answers, write_answers
from console.qa.explain import AnswerIn, explain_score
from console.scoring import round_half_up
from console.timeutil import utcnow
from models import CalibrationParticipant, CalibrationSession, Call, Customer, Evaluation, Staff

KINDS = ("calibration", "training")
GRADER_ROLES = ("team_lead", "supervisor", "admin")


# ---------------------------------------------------------------- the comparison rules


def answers_agree(kind: str, key: AnswerIn, other: AnswerIn) -> bool:
    if key.na or other.na:
        return key.na and other.na
    if key.points is None or other.points is None:
        return False
    if kind == "scale":
        return abs(key.points - other.points) <= 1
    return key.points == other.points


def item_deviation(max_points: int, key: AnswerIn, other: AnswerIn) -> float:
    if key.na and other.na:
        return 0.0
    if key.na or other.na or key.points is None or other.points is None:
        return float(max_points)
    return float(abs(key.points - other.points))


@dataclass
class Graded:
    staff_id: int
    name: str
    answers: dict[int, AnswerIn]
    marks: set[int]
    total: float | None


def agreement_table(spec: VersionSpec, key: Graded, graders: list[Graded]) -> pd.DataFrame:
    """One row per item and per violation: the key's answer and the share of graders agreeing with it."""
    names = {s.code: pick(s, "name") for s in spec.sections}
    rows = []
    for item in spec.items:
        k = key.answers.get(item.item_id, AnswerIn())
        agree = [answers_agree(item.kind, k, g.answers.get(item.item_id, AnswerIn())) for g in graders]
        rows.append(
            {
                "section": names.get(item.section, item.section),
                "item": pick(item, "text"),
                "key": show_answer(item.kind, item.max_points, k),
                "agreement": (sum(agree) / len(agree)) if agree else None,
                "graders": len(agree),
            }
        )
    for v in spec.violations:
        in_key = v.violation_id in key.marks
        agree = [(v.violation_id in g.marks) == in_key for g in graders]
        rows.append(
            {
                "section": t("Violations"),
                "item": pick(v, "text"),
                "key": t("marked") if in_key else t("not marked"),
                "agreement": (sum(agree) / len(agree)) if agree else None,
                "graders": len(agree),
            }
        )
    return pd.DataFrame(rows, columns=["section", "item", "key", "agreement", "graders"])


def deviation_table(spec: VersionSpec, key: Graded, graders: list[Graded]) -> pd.DataFrame:
    """One row per grader: mean absolute item deviation from the key and total deviation."""
    rows = []
    for g in graders:
        devs = [
            item_deviation(i.max_points, key.answers.get(i.item_id, AnswerIn()), g.answers.get(i.item_id, AnswerIn()))
            for i in spec.items
        ]
        rows.append(
            {
                "grader": g.name,
                "staff_id": g.staff_id,
                "item_deviation": sum(devs) / len(devs) if devs else None,
                "total": g.total,
                "key_total": key.total,
                "total_deviation": None if g.total is None or key.total is None else abs(g.total - key.total),
                "violations_differ": len(g.marks ^ key.marks),
            }
        )
    return pd.DataFrame(
        rows,
        columns=["grader", "staff_id", "item_deviation", "total", "key_total", "total_deviation", "violations_differ"],
    )


def item_by_item(spec: VersionSpec, key: Graded, mine: Graded) -> pd.DataFrame:
    """A drill's feedback: each item's key answer, your answer, the difference and whether they agree."""
    names = {s.code: pick(s, "name") for s in spec.sections}
    rows = []
    for item in spec.items:
        k = key.answers.get(item.item_id, AnswerIn())
        m = mine.answers.get(item.item_id, AnswerIn())
        rows.append(
            {
                "section": names.get(item.section, item.section),
                "item": pick(item, "text"),
                "key": show_answer(item.kind, item.max_points, k),
                "yours": show_answer(item.kind, item.max_points, m),
                "deviation": item_deviation(item.max_points, k, m),
                "agrees": answers_agree(item.kind, k, m),
                "guidance": (pick(item, "guidance") if (item.guidance_en or item.guidance_zh) else ""),
            }
        )
    for v in spec.violations:
        in_key, in_mine = v.violation_id in key.marks, v.violation_id in mine.marks
        rows.append(
            {
                "section": t("Violations"),
                "item": pick(v, "text"),
                "key": t("marked") if in_key else t("not marked"),
                "yours": t("marked") if in_mine else t("not marked"),
                "deviation": None,
                "agrees": in_key == in_mine,
                "guidance": "",
            }
        )
    return pd.DataFrame(rows, columns=["section", "item", "key", "yours", "deviation", "agrees", "guidance"])


def show_answer(kind: str, max_points: int, ans: AnswerIn) -> str:
    if ans.na:
        return t("N/A")
    if ans.points is None:
        return "—"
    if kind == "yes_no":
        return t("Yes") if ans.points == max_points else t("No")
    return f"{ans.points}/{max_points}"


# ---------------------------------------------------------------- sessions


def _get(session: Session, session_id: int) -> CalibrationSession:
    row = session.get(CalibrationSession, session_id)
    if row is None:
        raise QAError("No such calibration session.")
    return row


def _key(session: Session, cal: CalibrationSession) -> Evaluation | None:
    return session.exec(
        select(Evaluation).where(Evaluation.session_id == cal.id, Evaluation.kind == "expert_key")
    ).first()


def _participant(session: Session, cal: CalibrationSession, staff_id: int | None) -> CalibrationParticipant | None:
    if staff_id is None:
        return None
    return session.exec(
        select(CalibrationParticipant).where(
            CalibrationParticipant.session_id == cal.id, CalibrationParticipant.staff_id == staff_id
        )
    ).first()


def _may_see(actor: Actor, cal: CalibrationSession, participant: CalibrationParticipant | None) -> bool:
    if actor.role == "trainee":
        return cal.kind == "training"
    if actor.is_supervisor:
        return True
    return participant is not None


@command("qa.calibration.manage")
def create_session(
    *,
    session: Session,
    actor: Actor,
    kind: str,
    title: str,
    call_id: int,
    deadline: dt.datetime,
    participant_ids: list[int],
    now: dt.datetime | None = None,
) -> int:
    """A calibration session (graders: team leads, supervisors) or a training drill (trainees join themselves)."""
    now = now or utcnow()
    staff_id = require_staff(actor)
    if kind not in KINDS:
        raise QAError("A session is a calibration or a training drill.")
    title = (title or "").strip()
    if not title:
        raise QAError("Give the session a title.")
    if deadline <= now:
        raise QAError("The deadline must be in the future.")
    call = session.get(Call, call_id)
    if call is None:
        raise QAError("No such call.")
    customer = session.get(Customer, call.customer_id)
    caller = session.get(Staff, call.caller_id)
    training = bool((customer and customer.is_training) or (caller and caller.is_training))
    if kind == "training" and not training:
        raise QAError("Training drills use the pseudonymised training calls only.")
    if kind == "calibration" and training:
        raise QAError("Calibration sessions use real calls; training calls are for drills.")
    if not call.transcript:
        raise QAError("This call has no transcript to score.")
    version_id = active_version_id(session, call.stream)
    if version_id is None:
        raise QAError("There is no active scorecard for the {stream} stream.", stream=label(call.stream))
    ids = sorted(set(participant_ids))
    if kind == "calibration":
        if len(ids) < 2:
            raise QAError("A calibration session needs at least two participants.")
        people = session.exec(select(Staff).where(col(Staff.id).in_(ids))).all()
        wrong = [p.name for p in people if p.role not in GRADER_ROLES]
        if len(people) != len(ids) or wrong:
            raise QAError("Participants must be team leads or supervisors ({names}).", names=", ".join(wrong))
    else:
        people = session.exec(select(Staff).where(col(Staff.id).in_(ids))).all()
        if any(p.role != "trainee" for p in people):
            raise QAError("Training drills are for trainees.")
    cal = CalibrationSession(
        kind=kind, title=title[:200], call_id=call_id, version_id=version_id, deadline=deadline, created_by=staff_id
    )
    session.add(cal)
    session.flush()
    for pid in ids:
        session.add(CalibrationParticipant(session_id=cal.id, staff_id=pid))  # type: ignore[arg-type]
    session.flush()
    audit.note(entity="calibration_session", entity_id=cal.id, counts={"participants": len(ids)})
    return cal.id  # type: ignore[return-value]


@command("qa.calibration.manage")
def set_expert_key(
    *,
    session: Session,
    actor: Actor,
    session_id: int,
    answers: dict[int, AnswerIn],
    violations: dict[int, str | None],
) -> int:
    """The expert key: set by a supervisor or the session's creator, locked once a participant has submitted."""
    staff_id = require_staff(actor)
    cal = _get(session, session_id)
    if not actor.is_supervisor and cal.created_by != staff_id:
        raise QAPermissionDenied("Only the session's creator or a supervisor sets the expert key.")
    submitted = session.exec(
        select(func.count())
        .select_from(CalibrationParticipant)
        .where(CalibrationParticipant.session_id == cal.id, col(CalibrationParticipant.evaluation_id).is_not(None))
    ).one()
    if submitted:
        raise QAError("The expert key is locked: participants have already submitted against it.")
    spec = load_version(session, cal.version_id)
    validate_answers(spec, answers, violations)
    result = score_of(spec, answers, violations)
    call = session.get(Call, cal.call_id)
    assert call is not None
    key = _key(session, cal) or Evaluation(
        call_id=cal.call_id,
        version_id=cal.version_id,
        evaluator_id=staff_id,
        evaluatee_id=call.caller_id,
        kind="expert_key",
        status="submitted",
        session_id=cal.id,
        submitted_at=utcnow(),
    )
    key.evaluator_id = staff_id
    key.total, key.passed, key.fatal = result.total, result.passed, bool(result.fatal)
    session.add(key)
    session.flush()
    write_answers(session, key.id, answers, violations)  # type: ignore[arg-type]
    audit.note(entity="calibration_session", entity_id=cal.id, after={"key_total": key.total})
    return key.id  # type: ignore[return-value]


@command("qa.calibration.take")
def submit_answers(
    *,
    session: Session,
    actor: Actor,
    session_id: int,
    answers: dict[int, AnswerIn],
    violations: dict[int, str | None],
    now: dt.datetime | None = None,
) -> int:
    """A participant's (or a trainee's) own scoring of the session's call; once, before the deadline."""
    now = now or utcnow()
    staff_id = require_staff(actor)
    cal = _get(session, session_id)
    participant = _participant(session, cal, staff_id)
    if cal.kind == "training":
        if actor.role != "trainee" and participant is None:
            raise QAPermissionDenied("Training drills are for trainees.")
        if participant is None:
            participant = CalibrationParticipant(session_id=cal.id, staff_id=staff_id)  # type: ignore[arg-type]
    elif participant is None:
        raise QAPermissionDenied("You are not a participant of this session.")
    if participant.evaluation_id is not None:
        raise QAError("You have already submitted your answers for this session.")
    if now >= cal.deadline:
        raise QAError("The session's deadline has passed.")
    if _key(session, cal) is None:
        raise QAError("The expert key is not set yet: try again once the facilitator has scored it.")
    spec = load_version(session, cal.version_id)
    validate_answers(spec, answers, violations)
    result = score_of(spec, answers, violations)
    call = session.get(Call, cal.call_id)
    assert call is not None
    ev = Evaluation(
        call_id=cal.call_id,
        version_id=cal.version_id,
        evaluator_id=staff_id,
        evaluatee_id=call.caller_id,
        kind=cal.kind,
        status="submitted",
        session_id=cal.id,
        submitted_at=now,
        total=result.total,
        passed=result.passed,
        fatal=bool(result.fatal),
    )
    session.add(ev)
    session.flush()
    write_answers(session, ev.id, answers, violations)  # type: ignore[arg-type]
    participant.evaluation_id = ev.id
    session.add(participant)
    session.flush()
    audit.note(entity="calibration_session", entity_id=cal.id, after={"evaluation_id": ev.id, "total": ev.total})
    return ev.id  # type: ignore[return-value]


@query("qa.calibration.read")
def list_sessions(*, session: Session, actor: Actor, kind: str | None = None) -> pd.DataFrame:
    """Sessions the actor may see: trainees the drills, leads their own calibrations, supervisors all."""
    staff_id = actor.staff_id
    mine = (
        select(CalibrationParticipant.evaluation_id)
        .where(CalibrationParticipant.session_id == CalibrationSession.id, CalibrationParticipant.staff_id == staff_id)
        .correlate(CalibrationSession)
        .scalar_subquery()
    )
    is_participant = (
        select(CalibrationParticipant.id)
        .where(CalibrationParticipant.session_id == CalibrationSession.id, CalibrationParticipant.staff_id == staff_id)
        .correlate(CalibrationSession)
        .exists()
    )
    participants = (
        select(func.count(CalibrationParticipant.id))
        .where(CalibrationParticipant.session_id == CalibrationSession.id)
        .correlate(CalibrationSession)
        .scalar_subquery()
    )
    submitted = (
        select(func.count(CalibrationParticipant.id))
        .where(
            CalibrationParticipant.session_id == CalibrationSession.id,
            col(CalibrationParticipant.evaluation_id).is_not(None),
        )
        .correlate(CalibrationSession)
        .scalar_subquery()
    )
    has_key = (
        select(Evaluation.id)
        .where(Evaluation.session_id == CalibrationSession.id, Evaluation.kind == "expert_key")
        .correlate(CalibrationSession)
        .exists()
    )
    stmt = select(CalibrationSession, Call.reference, Call.stream, participants, submitted, has_key, mine).join(
        Call, Call.id == CalibrationSession.call_id
    )
    if kind:
        stmt = stmt.where(CalibrationSession.kind == kind)
    if actor.role == "trainee":
        stmt = stmt.where(CalibrationSession.kind == "training")
    elif not actor.is_supervisor:
        stmt = stmt.where(or_(is_participant, CalibrationSession.created_by == staff_id))
    rows = []
    for cal, ref, stream, n, done, key, my_eval in session.exec(
        stmt.order_by(col(CalibrationSession.deadline).desc())
    ).all():
        rows.append(
            {
                "id": cal.id,
                "kind": cal.kind,
                "title": cal.title,
                "stream": stream,
                "call": ref,
                "deadline": cal.deadline,
                "participants": int(n or 0),
                "submitted": int(done or 0),
                "key_set": bool(key),
                "mine_submitted": my_eval is not None,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "id",
            "kind",
            "title",
            "stream",
            "call",
            "deadline",
            "participants",
            "submitted",
            "key_set",
            "mine_submitted",
        ],
    )


@dataclass
class SessionView:
    session_id: int
    kind: str
    title: str
    deadline: dt.datetime
    call: CallView
    spec: VersionSpec
    key_set: bool
    is_participant: bool
    submitted: bool
    may_submit: bool
    may_set_key: bool
    may_see_results: bool
    open: bool
    participants: list[str] = field(default_factory=list)


@query("qa.calibration.read")
def session_detail(*, session: Session, actor: Actor, session_id: int, now: dt.datetime | None = None) -> SessionView:
    now = now or utcnow()
    cal = _get(session, session_id)
    participant = _participant(session, cal, actor.staff_id)
    if not _may_see(actor, cal, participant):
        raise QAPermissionDenied("You are not a participant of this session.")
    key = _key(session, cal)
    submitted = participant is not None and participant.evaluation_id is not None
    is_open = now < cal.deadline
    any_submitted = session.exec(
        select(func.count())
        .select_from(CalibrationParticipant)
        .where(CalibrationParticipant.session_id == cal.id, col(CalibrationParticipant.evaluation_id).is_not(None))
    ).one()
    names = session.exec(
        select(Staff.name)
        .join(CalibrationParticipant, CalibrationParticipant.staff_id == Staff.id)
        .where(CalibrationParticipant.session_id == cal.id)
        .order_by(Staff.name)
    ).all()
    takes_part = participant is not None or (cal.kind == "training" and actor.role == "trainee")
    return SessionView(
        session_id=cal.id,  # type: ignore[arg-type]
        kind=cal.kind,
        title=cal.title,
        deadline=cal.deadline,
        call=load_call(session, cal.call_id, actor=actor),
        spec=load_version(session, cal.version_id),
        key_set=key is not None,
        is_participant=takes_part,
        submitted=submitted,
        may_submit=takes_part and not submitted and is_open and key is not None,
        may_set_key=(actor.is_supervisor or cal.created_by == actor.staff_id) and not any_submitted,
        may_see_results=submitted or (actor.is_supervisor and actor.role != "trainee"),
        open=is_open,
        participants=list(names),
    )


def _graded(session: Session, ev: Evaluation) -> Graded:
    answers, marks = read_answers(session, ev.id)  # type: ignore[arg-type]
    person = session.get(Staff, ev.evaluator_id)
    return Graded(ev.evaluator_id, person.name if person else "?", answers, set(marks), ev.total)


@dataclass
class CalibrationResults:
    session_id: int
    kind: str
    key_total: float | None
    key_display: str
    agreement: pd.DataFrame
    deviation: pd.DataFrame
    mine: pd.DataFrame | None  # item-by-item against the key, for the actor's own submission
    my_total: float | None = None
    my_display: str = "—"
    key_steps: list[str] = field(default_factory=list)


@query("qa.calibration.read")
def session_results(*, session: Session, actor: Actor, session_id: int) -> CalibrationResults:
    """Blind until one's own submission: a participant who has not submitted is refused."""
    cal = _get(session, session_id)
    participant = _participant(session, cal, actor.staff_id)
    if not _may_see(actor, cal, participant):
        raise QAPermissionDenied("You are not a participant of this session.")
    own_submitted = participant is not None and participant.evaluation_id is not None
    facilitator = actor.is_supervisor and participant is None
    if not own_submitted and not facilitator:
        raise QAError("Submit your own answers first: the results stay hidden until then.")
    key_ev = _key(session, cal)
    if key_ev is None:
        raise QAError("The expert key is not set yet: try again once the facilitator has scored it.")
    spec = load_version(session, cal.version_id)
    key = _graded(session, key_ev)
    evs = session.exec(
        select(Evaluation)
        .join(CalibrationParticipant, CalibrationParticipant.evaluation_id == Evaluation.id)
        .where(CalibrationParticipant.session_id == cal.id)
        .order_by(Evaluation.id)
    ).all()
    graders = [_graded(session, ev) for ev in evs]
    if actor.role == "trainee":
        graders = [g for g in graders if g.staff_id == actor.staff_id]  # drills: only one's own comparison
    mine = next((g for g in graders if g.staff_id == actor.staff_id), None)
    return CalibrationResults(
        session_id=cal.id,  # type: ignore[arg-type]
        kind=cal.kind,
        key_total=key.total,
        key_display="—" if key.total is None else str(round_half_up(key.total)),
        agreement=agreement_table(spec, key, graders),
        deviation=deviation_table(spec, key, graders),
        mine=item_by_item(spec, key, mine) if mine else None,
        my_total=mine.total if mine else None,
        my_display="—" if mine is None or mine.total is None else str(round_half_up(mine.total)),
        key_steps=explain_score(spec, key.answers, key.marks).steps,
    )


@query("qa.calibration.manage")
def session_choices(*, session: Session, actor: Actor, kind: str, stream: str | None = None) -> dict[str, Any]:
    """Calls and people to build a session from: recent transcribed calls and the possible participants."""
    training = kind == "training"
    stmt = (
        select(Call.id, Call.reference, Call.stream, Call.call_type, Staff.name)
        .join(Staff, Staff.id == Call.caller_id)
        .join(Customer, Customer.id == Call.customer_id)
        .where(col(Call.transcript).is_not(None), Call.outcome == "connected")
    )
    if training:
        stmt = stmt.where(or_(Customer.is_training == True, Staff.is_training == True))  # noqa: E712
    else:
        stmt = stmt.where(Customer.is_training == False, Staff.is_training == False)  # noqa: E712
    if stream:
        stmt = stmt.where(Call.stream == stream)
    calls = session.exec(stmt.order_by(col(Call.started_at).desc()).limit(200)).all()
    roles = ("trainee",) if training else GRADER_ROLES
    people = session.exec(
        select(Staff.id, Staff.name, Staff.role)
        .where(col(Staff.role).in_(roles), Staff.active == True)  # noqa: E712
        .order_by(Staff.role, Staff.name)
    ).all()
    return {
        "calls": [(cid, f"{ref} · {label(st)} · {label(ct)} · {name}") for cid, ref, st, ct, name in calls],
        "people": [(pid, f"{name} ({t(role)})") for pid, name, role in people],
    }


@query("qa.calibration.read")
def my_answers(*, session: Session, actor: Actor, session_id: int) -> tuple[dict[int, AnswerIn], dict[int, Any]]:
    """The actor's own submitted answers (or the key, for its setter) to show read-only."""
    cal = _get(session, session_id)
    participant = _participant(session, cal, actor.staff_id)
    if participant is None or participant.evaluation_id is None:
        return {}, {}
    return read_answers(session, participant.evaluation_id)

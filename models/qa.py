"""Scorecards, evaluations, disputes, calibration, coaching and floor discipline."""

import datetime as dt
from typing import Optional

from sqlalchemy import CheckConstraint, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import one_of, utc_field

SCORECARD_STATUSES = ("draft", "active", "retired")
ITEM_KINDS = ("yes_no", "scale")
VIOLATION_RULES = ("fail_all", "fail_section")
EVALUATION_STATUSES = ("draft", "submitted", "acknowledged", "disputed", "resolved")
EVALUATION_KINDS = ("regular", "calibration", "expert_key", "training")
DISPUTE_STATUSES = ("open", "upheld", "adjusted", "overturned")
SESSION_KINDS = ("calibration", "training")


class Scorecard(SQLModel, table=True):
    __table_args__ = (one_of("stream", ("maintenance", "ob"), "stream"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    stream: str = Field(max_length=16)
    name_en: str = Field(max_length=120)
    name_zh: str = Field(max_length=120)


class ScorecardVersion(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("scorecard_id", "version", name="uq_scorecardversion_card_version"),
        one_of("status", SCORECARD_STATUSES, "status"),
        CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark_range"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    scorecard_id: int = Field(foreign_key="scorecard.id")
    version: int
    status: str = Field(default="draft", max_length=10)
    pass_mark: float = 80.0
    created_at: dt.datetime = utc_field(nullable=False, default_now=True)
    activated_at: Optional[dt.datetime] = utc_field()
    retired_at: Optional[dt.datetime] = utc_field()


class ScorecardSection(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("version_id", "code", name="uq_scorecardsection_version_code"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="scorecardversion.id")
    code: str = Field(max_length=40)
    name_en: str = Field(max_length=120)
    name_zh: str = Field(max_length=120)
    weight: float
    position: int = 0


class ScorecardItem(SQLModel, table=True):
    __table_args__ = (
        one_of("kind", ITEM_KINDS, "kind"),
        CheckConstraint("max_points >= 1", name="max_points_positive"),
        UniqueConstraint("section_id", "code", name="uq_scorecarditem_section_code"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    section_id: int = Field(foreign_key="scorecardsection.id", index=True)
    code: str = Field(max_length=40)
    text_en: str = Field(max_length=300)
    text_zh: str = Field(max_length=300)
    kind: str = Field(max_length=8)
    max_points: int
    na_allowed: bool = False
    guidance_en: Optional[str] = Field(default=None, max_length=500)
    guidance_zh: Optional[str] = Field(default=None, max_length=500)
    position: int = 0


class ScorecardViolation(SQLModel, table=True):
    __table_args__ = (
        one_of("rule", VIOLATION_RULES, "rule"),
        CheckConstraint("rule = 'fail_all' OR section_id IS NOT NULL", name="section_for_fail_section"),
        UniqueConstraint("version_id", "code", name="uq_scorecardviolation_version_code"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="scorecardversion.id")
    code: str = Field(max_length=40)
    text_en: str = Field(max_length=300)
    text_zh: str = Field(max_length=300)
    rule: str = Field(max_length=16)
    section_id: Optional[int] = Field(default=None, foreign_key="scorecardsection.id")


class Evaluation(SQLModel, table=True):
    __table_args__ = (
        one_of("status", EVALUATION_STATUSES, "status"),
        one_of("kind", EVALUATION_KINDS, "kind"),
        CheckConstraint("total IS NULL OR (total >= 0 AND total <= 100)", name="total_range"),
        Index("ix_evaluation_evaluatee_status", "evaluatee_id", "status"),
        Index("ix_evaluation_call", "call_id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id")
    version_id: int = Field(foreign_key="scorecardversion.id")
    evaluator_id: int = Field(foreign_key="staff.id", index=True)
    evaluatee_id: int = Field(foreign_key="staff.id")
    kind: str = Field(default="regular", max_length=12)
    status: str = Field(default="draft", max_length=12)
    total: Optional[float] = None  # unrounded; None = not scored (all N/A)
    passed: Optional[bool] = None
    fatal: bool = False
    void: bool = False
    revision: int = 1
    session_id: Optional[int] = Field(default=None, foreign_key="calibrationsession.id")
    created_at: dt.datetime = utc_field(nullable=False, default_now=True)
    submitted_at: Optional[dt.datetime] = utc_field()
    acknowledged_at: Optional[dt.datetime] = utc_field()
    auto_acknowledged: bool = False


class EvaluationAnswer(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("evaluation_id", "item_id", name="uq_evaluationanswer_eval_item"),
        CheckConstraint("na OR points IS NOT NULL", name="points_unless_na"),
        CheckConstraint("points IS NULL OR points >= 0", name="points_nonneg"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    item_id: int = Field(foreign_key="scorecarditem.id")
    points: Optional[int] = None
    na: bool = False
    comment: Optional[str] = Field(default=None, max_length=1000)


class EvaluationViolationMark(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("evaluation_id", "violation_id", name="uq_evalviolation_eval_violation"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    violation_id: int = Field(foreign_key="scorecardviolation.id")
    comment: Optional[str] = Field(default=None, max_length=1000)


class EvaluationRevision(SQLModel, table=True):
    """A snapshot of an evaluation before it was changed (e.g. adjusted on dispute)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    revision: int
    snapshot: str = Field(sa_type=Text)  # JSON: answers, violations, total, passed
    at: dt.datetime = utc_field(nullable=False, default_now=True)
    by_user_id: Optional[int] = Field(default=None, foreign_key="user.id")
    reason: Optional[str] = Field(default=None, max_length=500)


class Dispute(SQLModel, table=True):
    __table_args__ = (one_of("status", DISPUTE_STATUSES, "status"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    raised_by: int = Field(foreign_key="staff.id")
    raised_at: dt.datetime = utc_field(nullable=False)
    item_ids: str = Field(default="[]", max_length=2000)  # JSON list of disputed item ids
    reason: str = Field(max_length=2000)
    status: str = Field(default="open", max_length=12)
    resolved_by: Optional[int] = Field(default=None, foreign_key="staff.id")
    resolved_at: Optional[dt.datetime] = utc_field()
    resolution_note: Optional[str] = Field(default=None, max_length=2000)


class CalibrationSession(SQLModel, table=True):
    """A calibration or training session; its expert key is the evaluation of kind expert_key."""

    __table_args__ = (one_of("kind", SESSION_KINDS, "kind"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(default="calibration", max_length=12)
    title: str = Field(max_length=200)
    call_id: int = Field(foreign_key="call.id")
    version_id: int = Field(foreign_key="scorecardversion.id")
    deadline: dt.datetime = utc_field(nullable=False)
    created_by: Optional[int] = Field(default=None, foreign_key="staff.id")
    created_at: dt.datetime = utc_field(nullable=False, default_now=True)


class CalibrationParticipant(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("session_id", "staff_id", name="uq_calparticipant_session_staff"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="calibrationsession.id", index=True)
    staff_id: int = Field(foreign_key="staff.id")
    evaluation_id: Optional[int] = Field(default=None, foreign_key="evaluation.id")


class CoachingNote(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    author_id: int = Field(foreign_key="staff.id")
    at: dt.datetime = utc_field(nullable=False, default_now=True)
    text: str = Field(sa_type=Text)
    evaluation_id: Optional[int] = Field(default=None, foreign_key="evaluation.id")
    focus_item_ids: str = Field(default="[]", max_length=2000)
    follow_up_on: Optional[dt.date] = None
    follow_up_done: bool = False
    acknowledged_at: Optional[dt.datetime] = utc_field()


class DisciplineRule(SQLModel, table=True):
    __table_args__ = (CheckConstraint("points >= 0", name="points_nonneg"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=8)
    category: str = Field(max_length=32)
    text_en: str = Field(max_length=500)
    text_zh: str = Field(max_length=500)
    points: int = 0
    source: Optional[str] = Field(default=None, max_length=32)
    active: bool = True


class DisciplineEvent(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("points >= 0", name="points_nonneg"),
        Index("ix_disciplineevent_staff_at", "staff_id", "at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    rule_id: int = Field(foreign_key="disciplinerule.id")
    staff_id: int = Field(foreign_key="staff.id")
    recorded_by: int = Field(foreign_key="staff.id")
    at: dt.datetime = utc_field(nullable=False)
    points: int = 0  # copied from the rule when recorded
    note: Optional[str] = Field(default=None, max_length=1000)


# ---------------------------------------------------------------- KPI rollups (derived, rebuilt at will)


class QaCallDay(SQLModel, table=True):
    """Calls per caller, Asia/Shanghai day and stream (attempts, connected, success), kept by console.qa.rollups."""

    __table_args__ = (Index("ix_qacallday_day_stream", "day", "stream"),)

    caller_id: int = Field(foreign_key="staff.id", primary_key=True)
    day: dt.date = Field(primary_key=True)
    stream: str = Field(max_length=16, primary_key=True)
    attempts: int = 0
    connected: int = 0
    success: int = 0


class QaEvalFact(SQLModel, table=True):
    """The never-changing facts of a submitted regular evaluation: who, stream, the call's day, tier at call."""

    __table_args__ = (Index("ix_qaevalfact_day_stream_evaluatee", "call_day", "stream", "evaluatee_id"),)

    evaluation_id: int = Field(foreign_key="evaluation.id", primary_key=True)
    evaluatee_id: int = Field(foreign_key="staff.id")
    stream: str = Field(max_length=16)
    call_day: dt.date
    tier_rank: int = 0


class QaEvalSection(SQLModel, table=True):
    """Earned and possible points per section of a submitted regular evaluation (N/A left out), and whether
    a fail_section violation zeroed it. Deleted and rebuilt when a dispute adjusts the answers."""

    evaluation_id: int = Field(foreign_key="evaluation.id", primary_key=True)
    section_id: int = Field(foreign_key="scorecardsection.id", primary_key=True)
    earned: int = 0
    possible: int = 0
    zeroed: bool = False


class QaRollupState(SQLModel, table=True):
    """How far the call rollup has got (one row): the highest call id and the call count it covers."""

    id: int = Field(primary_key=True)
    call_max_id: int = 0
    call_count: int = 0
    refreshed_at: Optional[dt.datetime] = utc_field()

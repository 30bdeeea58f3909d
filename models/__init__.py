"""SQLModel tables, one module per domain. Importing this package registers every table."""

from models.assignment import Assignment, AssignmentBatch
from models.base import UTCDateTime, metadata
from models.customers import Call, Contact, Customer, Purchase
from models.people import Staff, Team, User
from models.qa import (
    CalibrationParticipant,
    CalibrationSession,
    CoachingNote,
    DisciplineEvent,
    DisciplineRule,
    Dispute,
    Evaluation,
    EvaluationAnswer,
    EvaluationRevision,
    EvaluationViolationMark,
    Scorecard,
    ScorecardItem,
    ScorecardSection,
    ScorecardVersion,
    ScorecardViolation,
)
from models.reception import (
    ChecklistTemplate,
    Department,
    Evidence,
    FollowUp,
    GuardPost,
    Incident,
    ReceptionLevel,
    Run,
    RunItem,
    TemplateItem,
    Visit,
)
from models.system import AppMeta, AuditLog, Job
from models.tiers import TierChange, TierLevel, TierReview

__all__ = [
    "AppMeta", "Assignment", "AssignmentBatch", "AuditLog", "CalibrationParticipant", "CalibrationSession",
    "Call", "ChecklistTemplate", "CoachingNote", "Contact", "Customer", "Department", "DisciplineEvent",
    "DisciplineRule", "Dispute", "Evaluation", "EvaluationAnswer", "EvaluationRevision",
    "EvaluationViolationMark", "Evidence", "FollowUp", "GuardPost", "Incident", "Job", "Purchase",
    "ReceptionLevel", "Run", "RunItem", "Scorecard", "ScorecardItem", "ScorecardSection", "ScorecardVersion",
    "ScorecardViolation", "Staff", "Team", "TemplateItem", "TierChange", "TierLevel", "TierReview", "User",
    "UTCDateTime", "Visit", "metadata",
]

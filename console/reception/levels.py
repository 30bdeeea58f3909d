"""Reception levels (000 L9-87): staffing defaults per level, guard posts, and per-visit staffing validation.

A visit may change its own staffing. The one rule linking the numbers (000 L51, L65: 15 = 3 × 5, 12 = 3 × 4):
on-duty staff = shift groups × posts, wherever both shift groups and posts are set (a post count of 0 means
"no named posts", the level-3 cordon zone, so the rule does not apply there).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from sqlmodel import Session, select

from console.audit import query
from console.i18n import t
from console.permissions import Actor
from console.reception.common import ReceptionError
from models import GuardPost, ReceptionLevel

MAX_STAFF = 500


@dataclass(frozen=True)
class Staffing:
    reinforcements: int | None = None
    on_duty: int | None = None
    shift_groups: int | None = None
    rotation_hours: int | None = None
    post_count: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return asdict(self)


@dataclass(frozen=True)
class PostInfo:
    number: int
    location_en: str
    location_zh: str
    duty_en: str
    duty_zh: str


@dataclass(frozen=True)
class LevelInfo:
    level: int
    name_en: str
    name_zh: str
    applies_to_en: str
    applies_to_zh: str
    staffing: Staffing
    cordon_zone: bool
    posts: list[PostInfo] = field(default_factory=list)


def _staffing(row: ReceptionLevel) -> Staffing:
    return Staffing(
        reinforcements=row.reinforcements,
        on_duty=row.on_duty,
        shift_groups=row.shift_groups,
        rotation_hours=row.rotation_hours,
        post_count=row.post_count,
    )


def level_info(session: Session, level: int) -> LevelInfo:
    row = session.exec(select(ReceptionLevel).where(ReceptionLevel.level == level)).first()
    if row is None:
        raise ReceptionError("Reception level {level} does not exist.", level=level)
    posts = session.exec(select(GuardPost).where(GuardPost.level_id == row.id).order_by(GuardPost.number)).all()
    return LevelInfo(
        level=row.level,
        name_en=row.name_en,
        name_zh=row.name_zh,
        applies_to_en=row.applies_to_en,
        applies_to_zh=row.applies_to_zh,
        staffing=_staffing(row),
        cordon_zone=row.cordon_zone,
        posts=[PostInfo(p.number, p.location_en, p.location_zh, p.duty_en, p.duty_zh) for p in posts],
    )


def level_defaults(session: Session, level: int) -> Staffing:
    return level_info(session, level).staffing


@query("reception.read")
def list_levels(*, session: Session, actor: Actor) -> list[LevelInfo]:
    levels = session.exec(select(ReceptionLevel.level).order_by(ReceptionLevel.level)).all()
    return [level_info(session, lvl) for lvl in levels]


def validate_staffing(staffing: Staffing) -> Staffing:
    """Check a visit's staffing; returns it with on-duty filled in from groups × posts when left blank.

    Raises ReceptionError with a message naming the broken rule.
    """
    labels = {
        "reinforcements": "Reinforcements",
        "on_duty": "On duty",
        "shift_groups": "Shift groups",
        "rotation_hours": "Rotation (h)",
        "post_count": "Posts",
    }
    for name, value in staffing.as_dict().items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ReceptionError("{field} must be a whole number.", field=t(labels[name]))
        if value < 0 or value > MAX_STAFF:
            raise ReceptionError("{field} must be between 0 and {limit}.", field=t(labels[name]), limit=MAX_STAFF)
    if staffing.shift_groups is not None and staffing.shift_groups < 1:
        raise ReceptionError("Shift groups must be at least 1 when set.")
    if staffing.rotation_hours is not None and not 1 <= staffing.rotation_hours <= 24:
        raise ReceptionError("Rotation must be between 1 and 24 hours.")
    groups, posts = staffing.shift_groups, staffing.post_count
    if groups and posts:
        expected = groups * posts
        if staffing.on_duty is None:
            return replace(staffing, on_duty=expected)
        if staffing.on_duty != expected:
            raise ReceptionError(
                "On-duty staff must equal shift groups × posts: {groups} × {posts} = {expected}, not {on_duty}.",
                groups=groups,
                posts=posts,
                expected=expected,
                on_duty=staffing.on_duty,
            )
    return staffing

"""Shared state of one demo generation: scale, seed, as-of, reference data read from the database,
time helpers, name pools, and what earlier phases produced (staff, users, customers).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from faker import Faker
from sqlalchemy import text
from sqlalchemy.engine import Connection

from console.scoring import ItemSpec, SectionSpec, ViolationSpec
from seed.bulk import Storage, Writer
from seed.scales import Scale

Progress = Callable[[str, int, int], None]
LOCAL_OFFSET = dt.timedelta(hours=8)  # Asia/Shanghai has been UTC+8 without DST since 1991
REGIONS = ("广州", "深圳", "东莞", "佛山", "珠海", "惠州", "中山", "江门")
MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "176",
    "177",
    "180",
    "181",
    "182",
    "185",
    "186",
    "187",
    "188",
    "189",
    "199",
)


@dataclass(frozen=True)
class TierRef:
    rank: int
    code: str
    min_spend_fen: int | None
    min_purchases: int | None
    require_both: bool
    units: int
    contact_days: int | None
    designation_only: bool


@dataclass
class ScorecardRef:
    stream: str
    version_id: int
    pass_mark: float
    sections: list[SectionSpec]
    items: list[ItemSpec]
    violations: list[ViolationSpec]
    section_names: dict[str, str]
    item_codes: dict[int, str]


@dataclass(frozen=True)
class TemplateItemRef:
    id: int
    seq: int
    phase: str
    phase_en: str
    phase_zh: str
    text_en: str
    text_zh: str
    department: str
    timing: str
    anchor: str | None
    offset_minutes: int | None
    levels: tuple[int, ...]
    required: bool
    critical: bool
    evidence_required: bool


@dataclass
class TemplateRef:
    code: str
    version: int
    items: list[TemplateItemRef]


@dataclass
class Reference:
    tiers: dict[int, TierRef]
    scorecards: dict[str, ScorecardRef]
    templates: dict[str, TemplateRef]
    departments: list[str]
    discipline: list[tuple[int, str, int]]  # id, code, points
    levels: dict[int, dict[str, Any]]

    def units(self, rank: int) -> int:
        return self.tiers[rank].units

    def qualified_rank(self, count: int, spend_fen: int) -> int:
        """The highest threshold tier the trailing-window purchases qualify for."""
        best = 0
        for rank, tier in sorted(self.tiers.items()):
            if rank == 0 or tier.designation_only:
                continue
            if qualifies(tier, count, spend_fen):
                best = rank
        return best


def qualifies(tier: TierRef, count: int, spend_fen: int) -> bool:
    conds = []
    if tier.min_spend_fen is not None:
        conds.append(spend_fen >= tier.min_spend_fen)
    if tier.min_purchases is not None:
        conds.append(count >= tier.min_purchases)
    if not conds:
        return tier.rank == 0
    return all(conds) if tier.require_both else any(conds)


@dataclass
class StaffRec:
    id: int
    code: str
    name: str
    role: str
    team_id: int | None = None
    stream: str | None = None
    department: str | None = None
    level: str | None = None
    capacity: int = 1000
    region: str | None = None
    phone: str | None = None
    active: bool = True
    leave_start: dt.date | None = None
    leave_end: dt.date | None = None
    exit_date: dt.date | None = None
    is_training: bool = False
    weight: float = 1.0  # target utilisation weight (managers)


@dataclass
class Ctx:
    conn: Connection
    scale: Scale
    seed: int
    as_of: dt.date
    ref: Reference
    writer: Writer
    store: Storage
    progress: Progress | None
    fake: Faker = field(init=False)
    as_of_start: dt.datetime = field(init=False)  # where the as-of day starts (naive UTC): history ends here
    last_names: list[str] = field(default_factory=list)
    first_names: list[str] = field(default_factory=list)
    area_codes: list[str] = field(default_factory=list)
    # filled by the phases
    staff: list[StaffRec] = field(default_factory=list)
    teams: list[tuple[int, str, str]] = field(default_factory=list)  # id, code, stream
    leads: dict[int, int] = field(default_factory=dict)  # team id -> lead staff id
    users: dict[str, int] = field(default_factory=dict)  # username -> user id
    user_staff: dict[str, int] = field(default_factory=dict)  # username -> staff id
    roles: dict[str, Any] = field(default_factory=dict)  # scenario people and customers
    data: dict[str, Any] = field(default_factory=dict)  # hand-over between phases

    def __post_init__(self) -> None:
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(self.seed)
        pool = self.rng("names")
        self.last_names = [self.fake.last_name() for _ in range(300)]
        self.first_names = [self.fake.first_name() for _ in range(1200)]
        self.area_codes = [self.fake.ssn()[:6] for _ in range(60)]
        pool.shuffle(self.first_names)
        self.as_of_start = self.local(self.as_of, 0)

    # -- randomness -----------------------------------------------------------------------------------
    def rng(self, phase: str) -> random.Random:
        """An independent, reproducible stream per phase (string seeds hash with SHA-512, not hash())."""
        return random.Random(f"vip-console-demo:{self.seed}:{phase}")

    def name(self, rng: random.Random) -> str:
        return rng.choice(self.last_names) + rng.choice(self.first_names)

    def phone(self, rng: random.Random) -> str:
        return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"

    def id_number(self, rng: random.Random, birthday: dt.date) -> str:
        body = f"{rng.choice(self.area_codes)}{birthday:%Y%m%d}{rng.randrange(1000):03d}"
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
        return body + check

    # -- time -------------------------------------------------------------------------------------------
    @staticmethod
    def local(day: dt.date, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
        """A Shanghai wall-clock time as a naive UTC datetime."""
        return dt.datetime(day.year, day.month, day.day, hour, minute, second) - LOCAL_OFFSET

    @staticmethod
    def local_day(value: dt.datetime) -> dt.date:
        return (value + LOCAL_OFFSET).date()

    def ts(self, value: dt.datetime | None) -> Any:
        return self.store.ts(value)

    def day(self, value: dt.date | None) -> Any:
        return self.store.day(value)

    def flag(self, value: bool) -> Any:
        return self.store.flag(value)

    # -- people -----------------------------------------------------------------------------------------
    def staff_by_id(self, staff_id: int) -> StaffRec:
        return self.staff[staff_id - 1]

    # -- progress ---------------------------------------------------------------------------------------
    def report(self, phase: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(phase, done, total)


def load_reference(conn: Connection, as_of: dt.date) -> Reference:
    """Read the reference data the generator builds on (loaded by console.migrate.upgrade)."""
    tiers: dict[int, TierRef] = {}
    rows = conn.execute(
        text(
            "SELECT rank, code, min_spend_fen, min_purchases, require_both, units, contact_days, designation_only,"
            " effective_from FROM tierlevel ORDER BY rank, effective_from"
        )
    ).all()
    for r in rows:
        eff = r.effective_from if isinstance(r.effective_from, dt.date) else dt.date.fromisoformat(r.effective_from)
        if r.rank in tiers and eff > as_of:
            continue
        tiers[r.rank] = TierRef(
            rank=r.rank,
            code=r.code,
            min_spend_fen=r.min_spend_fen,
            min_purchases=r.min_purchases,
            require_both=bool(r.require_both),
            units=r.units,
            contact_days=r.contact_days,
            designation_only=bool(r.designation_only),
        )
    if sorted(tiers) != [0, 1, 2, 3, 4, 5]:
        raise RuntimeError("the tier ladder must have ranks 0-5 before demo data can be generated")

    scorecards: dict[str, ScorecardRef] = {}
    versions = conn.execute(
        text(
            "SELECT v.id, v.pass_mark, s.stream FROM scorecardversion v JOIN scorecard s ON s.id = v.scorecard_id"
            " WHERE v.status = 'active' ORDER BY s.stream, v.version DESC, v.id DESC"
        )
    ).all()
    for v in versions:
        if v.stream in scorecards:
            continue
        secs = conn.execute(
            text("SELECT id, code, weight, name_en FROM scorecardsection WHERE version_id = :v ORDER BY position, id"),
            {"v": v.id},
        ).all()
        sec_code = {s.id: s.code for s in secs}
        items = conn.execute(
            text(
                "SELECT i.id, i.section_id, i.code, i.kind, i.max_points, i.na_allowed FROM scorecarditem i"
                " JOIN scorecardsection s ON s.id = i.section_id WHERE s.version_id = :v"
                " ORDER BY s.position, s.id, i.position, i.id"
            ),
            {"v": v.id},
        ).all()
        vios = conn.execute(
            text("SELECT id, rule, section_id FROM scorecardviolation WHERE version_id = :v ORDER BY id"),
            {"v": v.id},
        ).all()
        scorecards[v.stream] = ScorecardRef(
            stream=v.stream,
            version_id=v.id,
            pass_mark=float(v.pass_mark),
            sections=[SectionSpec(s.code, float(s.weight)) for s in secs],
            items=[
                ItemSpec(i.id, sec_code[i.section_id], int(i.max_points), i.kind, bool(i.na_allowed)) for i in items
            ],
            violations=[
                ViolationSpec(x.id, x.rule, sec_code.get(x.section_id) if x.section_id else None) for x in vios
            ],
            section_names={s.code: s.name_en for s in secs},
            item_codes={i.id: i.code for i in items},
        )
    for stream in ("maintenance", "ob"):
        if stream not in scorecards:
            raise RuntimeError(f"no active {stream} scorecard: demo data needs one")

    templates: dict[str, TemplateRef] = {}
    tpls = conn.execute(
        text("SELECT id, code, version FROM checklisttemplate WHERE status = 'active' ORDER BY code, version DESC")
    ).all()
    for t in tpls:
        if t.code in templates:
            continue
        items_t = conn.execute(
            text(
                "SELECT id, seq, phase, phase_en, phase_zh, text_en, text_zh, department, timing, anchor,"
                " offset_minutes, levels, required, critical, evidence_required FROM templateitem"
                " WHERE template_id = :t ORDER BY seq"
            ),
            {"t": t.id},
        ).all()
        templates[t.code] = TemplateRef(
            code=t.code,
            version=t.version,
            items=[
                TemplateItemRef(
                    id=i.id,
                    seq=i.seq,
                    phase=i.phase,
                    phase_en=i.phase_en,
                    phase_zh=i.phase_zh,
                    text_en=i.text_en,
                    text_zh=i.text_zh,
                    department=i.department,
                    timing=i.timing,
                    anchor=i.anchor,
                    offset_minutes=i.offset_minutes,
                    levels=tuple(int(x) for x in str(i.levels or "1,2,3").split(",") if x.strip()),
                    required=bool(i.required),
                    critical=bool(i.critical),
                    evidence_required=bool(i.evidence_required),
                )
                for i in items_t
            ],
        )
    departments = [r.code for r in conn.execute(text("SELECT code FROM department ORDER BY id")).all()]
    discipline = [
        (r.id, r.code, int(r.points))
        for r in conn.execute(
            text("SELECT id, code, points FROM disciplinerule WHERE active = :a ORDER BY id"), {"a": True}
        ).all()
    ]
    levels: dict[int, dict[str, Any]] = {}
    for r in conn.execute(
        text(
            "SELECT level, reinforcements, on_duty, shift_groups, rotation_hours, post_count, cordon_zone"
            " FROM receptionlevel ORDER BY level"
        )
    ).all():
        levels[r.level] = dict(r._mapping)
    return Reference(
        tiers=tiers,
        scorecards=scorecards,
        templates=templates,
        departments=departments,
        discipline=discipline,
        levels=levels,
    )

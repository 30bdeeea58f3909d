"""QA score math (SPEC §4), as a pure function with every step kept for display."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class ItemSpec:
    item_id: int
    section: str
    max_points: int
    kind: str = "scale"  # yes_no | scale
    na_allowed: bool = False


@dataclass(frozen=True)
class SectionSpec:
    code: str
    weight: float


@dataclass(frozen=True)
class ViolationSpec:
    violation_id: int
    rule: str  # fail_all | fail_section
    section: str | None = None


@dataclass(frozen=True)
class Answer:
    points: int | None = None
    na: bool = False


@dataclass
class SectionResult:
    code: str
    weight: float
    earned: int
    possible: int
    percent: float | None  # None = dropped (no applicable item)
    zeroed: bool = False


@dataclass
class ScoreResult:
    sections: list[SectionResult] = field(default_factory=list)
    total: float | None = None  # unrounded, None = not scored
    passed: bool | None = None
    fail_all: bool = False
    fatal: bool = False
    pass_mark: float = 80.0

    @property
    def scored(self) -> bool:
        return self.total is not None

    @property
    def display_total(self) -> str:
        return "—" if self.total is None else str(round_half_up(self.total))


class ScoreError(ValueError):
    pass


def round_half_up(value: float, places: int = 1) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def compute_score(
    sections: list[SectionSpec],
    items: list[ItemSpec],
    answers: dict[int, Answer],
    violations: list[ViolationSpec],
    marked: set[int],
    pass_mark: float = 80.0,
) -> ScoreResult:
    """Steps 1-5 of SPEC §4. Unanswered items are an error; N/A only where allowed."""
    result = ScoreResult(pass_mark=pass_mark)
    by_section: dict[str, list[ItemSpec]] = {s.code: [] for s in sections}
    for item in items:
        by_section.setdefault(item.section, []).append(item)
    fail_sections = {v.section for v in violations if v.violation_id in marked and v.rule == "fail_section"}
    result.fail_all = any(v.violation_id in marked and v.rule == "fail_all" for v in violations)
    result.fatal = any(v.violation_id in marked for v in violations)
    weighted = 0.0
    weights = 0.0
    for sec in sections:
        earned = possible = 0
        for item in by_section.get(sec.code, []):
            ans = answers.get(item.item_id)
            if ans is None:
                raise ScoreError(f"item {item.item_id} has no answer")
            if ans.na:
                if not item.na_allowed:
                    raise ScoreError(f"item {item.item_id} does not allow N/A")
                continue
            if ans.points is None or not 0 <= ans.points <= item.max_points:
                raise ScoreError(f"item {item.item_id}: points must be 0..{item.max_points}")
            if item.kind == "yes_no" and ans.points not in (0, item.max_points):
                raise ScoreError(f"item {item.item_id} is yes/no: 0 or {item.max_points}")
            earned += ans.points
            possible += item.max_points
        if possible == 0:
            result.sections.append(SectionResult(sec.code, sec.weight, 0, 0, None))
            continue
        zeroed = sec.code in fail_sections
        percent = 0.0 if zeroed else earned / possible
        result.sections.append(SectionResult(sec.code, sec.weight, earned, possible, percent, zeroed))
        weighted += percent * sec.weight
        weights += sec.weight
    if weights == 0:
        return result  # all N/A: not scored
    total = weighted / weights * 100
    if result.fail_all:
        total = 0.0
    result.total = total
    result.passed = total >= pass_mark and not result.fail_all
    return result

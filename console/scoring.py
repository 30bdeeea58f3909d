"""QA score math (SPEC §4), as a pure function with every step kept for display."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


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
    exact_total: Fraction | None = None  # the same total as an exact fraction (no float noise)

    @property
    def scored(self) -> bool:
        return self.total is not None

    @property
    def display_total(self) -> str:
        if self.total is None:
            return "—"
        if self.exact_total is not None:
            return str(round_half_up_exact(self.exact_total))
        return str(round_half_up(self.total))


class ScoreError(ValueError):
    pass


def round_half_up(value: float, places: int = 1) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def round_half_up_exact(value: Fraction, places: int = 1) -> Decimal:
    """Half-up rounding of an exact fraction (79.95 -> 80.0 even where float arithmetic gives 79.9499...)."""
    scaled = value * 10**places
    floor = scaled.numerator // scaled.denominator
    rounded = floor + 1 if scaled - floor >= Fraction(1, 2) else floor
    return Decimal(rounded).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def _exact(value: float) -> Fraction:
    """A weight or pass mark as the decimal the admin typed (12.5 -> 25/2, 0.1 -> 1/10)."""
    return Fraction(repr(float(value)))


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
    weighted = Fraction(0)
    weights = Fraction(0)
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
        exact_percent = Fraction(0) if zeroed else Fraction(earned, possible)
        result.sections.append(SectionResult(sec.code, sec.weight, earned, possible, float(exact_percent), zeroed))
        weighted += exact_percent * _exact(sec.weight)
        weights += _exact(sec.weight)
    if weights == 0:
        return result  # all N/A: not scored
    # Exact arithmetic, so an exact 80 is never 79.999... and 79.95 always displays as 80.0.
    total = weighted / weights * 100
    if result.fail_all:
        total = Fraction(0)
    result.exact_total = total
    result.total = float(total)
    result.passed = total >= _exact(pass_mark) and not result.fail_all
    return result

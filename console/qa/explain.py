"""The score math of SPEC §4, step by step, for the form (live) and every evaluation afterwards."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from console.i18n import pick, t
from console.qa.common import VersionSpec
from console.scoring import Answer, ScoreResult, compute_score, round_half_up_exact


@dataclass(frozen=True)
class AnswerIn:
    """One item's answer as the form gives it: points, or N/A; a comment either way."""

    points: int | None = None
    na: bool = False
    comment: str | None = None

    @property
    def answered(self) -> bool:
        return self.na or self.points is not None


@dataclass
class ScoreExplanation:
    table: pd.DataFrame  # one row per section: section, weight, earned, possible, percent, contribution, note
    steps: list[str] = field(default_factory=list)
    total: float | None = None
    display_total: str = "—"
    passed: bool | None = None
    fail_all: bool = False
    fatal: bool = False
    provisional: bool = False  # some items unanswered: the figures cover the answered ones
    unanswered: int = 0


def _fmt(value: float, places: int = 4) -> str:
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return text or "0"


def explain_score(spec: VersionSpec, answers: dict[int, AnswerIn], marked: set[int]) -> ScoreExplanation:
    """Run compute_score on the answered items and describe each step in the current language."""
    answered = {iid: a for iid, a in answers.items() if a.answered}
    items = [i for i in spec.item_specs if i.item_id in answered]
    unanswered = len(spec.items) - len(items)
    result: ScoreResult = compute_score(
        spec.section_specs,
        items,
        {iid: Answer(points=a.points, na=a.na) for iid, a in answered.items()},
        spec.violation_specs,
        set(marked),
        spec.pass_mark,
    )
    names = {s.code: pick(s, "name") for s in spec.sections}
    marked_violations = [v for v in spec.violations if v.violation_id in marked]
    zeroed_by = {v.section: pick(v, "text") for v in marked_violations if v.rule == "fail_section"}
    answered_sections = {spec.item(iid).section for iid in answered}
    rows = []
    for sec in result.sections:
        if sec.percent is None and sec.code not in answered_sections:
            note = t("not answered yet")
        elif sec.percent is None:
            note = t("dropped: no applicable item")
        elif sec.zeroed:
            note = t("set to 0 % by: {violation}", violation=zeroed_by.get(sec.code, ""))
        else:
            note = ""
        rows.append(
            {
                "section": names.get(sec.code, sec.code),
                "weight": sec.weight,
                "points": f"{sec.earned}/{sec.possible}" if sec.possible else "—",
                "earned": sec.earned,
                "possible": sec.possible,
                "percent": None if sec.percent is None else sec.percent,
                "contribution": None if sec.percent is None else sec.percent * sec.weight,
                "note": note,
            }
        )
    table = pd.DataFrame(
        rows, columns=["section", "weight", "points", "earned", "possible", "percent", "contribution", "note"]
    )
    out = ScoreExplanation(
        table=table,
        total=result.total,
        display_total=result.display_total,
        passed=result.passed,
        fail_all=result.fail_all,
        fatal=result.fatal,
        provisional=unanswered > 0,
        unanswered=unanswered,
    )
    steps = out.steps
    if unanswered:
        steps.append(
            t("{count} item(s) not answered yet: the figures below cover the answered items only.", count=unanswered)
        )
    if not answered:
        return out
    na_items = [pick(spec.item(iid), "text") for iid, a in answered.items() if a.na]
    if na_items:
        steps.append(
            t(
                "Step 1 — N/A items leave both earned and possible points: {count} item(s) N/A ({items}).",
                count=len(na_items),
                items="; ".join(na_items),
            )
        )
    else:
        steps.append(t("Step 1 — No item is N/A: every item counts in earned and possible points."))
    dropped = [names.get(s.code, s.code) for s in result.sections if s.percent is None and s.code in answered_sections]
    counted = [s for s in result.sections if s.percent is not None]
    parts = ", ".join(
        f"{names.get(s.code, s.code)} {s.earned}/{s.possible} "
        + ("→ 0 %" if s.zeroed else f"= {_fmt((s.percent or 0) * 100, 2)} %")
        for s in counted
    )
    steps.append(t("Step 2 — Section % = earned / possible over applicable items: {parts}.", parts=parts or "—"))
    if dropped:
        steps.append(t("Sections with no applicable item drop out: {sections}.", sections=", ".join(dropped)))
    fail_section = [v for v in marked_violations if v.rule == "fail_section"]
    fail_all = [v for v in marked_violations if v.rule == "fail_all"]
    if result.total is None:
        steps.append(t("All items are N/A: the call is not scored (never 0)."))
        out.display_total = t("not scored")
        return out
    weights = sum(s.weight for s in counted)
    numerator = " + ".join(f"{_fmt(s.percent or 0, 4)} × {_fmt(s.weight, 2)}" for s in counted)
    raw_total = sum((s.percent or 0) * s.weight for s in counted) / weights * 100
    steps.append(
        t(
            "Step 3 — Total = Σ(section % × weight) / Σ(remaining weights) × 100 = ({numerator}) / {weights} × 100 = {total}.",
            numerator=numerator,
            weights=_fmt(weights, 2),
            total=_fmt(raw_total, 4),
        )
    )
    for v in fail_section:
        steps.append(
            t(
                "Step 4 — Violation “{violation}” (fail_section) sets the section {section} to 0 % (already applied above).",
                violation=pick(v, "text"),
                section=names.get(v.section or "", v.section or ""),
            )
        )
    for v in fail_all:
        steps.append(t("Step 4 — Violation “{violation}” (fail_all) sets the total to 0.", violation=pick(v, "text")))
    if not marked_violations:
        steps.append(t("Step 4 — No violation marked."))
    mark = _fmt(spec.pass_mark, 2)
    exact = result.exact_total
    unrounded = _fmt(result.total, 4)
    if result.fail_all:
        verdict = t("Step 5 — A fail_all violation: not passed, whatever the total.")
    elif result.passed:
        verdict = t("Step 5 — Unrounded total {total} ≥ pass mark {mark}: passed.", total=unrounded, mark=mark)
    else:
        verdict = t("Step 5 — Unrounded total {total} < pass mark {mark}: not passed.", total=unrounded, mark=mark)
    steps.append(verdict)
    shown = str(round_half_up_exact(exact)) if exact is not None else result.display_total
    steps.append(t("Shown rounded half-up to one decimal: {shown}.", shown=shown))
    if out.provisional:
        out.passed = None
    return out

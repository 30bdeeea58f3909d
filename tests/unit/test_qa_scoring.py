"""Score math of SPEC §4 (console.scoring.compute_score) and its step-by-step explanation."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.qa.common import ItemInfo, SectionInfo, VersionSpec, ViolationInfo
from console.qa.explain import AnswerIn, explain_score
from console.scoring import (
    Answer,
    ItemSpec,
    ScoreError,
    SectionSpec,
    ViolationSpec,
    compute_score,
    round_half_up,
    round_half_up_exact,
)

SECTIONS = [SectionSpec("a", 20), SectionSpec("b", 30), SectionSpec("c", 50)]
ITEMS = [
    ItemSpec(1, "a", 10, "scale"),
    ItemSpec(2, "a", 10, "yes_no", na_allowed=True),
    ItemSpec(3, "b", 10, "scale", na_allowed=True),
    ItemSpec(4, "c", 10, "scale"),
    ItemSpec(5, "c", 5, "yes_no", na_allowed=True),
]
VIOLATIONS = [ViolationSpec(100, "fail_all"), ViolationSpec(101, "fail_section", "c")]


def score(answers, marked=(), pass_mark=80.0, sections=SECTIONS, items=ITEMS):
    return compute_score(sections, items, answers, VIOLATIONS, set(marked), pass_mark)


def full():
    return {1: Answer(10), 2: Answer(10), 3: Answer(10), 4: Answer(10), 5: Answer(5)}


def test_all_full_points_is_100_and_passes():
    r = score(full())
    assert r.total == 100.0 and r.passed and r.display_total == "100.0"


def test_na_leaves_both_earned_and_possible():
    answers = full() | {1: Answer(5), 2: Answer(na=True)}
    r = score(answers)
    a = next(s for s in r.sections if s.code == "a")
    assert (a.earned, a.possible, a.percent) == (5, 10, 0.5)  # not 5/20
    assert r.total == pytest.approx((0.5 * 20 + 1 * 30 + 1 * 50) / 100 * 100)


def test_section_with_no_applicable_item_drops_out():
    answers = full() | {3: Answer(na=True), 4: Answer(0)}
    r = score(answers)
    b = next(s for s in r.sections if s.code == "b")
    assert b.percent is None and b.possible == 0
    # total over the remaining weights 20 + 50, not 100
    assert r.total == pytest.approx((1.0 * 20 + (5 / 15) * 50) / 70 * 100)


def test_fail_section_zeroes_only_its_section():
    r = score(full(), marked={101})
    c = next(s for s in r.sections if s.code == "c")
    assert c.zeroed and c.percent == 0.0 and c.earned == 15
    assert r.total == pytest.approx(50.0) and not r.passed and r.fatal and not r.fail_all


def test_fail_all_sets_total_to_zero_and_never_passes():
    r = score(full(), marked={100}, pass_mark=0)
    assert r.total == 0.0 and r.fail_all and r.fatal and r.passed is False


def test_fail_all_overrides_fail_section_and_na():
    r = score(full() | {2: Answer(na=True)}, marked={100, 101})
    assert r.total == 0.0 and r.passed is False


def test_all_na_is_not_scored_never_zero():
    sections = [SectionSpec("a", 1)]
    items = [ItemSpec(1, "a", 5, "yes_no", True), ItemSpec(2, "a", 5, "scale", True)]
    r = compute_score(sections, items, {1: Answer(na=True), 2: Answer(na=True)}, [], set())
    assert r.total is None and r.passed is None and not r.scored and r.display_total == "—"


def test_all_na_with_a_fail_all_mark_is_still_not_scored():
    sections = [SectionSpec("a", 1)]
    items = [ItemSpec(1, "a", 5, "yes_no", True)]
    r = compute_score(sections, items, {1: Answer(na=True)}, [ViolationSpec(9, "fail_all")], {9})
    assert r.total is None and r.fail_all


def test_79_95_displays_80_0_but_does_not_pass():
    r = compute_score([SectionSpec("a", 15)], [ItemSpec(1, "a", 2000)], {1: Answer(1599)}, [], set(), 80)
    assert r.display_total == "80.0"
    assert r.passed is False


def test_exactly_80_passes():
    r = compute_score([SectionSpec("a", 15)], [ItemSpec(1, "a", 10)], {1: Answer(8)}, [], set(), 80)
    assert r.total == 80.0 and r.passed is True


def test_exact_80_over_mixed_weights_is_not_lost_to_float_noise():
    # (0.7 x 0.2 + 1.0 x 0.1) / 0.3 x 100 is exactly 80, but float arithmetic gives 79.99999999999999
    assert (7 / 10 * 0.2 + 1.0 * 0.1) / (0.2 + 0.1) * 100 < 80
    sections = [SectionSpec("a", 0.2), SectionSpec("b", 0.1)]
    items = [ItemSpec(1, "a", 10), ItemSpec(2, "b", 10)]
    r = compute_score(sections, items, {1: Answer(7), 2: Answer(10)}, [], set(), 80)
    assert r.exact_total == Fraction(80) and r.passed is True and r.display_total == "80.0"


def test_half_up_display_on_exact_values():
    assert str(round_half_up_exact(Fraction(8325, 100))) == "83.3"
    assert str(round_half_up_exact(Fraction(8324, 100))) == "83.2"
    assert str(round_half_up(83.25)) == "83.3"


@pytest.mark.parametrize(
    "answers, message",
    [
        ({1: Answer(11)}, "points must be 0..10"),
        ({2: Answer(5)}, "yes/no"),
        ({1: Answer(na=True)}, "does not allow N/A"),
        ({}, "has no answer"),
    ],
)
def test_bad_answers_are_refused(answers, message):
    base = full()
    base.pop(1) if not answers else None
    with pytest.raises(ScoreError, match=message):
        score(base | answers)


@st.composite
def answer_sets(draw):
    n_sections = draw(st.integers(1, 5))
    sections = [
        SectionSpec(f"s{i}", draw(st.sampled_from([0.5, 1, 5, 10, 12.5, 15, 20, 25, 30]))) for i in range(n_sections)
    ]
    items, answers = [], {}
    item_id = 0
    for sec in sections:
        for _ in range(draw(st.integers(1, 4))):
            item_id += 1
            kind = draw(st.sampled_from(["yes_no", "scale"]))
            max_points = draw(st.integers(1, 20))
            na_allowed = draw(st.booleans())
            items.append(ItemSpec(item_id, sec.code, max_points, kind, na_allowed))
            if na_allowed and draw(st.booleans()):
                answers[item_id] = Answer(na=True)
            elif kind == "yes_no":
                answers[item_id] = Answer(draw(st.sampled_from([0, max_points])))
            else:
                answers[item_id] = Answer(draw(st.integers(0, max_points)))
    violations = [ViolationSpec(900, "fail_all"), ViolationSpec(901, "fail_section", sections[0].code)]
    marked = draw(st.sets(st.sampled_from([900, 901])))
    pass_mark = draw(st.sampled_from([0, 60, 79.95, 80, 100]))
    return sections, items, answers, violations, marked, pass_mark


@settings(max_examples=400, deadline=None)
@given(answer_sets())
def test_any_answer_set_gives_a_total_in_0_100_or_not_scored(case):
    sections, items, answers, violations, marked, pass_mark = case
    r = compute_score(sections, items, answers, violations, marked, pass_mark)
    if all(a.na for a in answers.values()):
        assert r.total is None and r.passed is None
        return
    assert r.total is not None and 0.0 <= r.total <= 100.0
    assert 0 <= Fraction(r.display_total) <= 100
    assert r.passed == (r.exact_total >= Fraction(str(pass_mark)) and 900 not in marked)
    if 900 in marked:
        assert r.total == 0.0


# ---------------------------------------------------------------- the explanation shown beside the form


def spec():
    return VersionSpec(
        version_id=1,
        scorecard_id=1,
        scorecard_code="m",
        stream="maintenance",
        name_en="Maintenance call",
        name_zh="维护外呼",
        version=1,
        status="active",
        pass_mark=80,
        sections=[
            SectionInfo(1, "a", "Opening", "开场", 20, 0),
            SectionInfo(2, "b", "Closing", "结束", 30, 1),
            SectionInfo(3, "c", "Problem handling", "问题处理", 50, 2),
        ],
        items=[
            ItemInfo(1, "i1", "a", "Greets", "问候", "scale", 10, False, None, None, 0),
            ItemInfo(2, "i2", "a", "Surname", "姓氏", "yes_no", 10, True, None, None, 1),
            ItemInfo(3, "i3", "b", "Summary", "总结", "scale", 10, True, None, None, 0),
            ItemInfo(4, "i4", "c", "Fees", "费用", "scale", 10, False, None, None, 0),
            ItemInfo(5, "i5", "c", "Escalates", "升级", "yes_no", 5, True, None, None, 1),
        ],
        violations=[
            ViolationInfo(100, "v1", "Disclosed account data", "泄露", "fail_all", None),
            ViolationInfo(101, "v2", "Unauthorised benefit", "违规承诺", "fail_section", "c"),
        ],
    )


def test_explanation_lists_every_step():
    answers = {1: AnswerIn(8), 2: AnswerIn(na=True), 3: AnswerIn(na=True), 4: AnswerIn(6), 5: AnswerIn(5)}
    ex = explain_score(spec(), answers, {101})
    text = "\n".join(ex.steps)
    assert "Step 1" in text and "Surname; Summary" in text
    assert "drop out: Closing" in text
    assert "Problem handling 11/15 → 0 %" in text
    assert "fail_section" in text and "Step 5" in text and "not passed" in text
    assert list(ex.table["section"]) == ["Opening", "Closing", "Problem handling"]
    assert ex.table.loc[1, "note"].startswith("dropped") and ex.table.loc[2, "note"].startswith("set to 0 %")
    # Opening 8/10 over the remaining weights 20 + 50 = 80 % x 20 / 70
    assert ex.total == pytest.approx(0.8 * 20 / 70 * 100)
    assert ex.display_total == "22.9"


def test_explanation_of_a_partial_form_is_provisional():
    ex = explain_score(spec(), {1: AnswerIn(10)}, set())
    assert ex.provisional and ex.unanswered == 4 and ex.passed is None
    assert "4 item(s) not answered yet" in ex.steps[0]


def test_explanation_fail_all_and_all_na():
    answers = {1: AnswerIn(10), 2: AnswerIn(10), 3: AnswerIn(10), 4: AnswerIn(10), 5: AnswerIn(5)}
    ex = explain_score(spec(), answers, {100})
    assert ex.total == 0.0 and "fail_all" in "\n".join(ex.steps)
    na_spec = spec()
    na_spec.items = [i for i in na_spec.items if i.na_allowed]
    ex = explain_score(na_spec, {2: AnswerIn(na=True), 3: AnswerIn(na=True), 5: AnswerIn(na=True)}, set())
    assert ex.total is None and "not scored" in ex.steps[-1]

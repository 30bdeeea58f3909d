"""The scorecard editor: drafts, validation, activation locks and retires; evaluations keep their version."""

import dataclasses
import datetime as dt

import pytest
from sqlmodel import Session

from console.permissions import PermissionDenied
from console.qa.common import QAError, active_version_id
from console.qa.evaluations import scoring_form, submit_evaluation
from console.qa.scorecards import (
    ItemIn,
    SectionIn,
    ViolationIn,
    activate_version,
    create_draft,
    discard_draft,
    list_versions,
    save_draft_version,
    version_spec,
)
from models import Evaluation, ScorecardVersion
from tests.unit.factories_qa import add_call, add_customer, full_answers, local, make_world


@pytest.fixture
def world(engine):
    with Session(engine) as s:
        w = make_world(s)
        s.commit()
        yield s, w


def content(spec):
    sections = [SectionIn(x.code, x.name_en, x.name_zh, x.weight) for x in spec.sections]
    items = [ItemIn(i.section, i.code, i.text_en, i.text_zh, i.kind, i.max_points, i.na_allowed) for i in spec.items]
    violations = [ViolationIn(v.code, v.text_en, v.text_zh, v.rule, v.section) for v in spec.violations]
    return sections, items, violations


def test_active_version_is_locked(world):
    s, w = world
    admin = w.actor(w.admin)
    v1 = active_version_id(s, "maintenance")
    sections, items, violations = content(version_spec(session=s, actor=admin, version_id=v1))
    with pytest.raises(QAError, match="locked: create a draft"):
        save_draft_version(
            session=s, actor=admin, version_id=v1, pass_mark=70, sections=sections, items=items, violations=violations
        )
    s.rollback()
    assert s.get(ScorecardVersion, v1).pass_mark == 80


def test_only_an_admin_edits(world):
    s, w = world
    v1 = active_version_id(s, "maintenance")
    with pytest.raises(PermissionDenied):
        create_draft(session=s, actor=w.actor(w.sup), version_id=v1)


def test_draft_edit_activate_retires_the_old_version_and_old_evaluations_keep_theirs(world):
    s, w = world
    admin = w.actor(w.admin)
    v1 = active_version_id(s, "maintenance")
    cust = add_customer(s, "林先生", 2)
    call = add_call(s, w.agent, cust, local(dt.date(2026, 11, 2)))
    old_eval = submit_evaluation(
        session=s, actor=w.actor(w.lead), call_id=call.id, answers=full_answers(s), violations={}
    )
    draft = create_draft(session=s, actor=admin, version_id=v1)
    with pytest.raises(QAError, match="exists already"):
        create_draft(session=s, actor=admin, version_id=v1)
    sections, items, violations = content(version_spec(session=s, actor=admin, version_id=draft))
    sections = [dataclasses.replace(sections[0], weight=25), *sections[1:]]
    items = [
        *items,
        ItemIn(sections[0].code, "mentions_hotline", "Mentions the VIP hotline", "告知贵宾专线", "yes_no", 5),
    ]
    save_draft_version(
        session=s, actor=admin, version_id=draft, pass_mark=85, sections=sections, items=items, violations=violations
    )
    # the draft is not used for scoring until activated
    assert active_version_id(s, "maintenance") == v1
    activate_version(session=s, actor=admin, version_id=draft)
    s.commit()
    assert active_version_id(s, "maintenance") == draft
    old = s.get(ScorecardVersion, v1)
    assert old.status == "retired" and old.retired_at is not None
    assert s.get(ScorecardVersion, draft).status == "active" and s.get(ScorecardVersion, draft).pass_mark == 85
    assert s.get(Evaluation, old_eval).version_id == v1
    new_call = add_call(s, w.agent, cust, local(dt.date(2026, 11, 3)))
    form = scoring_form(session=s, actor=w.actor(w.lead), call_id=new_call.id)
    assert form.spec.version_id == draft and len(form.spec.items) == len(items)
    listed = list_versions(session=s, actor=admin).set_index("version_id")
    assert listed.loc[v1, "status"] == "retired" and listed.loc[v1, "evaluations"] == 1
    with pytest.raises(QAError, match="locked"):
        discard_draft(session=s, actor=admin, version_id=draft)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda sec, it, vi: ([], it, vi), "at least one section"),
        (lambda sec, it, vi: ([dataclasses.replace(sec[0], weight=0), *sec[1:]], it, vi), "weight above 0"),
        (lambda sec, it, vi: (sec, [i for i in it if i.section != sec[0].code], vi), "at least one item"),
        (lambda sec, it, vi: (sec, [dataclasses.replace(it[0], max_points=0), *it[1:]], vi), "max points"),
        (lambda sec, it, vi: (sec, [dataclasses.replace(it[0], kind="stars"), *it[1:]], vi), "yes_no or scale"),
        (
            lambda sec, it, vi: (sec, it, [*vi, ViolationIn("x_rule", "X", "X", "fail_section", "nope")]),
            "must name a section",
        ),
        (lambda sec, it, vi: ([*sec, sec[0]], it, vi), "appears twice"),
        (lambda sec, it, vi: (sec, [dataclasses.replace(it[0], code="Bad Code"), *it[1:]], vi), "lower-case"),
    ],
)
def test_bad_content_is_refused(world, change, message):
    s, w = world
    admin = w.actor(w.admin)
    draft = create_draft(session=s, actor=admin, version_id=active_version_id(s, "ob"))
    sections, items, violations = change(*content(version_spec(session=s, actor=admin, version_id=draft)))
    with pytest.raises(QAError, match=message):
        save_draft_version(
            session=s,
            actor=admin,
            version_id=draft,
            pass_mark=80,
            sections=sections,
            items=items,
            violations=violations,
        )


def test_discard_a_draft(world):
    s, w = world
    admin = w.actor(w.admin)
    draft = create_draft(session=s, actor=admin, version_id=active_version_id(s, "ob"))
    discard_draft(session=s, actor=admin, version_id=draft)
    assert s.get(ScorecardVersion, draft) is None

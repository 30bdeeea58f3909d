"""Finding a customer (masked, scoped, bad input refused cleanly), the profile, and the audited reveal."""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from console.customers import gaps
from console.customers.common import customer_link, scope_condition
from console.customers.profile import customer_profile, find_customer, reveal_number
from console.customers.search import FLAGS, search_customers, search_filters
from console.permissions import PermissionDenied
from models import AuditLog, Customer, Purchase
from tests.unit.factories_customers import NOW, TODAY, at, call, customer, make_world


def _people(s: Session):
    w = make_world(s)
    a = customer(s, 2, mgr=w.junior, name="王丽娟", phone="13812345678")
    b = customer(s, 3, mgr=w.senior, name="王强", phone="13900001111")
    c = customer(s, 1, name="李娜", phone="13700002222")  # unassigned
    d = customer(s, 4, mgr=w.senior, name="赵敏", phone="13600003333")
    call(s, w.agent, b, at(3))  # the maintenance team called b
    call(s, w.ob_agent, c, at(4))  # the OB team called c
    s.commit()
    return w, a, b, c, d


def _codes(page) -> set[str]:
    return set(page.rows["code"])


def test_search_by_full_phone_finds_and_stays_masked(engine):
    with Session(engine) as s:
        w, a, *_ = _people(s)
        for typed in ("13812345678", "138 1234 5678", "+86 138-1234-5678", "008613812345678"):
            page = search_customers(session=s, actor=w.actor(w.sup), today=TODAY, text=typed)
            assert page.total == 1 and page.by_phone, typed
            row = page.rows.iloc[0]
            assert row["code"] == a.code and row["phone"] == "138****5678"
            assert "13812345678" not in " ".join(str(v) for v in row.to_dict().values())


def test_a_partial_number_never_searches_phones(engine):
    with Session(engine) as s:
        w, *_ = _people(s)
        for partial in ("1381234567", "5678", "138****5678"):
            assert search_customers(session=s, actor=w.actor(w.sup), today=TODAY, text=partial).total == 0


def test_search_by_name_and_code(engine):
    with Session(engine) as s:
        w, a, b, c, d = _people(s)
        sup = w.actor(w.sup)
        assert _codes(search_customers(session=s, actor=sup, today=TODAY, text="王")) == {a.code, b.code}
        assert _codes(search_customers(session=s, actor=sup, today=TODAY, text=d.code.lower())) == {d.code}
        page = search_customers(session=s, actor=sup, today=TODAY)
        assert list(page.rows["tier_rank"]) == sorted(page.rows["tier_rank"], reverse=True)
        assert page.rows.iloc[0]["link"] == customer_link(d.code, d.name)


def test_filters(engine):
    with Session(engine) as s:
        w, a, b, c, d = _people(s)
        sup = w.actor(w.sup)
        assert _codes(search_customers(session=s, actor=sup, today=TODAY, tier=3)) == {b.code}
        assert _codes(search_customers(session=s, actor=sup, today=TODAY, manager_id=w.senior.id)) == {b.code, d.code}
        assert _codes(search_customers(session=s, actor=sup, today=TODAY, flag="unassigned")) == {c.code}
        assert search_customers(session=s, actor=sup, today=TODAY, region="北京").total == 0
        gaps.refresh_now(s, TODAY, NOW)
        expected = {cid for cid, _ in gaps.live_rows(s, "contact_overdue", gaps.context(s, TODAY, NOW))}
        flagged = search_customers(session=s, actor=sup, today=TODAY, flag="gap:contact_overdue", now=NOW)
        assert set(flagged.rows["customer_id"]) == expected and flagged.total == len(expected)
        assert all("Contact overdue" in f for f in flagged.rows["flags"])
        anything = search_customers(session=s, actor=sup, today=TODAY, flag="any_gap", now=NOW)
        assert anything.total >= flagged.total
        filters = search_filters(session=s, actor=w.actor(w.junior), today=TODAY)
        assert [m for m, _ in filters.managers] == [w.junior.id]
        assert "广州" in filters.regions and len(filters.tiers) == 6
        assert set(FLAGS) >= {"any_gap", "override", "supreme", "unassigned"}


def test_scope_per_role(engine):
    with Session(engine) as s:
        w, a, b, c, d = _people(s)
        everyone = {a.code, b.code, c.code, d.code}
        assert _codes(search_customers(session=s, actor=w.actor(w.sup), today=TODAY)) == everyone
        assert _codes(search_customers(session=s, actor=w.actor(w.junior), today=TODAY)) == {a.code}
        assert _codes(search_customers(session=s, actor=w.actor(w.senior), today=TODAY)) == {b.code, d.code}
        assert _codes(search_customers(session=s, actor=w.actor(w.lead), today=TODAY)) == {b.code}
        assert _codes(search_customers(session=s, actor=w.actor(w.ob_lead), today=TODAY)) == {c.code}
        # the same phone search, out of scope: nothing
        assert search_customers(session=s, actor=w.actor(w.senior), today=TODAY, text="13812345678").total == 0
        for role_staff in (w.agent, w.ob_agent):
            with pytest.raises(PermissionDenied):
                search_customers(session=s, actor=w.actor(role_staff), today=TODAY)
        visible = s.exec(select(func.count()).select_from(Customer).where(scope_condition(w.actor(w.lead)))).one()
        assert visible == 1


@pytest.mark.parametrize(
    "text",
    [
        "x" * 10_000,
        "'; DROP TABLE customer; --",
        "<script>alert(1)</script>",
        "%",
        "_",
        "\\",
        "王' OR '1'='1",
    ],
)
def test_bad_search_input_gives_a_message_or_nothing(sqlite_engine, text):
    with Session(sqlite_engine) as s:
        w, *_ = _people(s)
        page = search_customers(session=s, actor=w.actor(w.sup), today=TODAY, text=text)
        assert page.total == 0 and page.rows.empty
        if len(text) > 100:
            assert page.message and "at most 100 characters" in page.message
        assert s.exec(select(func.count()).select_from(Customer)).one() == 4


def test_find_by_code_from_a_link(engine):
    with Session(engine) as s:
        w, a, b, *_ = _people(s)
        assert find_customer(session=s, actor=w.actor(w.sup), code=f" {a.code.lower()} ").customer_id == a.id
        missing = find_customer(session=s, actor=w.actor(w.sup), code="C9999999")
        assert missing.customer_id is None and "No customer with the code C9999999" in (missing.message or "")
        hidden = find_customer(session=s, actor=w.actor(w.junior), code=b.code)
        assert hidden.customer_id is None and "not in your scope" in (hidden.message or "")
        assert find_customer(session=s, actor=w.actor(w.sup), code="x" * 500).message == "That is not a customer code."
        assert find_customer(session=s, actor=w.actor(w.sup), code="<b>x</b>").customer_id is None


def test_profile(engine):
    with Session(engine) as s:
        w, a, b, c, d = _people(s)
        for n in range(7):  # ¥7,000 in 7 purchases within the 12 months: Silver, towards Gold (¥10,000 or 10)
            s.add(Purchase(customer_id=a.id, at=at(30 + n), amount_fen=100_000, reference=f"P{a.id}-{n}"))
        s.add(Purchase(customer_id=a.id, at=at(400), amount_fen=5_000_000, reference=f"P{a.id}-old"))
        s.commit()
        p = customer_profile(session=s, actor=w.actor(w.sup), customer_id=a.id, today=TODAY, now=NOW)
        assert (p.tier, p.tier_kind, p.tier_reason) == ("Gold", "upgrade", "Qualified on trailing-12-month purchases")
        assert p.tier_since == at(400)
        assert (p.spend_fen, p.purchases, p.qualified_rank) == (700_000, 7, 1)
        assert p.next_tier is not None and p.next_tier.name == "Platinum"
        assert p.next_tier.spend_gap_fen == 2_000_000 - 700_000 and p.next_tier.purchases_gap == 13
        assert p.at_risk_tier == "Silver"  # qualifies for Silver only at the next review
        assert p.manager == "CM-J · 初级经理" and p.manager_since == at(300) and p.manager_reason == "New VIP"
        assert p.phone == "138****5678" and p.id_number.startswith("4401") and "*" in p.id_number
        assert [r.kind for r in p.slas] == ["binding", "sms", "first_contact", "regular_contact"]
        assert p.can_reveal_phone
        lead_view = customer_profile(session=s, actor=w.actor(w.lead), customer_id=b.id, today=TODAY, now=NOW)
        assert not lead_view.can_reveal_phone
        member = customer(s, 0)
        s.commit()
        assert customer_profile(session=s, actor=w.actor(w.sup), customer_id=member.id, today=TODAY).slas == []


def _audits(s: Session) -> list[AuditLog]:
    return list(s.exec(select(AuditLog).where(AuditLog.action == "customers.reveal")).all())


def test_reveal_is_audited_and_scoped(engine):
    with Session(engine) as s:
        w, a, b, *_ = _people(s)
        assert reveal_number(session=s, actor=w.actor(w.junior), customer_id=a.id, field="phone") == "13812345678"
        s.commit()
        rows = _audits(s)
        assert len(rows) == 1 and rows[0].entity_id == str(a.id) and rows[0].actor == "CM-J"
        assert "13812345678" not in " ".join(filter(None, (rows[0].params, rows[0].after, rows[0].before)))
        assert '"revealed": "phone"' in (rows[0].after or "")
        with pytest.raises(PermissionDenied):
            reveal_number(session=s, actor=w.actor(w.junior), customer_id=b.id, field="phone")  # not theirs
        with pytest.raises(PermissionDenied):
            reveal_number(session=s, actor=w.actor(w.lead), customer_id=b.id, field="phone")  # leads never
        s.rollback()
        assert len(_audits(s)) == 1
        assert reveal_number(session=s, actor=w.actor(w.sup), customer_id=b.id, field="id_number") == b.id_number
        with pytest.raises(ValueError):
            reveal_number(session=s, actor=w.actor(w.sup), customer_id=b.id, field="address")
        s.commit()
        assert len(_audits(s)) == 2


def test_unknown_customer_is_a_clear_error(engine):
    with Session(engine) as s:
        w, *_ = _people(s)
        with pytest.raises(ValueError, match="No such customer"):
            customer_profile(session=s, actor=w.actor(w.sup), customer_id=999_999, today=TODAY)


def test_customer_link_is_relative_and_encoded():
    assert customer_link("C0000001") == "customers?customer=C0000001"
    assert customer_link("A B/1", "王#丽") == "customers?customer=A%20B%2F1#王丽"


def test_the_ui_link_helpers_build_link_columns():
    import pandas as pd

    from console.ui.customer_link import customer_link_column, with_customer_links

    frame = with_customer_links(pd.DataFrame({"code": ["C1", "C2"], "name": ["王丽", "李娜"]}))
    assert list(frame["customer_link"]) == ["customers?customer=C1#王丽", "customers?customer=C2#李娜"]
    config = customer_link_column("Customer")
    assert config["type_config"]["type"] == "link" and config["type_config"]["display_text"] == r"#(.+)$"

"""Customers (VIP 360, issue 7): one page per VIP joining tier, owner, contacts, calls and QA, visits — and the
coverage gaps no single tool sees.

- common.py   scope per role (SPEC §1), link targets, customer_link(code) -> URL of a customer's page
- search.py   find by code, name or full phone number (masked results), filters, paging
- profile.py  the profile with SLA states and this customer's gaps; the audited reveal of a full number
- timeline.py every event of the customer, one SQL per kind with LIMIT, merged in Python; export
- gaps.py     the six coverage gaps for all customers (set-based SQL), counts, paged lists, exports
- warning.py  early warning per manager and team: downgrade share beside QA score and weakest section trend
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from console.customers.common import CustomerError, Link, OutOfScope, customer_link
from console.customers.gaps import (
    GAP_HELP,
    GAP_KINDS,
    GAP_LABELS,
    GapHit,
    GapPage,
    count_gaps,
    gap_counts,
    gap_export,
    gap_export_with_numbers,
    gap_list,
)
from console.customers.profile import Found, Profile, customer_profile, find_customer, reveal_number
from console.customers.search import FLAG_LABELS, FLAGS, Filters, SearchPage, search_customers, search_filters
from console.customers.timeline import (
    KIND_LABELS,
    TIMELINE_KINDS,
    Entry,
    TimelinePage,
    customer_timeline,
    timeline_export,
)
from console.customers.warning import EarlyWarning, early_warning
from console.home import Tile
from console.permissions import SUPERVISORS, Actor

HOME_LABELS: dict[str, str] = {
    "leave_uncovered": "Gap · leave, no cover",
    "level_mismatch": "Gap · level below tier",
    "contact_overdue": "Gap · contact overdue",
    "no_evaluation": "Gap · top tier unevaluated",
    "reception_followup": "Gap · reception follow-up",
    "downgrade_after_fail": "Gap · downgrade after fail",
}


def home_tiles(*, session: Session, actor: Actor, today: dt.date) -> list[Tile]:
    """Supervisors and admins: customers with each coverage gap, linking to the Customers page."""
    if actor.role not in SUPERVISORS:
        return []
    from console.customers.gaps import refresh_if_stale

    refresh_if_stale(session, today)
    counts = count_gaps(session, actor, today)
    return [
        Tile(
            label=HOME_LABELS[kind],
            value=f"{counts[kind]:,}",
            page="customers",
            help=GAP_HELP[kind],
            alert=counts[kind] > 0,
        )
        for kind in GAP_KINDS
    ]


__all__ = [
    "FLAGS",
    "FLAG_LABELS",
    "GAP_HELP",
    "GAP_KINDS",
    "GAP_LABELS",
    "HOME_LABELS",
    "KIND_LABELS",
    "TIMELINE_KINDS",
    "CustomerError",
    "EarlyWarning",
    "Entry",
    "Filters",
    "Found",
    "GapHit",
    "GapPage",
    "Link",
    "OutOfScope",
    "Profile",
    "SearchPage",
    "TimelinePage",
    "customer_link",
    "customer_profile",
    "customer_timeline",
    "early_warning",
    "find_customer",
    "gap_counts",
    "gap_export",
    "gap_export_with_numbers",
    "gap_list",
    "home_tiles",
    "reveal_number",
    "search_customers",
    "search_filters",
    "timeline_export",
]

"""Links to the Customers page (VIP 360) for every page that shows a customer, and opening any timeline link.

Two ways to link, because a Streamlit login lives in one browser tab:

- in the same tab (keeps the login): ``customer_page_link(code)`` draws an st.page_link, ``open_customer(code)``
  switches page from a button or a selection callback;
- as a URL in a table: ``customer_url(code, name)`` values with ``customer_link_column()`` in column_config.
  st.column_config.LinkColumn always opens a new tab, where the user logs in again and lands on the customer.

The Customers page reads ``st.query_params["customer"]`` (a customer code) and opens that customer.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from console.customers.common import Link, customer_link
from console.i18n import t

PAGE = "pages/customers.py"
PARAM = "customer"

# Session keys other pages read when opened from a link (set before switching page).
_CONTEXT_KEYS: dict[str, dict[str, Any]] = {
    # Call QA opens the evaluation in ctx.qa_evaluation on its evaluations view (as from Agent KPIs).
    "call_qa": {"evaluation": ("ctx.qa_evaluation", int), "_extra": {"call_qa.from_kpis": True}},
    # Reception opens the visit in ctx.reception_visit on its "Work a run" view.
    "reception": {"visit": ("ctx.reception_visit", int), "_extra": {"reception.pending_view": "run"}},
}


def customer_url(code: str, name: str | None = None) -> str:
    """The relative URL of a customer's page (see console.customers.common.customer_link)."""
    return customer_link(code, name)


def customer_link_column(label: str | None = None, *, show: str = "name", help: str | None = None) -> Any:
    """A LinkColumn for a column of customer_url(code, name) values; shows the name (or the code)."""
    display = r"#(.+)$" if show == "name" else r"customer=([^&#]+)"
    return st.column_config.LinkColumn(
        label or t("Customer"),
        display_text=display,
        help=help or t("Opens the customer's page in a new tab (log in there again)."),
    )


def with_customer_links(
    frame: pd.DataFrame, *, code: str = "code", name: str = "name", column: str = "customer_link"
) -> pd.DataFrame:
    """A copy of a table with a column of customer URLs built from its code and name columns."""
    out = frame.copy()
    names = out[name] if name in out.columns else [None] * len(out)
    out[column] = [customer_url(c, n) for c, n in zip(out[code], names, strict=False)]
    return out


def customer_page_link(code: str, label: str | None = None, *, icon: str = ":material/person_search:") -> None:
    """A link to the customer's page in this tab (the login is kept)."""
    st.page_link(PAGE, label=label or t("Open customer {code}", code=code), icon=icon, query_params={PARAM: code})


def open_customer(code: str) -> None:
    """Switch to the customer's page in this tab (call from a button or after a selection)."""
    st.switch_page(PAGE, query_params={PARAM: code})


def open_link(link: Link) -> None:
    """Open where a timeline entry lives, in this tab: the page's own context keys are set first so it shows
    the entry even before it reads its query parameter."""
    wanted = _CONTEXT_KEYS.get(link.page, {})
    if link.param in wanted:
        key, cast = wanted[link.param]
        try:
            st.session_state[key] = cast(link.value)
        except (TypeError, ValueError):
            pass
        for extra_key, value in wanted.get("_extra", {}).items():
            st.session_state[extra_key] = value
        if link.page == "reception":
            st.session_state.pop("reception.visit", None)
    st.switch_page(f"pages/{link.page}.py", query_params={link.param: link.value})

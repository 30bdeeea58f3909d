"""One translation function for every user-visible string: t(english_text, **format_args).

The English text is the key; ZH maps it to Simplified Chinese. The language is held in a
context variable that the UI sets at the start of each script run (Streamlit runs each
session's script in its own thread), so console/ needs no streamlit import.
"""

from __future__ import annotations

import contextvars
from typing import Any

from console.locale import ZH

LANGUAGES: dict[str, str] = {"en": "English", "zh": "简体中文"}
DEFAULT_LANGUAGE = "en"

_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT_LANGUAGE)


def set_language(lang: str) -> None:
    _language.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def get_language() -> str:
    return _language.get()


def t(text: str, **kwargs: Any) -> str:
    """Translate text into the current language, then fill {placeholders}."""
    out = ZH.get(text, text) if _language.get() == "zh" else text
    return out.format(**kwargs) if kwargs else out


def pick(obj: Any, field: str) -> str:
    """The language-specific variant of a bilingual column pair, e.g. pick(tier, "name")."""
    lang = _language.get()
    value = getattr(obj, f"{field}_{lang}", None) if not isinstance(obj, dict) else obj.get(f"{field}_{lang}")
    if value:
        return str(value)
    fallback = getattr(obj, f"{field}_en", None) if not isinstance(obj, dict) else obj.get(f"{field}_en")
    return str(fallback or "")


ROLE_LABELS: dict[str, str] = {
    "admin": "Administrator",
    "supervisor": "Supervisor",
    "team_lead": "Team lead",
    "client_manager": "Client manager",
    "agent": "Agent",
    "reception": "Reception",
    "trainee": "Trainee",
}
DEPARTMENT_LABELS: dict[str, str] = {
    "security": "Security",
    "fnb": "F&B",
    "front_office": "Front Office",
    "engineering": "Engineering",
    "admin_hr": "Admin-HR",
    "marketing": "Marketing",
    "member_value": "Member Value",
}


def role_label(code: str | None) -> str:
    return "" if not code else t(ROLE_LABELS.get(code, code))


def department_label(code: str | None) -> str:
    return "" if not code else t(DEPARTMENT_LABELS.get(code, code))

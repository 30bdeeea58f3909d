"""Personal data masking (SPEC §1): phone and ID numbers are shown as 138****5678 everywhere.

Also the normalisation used to search by a full phone number (the result stays masked).
"""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"[^0-9]")


def mask_phone(value: str | None) -> str:
    """138****5678: the first three and the last four digits, four stars between."""
    if not value:
        return ""
    digits = normalise_phone(value)
    if len(digits) >= 8:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 3:
        return "****" + digits[-2:]
    return "****"


def mask_id(value: str | None) -> str:
    """An ID number: the first four and the last four characters, the rest starred."""
    if not value:
        return ""
    text = value.strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def normalise_phone(value: str) -> str:
    """Digits only, without a +86 / 0086 country prefix."""
    digits = _NON_DIGITS.sub("", value or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    return digits


def looks_like_full_phone(query: str) -> bool:
    """A search string that is a complete mainland mobile number (11 digits, 1 first)."""
    digits = normalise_phone(query)
    stripped = re.sub(r"[\s\-+()]", "", query or "")
    return len(digits) == 11 and digits.startswith("1") and stripped.isdigit()

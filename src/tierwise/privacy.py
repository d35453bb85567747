"""Masking of personal contact data in anything tierwise writes out."""

from __future__ import annotations

import re

import pandas as pd

_DIGITS = re.compile(r"\D")


def mask_phone(value: object) -> object:
    """``13812341234`` -> ``138****1234``; short or empty values are masked whole.

    Examples
    --------
    >>> mask_phone("138-1234-1234")
    '138****1234'
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    digits = _DIGITS.sub("", str(value))
    if len(digits) < 7:
        return "****" if digits else value
    return f"{digits[:3]}****{digits[-4:]}"


def mask_email(value: object) -> object:
    """``zhang.san@example.com`` -> ``z***@example.com``."""
    if not isinstance(value, str) or "@" not in value:
        return value
    user, _, domain = value.partition("@")
    return f"{user[:1]}***@{domain}"


def mask_contacts(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with ``phone`` and ``email`` columns masked."""
    masked = frame.copy()
    if "phone" in masked:
        masked["phone"] = masked["phone"].map(mask_phone)
    if "email" in masked:
        masked["email"] = masked["email"].map(mask_email)
    return masked

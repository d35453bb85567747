"""How numbers and dates read on the pages (Jinja2 filters): thousands separators, shares as %."""

from __future__ import annotations

import datetime as dt
from typing import Any


def number(value: Any, digits: int = 0) -> str:
    """``1234567.8`` -> ``1,234,568``; empty for a missing value."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def money(value: Any) -> str:
    """Two decimals below a million, none above (the report's habit)."""
    if value is None:
        return ""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{amount:,.2f}" if abs(amount) < 1e6 else f"{amount:,.0f}"


def percent(value: Any, digits: int = 1) -> str:
    """A share (0.231) as a percentage (23.1%)."""
    if value is None:
        return ""
    try:
        return f"{float(value) * 100:.{digits}f}%"
    except (TypeError, ValueError):
        return str(value)


def day(value: Any) -> str:
    """A date or timestamp as ``YYYY-MM-DD`` (or ``YYYY-MM-DD HH:MM`` with a time of day)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != dt.time() \
            else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:16].replace("T", " ")


FILTERS = {"number": number, "money": money, "percent": percent, "day": day}

__all__ = ["FILTERS", "day", "money", "number", "percent"]

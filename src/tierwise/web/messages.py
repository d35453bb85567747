"""The dashboard's view of the one message catalogue (:mod:`tierwise.i18n`)."""

from __future__ import annotations

from typing import Any

from ..i18n import LANGUAGES, MESSAGES
from ..i18n import t as _t


def t(key: str, lang: str, **fields: Any) -> str:
    """The text of ``key`` in ``lang``; the key itself when the catalogue has none."""
    return _t(key, lang, **fields) if key in MESSAGES else key


__all__ = ["LANGUAGES", "MESSAGES", "t"]

"""The reports' view of the one message catalogue (:mod:`tierwise.i18n`)."""

from __future__ import annotations

from ..i18n import LANGUAGES, MESSAGES, t

__all__ = ["LANGUAGES", "MESSAGES", "t"]

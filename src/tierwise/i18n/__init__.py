"""The one message catalogue: every word tierwise shows, in Chinese and English.

Stored tables hold codes and numbers; the CLI, the reports and the web turn them into words here,
at render time (the way Django and Babel keep messages out of models). Five parts, one lookup:

* :mod:`.codes`: the names of stored codes (``tier.long_tail``, ``state.dormant``) and the
  sentences built from a code and its figures (``reason.chance``, ``warning.silence``);
* :mod:`.report_words`: the reports' titles, headers and sentences;
* :mod:`.web_words`: the dashboard's own words;
* :mod:`.alert_words`: the sentences of alerts and the weekly digest;
* :mod:`.feedback_words`: satisfaction and feedback (report section, command, web page).
* :mod:`.contract_words`: contracts, renewals and cost to serve.
* :mod:`.campaign_words`: campaign message text in the target-list export.

:func:`t` looks a key up; :mod:`.render` adds the words of a stored frame's codes.
"""

from __future__ import annotations

from typing import Any

from .alert_words import ALERT_MESSAGES
from .campaign_words import CAMPAIGN_MESSAGES
from .codes import CODE_FAMILIES, CODE_MESSAGES
from .feedback_words import FEEDBACK_MESSAGES
from .contract_words import CONTRACT_MESSAGES
from .report_words import REPORT_MESSAGES
from .web_words import WEB_MESSAGES

LANGUAGES = ("zh", "en")

#: Every key -> {"zh": ..., "en": ...}; a test checks each has both languages.
MESSAGES: dict[str, dict[str, str]] = {**CODE_MESSAGES, **REPORT_MESSAGES, **WEB_MESSAGES,
                                       **ALERT_MESSAGES, **FEEDBACK_MESSAGES,
                                       **CONTRACT_MESSAGES, **CAMPAIGN_MESSAGES}


def t(key: str, lang: str, **fields: Any) -> str:
    """The text of ``key`` in ``lang`` (``zh`` or ``en``), with ``{fields}`` filled in.

    Raises
    ------
    KeyError
        For a key the catalogue does not have.

    Examples
    --------
    >>> t("state.dormant", "zh"), t("tier.long_tail", "en")
    ('休眠', 'long tail')
    >>> t("reason.alive", "en", p="53 %")
    'P(alive) 53 %'
    """
    try:
        entry = MESSAGES[key]
    except KeyError:
        raise KeyError(f"message {key!r} is not in the catalogue (tierwise.i18n)") from None
    text = entry.get(lang) or entry["en"]
    return text.format(**fields) if fields else text


def name_of(family: str, code: Any, lang: str) -> Any:
    """The name of ``code`` in ``family`` (``state``, ``tier`` ...); the code itself if unnamed.

    Missing values (None, NaN) stay missing; a code the catalogue does not name (a configured
    segment, say) is shown as it is.

    Examples
    --------
    >>> name_of("tier", "long_tail", "zh"), name_of("tier", None, "zh")
    ('长尾客户', None)
    """
    if code is None or (isinstance(code, float) and code != code):
        return code
    entry = MESSAGES.get(f"{family}.{code}")
    return code if entry is None else (entry.get(lang) or entry["en"])


def pair(family: str, code: str) -> tuple[str, str]:
    """``(Chinese, English)`` names of a code, for tables that list both."""
    return t(f"{family}.{code}", "zh"), t(f"{family}.{code}", "en")


__all__ = ["CODE_FAMILIES", "LANGUAGES", "MESSAGES", "name_of", "pair", "t"]

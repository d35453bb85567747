"""Tasks, outcomes and timeline events in words, at display time, from their codes and figures."""

from __future__ import annotations

import json
import math
from typing import Any

from ..i18n import name_of, t
from ..i18n.render import warning_message


def _args(value: Any) -> dict[str, Any]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return {}
    return json.loads(value) if isinstance(value, str) else dict(value)


def outcome_name(code: str | None, lang: str) -> str:
    """``moved_away`` -> "moved away" / "已搬离"."""
    return "" if not code else t(f"outcome.{code}", lang)


def reason_text(reason: str, args: Any, lang: str) -> str:
    """A task's reason as a sentence in ``lang``, from its code and figures.

    Examples
    --------
    >>> reason_text("wake_up", {"state": "dormant", "days": 64}, "en")
    'wake up: dormant, no purchase for 64 days'
    >>> reason_text("birthday", {"date": "2026-04-02"}, "zh")
    '2026-04-02 生日'
    >>> reason_text("visit", {"days": 120}, "en")
    'planned visit to a key account: no contact recorded for 120 days'
    """
    a = _args(args)
    key = f"task_reason.{reason}"
    if reason == "warning":
        return t(key, lang, message=warning_message(a, lang))
    if reason == "wake_up":
        return t(key, lang, state=name_of("state", a.get("state"), lang), days=a.get("days", "?"))
    if reason == "visit":
        days = a.get("days")
        since = t("task_reason.visit_never", lang) if days is None \
            else t("task_reason.visit_since", lang, days=days)
        return t(key, lang, since=since)
    if reason == "contract_renewal" and int(a.get("days") or 0) < 0:
        return t("task_reason.contract_overdue", lang, contract_id=a.get("contract_id", "?"),
                 ends_at=a.get("ends_at", "?"))
    if reason == "follow_up":
        return t(key, lang, on=a.get("on", "?"), outcome=outcome_name(a.get("outcome"), lang))
    if reason == "open_complaint":
        category = a.get("category") or t("feedback.no_category", lang)
        return t(key, lang, category=category, on=a.get("on", "?"), count=a.get("count", "?"))
    if reason in ("complaint", "promise_unkept", "birthday", "joined", "first_purchase",
                  "campaign_follow_up", "prospect_followup", "contract_renewal"):
        fields = {"on": "?", "days": "?", "date": "?", "years": "?", "campaign": "?",
                  "grade": "?", "score": "?", "contract_id": "?", "ends_at": "?", **a}
        return t(key, lang, **{k: fields[k] for k in _fields(key)})
    return t(key, lang)


def _fields(key: str) -> list[str]:
    import string

    from ..i18n import MESSAGES

    return [f for _, f, _, _ in string.Formatter().parse(MESSAGES[key]["en"]) if f]


def kind_name(reason: str, lang: str) -> str:
    return t(f"task_kind.{reason}", lang)


def check_text(checked: Any, lang: str) -> str | None:
    """What the next run found for a "will come back" (None before it looked)."""
    a = _args(checked)
    if a.get("code") not in ("came_back", "not_back"):
        return None
    return t(f"outcome_check.{a['code']}", lang, **{k: v for k, v in a.items() if k != "code"})


def task_words(task: dict[str, Any], lang: str) -> dict[str, Any]:
    """``task`` with its words added: ``reason_text``, ``kind``, ``priority_name``,
    ``status_name`` and ``close_text``."""
    out = dict(task)
    out["reason_text"] = reason_text(task["reason"], task.get("reason_args"), lang)
    out["kind"] = kind_name(task["reason"], lang)
    out["priority_name"] = t(f"task_priority.{int(task['priority'])}", lang)
    out["status_name"] = t(f"task_status.{task['status']}", lang)
    note = task.get("close_note")
    out["close_text"] = t(f"task_close.{note}", lang) if note else None
    return out


__all__ = ["check_text", "kind_name", "outcome_name", "reason_text", "task_words"]

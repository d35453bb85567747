"""Alerts into words, at send time: one line per event, and a message per channel.

Events hold codes and figures (:class:`~tierwise.alerts.rules.AlertEvent`); the sentences come
from the one catalogue (:mod:`tierwise.i18n`), in Chinese or English.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..i18n import name_of, t
from ..i18n.render import warning_message
from .rules import AlertEvent

#: Which catalogue family names the before/after codes of each rule (None: shown as they are).
_FAMILY = {"tier": "tier", "state": "state", "segment": None}


@dataclass
class Message:
    """What one delivery carries: a subject, lines, and the events behind them."""

    subject: str
    heading: str
    lines: list[str]
    keys: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        return "\n".join([self.heading, "", *(f"- {line}" for line in self.lines)])


def _pct(value: Any) -> str:
    return "?" if value is None else f"{100 * float(value):.0f} %"


def who(params: dict[str, Any], lang: str) -> str:
    """How a customer is named in an alert: name and id (and the manager when known)."""
    cid = params.get("customer_id")
    name = params.get("name") or cid
    if params.get("account_manager"):
        return t("alert.who_manager", lang, name=name, id=cid, manager=params["account_manager"])
    return t("alert.who", lang, name=name, id=cid) if name != cid else str(cid)


def _named(family: str | None, code: Any, lang: str) -> str:
    if code is None:
        return t("alert.nobody", lang)
    return str(name_of(family, code, lang)) if family else str(code)


def event_text(event: AlertEvent, lang: str) -> str:
    """One event as one sentence.

    Examples
    --------
    >>> e = AlertEvent("tier:C1:major>key:2026-10", "tier", 2, "2026-10", "C1", (),
    ...                {"customer_id": "C1", "name": "Acme", "before": "major", "after": "key"})
    >>> event_text(e, "en")
    'Acme (C1): tier major -> key'
    >>> event_text(e, "zh")
    'Acme（C1）：客户层级 主要客户 → 重要客户'
    """
    p = event.params
    if event.code == "warning":
        return t("alert.warning", lang, who=who(p, lang),
                 severity=_named("severity", p.get("severity"), lang),
                 message=warning_message(p, lang))
    if event.code == "task_overdue":
        from ..tasks.words import reason_text

        return t("alert.task_overdue", lang, who=who(p, lang), days=p.get("days"),
                 reason=reason_text(p.get("reason") or "", p.get("reason_args"), lang),
                 due=p.get("due"), assignee=p.get("assignee"))
    if event.code == "likelihood":
        return t("alert.likelihood", lang, who=who(p, lang), before=_pct(p.get("before")),
                 after=_pct(p.get("after")), threshold=_pct(p.get("threshold")))
    family = _FAMILY.get(event.code)
    return t(f"alert.{event.code}", lang, who=who(p, lang),
             before=_named(family, p.get("before"), lang),
             after=_named(family, p.get("after"), lang))


def alert_message(events: list[AlertEvent], *, lang: str, name: str, period: str,
                  as_of: str, max_lines: int) -> Message:
    """The message listing ``events`` (the first ``max_lines``, the rest counted)."""
    lines = [event_text(e, lang) for e in events[:max_lines]]
    if len(events) > max_lines:
        lines.append(t("alert.more", lang, n=len(events) - max_lines))
    return Message(subject=t("alert.subject", lang, period=period, n=len(events)),
                   heading=t("alert.heading", lang, name=name, period=period, as_of=as_of),
                   lines=lines, keys=[e.key for e in events],
                   data={"period": period, "as_of": as_of,
                         "events": [{**e.to_dict(), "text": event_text(e, lang)}
                                    for e in events]})


__all__ = ["Message", "alert_message", "event_text", "who"]

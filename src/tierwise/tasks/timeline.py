"""One customer's story in one column: orders, snapshots, tasks, outcomes and campaigns by date.

:func:`customer_timeline` reads the store and returns events as codes and figures, newest first;
:func:`timeline_words` words them in either language (the web's customer page shows them).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..i18n import name_of, t
from ..store import Store
from .repository import _has_tasks
from .words import check_text, outcome_name, reason_text

#: Orders shown at most (the newest): a regular of ten years has thousands.
MAX_ORDERS = 100


def _day(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    return pd.Timestamp(value).date().isoformat()


def _clean(value: Any) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def customer_timeline(store: Store, customer_id: str, *, max_orders: int = MAX_ORDERS
                      ) -> list[dict[str, Any]]:
    """Every event of one customer, newest first.

    Each event is a dict with ``date`` (ISO), ``kind`` (``order``, ``refund``, ``snapshot``,
    ``task``, ``task_closed``, ``outcome``, ``campaign``, ``redeemed``) and its figures.
    """
    con = store.con
    rows = con.execute("SELECT customer_key FROM customers WHERE customer_id = ?",
                       [customer_id]).fetchall()
    if not rows:
        return []
    key = rows[0][0]
    events: list[dict[str, Any]] = []
    for day, amount, refund, order_id in con.execute(
            "SELECT ordered_at, amount, is_refund, order_id FROM orders WHERE customer_key = ? "
            "ORDER BY ordered_at DESC, order_id LIMIT ?", [key, max_orders]).fetchall():
        events.append({"date": _day(day), "kind": "refund" if refund else "order",
                       "amount": float(amount), "order_id": order_id})
    for run_id, period, as_of, tier, state, policy, key_account in con.execute(
            "SELECT r.run_id, r.period, r.as_of, s.tier, s.activity_state, s.activity_policy, "
            "s.key_account FROM snapshot_customers s JOIN runs r USING (run_id) "
            "WHERE s.customer_key = ? ORDER BY r.as_of, r.run_id", [key]).fetchall():
        events.append({"date": _day(as_of), "kind": "snapshot", "run_id": run_id,
                       "period": period, "tier": tier, "state": state, "policy": policy,
                       "key_account": bool(key_account)})
    if _has_tasks(con):
        events += _task_events(con, key)
    events += _campaign_events(con, key)
    order = {"outcome": 0, "task_closed": 1, "task": 2, "snapshot": 3, "redeemed": 4,
             "campaign": 5, "order": 6, "refund": 6}
    events.sort(key=lambda e: (e["date"] or "", -order[e["kind"]]), reverse=True)
    return events


def _task_events(con: Any, key: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    tasks = con.execute("SELECT task_id, reason, reason_args, assignee, due, priority, status, "
                        "as_of, created_at, closed_at, close_note FROM tasks "
                        "WHERE customer_key = ? ORDER BY task_id", [key]).df()
    for r in tasks.to_dict("records"):
        base = {"task_id": int(r["task_id"]), "reason": r["reason"],
                "reason_args": r["reason_args"], "assignee": r["assignee"],
                "due": _day(r["due"]), "priority": int(r["priority"]), "status": r["status"]}
        events.append({"date": _day(r["as_of"]), "kind": "task", **base})
        if r["status"] == "closed":
            events.append({"date": _day(r["closed_at"]), "kind": "task_closed",
                           "note": r["close_note"], **base})
    outcomes = con.execute("SELECT outcome_id, task_id, outcome, note, next_contact, "
                           "recorded_on, recorded_by, checked FROM task_outcomes "
                           "WHERE customer_key = ? ORDER BY outcome_id", [key]).df()
    for r in outcomes.to_dict("records"):
        events.append({"date": _day(r["recorded_on"]), "kind": "outcome",
                       "outcome_id": int(r["outcome_id"]), "task_id": int(r["task_id"]),
                       "outcome": r["outcome"], "note": _clean(r["note"]),
                       "next_contact": _day(r["next_contact"]), "by": r["recorded_by"],
                       "checked": _clean(r["checked"])})
    return events


def _campaign_events(con: Any, key: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for campaign_id, name, start, group in con.execute(
            "SELECT c.campaign_id, c.name, c.window_start, m.\"group\" FROM campaign_members m "
            "JOIN campaigns c USING (campaign_id) WHERE m.customer_key = ? ORDER BY 1",
            [key]).fetchall():
        events.append({"date": _day(start), "kind": "campaign", "campaign_id": campaign_id,
                       "campaign": name, "group": group})
    for campaign_id, name, used_at, amount in con.execute(
            "SELECT c.campaign_id, c.name, r.used_at, r.amount FROM campaign_redemptions r "
            "JOIN campaigns c USING (campaign_id) WHERE r.customer_key = ? ORDER BY 3",
            [key]).fetchall():
        events.append({"date": _day(used_at), "kind": "redeemed", "campaign_id": campaign_id,
                       "campaign": name, "amount": float(amount)})
    return events


def event_text(event: dict[str, Any], lang: str) -> str:
    """One event as a line of text in ``lang``."""
    kind = event["kind"]
    if kind in ("order", "refund"):
        return t(f"timeline.{kind}", lang, amount=f"{event['amount']:,.2f}")
    if kind == "snapshot":
        return t("timeline.snapshot", lang, period=event["period"],
                 tier=name_of("tier", event["tier"], lang) or "-",
                 state=name_of("state", event["state"], lang) or "-")
    if kind == "task":
        return t("timeline.task", lang, assignee=event["assignee"], due=event["due"],
                 reason=reason_text(event["reason"], event["reason_args"], lang))
    if kind == "task_closed":
        return t("timeline.task_closed", lang,
                 reason=reason_text(event["reason"], event["reason_args"], lang),
                 note=t(f"task_close.{event['note']}", lang) if event.get("note") else "")
    if kind == "outcome":
        return t("timeline.outcome", lang, by=event["by"],
                 outcome=outcome_name(event["outcome"], lang))
    if kind == "campaign":
        return t("timeline.campaign", lang, campaign=event["campaign"],
                 group=t(f"timeline.group.{event['group']}", lang))
    return t("timeline.redeemed", lang, campaign=event["campaign"],
             amount=f"{event['amount']:,.2f}")


def timeline_words(events: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Each event with its ``text`` (and, for an outcome, ``detail``: the next contact date and
    what the next run found)."""
    out = []
    for event in events:
        item = {**event, "text": event_text(event, lang)}
        if event["kind"] == "outcome":
            parts = []
            if event.get("next_contact"):
                parts.append(t("timeline.next", lang, date=event["next_contact"]))
            found = check_text(event.get("checked"), lang)
            if found:
                parts.append(found)
            item["detail"] = "; ".join(parts) or None
        out.append(item)
    return out


__all__ = ["customer_timeline", "event_text", "timeline_words"]

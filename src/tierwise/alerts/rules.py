"""Alert rules: what changed between a run and the run before it, as codes and parameters.

Each rule compares the two snapshots the store keeps (``snapshot_customers``) or reads the run's
early warnings (:mod:`tierwise.lifecycle.warnings`):

* ``tier``: a customer moved into or out of one of ``[alerts] tiers`` (a customer new in the
  run that lands in one of them counts too);
* ``state``: a customer moved into or out of one of ``[alerts] states``;
* ``segment``: a customer changed segment;
* ``warning``: a key or major account's early warning in the run;
* ``likelihood``: purchase likelihood was at or above ``likelihood_threshold`` and is below it;

``state``, ``segment`` and ``likelihood`` look at the customers in ``watch_tiers`` (in either
run) only, so a restaurant's thousands of casual members do not each raise an alert.

An event's key names the rule, the customer, the change and the run's **period** (not its id):
a re-run of the same period, which replaces its run, raises the same keys, so nothing is sent
twice (:mod:`tierwise.alerts.log`).

* ``task_overdue``: an open task (:mod:`tierwise.tasks`) is past its due date on the day of
  the pass (``today``: the caller's calendar day; a run's as-of date is the data's day). Keyed
  by the task and its due date, so a task moved to a later day and missed again alerts again.

"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

from ..config import AlertsConfig
from ..store import Store

_COLUMNS = ("customer_key", "customer_id", "name", "account_manager", "segment_owner", "tier",
            "activity_state", "segment", "purchase_likelihood")


@dataclass(frozen=True)
class AlertEvent:
    """One alert: a rule's code and its parameters (words are made at send time)."""

    key: str
    code: str
    run_id: int
    period: str
    customer_id: str | None
    people: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "code": self.code, "run_id": self.run_id,
                "period": self.period, "customer_id": self.customer_id,
                "people": list(self.people), "params": self.params}


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()
    return value


def _people(*names: Any) -> tuple[str, ...]:
    """The account manager, then the segment owner (each once, blanks left out)."""
    out: list[str] = []
    for name in names:
        text = None if name is None else str(name).strip()
        if text and text not in out:
            out.append(text)
    return tuple(out)


def _in(column: str, values: list[str]) -> str:
    if not values:
        return "FALSE"
    return f"{column} IN ({', '.join(_quote(v) for v in values)})"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def change_events(store: Store, run_id: int, previous_id: int, period: str,
                  cfg: AlertsConfig) -> list[AlertEvent]:
    """The tier, state, segment and likelihood events between ``previous_id`` and ``run_id``."""
    have = set(store.snapshot_columns())
    cols = ", ".join(f"{c}" if c in have else f"NULL AS {c}" for c in _COLUMNS)
    watched = "TRUE" if not cfg.watch_tiers else \
        f"({_in('p.tier', cfg.watch_tiers)} OR {_in('c.tier', cfg.watch_tiers)})"
    rows = store.con.execute(f"""
        WITH c AS (SELECT {cols} FROM snapshot_customers WHERE run_id = ?),
             p AS (SELECT {cols} FROM snapshot_customers WHERE run_id = ?)
        SELECT c.customer_id, c.name, c.account_manager, c.segment_owner,
               p.customer_key IS NOT NULL AS known, {watched} AS watched,
               p.tier, c.tier, p.activity_state, c.activity_state, p.segment, c.segment,
               p.purchase_likelihood, c.purchase_likelihood
        FROM c LEFT JOIN p USING (customer_key)
        WHERE p.tier IS DISTINCT FROM c.tier
           OR p.activity_state IS DISTINCT FROM c.activity_state
           OR p.segment IS DISTINCT FROM c.segment
           OR (p.purchase_likelihood >= ? AND c.purchase_likelihood < ?)
        ORDER BY c.customer_id""",
        [run_id, previous_id, cfg.likelihood_threshold, cfg.likelihood_threshold]).fetchall()
    rules, events = set(cfg.rules), []
    for (cid, name, manager, owner, known, watch, tier_p, tier_c, state_p, state_c, seg_p,
         seg_c, like_p, like_c) in rows:
        base = {"customer_id": cid, "name": name, "account_manager": manager}
        people = _people(manager, owner)
        found: list[tuple[str, Any, Any]] = []
        if "tier" in rules and tier_p != tier_c and (tier_p in cfg.tiers or tier_c in cfg.tiers):
            found.append(("tier", tier_p if known else None, tier_c))
        if known and watch:
            if "state" in rules and state_p != state_c and (state_p in cfg.states
                                                             or state_c in cfg.states):
                found.append(("state", state_p, state_c))
            if "segment" in rules and seg_p != seg_c:
                found.append(("segment", seg_p, seg_c))
        events += [AlertEvent(f"{code}:{cid}:{before}>{after}:{period}", code, run_id, period,
                              cid, people, {**base, "before": _plain(before),
                                            "after": _plain(after)})
                   for code, before, after in found]
        if ("likelihood" in rules and known and watch and like_p is not None
                and like_c is not None and like_p >= cfg.likelihood_threshold > like_c):
            events.append(AlertEvent(
                f"likelihood:{cid}:{cfg.likelihood_threshold:g}:{period}", "likelihood", run_id,
                period, cid, people,
                {**base, "before": _plain(like_p), "after": _plain(like_c),
                 "threshold": cfg.likelihood_threshold}))
    return events


def warning_events(store: Store, run_id: int, period: str) -> list[AlertEvent]:
    """One event per early warning of the run (:func:`tierwise.lifecycle.early_warnings`)."""
    table = store.run_table(run_id, "warnings", words=False)
    if table is None or table.empty:
        return []
    owners = dict(store.con.execute(
        "SELECT customer_id, segment_owner FROM snapshot_customers WHERE run_id = ? AND "
        "customer_id IN (SELECT unnest(?))",
        [run_id, [str(c) for c in table["customer_id"]]]).fetchall()) \
        if "segment_owner" in store.snapshot_columns() else {}
    events = []
    for row in json.loads(table.to_json(orient="records", force_ascii=False)):
        cid = None if row.get("customer_id") is None else str(row["customer_id"])
        params = {k: row.get(k) for k in ("customer_id", "name", "account_manager", "tier",
                                           "kind", "period", "current", "reference",
                                           "change_pct", "window", "severity")}
        events.append(AlertEvent(f"warning:{row.get('kind')}:{cid}:{row.get('period') or period}",
                                 "warning", run_id, period, cid,
                                 _people(row.get("account_manager"), owners.get(cid)), params))
    return events


def task_events(store: Store, run_id: int, period: str, today: dt.date) -> list[AlertEvent]:
    """One event per open task due before ``today`` (its assignee is the person to tell)."""
    from ..tasks.repository import overdue_tasks

    tasks = overdue_tasks(store, today)
    events = []
    for task in json.loads(tasks.to_json(orient="records", date_format="iso",
                                         force_ascii=False)):
        due = str(task["due"])[:10]
        cid = None if task.get("customer_id") is None else str(task["customer_id"])
        events.append(AlertEvent(
            f"task_overdue:{task['task_id']}:{due}", "task_overdue", run_id, period, cid,
            _people(task.get("assignee")),
            {"customer_id": cid, "name": task.get("name"), "task_id": task["task_id"],
             "reason": task.get("reason"), "reason_args": task.get("reason_args"),
             "due": due, "assignee": task.get("assignee"),
             "days": (today - dt.date.fromisoformat(due)).days}))
    return events


def alert_events(store: Store, cfg: AlertsConfig, run: int | str = "latest", *,
                 today: dt.date | None = None) -> list[AlertEvent]:
    """Every event the configured rules raise for ``run`` against the run before it.

    The run before is the one the run itself compared with (its ``previous_run``); a first run
    has only warnings.

    Parameters
    ----------
    store
        The store (read-only is enough).
    cfg
        The ``[alerts]`` section.
    run
        A run id, or ``"latest"``.
    today
        The calendar day, for ``task_overdue`` (without it that rule is not looked at).
    """
    info = store.run_info(run)
    run_id, period = int(info["run_id"]), str(info["period"])
    events: list[AlertEvent] = []
    previous = info["meta"].get("previous_run")
    if previous is None or not store.con.execute(
            "SELECT count(*) FROM runs WHERE run_id = ?", [previous]).fetchall()[0][0]:
        # none, or replaced since by a re-run of its period: the run before, as a run finds it
        before = store.previous_run(info["as_of"], info["config_hash"]) \
            if previous is not None else None
        previous = None if before is None else before["run_id"]
    if previous is not None:
        events += change_events(store, run_id, int(previous), period, cfg)
    if "warning" in cfg.rules:
        events += warning_events(store, run_id, period)
    if "task_overdue" in cfg.rules and today is not None:
        events += task_events(store, run_id, period, today)
    return events


__all__ = ["AlertEvent", "alert_events", "change_events", "task_events", "warning_events"]

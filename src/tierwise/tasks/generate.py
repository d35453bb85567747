"""Which tasks a run's advice calls for: one row per customer and reason (nothing stored here).

:func:`plan_tasks` reads a run's per-customer results and its early warnings, and asks for:

* ``warning``: a key or major account with an early warning (most severe first), due
  ``warning_due_days`` after the as-of date, priority high (severity high) or medium;
* ``call``: a protected account told "call" without a warning (unlikely to buy), medium;
* ``visit``: a key account without a warning or call whose last contact (an outcome
  "reached", "visited", ... recorded on one of its tasks, column ``last_contact``) is
  ``visit_every_days`` or more before the as-of date, or who was never contacted: a planned
  visit (有目的、有计划拜访), due with this week's calls, medium;
* ``wake_up``: the ``wake_ups_per_run`` most valuable resting, dormant or shock customers
  (predicted CLV), as the call list shows them, low;
* ``birthday``, ``joined``, ``first_purchase``: the next such day within
  ``occasion_horizon_days`` of the as-of date (one per customer, the soonest; at most
  ``occasions_per_run``, most valuable first), due on the day, low;
* ``campaign_follow_up``: a target customer who used a campaign's coupon, the campaign's window
  over at most ``campaign_follow_up_days`` ago, low;
* ``prospect_followup``: an open prospect of a ``[prospects] followup_grades`` grade (A by
  default; at most ``followups_per_run``, best score first), due ``followup_due_days`` after
  the as-of date, medium (:mod:`tierwise.tiering.prospects`).
* ``open_complaint``: a customer of ``[feedback] task_tiers`` (key and major) with an open
  complaint (:mod:`tierwise.feedback.complaints`), one task per customer naming the oldest
  complaint and how many are open, due ``warning_due_days`` after the as-of date, high. When
  the complaints are resolved in a later import, the next run closes the task (reason gone).
* ``contract_renewal``: a customer with a contract due for renewal (ending within
  ``[contracts] reminder_days``, or ended within its grace days, not renewed;
  :mod:`tierwise.lifecycle.renewals`), the soonest one, due as the renewals table says, high
  when the contract ends within 30 days, else medium.

Customers told "do not contact" or "archive" get none of these. Each task names its assignee:
the account manager, else the segment owner, else the assignee of the customer's main store or
region (``[tasks] by_store``, ``by_region``), else ``default_assignee``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from ..config import TasksConfig
from ..lifecycle.advice import WARNING_FIELDS
from ..lifecycle.policies import WAKE_UP_STATES
from .codes import OCCASIONS

#: The columns of a plan (and of the rows :func:`tierwise.tasks.repository.sync_tasks` writes).
PLAN_COLUMNS = ["customer_key", "customer_id", "reason", "reason_args", "assignee",
                "assigned_by", "due", "priority"]
#: The per-customer columns :func:`plan_tasks` reads (with :func:`assignee_of`); a run passes
#: these only, not its whole snapshot frame.
CUSTOMER_COLUMNS = ("customer_key", "customer_id", "activity_policy", "activity_state",
                    "clv_predicted", "days_since_last", "account_manager", "segment_owner",
                    "region", "main_store", "birthday", "joined_at", "first_purchase",
                    "key_account", "last_contact")
#: Policies that get no task: the customer is unlikely to buy, or archived.
QUIET_POLICIES = ("do_not_contact", "archive")


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def assignee_of(row: dict[str, Any], cfg: TasksConfig) -> tuple[str, str]:
    """``(assignee, where it came from)`` for one customer row.

    Examples
    --------
    >>> assignee_of({"account_manager": None, "segment_owner": None, "region": "华东"},
    ...             TasksConfig(by_region={"华东": "张伟"}))
    ('张伟', 'region')
    """
    for column in ("account_manager", "segment_owner"):
        name = _text(row.get(column))
        if name:
            return name, column
    store = _text(row.get("main_store"))
    if store and store in cfg.by_store:
        return cfg.by_store[store], "store"
    region = _text(row.get("region"))
    if region and region in cfg.by_region:
        return cfg.by_region[region], "region"
    return cfg.default_assignee, "default"


def next_occasion(day: Any, as_of: dt.date, horizon: int) -> tuple[dt.date, int] | None:
    """The next yearly return of ``day`` on or after ``as_of`` within ``horizon`` days, with the
    years since ``day`` (None when there is none, or it is not yet a year after ``day``).

    A 29 February falls on 28 February in other years.

    Examples
    --------
    >>> next_occasion(dt.date(2024, 2, 29), dt.date(2026, 2, 20), 14)
    (datetime.date(2026, 2, 28), 2)
    """
    if day is None or day is pd.NaT or (isinstance(day, float) and math.isnan(day)):
        return None
    day = pd.Timestamp(day).date()
    for year in (as_of.year, as_of.year + 1):
        try:
            when = day.replace(year=year)
        except ValueError:  # 29 February in a common year
            when = dt.date(year, 2, 28)
        years = year - day.year
        if when >= as_of and years >= 1:
            return (when, years) if (when - as_of).days <= horizon else None
    return None


def plan_tasks(customers: pd.DataFrame, warnings: pd.DataFrame | None, cfg: TasksConfig,
               as_of: dt.date, *, redeemers: pd.DataFrame | None = None,
               prospects: pd.DataFrame | None = None, prospect_due_days: int = 7,
               complaints: pd.DataFrame | None = None,
               renewals: pd.DataFrame | None = None) -> pd.DataFrame:
    """The tasks a run's advice calls for (rules in the module notes).

    Parameters
    ----------
    customers
        The run's per-customer codes: ``customer_key``, ``customer_id``, ``activity_policy``,
        ``activity_state``, ``clv_predicted``, ``days_since_last``, ``account_manager``,
        ``segment_owner``, ``region``; for occasions ``birthday``, ``joined_at``,
        ``first_purchase``; for planned visits ``key_account`` and ``last_contact``; optionally
        ``main_store``.
    warnings
        The run's ``warnings`` table (``customer_key``, ``severity`` and the figures), most
        severe first, or None.
    cfg
        ``[tasks]``.
    as_of
        The run's as-of date: due dates count from it.
    redeemers
        Target customers who used a campaign's coupon: ``customer_key``, ``campaign_id``,
        ``campaign`` (its name), ``window_end``.
    complaints
        The run's ``open_complaints`` table (``customer_key``, ``received_at``, ``category``),
        oldest first, or None.
    renewals
        The run's ``contracts`` table (:func:`tierwise.lifecycle.renewals.contract_status`):
        contracts whose status is ``due`` or ``overdue`` get a task.

    Returns
    -------
    pandas.DataFrame
        :data:`PLAN_COLUMNS`, one row per customer and reason; ``reason_args`` is JSON text.
    """
    frame = customers.reset_index(drop=True)
    quiet = frame.get("activity_policy", pd.Series(None, index=frame.index)).isin(QUIET_POLICIES)
    active = frame[~quiet.fillna(False).to_numpy()]
    by_key = active.set_index("customer_key", drop=False)
    rows: list[dict[str, Any]] = []
    soon = as_of + dt.timedelta(days=cfg.warning_due_days)
    week = as_of + dt.timedelta(days=cfg.call_due_days)

    def add(key: Any, reason: str, args: dict[str, Any], due: dt.date, priority: int) -> None:
        row = by_key.loc[key]
        who, basis = assignee_of(row.to_dict(), cfg)
        rows.append({"customer_key": int(key), "customer_id": str(row["customer_id"]),
                     "reason": reason, "reason_args": json.dumps(args, ensure_ascii=False,
                                                                 default=str),
                     "assignee": who, "assigned_by": basis, "due": due, "priority": priority})

    warned: set[int] = set()
    if warnings is not None and len(warnings) and "customer_key" in warnings:
        for w in warnings.drop_duplicates("customer_key").to_dict("records"):
            key = int(w["customer_key"])
            if key not in by_key.index:
                continue
            args = {c: _plain(w.get(c)) for c in (*WARNING_FIELDS, "severity")}
            add(key, "warning", args, soon, 1 if w.get("severity") == "high" else 2)
            warned.add(key)
    if "activity_policy" in active:
        for key in active.loc[active["activity_policy"] == "call", "customer_key"]:
            if int(key) not in warned:
                add(key, "call", {}, week, 2)
                warned.add(int(key))
    _visit_rows(active, warned, cfg, as_of, week, add)
    if cfg.wake_ups_per_run and {"activity_state", "clv_predicted"} <= set(active.columns):
        pool = active[active["activity_state"].isin(WAKE_UP_STATES)
                      & active["clv_predicted"].notna()
                      & ~active["customer_key"].isin(list(warned))]
        for r in pool.nlargest(cfg.wake_ups_per_run, "clv_predicted").to_dict("records"):
            days = r.get("days_since_last")
            add(r["customer_key"], "wake_up",
                {"state": r["activity_state"],
                 "days": None if days is None or pd.isna(days) else int(days)}, week, 3)
    _complaint_rows(set(by_key.index.astype(int)), complaints, soon, add)
    _occasion_rows(active, cfg, as_of, add)
    if redeemers is not None and len(redeemers):
        for r in redeemers.drop_duplicates("customer_key").to_dict("records"):
            if int(r["customer_key"]) in by_key.index:
                add(r["customer_key"], "campaign_follow_up",
                    {"campaign_id": int(r["campaign_id"]), "campaign": r["campaign"]}, week, 3)
    if prospects is not None and len(prospects):
        due = as_of + dt.timedelta(days=prospect_due_days)
        for r in prospects.to_dict("records"):
            if int(r["customer_key"]) in by_key.index:
                add(r["customer_key"], "prospect_followup",
                    {"grade": r["grade"], "score": _plain(round(float(r["score"]), 1))}, due, 2)
    _renewal_rows(renewals, by_key, add)
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)


def _visit_rows(active: pd.DataFrame, warned: set[int], cfg: TasksConfig, as_of: dt.date,
                due: dt.date, add: Any) -> None:
    """A planned visit for each key account not contacted in ``visit_every_days`` (and not
    already called about a warning); ``warned`` gets them, so they get no wake-up task too."""
    if not cfg.visit_every_days or "key_account" not in active:
        return
    keyed = active[active["key_account"].fillna(False).astype(bool).to_numpy()
                   & ~active["customer_key"].astype(int).isin(warned).to_numpy()]
    last = pd.to_datetime(keyed["last_contact"], errors="coerce") if "last_contact" in keyed \
        else pd.Series(pd.NaT, index=keyed.index)
    for key, when in zip(keyed["customer_key"], last, strict=True):
        days = None if pd.isna(when) else (as_of - when.date()).days
        if days is None or days >= cfg.visit_every_days:
            add(key, "visit", {"days": days}, due, 2)
            warned.add(int(key))


def _complaint_rows(known: set[int], complaints: pd.DataFrame | None, due: dt.date,
                    add: Any) -> None:
    """One ``open_complaint`` task per customer of ``known`` with open complaints, naming the
    oldest (an archived customer gets none: the run closes their tasks)."""
    if complaints is None or not len(complaints):
        return
    counts = complaints.groupby("customer_key").size()
    for c in complaints.drop_duplicates("customer_key").to_dict("records"):
        key = int(c["customer_key"])
        if key in known:
            category = c.get("category")
            add(key, "open_complaint",
                {"on": str(c["received_at"])[:10], "count": int(counts[c["customer_key"]]),
                 "category": None if category is None or pd.isna(category) else str(category)},
                due, 1)
def _renewal_rows(renewals: pd.DataFrame | None, by_key: pd.DataFrame, add: Any) -> None:
    """One ``contract_renewal`` task per customer: its soonest contract due for renewal."""
    from ..lifecycle.renewals import REMIND_STATUSES

    if renewals is None or not len(renewals) or "status" not in renewals:
        return
    due = renewals[renewals["status"].isin(REMIND_STATUSES)].sort_values("days_left")
    for r in due.drop_duplicates("customer_key").to_dict("records"):
        if int(r["customer_key"]) not in by_key.index:
            continue
        days = int(r["days_left"])
        args = {"contract_id": str(r["contract_id"]), "ends_at": str(r["ends_at"])[:10],
                "days": days, "value": _plain(r.get("value")),
                "product": None if pd.isna(r.get("product")) else str(r.get("product"))}
        add(r["customer_key"], "contract_renewal", args, pd.Timestamp(r["due"]).date(),
            1 if days <= 30 else 2)


def _occasion_rows(active: pd.DataFrame, cfg: TasksConfig, as_of: dt.date, add: Any) -> None:
    """The soonest birthday or anniversary of each customer within the horizon (capped).

    Each date column's next return is computed for all customers at once
    (:func:`_next_occasions`, the rules of :func:`next_occasion`); only the customers with an
    occasion in the horizon are then ranked in Python.
    """
    if not cfg.occasions_per_run:
        return
    columns = {"birthday": "birthday", "joined": "joined_at", "first_purchase": "first_purchase"}
    n = len(active)
    best_when = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    best_kind = np.full(n, -1)
    best_years = np.zeros(n, dtype=np.int64)
    for k, occasion in enumerate(OCCASIONS):
        column = columns[occasion]
        if column not in active:
            continue
        when, years = _next_occasions(active[column], as_of, cfg.occasion_horizon_days)
        sooner = ~np.isnat(when) & (np.isnat(best_when) | (when < best_when))
        best_when[sooner], best_kind[sooner], best_years[sooner] = \
            when[sooner], k, years[sooner]
    value = active["clv_predicted"].to_numpy(dtype=float, na_value=np.nan) \
        if "clv_predicted" in active else np.full(n, np.nan)
    keys = active["customer_key"].to_numpy()
    found: list[tuple[dt.date, float, int, str, dict[str, Any]]] = []
    for i in np.flatnonzero(best_kind >= 0):
        when, occasion = best_when[i].item(), OCCASIONS[best_kind[i]]
        args: dict[str, Any] = {"date": when.isoformat()}
        if occasion != "birthday":  # a birthday's years are the customer's age: not shown
            args["years"] = int(best_years[i])
        v = value[i]
        found.append((when, -(v if not np.isnan(v) else -np.inf), int(keys[i]), occasion, args))
    found.sort(key=lambda f: (f[1], f[0], f[2]))
    for when, _, key, occasion, args in found[:cfg.occasions_per_run]:
        add(key, occasion, args, when, 3)


def _next_occasions(days: pd.Series, as_of: dt.date, horizon: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`next_occasion` of every row: the date (``datetime64[D]``, NaT for none) and the
    years since the day.

    Dates, timestamps and date-like text (as ``pd.Timestamp`` reads them) are taken; a column
    holding anything else goes through :func:`next_occasion` row by row, as before.
    """
    try:
        stamps = pd.to_datetime(pd.Series(days.to_numpy(), dtype=object) if
                                days.dtype == object else days)
    except (TypeError, ValueError, OverflowError):
        hits = [next_occasion(d, as_of, horizon) for d in days]
        when = np.array([h[0] if h else None for h in hits], dtype="datetime64[D]")
        return when, np.array([h[1] if h else 0 for h in hits], dtype=np.int64)
    year = stamps.dt.year.to_numpy(dtype=float, na_value=np.nan)
    month = stamps.dt.month.to_numpy(dtype=float, na_value=1.0).astype(np.int64)
    day = stamps.dt.day.to_numpy(dtype=float, na_value=1.0).astype(np.int64)
    known = ~np.isnan(year)
    start = np.datetime64(as_of, "D")
    when = np.full(len(year), np.datetime64("NaT"), dtype="datetime64[D]")
    years = np.zeros(len(year), dtype=np.int64)
    open_ = known.copy()  # no year chosen yet
    for candidate in (as_of.year, as_of.year + 1):
        leap = candidate % 4 == 0 and (candidate % 100 != 0 or candidate % 400 == 0)
        d = np.where((month == 2) & (day == 29) & (not leap), 28, day)
        date = (np.datetime64(f"{candidate:04d}-01", "M") + (month - 1)).astype(
            "datetime64[D]") + (d - 1)
        since = candidate - np.nan_to_num(year).astype(np.int64)
        chosen = open_ & (date >= start) & (since >= 1)
        inside = chosen & ((date - start).astype(np.int64) <= horizon)
        when[inside], years[inside] = date[inside], since[inside]
        open_ &= ~chosen
    return when, years


def _plain(x: Any) -> Any:
    if isinstance(x, (np.integer, np.floating)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


__all__ = ["CUSTOMER_COLUMNS", "PLAN_COLUMNS", "assignee_of", "next_occasion", "plan_tasks"]

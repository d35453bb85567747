"""The loop inside ``tierwise run``: outcomes feed the snapshot, the advice becomes tasks.

Before the snapshot is computed, :func:`archived_by_outcome` reads the customers whose latest
outcome is "lost to a competitor" or "moved away"; :func:`apply_outcomes` archives them in the
snapshot (policy ``archive``, the outcome as the reason) unless they bought again since.

After it, :func:`prepare_tasks` decides every task change the run brings, reading only:

* the tasks the advice calls for (:func:`tierwise.tasks.generate.plan_tasks`, with an
  ``open_complaint`` task per key or major customer with an open complaint), plus a
  ``complaint`` task (priority high) for each complaint recorded since the last run, and a
  ``promise_unkept`` task when a "will come back" has seen no order in
  ``[tasks] will_come_back_days`` (a "will come back" followed by an order is noted as kept);
* no duplicate: a customer with an open task of that reason keeps it, and a task done for this
  very as-of date is not asked again;
* open tasks whose reason the run no longer finds close themselves (note ``reason_gone``), and an
  archived customer's open tasks close with note ``archived``.

:meth:`TaskStep.write` then writes them inside the run's transaction. Only a run for the latest
as-of date touches tasks: replaying an earlier date leaves them as they are.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from ..config import Config
from ..store import Store
from ..store.lines import query_over
from .codes import ARCHIVING, CONTACTED, RUN_REASONS
from .generate import CUSTOMER_COLUMNS, PLAN_COLUMNS, assignee_of, plan_tasks
from .repository import _has_tasks, _now


def is_latest(store: Store, as_of: dt.date) -> bool:
    """True when no run is for a later date than ``as_of``: the run of "now"."""
    latest = store.con.execute("SELECT max(as_of) FROM runs").fetchall()[0][0]
    return latest is None or as_of >= latest


def archived_by_outcome(store: Store, as_of: dt.date) -> pd.DataFrame:
    """Customers whose latest outcome archives them (lost, moved away).

    For the latest run every outcome counts (staff record them after the data's last day: the
    next run honours them); a run for an earlier date sees those recorded up to its as-of date.
    Columns ``customer_key``, ``outcome``, ``recorded_on``, ``recorded_by``.
    """
    columns = ["customer_key", "outcome", "recorded_on", "recorded_by"]
    if not _has_tasks(store.con):
        return pd.DataFrame(columns=columns)
    codes = ", ".join(f"'{c}'" for c in ARCHIVING)
    return store.con.execute(
        f"SELECT {', '.join(columns)} FROM (SELECT *, row_number() OVER (PARTITION BY "
        "customer_key ORDER BY recorded_on DESC, outcome_id DESC) AS k FROM task_outcomes "
        f"WHERE recorded_on <= ?) WHERE k = 1 AND outcome IN ({codes})",
        [dt.date.max if is_latest(store, as_of) else as_of]).df()


def apply_outcomes(frame: pd.DataFrame, archived: pd.DataFrame | None) -> pd.DataFrame:
    """Archive the customers ``archived`` names, unless they bought after the outcome.

    Their policy becomes ``archive`` with reason code ``outcome`` (a key or major account too:
    :func:`~tierwise.lifecycle.advice.protect_accounts` leaves a recorded outcome alone).
    """
    if archived is None or not len(archived):
        return frame
    out = frame.copy()
    latest = archived.set_index("customer_key")
    hit = out["customer_key"].isin(latest.index)
    if "last_purchase" in out:
        recorded = pd.to_datetime(out["customer_key"].map(latest["recorded_on"]))
        bought_since = pd.to_datetime(out["last_purchase"]) > recorded
        hit &= ~bought_since.fillna(False).astype(bool)
    for i in out.index[hit]:
        row = latest.loc[out.at[i, "customer_key"]]
        part = ["reason.outcome", {"outcome": row["outcome"],
                                   "on": pd.Timestamp(row["recorded_on"]).date().isoformat(),
                                   "by": row["recorded_by"]}]
        out.at[i, "policy_reason_args"] = json.dumps([part], ensure_ascii=False)
    if "activity_policy" not in out:
        out["activity_policy"] = None
    out["activity_policy"] = out["activity_policy"].astype(object)
    out.loc[hit, "activity_policy"] = "archive"
    out.loc[hit, "policy_reason_code"] = "outcome"
    return out


@dataclass
class TaskStep:
    """Every task change one run brings, decided before the run commits."""

    status: str
    inserts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PLAN_COLUMNS))
    closes: list[tuple[int, str]] = field(default_factory=list)
    checks: list[tuple[int, str]] = field(default_factory=list)
    #: Open tasks the run asks for again: their figures and priority follow the new advice
    #: (the due date stays: an overdue task stays overdue).
    updates: list[tuple[int, str, int]] = field(default_factory=list)
    as_of: dt.date | None = None
    reason: str | None = None

    def summary(self) -> dict[str, Any]:
        """What the run's meta keeps: counts (and why tasks were skipped)."""
        out: dict[str, Any] = {"status": self.status}
        if self.reason:
            out["reason"] = self.reason
        if self.status == "made":
            notes = [n for _, n in self.closes]
            out.update({"created": len(self.inserts),
                        "created_by_reason": self.inserts["reason"].value_counts().to_dict(),
                        "closed_reason_gone": notes.count("reason_gone"),
                        "closed_archived": notes.count("archived"),
                        "kept_open": len(self.updates),
                        "outcomes_checked": len(self.checks)})
        return out

    def write(self, con: duckdb.DuckDBPyConnection, run_id: int) -> None:
        """Write the changes (inside the caller's transaction)."""
        if self.status != "made":
            return
        now = _now()
        if len(self.inserts):
            frame = self.inserts.assign(as_of=self.as_of, run_id=run_id, created_at=now)
            query_over(
                con, "new_tasks", frame,
                "INSERT INTO tasks (task_id, customer_key, customer_id, reason, reason_args, "
                "assignee, assigned_by, due, priority, status, as_of, run_id, created_at) "
                "SELECT nextval('task_id_seq'), customer_key, customer_id, reason, "
                "reason_args, assignee, assigned_by, CAST(due AS DATE), priority, 'open', "
                "CAST(as_of AS DATE), run_id, created_at FROM new_tasks")
        # one statement per kind of change, not one per task: a regular run asks again for
        # every open task it made before (tens of thousands on a large base), and a statement
        # per row took ~3 ms each in DuckDB (issue 16)
        if self.updates:
            _update_from(con, pd.DataFrame(self.updates, columns=["task_id", "args", "priority"]),
                         "UPDATE tasks SET reason_args = u.args, priority = u.priority "
                         "FROM task_changes AS u WHERE tasks.task_id = u.task_id")
        if self.closes:
            closes = pd.DataFrame(self.closes, columns=["task_id", "note"]).assign(
                closed_at=now, closed_run_id=run_id)
            _update_from(con, closes,
                         "UPDATE tasks SET status = 'closed', closed_at = u.closed_at, "
                         "closed_run_id = u.closed_run_id, close_note = u.note "
                         "FROM task_changes AS u WHERE tasks.task_id = u.task_id")
        if self.checks:
            checks = pd.DataFrame(self.checks, columns=["outcome_id", "checked"]).assign(
                checked_run_id=run_id)
            _update_from(con, checks,
                         "UPDATE task_outcomes SET checked = u.checked, "
                         "checked_run_id = u.checked_run_id "
                         "FROM task_changes AS u WHERE task_outcomes.outcome_id = u.outcome_id")


def _update_from(con: duckdb.DuckDBPyConnection, changes: pd.DataFrame, sql: str) -> None:
    """Run an ``UPDATE ... FROM task_changes`` with ``changes`` readable as that table (through
    :func:`~tierwise.store.lines.query_over`: nothing held in the catalog to the commit); a key
    listed twice keeps its last change, as one statement per change in list order did."""
    query_over(con, "task_changes",
               changes.drop_duplicates(subset=changes.columns[0], keep="last"), sql)


def prepare_tasks(cfg: Config, store: Store, customers: pd.DataFrame,
                  warnings: pd.DataFrame | None, as_of: dt.date,
                  prospects: pd.DataFrame | None = None, *,
                  complaints: pd.DataFrame | None = None,
                  renewals: pd.DataFrame | None = None) -> TaskStep:
    """Decide the run's task changes (module notes); nothing is written here.

    ``customers`` is the run's per-customer frame (codes; only
    :data:`~tierwise.tasks.generate.CUSTOMER_COLUMNS` are read); ``prospects`` the run's open
    prospects, best first (:mod:`tierwise.tiering.prospects`): those of a
    ``[prospects] followup_grades`` grade get a follow-up; ``complaints`` the run's
    ``open_complaints`` table (:mod:`tierwise.feedback`), or None; ``renewals`` the run's
    ``contracts`` table (contracts due for renewal get a task).
    """
    if not cfg.tasks.enabled:
        return TaskStep("skipped", reason="[tasks] enabled = false")
    if not is_latest(store, as_of):
        return TaskStep("skipped", reason="a run for a later date exists: tasks follow the "
                                          "latest run only")
    frame = _with_contact_columns(store, customers, as_of, cfg)
    plan = plan_tasks(frame, warnings, cfg.tasks, as_of,
                      redeemers=_redeemers(store, as_of, cfg.tasks.campaign_follow_up_days),
                      prospects=_followups(prospects, cfg),
                      prospect_due_days=cfg.prospects.followup_due_days,
                      complaints=complaints, renewals=renewals)
    from_outcomes, checks = _outcome_tasks(store, frame, cfg, as_of)
    plan = pd.concat([plan, from_outcomes], ignore_index=True) if len(from_outcomes) else plan
    plan = plan.drop_duplicates(["customer_key", "reason"])
    open_now = store.con.execute("SELECT task_id, customer_key, reason FROM tasks "
                                 "WHERE status = 'open'").df()
    done_now = store.con.execute("SELECT customer_key, reason FROM tasks WHERE status = 'done' "
                                 "AND as_of = ?", [as_of]).df()
    have = set(zip(open_now["customer_key"].astype(int), open_now["reason"], strict=True)) | \
        set(zip(done_now["customer_key"].astype(int), done_now["reason"], strict=True))
    inserts = plan[pd.Series([(int(k), r) not in have for k, r in
                              zip(plan["customer_key"], plan["reason"], strict=True)],
                             index=plan.index, dtype=bool)]  # a list would pick columns when empty
    archived = set(customers.loc[customers.get("activity_policy") == "archive",
                                 "customer_key"].astype(int)) \
        if "activity_policy" in customers else set()
    inserts = inserts[~inserts["customer_key"].astype(int).isin(archived)]
    closes: list[tuple[int, str]] = []
    updates: list[tuple[int, str, int]] = []
    asked = {(int(k), r): (a, int(p)) for k, r, a, p in
             plan[["customer_key", "reason", "reason_args", "priority"]].itertuples(index=False)}
    for task_id, key, reason in open_now.itertuples(index=False):
        if int(key) in archived:
            closes.append((int(task_id), "archived"))
        elif (int(key), reason) in asked:
            updates.append((int(task_id), *asked[(int(key), reason)]))
        elif reason in RUN_REASONS:
            closes.append((int(task_id), "reason_gone"))
    return TaskStep("made", inserts.reset_index(drop=True), closes, checks, updates, as_of)


def _followups(prospects: pd.DataFrame | None, cfg: Config) -> pd.DataFrame | None:
    """The open prospects of a follow-up grade, best score first, at most the per-run cap."""
    if prospects is None or not len(prospects) or "grade" not in prospects:
        return None
    hot = prospects[prospects["grade"].isin(cfg.prospects.followup_grades)]
    return hot.sort_values("score", ascending=False).head(cfg.prospects.followups_per_run)


def _with_contact_columns(store: Store, customers: pd.DataFrame, as_of: dt.date,
                          cfg: Config) -> pd.DataFrame:
    """The run's columns the tasks read (:data:`~tierwise.tasks.generate.CUSTOMER_COLUMNS`:
    a small frame, not a copy of the run's ~100 columns) with each customer's ``birthday``,
    the date of the last outcome that says they were contacted (``last_contact``: every
    outcome up to the as-of date, or every outcome for the latest run, as
    :func:`archived_by_outcome` reads them) and, when ``by_store`` is set, the store of most
    of their orders (``main_store``)."""
    added = ("birthday", "main_store", "last_contact")
    frame = customers[[c for c in CUSTOMER_COLUMNS if c in customers and c not in added]]
    birthdays = store.con.execute("SELECT customer_key, birthday FROM customers "
                                  "WHERE birthday IS NOT NULL").df()
    frame = frame.merge(birthdays, on="customer_key", how="left")
    upto = dt.date.max if is_latest(store, as_of) else as_of
    codes = ", ".join(f"'{c}'" for c in CONTACTED)
    contacts = store.con.execute(
        "SELECT customer_key, max(recorded_on) AS last_contact FROM task_outcomes "
        f"WHERE outcome IN ({codes}) AND recorded_on <= ? GROUP BY customer_key", [upto]).df()
    frame = frame.merge(contacts, on="customer_key", how="left")
    if cfg.tasks.by_store:
        stores = store.con.execute(
            "SELECT customer_key, mode(store) AS main_store FROM orders "
            "WHERE store IS NOT NULL AND ordered_at <= ? GROUP BY customer_key", [as_of]).df()
        frame = frame.merge(stores, on="customer_key", how="left")
    return frame


def _redeemers(store: Store, as_of: dt.date, days: int) -> pd.DataFrame:
    """Target customers who used the coupon of a campaign whose window ended in the last
    ``days`` days (as of ``as_of``)."""
    return store.con.execute(
        "SELECT DISTINCT r.customer_key, c.campaign_id, c.name AS campaign, c.window_end "
        "FROM campaigns c JOIN campaign_redemptions r USING (campaign_id) "
        "JOIN campaign_members m ON m.campaign_id = r.campaign_id "
        "AND m.customer_key = r.customer_key AND m.\"group\" = 'target' "
        "WHERE c.window_end <= ? AND c.window_end >= ? ORDER BY c.campaign_id, r.customer_key",
        [as_of, as_of - dt.timedelta(days=days)]).df()


def _outcome_tasks(store: Store, frame: pd.DataFrame, cfg: Config, as_of: dt.date
                   ) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Tasks and checks from outcomes not looked at yet: complaints, "will come back"."""
    pending = store.con.execute(
        "SELECT o.outcome_id, o.customer_key, o.outcome, o.recorded_on, "
        "(SELECT min(ordered_at) FROM orders x WHERE x.customer_key = o.customer_key "
        " AND x.ordered_at > o.recorded_on AND x.ordered_at <= ? AND NOT x.is_refund) AS back_on "
        "FROM task_outcomes o WHERE o.checked IS NULL "
        "AND o.outcome IN ('complaint', 'will_come_back') ORDER BY o.outcome_id",
        [as_of]).df()
    rows: list[dict[str, Any]] = []
    checks: list[tuple[int, str]] = []
    rows_by_key = frame.set_index("customer_key", drop=False)
    soon = as_of + dt.timedelta(days=cfg.tasks.warning_due_days)
    wait = cfg.tasks.will_come_back_days
    for p in pending.to_dict("records"):
        key, on = int(p["customer_key"]), pd.Timestamp(p["recorded_on"]).date()
        task = None
        if p["outcome"] == "complaint":
            task = ("complaint", {"on": on.isoformat()}, 1)
            checks.append((int(p["outcome_id"]), json.dumps({"code": "task"})))
        elif p["back_on"] is not None and not pd.isna(p["back_on"]):
            back = pd.Timestamp(p["back_on"]).date().isoformat()
            checks.append((int(p["outcome_id"]), json.dumps({"code": "came_back", "on": back})))
        elif (as_of - on).days >= wait:
            task = ("promise_unkept", {"on": on.isoformat(), "days": wait}, 2)
            checks.append((int(p["outcome_id"]), json.dumps({"code": "not_back", "days": wait})))
        if task is not None and key in rows_by_key.index:
            row = rows_by_key.loc[key]
            who, basis = assignee_of(row.to_dict(), cfg.tasks)
            rows.append({"customer_key": key, "customer_id": str(row["customer_id"]),
                         "reason": task[0], "reason_args": json.dumps(task[1]),
                         "assignee": who, "assigned_by": basis, "due": soon,
                         "priority": task[2]})
    return pd.DataFrame(rows, columns=PLAN_COLUMNS), checks


__all__ = ["TaskStep", "apply_outcomes", "archived_by_outcome", "is_latest", "prepare_tasks"]

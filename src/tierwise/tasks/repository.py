"""Tasks and outcomes in the store: read them, record an outcome, write a run's task changes.

Every write is one transaction: an outcome and the follow-up task it asks for land together, and
a run's task changes are written inside the run's own transaction
(:func:`tierwise.pipeline.run`), so a run either brings its snapshot and its tasks or neither.

For other parts of tierwise (alerts, digests) the readers are :func:`open_tasks` and
:func:`overdue_tasks`.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pandas as pd

from ..errors import ConfigError, StoreError
from ..store import Store
from .codes import OUTCOMES

#: What the task readers return, in order.
TASK_COLUMNS = ["task_id", "customer_id", "name", "phone", "reason", "reason_args", "assignee",
                "assigned_by", "due", "priority", "status", "as_of", "run_id", "created_at",
                "closed_at", "close_note", "customer_key"]
OUTCOME_COLUMNS = ["outcome_id", "task_id", "customer_key", "customer_id", "outcome", "note",
                   "next_contact", "recorded_on", "recorded_by", "recorded_at", "checked"]


def _has_tasks(con: duckdb.DuckDBPyConnection) -> bool:
    """False for a store written before tasks existed (opened read-only, not migrated)."""
    return bool(con.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_name = 'tasks'").fetchall()[0][0])


def _tasks(con: duckdb.DuckDBPyConnection, where: list[str], params: list[Any]) -> pd.DataFrame:
    if not _has_tasks(con):
        return pd.DataFrame(columns=TASK_COLUMNS)
    cond = " AND ".join(where) or "TRUE"
    return con.execute(
        "SELECT t.task_id, t.customer_id, c.name, c.phone, t.reason, t.reason_args, t.assignee, "
        "t.assigned_by, t.due, t.priority, t.status, t.as_of, t.run_id, t.created_at, "
        "t.closed_at, t.close_note, t.customer_key "
        "FROM tasks t LEFT JOIN customers c USING (customer_key) "
        f"WHERE {cond} ORDER BY t.due, t.priority, t.task_id", params).df()


def list_tasks(store: Store, *, assignee: str | None = None, status: str | None = "open",
               customer_id: str | None = None) -> pd.DataFrame:
    """Tasks by due date then priority, optionally of one assignee, status or customer.

    Parameters
    ----------
    status
        ``open``, ``done``, ``closed``, or None for every task.
    """
    where, params = [], []
    if assignee is not None:
        where.append("t.assignee = ?")
        params.append(assignee)
    if status is not None:
        if status not in ("open", "done", "closed"):
            raise ConfigError(f"task status {status!r} is not known",
                              "use one of: open, done, closed, all")
        where.append("t.status = ?")
        params.append(status)
    if customer_id is not None:
        where.append("t.customer_id = ?")
        params.append(customer_id)
    return _tasks(store.con, where, params)


def open_tasks(store: Store, assignee: str | None = None) -> pd.DataFrame:
    """The open tasks (of one assignee, or everyone's), by due date then priority.

    Columns: :data:`TASK_COLUMNS` (``reason`` is a code with its figures in ``reason_args``;
    :func:`tierwise.tasks.words.task_words` words them).
    """
    return list_tasks(store, assignee=assignee, status="open")


def overdue_tasks(store: Store, today: dt.date) -> pd.DataFrame:
    """The open tasks due before ``today`` (the caller says which day it is: no hidden clock)."""
    return _tasks(store.con, ["t.status = 'open'", "t.due < ?"], [today])


def get_task(store: Store, task_id: int) -> dict[str, Any]:
    """One task as a dict; :class:`StoreError` when there is no such task."""
    found = _tasks(store.con, ["t.task_id = ?"], [int(task_id)])
    if found.empty:
        raise StoreError(f"task {task_id} not found in {store.path}",
                         "list the tasks with 'tierwise tasks list'")
    return found.iloc[0].to_dict()


def outcomes_frame(store: Store, customer_id: str | None = None) -> pd.DataFrame:
    """Recorded outcomes, oldest first (of one customer, or all)."""
    if not _has_tasks(store.con):
        return pd.DataFrame(columns=OUTCOME_COLUMNS)
    where, params = ("WHERE customer_id = ?", [customer_id]) if customer_id else ("", [])
    return store.con.execute(f"SELECT {', '.join(OUTCOME_COLUMNS)} FROM task_outcomes {where} "
                             "ORDER BY recorded_on, outcome_id", params).df()


def record_outcome(store: Store, task_id: int, outcome: str, *, on: dt.date, by: str,
                   note: str | None = None, next_contact: dt.date | None = None
                   ) -> dict[str, Any]:
    """Record what happened on a task; the task is done. One transaction.

    ``next_contact`` makes a ``follow_up`` task due that day for the same assignee (or moves the
    customer's open follow-up to that day). What the outcome means for the customer (archived,
    a complaint's follow-up, a promise checked against the orders) the next run decides
    (:mod:`tierwise.tasks.loop`).

    Parameters
    ----------
    on
        The day it happened (the CLI passes today's date; the library reads no clock).
    by
        Who records it.

    Returns
    -------
    dict
        ``outcome_id``, ``task_id``, ``customer_id``, ``outcome`` and ``follow_up_task_id``
        (None without a next contact date).

    Raises
    ------
    ConfigError
        An unknown outcome, a task no longer open, a next contact date before ``on``.
    StoreError
        No such task.
    """
    if outcome not in OUTCOMES:
        raise ConfigError(f"outcome {outcome!r} is not known",
                          f"use one of: {', '.join(OUTCOMES)}")
    if next_contact is not None and next_contact < on:
        raise ConfigError(f"next contact date {next_contact} is before {on}",
                          "give a date on or after the day of the outcome")
    by = (by or "").strip() or "unknown"
    note = (note or "").strip() or None
    task = get_task(store, task_id)
    if task["status"] != "open":
        raise ConfigError(f"task {task_id} is {task['status']} already",
                          "record outcomes on open tasks ('tierwise tasks list')")
    con = store.con
    follow_up = None
    with store.transaction():
        outcome_id = con.execute("SELECT nextval('outcome_id_seq')").fetchall()[0][0]
        con.execute("INSERT INTO task_outcomes (outcome_id, task_id, customer_key, customer_id, "
                    "outcome, note, next_contact, recorded_on, recorded_by, recorded_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [outcome_id, int(task_id), int(task["customer_key"]), task["customer_id"],
                     outcome, note, next_contact, on, by, _now()])
        con.execute("UPDATE tasks SET status = 'done', closed_at = ?, close_note = 'done' "
                    "WHERE task_id = ?", [_now(), int(task_id)])
        if next_contact is not None:
            follow_up = _follow_up(con, task, outcome, on, next_contact)
    return {"outcome_id": int(outcome_id), "task_id": int(task_id),
            "customer_id": task["customer_id"], "outcome": outcome,
            "follow_up_task_id": follow_up}


def _follow_up(con: duckdb.DuckDBPyConnection, task: dict[str, Any], outcome: str,
               on: dt.date, due: dt.date) -> int:
    args = json.dumps({"on": on.isoformat(), "outcome": outcome})
    rows = con.execute("SELECT task_id FROM tasks WHERE customer_key = ? AND reason = 'follow_up' "
                       "AND status = 'open'", [int(task["customer_key"])]).fetchall()
    if rows:
        con.execute("UPDATE tasks SET due = ?, reason_args = ?, assignee = ? WHERE task_id = ?",
                    [due, args, task["assignee"], rows[0][0]])
        return int(rows[0][0])
    task_id = con.execute("SELECT nextval('task_id_seq')").fetchall()[0][0]
    con.execute("INSERT INTO tasks (task_id, customer_key, customer_id, reason, reason_args, "
                "assignee, assigned_by, due, priority, status, as_of, run_id, created_at) "
                "VALUES (?, ?, ?, 'follow_up', ?, ?, ?, ?, 2, 'open', ?, NULL, ?)",
                [task_id, int(task["customer_key"]), task["customer_id"], args,
                 task["assignee"], task["assigned_by"], due, on, _now()])
    return int(task_id)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


__all__ = ["OUTCOME_COLUMNS", "TASK_COLUMNS", "get_task", "list_tasks", "open_tasks",
           "outcomes_frame", "overdue_tasks", "record_outcome"]

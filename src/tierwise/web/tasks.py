"""Tasks, outcomes and the customer timeline on the dashboard.

These read and write the store itself (tasks are not in the server's copy), opened briefly
through :class:`~tierwise.web.snapshots.StoreFile`, and call :mod:`tierwise.tasks` as the CLI
does. Rules of the dashboard:

* "my tasks" are the tasks assigned to the signed-in person: an account manager's
  ``account_manager`` name, anyone else's user name; an admin sees everyone's;
* an outcome is recorded on one's own task (an admin on any); someone else's task is not found
  (HTTP 404), as someone else's customer is;
* the timeline is read for a customer the viewer may see (the customer page checks first).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..errors import StoreError
from ..store import Store
from ..tasks import customer_timeline, get_task, list_tasks, record_outcome, task_words
from ..tasks.timeline import timeline_words
from .access import Viewer
from .errors import NotFound
from .queries import json_safe


def assignee_name(viewer: Viewer) -> str:
    """The name tasks name the viewer by (an account manager: their ``account_manager``)."""
    return viewer.manager or viewer.name if viewer.role == "manager" else viewer.name


def my_tasks(store: Store, viewer: Viewer, lang: str, *, status: str | None = "open"
             ) -> dict[str, Any]:
    """The viewer's tasks (an admin: everyone's), by due date then priority, in words."""
    mine = None if viewer.is_admin else assignee_name(viewer)
    frame = list_tasks(store, assignee=mine, status=status)
    items = []
    for row in frame.to_dict(orient="records"):
        item = viewer.contacts(task_words(row, lang))
        args = item.get("reason_args")
        item["reason_args"] = json.loads(args) if isinstance(args, str) else args
        item.pop("customer_key", None)
        for key in ("due", "as_of"):  # dates as YYYY-MM-DD (pages compare them with today)
            item[key] = None if item.get(key) is None else str(item[key])[:10]
        items.append(item)
    return {"assignee": mine, "total": len(items), "items": json_safe(items)}


def record(store: Store, viewer: Viewer, task_id: int, outcome: str, *, note: str | None,
           next_contact: dt.date | None, today: dt.date) -> dict[str, Any]:
    """Record an outcome on one of the viewer's tasks (an admin: any task).

    Raises
    ------
    NotFound
        No such task, or the task is someone else's.
    """
    try:
        task = get_task(store, task_id)
    except StoreError:
        task = None
    if task is None or not (viewer.is_admin or task["assignee"] == assignee_name(viewer)):
        raise NotFound(f"task {task_id} is not among your tasks", "open 'My tasks'")
    return record_outcome(store, task_id, outcome, on=today, by=viewer.name, note=note,
                          next_contact=next_contact)


def timeline(store: Store, customer_id: str, lang: str) -> list[dict[str, Any]]:
    """The customer's timeline in words, newest first (the caller checked the viewer may see
    the customer)."""
    return json_safe(timeline_words(customer_timeline(store, customer_id), lang))


__all__ = ["assignee_name", "my_tasks", "record", "timeline"]

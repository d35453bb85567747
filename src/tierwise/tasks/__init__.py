"""The people loop: tasks from each run's advice, outcomes staff record, a customer timeline.

* :mod:`.codes`: task reasons, outcomes, priorities, closing notes (codes, as data);
* :mod:`.generate`: which tasks a run's advice calls for, and who gets each one;
* :mod:`.loop`: inside ``tierwise run``: outcomes feed the snapshot, task changes are decided
  and written with the run;
* :mod:`.repository`: tasks and outcomes in the store (list, record, the readers
  :func:`open_tasks` and :func:`overdue_tasks` for alerts and digests);
* :mod:`.timeline`: one customer's orders, snapshots, tasks, outcomes and campaigns by date;
* :mod:`.words`: all of it in words, at display time (docs/tasks.md).
"""

from __future__ import annotations

from .codes import OUTCOMES, REASONS
from .generate import plan_tasks
from .repository import (
    get_task,
    list_tasks,
    open_tasks,
    outcomes_frame,
    overdue_tasks,
    record_outcome,
)
from .timeline import customer_timeline, timeline_words
from .words import task_words

__all__ = ["OUTCOMES", "REASONS", "customer_timeline", "get_task", "list_tasks", "open_tasks",
           "outcomes_frame", "overdue_tasks", "plan_tasks", "record_outcome", "task_words",
           "timeline_words"]

"""TaskStep.write: a run's task changes in one statement per kind, as a statement per change did."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from tierwise.store import Store
from tierwise.tasks.loop import TaskStep


def _seed(con, n_tasks: int, n_outcomes: int) -> None:
    for i in range(1, n_tasks + 1):
        con.execute(
            "INSERT INTO tasks (task_id, customer_key, customer_id, reason, reason_args, assignee, "
            "assigned_by, due, priority, status, as_of, run_id, created_at) VALUES "
            "(?, ?, ?, 'quiet_key_account', '[]', 'ann', 'run', DATE '2026-01-10', 1, 'open', "
            "DATE '2026-01-01', 1, TIMESTAMP '2026-01-01 08:00:00')", [i, i, f"C{i}"])
    for i in range(1, n_outcomes + 1):
        con.execute(
            "INSERT INTO task_outcomes (outcome_id, task_id, customer_key, customer_id, outcome, "
            "recorded_on, recorded_by, recorded_at) VALUES (?, ?, ?, ?, 'will_buy', "
            "DATE '2026-01-05', 'ann', TIMESTAMP '2026-01-05 09:00:00')", [i, i, i, f"C{i}"])


def _per_row(con, step: TaskStep, now: dt.datetime, run_id: int) -> None:
    """The previous write: one statement per change, in list order (the reference)."""
    for task_id, args, priority in step.updates:
        con.execute("UPDATE tasks SET reason_args = ?, priority = ? WHERE task_id = ?",
                    [args, priority, task_id])
    for task_id, note in step.closes:
        con.execute("UPDATE tasks SET status = 'closed', closed_at = ?, closed_run_id = ?, "
                    "close_note = ? WHERE task_id = ?", [now, run_id, note, task_id])
    for outcome_id, checked in step.checks:
        con.execute("UPDATE task_outcomes SET checked = ?, checked_run_id = ? "
                    "WHERE outcome_id = ?", [checked, run_id, outcome_id])


def _state(con) -> tuple[list, list]:
    tasks = con.execute("SELECT task_id, reason_args, priority, status, closed_run_id, close_note, "
                        "closed_at IS NOT NULL FROM tasks ORDER BY task_id").fetchall()
    outcomes = con.execute("SELECT outcome_id, checked, checked_run_id FROM task_outcomes "
                           "ORDER BY outcome_id").fetchall()
    return tasks, outcomes


@pytest.mark.parametrize("seed", range(5))
def test_one_statement_per_kind_leaves_what_a_statement_per_change_left(tmp_path: Path,
                                                                       seed: int) -> None:
    rng = random.Random(seed)
    n = 300
    updates = [(rng.randint(1, n), f'[["reason.x", {{"n": {k}}}]]', rng.randint(1, 5))
               for k in range(rng.randint(0, 200))]  # a task may be listed twice: last wins
    closes = [(t, rng.choice(["reason_gone", "archived"]))
              for t in rng.sample(range(1, n + 1), rng.randint(0, 100))]
    checks = [(o, rng.choice(["bought", "no_purchase", None])) for o in
              rng.sample(range(1, 51), rng.randint(0, 50))]
    step = TaskStep("made", updates=updates, closes=closes, checks=checks,
                    as_of=dt.date(2026, 3, 31))
    states = []
    for which in ("bulk", "per_row"):
        with Store(tmp_path / f"{which}.duckdb") as store:
            _seed(store.con, n, 50)
            store.con.execute("BEGIN")
            if which == "bulk":
                step.write(store.con, 7)
            else:
                _per_row(store.con, step, dt.datetime(2026, 4, 1, 6), 7)
            store.con.execute("COMMIT")
            states.append(_state(store.con))
    assert states[0] == states[1]
    changed = {t for t, *_ in updates} | {t for t, _ in closes}
    assert sum(row[1] != "[]" or row[3] == "closed" for row in states[0][0]) == len(changed)


def test_a_step_that_was_not_made_writes_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        _seed(store.con, 3, 1)
        before = _state(store.con)
        TaskStep("skipped", closes=[(1, "archived")]).write(store.con, 2)
        assert _state(store.con) == before

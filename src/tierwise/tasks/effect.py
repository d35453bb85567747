"""Did calling help? Customers whose task was answered against those whose task was not.

:func:`contact_comparison` feeds the backtest (:mod:`tierwise.backtest`): among customers with a
task made between the replay date and the as-of date, those with an outcome that means they were
reached (reached, visited, will come back, complaint, lost, moved away) against those without one
(no outcome, no answer, other): how many bought again after the task, and the share.

It is an observation, not an experiment: who gets reached is not random (a customer who answers
the phone may have bought anyway), so the difference is not the effect of calling. A campaign's
random control group is the way to measure that.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from ..store import Store
from .codes import CONTACTED

if TYPE_CHECKING:
    from ..engine.orders import OrderTable
from .repository import _has_tasks

COLUMNS = ["group", "customers", "bought_again", "bought_again_share"]


def contact_comparison(store: Store, start: dt.date, end: dt.date,
                       orders: OrderTable | None = None) -> pd.DataFrame:
    """Contacted against not contacted, for tasks made in ``[start, end)`` (module notes).

    Empty when no outcome was recorded on those tasks (nothing to compare). ``orders``: the
    orders on the run's engine (whether each customer bought is an aggregate run there);
    None: the store's own ``orders`` table.
    """
    if not _has_tasks(store.con):
        return pd.DataFrame(columns=COLUMNS)
    codes = ", ".join(f"'{c}'" for c in CONTACTED)
    frame = store.con.execute(f"""
        SELECT customer_key, min(as_of) AS since,
               bool_or(task_id IN (SELECT task_id FROM task_outcomes
                                   WHERE outcome IN ({codes}))) AS contacted,
               bool_or(task_id IN (SELECT task_id FROM task_outcomes)) AS recorded
        FROM tasks WHERE as_of >= ? AND as_of < ? GROUP BY customer_key""", [start, end]).df()
    if frame.empty or not frame["recorded"].any():
        return pd.DataFrame(columns=COLUMNS)
    # bought: a purchase after the customer's first task of the period, up to ``end``
    if orders is None:
        from ..engine import DuckDBEngine
        from ..engine.orders import OrderTable

        with DuckDBEngine(store.con) as engine:
            last = OrderTable.of(engine).last_purchases(frame["customer_key"], start, end)
    else:
        last = orders.last_purchases(frame["customer_key"], start, end)
    frame["bought"] = (frame["customer_key"].map(last)
                       > pd.to_datetime(frame["since"])).fillna(False).astype(bool)
    if frame.empty or not frame["recorded"].any():
        return pd.DataFrame(columns=COLUMNS)
    rows = []
    for group, part in (("contacted", frame[frame["contacted"]]),
                        ("not_contacted", frame[~frame["contacted"]])):
        n, bought = len(part), int(part["bought"].sum())
        rows.append({"group": group, "customers": n, "bought_again": bought,
                     "bought_again_share": bought / n if n else None})
    return pd.DataFrame(rows, columns=COLUMNS)


__all__ = ["contact_comparison"]

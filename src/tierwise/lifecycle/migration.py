"""Migration between two snapshots: who moved up, down, stayed, came in or went.

Works for any per-customer label: the pyramid ``tier`` (ordered key > major > ordinary >
long_tail), the ``activity_state`` (ordered normal > ... > buried), a ``segment`` (no order: a
change is just "moved"), or any column with an order you give. Customers are matched on
``customer_key``; one only in the current snapshot is **new** (came in), one only in the previous
snapshot is **gone**.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataContractError
from ..i18n import pair
from .policies import ACTIVITY_STATES, TIER_ORDER
from ._frames import _num, _require

NEW, GONE, NONE = "(new)", "(gone)", "(none)"

#: Movement code -> (Chinese, English).
MOVEMENTS: dict[str, tuple[str, str]] = {
    m: pair("movement", m) for m in ("up", "down", "stayed", "moved", "new", "gone")}

#: Known orders (best first) used when ``order`` is not given.
DEFAULT_ORDERS: dict[str, tuple[str, ...]] = {"tier": TIER_ORDER,
                                              "activity_state": ACTIVITY_STATES}


@dataclass(frozen=True)
class Migration:
    """The result of :func:`migration_matrix`.

    Attributes
    ----------
    column, order
        The label compared and its order (best first; None when unordered).
    detail
        One row per customer: ``customer_key``, ``from``, ``to``, ``movement``, ``value_prev``,
        ``value_curr``.
    counts, value_prev, value_curr
        From x to matrices (rows: previous label plus ``(new)``; columns: current label plus
        ``(gone)``) of customers, of their value in the previous snapshot and in the current one.
    summary
        Tidy: ``movement``, ``movement_zh``, ``movement_en``, ``customers``, ``value_prev``,
        ``value_curr``, ``value_change``.
    """

    column: str
    order: tuple[str, ...] | None
    detail: pd.DataFrame
    counts: pd.DataFrame
    value_prev: pd.DataFrame
    value_curr: pd.DataFrame
    summary: pd.DataFrame


def _side(frame: pd.DataFrame, column: str, value: str | None, what: str) -> pd.DataFrame:
    _require(frame, ["customer_key", column] + ([value] if value else []), what)
    dupes = frame["customer_key"][frame["customer_key"].duplicated()]
    if len(dupes):
        raise DataContractError(f"{what} has customer_key {dupes.iloc[0]!r} more than once",
                                "pass one row per customer (one snapshot)")
    labels = frame[column].astype("object").where(frame[column].notna(), NONE).astype(str)
    vals = _num(frame, value).fillna(0.0) if value else pd.Series(0.0, index=frame.index)
    return pd.DataFrame({"label": labels.to_numpy(), "value": vals.to_numpy()},
                        index=pd.Index(frame["customer_key"].to_numpy(), name="customer_key"))


def _movement(a: pd.Series, b: pd.Series, order: tuple[str, ...] | None) -> np.ndarray:
    rank = {name: i for i, name in enumerate(order or ())}
    ra, rb = a.map(rank), b.map(rank)
    ranked = ra.notna() & rb.notna()
    return np.select(
        [a == NEW, b == GONE, a == b, ranked & (rb < ra), ranked & (rb > ra)],
        ["new", "gone", "stayed", "up", "down"], default="moved")


def _labels(detail: pd.DataFrame, order: tuple[str, ...] | None) -> list[str]:
    seen = set(detail["from"]) | set(detail["to"])
    seen -= {NEW, GONE}
    ranked = [x for x in (order or ()) if x in seen]
    rest = sorted(seen - set(ranked) - {NONE}) + ([NONE] if NONE in seen else [])
    return ranked + rest


def _matrix(detail: pd.DataFrame, values: str | None, labels: list[str]) -> pd.DataFrame:
    if values is None:
        table = detail.pivot_table(index="from", columns="to", values="customer_key",
                                   aggfunc="count", fill_value=0)
    else:
        table = detail.pivot_table(index="from", columns="to", values=values,
                                   aggfunc="sum", fill_value=0.0)
    table = table.reindex(index=labels + [NEW], columns=labels + [GONE], fill_value=0)
    table.index.name, table.columns.name = "from", "to"
    return table.astype("int64") if values is None else table.astype("float64")


def _summary(detail: pd.DataFrame, order: tuple[str, ...] | None) -> pd.DataFrame:
    kinds = ["up", "down", "stayed", "moved", "new", "gone"] if order \
        else ["moved", "stayed", "new", "gone"]
    grouped = detail.groupby("movement").agg(customers=("customer_key", "count"),
                                             value_prev=("value_prev", "sum"),
                                             value_curr=("value_curr", "sum"))
    summary = grouped.reindex(kinds, fill_value=0).rename_axis("movement").reset_index()
    summary["customers"] = summary["customers"].astype("int64")
    summary["value_change"] = summary["value_curr"] - summary["value_prev"]
    summary.insert(1, "movement_zh", summary["movement"].map(lambda k: MOVEMENTS[k][0]))
    summary.insert(2, "movement_en", summary["movement"].map(lambda k: MOVEMENTS[k][1]))
    return summary


def migration_matrix(prev: pd.DataFrame, curr: pd.DataFrame, column: str = "tier",
                     value: str | None = "total_amount",
                     order: Sequence[str] | None = None) -> Migration:
    """Counts and value moving between two snapshots, as matrices and a tidy summary.

    Parameters
    ----------
    prev, curr
        The two snapshots, one row per ``customer_key``, each with ``column`` (and ``value``).
    column
        The label compared: ``tier``, ``activity_state``, ``segment``, ``lifecycle_stage``, ...
    value
        A numeric column summed per cell (its value in each snapshot); None for counts only.
    order
        The labels best first; a move towards the front is "up". None: the known order of
        ``tier`` or ``activity_state`` (:data:`DEFAULT_ORDERS`), none for other columns; ``()``
        compares without order. A change to or from a label outside the order (``new``,
        ``prospect``, a missing label shown as ``(none)``) is "moved".

    Returns
    -------
    Migration
        Matrices, detail and the summary (up, down, stayed, moved, new, gone when ordered;
        moved, stayed, new, gone otherwise).

    Examples
    --------
    >>> a = pd.DataFrame({"customer_key": [1, 2, 3], "tier": ["key", "major", "ordinary"],
    ...                   "total_amount": [900.0, 300.0, 50.0]})
    >>> b = pd.DataFrame({"customer_key": [1, 2, 4], "tier": ["major", "major", "long_tail"],
    ...                   "total_amount": [400.0, 320.0, 10.0]})
    >>> m = migration_matrix(a, b)
    >>> m.summary.set_index("movement")["customers"].to_dict()
    {'up': 0, 'down': 1, 'stayed': 1, 'moved': 0, 'new': 1, 'gone': 1}
    """
    order_t = tuple(DEFAULT_ORDERS.get(column, ())) if order is None else tuple(order)
    order_t = order_t or None
    a = _side(prev, column, value, "the previous snapshot")
    b = _side(curr, column, value, "the current snapshot")
    both = a.merge(b, how="outer", left_index=True, right_index=True,
                   suffixes=("_prev", "_curr"))
    detail = pd.DataFrame({
        "customer_key": both.index.to_numpy(),
        "from": both["label_prev"].fillna(NEW).to_numpy(dtype=object),
        "to": both["label_curr"].fillna(GONE).to_numpy(dtype=object),
        "value_prev": both["value_prev"].fillna(0.0).to_numpy(),
        "value_curr": both["value_curr"].fillna(0.0).to_numpy(),
    })
    detail["movement"] = _movement(detail["from"], detail["to"], order_t)
    labels = _labels(detail, order_t)
    return Migration(column=column, order=order_t, detail=detail,
                     counts=_matrix(detail, None, labels),
                     value_prev=_matrix(detail, "value_prev", labels),
                     value_curr=_matrix(detail, "value_curr", labels),
                     summary=_summary(detail, order_t))


__all__ = ["Migration", "migration_matrix", "MOVEMENTS", "DEFAULT_ORDERS"]

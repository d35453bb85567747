"""Complaints and comments by value: counts by category and tier, and the open complaints of
the customers that matter most.

A feedback row is a **complaint** unless its category is one of ``[feedback]
comment_categories`` (praise, suggestions, questions: compared case-insensitively); a row
without a category is a complaint. A complaint is **open** until its ``resolved`` column says it
is resolved (an empty ``resolved`` is open). Counts cover the rows received in the last
``window_days`` up to the as-of date; open complaints are listed whatever their age.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

COUNT_COLUMNS = ["category", "tier", "items", "complaints", "open_complaints"]
OPEN_COLUMNS = ["customer_key", "customer_id", "name", "tier", "store", "account_manager",
                "received_at", "open_days", "channel", "category", "text"]
#: The category shown for rows without one (a code, worded at display time).
NO_CATEGORY = "(none)"


def classify(feedback: pd.DataFrame, comment_categories: Iterable[str]) -> pd.DataFrame:
    """``feedback`` with ``complaint`` and ``open`` (bool) columns added (module notes)."""
    comments = {c.casefold() for c in comment_categories}
    category = feedback["category"].astype("object")
    is_comment = np.array([isinstance(c, str) and c.strip().casefold() in comments
                           for c in category], dtype=bool)
    resolved = feedback["resolved"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return feedback.assign(complaint=~is_comment, open=~is_comment & ~resolved)


def feedback_counts(feedback: pd.DataFrame) -> pd.DataFrame:
    """Rows, complaints and open complaints per category and tier (:data:`COUNT_COLUMNS`).

    ``feedback`` is :func:`classify`'s output with the customer's ``tier``; a row without a
    category counts under :data:`NO_CATEGORY`, a customer without a tier under ``(none)``.
    Categories with the most open complaints first (then the most complaints); within one,
    the tiers with the most open complaints first.
    """
    if not len(feedback):
        return pd.DataFrame(columns=COUNT_COLUMNS)
    frame = feedback.assign(category=feedback["category"].fillna(NO_CATEGORY),
                            tier=feedback["tier"].fillna(NO_CATEGORY))
    out = frame.groupby(["category", "tier"], as_index=False).agg(
        items=("text", "size"), complaints=("complaint", "sum"),
        open_complaints=("open", "sum"))
    by_category = out.groupby("category")
    out = out.assign(_open=by_category["open_complaints"].transform("sum"),
                     _all=by_category["complaints"].transform("sum"))
    out = out.sort_values(["_open", "_all", "category", "open_complaints", "complaints", "tier"],
                          ascending=[False, False, True, False, False, True])
    for column in ("items", "complaints", "open_complaints"):
        out[column] = out[column].astype("int64")
    return out[COUNT_COLUMNS].reset_index(drop=True)


def open_complaints(feedback: pd.DataFrame, as_of: dt.date,
                    tiers: Iterable[str]) -> pd.DataFrame:
    """The open complaints of customers in ``tiers`` (``[feedback] task_tiers``), oldest first.

    ``feedback`` is :func:`classify`'s output with ``tier``, ``name``, ``store`` and
    ``account_manager``; ``open_days`` counts from the day received to ``as_of``.
    """
    frame = feedback[feedback["open"] & feedback["tier"].isin(list(tiers))]
    if not len(frame):
        return pd.DataFrame(columns=OPEN_COLUMNS)
    received = pd.to_datetime(frame["received_at"])
    frame = frame.assign(received_at=received.dt.date.astype(str),
                         open_days=(pd.Timestamp(as_of) - received).dt.days.astype("int64"))
    frame = frame.sort_values(["open_days", "customer_id"], ascending=[False, True])
    return frame.reindex(columns=OPEN_COLUMNS).reset_index(drop=True)


__all__ = ["COUNT_COLUMNS", "NO_CATEGORY", "OPEN_COLUMNS", "classify", "feedback_counts",
           "open_complaints"]

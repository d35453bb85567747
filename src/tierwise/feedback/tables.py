"""The run's satisfaction and feedback tables, computed at ``tierwise run`` and stored with it.

:func:`feedback_tables` reads the store's survey answers and feedback rows up to the as-of date
and returns the run tables ``satisfaction``, ``satisfaction_trend`` (when there are survey
answers) and ``feedback_counts``, ``open_complaints``, ``feedback_keywords`` (when there are
feedback rows). Readers go through :class:`tierwise.runview.RunView`
(:meth:`~tierwise.runview.RunView.feedback`).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from ..config import FeedbackConfig
from .complaints import classify, feedback_counts, open_complaints
from .keywords import keyword_table
from .satisfaction import MAIN_STORE_SQL, satisfaction_table, satisfaction_trend

#: The run tables this module writes, in the order the report shows them.
FEEDBACK_TABLES: tuple[str, ...] = ("satisfaction", "satisfaction_trend", "feedback_counts",
                                    "open_complaints", "feedback_keywords")


def _has_rows(con: duckdb.DuckDBPyConnection, table: str, column: str, as_of: dt.date) -> bool:
    return bool(con.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {column} <= ?)",
                            [as_of]).fetchall()[0][0])


def feedback_rows(con: duckdb.DuckDBPyConnection, as_of: dt.date, customers: pd.DataFrame,
                  cfg: FeedbackConfig) -> pd.DataFrame:
    """Feedback up to ``as_of`` with the customer's tier, name, account manager and main store,
    classified (:func:`tierwise.feedback.complaints.classify`)."""
    rows = con.execute(
        "SELECT f.customer_key, f.customer_id, f.received_at, f.channel, f.category, f.text, "
        f"f.resolved, s.store FROM feedback f LEFT JOIN ({MAIN_STORE_SQL}) s "
        "USING (customer_key) WHERE f.received_at <= ? "
        "ORDER BY f.received_at, f.source, f.line", [as_of, as_of]).df()
    people = customers.reindex(columns=["customer_key", "name", "tier", "account_manager"])
    rows = rows.merge(people, on="customer_key", how="left")
    return classify(rows, cfg.comment_categories)


def feedback_tables(con: duckdb.DuckDBPyConnection, as_of: dt.date, customers: pd.DataFrame,
                    cfg: FeedbackConfig) -> dict[str, pd.DataFrame]:
    """Every satisfaction and feedback table of a run (module notes); ``{}`` without inputs.

    Parameters
    ----------
    con
        A connection holding the store (``surveys``, ``feedback``, ``orders``).
    as_of
        The run's as-of date.
    customers
        The run's per-customer codes: ``customer_key``, ``customer_id``, ``name``, ``tier``,
        ``segment``, ``account_manager``.
    cfg
        ``[feedback]``.
    """
    tables: dict[str, pd.DataFrame] = {}
    if _has_rows(con, "surveys", "answered_at", as_of):
        tables["satisfaction"] = satisfaction_table(con, as_of, customers, scale=cfg.scale,
                                                    window_days=cfg.window_days)
        tables["satisfaction_trend"] = satisfaction_trend(con, as_of, customers, scale=cfg.scale,
                                                          months=cfg.trend_months)
    if _has_rows(con, "feedback", "received_at", as_of):
        rows = feedback_rows(con, as_of, customers, cfg)
        start = pd.Timestamp(as_of - dt.timedelta(days=cfg.window_days - 1))
        recent = rows[pd.to_datetime(rows["received_at"]) >= start]
        tables["feedback_counts"] = feedback_counts(recent)
        tables["open_complaints"] = open_complaints(rows, as_of, cfg.task_tiers)
        tables["feedback_keywords"] = keyword_table(
            recent, synonyms=cfg.synonyms, stopwords=cfg.stopwords,
            top=cfg.keywords_per_group, min_mentions=cfg.min_mentions)
    return tables


__all__ = ["FEEDBACK_TABLES", "feedback_rows", "feedback_tables"]

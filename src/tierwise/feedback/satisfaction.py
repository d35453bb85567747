"""Survey scores by value: CSAT and NPS per tier, segment, store and account manager, with the
response rate and a monthly trend.

Definitions (``docs/feedback.md``), from the store's survey answers and orders up to the as-of
date, over the last ``[feedback] window_days`` days (the *window*):

* a source's **scale** is CSAT (1-5) or NPS (0-10): ``[feedback] scale``, or with ``auto`` NPS
  when any of the source's scores is above 5;
* **CSAT** = the mean CSAT score; **satisfied** = the share of CSAT answers scoring 4 or 5;
* **NPS** = (promoters 9-10 - detractors 0-6) / NPS answers x 100, in points (-100 .. 100);
* **response rate** = customers who bought in the window and answered in it / customers who
  bought in the window;
* an **aspect** score (taste, service, setting: 1-5, optional columns of the survey) is
  averaged over the answers that carry it, whatever the scale of the overall score;
* a customer's **store** is the store of most of their purchase days (as in
  :mod:`tierwise.lifecycle.retention`); tier, segment and account manager are the run's.

The trend gives the same scores per calendar month (the last ``trend_months``), for everyone
and per tier (the customer's tier at the as-of date).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

#: The groupings of the satisfaction table, in the order they are shown.
SATISFACTION_BY: tuple[str, ...] = ("all", "tier", "segment", "store", "account_manager")
#: The aspect scores (1-5) an answer may carry beside its overall score; a group's mean of each.
ASPECTS: tuple[str, ...] = ("taste", "service", "setting")
SATISFACTION_COLUMNS = ["by", "group", "customers", "buyers", "respondents", "response_rate",
                        "answers", "csat_answers", "csat", "satisfied", "nps_answers", "nps",
                        *ASPECTS]
TREND_COLUMNS = ["month", "by", "group", "answers", "csat", "satisfied", "nps_answers", "nps",
                 *ASPECTS]

#: The store of most of each customer's purchase days up to the as-of date (ties: first name).
MAIN_STORE_SQL = """
    SELECT customer_key, store FROM (
        SELECT customer_key, store, count(DISTINCT ordered_at::DATE) AS n FROM orders
        WHERE NOT is_refund AND ordered_at <= ? AND store IS NOT NULL GROUP BY ALL)
    QUALIFY row_number() OVER (PARTITION BY customer_key ORDER BY n DESC, store) = 1"""

_ANSWERS = """
    answers AS (
        SELECT customer_key, answered_at, score, taste, service, setting,
               CASE WHEN ? <> 'auto' THEN ?
                    WHEN max(score) OVER (PARTITION BY source) > 5 THEN 'nps'
                    ELSE 'csat' END AS scale
        FROM surveys WHERE answered_at <= ?)"""

_SCORES = """
    count(*) FILTER (WHERE a.scale = 'csat') AS csat_answers,
    avg(a.score) FILTER (WHERE a.scale = 'csat') AS csat,
    avg(CASE WHEN a.score >= 4 THEN 1.0 ELSE 0.0 END) FILTER (WHERE a.scale = 'csat')
        AS satisfied,
    count(*) FILTER (WHERE a.scale = 'nps') AS nps_answers,
    100.0 * avg(CASE WHEN a.score >= 9 THEN 1.0 WHEN a.score <= 6 THEN -1.0 ELSE 0.0 END)
        FILTER (WHERE a.scale = 'nps') AS nps,
    avg(a.taste) AS taste, avg(a.service) AS service, avg(a.setting) AS setting"""


def _people(con: duckdb.DuckDBPyConnection, customers: pd.DataFrame) -> None:
    frame = customers.reindex(columns=["customer_key", "tier", "segment", "account_manager"])
    frame = frame.astype({"tier": "object", "segment": "object", "account_manager": "object"})
    con.register("satisfaction_customers", frame)


def _grouped(source: str, by: tuple[str, ...]) -> str:
    parts = [f"SELECT 'all' AS \"by\", 'all' AS \"group\", * FROM {source}"]
    parts += [f"SELECT '{b}', {b}, * FROM {source} WHERE {b} IS NOT NULL" for b in by[1:]]
    return "\n UNION ALL ".join(parts)


def satisfaction_table(con: duckdb.DuckDBPyConnection, as_of: dt.date, customers: pd.DataFrame,
                       *, scale: str = "auto", window_days: int = 365) -> pd.DataFrame:
    """CSAT, NPS and response rate overall and by tier, segment, store and account manager.

    Parameters
    ----------
    con
        A connection holding the store's ``surveys`` and ``orders`` tables.
    as_of
        The last day counted.
    customers
        The run's customers: ``customer_key``, ``tier``, ``segment``, ``account_manager`` (a
        missing column leaves its rows out).
    scale
        ``auto``, ``csat`` or ``nps`` (module notes).
    window_days
        Answers and purchases in this many days up to ``as_of`` count.

    Returns
    -------
    pandas.DataFrame
        :data:`SATISFACTION_COLUMNS`: ``by`` (:data:`SATISFACTION_BY`), ``group`` (a tier code,
        segment, store or manager; ``all``), ``customers``, ``buyers`` (bought in the window),
        ``respondents`` (answered in the window), ``response_rate``, ``answers``,
        ``csat_answers``, ``csat``, ``satisfied``, ``nps_answers``, ``nps``, and the mean
        ``taste``, ``service``, ``setting`` (:data:`ASPECTS`); a group without answers of a
        scale (or of an aspect) has those figures empty.
    """
    start = as_of - dt.timedelta(days=window_days - 1)
    _people(con, customers)
    try:
        out = con.execute(f"""
            WITH {_ANSWERS},
            stores AS ({MAIN_STORE_SQL}),
            bought AS (SELECT DISTINCT customer_key FROM orders
                       WHERE NOT is_refund AND ordered_at::DATE BETWEEN ? AND ?),
            answered AS (SELECT DISTINCT customer_key FROM answers WHERE answered_at >= ?),
            people AS (
                SELECT c.customer_key, c.tier, c.segment, c.account_manager, s.store,
                       b.customer_key IS NOT NULL AS bought,
                       r.customer_key IS NOT NULL AS answered
                FROM satisfaction_customers c LEFT JOIN stores s USING (customer_key)
                LEFT JOIN bought b USING (customer_key) LEFT JOIN answered r USING (customer_key)),
            grouped AS ({_grouped('people', SATISFACTION_BY)}),
            counts AS (
                SELECT "by", "group", count(*) AS customers,
                       count(*) FILTER (WHERE bought) AS buyers,
                       count(*) FILTER (WHERE answered) AS respondents,
                       count(*) FILTER (WHERE bought AND answered) AS buyers_answered
                FROM grouped GROUP BY ALL),
            scores AS (
                SELECT g."by", g."group", count(*) AS answers, {_SCORES}
                FROM grouped g JOIN answers a USING (customer_key)
                WHERE a.answered_at >= ? GROUP BY ALL)
            SELECT c."by", c."group", c.customers, c.buyers, c.respondents,
                   CASE WHEN c.buyers > 0 THEN c.buyers_answered / c.buyers END AS response_rate,
                   coalesce(s.answers, 0) AS answers, coalesce(s.csat_answers, 0) AS csat_answers,
                   s.csat, s.satisfied, coalesce(s.nps_answers, 0) AS nps_answers, s.nps,
                   s.taste, s.service, s.setting
            FROM counts c LEFT JOIN scores s USING ("by", "group")""",
            [scale, scale, as_of, as_of, start, as_of, start, start]).df()
    finally:
        con.unregister("satisfaction_customers")
    out["_by"] = out["by"].map(SATISFACTION_BY.index)
    out = out.sort_values(["_by", "group"]).drop(columns="_by").reset_index(drop=True)
    for column in ("customers", "buyers", "respondents", "answers", "csat_answers",
                   "nps_answers"):
        out[column] = out[column].astype("int64")
    return out[SATISFACTION_COLUMNS]


def satisfaction_trend(con: duckdb.DuckDBPyConnection, as_of: dt.date, customers: pd.DataFrame,
                       *, scale: str = "auto", months: int = 12) -> pd.DataFrame:
    """CSAT and NPS per calendar month (the last ``months`` up to the as-of month), for everyone
    and per tier: :data:`TREND_COLUMNS` (``month`` as ``YYYY-MM``); months without an answer
    are left out."""
    first = (pd.Timestamp(as_of).to_period("M") - (months - 1)).to_timestamp().date()
    _people(con, customers)
    try:
        out = con.execute(f"""
            WITH {_ANSWERS},
            people AS (SELECT customer_key, tier FROM satisfaction_customers),
            grouped AS ({_grouped('people', ('all', 'tier'))})
            SELECT strftime(date_trunc('month', a.answered_at), '%Y-%m') AS month, g."by",
                   g."group", count(*) AS answers, {_SCORES}
            FROM grouped g JOIN answers a USING (customer_key)
            WHERE a.answered_at >= ? GROUP BY ALL""", [scale, scale, as_of, first]).df()
    finally:
        con.unregister("satisfaction_customers")
    out["_by"] = out["by"].map(("all", "tier").index)
    out = out.sort_values(["_by", "group", "month"]).drop(columns="_by").reset_index(drop=True)
    for column in ("answers", "nps_answers"):
        out[column] = out[column].astype("int64")
    return out[TREND_COLUMNS]


__all__ = ["ASPECTS", "MAIN_STORE_SQL", "SATISFACTION_BY", "SATISFACTION_COLUMNS", "TREND_COLUMNS",
           "satisfaction_table", "satisfaction_trend"]

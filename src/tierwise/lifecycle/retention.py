"""Retention: cohorts by first-purchase month, repeat-purchase and churn rates by tier, segment
and store (the headline measures of the seeds: "raise the retention rate", "lower the churn rate").

Definitions (``docs/retention.md``), all from the store's orders up to the run's as-of date:

* a **purchase** is an order that is not a refund; a **purchase day** a day with one (as the
  behaviour metrics count ``frequency``);
* **cohort** = the calendar month of a customer's first purchase; **months since** = calendar
  months from that month (0 = the first month); the cohort table gives, per cohort and month
  since, the customers of the cohort with a purchase in that month and their **share** of the
  cohort (month 0 is 100 % by definition). The as-of month counts the days up to the as-of date
  only, so its share can be low because the month is not over;
* **repeat-purchase rate** = customers with purchases on two days or more / customers with a
  purchase (the summary's ``repeat_customers`` over its buyers);
* **churn rate** = customers whose activity state at the as-of date is **dead** or **buried**
  (:data:`CHURNED_STATES`: more than 6 or 12 expected gaps behind their own rhythm, or in the
  absolute bands no visit in the window / none for ``buried_after_days``; ``docs/lifecycle.md``)
  / customers with a purchase;
* a customer's **store** is the store of most of their purchase days (ties: the first store
  name in sort order); purchases without a store are not counted for it, and a customer with
  none is left out of the by-store rows.

Both tables are one query each over the orders (:func:`cohort_table`, :func:`retention_table`),
run at the run and stored with it (run tables ``cohorts`` and ``retention``); readers go through
:meth:`tierwise.runview.RunView.cohorts` and :meth:`~tierwise.runview.RunView.retention`.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

#: Activity states that count as churned (lost): the lifecycle's dead and buried.
CHURNED_STATES: tuple[str, ...] = ("dead", "buried")
#: The groupings of the retention table, in the order they are shown.
RETENTION_BY: tuple[str, ...] = ("all", "tier", "segment", "store")
COHORT_COLUMNS = ["cohort", "months_since", "customers", "active", "share"]
RETENTION_COLUMNS = ["by", "group", "customers", "repeat_customers", "repeat_rate", "churned",
                     "churn_rate"]

_PURCHASES = """
    purchases AS (
        SELECT DISTINCT customer_key, ordered_at::DATE AS day, store
        FROM orders WHERE NOT is_refund AND ordered_at <= ?)"""


def cohort_table(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    """Customers of each first-purchase month active in each later month, and their share.

    Parameters
    ----------
    con
        A connection holding the store's ``orders`` table.
    as_of
        The last order date counted.

    Returns
    -------
    pandas.DataFrame
        ``cohort`` (``YYYY-MM``), ``months_since`` (0, 1, ...), ``customers`` (the cohort's
        size), ``active`` (its customers with a purchase in that month), ``share``
        (active / customers); one row per cohort and month up to the as-of month, months
        without a buyer included (active 0).
    """
    frame = con.execute(f"""
        WITH {_PURCHASES},
        days AS (SELECT DISTINCT customer_key, day FROM purchases),
        firsts AS (SELECT customer_key, date_trunc('month', min(day))::DATE AS cohort
                   FROM days GROUP BY customer_key),
        sizes AS (SELECT cohort, count(*) AS customers FROM firsts GROUP BY cohort),
        active AS (
            SELECT f.cohort, datediff('month', f.cohort, date_trunc('month', d.day)) AS months,
                   count(DISTINCT d.customer_key) AS active
            FROM days d JOIN firsts f USING (customer_key) GROUP BY ALL),
        grid AS (
            SELECT cohort, customers, unnest(range(0, datediff(
                'month', cohort, date_trunc('month', ?::DATE)) + 1)) AS months
            FROM sizes)
        SELECT strftime(g.cohort, '%Y-%m') AS cohort, g.months AS months_since, g.customers,
               coalesce(a.active, 0) AS active,
               coalesce(a.active, 0) / g.customers AS share
        FROM grid g LEFT JOIN active a ON a.cohort = g.cohort AND a.months = g.months
        ORDER BY g.cohort, g.months""", [as_of, as_of]).df()
    for column in ("months_since", "customers", "active"):
        frame[column] = frame[column].astype("int64")
    return frame[COHORT_COLUMNS]


def retention_table(con: duckdb.DuckDBPyConnection, as_of: dt.date,
                    customers: pd.DataFrame) -> pd.DataFrame:
    """Repeat-purchase and churn rates of the buyers, overall and by tier, segment and store.

    Parameters
    ----------
    con
        A connection holding the store's ``orders`` table.
    as_of
        The last order date counted.
    customers
        The run's customers: ``customer_key``, ``tier``, ``segment``, ``activity_state`` (a
        missing column leaves its rows out; a missing state counts as not churned).

    Returns
    -------
    pandas.DataFrame
        ``by`` (``all``, ``tier``, ``segment``, ``store``), ``group`` (the code: a tier code, a
        segment, a store name; ``all`` for the whole business), ``customers`` (with a
        purchase), ``repeat_customers``, ``repeat_rate``, ``churned``, ``churn_rate``.
    """
    frame = customers.reindex(columns=["customer_key", "tier", "segment", "activity_state"])
    frame = frame.astype({"tier": "object", "segment": "object", "activity_state": "object"})
    states = ", ".join(f"'{s}'" for s in CHURNED_STATES)
    con.register("retention_customers", frame)
    try:
        out = con.execute(f"""
            WITH {_PURCHASES},
            buyers AS (
                SELECT customer_key, count(DISTINCT day) AS days FROM purchases GROUP BY 1),
            stores AS (
                SELECT customer_key, store FROM (
                    SELECT customer_key, store, count(DISTINCT day) AS n FROM purchases
                    WHERE store IS NOT NULL GROUP BY ALL)
                QUALIFY row_number() OVER (PARTITION BY customer_key
                                           ORDER BY n DESC, store) = 1),
            people AS (
                SELECT b.customer_key, b.days >= 2 AS repeat,
                       coalesce(c.activity_state IN ({states}), FALSE) AS churned,
                       c.tier, c.segment, s.store
                FROM buyers b LEFT JOIN retention_customers c USING (customer_key)
                LEFT JOIN stores s USING (customer_key)),
            grouped AS (
                SELECT 'all' AS "by", 'all' AS "group", * FROM people
                UNION ALL SELECT 'tier', tier, * FROM people WHERE tier IS NOT NULL
                UNION ALL SELECT 'segment', segment, * FROM people WHERE segment IS NOT NULL
                UNION ALL SELECT 'store', store, * FROM people WHERE store IS NOT NULL)
            SELECT "by", "group", count(*) AS customers,
                   count(*) FILTER (WHERE repeat) AS repeat_customers,
                   count(*) FILTER (WHERE repeat) / count(*) AS repeat_rate,
                   count(*) FILTER (WHERE churned) AS churned,
                   count(*) FILTER (WHERE churned) / count(*) AS churn_rate
            FROM grouped GROUP BY ALL""", [as_of]).df()
    finally:
        con.unregister("retention_customers")
    out["_by"] = out["by"].map(RETENTION_BY.index)
    out = out.sort_values(["_by", "group"]).drop(columns="_by").reset_index(drop=True)
    for column in ("customers", "repeat_customers", "churned"):
        out[column] = out[column].astype("int64")
    return out[RETENTION_COLUMNS]


def cohort_matrix(cohorts: pd.DataFrame) -> pd.DataFrame:
    """The cohort table wide: one row per cohort (``cohort``, ``customers``), one share column
    per month since (``0``, ``1``, ...), empty where the month has not come yet."""
    if not len(cohorts):
        return pd.DataFrame(columns=["cohort", "customers"])
    wide = cohorts.pivot(index="cohort", columns="months_since", values="share")
    wide.columns = [str(int(c)) for c in wide.columns]
    sizes = cohorts.drop_duplicates("cohort").set_index("cohort")["customers"]
    return wide.reset_index().merge(sizes.rename("customers").reset_index(), on="cohort") \
        [["cohort", "customers", *wide.columns]]


def retention_curve(cohorts: pd.DataFrame) -> pd.DataFrame:
    """The share of customers active N months after their first month, over every cohort that
    has reached month N (weighted by cohort size): ``months_since``, ``customers``, ``active``,
    ``share``. The chart's line."""
    if not len(cohorts):
        return pd.DataFrame(columns=["months_since", "customers", "active", "share"])
    out = cohorts.groupby("months_since", as_index=False)[["customers", "active"]].sum()
    out["share"] = out["active"] / out["customers"]
    return out


def retention_tables(con: duckdb.DuckDBPyConnection, as_of: dt.date,
                     customers: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Both tables as the run stores them: ``{"cohorts": ..., "retention": ...}``."""
    return {"cohorts": cohort_table(con, as_of),
            "retention": retention_table(con, as_of, customers)}


__all__ = ["CHURNED_STATES", "COHORT_COLUMNS", "RETENTION_BY", "RETENTION_COLUMNS",
           "cohort_matrix", "cohort_table", "retention_curve", "retention_table",
           "retention_tables"]

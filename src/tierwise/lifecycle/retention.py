"""Retention: cohorts by first-purchase month, repeat-purchase and churn rates by tier, segment
and store (the headline measures of the seeds: "raise the retention rate", "lower the churn rate").

Definitions (``docs/retention.md``), all from the orders up to the run's as-of date:

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

Both tables are aggregates over the orders run on the run's engine (DuckDB, Spark, a warehouse:
:meth:`tierwise.engine.orders.OrderTable.purchase_months`, ``purchase_days``, ``store_days``),
finished in pandas on per-cohort and per-customer rows (:func:`cohort_table`,
:func:`retention_table`), run at the run and stored with it (run tables ``cohorts`` and ``retention``); readers go through
:meth:`tierwise.runview.RunView.cohorts` and :meth:`~tierwise.runview.RunView.retention`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..engine.orders import OrderTable

#: Activity states that count as churned (lost): the lifecycle's dead and buried.
CHURNED_STATES: tuple[str, ...] = ("dead", "buried")
#: The groupings of the retention table, in the order they are shown.
RETENTION_BY: tuple[str, ...] = ("all", "tier", "segment", "store")
COHORT_COLUMNS = ["cohort", "months_since", "customers", "active", "share"]
RETENTION_COLUMNS = ["by", "group", "customers", "repeat_customers", "repeat_rate", "churned",
                     "churn_rate"]

def cohort_table(orders: OrderTable | duckdb.DuckDBPyConnection, as_of: dt.date
                 ) -> pd.DataFrame:
    """Customers of each first-purchase month active in each later month, and their share.

    Parameters
    ----------
    orders
        The run's orders on its engine (:class:`~tierwise.engine.orders.OrderTable`), or a
        DuckDB connection holding a store's ``orders`` table.
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
    with _order_table(orders) as table:
        active, sizes = table.purchase_months(as_of)
    last = as_of.year * 12 + as_of.month - 1
    sizes = sizes.sort_values("cohort")
    grid = pd.DataFrame({
        "cohort": np.repeat(sizes["cohort"].to_numpy(), last - sizes["cohort"].to_numpy() + 1),
        "customers": np.repeat(sizes["customers"].to_numpy(),
                               last - sizes["cohort"].to_numpy() + 1)})
    grid["month"] = grid["cohort"] + grid.groupby("cohort").cumcount()
    frame = grid.merge(active, on=["cohort", "month"], how="left")
    frame["active"] = frame["active"].fillna(0).astype("int64")
    frame["months_since"] = (frame["month"] - frame["cohort"]).astype("int64")
    frame["share"] = frame["active"] / frame["customers"]
    frame["customers"] = frame["customers"].astype("int64")
    frame["cohort"] = pd.Series([f"{c // 12:04d}-{c % 12 + 1:02d}" for c in frame["cohort"]],
                                index=frame.index, dtype=str)
    return frame[COHORT_COLUMNS].reset_index(drop=True)


def retention_table(orders: OrderTable | duckdb.DuckDBPyConnection, as_of: dt.date,
                    customers: pd.DataFrame) -> pd.DataFrame:
    """Repeat-purchase and churn rates of the buyers, overall and by tier, segment and store.

    Parameters
    ----------
    orders
        The run's orders on its engine (:class:`~tierwise.engine.orders.OrderTable`), or a
        DuckDB connection holding a store's ``orders`` table.
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
    with _order_table(orders) as table:
        days = table.purchase_days(as_of)
        stores = table.store_days(as_of)
    # a customer's store: the one of most purchase days (ties: the first name in sort order)
    main = stores.sort_values(["customer_key", "days", "store"], ascending=[True, False, True],
                              kind="stable").drop_duplicates("customer_key")
    frame = customers.reindex(columns=["customer_key", "tier", "segment", "activity_state"])
    frame = frame.astype({"tier": "object", "segment": "object", "activity_state": "object"})
    people = pd.DataFrame({"customer_key": days.index.to_numpy(),
                           "repeat": days.to_numpy() >= 2})
    people = people.merge(frame.drop_duplicates("customer_key"), on="customer_key", how="left")
    people = people.merge(main[["customer_key", "store"]], on="customer_key", how="left")
    people["churned"] = people["activity_state"].isin(CHURNED_STATES)
    parts = [people.assign(by="all", group="all")]
    for by in RETENTION_BY[1:]:
        known = people[people[by].notna()]
        parts.append(known.assign(by=by, group=known[by].astype(str)))
    grouped = pd.concat(parts, ignore_index=True)
    out = grouped.groupby(["by", "group"], sort=False).agg(
        customers=("customer_key", "size"), repeat_customers=("repeat", "sum"),
        churned=("churned", "sum")).reset_index()
    for column in ("customers", "repeat_customers", "churned"):
        out[column] = out[column].astype("int64")
    out["repeat_rate"] = out["repeat_customers"] / out["customers"]
    out["churn_rate"] = out["churned"] / out["customers"]
    out["_by"] = out["by"].map(RETENTION_BY.index)
    out = out.sort_values(["_by", "group"]).drop(columns="_by").reset_index(drop=True)
    return out[RETENTION_COLUMNS]


@contextlib.contextmanager
def _order_table(orders: OrderTable | duckdb.DuckDBPyConnection) -> Iterator[OrderTable]:
    """``orders`` as an :class:`OrderTable`: a DuckDB connection's ``orders`` through a
    :class:`~tierwise.engine.DuckDBEngine` (closed after)."""
    from ..engine.orders import OrderTable

    if isinstance(orders, OrderTable):
        yield orders
        return
    from ..engine import DuckDBEngine

    with DuckDBEngine(orders) as engine:
        yield OrderTable.of(engine)


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


def retention_tables(orders: OrderTable | duckdb.DuckDBPyConnection, as_of: dt.date,
                     customers: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Both tables as the run stores them: ``{"cohorts": ..., "retention": ...}``."""
    with _order_table(orders) as table:
        return {"cohorts": cohort_table(table, as_of),
                "retention": retention_table(table, as_of, customers)}


__all__ = ["CHURNED_STATES", "COHORT_COLUMNS", "RETENTION_BY", "RETENTION_COLUMNS",
           "cohort_matrix", "cohort_table", "retention_curve", "retention_table",
           "retention_tables"]

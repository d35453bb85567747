"""The orders as an Ibis expression on the configured engine: :class:`OrderTable` (issue 16).

Every computation of a run over orders (activity windows, the attendance sheet's totals, the
early warnings' trailing periods, the channel and agent contributions) is an aggregate built
here on the engine's orders table and run where the features run; Python receives per-customer
tables (or a handful of aggregate rows). Where a step truly needs per-order data it reads a
subset only: :meth:`OrderTable.frame` with ``customers=`` (the key accounts, the model's fit
sample, the attendance sheet's top customers) or ``since=``.

The pandas functions in :mod:`tierwise.lifecycle` and :mod:`tierwise.tiering` accept either a
DataFrame of orders (the reference implementation, used in tests and notebooks) or an
:class:`OrderTable`; both give the same results (``tests/test_orders_in_engine.py``).

Examples
--------
>>> import datetime as dt, duckdb
>>> from tierwise.engine import DuckDBEngine
>>> con = duckdb.connect()
>>> _ = con.execute("CREATE TABLE orders AS SELECT * FROM (VALUES "
...     "(1::BIGINT, DATE '2024-01-05', 20.0, NULL::DOUBLE, NULL::DOUBLE, false), "
...     "(1, DATE '2024-01-20', 5.0, NULL, NULL, false)) "
...     "t(customer_key, ordered_at, amount, cost, margin, is_refund)")
>>> with DuckDBEngine(con) as engine:
...     OrderTable.of(engine).visits(dt.date(2024, 1, 31), 30).to_dict()
{1: 2}
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import ibis
import numpy as np
import pandas as pd

from ..errors import DataContractError

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from .base import Engine

#: The label of orders without a channel or an agent (as :data:`tierwise.tiering.NONE_LABEL`).
NONE_LABEL = "(none)"


def _sum(values: ir.NumericValue, where: ir.BooleanValue | None = None) -> ir.FloatingValue:
    """The sum of ``values`` rounded once, as a pandas groupby sum gives it.

    An engine adds the rows in whatever order its threads meet them, and a plain double sum
    then moves in the last bit from run to run; pandas' compensated sum is (in practice) the
    exactly rounded sum. So is this one: each value is split into a multiple of 2^-20
    (``hi``, summed exactly as integers) and the small rest (``lo``, whose rounding errors lie
    far below the last bit of the total); the two sums are added once at the end.
    """
    scaled = values.cast("float64") * _SCALE
    hi = scaled.floor().cast("int64")
    lo = values.cast("float64") - hi.cast("float64") / _SCALE
    return hi.sum(where=where).cast("float64") / _SCALE + lo.sum(where=where)


_SCALE = float(2**20)


def _count(flag: ir.BooleanValue) -> ir.IntegerValue:
    """Rows where ``flag`` holds (PostgreSQL casts no boolean to a number)."""
    return ibis.ifelse(flag, 1, 0).sum()


def group_sums(values: pd.Series, by: pd.Series | str | list, *, min_count: int = 0
               ) -> pd.Series:
    """Per group, the sum of ``values`` as the engine's aggregates give it (:func:`_sum`): the
    exactly rounded sum, whatever the order of the rows (pandas' own sum adds them in order).

    ``min_count=1`` gives NaN to a group without a value (a SQL sum's NULL).

    Examples
    --------
    >>> group_sums(pd.Series([0.1, 0.2, 0.3]), pd.Series([1, 1, 1])).tolist()
    [0.6]
    """
    x = values.to_numpy(dtype="float64", na_value=np.nan)
    known = ~np.isnan(x)
    hi = np.where(known, np.floor(np.where(known, x, 0.0) * _SCALE), 0.0)
    lo = x - hi / _SCALE
    parts = pd.DataFrame({"hi": hi.astype("int64"), "lo": lo}, index=values.index)
    g = parts.groupby(by)
    return (g["hi"].sum().astype("float64") / _SCALE
            + g["lo"].sum(min_count=min_count)).rename(values.name)


def _date(value: dt.date | pd.Timestamp) -> dt.date:
    return pd.Timestamp(value).date()


#: Past this many customers a subset is a join with an in-memory table, not an IN list.
_IN_LIST_MAX = 1000


def _only(t: ir.Table, customers: Iterable[int]) -> ir.Table:
    """The rows of ``customers`` (keys) only."""
    keys = sorted({int(k) for k in customers})
    if len(keys) <= _IN_LIST_MAX:
        return t.filter(t.customer_key.isin(keys) if keys else ibis.literal(False))
    wanted = ibis.memtable(pd.DataFrame({"customer_key": pd.array(keys, dtype="int64")}))
    return t.semi_join(wanted, "customer_key")


class OrderTable:
    """The orders, as an Ibis table on the engine that runs the aggregates.

    Parameters
    ----------
    table
        The orders (``customer_key``, ``ordered_at`` as a date, ``amount``, ``is_refund``;
        optionally ``cost``, ``margin``, ``channel``, ``agent``).
    run
        Runs an expression and returns a pandas DataFrame (``Engine.to_pandas``).
    as_of
        Orders after this date are never read (None: every order).
    """

    def __init__(self, table: ir.Table, run: Callable[[ir.Table], pd.DataFrame], *,
                 as_of: dt.date | None = None) -> None:
        missing = [c for c in ("customer_key", "ordered_at", "amount") if c not in table.columns]
        if missing:
            raise DataContractError(f"the engine's orders lack column(s) {', '.join(missing)}",
                                    "the orders table needs customer_key, ordered_at, amount")
        self.table, self._run, self.as_of = table, run, as_of

    @classmethod
    def of(cls, engine: Engine, as_of: dt.date | None = None) -> OrderTable:
        """The orders of ``engine`` (its ``orders()`` table, run with its ``to_pandas``)."""
        return cls(engine.orders(), engine.to_pandas, as_of=as_of)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.table.columns)

    def __contains__(self, column: object) -> bool:
        return column in self.table.columns

    def to_pandas(self, expr: ir.Table) -> pd.DataFrame:
        return self._run(expr)

    # ---- the prepared orders (as lifecycle.states.prepare_orders, in the engine) -------------

    def upto(self, as_of: dt.date | pd.Timestamp | None) -> ir.Table:
        """Orders up to ``as_of`` (and this table's own ``as_of``) with ``amount`` (NULL -> 0)
        and ``is_refund`` (NULL -> false; without the column: a negative amount)."""
        t = self.table
        ends = [d for d in (as_of, self.as_of) if d is not None]
        if ends:
            t = t.filter(t.ordered_at <= ibis.date(min(_date(d) for d in ends)))
        amount = t.amount.cast("float64").fill_null(0.0)
        refund = t.is_refund.fill_null(False) if "is_refund" in t.columns else amount < 0
        return t.mutate(amount=amount, is_refund=refund)

    def frame(self, as_of: dt.date | pd.Timestamp | None, columns: Sequence[str] | None = None,
              *, since: dt.date | pd.Timestamp | None = None,
              customers: Iterable[int] | None = None) -> pd.DataFrame:
        """Per-order rows of a subset, in the store's order (customer, date): ``customers``
        (keys) and/or orders on or after ``since``, up to ``as_of``; raw columns as stored."""
        cols = list(columns or ("customer_key", "ordered_at", "amount", "is_refund"))
        cols = [c for c in cols if c in self.table.columns]
        t = self.table
        ends = [d for d in (as_of, self.as_of) if d is not None]
        if ends:
            t = t.filter(t.ordered_at <= ibis.date(min(_date(d) for d in ends)))
        if since is not None:
            t = t.filter(t.ordered_at >= ibis.date(_date(since)))
        if customers is not None:
            t = _only(t, customers)
        out = self._run(t.select(cols).order_by(["customer_key", "ordered_at"]))
        if "ordered_at" in out:
            out["ordered_at"] = pd.to_datetime(out["ordered_at"])
        return out

    # ---- per-customer aggregates -------------------------------------------------------------

    def visits(self, as_of: dt.date, days: int, *, offset: int = 0) -> pd.Series:
        """Distinct purchase days (refunds excluded) per customer in the ``days`` ending
        ``offset`` days before ``as_of`` (as :func:`tierwise.lifecycle.window_visits`)."""
        end = _date(as_of) - dt.timedelta(days=offset)
        start = end - dt.timedelta(days=days - 1)
        t = self.upto(as_of)
        t = t.filter(~t.is_refund & (t.ordered_at >= ibis.date(start))
                     & (t.ordered_at <= ibis.date(end)))
        got = self._run(t.group_by("customer_key").aggregate(visits=t.ordered_at.nunique()))
        got = got.set_index("customer_key").sort_index()
        return got["visits"].astype("int64").rename("visits")

    def activity_counts(self, as_of: dt.date, window: int, baseline: int) -> pd.DataFrame:
        """Per customer with a purchase: visits in the window, in the window before it and in
        the baseline after it; days since the last and since the first purchase (``ago``)."""
        t = self.upto(as_of)
        t = t.filter(~t.is_refund)
        ago = ibis.date(_date(as_of)).delta(t.ordered_at, unit="day")
        t = t.mutate(ago=ago)
        day = t.ordered_at
        got = self._run(t.group_by("customer_key").aggregate(
            visits=day.nunique(where=t.ago < window),
            visits_prev=day.nunique(where=(t.ago >= window) & (t.ago < 2 * window)),
            base=day.nunique(where=(t.ago >= window) & (t.ago < window + baseline)),
            ago_min=t.ago.min(), ago_max=t.ago.max()))
        return got.set_index("customer_key").sort_index().astype("int64")

    def window_amounts(self, as_of: dt.date,
                       windows: Sequence[tuple[dt.date | pd.Timestamp, dt.date | pd.Timestamp]]
                       ) -> pd.DataFrame:
        """Net amount per customer in each inclusive window (columns ``0, 1, ...``; NaN where
        the customer has no order in the window), for customers with an order in any."""
        if not windows:
            return pd.DataFrame(index=pd.Index([], name="customer_key"))
        t = self.upto(as_of)
        bounds = [(ibis.date(_date(s)), ibis.date(_date(e))) for s, e in windows]
        lo = min(_date(s) for s, _ in windows)
        hi = max(_date(e) for _, e in windows)
        t = t.filter((t.ordered_at >= ibis.date(lo)) & (t.ordered_at <= ibis.date(hi)))
        got = self._run(t.group_by("customer_key").aggregate(**{
            f"w{i}": _sum(t.amount, where=(t.ordered_at >= s) & (t.ordered_at <= e))
            for i, (s, e) in enumerate(bounds)}))
        got = got.set_index("customer_key").sort_index()
        got.columns = range(len(windows))
        return got.astype("float64")

    def spend_and_visits(self, as_of: dt.date, since: dt.date | pd.Timestamp) -> pd.DataFrame:
        """Per customer with a purchase from ``since`` to ``as_of``: ``total_spend`` (net of
        refunds) and ``total_visits`` (distinct purchase days), indexed by ``customer_key``."""
        t = self.upto(as_of)
        t = t.filter(t.ordered_at >= ibis.date(_date(since)))
        got = self._run(t.group_by("customer_key").aggregate(
            total_spend=_sum(t.amount),
            total_visits=t.ordered_at.nunique(where=~t.is_refund),
            purchases=_count(~t.is_refund)))
        got = got[got["purchases"] > 0].drop(columns="purchases")
        return got.set_index("customer_key").sort_index().astype({"total_spend": "float64",
                                                     "total_visits": "int64"})

    # ---- channel and agent contributions (small aggregate tables) ----------------------------

    def labelled(self, as_of: dt.date) -> ir.Table:
        """Orders up to ``as_of`` with ``purchase``, ``line_margin`` and the ``channel`` /
        ``agent`` labels of :func:`tierwise.tiering.big_accounts._orders` (blank: NONE_LABEL)."""
        t = self.upto(as_of)
        cost = t.cost.cast("float64") if "cost" in t.columns else ibis.null("float64")
        margin = t.margin.cast("float64") if "margin" in t.columns else ibis.null("float64")
        labels = {}
        for column in ("channel", "agent"):
            if column in t.columns:
                text = t[column].cast("string").strip()
                labels[column] = ibis.ifelse(text.isnull() | (text == ""), NONE_LABEL, text)
        return t.mutate(purchase=~t.is_refund, line_margin=margin.fill_null(t.amount - cost),
                        **labels)

    def contributions(self, as_of: dt.date, dimension: str, *,
                      since: dt.date | pd.Timestamp | None = None,
                      customers: Iterable[int] | None = None) -> pd.DataFrame:
        """Per value of ``dimension``: purchases (``orders``), distinct ``customers``,
        ``revenue`` and ``margin`` (NaN when no order has one), optionally from ``since`` and
        for ``customers`` only."""
        t = self.labelled(as_of)
        if since is not None:
            t = t.filter(t.ordered_at >= ibis.date(_date(since)))
        if customers is not None:
            t = _only(t, customers)
        got = self._run(t.group_by(dimension).aggregate(
            orders=_count(t.purchase), customers=t.customer_key.nunique(),
            revenue=_sum(t.amount), margin=_sum(t.line_margin)))
        got = got.set_index(dimension).sort_index()
        return got.astype({"orders": "int64", "customers": "int64", "revenue": "float64",
                           "margin": "float64"})

    def distinct_channels(self, as_of: dt.date) -> pd.Series:
        """Per customer with a purchase through a named channel up to ``as_of``: the number of
        distinct channels bought through (refunds left out; empty when no order has one)."""
        if "channel" not in self.table.columns:
            return pd.Series(dtype="int64", name="distinct_channels")
        t = self.upto(as_of)
        text = t.channel.cast("string").strip()
        t = t.filter(~t.is_refund & text.notnull() & (text != "")).mutate(label=text)
        got = self._run(t.group_by("customer_key").aggregate(n=t.label.nunique()))
        return got.set_index("customer_key")["n"].sort_index().astype("int64").rename(
            "distinct_channels")

    def has_labels(self, dimensions: Sequence[str]) -> bool:
        """Whether any order carries one of ``dimensions`` (not NULL)."""
        present = [d for d in dimensions if d in self.table.columns]
        if not present:
            return False
        t = self.upto(None)
        carried = functools.reduce(operator.or_, (t[d].notnull() for d in present))
        got = self._run(t.aggregate(n=carried.any()))
        return bool(got["n"].iloc[0])

    # ---- the run's steps besides the snapshot (issue 16: nothing reads the store's orders) ---

    def order_days(self) -> tuple[list[dt.date], list[int]]:
        """Distinct order dates, ascending, and the orders (refunds too) on each: what
        :func:`tierwise.features.as_of.default_as_of` chooses the run's date from."""
        t = self.upto(None)
        got = self._run(t.group_by("ordered_at").aggregate(n=t.count()).order_by("ordered_at"))
        return [_date(d) for d in got["ordered_at"]], [int(n) for n in got["n"]]

    def first_purchase(self) -> dt.date | None:
        """The first day with a purchase (refunds left out; None without one)."""
        t = self.upto(None)
        got = self._run(t.filter(~t.is_refund).aggregate(first=t.ordered_at.min()))
        first = got["first"].iloc[0] if len(got) else None
        return None if first is None or pd.isna(first) else _date(first)

    def outcomes(self, start: dt.date, end: dt.date) -> pd.DataFrame:
        """Per customer with an order in ``(start, end]``: ``bought`` (a purchase among them)
        and net ``revenue`` (as :func:`tierwise.backtest.outcomes`), indexed by key."""
        t = self.upto(end)
        t = t.filter(t.ordered_at > ibis.date(_date(start)))
        got = self._run(t.group_by("customer_key").aggregate(
            purchases=_count(~t.is_refund), revenue=_sum(t.amount)))
        got = got.set_index("customer_key").sort_index()
        return pd.DataFrame({"bought": got["purchases"].astype("int64") > 0,
                             "revenue": got["revenue"].astype("float64")})

    def last_purchases(self, customers: Iterable[int], after: dt.date, end: dt.date
                       ) -> pd.Series:
        """Per customer of ``customers`` (keys) with a purchase in ``(after, end]``: its last
        day (as a Timestamp)."""
        t = _only(self.upto(end), customers)
        t = t.filter(~t.is_refund & (t.ordered_at > ibis.date(_date(after))))
        got = self._run(t.group_by("customer_key").aggregate(last=t.ordered_at.max()))
        return pd.to_datetime(got.set_index("customer_key")["last"]).sort_index().rename("last")

    def _purchases(self, as_of: dt.date) -> ir.Table:
        t = self.upto(as_of)
        return t.filter(~t.is_refund)

    def purchase_months(self, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The cohorts' counts: per first-purchase month (``cohort``) and month with a purchase
        (``month``), the customers active (``active``); and per cohort its ``customers``.
        Months are ``year * 12 + month - 1``."""
        t = self._purchases(as_of)
        months = t.select("customer_key", month=_month_index(t.ordered_at)).distinct()
        firsts = months.group_by("customer_key").aggregate(cohort=months.month.min())
        joined = months.join(firsts, "customer_key")
        active = self._run(joined.group_by(["cohort", "month"]).aggregate(
            active=joined.customer_key.nunique()))
        sizes = self._run(firsts.group_by("cohort").aggregate(customers=firsts.count()))
        return active.astype("int64"), sizes.astype("int64")

    def purchase_days(self, as_of: dt.date) -> pd.Series:
        """Per customer with a purchase up to ``as_of``: distinct purchase days."""
        t = self._purchases(as_of)
        got = self._run(t.group_by("customer_key").aggregate(days=t.ordered_at.nunique()))
        return got.set_index("customer_key")["days"].sort_index().astype("int64")

    def store_days(self, as_of: dt.date) -> pd.DataFrame:
        """Per customer and store (orders with a ``store`` only): distinct purchase days
        (``customer_key``, ``store``, ``days``); empty when the orders carry no store."""
        if "store" not in self.table.columns:
            return pd.DataFrame({"customer_key": pd.Series(dtype="int64"),
                                 "store": pd.Series(dtype="object"),
                                 "days": pd.Series(dtype="int64")})
        t = self._purchases(as_of)
        t = t.filter(t.store.notnull()).mutate(store=t.store.cast("string"))
        got = self._run(t.group_by(["customer_key", "store"]).aggregate(
            days=t.ordered_at.nunique()))
        return got.astype({"customer_key": "int64", "days": "int64"})

    def window_spend(self, as_of: dt.date, window: str) -> pd.DataFrame:
        """Net spend per customer and calendar ``window`` (month, quarter, year) up to
        ``as_of``: ``customer_key``, ``window_start`` (a Timestamp), ``spend``."""
        months = {"month": 1, "quarter": 3, "year": 12}[window]
        t = self.upto(as_of)
        index = _month_index(t.ordered_at)
        start = index if months == 1 else (index // months) * months
        t = t.mutate(w=start)
        got = self._run(t.group_by(["customer_key", "w"]).aggregate(spend=_sum(t.amount)))
        got = got.sort_values(["customer_key", "w"]).reset_index(drop=True)
        w = got["w"].astype("int64")
        starts = pd.to_datetime(pd.DataFrame({"year": w // 12, "month": w % 12 + 1, "day": 1}))
        return pd.DataFrame({"customer_key": got["customer_key"].astype("int64"),
                             "window_start": starts,
                             "spend": got["spend"].astype("float64")})

    def first_orders(self, as_of: dt.date) -> pd.DataFrame:
        """Each customer's first day with a paid purchase (refunds and zero amounts left out)
        up to ``as_of`` and what it spent that day: ``customer_key``, ``first_order``,
        ``first_revenue`` (as :func:`tierwise.store.leads.first_orders`)."""
        t = self.upto(as_of)
        paid = t.filter(~t.is_refund & (t.amount > 0))
        firsts = paid.group_by("customer_key").aggregate(first_order=paid.ordered_at.min())
        day = paid.join(firsts, (paid.customer_key == firsts.customer_key)
                        & (paid.ordered_at == firsts.first_order))
        got = self._run(day.group_by(["customer_key", "first_order"]).aggregate(
            first_revenue=_sum(day.amount)))
        got = got.sort_values("customer_key").reset_index(drop=True)
        return pd.DataFrame({"customer_key": got["customer_key"].astype("int64"),
                             "first_order": pd.to_datetime(got["first_order"]).astype(
                                 "datetime64[us]"),
                             "first_revenue": got["first_revenue"].astype("float64")})


def _month_index(day: ir.DateValue) -> ir.IntegerValue:
    """``year * 12 + month - 1``: months counted from year 0 (integer arithmetic every engine
    runs alike; no engine's own month truncation or difference)."""
    return day.year().cast("int64") * 12 + day.month().cast("int64") - 1


__all__ = ["NONE_LABEL", "OrderTable", "group_sums"]

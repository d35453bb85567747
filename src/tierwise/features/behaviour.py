"""Per-customer behaviour metrics as Ibis expressions, as of an explicit date.

The expressions are written once and run wherever the orders live: DuckDB (the store), Spark, or a
PostgreSQL / MySQL warehouse (see :mod:`tierwise.engine`). They read an orders table with the
store's columns ``customer_key`` (int64), ``ordered_at`` (date), ``amount`` (float64, refunds
negative), ``cost`` and ``margin`` (float64, nullable) and ``is_refund`` (bool).

How the query is shaped (cheap on every engine):

1. purchases on or before ``as_of`` are aggregated once to one row per customer and day, and
   one window over those rows gives each day the gap since the previous one;
2. those rows are aggregated once to one row per customer, every metric being a (filtered)
   aggregate over the same rows: no per-metric scans or self-joins;
3. refunds (a few percent of the orders) are aggregated per customer apart and joined on;
4. every calendar boundary is a DATE literal computed in Python (:mod:`.periods`).

At 10M orders on DuckDB this takes about 10 CPU seconds and under 1 GB of buffer memory;
``bench/features.py`` measures it.

Definitions follow lifetimes' ``summary_data_from_transaction_data(freq="D")`` for
``frequency``, ``recency``, ``T`` and ``monetary_value``: a purchase occasion is a day with at
least one purchase (a non-refund order); ``monetary_value`` is the mean of the day totals of the
repeat purchase days (every purchase day but the first), 0 when ``frequency`` is 0.
Refunds are netted into ``total_amount`` and the ``value_*`` columns but are never purchase
occasions.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S., Lee, K. L. (2005). "Counting Your Customers the Easy Way:
   An Alternative to the Pareto/NBD Model". Marketing Science 24(2), 275-284.
.. [2] lifetimes 0.11.3, ``lifetimes.utils.summary_data_from_transaction_data``.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
from ibis.common.exceptions import IbisError

from ..errors import DataContractError
from .periods import FeatureWindows, PeriodKind, Window, feature_windows

ORDER_COLUMNS: dict[str, str] = {
    "customer_key": "int64",
    "ordered_at": "date",
    "amount": "float64",
    "cost": "float64",
    "margin": "float64",
    "is_refund": "boolean",
}
"""The orders columns the features read, with their Ibis types (the store's ``orders`` table)."""

ORDERS_SCHEMA = ibis.schema(ORDER_COLUMNS)

PURCHASE_DAY_COLUMNS: dict[str, str] = {
    "customer_key": "int64",
    "ordered_at": "date",
    "n_orders": "int64",
    "amount": "float64",
    "margin": "float64",
    "n_refunds": "int64",
    "refund_amount": "float64",
    "refund_margin": "float64",
    "gap": "int64",
}
"""The columns of the store's ``purchase_days`` table (:mod:`tierwise.store.purchase_days`): the
orders summed per customer and day, purchases and refunds apart. Where an engine has it, the
features read it instead of the orders (the same results: the day sums are the first step of
every metric)."""

RFM_COLUMNS: tuple[str, ...] = ("customer_key", "frequency", "recency", "T", "monetary_value")

FEATURE_COLUMNS: tuple[str, ...] = (
    "customer_key", "first_purchase", "last_purchase", "frequency", "recency", "T", "n_orders",
    "total_amount", "mean_amount", "monetary_value", "refund_count", "refund_amount",
    "margin_total", "days_since_last", "visits_30d", "visits_b1", "visits_b2", "visits_b3",
    "spend_b1", "spend_b2", "spend_b3", "value_period", "value_prev_period",
    "value_same_period_ly", "gap_mean", "gap_median", "litt", "gap_last", "gap_prev",
)
"""The feature columns, in order (docs/architecture.md, "Feature columns")."""


def _check_orders(orders: ir.Table, needed: tuple[str, ...]) -> None:
    schema = orders.schema()
    missing = [c for c in needed if c not in schema]
    if missing:
        raise DataContractError(
            f"the orders table lacks column(s) {', '.join(missing)}",
            f"features read {', '.join(needed)} (the store's orders schema)",
        )
    if not schema["ordered_at"].is_date():
        raise DataContractError(
            f"orders.ordered_at is {schema['ordered_at']}, not a date",
            "cast it to DATE (the local business date) before computing features",
        )


def _check_days(days: ir.Table) -> None:
    missing = [c for c in PURCHASE_DAY_COLUMNS if c not in days.schema()]
    if missing:
        raise DataContractError(
            f"the purchase-day table lacks column(s) {', '.join(missing)}",
            "the store may be from an older tierwise: open it once to run its migrations",
        )


def _check_as_of(as_of: dt.date) -> dt.date:
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise TypeError(f"as_of must be a datetime.date, got {as_of!r}")
    return as_of


def _supports(orders: ir.Table, op: type[ops.Value]) -> bool:
    """Whether the backend ``orders`` is bound to implements ``op``.

    An unbound table (compiled later to a dialect, as the MySQL engine does) gets the portable
    formulation.
    """
    try:
        backend = orders.get_backend()
    except IbisError:
        return False
    try:
        return bool(backend.has_operation(op))
    except NotImplementedError:
        return False


def _between(col: ir.DateValue, window: Window) -> ir.BooleanValue:
    return (col >= window.start) & (col <= window.end)


def _days(a: ir.DateValue, b: ir.DateValue | dt.date) -> ir.IntegerValue:
    """Whole days from ``b`` to ``a`` (``a - b``) as an integer."""
    return a.delta(b if isinstance(b, ir.Expr) else ibis.date(b), unit="day")


# --------------------------------------------------------------------------------------------
# RFM summary: the lean path


def rfm_expr(orders: ir.Table | None, as_of: dt.date, *,
             purchase_days: ir.Table | None = None) -> ir.Table:
    """lifetimes' RFM summary (``frequency``, ``recency``, ``T``, ``monetary_value``) per customer.

    Parameters
    ----------
    orders
        An Ibis table with the store's orders columns (see :data:`ORDER_COLUMNS`).
    as_of
        The observation end; orders after it are ignored.
    purchase_days
        The same orders already summed per customer and day (:data:`PURCHASE_DAY_COLUMNS`, the
        store's ``purchase_days`` table); when given, ``orders`` is not read (it may be None).

    Returns
    -------
    ibis.Table
        One row per customer with at least one purchase on or before ``as_of``, columns
        :data:`RFM_COLUMNS`. ``frequency``, ``recency`` and ``T`` are integers (days).

    Notes
    -----
    Orders are summed per customer and day, then per customer. Where the engine has
    ``arg_min`` (DuckDB, Spark, PostgreSQL) ``monetary_value`` comes out of that one
    aggregation as (sum of the day totals - the first day's total) / ``frequency``: a window
    numbering the days costs about 10 % more CPU on DuckDB. Purchase amounts are not negative,
    so the subtraction loses precision only when the first day outweighs all repeat days
    together by many orders of magnitude (relative error about 1e-16 times that ratio; under
    1e-9 up to a ratio of 10 million). Elsewhere (MySQL) the days are numbered by a window and
    the repeat days averaged directly. :func:`feature_expr` always averages directly.

    From ``purchase_days`` (the store's table, DuckDB engine) one aggregation of the stored
    day totals gives everything: the repeat days are those with a ``gap`` (a previous purchase
    day, which no as-of filter removes) and are averaged directly. The results equal those
    from the orders (integers exactly, ``monetary_value`` up to the rounding of the two
    formulations above).

    Examples
    --------
    >>> import datetime as dt, ibis
    >>> t = ibis.memtable({"customer_key": [1, 1, 1], "amount": [10.0, 5.0, 7.0],
    ...     "ordered_at": [dt.date(2024, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 1, 4)],
    ...     "is_refund": [False, False, False]}).cast({"ordered_at": "date"})
    >>> rfm_expr(t, dt.date(2024, 1, 10)).to_pandas().to_dict("records")
    [{'customer_key': 1, 'frequency': 1, 'recency': 3, 'T': 9, 'monetary_value': 7.0}]
    """
    _check_as_of(as_of)
    if purchase_days is not None:
        # the days summed already, the repeat days marked (gap): one aggregation, no ordering
        _check_days(purchase_days)
        p = purchase_days.filter(purchase_days.ordered_at <= as_of, purchase_days.n_orders > 0)
        c = p.group_by("customer_key").aggregate(
            first=p.ordered_at.min(),
            last=p.ordered_at.max(),
            n_days=p.count(),
            repeat_mean=p.amount.mean(where=p.gap.notnull()),
        )
        repeat_mean = c.repeat_mean
        return _rfm_columns(c, repeat_mean, as_of)
    _check_orders(orders, ("customer_key", "ordered_at", "amount", "is_refund"))
    o = orders.filter(orders.ordered_at <= as_of, ~orders.is_refund)
    days = o.group_by(["customer_key", "ordered_at"]).aggregate(day_amount=o.amount.sum())
    if _supports(orders, ops.ArgMin):
        # one aggregation: (all days - the first day) / repeat days
        c = days.group_by("customer_key").aggregate(
            first=days.ordered_at.min(),
            last=days.ordered_at.max(),
            n_days=days.count(),
            total=days.day_amount.sum(),
            first_amount=days.day_amount.argmin(days.ordered_at),
        )
        repeat_mean = (c.total - c.first_amount) / (c.n_days - 1).nullif(0)
    else:
        # number the days of each customer (0-based) and average all but the first
        days = days.mutate(
            day_number=ibis.row_number().over(group_by="customer_key", order_by="ordered_at"))
        c = days.group_by("customer_key").aggregate(
            first=days.ordered_at.min(),
            last=days.ordered_at.max(),
            n_days=days.count(),
            repeat_mean=days.day_amount.mean(where=days.day_number > 0),
        )
        repeat_mean = c.repeat_mean
    return _rfm_columns(c, repeat_mean, as_of)


def _rfm_columns(c: ir.Table, repeat_mean: ir.FloatingValue, as_of: dt.date) -> ir.Table:
    return c.select(
        customer_key=c.customer_key,
        frequency=c.n_days - 1,
        recency=_days(c["last"], c["first"]),
        T=_days(ibis.date(as_of), c["first"]),
        monetary_value=repeat_mean.fill_null(0.0).cast("float64"),
    )


# --------------------------------------------------------------------------------------------
# The full feature set


def _line_margin(o: ir.Table) -> ir.FloatingValue:
    """An order's margin: ``margin`` when known, else ``amount - cost`` (NULL when neither)."""
    return o.margin.fill_null(o.amount - o.cost)


def _purchase_days(orders: ir.Table | None, as_of: dt.date,
                   purchase_days: ir.Table | None = None) -> ir.Table:
    """One row per customer and purchase day on or before ``as_of``.

    ``gap`` is the number of days since the customer's previous purchase day (NULL on the
    first one), ``gap_prev`` the gap before that one and ``is_last`` marks the last purchase day:
    all from one window (ordered by day per customer), which every engine sorts once.
    """
    if purchase_days is not None:
        p = purchase_days
        days = p.filter(p.ordered_at <= as_of, p.n_orders > 0).select(
            "customer_key", "ordered_at", "n_orders", "amount", "margin")
    else:
        o = orders.filter(orders.ordered_at <= as_of, ~orders.is_refund)
        days = o.group_by(["customer_key", "ordered_at"]).aggregate(
            n_orders=o.count(), amount=o.amount.sum(), margin=_line_margin(o).sum())
    w = ibis.window(group_by=days.customer_key, order_by=days.ordered_at)
    previous = days.ordered_at.lag().over(w)
    return days.mutate(gap=_days(days.ordered_at, previous),
                       gap_prev=_days(previous, days.ordered_at.lag(2).over(w)),
                       is_last=days.ordered_at.lead().over(w).isnull())


def _refunds(orders: ir.Table | None, w: FeatureWindows,
             purchase_days: ir.Table | None = None) -> ir.Table:
    """One row per customer with refunds on or before ``as_of`` (amounts negative)."""
    if purchase_days is not None:
        p = purchase_days.filter(purchase_days.ordered_at <= w.as_of,
                                 purchase_days.n_refunds > 0)
        return p.group_by("customer_key").aggregate(
            r_count=p.n_refunds.sum(), r_first=p.ordered_at.min(), r_amount=p.refund_amount.sum(),
            r_margin=p.refund_margin.sum(),
            r_period=p.refund_amount.sum(where=_between(p.ordered_at, w.current)),
            r_prev_period=p.refund_amount.sum(where=_between(p.ordered_at, w.previous)),
            r_same_period_ly=p.refund_amount.sum(where=_between(p.ordered_at, w.last_year)),
        )
    o = orders.filter(orders.ordered_at <= w.as_of, orders.is_refund)
    return o.group_by("customer_key").aggregate(
        r_count=o.count(), r_first=o.ordered_at.min(), r_amount=o.amount.sum(),
        r_margin=_line_margin(o).sum(),
        r_period=o.amount.sum(where=_between(o.ordered_at, w.current)),
        r_prev_period=o.amount.sum(where=_between(o.ordered_at, w.previous)),
        r_same_period_ly=o.amount.sum(where=_between(o.ordered_at, w.last_year)),
    )


def _gap_medians(days: ir.Table) -> ir.Table:
    """Median gap per customer without a MEDIAN aggregate (for MySQL / MariaDB).

    Rows are numbered by gap within each customer (0-based ``rn`` of ``n``); the median is the
    mean of the one or two middle rows, those with ``n - 2 <= 2 * rn <= n`` (written without
    subtraction: MySQL's ROW_NUMBER is unsigned).
    """
    gaps = days.filter(days.gap.notnull())
    w = ibis.window(group_by=gaps.customer_key, order_by=gaps.gap)
    ranked = gaps.mutate(_rn=ibis.row_number().over(w),
                         _n=gaps.gap.count().over(ibis.window(group_by=gaps.customer_key)))
    middle = (2 * ranked._rn + 2 >= ranked._n) & (2 * ranked._rn <= ranked._n)
    return ranked.group_by("customer_key").aggregate(
        gap_median=ranked.gap.cast("float64").mean(where=middle))


def feature_expr(orders: ir.Table | None, as_of: dt.date, *, period: PeriodKind = "month",
                 purchase_days: ir.Table | None = None) -> ir.Table:
    """Every behaviour metric per customer, as of ``as_of``.

    Parameters
    ----------
    orders
        An Ibis table with the store's orders columns (see :data:`ORDER_COLUMNS`).
    as_of
        The as-of date; orders after it are ignored.
    period
        ``"month"`` or ``"quarter"``: the period of ``value_period`` (period to date),
        ``value_prev_period`` (the whole previous period) and ``value_same_period_ly`` (the whole
        same period one year earlier).
    purchase_days
        The same orders already summed per customer and day (:data:`PURCHASE_DAY_COLUMNS`);
        when given, ``orders`` is not read (it may be None).

    Returns
    -------
    ibis.Table
        One row per customer with at least one order (a purchase or a refund) on or before
        ``as_of``, columns :data:`FEATURE_COLUMNS`. A customer whose only orders are refunds
        (a cancellation of purchases older than the data) has a negative ``total_amount``, no
        ``first_purchase`` / ``last_purchase`` / ``days_since_last`` / ``mean_amount`` (NULL),
        0 for ``frequency``, ``recency``, ``n_orders`` and the visit counts, and ``T`` counted
        from their first refund (when they were last seen):

        - ``first_purchase``, ``last_purchase``: first and last purchase day;
        - ``frequency``, ``recency``, ``T``, ``monetary_value``: as :func:`rfm_expr`;
        - ``n_orders``: purchase orders (refunds not counted); ``total_amount``: sum of all
          amounts, refunds netted; ``mean_amount``: mean amount of a purchase order;
        - ``refund_count``, ``refund_amount``: refund orders and their total as a positive
          number (0 when none);
        - ``margin_total``: sum over orders of ``margin``, or ``amount - cost`` where only the cost
          is known, refunds included; NULL when no order has either;
        - ``days_since_last``: days from the last purchase to ``as_of``;
        - ``visits_30d``: purchase days in ``(as_of - 30, as_of]``;
        - ``visits_b1..b3``: purchase days in 上旬 (1-10), 中旬 (11-20), 下旬 (21-end) of the as-of
          month; ``spend_b1..b3``: purchase amount per visit in that bucket (NULL without visits);
        - ``value_period``, ``value_prev_period``, ``value_same_period_ly``: net amount (refunds
          netted) in the windows above, 0 when none;
        - ``gap_mean``, ``gap_median``: mean and median days between consecutive purchase days
          (NULL when ``frequency`` is 0);
        - ``litt``: the sum of the natural logs of those gaps (0 when ``frequency`` is 0), what
          the rhythm models (MBG/CNBD-k) need beyond ``frequency``, ``recency``, ``T`` (BTYDplus's
          ``litt``, in days);
        - ``gap_last``, ``gap_prev``: the last and the one-but-last gap (NULL when absent), for the
          Wheat & Morrison regularity estimate.

    Examples
    --------
    >>> import datetime as dt, ibis
    >>> t = ibis.memtable({"customer_key": [7, 7], "amount": [10.0, -4.0],
    ...     "ordered_at": [dt.date(2024, 3, 2), dt.date(2024, 3, 12)], "cost": [6.0, None],
    ...     "margin": [None, -1.5], "is_refund": [False, True]}).cast({"ordered_at": "date"})
    >>> row = feature_expr(t, dt.date(2024, 3, 31)).to_pandas().iloc[0]
    >>> row.total_amount, row.refund_amount, row.margin_total, row.visits_b1, row.visits_b2
    (np.float64(6.0), np.float64(4.0), np.float64(2.5), np.int64(1), np.int64(0))
    """
    _check_as_of(as_of)
    if purchase_days is None:
        _check_orders(orders, tuple(ORDER_COLUMNS))
    else:
        _check_days(purchase_days)
    w = feature_windows(as_of, period)
    d = _purchase_days(orders, as_of, purchase_days)
    day = d.ordered_at
    has_median = _supports(orders if purchase_days is None else purchase_days, ops.Median)

    # purchases: one aggregation of the purchase days
    metrics = {
        "first_purchase": day.min(),
        "last_purchase": day.max(),
        "n_days": d.count(),
        "n_orders": d.n_orders.sum(),
        "purchase_amount": d.amount.sum(),
        "monetary_value": d.amount.mean(where=d.gap.notnull()),
        "margin": d.margin.sum(),
        "visits_30d": d.count(where=_between(day, w.recent)),
        "gap_sum": d.gap.sum(),
        "litt": d.gap.cast("float64").ln().sum(),
        "gap_last": d.gap.max(where=d.is_last),
        "gap_prev": d.gap_prev.max(where=d.is_last),
    }
    for i, bucket in enumerate(w.buckets, start=1):
        metrics[f"visits_b{i}"] = d.count(where=_between(day, bucket))
        metrics[f"spend_sum_b{i}"] = d.amount.sum(where=_between(day, bucket))
    for name, window in _VALUE_WINDOWS:
        metrics[name] = d.amount.sum(where=_between(day, getattr(w, window)))
    if has_median:
        metrics["gap_median"] = d.gap.median()
    c = d.group_by("customer_key").aggregate(**metrics)
    if not has_median:
        c = c.left_join(_gap_medians(d), "customer_key").drop("customer_key_right")
    # refunds (a few percent of the orders): aggregated apart, joined per customer; a customer
    # whose only orders are refunds keeps a row (no purchase, negative value)
    r = _refunds(orders, w, purchase_days)
    c = c.outer_join(r, c.customer_key == r.customer_key)
    c = c.mutate(customer_key=c.customer_key.coalesce(c.customer_key_right)) \
        .drop("customer_key_right")

    frequency = (c.n_days - 1).fill_null(0)
    columns = {
        "customer_key": c.customer_key,
        "first_purchase": c.first_purchase,
        "last_purchase": c.last_purchase,
        "frequency": frequency,
        "recency": _days(c.last_purchase, c.first_purchase).fill_null(0),
        "T": _days(ibis.date(as_of), c.first_purchase.coalesce(c.r_first)),
        "n_orders": c.n_orders.fill_null(0),
        "total_amount": c.purchase_amount.fill_null(0.0) + c.r_amount.fill_null(0.0),
        "mean_amount": c.purchase_amount / c.n_orders.nullif(0),
        "monetary_value": c.monetary_value.fill_null(0.0),
        "refund_count": c.r_count.fill_null(0),
        "refund_amount": -c.r_amount.fill_null(0.0),
        "margin_total": ibis.cases(
            (c.margin.isnull() & c.r_margin.isnull(), ibis.null("float64")),
            else_=c.margin.fill_null(0.0) + c.r_margin.fill_null(0.0)),
        "days_since_last": _days(ibis.date(as_of), c.last_purchase),
        "visits_30d": c.visits_30d.fill_null(0),
    }
    for i in (1, 2, 3):
        columns[f"visits_b{i}"] = c[f"visits_b{i}"].fill_null(0)
    for i in (1, 2, 3):
        columns[f"spend_b{i}"] = c[f"spend_sum_b{i}"] / c[f"visits_b{i}"].nullif(0)
    for name, _ in _VALUE_WINDOWS:
        refunds = c["r_" + name.removeprefix("value_")]
        columns[name] = c[name].fill_null(0.0) + refunds.fill_null(0.0)
    # float division everywhere (MySQL divides integers to 4 decimals)
    columns["gap_mean"] = c.gap_sum.cast("float64") / frequency.nullif(0)
    columns["gap_median"] = c.gap_median.cast("float64")
    columns["litt"] = c.litt.fill_null(0.0)
    columns["gap_last"] = c.gap_last.cast("float64")
    columns["gap_prev"] = c.gap_prev.cast("float64")
    return c.select(**columns).cast(_FEATURE_TYPES)


_VALUE_WINDOWS = (("value_period", "current"), ("value_prev_period", "previous"),
                  ("value_same_period_ly", "last_year"))

_FEATURE_TYPES = {
    "customer_key": "int64", "first_purchase": "date", "last_purchase": "date",
    "frequency": "int64", "recency": "int64", "T": "int64", "n_orders": "int64",
    "total_amount": "float64", "mean_amount": "float64", "monetary_value": "float64",
    "refund_count": "int64", "refund_amount": "float64", "margin_total": "float64",
    "days_since_last": "int64", "visits_30d": "int64",
    "visits_b1": "int64", "visits_b2": "int64", "visits_b3": "int64",
    "spend_b1": "float64", "spend_b2": "float64", "spend_b3": "float64",
    "value_period": "float64", "value_prev_period": "float64", "value_same_period_ly": "float64",
    "gap_mean": "float64", "gap_median": "float64",
    "litt": "float64", "gap_last": "float64", "gap_prev": "float64",
}


__all__ = [
    "FEATURE_COLUMNS",
    "ORDERS_SCHEMA",
    "ORDER_COLUMNS",
    "PURCHASE_DAY_COLUMNS",
    "RFM_COLUMNS",
    "feature_expr",
    "rfm_expr",
]

"""The attendance sheet 客户考勤表: top customers' visits and spend per 10-day bucket.

The seeds' practice: take the top 50 customers by spend, and for each month count how many times
each came in every ten days (上旬 days 1-10, 中旬 days 11-20, 下旬 day 21 to the month's end)
and how much they spent per visit; customers who have not come for a long time are marked so
someone finds out why. :func:`attendance_sheet` builds the data (one row per customer and
bucket, tidy); :func:`attendance_table` pivots it to one row per customer. Renderers live in
``reports/``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..config import AttendanceConfig, Config
from ..errors import ConfigError
from .policies import BUCKETS
from ._frames import _require, _section, _timestamp, in_engine
from .states import prepare_orders


def _buckets(first: pd.Timestamp, as_of: pd.Timestamp) -> pd.DataFrame:
    """The 10-day buckets from ``first`` (a month start) to ``as_of``, in time order."""
    rows = []
    for month in pd.period_range(first, as_of, freq="M"):
        for number, (zh, en, lo, hi) in BUCKETS.items():
            start = month.start_time.normalize() + pd.Timedelta(days=lo - 1)
            end = month.end_time.normalize() if hi is None \
                else month.start_time.normalize() + pd.Timedelta(days=hi - 1)
            if start > as_of:
                continue
            rows.append({"month": str(month), "bucket": number, "bucket_zh": zh,
                         "bucket_en": en, "bucket_start": start, "bucket_end": min(end, as_of)})
    out = pd.DataFrame(rows)
    out["seq"] = np.arange(len(out))
    return out


def _bucket_of(days: pd.Series) -> pd.DataFrame:
    dom = days.dt.day
    return pd.DataFrame({"month": days.dt.to_period("M").astype(str),
                         "bucket": np.select([dom <= 10, dom <= 20], [1, 2], default=3)},
                        index=days.index)


def _cells(window: pd.DataFrame) -> pd.DataFrame:
    """Visits and net spend per customer, month and bucket."""
    from ..engine.orders import group_sums

    window = window.join(_bucket_of(window["day"]))
    keys = ["customer_key", "month", "bucket"]
    return pd.DataFrame({
        "visits": window[~window["is_refund"]].groupby(keys)["day"].nunique(),
        "spend": group_sums(window["amount"], [window[k] for k in keys]),
    }).reset_index()


def _identity(customers: pd.DataFrame | None, keys: pd.Index) -> pd.DataFrame:
    """customer_id / name / account_manager for ``keys`` (customer_key when unknown)."""
    ident = pd.DataFrame(index=keys)
    if customers is not None:
        _require(customers, ["customer_key"], "the customers frame")
        cols = [c for c in ("customer_id", "name", "account_manager") if c in customers.columns]
        known = customers.drop_duplicates("customer_key").set_index("customer_key")[cols]
        ident = ident.join(known)
    if "customer_id" not in ident.columns:
        ident["customer_id"] = pd.Series(keys.astype(str), index=keys)
    ident["customer_id"] = ident["customer_id"].fillna(pd.Series(keys.astype(str), index=keys))
    return ident


def _window_totals(window: pd.DataFrame) -> pd.DataFrame:
    """Net spend and visits per customer with a purchase in the window (the pandas twin of
    :meth:`~tierwise.engine.orders.OrderTable.spend_and_visits`)."""
    from ..engine.orders import group_sums

    buys = window[~window["is_refund"]]
    totals = pd.DataFrame({
        "total_spend": group_sums(window["amount"], window["customer_key"]),
        "total_visits": buys.groupby("customer_key")["day"].nunique(),
    })
    return totals[totals["total_visits"].notna()].fillna({"total_visits": 0})


def _top_customers(totals: pd.DataFrame, customers: pd.DataFrame | None, n: int
                   ) -> pd.DataFrame:
    """The top ``n`` customers by spend in the window; ties by visits, then customer_id."""
    totals = totals.join(_identity(customers, totals.index))
    totals = totals.rename_axis("customer_key").reset_index()
    totals = totals.sort_values(["total_spend", "total_visits", "customer_id"],
                                ascending=[False, False, True], kind="stable").head(n)
    totals["total_visits"] = totals["total_visits"].astype("int64")
    totals.insert(0, "rank", np.arange(1, len(totals) + 1))
    return totals


def _mark_absences(sheet: pd.DataFrame, cfg: AttendanceConfig) -> pd.DataFrame:
    """Flag runs of at least ``absence_buckets`` consecutive buckets without a visit."""
    sheet = sheet.sort_values(["rank", "seq"], kind="stable").reset_index(drop=True)
    empty = sheet["visits"] == 0
    new_run = empty.ne(empty.shift()) | sheet["customer_key"].ne(sheet["customer_key"].shift())
    run_id = new_run.cumsum()
    run_len = empty.groupby(run_id).transform("sum")
    sheet["absent"] = empty & (run_len >= cfg.absence_buckets)
    sheet["marker"] = np.where(sheet["absent"], cfg.absence_marker, "")
    last = sheet.groupby("customer_key")["seq"].transform("max") == sheet["seq"]
    trailing = run_len.where(last & empty, 0)
    sheet["long_absence"] = sheet.groupby("customer_key")["absent"].transform("any")
    sheet["current_absence_buckets"] = trailing.groupby(sheet["customer_key"]).transform("max")
    return sheet


def attendance_sheet(orders: pd.DataFrame, customers: pd.DataFrame | None,
                     as_of: dt.date, top_n: int | None = None, months: int | None = None, *,
                     config: Config | AttendanceConfig | None = None) -> pd.DataFrame:
    """The attendance sheet 客户考勤表, one row per customer and 10-day bucket (tidy).

    Parameters
    ----------
    orders
        ``customer_key``, ``ordered_at``, ``amount`` and optionally ``is_refund``. A visit is a
        distinct purchase day; refunds are not visits but are netted into spend.
    customers
        ``customer_key`` with ``customer_id``, ``name``, ``account_manager`` (optional; None
        labels customers by key).
    as_of
        The as-of date; buckets after it are left out, the bucket holding it ends on it.
    top_n, months
        Customers on the sheet and months covered (ending with the as-of month); None takes
        ``top_n`` (50) and ``months`` (3) from ``config`` (a whole Config, an
        :class:`~tierwise.config.AttendanceConfig`, or None for the defaults).

    Returns
    -------
    pandas.DataFrame
        ``rank`` (net spend, then visits, descending; then ``customer_id``), ``customer_key``,
        ``customer_id``, ``name``, ``account_manager`` (when given), ``total_spend``,
        ``total_visits``, ``month`` ('2026-03'), ``bucket`` (1-3), ``bucket_zh``, ``bucket_en``,
        ``bucket_start``, ``bucket_end``, ``seq``, ``visits``, ``spend``, ``mean_spend`` (NaN
        without a visit), ``absent`` (in a run of >= ``absence_buckets`` empty buckets),
        ``marker``, ``long_absence`` and ``current_absence_buckets`` (per customer).

    Examples
    --------
    >>> o = pd.DataFrame({"customer_key": [1, 1, 2], "amount": [100.0, 50.0, 80.0],
    ...                   "ordered_at": pd.to_datetime(["2026-03-02", "2026-03-15", "2026-01-05"])})
    >>> s = attendance_sheet(o, None, dt.date(2026, 3, 31), top_n=2)
    >>> s.groupby("customer_id")["long_absence"].first().to_dict()
    {'1': True, '2': True}
    """
    cfg = _section(config, "attendance", AttendanceConfig)
    n = cfg.top_n if top_n is None else top_n
    m = cfg.months if months is None else months
    if n < 1 or m < 1:
        raise ConfigError(f"attendance sheet needs top_n >= 1 and months >= 1 (got {n}, {m})",
                          "e.g. top_n=50, months=3")
    ts = _timestamp(as_of, "the attendance sheet")
    first = (ts.to_period("M") - (m - 1)).start_time.normalize()
    if in_engine(orders):  # totals in the engine; the top customers' orders only in pandas
        top = _top_customers(orders.spend_and_visits(ts.date(), first), customers, n)
        window = prepare_orders(orders.frame(ts.date(), since=first,
                                             customers=top["customer_key"]), ts)
    else:
        prepared = prepare_orders(orders, ts)
        window = prepared[prepared["day"] >= first]
        top = _top_customers(_window_totals(window), customers, n)
    buckets = _buckets(first, ts)
    cells = _cells(window[window["customer_key"].isin(top["customer_key"])])
    sheet = top.merge(buckets, how="cross").merge(
        cells, on=["customer_key", "month", "bucket"], how="left")
    sheet["visits"] = sheet["visits"].fillna(0).astype("int64")
    sheet["spend"] = sheet["spend"].fillna(0.0)
    sheet["mean_spend"] = (sheet["spend"] / sheet["visits"]).where(sheet["visits"] > 0)
    return _mark_absences(sheet, cfg)


def attendance_table(sheet: pd.DataFrame) -> pd.DataFrame:
    """The attendance sheet pivoted to one row per customer, in rank order.

    Per bucket three columns: ``<month> <bucket_zh> visits``, ``... mean_spend`` and ``... mark``
    (the absence marker or ''), e.g. ``2026-03 上旬 visits``.

    Examples
    --------
    >>> o = pd.DataFrame({"customer_key": [1], "amount": [100.0],
    ...                   "ordered_at": pd.to_datetime(["2026-03-02"])})
    >>> list(attendance_table(attendance_sheet(o, None, dt.date(2026, 3, 5), months=1)).columns)
    ['rank', 'customer_key', 'customer_id', 'total_spend', 'total_visits', 'long_absence', \
'2026-03 上旬 visits', '2026-03 上旬 mean_spend', '2026-03 上旬 mark']
    """
    _require(sheet, ["rank", "customer_key", "seq", "month", "bucket_zh", "visits",
                     "mean_spend", "marker"], "the attendance sheet")
    ident = [c for c in ("rank", "customer_key", "customer_id", "name", "account_manager",
                         "total_spend", "total_visits", "long_absence") if c in sheet.columns]
    base = sheet.drop_duplicates("customer_key")[ident].set_index("customer_key")
    parts = []
    for (_, month, zh), cell in sheet.groupby(["seq", "month", "bucket_zh"], sort=True):
        cell = cell.set_index("customer_key")
        parts.append(pd.DataFrame({f"{month} {zh} visits": cell["visits"],
                                   f"{month} {zh} mean_spend": cell["mean_spend"],
                                   f"{month} {zh} mark": cell["marker"]}))
    wide = (base.join(parts) if parts else base).sort_values("rank").reset_index()
    return wide[ident + [c for c in wide.columns if c not in ident]]


__all__ = ["attendance_sheet", "attendance_table"]

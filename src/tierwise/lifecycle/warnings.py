"""Early warnings on key and major accounts: orders falling off, or a silence longer than usual.

The seeds' story: a supplier's three or four big customers placed their orders every first quarter
and made more than half of the yearly orders; one year only one of them ordered, and far less, and
nobody noticed until the workers stood idle. :func:`early_warnings` looks at each watched account
(tier in ``[monitoring] warn_tiers``, default key and major, in the current or the previous
snapshot; without a tier column the top ``top_share`` of accounts by value) and raises:

* ``yoy_drop``: value this period fell by more than ``drop_share`` (50 %) against the same period
  last year;
* ``trailing_drop``: ... against the mean of the previous ``trailing_periods`` (4) periods;
* ``silence``: days since the last order exceed ``silence_multiple`` (3) x the usual gap
  (``gap_median``);
* ``unlikely``: the probability of any order in ``[activity] policy_horizon_days`` is under
  ``policy_floor`` (the rule that would tell a smaller customer "do not contact"): a key or major
  account gets this warning and a call instead (:mod:`tierwise.lifecycle.advice`).

Periods are calendar months or quarters (the config's ``period``). When the as-of date is the last
day of its period, whole periods are compared; otherwise each reference period is cut at the same
number of days into it ("to date"), so a half-finished quarter is not compared with whole ones.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from ..config import ActivityConfig, Config, MonitoringConfig
from ..errors import ConfigError, DataContractError
from ..i18n.render import warning_message
from .policies import SEVERITIES, WARNING_KINDS
from ._frames import _num, _require, _section, _timestamp, in_engine
from .states import prepare_orders

_FREQ = {"month": "M", "quarter": "Q"}
COLUMNS = ["customer_key", "customer_id", "name", "account_manager", "tier", "kind", "kind_zh",
           "period", "current", "reference", "change_pct", "unit", "window", "severity",
           "severity_zh", "message_zh", "message_en"]


def period_windows(as_of: dt.date, period: str, trailing: int
                   ) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """Date windows of this period, the same period last year and the ``trailing`` before it.

    Returns
    -------
    dict
        ``current``, ``last_year`` (one window each) and ``trailing`` (``trailing`` windows, most
        recent first), as inclusive (start, end) Timestamps.

    Examples
    --------
    >>> w = period_windows(dt.date(2026, 2, 15), "quarter", 1)
    >>> [(s.date().isoformat(), e.date().isoformat()) for s, e in w["trailing"]]
    [('2025-10-01', '2025-11-15')]
    """
    if period not in _FREQ:
        raise ConfigError(f"unknown period {period!r}", "use 'month' or 'quarter'")
    ts = _timestamp(as_of, "period windows")
    here = ts.to_period(_FREQ[period])
    full = ts == here.end_time.normalize()
    elapsed = pd.Timedelta(days=(ts - here.start_time.normalize()).days)

    def window(p: pd.Period) -> tuple[pd.Timestamp, pd.Timestamp]:
        start, end = p.start_time.normalize(), p.end_time.normalize()
        return start, end if full else min(start + elapsed, end)

    per_year = 12 if period == "month" else 4
    return {"current": [(here.start_time.normalize(), ts)],
            "last_year": [window(here - per_year)],
            "trailing": [window(here - i) for i in range(1, trailing + 1)]}


def _window_value(orders: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    from ..engine.orders import group_sums

    hit = orders[(orders["day"] >= start) & (orders["day"] <= end)]
    return group_sums(hit["amount"], hit["customer_key"])


_COLUMN = {"current": "period", "last_year": "same_period_ly"}
#: What :func:`~tierwise.i18n.render.warning_message` reads of a warning.
_MESSAGE_FIELDS = ("kind", "period", "current", "reference", "change_pct", "window")


def _window_values(orders: Any, ts: pd.Timestamp, windows: list[tuple[pd.Timestamp, pd.Timestamp]]
                   ) -> dict[tuple[pd.Timestamp, pd.Timestamp], pd.Series] | None:
    """Net value per customer in each window: one aggregate in the engine for an
    :class:`~tierwise.engine.orders.OrderTable`, a pandas groupby per window for a DataFrame."""
    if orders is None:
        return None
    if in_engine(orders):
        got = orders.window_amounts(ts.date(), windows)
        return {w: got[i].dropna() for i, w in enumerate(windows)}
    prepared = prepare_orders(orders, ts)
    return {w: _window_value(prepared, *w) for w in windows}


def _watched(curr: pd.DataFrame, prev: pd.DataFrame | None, cfg: MonitoringConfig) -> pd.Series:
    """True for the accounts to watch."""
    if "tier" in curr.columns:
        watched = curr["tier"].isin(cfg.warn_tiers)
        if prev is not None and {"customer_key", "tier"} <= set(prev.columns):
            before = set(prev.loc[prev["tier"].isin(cfg.warn_tiers), "customer_key"])
            watched |= curr["customer_key"].isin(before)
        return watched.fillna(False).astype(bool)
    _require(curr, [cfg.value_column], "the current snapshot (no tier column: ranking by value)")
    n = max(1, math.ceil(cfg.top_share * len(curr)))
    values = _num(curr, cfg.value_column).fillna(-np.inf).reset_index(drop=True)
    top = values.sort_values(ascending=False, kind="stable").index[:n]
    return pd.Series(np.isin(np.arange(len(curr)), top), index=curr.index)


def _figures(watch: pd.DataFrame, orders: pd.DataFrame | None, as_of: Any, period: str,
             cfg: MonitoringConfig) -> pd.DataFrame:
    """Value this period, same period last year and trailing mean, per watched account."""
    keys = watch["customer_key"]
    windows = period_windows(as_of, period, cfg.trailing_periods)
    ts = _timestamp(as_of, "warnings")
    wanted = [w for name in ("current", "last_year") if f"value_{_COLUMN[name]}" not in watch
              for w in windows[name]] + (windows["trailing"] if orders is not None else [])
    values = _window_values(orders, ts, wanted)

    def from_orders(start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
        if values is None:
            raise DataContractError("early warnings need value_period and value_same_period_ly "
                                    "columns or the orders table", "pass orders=")
        return keys.map(values[(start, end)]).fillna(0.0).to_numpy(float)

    out = pd.DataFrame(index=watch.index)
    out["current"] = _num(watch, "value_period").fillna(0.0) if "value_period" in watch \
        else from_orders(*windows["current"][0])
    out["last_year"] = _num(watch, "value_same_period_ly") if "value_same_period_ly" in watch \
        else from_orders(*windows["last_year"][0])
    out["trailing"] = np.nan if values is None else \
        np.mean([from_orders(s, e) for s, e in windows["trailing"]], axis=0)
    return out


def _drop_rows(watch: pd.DataFrame, fig: pd.DataFrame, ref: str, kind: str, period: str,
               cfg: MonitoringConfig) -> pd.DataFrame:
    reference = fig[ref]
    hit = (reference > cfg.min_reference_value) & \
        (fig["current"] < (1 - cfg.drop_share) * reference)
    rows = watch.loc[hit].copy()
    now, refv = fig.loc[hit, "current"], reference[hit]
    rows["current"], rows["reference"] = now, refv
    rows["change_pct"] = (now - refv) / refv * 100
    rows["severity"] = np.where(rows["change_pct"] <= -100 * cfg.high_drop_share, "high", "medium")
    window = cfg.trailing_periods if kind == "trailing_drop" else None
    return rows.assign(kind=kind, unit="amount", window=window)


def _silence_rows(watch: pd.DataFrame, cfg: MonitoringConfig) -> pd.DataFrame:
    silence, gap = _num(watch, "days_since_last"), _num(watch, "gap_median")
    hit = (gap > 0) & (silence > cfg.silence_multiple * gap)
    rows = watch.loc[hit].copy()
    s, g = silence[hit], gap[hit]
    rows["current"], rows["reference"] = s, g
    rows["change_pct"] = (s - g) / g * 100
    rows["severity"] = np.where(s >= cfg.high_silence_multiple * g, "high", "medium")
    return rows.assign(kind="silence", unit="days", window=None)


def _unlikely_rows(watch: pd.DataFrame, activity: ActivityConfig) -> pd.DataFrame:
    """Watched accounts whose purchase probability in the policy horizon is under the floor."""
    if "policy_probability" not in watch:
        return watch.iloc[0:0]
    p, floor, h = _num(watch, "policy_probability"), activity.policy_floor, \
        activity.policy_horizon_days
    hit = p < floor
    rows = watch.loc[hit].copy()
    rows["current"], rows["reference"] = p[hit], floor
    rows["change_pct"] = (p[hit] - floor) / floor * 100
    rows["severity"] = np.where(p[hit] < floor / 2, "high", "medium")
    return rows.assign(kind="unlikely", unit="probability", window=h)


def _period_of(config: Config | MonitoringConfig | None, period: str | None) -> str:
    if period is not None:
        return period
    if isinstance(config, Config):
        return config.period
    return Config.model_fields["period"].default


def early_warnings(curr: pd.DataFrame, orders: pd.DataFrame | None, as_of: dt.date,
                   config: Config | MonitoringConfig | None = None,
                   prev: pd.DataFrame | None = None, *,
                   period: str | None = None) -> pd.DataFrame:
    """Warnings for key and major accounts whose orders fell off or who went silent.

    Parameters
    ----------
    curr
        The current snapshot: ``customer_key``, ``days_since_last``, ``gap_median``; optionally
        ``tier``, ``customer_id``, ``name``, ``account_manager``, ``value_period`` and
        ``value_same_period_ly`` (computed from ``orders`` when absent).
    orders, as_of
        The orders table (for the trailing average; None skips it) and the as-of date.
    config
        The whole Config (``monitoring`` and ``period``), a
        :class:`~tierwise.config.MonitoringConfig`, or None for the defaults.
    prev
        The previous snapshot: an account key or major there is still watched.
    period
        ``month`` or ``quarter``; default: the config's ``period``.

    Returns
    -------
    pandas.DataFrame
        One row per warning: ``customer_key``, ``customer_id``, ``name``, ``account_manager``,
        ``tier``, ``kind`` (yoy_drop / trailing_drop / silence / unlikely), ``kind_zh``, ``period``,
        ``current`` (value this period, or days of silence), ``reference`` (value then, or the
        usual gap), ``change_pct``, ``unit`` (amount / days), ``window`` (the trailing periods of
        ``trailing_drop``, the horizon in days of ``unlikely``), ``severity`` (high / medium),
        ``severity_zh``, ``message_zh``, ``message_en``; high severity first, then the biggest
        accounts.

    Examples
    --------
    >>> c = pd.DataFrame({"customer_key": [1], "tier": ["key"], "value_period": [12000.0],
    ...                   "value_same_period_ly": [310000.0], "days_since_last": [20],
    ...                   "gap_median": [30.0]})
    >>> early_warnings(c, None, dt.date(2026, 3, 31), period="quarter")["message_en"].tolist()
    ['orders this quarter 12,000 vs 310,000 same quarter last year (-96 %)']
    """
    cfg = _section(config, "monitoring", MonitoringConfig)
    per = _period_of(config, period)
    _require(curr, ["customer_key", "days_since_last", "gap_median"], "the current snapshot")
    watch = curr.loc[_watched(curr, prev, cfg)]
    for col in ("customer_id", "name", "account_manager", "tier"):
        if col not in watch.columns:
            watch = watch.assign(**{col: None})
    fig = _figures(watch, orders, as_of, per, cfg)
    watch = watch.assign(_size=fig[["current", "last_year", "trailing"]].max(axis=1))
    parts = [_drop_rows(watch, fig, "last_year", "yoy_drop", per, cfg),
             _silence_rows(watch, cfg),
             _unlikely_rows(watch, config.activity if isinstance(config, Config)
                            else ActivityConfig())]
    if fig["trailing"].notna().any():
        parts.insert(1, _drop_rows(watch, fig, "trailing", "trailing_drop", per, cfg))
    rows = pd.concat([p for p in parts if len(p)]
                     or [pd.DataFrame(columns=[*COLUMNS, "_size"])], ignore_index=True)
    return _finish(rows, as_of, per)


def _finish(rows: pd.DataFrame, as_of: Any, per: str) -> pd.DataFrame:
    """Period label, Chinese names, and the order: high severity, then the biggest accounts."""
    label = pd.Timestamp(as_of).to_period(_FREQ[per])
    rows["period"] = str(label).replace("Q", "-Q") if per == "quarter" else str(label)
    rows["kind_zh"] = rows["kind"].map(lambda k: WARNING_KINDS[k][0])
    rows["severity_zh"] = rows["severity"].map(lambda k: SEVERITIES[k][0])
    # only the figures the sentence reads: a record of every snapshot column per warning cost
    # most of this step on a million customers (issue 16)
    records = rows[list(_MESSAGE_FIELDS)].to_dict("records")
    rows["message_zh"] = [warning_message(r, "zh") for r in records]
    rows["message_en"] = [warning_message(r, "en") for r in records]
    kind_rank = rows["kind"].map({"yoy_drop": 0, "trailing_drop": 1, "silence": 2,
                                  "unlikely": 3})
    rows = rows.assign(_s=(rows["severity"] != "high").astype(int), _k=kind_rank)
    rows = rows.sort_values(["_s", "_size", "customer_key", "_k"],
                            ascending=[True, False, True, True], kind="stable")
    return rows[COLUMNS].reset_index(drop=True)


__all__ = ["early_warnings", "period_windows"]

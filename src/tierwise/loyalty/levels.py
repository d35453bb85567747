"""Loyalty levels customers climb: the level held, the next one, and the spend missing.

Rules (``[loyalty]``, :class:`~tierwise.config.LoyaltyConfig`), computed from the order history
alone (not from an earlier run, so a re-run or a backfill gives the same answer):

* spend is net spend (refunds deducted) in a calendar window (month, quarter or year);
* **upgrade**: as soon as the spend in the current window reaches a higher level's threshold,
  the customer holds that level;
* **downgrade with grace**: a customer whose spend in a completed window falls short of the
  held level's threshold keeps the level for ``grace_periods`` windows in a row below it
  (``in grace`` since the day after the first short window); one more short window and they
  drop to the level that window's spend earned;
* **distance**: the spend still missing in the current window to reach the next level ("spend
  320 more this quarter to become 金卡会员") and, for a customer whose current spend is below
  their own level's threshold, the spend missing to keep it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..config import LoyaltyConfig

#: The snapshot columns this module fills (migration ``0080_loyalty_levels``).
LOYALTY_COLUMNS = ("loyalty_level", "loyalty_rank", "loyalty_spend", "loyalty_window_end",
                   "loyalty_next_level", "loyalty_distance", "loyalty_in_grace",
                   "loyalty_grace_since", "loyalty_keep_distance")


def window_start(day: dt.date, window: str) -> dt.date:
    """The first day of the calendar ``window`` (month / quarter / year) holding ``day``.

    Examples
    --------
    >>> window_start(dt.date(2026, 8, 17), "quarter")
    datetime.date(2026, 7, 1)
    """
    if window == "year":
        return dt.date(day.year, 1, 1)
    if window == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, day.month, 1)


def next_window(start: dt.date, window: str) -> dt.date:
    """The first day of the window after the one starting on ``start``."""
    months = {"month": 1, "quarter": 3, "year": 12}[window]
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def window_spend(orders, as_of: dt.date, window: str) -> pd.DataFrame:  # noqa: ANN001
    """Net spend per customer and window up to ``as_of``: ``customer_key``, ``window_start``,
    ``spend``, by customer and window.

    ``orders`` is the run's :class:`~tierwise.engine.orders.OrderTable` (the sums run on its
    engine: DuckDB, Spark, a warehouse) or a DuckDB connection holding a store's ``orders``.
    """
    from ..engine.orders import OrderTable

    if isinstance(orders, OrderTable):
        return orders.window_spend(as_of, window)
    from ..engine import DuckDBEngine

    with DuckDBEngine(orders) as engine:
        return OrderTable.of(engine).window_spend(as_of, window)


def _earned(spend: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """The rank of the highest level whose threshold ``spend`` reaches (0 at least)."""
    return np.maximum(np.searchsorted(thresholds, spend + 1e-9, side="right") - 1, 0)


def compute_levels(spend: pd.DataFrame, as_of: dt.date, cfg: LoyaltyConfig) -> pd.DataFrame:
    """Each customer's level as of ``as_of`` from their spend per window.

    Parameters
    ----------
    spend
        ``customer_key``, ``window_start`` (first day of the window), ``spend`` (net): the
        output of :func:`window_spend`; customers without a row get no level.
    as_of
        The day the levels are for; its window is the current one (spend up to ``as_of``).
    cfg
        ``[loyalty]`` with at least one level.

    Returns
    -------
    DataFrame
        ``customer_key`` and :data:`LOYALTY_COLUMNS`, one row per customer in ``spend``.

    Examples
    --------
    >>> from tierwise.config import LoyaltyConfig
    >>> cfg = LoyaltyConfig(level=[{"code": "member", "name": "Member", "min_spend": 0},
    ...                            {"code": "gold", "name": "Gold", "min_spend": 1000}])
    >>> s = pd.DataFrame({"customer_key": [1, 1], "spend": [1200.0, 300.0],
    ...                   "window_start": [dt.date(2026, 4, 1), dt.date(2026, 7, 1)]})
    >>> row = compute_levels(s, dt.date(2026, 8, 31), cfg).iloc[0]
    >>> row.loyalty_level, float(row.loyalty_keep_distance), bool(row.loyalty_in_grace)
    ('gold', 700.0, False)
    """
    levels = cfg.level
    thresholds = np.array([lv.min_spend for lv in levels], dtype=float)
    codes = np.array([lv.code for lv in levels] + [None], dtype=object)
    current = window_start(as_of, cfg.window)
    keys = np.sort(spend["customer_key"].unique())
    wide = spend.pivot_table(index="customer_key", columns="window_start", values="spend",
                             aggfunc="sum").reindex(keys)
    starts = sorted(pd.Timestamp(c).date() for c in wide.columns)
    wide.columns = [pd.Timestamp(c).date() for c in wide.columns]
    n = len(keys)
    held = np.zeros(n, dtype=int)
    short = np.zeros(n, dtype=int)
    grace_since = np.full(n, None, dtype=object)
    started = np.zeros(n, dtype=bool)
    w = starts[0] if starts else current
    while w < current:  # completed windows, every one (a window without orders spends 0)
        s = wide[w].to_numpy(float) if w in wide.columns else np.full(n, np.nan)
        started |= ~np.isnan(s)
        earned = _earned(np.nan_to_num(s), thresholds)
        up = started & (earned >= held)
        down = started & ~up
        held[up], short[up], grace_since[up] = earned[up], 0, None
        short[down] += 1
        after = next_window(w, cfg.window)
        grace_since[down & (short == 1)] = after
        drop = down & (short > cfg.grace_periods)
        held[drop], short[drop], grace_since[drop] = earned[drop], 0, None
        w = after
    now = np.nan_to_num(wide[current].to_numpy(float)) if current in wide.columns else np.zeros(n)
    earned_now = _earned(now, thresholds)
    rank = np.maximum(held, earned_now)
    below = earned_now < rank  # spending less than their own level's threshold this window
    in_grace = below & (short > 0)
    nxt = rank + 1
    has_next = nxt < len(levels)
    end = next_window(current, cfg.window) - dt.timedelta(days=1)
    return pd.DataFrame({
        "customer_key": keys,
        "loyalty_level": codes[rank],
        "loyalty_rank": rank.astype("int64"),
        "loyalty_spend": np.round(now, 2),
        "loyalty_window_end": end,
        "loyalty_next_level": np.where(has_next, codes[np.minimum(nxt, len(levels))], None),
        "loyalty_distance": np.where(has_next, np.round(
            thresholds[np.minimum(nxt, len(levels) - 1)] - now, 2), np.nan),
        "loyalty_in_grace": in_grace,
        "loyalty_grace_since": np.where(in_grace, grace_since, None),
        "loyalty_keep_distance": np.where(below, np.round(thresholds[rank] - now, 2), np.nan),
    })


def level_counts(levels: pd.DataFrame, cfg: LoyaltyConfig) -> pd.DataFrame:
    """The run table ``loyalty_levels``: per level, customers, spend this window, in grace,
    and how many are near the next level (missing at most ``near_share`` of its threshold)."""
    levels = levels.assign(near=near_next(levels, cfg))
    rows = []
    for rank, lv in enumerate(cfg.level):
        part = levels[levels["loyalty_rank"] == rank]
        rows.append({"level": lv.code, "rank": rank, "min_spend": lv.min_spend,
                     "customers": len(part),
                     "spend_window": round(float(part["loyalty_spend"].sum()), 2),
                     "in_grace": int(part["loyalty_in_grace"].sum()),
                     "near_next": int(part["near"].sum())})
    return pd.DataFrame(rows)


def near_next(levels: pd.DataFrame, cfg: LoyaltyConfig) -> pd.Series:
    """True for customers whose missing spend is at most ``near_share`` of the next threshold."""
    thresholds = {lv.code: lv.min_spend for lv in cfg.level}
    limit = levels["loyalty_next_level"].map(thresholds).astype(float) * cfg.near_share
    return levels["loyalty_distance"].le(limit)


__all__ = ["LOYALTY_COLUMNS", "compute_levels", "level_counts", "near_next", "next_window",
           "window_spend", "window_start"]

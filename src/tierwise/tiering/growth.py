"""Who grows fastest, and who is closest to the next level of the pyramid.

The textbook on customer grading (seed 003) asks which customers grow best (哪些客户的成长性最好)
and, for the smaller ones, whether they can move up (仔细分析有无升级可能, 关注其他客户级别的提升).
Both lists read one snapshot (a run's per-customer frame); neither fits anything.

:func:`fastest_growers`
    customers whose value this period rose most against the previous period (absolute increase,
    largest first), with the growth in percent against the previous period and against the same
    period last year. Only customers who bought in the previous period count: growth from nothing
    is a new customer, not a grower.
:func:`closest_to_next_level`
    graded customers below the key level, ranked by how close their ranking value (the one the
    pyramid ranks on, ``tier_score``) is to the level above: the lowest ranking value of the
    customers now in that level. ``gap_to_next`` is what is missing in the ranking value's own unit
    (e.g. predicted CLV), ``reached`` the share of it already there.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
...                       "tier": ["key", "major", "major", "ordinary"],
...                       "tier_score": [100.0, 60.0, 50.0, 45.0]})
>>> closest = closest_to_next_level(frame)   # d has 90 % of major's lowest value, b 60 % of key's
>>> closest[["customer_id", "next_tier", "gap_to_next", "reached"]].values.tolist()
[['d', 'major', 5.0, 0.9], ['b', 'key', 40.0, 0.6], ['c', 'key', 50.0, 0.5]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import PYRAMID_LEVELS

#: The columns both lists carry to say who the customer is.
_WHO = ("customer_id", "name", "account_manager", "tier")


def _who(frame: pd.DataFrame) -> list[str]:
    return [c for c in _WHO if c in frame]


def fastest_growers(frame: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """The ``n`` customers whose value grew most this period (see the module docstring).

    Returns ``customer_id``, ``name``, ``account_manager``, ``tier`` (those present),
    ``value_period``, ``value_prev_period``, ``value_increase``, ``growth_prev_pct`` and
    ``growth_yoy_pct`` (NaN without a value in the same period last year); empty when the frame has
    no period values.
    """
    needed = {"value_period", "value_prev_period"}
    if not needed <= set(frame.columns):
        return pd.DataFrame(columns=[*_who(frame), "value_period", "value_prev_period",
                                     "value_increase", "growth_prev_pct", "growth_yoy_pct"])
    now = pd.to_numeric(frame["value_period"], errors="coerce")
    prev = pd.to_numeric(frame["value_prev_period"], errors="coerce")
    keep = (prev > 0) & (now > prev)
    out = frame.loc[keep, _who(frame)].copy()
    out["value_period"] = now[keep]
    out["value_prev_period"] = prev[keep]
    out["value_increase"] = now[keep] - prev[keep]
    out["growth_prev_pct"] = (now[keep] / prev[keep] - 1.0) * 100.0
    if "value_same_period_ly" in frame:
        ly = pd.to_numeric(frame["value_same_period_ly"], errors="coerce")[keep]
        out["growth_yoy_pct"] = np.where(ly > 0, (now[keep] / ly - 1.0) * 100.0, np.nan)
    else:
        out["growth_yoy_pct"] = np.nan
    return (out.sort_values(["value_increase", "customer_id"], ascending=[False, True],
                            kind="mergesort")
               .head(n).reset_index(drop=True))


def level_floors(frame: pd.DataFrame) -> dict[str, float]:
    """The lowest ranking value (``tier_score``) now in each graded level that has customers."""
    if "tier_score" not in frame or "tier" not in frame:
        return {}
    score = pd.to_numeric(frame["tier_score"], errors="coerce")
    floors = score.groupby(frame["tier"]).min().dropna()
    return {level: float(floors[level]) for level in PYRAMID_LEVELS if level in floors.index}


def closest_to_next_level(frame: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """The ``n`` graded customers below key closest to the level above (module docstring).

    Returns ``customer_id``, ``name``, ``account_manager``, ``tier`` (those present),
    ``next_tier``, ``tier_score`` (their ranking value), ``next_level_value`` (the lowest ranking
    value in the level above), ``gap_to_next`` and ``reached`` (share of it already there, 0-1), the
    closest first (highest ``reached``); empty without ranking values.
    """
    floors = level_floors(frame)
    cols = [*_who(frame), "next_tier", "tier_score", "next_level_value", "gap_to_next", "reached"]
    if not floors:
        return pd.DataFrame(columns=cols)
    above = {}
    for i, level in enumerate(PYRAMID_LEVELS[1:], start=1):  # the nearest level above with customers
        higher = [lv for lv in PYRAMID_LEVELS[:i] if lv in floors]
        if higher:
            above[level] = higher[-1]
    score = pd.to_numeric(frame["tier_score"], errors="coerce")
    keep = frame["tier"].isin(list(above)) & score.notna()
    out = frame.loc[keep, _who(frame)].copy()
    out["next_tier"] = frame.loc[keep, "tier"].map(above)
    out["tier_score"] = score[keep]
    out["next_level_value"] = out["next_tier"].map(floors)
    out["gap_to_next"] = (out["next_level_value"] - out["tier_score"]).clip(lower=0.0)
    target = out["next_level_value"]
    out["reached"] = np.where(target > 0, (out["tier_score"] / target).clip(0.0, 1.0), np.nan)
    out = out[out["gap_to_next"] > 0]  # kept in their level by hysteresis though above the floor: no gap
    return (out.sort_values(["reached", "gap_to_next", "customer_id"], ascending=[False, True, True],
                            kind="mergesort")
               .head(n).reset_index(drop=True)[cols])


__all__ = ["closest_to_next_level", "fastest_growers", "level_floors"]

"""The 80/20 (Pareto) view of customer value: the cumulative value-share curve.

Customers are sorted by value, largest first; the curve gives, for each share of customers, the
share of total value they hold (a Lorenz curve read from the top). It runs from (0, 0) to (1, 1),
never decreases, and is concave.

Values are cleaned the same way everywhere in this module:

* **NULL** values are left out: a customer whose value is unknown cannot be placed on the curve,
  and counting it would dilute every share. Clean or fill them beforehand if they should count.
* **Negative** values (customers who returned more than they bought) count as customers holding
  **zero** value. Keeping them negative would push the curve above 1 and make it fall at the end;
  dropping them would hide those customers.
* When the total is not positive (no customers, or nobody holds any value) the shares are
  undefined: the curve's ``value_share`` and :func:`top_share` are NaN.

Shares are measured by customer count with linear interpolation: the top 20 % of 7 customers are
1.4 customers (the first one and 40 % of the second). Customers tied at the cut hold equal values,
so which of them falls inside the top group does not change the share.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataContractError


def _sorted_values(values: Iterable[float] | pd.Series | np.ndarray) -> np.ndarray:
    """Values as float64, NULL dropped, negatives set to 0, largest first."""
    try:
        series = pd.to_numeric(pd.Series(values))
        v = series.to_numpy(dtype="float64", na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise DataContractError(f"customer values must be numbers: {exc}") from None
    v = v[~np.isnan(v)]
    return -np.sort(-np.clip(v, 0.0, None))


def _cumulative(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Customer shares 0, 1/n, ..., 1 and the value shares held by the top 0..n customers."""
    v = _sorted_values(values)
    n = v.size
    cum = np.concatenate([[0.0], np.cumsum(v)])
    if n == 0 or cum[-1] <= 0:
        return np.linspace(0.0, 1.0, max(n, 1) + 1), np.full(max(n, 1) + 1, np.nan)
    return np.arange(n + 1) / n, cum / cum[-1]


def _share_param(name: str, value: Any) -> float:
    ok = (isinstance(value, int | float) and not isinstance(value, bool)
          and math.isfinite(value) and 0.0 <= value <= 1.0)
    if not ok:
        raise ConfigError(f"{name} = {value!r} is not valid",
                          "valid values: a share between 0 and 1 (0.2 for 20 %)")
    return float(value)


def pareto_curve(values: Any, points: int = 100) -> pd.DataFrame:
    """Cumulative value share against customer share, customers sorted by value (largest first).

    Parameters
    ----------
    values
        One value per customer (e.g. ``total_amount`` or ``clv_historical``).
    points
        Number of steps: the curve is sampled at customer shares 0, 1/points, ..., 1.

    Returns
    -------
    DataFrame
        ``points + 1`` rows with ``customer_share`` and ``value_share``; first row (0, 0), last
        row (1, 1); ``value_share`` is NaN throughout when the total value is not positive.

    Examples
    --------
    >>> pareto_curve(range(1, 11), points=5)["value_share"].round(3).tolist()
    [0.0, 0.345, 0.618, 0.818, 0.945, 1.0]
    """
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 1:
        raise ConfigError(f"points = {points!r} is not valid", "valid values: an integer >= 1")
    xs, ys = _cumulative(values)
    grid = np.linspace(0.0, 1.0, int(points) + 1)
    share = np.interp(grid, xs, ys) if not np.isnan(ys).any() else np.full(grid.size, np.nan)
    return pd.DataFrame({"customer_share": grid, "value_share": share})


def top_share(values: Any, top: float = 0.2) -> float:
    """Share of total value held by the top ``top`` share of customers (the "20" of 80/20).

    Parameters
    ----------
    values
        One value per customer.
    top
        Share of customers, 0..1 (default 0.2).

    Returns
    -------
    float
        Between 0 and 1; NaN when the total value is not positive.

    Examples
    --------
    >>> round(top_share(range(1, 11)), 4)   # (10 + 9) / 55
    0.3455
    """
    top = _share_param("top", top)
    xs, ys = _cumulative(values)
    return float("nan") if np.isnan(ys).any() else float(np.interp(top, xs, ys))


def customer_share_for(values: Any, value_share: float = 0.8) -> float:
    """Smallest share of customers (largest first) that holds ``value_share`` of total value.

    The inverse of :func:`top_share`: "x % of customers make 80 % of the value".

    Examples
    --------
    >>> customer_share_for([80, 5, 5, 5, 5], 0.8)
    0.2
    """
    target = _share_param("value_share", value_share)
    xs, ys = _cumulative(values)
    if np.isnan(ys).any():
        return float("nan")
    i = int(np.searchsorted(ys, target - 1e-12, side="left"))
    if i == 0:
        return 0.0
    lo, hi = ys[i - 1], ys[i]
    fraction = min(1.0, max(0.0, (target - lo) / (hi - lo)))
    return float(xs[i - 1] + (xs[i] - xs[i - 1]) * fraction)


__all__ = ["pareto_curve", "top_share", "customer_share_for"]

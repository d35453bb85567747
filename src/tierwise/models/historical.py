"""Historical CLV: the margin a customer has earned the business so far.

The value is taken per customer, from the feature frame (``docs/architecture.md``):

1. ``margin_total`` when it is known (orders carried ``cost`` or ``margin``);
2. otherwise ``total_amount x gross_margin`` when a gross margin rate is given;
3. otherwise NULL, with the reason in ``clv_historical_reason``.

Both ``margin_total`` and ``total_amount`` come from the features already **net of refunds** (a
refund is a negative amount that reduces value), so a refund lowers the historical CLV, and a
customer who returned more than they bought has a negative one. Nothing here adds refunds back or
subtracts them a second time.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataContractError

REASON_NO_MARGIN = ("no cost or margin data for this customer and no gross margin rate set "
                    "(set gross_margin, e.g. 0.6)")
REASON_NO_AMOUNT = "no cost or margin data and no purchase amount for this customer"


def _optional(features: pd.DataFrame, column: str) -> np.ndarray:
    if column not in features.columns:
        return np.full(len(features), np.nan)
    try:
        return pd.to_numeric(features[column]).to_numpy(dtype="float64", na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise DataContractError(f"column '{column}' is not numeric: {exc}") from None


def _check_rate(gross_margin: float | None) -> float | None:
    if gross_margin is None:
        return None
    ok = (isinstance(gross_margin, int | float) and not isinstance(gross_margin, bool)
          and math.isfinite(gross_margin) and 0.0 <= gross_margin <= 1.0)
    if not ok:
        raise ConfigError(f"gross_margin = {gross_margin!r} is not valid",
                          "valid values: a rate between 0 and 1 (0.6 for 60 %), or none")
    return float(gross_margin)


def historical_clv(features: pd.DataFrame, *, gross_margin: float | None = None) -> pd.DataFrame:
    """Margin earned to date per customer, net of refunds.

    Parameters
    ----------
    features
        Per-customer features with ``margin_total`` and/or ``total_amount`` (either may be absent
        or NULL for some customers).
    gross_margin
        Gross margin rate (0..1) applied to ``total_amount`` where ``margin_total`` is unknown;
        ``None``: no fallback.

    Returns
    -------
    DataFrame
        Same index as ``features``: ``clv_historical`` (float, NULL when unknown),
        ``clv_historical_basis`` (``"margin_total"``, ``"gross_margin"`` or NULL) and
        ``clv_historical_reason`` (why it is NULL; NULL when known).

    Raises
    ------
    ConfigError
        When ``gross_margin`` is not a rate in [0, 1].
    DataContractError
        When a value column is not numeric.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"margin_total": [30.0, None], "total_amount": [100.0, 70.0]})
    >>> historical_clv(X, gross_margin=0.6)["clv_historical"].tolist()
    [30.0, 42.0]
    """
    rate = _check_rate(gross_margin)
    margin = _optional(features, "margin_total")
    amount = _optional(features, "total_amount")
    has_margin = ~np.isnan(margin)
    by_rate = ~has_margin & ~np.isnan(amount) & (rate is not None)
    value = np.where(has_margin, margin, np.where(by_rate, amount * (rate or 0.0), np.nan))
    basis = np.select([has_margin, by_rate], ["margin_total", "gross_margin"], default="")
    reason = np.where(rate is None, REASON_NO_MARGIN, REASON_NO_AMOUNT)
    known = has_margin | by_rate
    return pd.DataFrame({
        "clv_historical": value,
        "clv_historical_basis": pd.array(np.where(known, basis, None), dtype="str"),
        "clv_historical_reason": pd.array(np.where(known, None, reason), dtype="str"),
    }, index=features.index)


__all__ = ["historical_clv"]

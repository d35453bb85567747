"""The chance of a purchase from the rhythm, learnt from the business's own history.

When no purchase model can be trusted, the policy rests on how far behind their rhythm a customer
is (``gaps_missed``, :class:`~tierwise.lifecycle.rhythm.Rhythm`). A formula that turns gaps
missed into a probability assumes how customers behave (a steady random rate, a lifetime) and
can be far off: on seeded monthly shoppers ``exp(-silence/gap) x (1 - exp(-90/gap))`` said 8 %
where 48 % bought. Instead, the business's own history answers the question directly:

1. go back one horizon (``as_of - horizon``) and compute, from the orders up to then, each
   customer's rhythm and gaps missed then, and their number of purchases;
2. mark who bought within the horizon after it (``days_since_last < horizon`` at ``as_of``);
3. fit, per band of purchases (1, 2, 3-5, 6 or more), the share who bought as a **decreasing**
   function of gaps missed (isotonic regression: no shape assumed beyond "further behind their
   rhythm, less likely to come back"); a band with too few customers uses the curve of all;
4. apply the curves to the customers' gaps missed now.

The curve is fitted on one period and applied to the next: the backtest (:mod:`tierwise.backtest`)
replays the product one horizon back, where the curve was fitted another horizon earlier, and
compares its probabilities with what the customers did (``backtest_calibration``).

References
----------
Barlow, R. E., Bartholomew, D. J., Bremner, J. M. & Brunk, H. D. (1972). *Statistical Inference
under Order Restrictions*. Wiley. (isotonic regression; scikit-learn's ``IsotonicRegression``)
Zadrozny, B. & Elkan, C. (2002). Transforming classifier scores into accurate multiclass
probability estimates. *KDD '02*. (isotonic calibration of scores)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from ..errors import NotFittedError
from .rhythm import Rhythm
from ._frames import _num, _require

#: Purchase-count bands: (label, lowest number of purchases, highest or None).
BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("1", 1, 1), ("2", 2, 2), ("3-5", 3, 5), ("6+", 6, None))


def purchase_band(frequency: pd.Series) -> pd.Series:
    """The band label of each customer from ``frequency`` (repeat purchases: purchases - 1)."""
    n = pd.to_numeric(frequency, errors="coerce").fillna(0).astype(float) + 1
    labels = np.select([(n >= lo) & (n <= (hi if hi is not None else np.inf))
                        for _, lo, hi in BANDS], [b for b, _, _ in BANDS], default="1")
    return pd.Series(labels, index=frequency.index, dtype="object")


def rhythm_curve_sample(then: pd.DataFrame, now: pd.DataFrame, horizon_days: int,
                        min_gap_days: float = 1.0) -> pd.DataFrame:
    """One row per customer who had bought by the earlier date: gaps missed then, and the outcome.

    Parameters
    ----------
    then
        Per-customer RFM summary one horizon back (``customer_key``, ``frequency``, ``recency``,
        ``T``; ``days_since_last`` is ``T - recency`` when absent), from the orders up to then.
    now
        Per-customer ``customer_key`` and ``days_since_last`` at the as-of date.
    horizon_days
        The horizon between the two dates.

    Returns
    -------
    pandas.DataFrame
        ``customer_key``, ``frequency``, ``gaps_missed`` (the rhythm fitted on ``then``) and
        ``bought`` (a purchase in the horizon since: ``days_since_last < horizon_days`` now).
    """
    _require(then, ["customer_key", "frequency", "recency"], "the earlier customer summary")
    _require(now, ["customer_key", "days_since_last"], "the customer frame")
    then = then.copy()
    if "days_since_last" not in then:
        _require(then, ["T"], "the earlier customer summary")
        then["days_since_last"] = _num(then, "T") - _num(then, "recency")
    rhythm = Rhythm(min_gap_days).fit(then)
    gaps = rhythm.transform(then)["gaps_missed"]
    silence_now = now.set_index("customer_key")["days_since_last"]
    silence_now = pd.to_numeric(silence_now, errors="coerce")
    after = then["customer_key"].map(silence_now)
    return pd.DataFrame({"customer_key": then["customer_key"].to_numpy(),
                         "frequency": _num(then, "frequency").fillna(0).to_numpy(),
                         "gaps_missed": gaps.to_numpy(),
                         "bought": (after < horizon_days).fillna(False).to_numpy()})


class RhythmCurve:
    """P(any purchase in the horizon) as a decreasing function of gaps missed, per band.

    Parameters
    ----------
    min_band_customers
        A purchase-count band with fewer customers in the sample uses the curve of all customers.

    Attributes
    ----------
    curves_ : dict
        Band label -> fitted ``IsotonicRegression`` (``"all"`` for every customer).
    info_ : dict
        Customers and share who bought per band, the band sizes used: stored in the run meta.

    Examples
    --------
    >>> s = pd.DataFrame({"frequency": [3] * 6, "gaps_missed": [0.5, 1, 2, 4, 8, 16],
    ...                   "bought": [1, 1, 1, 0, 0, 0]})
    >>> c = RhythmCurve(min_band_customers=1).fit(s)
    >>> c.predict(pd.DataFrame({"frequency": [3, 3], "gaps_missed": [1.5, 10]})).tolist()
    [1.0, 0.0]
    """

    def __init__(self, min_band_customers: int = 100) -> None:
        self.min_band_customers = min_band_customers

    def fit(self, sample: pd.DataFrame) -> RhythmCurve:
        """Fit the curves on :func:`rhythm_curve_sample` (``frequency``, ``gaps_missed``,
        ``bought``)."""
        _require(sample, ["frequency", "gaps_missed", "bought"], "the calibration sample")
        ok = sample[_num(sample, "gaps_missed").notna()]
        if ok.empty:
            raise ValueError("the calibration sample has no customer with a rhythm")
        x = _num(ok, "gaps_missed").to_numpy()
        y = ok["bought"].astype(float).to_numpy()
        band = purchase_band(ok["frequency"]).to_numpy()
        self.curves_: dict[str, IsotonicRegression] = {"all": self._fit(x, y)}
        info: dict[str, Any] = {"customers": len(ok), "bought_share": float(y.mean()),
                                "bands": {}}
        for label, _, _ in BANDS:
            hit = band == label
            used = int(hit.sum()) >= self.min_band_customers
            if used:
                self.curves_[label] = self._fit(x[hit], y[hit])
            info["bands"][label] = {"customers": int(hit.sum()), "own_curve": used,
                                    "bought_share": float(y[hit].mean()) if hit.any() else None}
        self.info_ = info
        return self

    @staticmethod
    def _fit(x: np.ndarray, y: np.ndarray) -> IsotonicRegression:
        return IsotonicRegression(y_min=0.0, y_max=1.0, increasing=False,
                                  out_of_bounds="clip").fit(x, y)

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """P(any purchase in the horizon) for each customer (NaN without gaps missed)."""
        if not hasattr(self, "curves_"):
            raise NotFittedError("this RhythmCurve is not fitted", "call fit(sample) first")
        _require(frame, ["frequency", "gaps_missed"], "the customer frame")
        x = _num(frame, "gaps_missed")
        band = purchase_band(frame["frequency"])
        out = pd.Series(np.nan, index=frame.index, dtype=float)
        known = x.notna()
        for label, curve in self.curves_.items():
            hit = known & ((band == label) if label != "all" else ~band.isin(self.curves_))
            if hit.any():
                out[hit] = curve.predict(x[hit].to_numpy())
        return out


def fit_rhythm_curve(then: pd.DataFrame | None, now: pd.DataFrame, horizon_days: int, *,
                     min_gap_days: float = 1.0, min_customers: int = 30,
                     min_band_customers: int = 100) -> tuple[RhythmCurve | None, str]:
    """The curve fitted on the history one horizon back, or None and why not.

    ``then`` is the RFM summary at ``as_of - horizon_days`` (None when the history is shorter);
    ``now`` the customer frame at ``as_of``. Fewer than ``min_customers`` customers then, or
    nobody who bought (or everybody), leave nothing to learn from.
    """
    if then is None or len(then) < min_customers:
        have = 0 if then is None else len(then)
        return None, (f"only {have} customers had bought {horizon_days} days before the as-of "
                      f"date (need {min_customers})")
    sample = rhythm_curve_sample(then, now, horizon_days, min_gap_days)
    share = float(sample["bought"].mean())
    if share in (0.0, 1.0):
        return None, f"{100 * share:.0f} % of the customers bought in the {horizon_days} days"
    curve = RhythmCurve(min_band_customers).fit(sample)
    return curve, (f"learnt from {len(sample):,} customers' purchases in the {horizon_days} "
                   f"days after one horizon back ({100 * share:.0f} % bought)")


__all__ = ["BANDS", "RhythmCurve", "fit_rhythm_curve", "purchase_band", "rhythm_curve_sample"]

"""Purchase likelihood calibrated on the business's own last horizon.

A purchase model's P(at least one purchase in the next N days) rests on its assumptions: a steady
rate while alive, no season. On CDNOW, fitted on the 39 weeks to 1997-09-30, the models' 90-day
likelihood falls short of what customers did in the autumn by up to 0.07 in a decile. The
business's own history can correct that without assuming why:

1. go back one horizon (``as_of - N``), fit the **same model** (same kind, settings and, for the
   rhythm models, the same ``k``) on the purchases up to then, and compute each customer's
   likelihood for the N days after it;
2. mark who really bought in those N days;
3. fit the share who bought as an **increasing** function of the likelihood (isotonic regression:
   no shape assumed beyond "more likely stays more likely");
4. apply that map to today's likelihoods.

The map is fitted on one period and applied to the next, so the backtest (one horizon back)
checks it honestly: there the map was fitted another horizon earlier.

References
----------
Zadrozny, B. & Elkan, C. (2002). Transforming classifier scores into accurate multiclass
probability estimates. *KDD '02*. (isotonic calibration; scikit-learn's ``IsotonicRegression``)
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from ..errors import FitError, NotFittedError, TierwiseError

#: Fewest customers, and fewest who bought / did not buy, for a map worth trusting.
MIN_CUSTOMERS = 500
MIN_EACH_OUTCOME = 50


def decile_gap(predicted: np.ndarray, actual: np.ndarray) -> float:
    """The largest |mean predicted - share bought| over the deciles of ``predicted``."""
    p = pd.Series(np.asarray(predicted, dtype=float))
    decile = pd.qcut(p.rank(method="first"), 10, labels=False)
    means = pd.DataFrame({"p": p, "a": np.asarray(actual, dtype=float)}).groupby(decile).mean()
    return float((means["p"] - means["a"]).abs().max())


class LikelihoodCalibration:
    """An increasing map from a model's purchase likelihood to the share who really bought.

    Parameters
    ----------
    min_customers, min_each_outcome
        The fewest customers, and the fewest buyers and non-buyers, the map is fitted on;
        :meth:`fit` raises :class:`~tierwise.errors.FitError` below them.

    Attributes
    ----------
    points_ : list of (float, float)
        The map's steps: (likelihood, calibrated likelihood).
    n_customers_, n_bought_ : int
        What it was fitted on.
    gap_before_, gap_after_ : float
        The largest decile gap on the fitting period, before and after the map (in-sample).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0, 0.6, 5000)
    >>> bought = rng.uniform(size=5000) < np.minimum(1, 1.5 * p)   # the model is too low
    >>> cal = LikelihoodCalibration().fit(p, bought)
    >>> bool(cal.transform(np.array([0.4]))[0] > 0.5)
    True
    """

    def __init__(self, min_customers: int = MIN_CUSTOMERS,
                 min_each_outcome: int = MIN_EACH_OUTCOME) -> None:
        self.min_customers = min_customers
        self.min_each_outcome = min_each_outcome

    def fit(self, predicted: Any, bought: Any) -> LikelihoodCalibration:
        p = np.asarray(predicted, dtype=float)
        y = np.asarray(bought, dtype=float)
        keep = np.isfinite(p)
        p, y = p[keep], y[keep]
        n, k = len(p), int(y.sum())
        if n < self.min_customers or min(k, n - k) < self.min_each_outcome:
            raise FitError(f"{n} customers, {k} of whom bought, one horizon back: too few to "
                           "calibrate the likelihood on", "the model's own likelihood is used")
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
        fitted = iso.fit(p, y).predict(p)
        # Each step of the map is the share who bought in a block of customers; a block where
        # nobody (or everybody) bought would say 0 % (100 %) however small it is. Jeffreys'
        # estimate (bought + 1/2) / (customers + 1) keeps the ends honest; pooling the steps
        # again, weighted by their customers, keeps the map increasing (a tiny block merges
        # into its large neighbour instead of lifting it).
        levels = pd.DataFrame({"level": fitted, "y": y}).groupby("level")["y"].agg(["size", "sum"])
        smoothed = ((levels["sum"] + 0.5) / (levels["size"] + 1.0)).to_numpy()
        pooled = IsotonicRegression(increasing=True).fit_transform(
            levels.index.to_numpy(), smoothed, sample_weight=levels["size"].to_numpy())
        ys = pd.Series(pooled, index=levels.index).reindex(iso.y_thresholds_).to_numpy()
        self.x_, self.y_ = np.asarray(iso.X_thresholds_, dtype=float), ys
        self.points_ = [(float(a), float(b)) for a, b in zip(self.x_, self.y_)]
        self.n_customers_, self.n_bought_ = n, k
        self.gap_before_ = decile_gap(p, y)
        self.gap_after_ = decile_gap(self.transform(p), y)
        return self

    def transform(self, predicted: Any) -> np.ndarray:
        if not hasattr(self, "y_"):
            raise NotFittedError("this LikelihoodCalibration is not fitted yet",
                                 "call fit(predicted, bought) first")
        p = np.asarray(predicted, dtype=float)
        out = np.full(p.shape, np.nan)
        ok = np.isfinite(p)
        out[ok] = np.interp(p[ok], self.x_, self.y_)  # linear between steps, clipped outside
        return out

    def info(self) -> dict[str, Any]:
        return {"customers": self.n_customers_, "bought": self.n_bought_,
                "gap_before": round(self.gap_before_, 4), "gap_after": round(self.gap_after_, 4),
                "points": [(round(a, 6), round(b, 6)) for a, b in self.points_]}


def unfitted_like(model: Any) -> Any:
    """A fresh model of the same kind and settings (a rhythm model keeps its chosen ``k``)."""
    members = getattr(model, "models", None)
    if members is not None:  # a Blend
        return type(model)([unfitted_like(m) for m in members], list(model.weights))
    kwargs: dict[str, Any] = {"penalizer": model.penalizer, "time_unit": model.time_unit}
    if "k" in inspect.signature(type(model).__init__).parameters:
        kwargs["k"] = int(model.params_["k"])
    return type(model)(**kwargs)


def calibrate_on_history(model: Any, history: pd.DataFrame | None, bought: pd.Series,
                         horizon_days: float, fit_sample: int | None = None
                         ) -> tuple[LikelihoodCalibration | None, str]:
    """Fit ``model``'s kind on ``history`` and calibrate its likelihood on what happened next.

    Parameters
    ----------
    model
        The fitted purchase model of the run (its kind and settings are reused).
    history
        The purchase summary one horizon back: ``customer_key``, ``frequency``, ``recency``,
        ``T`` (days), as :func:`tierwise.features.rfm_expr` gives it.
    bought
        Per ``customer_key`` (index): True where the customer bought within the horizon after
        the history's date.
    horizon_days
        The likelihood's horizon N.
    fit_sample
        Past this many customers the model is refitted on a seeded sample of them
        (``value.fit_sample``); the map is learned on every customer.

    Returns
    -------
    (LikelihoodCalibration or None, str)
        The fitted map, or None with the reason it could not be fitted.
    """
    if model is None:
        return None, "no purchase model"
    if history is None or history.empty:
        return None, "no history one horizon back"
    summary = history[["frequency", "recency", "T"]].astype(float)
    try:
        from ._summary import fit_sample_rows

        then = unfitted_like(model).fit(summary.iloc[fit_sample_rows(len(summary), fit_sample)])
        predicted = np.asarray(then.purchase_probability(summary, horizon_days), dtype=float)
        outcome = history["customer_key"].map(bought).fillna(False).astype(bool).to_numpy()
        return LikelihoodCalibration().fit(predicted, outcome), "calibrated"
    except TierwiseError as exc:
        return None, exc.message


__all__ = ["LikelihoodCalibration", "calibrate_on_history", "decile_gap", "unfitted_like"]

"""Each customer's own purchase rhythm: the expected gap between purchases, and how far behind it.

A customer's typical gap comes from their own history, shrunk toward the population's when they
have few purchases (an empirical-Bayes, credibility-weighted mean on the log gap):

* own estimate ``y = log(gap_mean) - (digamma(n) - log n)`` with ``n = frequency`` gaps and
  ``gap_mean = recency / frequency``; if gaps were exponential (purchases at a steady random
  rate), ``y`` is unbiased for the log of the true mean gap and its variance is ``trigamma(n)``
  (1.64 for one gap, about ``1/n`` for many);
* population: ``mu`` = the precision-weighted mean of ``y`` over repeat buyers, ``tau2`` = the
  variance of ``y`` between customers beyond what the sampling noise explains (method of moments);
* expected gap ``exp(w y + (1 - w) mu)`` with ``w = tau2 / (tau2 + trigamma(n))``; a customer
  without a repeat purchase gets ``exp(mu)``.

``gaps_missed = days_since_last / expected_gap`` says how far behind their rhythm a customer is;
:func:`rhythm_probability` turns it into the chance of any purchase in a horizon when no
purchase model can be trusted. :func:`choose_mode` decides, for ``[activity] mode = "auto"``,
whether the seeds' restaurant bands fit the business (its regulars visit several times a month).

References
----------
Bühlmann, H. & Gisler, A. (2005). *A Course in Credibility Theory and its Applications*.
Morris, C. N. (1983). Parametric empirical Bayes inference. *JASA* 78(381).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import digamma, polygamma

from ..config import ActivityConfig
from ..errors import NotFittedError
from ._frames import _num, _require

#: Below this many regulars the auto mode does not trust their median gap and uses the rhythm.
MIN_REGULARS = 10


class Rhythm:
    """Expected gap between purchases per customer, shrunk toward the population's.

    Parameters
    ----------
    min_gap_days
        A gap is taken as at least this many days (same-day repeat purchases are one day).

    Attributes
    ----------
    params_ : dict
        ``mu`` (log days), ``tau2``, ``population_gap_days`` (``exp(mu)``), ``n_repeat``.

    Examples
    --------
    >>> f = pd.DataFrame({"frequency": [0, 1, 9], "recency": [0, 30, 90], "days_since_last":
    ...                   [40, 10, 5]})
    >>> r = Rhythm().fit(f)
    >>> r.transform(f)["expected_gap_days"].round(1).tolist()  # doctest: +SKIP
    """

    def __init__(self, min_gap_days: float = 1.0) -> None:
        self.min_gap_days = min_gap_days

    def _own(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        _require(frame, ["frequency", "recency"], "the customer frame")
        n = _num(frame, "frequency").fillna(0.0).to_numpy()
        rec = _num(frame, "recency").fillna(0.0).to_numpy()
        repeat = n >= 1
        y = np.full(len(n), np.nan)
        v = np.full(len(n), np.nan)
        gap = np.maximum(rec[repeat] / n[repeat], self.min_gap_days)
        y[repeat] = np.log(gap) - (digamma(n[repeat]) - np.log(n[repeat]))
        v[repeat] = polygamma(1, n[repeat])
        return y, v

    def fit(self, frame: pd.DataFrame) -> Rhythm:
        """Estimate the population's log gap ``mu`` and spread ``tau2`` from the repeat buyers."""
        y, v = self._own(frame)
        ok = np.isfinite(y)
        n_repeat = int(ok.sum())
        if n_repeat == 0:
            # nobody bought twice: the only hint at a rhythm is how long customers have been around
            tenure = _num(frame, "days_since_last").dropna() if "days_since_last" in frame \
                else pd.Series(dtype=float)
            gap = max(float(tenure.median()) if len(tenure) else 30.0, self.min_gap_days)
            self.params_ = {"mu": float(np.log(gap)), "tau2": 0.0, "population_gap_days": gap,
                            "n_repeat": 0, "basis": "no repeat buyer: the median silence"}
            return self
        yy, vv = y[ok], v[ok]
        mu = float(np.average(yy, weights=1.0 / vv))
        tau2 = max(float(np.var(yy)) - float(np.mean(vv)), 1e-6) if n_repeat > 1 else 1e-6
        for _ in range(20):  # precision weights with tau2 included (a few fixed-point steps)
            weights = 1.0 / (vv + tau2)
            mu = float(np.average(yy, weights=weights))
            tau2 = max(float(np.average((yy - mu) ** 2 - vv, weights=weights)), 1e-6) \
                if n_repeat > 1 else 1e-6
        self.params_ = {"mu": mu, "tau2": tau2, "population_gap_days": float(np.exp(mu)),
                        "n_repeat": n_repeat, "basis": "repeat buyers' gaps"}
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``expected_gap_days``, ``gap_weight`` (own history's weight) and ``gaps_missed``."""
        if not hasattr(self, "params_"):
            raise NotFittedError("this Rhythm is not fitted", "call fit(frame) first")
        y, v = self._own(frame)
        mu, tau2 = self.params_["mu"], self.params_["tau2"]
        w = np.where(np.isfinite(y), tau2 / (tau2 + np.nan_to_num(v, nan=np.inf)), 0.0)
        log_gap = np.where(np.isfinite(y), w * np.nan_to_num(y) + (1 - w) * mu, mu)
        gap = np.maximum(np.exp(log_gap), self.min_gap_days)
        out = pd.DataFrame({"expected_gap_days": gap, "gap_weight": w}, index=frame.index)
        silence = _num(frame, "days_since_last") if "days_since_last" in frame \
            else pd.Series(np.nan, index=frame.index)
        out["gaps_missed"] = silence.to_numpy() / gap
        return out


def rhythm_states(missed: pd.Series, cfg: ActivityConfig) -> np.ndarray:
    """State by expected gaps missed (``[activity] rhythm_*`` bands); missing -> None."""
    conds = [missed > cfg.rhythm_buried, missed > cfg.rhythm_dead, missed > cfg.rhythm_shock,
             missed > cfg.rhythm_dormant, missed > cfg.rhythm_resting, missed.notna()]
    return np.select(conds, ["buried", "dead", "shock", "dormant", "resting", "normal"],
                     default=None)


def rhythm_probability(silence: pd.Series, gap: pd.Series, horizon_days: float) -> pd.Series:
    """P(any purchase in the next ``horizon_days``) from the rhythm alone.

    A customer still buying every ``gap`` days at random (Poisson) stays silent ``silence`` days
    with chance ``exp(-silence / gap)``, taken as the chance they are still active (as the
    historical-rate fallback of :mod:`tierwise.models.clv` does); an active one buys in the
    horizon with chance ``1 - exp(-horizon / gap)``. The product is returned.
    """
    s = pd.to_numeric(silence, errors="coerce").astype(float)
    g = pd.to_numeric(gap, errors="coerce").astype(float)
    return np.exp(-s / g) * -np.expm1(-float(horizon_days) / g)


@dataclass
class ModeChoice:
    """Which activity mode a run used, and why (recorded in the run meta)."""

    requested: str
    mode: str
    reason: str
    regular_gap_days: float | None = None
    population_gap_days: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def regulars_gap(frame: pd.DataFrame) -> tuple[float | None, int]:
    """Median own gap of the regulars: the most frequent quarter of customers with 3+ purchases."""
    n = _num(frame, "frequency").fillna(0.0)
    rec = _num(frame, "recency").fillna(0.0)
    tenure = _num(frame, "T") if "T" in frame else rec
    rate = n / tenure.where(tenure > 0)
    ok = (n >= 2) & rate.notna()
    if ok.sum() < MIN_REGULARS:
        return None, int(ok.sum())
    top = rate[ok] >= rate[ok].quantile(0.75)
    gaps = (rec / n)[ok][top]
    return float(gaps.median()), int(top.sum())


def choose_mode(frame: pd.DataFrame, cfg: ActivityConfig, rhythm: Rhythm | None = None
                ) -> ModeChoice:
    """The activity mode to use: the configured one, or for ``auto`` absolute or rhythm."""
    population = rhythm.params_["population_gap_days"] if rhythm is not None else None
    if cfg.mode != "auto":
        return ModeChoice(cfg.mode, cfg.mode, f"[activity] mode = \"{cfg.mode}\" in the config",
                          None, population)
    gap, n = regulars_gap(frame)
    limit = cfg.auto_max_regular_gap_days
    if gap is None:
        return ModeChoice("auto", "rhythm", f"only {n} customers with 3 or more purchases (< "
                          f"{MIN_REGULARS}): too few regulars to use the visit bands; each "
                          "customer's own rhythm is used", None, population)
    if gap <= limit:
        return ModeChoice("auto", "absolute", f"the regulars (most frequent quarter of the {n * 4}"
                          f"-odd customers with 3+ purchases) buy every {gap:.1f} days (<= "
                          f"{limit:g}): several visits a month, so the restaurant visit bands "
                          "apply", gap, population)
    return ModeChoice("auto", "rhythm", f"the regulars buy every {gap:.1f} days (> {limit:g}): "
                      "the 30-day visit bands would call most customers dead, so each "
                      "customer's own rhythm is used", gap, population)


__all__ = ["Rhythm", "ModeChoice", "choose_mode", "regulars_gap", "rhythm_probability",
           "rhythm_states", "MIN_REGULARS"]

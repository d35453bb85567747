"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie note 025).

A customer's purchase amounts are gamma(p, nu) around their own mean, with ``nu ~ Gamma(q, v)``
across customers. Fitted on repeat buyers' ``(frequency, monetary_value)``, where
``monetary_value`` is the mean of the ``frequency`` repeat purchase-day totals. The model assumes
spend is independent of purchase frequency; check ``corr(frequency, monetary_value)`` is small.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "RFM and CLV: Using Iso-Value Curves
   for Customer Base Analysis". Journal of Marketing Research 42(4), 415-430.
.. [2] Fader, P. S. and Hardie, B. G. S. (2013). "The Gamma-Gamma Model of Monetary Value".
   http://brucehardie.com/notes/025/
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from tierwise.errors import DataContractError, FitError
from tierwise.models._summary import (
    FittedModelMixin,
    compress,
    dot,
    fit_compressed,
    summary_arrays,
)

PARAM_NAMES = ("p", "q", "v")
COLUMNS = ("frequency", "monetary_value")


@dataclass(frozen=True)
class _Spends:
    """Distinct ``(x, m)`` rows with what does not depend on the parameters precomputed."""

    w: np.ndarray
    wx: np.ndarray          # w * x
    xm: np.ndarray          # x * m
    ux: np.ndarray
    w_x: np.ndarray         # total weight per distinct x
    xcode: np.ndarray
    c_p: float              # sum w x (ln m + ln x)
    c_0: float              # sum w ln m

    @classmethod
    def build(cls, x, m, w=None) -> _Spends:
        w = np.ones_like(x) if w is None else w
        ux, xcode = np.unique(x, return_inverse=True)
        log_m = np.log(m)
        return cls(w, w * x, x * m, ux, np.bincount(xcode, w, len(ux)), xcode,
                   dot(w * x, log_m + np.log(x)), dot(w, log_m))


def _gg_ll_grad(theta, d: _Spends, per_row=False):
    """Weighted Gamma-Gamma log-likelihood of the mean spends and its gradient ([2], eq. 1a).

    ``LL = lnG(px+q) - lnG(px) - lnG(q) + q ln v + (px-1) ln m + px ln x - (px+q) ln(xm+v)``:
    the gamma-function terms depend on ``x`` only (once per distinct ``x``), ``ln m`` and
    ``ln x`` not on the parameters (precomputed); only ``ln(xm+v)`` is evaluated per row.
    """
    p, q, v = theta
    px = p * d.ux
    g_x = gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
    dig_pq = digamma(px + q)
    log_xmv = np.log(d.xm + v)
    if per_row:
        x = d.ux[d.xcode]
        return g_x[d.xcode] + (p * x - 1.0) * np.log(d.xm / x) + p * x * np.log(x) \
            - (p * x + q) * log_xmv
    s_x, s_1 = dot(d.wx, log_xmv), dot(d.w, log_xmv)
    inv = 1.0 / (d.xm + v)
    ll = dot(d.w_x, g_x) + p * d.c_p - d.c_0 - p * s_x - q * s_1
    grad = np.array([
        dot(d.w_x, d.ux * (dig_pq - digamma(px))) + d.c_p - s_x,
        dot(d.w_x, dig_pq - digamma(q) + np.log(v)) - s_1,
        d.w_x.sum() * q / v - p * dot(d.wx, inv) - q * dot(d.w, inv),
    ])
    return float(ll), grad


def gamma_gamma_log_likelihood(params, frequency, monetary_value) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood (repeat buyers only)."""
    x = np.asarray(frequency, dtype=float)
    return _gg_ll_grad(np.asarray(params, dtype=float),
                       _Spends.build(x, np.asarray(monetary_value, float)), per_row=True)


def _objective(log_theta, data, n_total, penalizer):
    theta = np.exp(log_theta)
    ll, grad = _gg_ll_grad(theta, data)
    f = -ll / n_total + penalizer * np.sum(theta ** 2)
    g = -theta * grad / n_total + 2.0 * penalizer * theta ** 2
    if not np.isfinite(f):
        return np.inf, np.zeros_like(g)
    return f, g


class GammaGamma(FittedModelMixin):
    """Gamma-Gamma model of the mean spend per purchase, fitted by maximum likelihood.

    Parameters
    ----------
    penalizer
        L2 penalty ``penalizer * (p**2 + q**2 + v**2)`` added to the mean negative
        log-likelihood, as lifetimes' ``GammaGammaFitter(penalizer_coef)`` does (``v`` is in
        money units, so a penalised fit depends on the currency scale). ``0.0`` gives the MLE.

    Attributes
    ----------
    params_ : dict
        ``p``, ``q``, ``v``.
    standard_errors_ : dict
    log_likelihood_ : float
        Total log-likelihood over the repeat buyers fitted (the mean is ``mean_log_likelihood_``).
    n_customers_ : int
        Repeat buyers fitted: rows with ``frequency > 0`` and ``monetary_value > 0``. One-time
        buyers carry no spend information; repeat buyers whose repeat purchases net to zero or
        less (free items, refunds cancelling purchases) are outside the model (spend is gamma
        distributed, so positive) and are left out of the fit rather than stopping it.
    n_excluded_ : int
        Repeat buyers left out because their ``monetary_value <= 0``
        (:meth:`spend_outside_model` finds them).
    n_distinct_, converged_, at_bounds_

    References
    ----------
    Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
    Analysis", Journal of Marketing Research 42(4).
    """

    name = "gamma_gamma"
    param_names = PARAM_NAMES

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, summary: pd.DataFrame) -> GammaGamma:
        """Fit on ``frequency`` and ``monetary_value`` of the repeat buyers with positive spend.

        Rows with ``frequency == 0`` are skipped, and so are repeat buyers with
        ``monetary_value <= 0`` (counted in ``n_excluded_``): one such customer does not stop
        the fit for everyone.
        """
        x, m = summary_arrays(summary, COLUMNS)
        repeat = x > 0
        keep = repeat & (m > 0)
        self.n_excluded_ = int(np.sum(repeat & ~keep))
        x, m = x[keep], m[keep]
        if x.size < 2:
            excluded = (f" ({self.n_excluded_} more have zero or negative repeat spend)"
                        if self.n_excluded_ else "")
            raise FitError(f"Gamma-Gamma needs repeat buyers with positive spend; found "
                           f"{x.size}{excluded}",
                           "use the customers' own mean spend, or a longer observation period")
        if np.allclose(m, m[0]):
            raise FitError("all repeat buyers have the same monetary_value",
                           "the spend model has nothing to learn; use that value directly")
        comp = compress(x, m)
        n = float(x.size)
        x0 = np.log([1.0, 2.0, float(np.mean(m))])  # v/(q-1) ~ mean spend / p
        fit, data = fit_compressed(lambda c, w: _Spends.build(*c, w), _objective, comp,
                                   comp.columns, self.penalizer, x0, "Gamma-Gamma")
        theta = np.exp(fit.log_params)
        ll, _ = _gg_ll_grad(theta, data)
        self.params_ = dict(zip(PARAM_NAMES, map(float, theta)))
        se = theta * np.sqrt(np.diag(fit.cov_log))
        self.standard_errors_ = dict(zip(PARAM_NAMES, map(float, se)))
        self.log_likelihood_ = float(ll)
        self.n_customers_ = int(n)
        self.mean_log_likelihood_ = self.log_likelihood_ / n
        self.n_distinct_ = comp.n_rows
        self.converged_ = fit.converged
        self.at_bounds_ = dict(zip(PARAM_NAMES, fit.at_bound))
        self.n_iter_ = fit.n_iter
        return self

    def conditional_expected_average_profit(self, df: pd.DataFrame) -> pd.Series:
        """E[mean spend per purchase | x, m] ([1], equation 5) per customer.

        ``(p (v + x m)) / (p x + q - 1)``: a weighted mean of the population mean
        ``p v / (q - 1)`` and the customer's own ``m``. For ``frequency == 0`` this is the
        population mean. Requires ``q > 1`` (otherwise the population mean is infinite).
        """
        self._check_fitted()
        p, q, v = (self.params_[k] for k in PARAM_NAMES)
        if q <= 1.0:
            raise FitError(f"Gamma-Gamma q = {q:.3g} <= 1: the expected spend is infinite",
                           "raise penalizer or drop extreme monetary values")
        x, m = summary_arrays(df, COLUMNS, error=DataContractError)
        m = np.where(x > 0, m, 0.0)
        return pd.Series(p * (v + x * m) / (p * x + q - 1.0), index=df.index,
                         name="expected_spend")

    @staticmethod
    def spend_outside_model(df: pd.DataFrame) -> pd.Series:
        """True for repeat buyers whose ``monetary_value <= 0`` (left out of the fit).

        Their conditional expectation would shrink a zero mean toward the population's, a
        number the model does not define; callers give them a fallback and say so.
        """
        x, m = summary_arrays(df, COLUMNS, error=DataContractError)
        return pd.Series((x > 0) & (m <= 0), index=df.index, name="spend_outside_model")

    def population_mean_spend(self) -> float:
        """``p v / (q - 1)``: the expected spend per purchase of a customer not yet seen."""
        self._check_fitted()
        p, q, v = (self.params_[k] for k in PARAM_NAMES)
        return float(p * v / (q - 1.0)) if q > 1 else float("inf")


def simulate_gamma_gamma(params: dict, frequency, seed: int = 0) -> np.ndarray:
    """Mean spend of ``frequency`` purchases per customer under the Gamma-Gamma model (0 if none)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype=np.int64)
    nu = rng.gamma(params["q"], 1.0 / params["v"], x.size)
    # the sum of x gamma(p, nu) amounts is gamma(p x, nu)
    total = rng.gamma(np.maximum(params["p"] * x, 1e-300), 1.0 / nu)
    return np.where(x > 0, total / np.maximum(x, 1), 0.0)

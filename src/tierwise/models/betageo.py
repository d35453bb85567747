"""BG/NBD: the beta-geometric / negative binomial purchase model (Fader, Hardie & Lee 2005).

While alive a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``; after
each purchase they drop out with probability ``p ~ Beta(a, b)``. The model is fitted by maximum
likelihood on ``(frequency, recency, T)``.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting Your Customers the Easy
   Way: An Alternative to the Pareto/NBD Model". Marketing Science 24(2), 275-284.
.. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2008). "Computing P(alive) Using the
   BG/NBD Model". http://brucehardie.com/notes/021/
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln, hyp2f1

from tierwise.models._summary import (
    FittedModelMixin,
    compress,
    dot,
    exp_neg,
    fit_compressed,
    penalised_objective,
    purchase_summary,
    record_fit,
    per_distinct,
    time_divisor,
)

PARAM_NAMES = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class _Histories:
    """Distinct histories indexed for cheap repeated likelihood evaluations.

    Terms that depend on ``x`` alone are evaluated once per distinct ``x``, logs of ``alpha+T``
    and ``alpha+t_x`` once per distinct ``T`` and ``t_x``; only the mixing term of repeat buyers
    is evaluated per row.
    """

    w: np.ndarray
    ux: np.ndarray
    w_x: np.ndarray          # total weight per distinct x
    uT: np.ndarray
    w_T: np.ndarray          # total weight per distinct T
    xw_T: np.ndarray         # total weight * x per distinct T
    utx: np.ndarray
    # repeat buyers (x > 0) only:
    x_r: np.ndarray
    w_r: np.ndarray
    xcode_r: np.ndarray
    Tcode_r: np.ndarray
    txcode_r: np.ndarray

    @classmethod
    def build(cls, x, t_x, T, w=None) -> _Histories:
        w = np.ones_like(x) if w is None else w
        ux, xcode = np.unique(x, return_inverse=True)
        uT, Tcode = np.unique(T, return_inverse=True)
        rep = x > 0
        utx, txcode = np.unique(t_x[rep], return_inverse=True)
        return cls(w, ux, np.bincount(xcode, w, len(ux)), uT, np.bincount(Tcode, w, len(uT)),
                   np.bincount(Tcode, w * x, len(uT)), utx, x[rep], w[rep], xcode[rep],
                   Tcode[rep], txcode)


def _bgnbd_ll_grad(theta, h: _Histories, per_row: bool = False):
    """Weighted BG/NBD log-likelihood and its gradient in the natural parameters ([1], eq. 6).

    ``LL = A1 + A2 + A3 + [x > 0] log(1 + exp(d))`` with ``d = A4 - A3``,
    ``A1 = lnG(r+x) - lnG(r) + r ln(alpha)``,
    ``A2 = lnG(a+b) + lnG(b+x) - lnG(b) - lnG(a+b+x)``,
    ``A3 = -(r+x) ln(alpha+T)`` and ``A4 = ln a - ln(b+x-1) - (r+x) ln(alpha+t_x)``.
    With ``per_row`` it returns only the mixing term ``log(1 + exp(d))`` per repeat buyer.
    """
    r, alpha, a, b = theta
    ux = h.ux
    a12 = (gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
           + gammaln(a + b) + gammaln(b + ux) - gammaln(b) - gammaln(a + b + ux))
    with np.errstate(divide="ignore", invalid="ignore"):
        c_x = np.log(a) - np.log(b + ux - 1.0)
    l_T, l_tx = np.log(alpha + h.uT), np.log(alpha + h.utx)
    rx = r + h.x_r
    D = l_T[h.Tcode_r] - l_tx[h.txcode_r]
    d = c_x[h.xcode_r] + rx * D
    e = exp_neg(np.abs(d))
    mix = np.maximum(d, 0.0) + np.log1p(e)
    if per_row:
        return mix
    ll = dot(h.w_x, a12) - dot(l_T, r * h.w_T + h.xw_T) + dot(h.w_r, mix)
    ww4 = h.w_r * (np.where(d > 0, 1.0, e) / (1.0 + e))  # weight of the 'dropped out' branch
    inv_diff = (1.0 / (alpha + h.uT))[h.Tcode_r] - (1.0 / (alpha + h.utx))[h.txcode_r]
    ww4_x = np.bincount(h.xcode_r, ww4, len(ux))
    d_a_x = digamma(a + b) - digamma(a + b + ux)
    with np.errstate(divide="ignore"):
        inv_b = np.where(ux > 0, 1.0 / np.where(ux > 0, b + ux - 1.0, 1.0), 0.0)
    grad = np.array([
        dot(h.w_x, digamma(r + ux) - digamma(r) + np.log(alpha)) - dot(l_T, h.w_T) + dot(ww4, D),
        h.w_x.sum() * r / alpha - dot(r * h.w_T + h.xw_T, 1.0 / (alpha + h.uT))
        + dot(ww4 * rx, inv_diff),
        dot(h.w_x, d_a_x) + ww4.sum() / a,
        dot(h.w_x, d_a_x + digamma(b + ux) - digamma(b)) - dot(ww4_x, inv_b),
    ])
    return ll, grad


def bgnbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (equation 6 of [1]); time in the unit of ``alpha``."""
    theta = np.asarray(params, dtype=float)
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    r, alpha, a, b = theta
    out = (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + gammaln(a + b) + gammaln(b + x)
           - gammaln(b) - gammaln(a + b + x) - (r + x) * np.log(alpha + T))
    out[x > 0] += _bgnbd_ll_grad(theta, _Histories.build(x, t_x, T), per_row=True)
    return out


def _objective(log_theta, h, n_total, penalizer):
    """Mean penalised NLL over log parameters and its gradient (the lifetimes objective)."""
    theta = np.exp(log_theta)
    ll, grad = _bgnbd_ll_grad(theta, h)
    return penalised_objective(ll, grad, theta, n_total, penalizer)


class BetaGeo(FittedModelMixin):
    """BG/NBD purchase model fitted by maximum likelihood on compressed summaries.

    Parameters
    ----------
    penalizer
        L2 penalty ``penalizer * sum(theta**2)`` added to the *mean* negative log-likelihood, with
        ``theta = (r, alpha, a, b)`` and ``alpha`` measured with time scaled so the oldest
        customer has ``T = 1``: the same objective as lifetimes' ``BetaGeoFitter(penalizer_coef)``,
        so penalised fits agree with it and the penalty does not depend on the time unit.
        ``0.0`` gives the pure maximum-likelihood estimate.
    time_unit
        ``"days"`` (inputs are used as given) or ``"weeks"`` (recency and T are divided by 7, the
        papers' convention). Only the unit ``alpha`` is reported in changes; predictions are the
        same. This is *not* lifetimes' calendar-week binning (``freq='W'``), which changes the data.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha`` (in ``time_unit``), ``a``, ``b``.
    standard_errors_ : dict
        From the inverse Hessian of the total negative log-likelihood (NaN when singular).
    log_likelihood_ : float
        Total log-likelihood (sum over customers, not the mean), time in ``time_unit``; this is
        the figure the papers print (-9582.4 on CDNOW in weeks).
    mean_log_likelihood_ : float
        ``log_likelihood_ / n_customers_``.
    n_customers_, n_distinct_ : int
        Customers fitted, distinct ``(frequency, recency, T)`` histories actually evaluated.
    converged_ : bool
    at_bounds_ : dict
        Whether each parameter ended at the optimiser box (``exp(+-18)`` in scaled time).

    References
    ----------
    Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
    Pareto/NBD Model", Marketing Science 24(2).

    Examples
    --------
    >>> model = BetaGeo(time_unit="weeks").fit(summary)  # doctest: +SKIP
    >>> model.p_alive(summary)                            # doctest: +SKIP
    """

    name = "bgnbd"
    param_names = PARAM_NAMES

    def __init__(self, penalizer: float = 0.0, time_unit: str = "days") -> None:
        self.penalizer = penalizer
        self.time_unit = time_unit

    def fit(self, summary: pd.DataFrame) -> BetaGeo:
        """Fit on a summary with ``frequency``, ``recency`` and ``T`` (days); returns ``self``."""
        x, rec, T = purchase_summary(summary, "BG/NBD")
        div = time_divisor(self.time_unit)
        scale = T.max()  # time is scaled so that max(T) = 1 while optimising
        comp = compress(x, rec, T)
        cx, crec, cT = comp.columns
        n = float(len(x))
        fit, hist = fit_compressed(lambda c, w: _Histories.build(*c, w), _objective, comp,
                                   (cx, crec / scale, cT / scale), self.penalizer, np.zeros(4),
                                   "BG/NBD")
        theta = np.exp(fit.log_params)
        ll_scaled, _ = _bgnbd_ll_grad(theta, hist)
        unit_scale = scale / div  # model time units per scaled unit
        theta_unit = theta * np.array([1.0, unit_scale, 1.0, 1.0])
        record_fit(self, PARAM_NAMES, theta_unit, fit, x=x, n=n, n_distinct=comp.n_rows,
                   log_likelihood=ll_scaled - np.sum(x) * np.log(unit_scale))
        return self

    # ----------------------------------------------------------------- predictions
    def _theta(self):
        self._check_fitted()
        return tuple(self.params_[k] for k in PARAM_NAMES)

    def _p_alive(self, x, t_x, T):
        r, alpha, a, b = self._theta()
        repeat = x > 0
        log_odds = (np.log(a) - np.log(np.where(repeat, b + x - 1.0, 1.0))
                    + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
        return np.where(repeat, 1.0 / (1.0 + np.exp(log_odds)), 1.0)

    def _expected_alive(self, x, T, t):
        """E[X(T, T+t) | alive at T] (the bracket of equation 10 of [1])."""
        r, alpha, a, b = self._theta()
        if abs(a - 1.0) < 1e-4:  # removable singularity at a = 1: interpolate linearly in a
            lo, hi = (_bg_alive_bracket(r, alpha, a_, b, x, T, t) for a_ in (1 - 1e-4, 1 + 1e-4))
            return lo + (a - (1 - 1e-4)) / 2e-4 * (hi - lo)
        return _bg_alive_bracket(r, alpha, a, b, x, T, t)

    def p_alive(self, df: pd.DataFrame) -> pd.Series:
        """P(alive at T | x, t_x, T) per customer (Fader, Hardie & Lee 2008, equation 4)."""
        arrays = self._unit_arrays(df)
        return per_distinct(df, arrays, self._p_alive, "p_alive")

    def expected_purchases(self, df: pd.DataFrame, horizon_days: float) -> pd.Series:
        """Conditional expected number of purchases in the next ``horizon_days`` (equation 10)."""
        t = self._horizon(horizon_days)
        return per_distinct(df, self._unit_arrays(df), lambda x, tx, T: self._expected_arrays(
            x, tx, T, t), "expected_purchases")

    def _expected_arrays(self, x, t_x, T, t):
        if t == 0:
            return np.zeros_like(x, dtype=float)
        return self._p_alive(x, t_x, T) * self._expected_alive(x, T, t)

    def purchase_probability(self, df: pd.DataFrame, horizon_days: float) -> pd.Series:
        """P(at least one purchase in the next ``horizon_days``) per customer.

        Given the history, a customer alive at ``T`` has ``lambda ~ Gamma(r+x, alpha+T)`` and can
        only drop out right after a purchase, so the chance of no purchase in ``(T, T+t]`` while
        alive is ``E[exp(-lambda t)] = ((alpha+T)/(alpha+T+t))**(r+x)``. Hence::

            P(X(T, T+t) >= 1) = P(alive) * (1 - ((alpha+T) / (alpha+T+t))**(r+x))

        (the ``x > 0`` complement of ``P(X(T, T+t) = 0 | x, t_x, T)`` in Fader & Hardie's note
        "Deriving the conditional PMF of the BG/NBD model").
        """
        t = self._horizon(horizon_days)
        return per_distinct(df, self._unit_arrays(df), lambda x, tx, T: self._prob_arrays(
            x, tx, T, t), "purchase_probability")

    def _prob_arrays(self, x, t_x, T, t):
        r, alpha, _, _ = self._theta()
        log_none = (r + x) * (np.log(alpha + T) - np.log(alpha + T + t))
        return self._p_alive(x, t_x, T) * -np.expm1(log_none)


def _bg_alive_bracket(r, alpha, a, b, x, T, t):
    """``(a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))**(r+x) * 2F1(r+x, b+x; a+b+x-1; z)]``.

    With ``z = t/(alpha+T+t)``, the Euler transformation rewrites the product as
    ``(1-z)**(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z)``: no ``(1-z)**-(r+x)`` growth to overflow
    for large ``x``.
    """
    z = t / (alpha + T + t)
    c = a + b + x - 1.0
    prod = np.exp((a - 1.0) * np.log1p(-z)) * hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
    return c / (a - 1.0) * (1.0 - prod)


def simulate_bgnbd(params: dict, T_days, seed: int = 0, time_unit: str = "days",
                   integer_days: bool = True) -> pd.DataFrame:
    """Simulate BG/NBD summaries (in days), by default on an integer-day calendar.

    Each customer first buys at time 0 and is observed until ``T_days``. With ``integer_days``
    purchase times are floored to whole days and purchases of a day collapse into one purchase
    day (as ``tierwise.features`` counts them), so ``frequency`` is the number of later purchase
    days and ``recency`` the day of the last one: realistic data with many identical histories,
    only approximately BG/NBD. Without it, times are continuous and the data exactly BG/NBD.
    ``params['alpha']`` is in ``time_unit``.
    """
    rng = np.random.default_rng(seed)
    T_days = np.asarray(T_days, dtype=np.int64 if integer_days else float)
    n = len(T_days)
    div = time_divisor(time_unit)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n) / div  # purchases per day
    p = rng.beta(params["a"], params["b"], n)
    return _simulate_days(rng, T_days, lam, lambda idx: rng.random(len(idx)) < p[idx],
                          integer_days=integer_days)


def _simulate_days(rng, T_days, lam, dies_after_purchase, dies_at=None, integer_days=True):
    """Walk Poisson purchase times per customer; optionally collapse them to purchase days.

    ``dies_after_purchase(idx)`` says which of the customers ``idx`` drop out right after the
    purchase just made (BG/NBD); ``dies_at`` is a continuous death time (Pareto/NBD) or None.
    """
    n = len(T_days)
    horizon = T_days.astype(float) if dies_at is None else np.minimum(T_days, dies_at)
    freq = np.zeros(n, dtype=np.int64)
    last_day = np.zeros(n)
    now = np.zeros(n)
    active = np.flatnonzero(lam > 0)
    while active.size:
        now[active] += rng.exponential(1.0, active.size) / lam[active]
        bought = now[active] <= horizon[active]
        idx = active[bought]
        day = np.floor(now[idx]) if integer_days else now[idx]
        new_day = (day > last_day[idx]) & (day >= 1) if integer_days else np.ones(idx.size, bool)
        freq[idx] += new_day
        last_day[idx] = np.where(new_day, day, last_day[idx])
        alive = ~dies_after_purchase(idx) if dies_at is None else np.ones(idx.size, bool)
        active = idx[alive]
    return pd.DataFrame({"frequency": freq, "recency": last_day, "T": T_days.astype(float)})

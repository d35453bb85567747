"""Pareto/NBD: Poisson purchases while alive, exponential lifetimes (Schmittlein et al. 1987).

While alive a customer buys at rate ``lambda ~ Gamma(r, alpha)`` and dies at rate
``mu ~ Gamma(s, beta)``. The likelihood follows Fader & Hardie's note [2] (equations 18-20), whose
``A0`` term holds a Gauss hypergeometric function that is notoriously hard to evaluate. Here it is
computed with no cancellation by :func:`~tierwise.models._tail_integral.log_tail_integral`: a
series of positive terms where it converges quickly, and elsewhere (``max(alpha, beta) /
min(alpha, beta)`` beyond about 6-10 with few purchases) a Gauss-Legendre quadrature of the same
integral in a variable that absorbs the scale ``min/max``; the gradient is the derivative of the
same expression, so value and gradient agree. Any ratio of ``alpha`` and ``beta`` is evaluated
(checked against mpmath up to 1e12 either way), so fits drawn to extreme ratios converge like any
other: a restaurant's weekly regulars next to one-time diners (``alpha/beta`` about 400), or data
where almost nobody drops out (``beta/alpha`` beyond 1e5, P(alive) near 1). An optimum at
the edge of the parameter box shows in ``at_bounds_``.
(``scipy.special.hyp2f1`` in the note's form was not usable here: it returns inf or NaN for
large ``r + x`` as the argument nears 1, and has no parameter derivatives.)

References
----------
.. [1] Schmittlein, D. C., Morrison, D. G. and Colombo, R. (1987). "Counting Your Customers: Who
   Are They and What Will They Do Next?" Management Science 33(1), 1-24.
.. [2] Fader, P. S. and Hardie, B. G. S. (2005). "A Note on Deriving the Pareto/NBD Model and
   Related Expressions". http://brucehardie.com/notes/009/
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

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
from tierwise.models._tail_integral import (  # noqa: F401 - re-exported for tests and readers
    SeriesDiverged,
    hyp2f1_1pq,
    log_tail_integral,
)

PARAM_NAMES = ("r", "alpha", "s", "beta")


@dataclass(frozen=True)
class _Histories:
    """Distinct histories in scaled time, indexed for cheap repeated likelihood evaluations.

    ``H`` in the likelihood depends on a history only through the pairs ``(x, t_x)`` and
    ``(x, T)``, and its series coefficients only through ``x``: it is evaluated once per distinct
    pair. Gamma-function terms are evaluated once per distinct ``x``, logs of ``T`` once per
    distinct ``T``.
    """

    x: np.ndarray
    T: np.ndarray
    w: np.ndarray
    ux: np.ndarray           # distinct frequencies
    xcode: np.ndarray        # index into ux of each row
    uT: np.ndarray           # distinct T
    Tcode: np.ndarray        # index into uT of each row
    pair_code: np.ndarray    # index into ux of each pair
    pair_t: np.ndarray       # t of each pair: the t_x pairs first, then the T pairs
    row_tx: np.ndarray       # pair of each row's (x, t_x)
    row_T: np.ndarray        # pair of each row's (x, T)

    @classmethod
    def build(cls, x, t_x, T, w=None) -> _Histories:
        ux, xcode = np.unique(x, return_inverse=True)
        uT, Tcode = np.unique(T, return_inverse=True)
        p1, p2 = compress(xcode, t_x), compress(xcode, T)
        return cls(x, T, np.ones_like(x) if w is None else w, ux, xcode, uT, Tcode,
                   np.concatenate([p1.columns[0], p2.columns[0]]),
                   np.concatenate([p1.columns[1], p2.columns[1]]),
                   p1.inverse, p2.inverse + p1.n_rows)


def _pnbd_row_terms(theta, h: _Histories, with_grad: bool = True):
    """Per-customer log-likelihood (equation 18 of [2]) and, optionally, its gradient pieces.

    ``LL = lnG(r+x) - lnG(r) + r ln alpha + s ln beta + log(exp(L1) + exp(L2))`` with
    ``L1 = -(r+x) ln(alpha+T) - s ln(beta+T)`` and ``L2 = ln(s/(r+s+x)) + ln A0``,
    ``A0 = H(t_x) - H(T)``, ``H`` from :func:`log_tail_integral` with exponents ``(r+x, s+1)``.
    Returns ``(row_ll, L2 - L1, parts)``; ``parts`` holds what :func:`_pnbd_ll_grad` needs.
    """
    r, alpha, s, beta = theta
    h_pair, dh_pair = log_tail_integral(r + h.ux, np.full(len(h.ux), s + 1.0), h.pair_code,
                                        alpha, beta, h.pair_t)
    h1, h2 = h_pair[h.row_tx], h_pair[h.row_T]
    diff = -np.expm1(h2 - h1)                  # 1 - H(T)/H(t_x) >= 0
    log_a, log_b = np.log(alpha + h.uT)[h.Tcode], np.log(beta + h.uT)[h.Tcode]
    rx = r + h.x
    with np.errstate(divide="ignore"):
        L2 = (np.log(s) - np.log(r + s + h.ux) + gammaln(r + h.ux))[h.xcode] + h1 + np.log(diff)
    L1 = gammaln(r + h.ux)[h.xcode] - rx * log_a - s * log_b
    delta = L2 - L1
    e = exp_neg(np.abs(delta))
    row_ll = (np.maximum(L1, L2) + np.log1p(e) - gammaln(r) + r * np.log(alpha)
              + s * np.log(beta))
    if not with_grad:
        return row_ll, delta, None
    w2 = np.where(delta > 0, 1.0, e) / (1.0 + e)   # share of the 'died after t_x' term
    parts = (h1, h2, dh_pair, diff, log_a, log_b, rx, w2)
    return row_ll, delta, parts


def _pnbd_ll_grad(theta, h: _Histories, per_row=False):
    """Weighted Pareto/NBD log-likelihood and gradient in the natural parameters.

    The gradient of each row is ``w1 dL1 + w2 dL2`` (``w1 + w2 = 1``), with
    ``dL2 = d ln(s/(r+s+x)) + (dH(t_x) - (H(T)/H(t_x)) dH(T)) / (1 - H(T)/H(t_x))``.
    """
    r, alpha, s, beta = theta
    row_ll, _, parts = _pnbd_row_terms(theta, h, with_grad=not per_row)
    if per_row:
        return row_ll
    _, _, dh_pair, diff, log_a, log_b, rx, w2 = parts
    w, ww2 = h.w, h.w * w2
    ratio = 1.0 - diff
    safe = diff > 0
    inv = np.where(safe, 1.0 / np.where(safe, diff, 1.0), 0.0)
    dA0 = [(dh_pair[j, h.row_tx] - ratio * dh_pair[j, h.row_T]) * inv for j in range(4)]
    k_inv = (1.0 / (r + s + h.ux))[h.xcode]
    dL1 = [-log_a, -rx / (alpha + h.uT)[h.Tcode], -log_b, -s / (beta + h.uT)[h.Tcode]]
    dL2 = [dA0[0] - k_inv, dA0[2], dA0[1] + 1.0 / s - k_inv, dA0[3]]
    wsum = w.sum()
    dig = dot(np.bincount(h.xcode, weights=w, minlength=len(h.ux)), digamma(r + h.ux))
    grad = np.array([
        dig - wsum * digamma(r) + wsum * np.log(alpha), wsum * r / alpha,
        wsum * np.log(beta), wsum * s / beta,
    ])
    grad += np.array([dot(w, dL1[j]) + dot(ww2, dL2[j] - dL1[j]) for j in range(4)])
    return dot(w, row_ll), grad


def pareto_nbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood; time in the unit of ``alpha`` and ``beta``."""
    h = _Histories.build(*(np.asarray(v, dtype=float) for v in (x, t_x, T)))
    return _pnbd_ll_grad(np.asarray(params, dtype=float), h, per_row=True)


def _objective(log_theta, h, n_total, penalizer):
    """Mean penalised negative log-likelihood and its gradient in log parameters."""
    theta = np.exp(log_theta)
    ll, grad = _pnbd_ll_grad(theta, h)
    return penalised_objective(ll, grad, theta, n_total, penalizer)


class ParetoNBD(FittedModelMixin):
    """Pareto/NBD purchase model fitted by maximum likelihood on compressed summaries.

    Parameters
    ----------
    penalizer
        L2 penalty ``penalizer * sum(theta**2)`` on ``theta = (r, alpha, s, beta)`` with time
        scaled so the oldest customer has ``T = 1``, added to the *mean* negative log-likelihood
        (as for :class:`~tierwise.models.BetaGeo`). lifetimes' ``ParetoNBDFitter`` adds it to
        the *total* instead, so its ``penalizer_coef=c`` matches ``penalizer=c / n_customers``
        here. ``0.0`` gives the pure maximum-likelihood estimate.
    time_unit
        ``"days"`` or ``"weeks"`` (recency and T divided by 7). Only the unit ``alpha`` and
        ``beta`` are reported in changes; predictions are the same. Not lifetimes' calendar-week
        binning (``freq='W'``), which changes the data.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``s``, ``beta`` (``alpha`` and ``beta`` in ``time_unit``).
    standard_errors_ : dict
        From the inverse Hessian of the total negative log-likelihood (NaN when singular).
    log_likelihood_ : float
        Total log-likelihood (sum over customers), time in ``time_unit`` (-9595.0 on CDNOW in
        weeks, the figure of Fader & Hardie's note).
    mean_log_likelihood_, n_customers_, n_distinct_, n_repeat_buyers_, converged_, at_bounds_

    References
    ----------
    Schmittlein, Morrison & Colombo (1987), Management Science 33(1); Fader & Hardie (2005),
    "A Note on Deriving the Pareto/NBD Model and Related Expressions".
    """

    name = "pareto"
    param_names = PARAM_NAMES

    def __init__(self, penalizer: float = 0.0, time_unit: str = "days") -> None:
        self.penalizer = penalizer
        self.time_unit = time_unit

    def fit(self, summary: pd.DataFrame) -> ParetoNBD:
        """Fit on a summary with ``frequency``, ``recency`` and ``T`` (days); returns ``self``."""
        x, rec, T = purchase_summary(summary, "Pareto/NBD")
        div = time_divisor(self.time_unit)
        scale = T.max()
        comp = compress(x, rec, T)
        cx, crec, cT = comp.columns
        n = float(len(x))
        fit, hist = fit_compressed(lambda c, w: _Histories.build(*c, w), _objective, comp,
                                   (cx, crec / scale, cT / scale), self.penalizer, np.zeros(4),
                                   "Pareto/NBD")
        theta = np.exp(fit.log_params)
        ll_scaled, _ = _pnbd_ll_grad(theta, hist)
        unit_scale = scale / div
        theta_unit = theta * np.array([1.0, unit_scale, 1.0, unit_scale])
        record_fit(self, PARAM_NAMES, theta_unit, fit, x=x, n=n, n_distinct=comp.n_rows,
                   log_likelihood=ll_scaled - np.sum(x) * np.log(unit_scale))
        return self

    # ----------------------------------------------------------------- predictions
    def _theta(self):
        self._check_fitted()
        return tuple(self.params_[k] for k in PARAM_NAMES)

    def _p_alive(self, x, t_x, T):
        """``1 / (1 + exp(L2 - L1))``: the share of the likelihood from 'alive at T'."""
        _, delta, _ = _pnbd_row_terms(self._theta(), _Histories.build(x, t_x, T), False)
        return 1.0 / (1.0 + np.exp(delta))

    def p_alive(self, df: pd.DataFrame) -> pd.Series:
        """P(alive at T | x, t_x, T) per customer ([2], equation 11)."""
        return per_distinct(df, self._unit_arrays(df), self._p_alive, "p_alive")

    def _expected_arrays(self, x, t_x, T, t):
        """``P(alive) * (r+x)/(alpha+T) * integral_0^t ((beta+T)/(beta+T+u))**s du`` ([2], eq. 22).

        The integral is ``(beta+T) * (1 - y**(s-1)) / (s-1)`` with ``y = (beta+T)/(beta+T+t)``,
        evaluated as ``-expm1((s-1) ln y)/(s-1)`` so that ``s`` near 1 loses no precision.
        """
        r, alpha, s, beta = self._theta()
        log_y = np.log(beta + T) - np.log(beta + T + t)
        c = s - 1.0
        integral = (beta + T) * (-np.expm1(c * log_y) / c if abs(c) > 1e-12 else -log_y)
        return self._p_alive(x, t_x, T) * (r + x) / (alpha + T) * integral

    def expected_purchases(self, df: pd.DataFrame, horizon_days: float) -> pd.Series:
        """Conditional expected number of purchases in the next ``horizon_days``."""
        t = self._horizon(horizon_days)
        return per_distinct(df, self._unit_arrays(df), lambda x, tx, T: self._expected_arrays(
            x, tx, T, t), "expected_purchases")

    def _prob_arrays(self, x, t_x, T, t):
        """P(at least one purchase in (T, T+t]) given the history.

        Alive at ``T`` with rates ``(lambda, mu)``, the first event after ``T`` is a purchase
        before ``T+t`` with probability ``integral_0^t lambda exp(-(lambda+mu) u) du``. The
        posterior given alive is ``lambda ~ Gamma(r+x, alpha+T)``, ``mu ~ Gamma(s, beta+T)``,
        independent, so the expectation is ``(r+x) (alpha+T)**(r+x) (beta+T)**s *
        integral_T^(T+t) (alpha+u)**-(r+x+1) (beta+u)**-s du``: the tail integral of
        :func:`log_tail_integral` with exponents ``(r+x+1, s)``, differenced.
        """
        if t == 0:
            return np.zeros_like(x, dtype=float)
        r, alpha, s, beta = self._theta()
        k = r + x + s
        ux, code = np.unique(x, return_inverse=True)
        pa, qb = r + ux + 1.0, np.full(len(ux), s)
        h_T, _ = log_tail_integral(pa, qb, code, alpha, beta, T)
        h_Tt, _ = log_tail_integral(pa, qb, code, alpha, beta, T + t)
        log_front = np.log(r + x) - np.log(k) + (r + x) * np.log(alpha + T) + s * np.log(beta + T)
        window = np.exp(log_front + h_T) * -np.expm1(h_Tt - h_T)
        return self._p_alive(x, t_x, T) * window

    def purchase_probability(self, df: pd.DataFrame, horizon_days: float) -> pd.Series:
        """P(at least one purchase in the next ``horizon_days``) per customer (see ``_prob_arrays``)."""
        t = self._horizon(horizon_days)
        return per_distinct(df, self._unit_arrays(df), lambda x, tx, T: self._prob_arrays(
            x, tx, T, t), "purchase_probability")


def simulate_pareto_nbd(params: dict, T_days, seed: int = 0, time_unit: str = "days",
                        integer_days: bool = True) -> pd.DataFrame:
    """Simulate Pareto/NBD summaries (in days); see :func:`~tierwise.models.betageo.simulate_bgnbd`."""
    from tierwise.models.betageo import _simulate_days

    rng = np.random.default_rng(seed)
    T_days = np.asarray(T_days, dtype=np.int64 if integer_days else float)
    n = len(T_days)
    div = time_divisor(time_unit)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n) / div
    mu = rng.gamma(params["s"], 1.0 / params["beta"], n) / div
    death = rng.exponential(1.0, n) / mu
    return _simulate_days(rng, T_days, lam, None, dies_at=death, integer_days=integer_days)

"""Purchase models for customers who buy on a rhythm: MBG/NBD, MBG/CNBD-k and BG/CNBD-k.

BG/NBD and Pareto/NBD let a living customer buy at Poisson times: the gap to the next purchase is
exponential, as likely to be a day as a month. Diners and grocery shoppers come back on a rhythm.
The CNBD-k models replace the exponential gap by an Erlang-k gap (the sum of ``k`` exponential
stages with rate ``lambda ~ Gamma(r, alpha)``): ``k = 1`` is the Poisson case, ``k = 2`` or more
a rhythm whose regularity grows with ``k`` (the gap's coefficient of variation is ``1/sqrt(k)``).
After every purchase the customer drops out with probability ``p ~ Beta(a, b)``; in the
*modified* (MBG) variants also right after the first purchase, so a one-time buyer can be gone.

* **MBG/NBD** (Batislam, Denizel & Filiztekin 2007) is MBG/CNBD-k with ``k = 1``;
* **MBG/CNBD-k** and **BG/CNBD-k** (Reutterer, Platzer & Schroeder 2021) choose ``k`` by
  likelihood; BG/CNBD-1 is BG/NBD.

The likelihood (Reutterer et al. 2021, eq. 6; BTYDplus ``mbgcnbd.LL``) of a customer with ``x``
repeat purchases, the last at ``t_x``, observed until ``T``::

    L = prod_i t_i**(k-1) / (k-1)!**x  x  B(a, b+x+m)/B(a, b)  x  G(r+kx)/G(r) alpha**r
        / (alpha+T)**(r+kx)  x  [ S1 + S2 ]
    S1 = a/(b+x-1+m) ((alpha+T)/(alpha+t_x))**(r+kx)        (dropped out right after t_x)
    S2 = sum_{j<k} (r+kx)_j (T-t_x)**j / (j! (alpha+T)**j)    (alive: fewer than k stages since)

with ``m = 1`` for the modified models (``m = 0``: BG, where ``S1`` needs ``x > 0``) and ``t_i``
the inter-purchase times. The first factor involves the data alone through
``litt = sum_i log t_i``: it does not move the estimates for a given ``k``, but it decides
between values of ``k``, which is why the features carry ``litt`` per customer.

**Conditional expectation.** No closed form exists for ``k > 1``. Given the history and alive at
``T``, the customer has completed ``j < k`` stages since the last purchase with posterior weight
``v_j`` (the terms of ``S2``), and then ``lambda ~ Gamma(r+kx+j, alpha+T)``. The number ``M`` of
stages in ``(T, T+t]`` is then negative binomial; the ``n``-th future purchase happens when
``M >= kn - j`` and counts if the customer survived the ``n-1`` drop-out chances before it
(``E[(1-p)**(n-1)] = B(a, b'+n-1)/B(a, b')`` with ``b' = b+x+m``). So::

    E[N(T, T+t)] = P(alive) sum_j v_j sum_{n>=1} B(a, b'+n-1)/B(a, b') P(M_j >= kn - j)

an exact series, evaluated with the negative binomial probabilities in log space and cut where
the remaining tail is below 1e-12 (mean + 12 standard deviations + 30 stages). For ``k = 1``
the closed form of Batislam et al. (the BG/NBD bracket with ``b + 1``) is used; the two agree.

References
----------
.. [1] Batislam, E. P., Denizel, M. and Filiztekin, A. (2007). "Empirical validation and
   comparison of models for customer base analysis". IJRM 24(3), 201-209.
.. [2] Reutterer, T., Platzer, M. and Schroeder, N. (2021). "Leveraging purchase regularity
   for predicting customer behavior the easy way". IJRM 38(1), 194-215.
.. [3] Platzer, M. and Reutterer, T. BTYDplus 1.2.0 (R package): ``mbgcnbd.LL``,
   ``elog2cbs`` (definitions of ``x``, ``t.x``, ``T.cal`` and ``litt``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betainc, digamma, gammaln

from tierwise.errors import DataContractError, FitError
from tierwise.models._summary import (
    FittedModelMixin,
    compress,
    dot,
    fit_compressed,
    penalised_objective,
    per_distinct,
    purchase_summary,
    record_fit,
    time_divisor,
)
from tierwise.models.betageo import _bg_alive_bracket

PARAM_NAMES = ("r", "alpha", "a", "b")
DEFAULT_MAX_K = 12
SERIES_CHUNK = 4_000_000  # matrix elements per block of the expectation series


@dataclass(frozen=True)
class _Histories:
    """Distinct histories ``(x, t_x, T)`` in scaled time with their weights, for one ``k``."""

    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    w: np.ndarray
    k: int
    m: float          # 1.0 for the modified (MBG) models, 0.0 for BG
    log_u: np.ndarray  # log(T - t_x), floored
    ux: np.ndarray     # distinct frequencies; gamma functions are evaluated once per value
    xcode: np.ndarray
    w_x: np.ndarray    # total weight per distinct frequency

    @classmethod
    def build(cls, x, t_x, T, w=None, *, k: int = 1, modified: bool = True) -> _Histories:
        w = np.ones_like(x, dtype=float) if w is None else w
        log_u = np.log(np.maximum(T - t_x, 1e-250))
        ux, xcode = np.unique(x, return_inverse=True)
        return cls(x, t_x, T, w, int(k), 1.0 if modified else 0.0, log_u, ux, xcode,
                   np.bincount(xcode, w, len(ux)))


def _row_terms(theta, h: _Histories):
    """Per row: the log-likelihood without the data-only factor, and the pieces of its gradient.

    Returns ``(ll, q1, v, log_ratio)``: ``q1`` the share of ``S1`` in ``S1 + S2`` (dropped out),
    ``v`` the ``(n, k)`` weights of the terms of ``S2`` and ``log_ratio = log((alpha+T)/(alpha+t_x))``.
    """
    r, alpha, a, b = theta
    k, m, x, ux = h.k, h.m, h.x, h.ux
    rk = r + k * x
    log_aT = np.log(alpha + h.T)
    log_ratio = log_aT - np.log(alpha + h.tx)
    head_x = (gammaln(b + ux + m) - gammaln(a + b + ux + m) + gammaln(a + b) - gammaln(b)
              + gammaln(r + k * ux) - gammaln(r) + r * np.log(alpha))
    head = head_x[h.xcode] - rk * log_aT
    can_drop = np.ones_like(ux, dtype=bool) if m else ux > 0
    c_x = np.where(can_drop, np.log(a) - np.log(np.where(can_drop, b + ux - 1.0 + m, 1.0)),
                   -np.inf)
    log_s1 = c_x[h.xcode] + rk * log_ratio
    if k == 1:  # S2 = 1
        both = np.logaddexp(log_s1, 0.0)
        return head + both, np.exp(log_s1 - both), np.ones((len(x), 1)), log_ratio
    j = np.arange(k, dtype=float)
    # log of (r+kx)_j (T-t_x)**j / (j! (alpha+T)**j), j = 0..k-1
    steps = np.log(r + k * ux[:, None] + j[None, :-1])
    log_poch = np.concatenate([np.zeros((len(ux), 1)), np.cumsum(steps, axis=1)], axis=1)
    log_terms = (log_poch - gammaln(j + 1.0))[h.xcode] + j * (h.log_u - log_aT)[:, None]
    top = log_terms.max(axis=1)
    e_terms = np.exp(log_terms - top[:, None])
    log_s2 = top + np.log(e_terms.sum(axis=1))
    v = e_terms / e_terms.sum(axis=1, keepdims=True)
    both = np.logaddexp(log_s1, log_s2)
    q1 = np.exp(log_s1 - both)
    return head + both, q1, v, log_ratio


def _ll_grad(theta, h: _Histories):
    """Weighted log-likelihood (without the data-only factor) and its gradient in the parameters."""
    r, alpha, a, b = theta
    k, m, x, w = h.k, h.m, h.x, h.w
    ll_row, q1, v, log_ratio = _row_terms(theta, h)
    q2 = 1.0 - q1
    rk = r + k * x
    inv_aT = 1.0 / (alpha + h.T)
    j = np.arange(k, dtype=float)
    ux, w_x = h.ux, h.w_x
    if k > 1:
        d_poch = np.concatenate([np.zeros((len(ux), 1)), np.cumsum(
            1.0 / (r + k * ux[:, None] + j[None, :-1]), axis=1)], axis=1)
        s2_dr = np.einsum("ij,ij->i", v, d_poch[h.xcode])
        s2_dalpha = -(v @ j) * inv_aT
    else:
        s2_dr = s2_dalpha = 0.0
    can_drop = np.ones_like(ux, dtype=bool) if m else ux > 0
    inv_b = np.where(can_drop, 1.0 / np.where(can_drop, b + ux - 1.0 + m, 1.0), 0.0)
    wq1 = w * q1
    wq1_x = np.bincount(h.xcode, wq1, len(ux))
    d_ab = digamma(a + b) - digamma(a + b + ux + m)
    grad = np.array([
        dot(w_x, digamma(r + k * ux) - digamma(r) + np.log(alpha))
        + dot(w, -np.log(alpha + h.T) + q1 * log_ratio + q2 * s2_dr),
        dot(w, r / alpha - rk * inv_aT + q1 * rk * (inv_aT - 1.0 / (alpha + h.tx))
            + q2 * s2_dalpha),
        dot(w_x, d_ab) + wq1.sum() / a,
        dot(w_x, d_ab + digamma(b + ux + m) - digamma(b)) - dot(wq1_x, inv_b),
    ])
    return dot(w, ll_row), grad


def _objective(log_theta, h, n_total, penalizer):
    theta = np.exp(log_theta)
    ll, grad = _ll_grad(theta, h)
    return penalised_objective(ll, grad, theta, n_total, penalizer)


def cnbd_log_likelihood(params, k: int, x, t_x, T, litt, modified: bool = True) -> np.ndarray:
    """Per-customer (M)BG/CNBD-k log-likelihood; times and ``litt`` in the unit of ``alpha``."""
    x, t_x, T, litt = (np.asarray(v, dtype=float) for v in (x, t_x, T, litt))
    theta = np.asarray([params[n] for n in PARAM_NAMES], dtype=float)
    ll, *_ = _row_terms(theta, _Histories.build(x, t_x, T, k=k, modified=modified))
    return ll + (k - 1) * litt - x * math.lgamma(k)


class _RhythmModel(FittedModelMixin):
    """Shared fitting and prediction of the (M)BG/CNBD-k family."""

    modified = True
    label = ""
    param_names: tuple[str, ...] = ("k", *PARAM_NAMES)
    candidate_ks: tuple[int, ...] | None = None   # None: 1..max_k

    def __init__(self, penalizer: float = 0.0, time_unit: str = "days", k: int | None = None,
                 max_k: int = DEFAULT_MAX_K) -> None:
        self.penalizer = penalizer
        self.time_unit = time_unit
        self.k = k
        self.max_k = max_k

    # ------------------------------------------------------------------------ fitting
    def fit(self, summary: pd.DataFrame):
        """Fit on ``frequency``, ``recency``, ``T`` (days) and, to choose ``k > 1``, ``litt``.

        With ``k`` fixed, ``litt`` is optional: it adds only a constant to the log-likelihood,
        which is NaN without it (the parameters are the same).
        """
        x, ks, comp, cols, unit_scale, k_term = self._inputs(summary)
        best, by_k, x0, falls = None, {}, np.zeros(4), 0
        for k in ks:
            fit, hist = self._fit_k(comp, cols, k, x0)
            ll_rest, _ = _ll_grad(np.exp(fit.log_params), hist)
            ll = ll_rest + k_term(k)
            by_k[k] = float(ll)
            if best is None or ll > best[0]:
                best, falls = (ll, k, fit), 0
            else:
                falls += 1
                if falls >= 2 and self.k is None:  # the likelihood fell twice: stop looking
                    break
            x0 = fit.log_params + np.array([0.0, np.log(k / (k + 1.0)), 0.0, 0.0])
        ll, k, fit = best
        theta = np.exp(fit.log_params) * np.array([1.0, unit_scale, 1.0, 1.0])
        record_fit(self, PARAM_NAMES, theta, fit, x=x, n=float(len(x)), n_distinct=comp.n_rows,
                   log_likelihood=ll)
        self.params_ = {"k": float(k), **self.params_} if "k" in self.param_names else self.params_
        if "k" in self.param_names:
            self.standard_errors_ = {"k": 0.0, **self.standard_errors_}
            self.at_bounds_ = {"k": False, **self.at_bounds_}
        self.k_ = int(k)
        self.log_likelihood_by_k_ = by_k
        return self

    def _inputs(self, summary: pd.DataFrame) -> tuple:
        """What every rhythm fit starts from: ``x``, the k to try, the compressed histories with
        their columns in units of the longest ``T``, that scale in the model's time unit, and
        ``k_term(k)``, the part of the log-likelihood outside the compressed sum (the Erlang
        constant, the ``litt`` term and the change of time unit)."""
        x, rec, T = purchase_summary(summary, self.label)
        ks = self._ks()
        if ks == (1,):
            litt_sum = 0.0
        elif len(ks) == 1 and "litt" not in summary.columns:
            # a fixed k: litt only adds a constant to the log-likelihood, the fit needs none
            litt_sum = float("nan")
        else:
            litt_sum = self._litt_sum(summary, x)
        div = time_divisor(self.time_unit)
        scale = T.max()
        comp = compress(x, rec, T)
        cols = (comp.columns[0], comp.columns[1] / scale, comp.columns[2] / scale)
        unit_scale = scale / div
        sum_x = float(np.sum(x))

        def k_term(k: int) -> float:
            return (-k * sum_x * np.log(unit_scale)
                    + (k - 1) * (litt_sum - sum_x * np.log(div)) - sum_x * math.lgamma(k))

        return x, ks, comp, cols, unit_scale, k_term

    def _ks(self) -> tuple[int, ...]:
        if self.k is not None:
            if int(self.k) != self.k or self.k < 1:
                raise ValueError(f"k must be a positive integer, got {self.k!r}")
            return (int(self.k),)
        if self.max_k < 1:
            raise ValueError(f"max_k must be at least 1, got {self.max_k!r}")
        return tuple(range(1, int(self.max_k) + 1))

    def _fit_k(self, comp, cols, k, x0):
        modified = self.modified
        try:
            return fit_compressed(lambda c, w: _Histories.build(*c, w, k=k, modified=modified),
                                  _objective, comp, cols, self.penalizer, x0,
                                  f"{self.label} (k={k})")
        except FitError:
            if not np.any(x0):
                raise
            return fit_compressed(lambda c, w: _Histories.build(*c, w, k=k, modified=modified),
                                  _objective, comp, cols, self.penalizer, np.zeros(4),
                                  f"{self.label} (k={k})")

    def _litt_sum(self, summary: pd.DataFrame, x: np.ndarray) -> float:
        """Sum over customers of ``litt`` (log inter-purchase days); 0 for one-time buyers."""
        if "litt" not in summary.columns:
            raise DataContractError(
                f"{self.label} needs column 'litt' (sum of log days between purchase days) to "
                f"choose k; the summary has {list(summary.columns)}",
                "pass the summary from tierwise.features, or fix k=1 (MBG/NBD)")
        litt = np.asarray(summary["litt"], dtype=float)
        litt = np.where(x == 0, 0.0, litt)
        if not np.all(np.isfinite(litt)):
            raise FitError(f"column 'litt' has {int(np.sum(~np.isfinite(litt)))} missing or "
                           "infinite value(s) among repeat buyers",
                           "recompute the features: litt is the sum of log gaps in days (>= 1)")
        return float(litt.sum())

    # ---------------------------------------------------------------------- predictions
    def _theta(self):
        self._check_fitted()
        return tuple(self.params_[n] for n in PARAM_NAMES)

    def _fitted_k(self) -> int:
        self._check_fitted()
        return int(self.params_.get("k", self.k or 1))

    def _alive_terms(self, x, t_x, T):
        """``P(alive)`` and the posterior stage weights ``v`` given alive, per row."""
        h = _Histories.build(x, t_x, T, k=self._fitted_k(), modified=self.modified)
        _, q1, v, _ = _row_terms(np.asarray(self._theta()), h)
        return 1.0 - q1, v

    def _p_alive(self, x, t_x, T):
        return self._alive_terms(x, t_x, T)[0]

    def p_alive(self, df: pd.DataFrame) -> pd.Series:
        """P(alive at T | x, t_x, T) per customer: ``S2 / (S1 + S2)``."""
        return per_distinct(df, self._unit_arrays(df), self._p_alive, "p_alive")

    def _expected_arrays(self, x, t_x, T, t):
        if t == 0:
            return np.zeros_like(x, dtype=float)
        r, alpha, a, b = self._theta()
        k = self._fitted_k()
        p_alive, v = self._alive_terms(x, t_x, T)
        if k == 1:
            bracket = _alive_bracket(r, alpha, a, b + (1.0 if self.modified else 0.0), x, T, t)
            return p_alive * bracket
        b_post = b + x + (1.0 if self.modified else 0.0)
        z = t / (alpha + T + t)
        total = np.zeros(len(x))
        for j in range(k):
            total += v[:, j] * expected_erlang_purchases(r + k * x + j, z, k, j, a, b_post)
        return p_alive * total

    def expected_purchases(self, df: pd.DataFrame, horizon_days: float) -> pd.Series:
        """Conditional expected number of purchases in the next ``horizon_days``."""
        t = self._horizon(horizon_days)
        return per_distinct(df, self._unit_arrays(df), lambda x, tx, T: self._expected_arrays(
            x, tx, T, t), "expected_purchases")

    def _prob_arrays(self, x, t_x, T, t):
        """``P(alive) sum_j v_j P(M_j >= k - j)``: the first purchase needs ``k - j`` stages."""
        if t == 0:
            return np.zeros_like(x, dtype=float)
        r, alpha, _, _ = self._theta()
        k = self._fitted_k()
        p_alive, v = self._alive_terms(x, t_x, T)
        z = t / (alpha + T + t)
        j = np.arange(k, dtype=float)
        surv = betainc(k - j[None, :], (r + k * x)[:, None] + j[None, :], z[:, None])
        return p_alive * np.einsum("ij,ij->i", v, surv)

    def purchase_probability(self, df: pd.DataFrame, horizon_days: float) -> pd.Series:
        """P(at least one purchase in the next ``horizon_days``) per customer."""
        t = self._horizon(horizon_days)
        return per_distinct(df, self._unit_arrays(df), lambda x, tx, T: self._prob_arrays(
            x, tx, T, t), "purchase_probability")


def _alive_bracket(r, alpha, a, b_eff, x, T, t):
    """E[purchases in (T, T+t] | alive] for k = 1: the BG/NBD bracket with ``b_eff``."""
    if abs(a - 1.0) < 1e-4:  # removable singularity at a = 1
        lo, hi = (_bg_alive_bracket(r, alpha, a_, b_eff, x, T, t) for a_ in (1 - 1e-4, 1 + 1e-4))
        return lo + (a - (1 - 1e-4)) / 2e-4 * (hi - lo)
    return _bg_alive_bracket(r, alpha, a, b_eff, x, T, t)


def expected_erlang_purchases(shape, z, k: int, j: int, a: float, b_post) -> np.ndarray:
    """``sum_{n>=1} B(a, b'+n-1)/B(a, b') P(M >= kn - j)`` per row (see the module notes).

    ``M`` is negative binomial: ``P(M = s) = G(shape+s)/(G(shape) s!) (1-z)**shape z**s``.
    Rows are grouped by how many stages their tail needs and each group is one matrix.
    """
    shape, z, b_post = (np.broadcast_to(np.asarray(v, dtype=float), np.shape(shape))
                        for v in (shape, z, b_post))
    mean = shape * z / (1.0 - z)
    need = np.ceil(mean + 12.0 * np.sqrt(mean / (1.0 - z)) + 30.0 + k)
    sizes = 2.0 ** np.ceil(np.log2(need))
    out = np.empty(len(shape))
    order = np.argsort(sizes, kind="stable")
    sorted_sizes = sizes[order]
    cuts = np.flatnonzero(np.diff(sorted_sizes)) + 1
    for idx in np.split(order, cuts):
        n_stages = int(sizes[idx[0]])
        step = max(1, SERIES_CHUNK // n_stages)
        for start in range(0, len(idx), step):
            rows = idx[start:start + step]
            out[rows] = _erlang_series(shape[rows], z[rows], b_post[rows], n_stages, k, j, a)
    return out


def _erlang_series(shape, z, b_post, n_stages, k, j, a):
    s = np.arange(n_stages, dtype=float)
    with np.errstate(divide="ignore"):
        log_pmf = (gammaln(shape[:, None] + s) - gammaln(shape)[:, None] - gammaln(s + 1.0)
                   + (shape * np.log1p(-z))[:, None] + np.log(z)[:, None] * s)
    pmf = np.exp(log_pmf)
    surv = np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1]      # P(M >= s), s < n_stages
    n = np.arange(1, (n_stages + j) // k + 1)
    n = n[k * n - j < n_stages]
    cols = k * n - j
    # B(a, b'+n-1)/B(a, b') = prod_{i<n-1} (b'+i)/(a+b'+i)
    i = np.arange(len(n) - 1, dtype=float)
    ratios = (b_post[:, None] + i) / (a + b_post[:, None] + i)
    coef = np.concatenate([np.ones((len(shape), 1)), np.cumprod(ratios, axis=1)], axis=1)
    return np.einsum("ij,ij->i", coef, surv[:, cols])


class ModifiedBetaGeo(_RhythmModel):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD where a one-time buyer can be gone.

    The same estimator contract and parameters as :class:`~tierwise.models.BetaGeo`
    (``r``, ``alpha`` in ``time_unit``, ``a``, ``b``); it is MBG/CNBD-k with ``k = 1``.

    References
    ----------
    Batislam, Denizel & Filiztekin (2007), IJRM 24(3), 201-209.
    """

    name = "mbgnbd"
    label = "MBG/NBD"
    param_names = PARAM_NAMES

    def __init__(self, penalizer: float = 0.0, time_unit: str = "days") -> None:
        super().__init__(penalizer=penalizer, time_unit=time_unit, k=1)


class MBGCNBD(_RhythmModel):
    """MBG/CNBD-k (Reutterer, Platzer & Schroeder 2021): Erlang-k gaps, drop-out from day one.

    Parameters
    ----------
    penalizer, time_unit
        As :class:`~tierwise.models.BetaGeo`.
    k
        Fix the regularity (1 = Poisson purchases); ``None`` chooses it by likelihood over
        ``1..max_k``, stopping once the likelihood has fallen for two consecutive ``k``.
    max_k
        Largest ``k`` tried (12, as BTYDplus).

    Attributes
    ----------
    params_ : dict
        ``k`` (chosen, so its standard error is given as 0), ``r``, ``alpha`` (in ``time_unit``;
        the rate of one of the ``k`` stages of a gap), ``a``, ``b``.
    standard_errors_, log_likelihood_, n_customers_, n_distinct_, converged_, at_bounds_
        As :class:`~tierwise.models.BetaGeo`, for the chosen ``k``; ``log_likelihood_`` includes
        the ``litt`` term, as BTYDplus reports it.
    log_likelihood_by_k_ : dict
        The maximised log-likelihood of every ``k`` tried.

    Examples
    --------
    >>> MBGCNBD(time_unit="weeks").fit(summary).params_["k"]  # doctest: +SKIP
    2.0
    """

    name = "mbgcnbd"
    label = "MBG/CNBD-k"


class BGCNBD(_RhythmModel):
    """BG/CNBD-k (Reutterer, Platzer & Schroeder 2021): Erlang-k gaps, BG/NBD drop-out.

    As :class:`MBGCNBD`, but a customer can drop out only after a repeat purchase (one-time
    buyers are alive), as in BG/NBD; BG/CNBD-1 is BG/NBD.
    """

    name = "bgcnbd"
    label = "BG/CNBD-k"
    modified = False


def simulate_cnbd(params: dict, T_days, seed: int = 0, time_unit: str = "days",
                  modified: bool = True, integer_days: bool = True,
                  holdout_days: float = 0.0) -> pd.DataFrame:
    """Simulate (M)BG/CNBD-k summaries in days: ``params`` has ``k``, ``r``, ``alpha``, ``a``, ``b``.

    Each customer first buys at time 0, then waits Erlang-k gaps (``k`` stages at rate
    ``lambda ~ Gamma(r, alpha)``, ``alpha`` in ``time_unit``) and drops out after a purchase with
    probability ``p ~ Beta(a, b)`` (also after the first one when ``modified``). With
    ``integer_days`` times are floored to whole days and purchases of a day collapse into one.
    Returns ``frequency``, ``recency``, ``T``, ``litt`` (sum of log gaps in days), ``gap_last``
    and ``gap_prev`` (the last two gaps, NaN when absent), and with ``holdout_days`` also
    ``purchases_holdout``: purchase days in ``(T, T + holdout_days]``.
    """
    rng = np.random.default_rng(seed)
    T_days = np.asarray(T_days, dtype=float)
    n, k = len(T_days), int(params.get("k", 1))
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n) / time_divisor(time_unit)
    p = rng.beta(params["a"], params["b"], n)
    active = np.flatnonzero(lam > 0)
    if modified:
        active = active[rng.random(active.size) >= p[active]]
    return simulate_purchases(T_days, lam, p, active, lambda size: rng.gamma(k, 1.0, size), rng,
                              integer_days=integer_days, holdout_days=holdout_days)


def simulate_purchases(T_days: np.ndarray, lam: np.ndarray, p: np.ndarray, active: np.ndarray,
                       gaps: Any, rng: np.random.Generator, *, integer_days: bool = True,
                       holdout_days: float = 0.0,
                       lifetime: np.ndarray | None = None,
                       shape: np.ndarray | None = None) -> pd.DataFrame:
    """The purchase days of simulated customers, as the summaries the rhythm models read.

    Every customer first buys at time 0; each of the ``active`` ones then waits ``gaps(size)``
    (unit-rate waiting times, one per active customer) divided by its rate ``lam``, buys, and
    leaves with probability ``p``, until past ``T_days + holdout_days``. The simulators of
    :func:`simulate_cnbd` and :func:`tierwise.models.pause.simulate_pause` differ only in
    ``gaps`` and who starts active; :func:`tierwise.models.pareto_cnbd.simulate_pareto_cnbd`
    passes ``p = 0`` and a ``lifetime`` per customer (no purchase after it);
    :func:`tierwise.models.cnbd_mix.simulate_cnbd_mix` passes each customer's own gamma
    ``shape`` (the unit-rate gaps are then ``Gamma(shape, 1)`` and ``gaps`` is not used).
    """
    n = len(T_days)
    freq, litt = np.zeros(n, dtype=np.int64), np.zeros(n)
    last, gap_last, gap_prev = np.zeros(n), np.full(n, np.nan), np.full(n, np.nan)
    now, last_seen = np.zeros(n), np.zeros(n)
    holdout, end = np.zeros(n), T_days + holdout_days
    if lifetime is not None:
        end = np.minimum(end, lifetime)
    while active.size:
        unit = gaps(active.size) if shape is None else rng.gamma(shape[active], 1.0)
        now[active] += unit / lam[active]
        idx = active[now[active] <= end[active]]
        when = np.floor(now[idx]) if integer_days else now[idx]
        later = when > T_days[idx]
        holdout[idx] += later & (when > last_seen[idx])  # a new purchase day in the holdout
        last_seen[idx] = when
        new = (when > last[idx]) & ~later
        new_idx = idx[new]
        gap = when[new] - last[new_idx]
        freq[new_idx] += 1
        litt[new_idx] += np.log(gap)
        gap_prev[new_idx] = gap_last[new_idx]
        gap_last[new_idx] = gap
        last[new_idx] = when[new]
        active = idx[rng.random(idx.size) >= p[idx]]
    out = pd.DataFrame({"frequency": freq, "recency": last, "T": T_days, "litt": litt,
                        "gap_last": gap_last, "gap_prev": gap_prev})
    if holdout_days:
        out["purchases_holdout"] = holdout
    return out

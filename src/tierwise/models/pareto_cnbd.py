"""Pareto/CNBD-k: customers who buy on a rhythm and leave at a moment in time.

The (M)BG/CNBD-k models of :mod:`tierwise.models.cnbd` let a customer leave only right after a
purchase. Platzer & Reutterer (2016) argue that for regular buyers the drop-out story matters:
in their Pareto/GGG a customer leaves at a random *moment* (an exponential lifetime, as in
Pareto/NBD) and buys at gamma-distributed gaps. Pareto/CNBD-k is that model with the gap's
regularity ``k`` common to all customers (chosen by likelihood over ``1..max_k``, as for
MBG/CNBD-k), which keeps the likelihood a one-dimensional integral instead of MCMC:

* a living customer buys at Erlang-k gaps: ``k`` exponential stages at rate
  ``lambda ~ Gamma(r, alpha)`` (mean gap ``k / lambda``); ``k = 1`` is Pareto/NBD;
* the lifetime ``tau`` is exponential with rate ``mu ~ Gamma(s, beta)``, independent of ``lambda``;
* the *modified* variant (``trial``) adds a share ``q`` of trial-only customers, gone right after
  their first purchase (the role of MBG's drop-out at the first purchase).

**Likelihood** of ``x`` repeat purchases, the last at ``t_x``, observed until ``T``, ``u = T - t_x``
(derivation: condition on ``lambda`` and ``tau``, then take the gamma expectations, which factor
because ``lambda`` and ``mu`` are independent). Given ``lambda`` and alive until ``tau``, the
purchases contribute ``prod_i lambda**k t_i**(k-1) e**(-lambda t_i) / (k-1)!`` and the silence
after ``t_x`` up to ``min(tau, T)`` the Erlang survival ``e**(-lambda v) sum_{j<k} (lambda v)**j/j!``.
With ``E_lambda[lambda**(kx+j) e**(-lambda z)] = G(R+j)/G(r) alpha**r / (alpha+z)**(R+j)``,
``R = r + kx``, and ``E_mu[e**(-mu z)] = (beta/(beta+z))**s``, ``E_mu[mu e**(-mu z)] =
s beta**s/(beta+z)**(s+1)``::

    L = prod_i t_i**(k-1)/(k-1)!**x  x  G(R)/G(r) alpha**r  x  [ A + B ]
    A = (beta/(beta+T))**s  sum_{j<k} (R)_j u**j / (j! (alpha+T)**(R+j))            alive at T
    B = int_{t_x}^{T} s beta**s/(beta+v)**(s+1)
            sum_{j<k} (R)_j (v-t_x)**j / (j! (alpha+v)**(R+j)) dv                left at v in (t_x, T]

``(R)_j`` is the rising factorial. For ``k = 1``, ``A + B`` is the Pareto/NBD likelihood as an
integral over the moment of leaving (Fader & Hardie 2005, before that integral is written with
the Gaussian hypergeometric function; tested against :mod:`tierwise.models.pareto_nbd`); the
``A`` sum is MBG/CNBD-k's ``S2`` (Reutterer et al. 2021, eq. 6). With the trial share the likelihood is ``(1-q) L + q [x = 0]``. ``B`` is evaluated by
Gauss-Legendre quadrature on panels that grow geometrically away from ``t_x`` (the integrand
falls like a power of ``alpha + v``, fast for frequent buyers); the nodes depend on the data only,
so the analytic gradient is the exact gradient of the computed likelihood.

**Forecasts.** Alive at ``T`` the customer has completed ``j < k`` stages of the running gap with
posterior weight ``v_j`` (the terms of ``A``), then ``lambda ~ Gamma(R+j, alpha+T)``, and the
remaining lifetime has survival ``S(y) = ((beta+T)/(beta+T+y))**s``. With ``m_j(y)`` the
expected purchases in ``y`` while alive (the negative binomial series of
:func:`tierwise.models.cnbd.expected_erlang_purchases` without drop-out) and
``F_j(y)`` the chance of at least one::

    E[N(T, T+t)] = P(alive) sum_j v_j [ S(t) m_j(t) + int_0^t m_j(y) (-S'(y)) dy ]
    P(N > 0)     = P(alive) sum_j v_j [ S(t) F_j(t) + int_0^t F_j(y) (-S'(y)) dy ]

(purchases counted until the lifetime ends, integrated by parts), by Gauss-Legendre over ``y``.

References
----------
.. [1] Platzer, M. and Reutterer, T. (2016). "Ticking away the moments: timing regularity helps
   to better predict customer activity". Marketing Science 35(5) (Pareto/GGG).
.. [2] Reutterer, T., Platzer, M. and Schroeder, N. (2021). "Leveraging purchase regularity for
   predicting customer behavior the easy way". IJRM 38(1), 194-215 (the CNBD-k likelihood).
.. [3] Fader, P. S. and Hardie, B. G. S. (2005). "A note on deriving the Pareto/NBD model and
   related expressions" (the lifetime integral).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betainc, digamma, expit, gammaln

from tierwise.errors import FitError
from tierwise.models._summary import (
    dot,
    fit_compressed,
    record_fit,
    time_divisor,
)
from tierwise.models.cnbd import (
    DEFAULT_MAX_K,
    _RhythmModel,
    expected_erlang_purchases,
    simulate_purchases,
)

PARAM_NAMES = ("r", "alpha", "s", "beta")
PANELS = 13          # panels of the lifetime integral: [0, c], then geometric up to u
PANEL_NODES = 5      # Gauss-Legendre nodes per panel
FORECAST_NODES = 24  # Gauss-Legendre nodes over the forecast horizon
CHUNK = 2_000_000    # matrix elements per block of rows
_GL = np.polynomial.legendre.leggauss(PANEL_NODES)
_GL_FORECAST = np.polynomial.legendre.leggauss(FORECAST_NODES)


@dataclass(frozen=True)
class _Histories:
    """Distinct histories in scaled time, their weights and the lifetime-integral nodes."""

    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    w: np.ndarray
    k: int
    log_u: np.ndarray
    sigma: np.ndarray   # (n, nodes): v - t_x at the quadrature nodes
    log_qw: np.ndarray  # (n, nodes): log quadrature weights (-inf for empty panels)

    @classmethod
    def build(cls, x, t_x, T, w=None, *, k: int = 1) -> _Histories:
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
        u = np.maximum(T - t_x, 0.0)
        # panels [0, c], then geometric up to u; c is below the integrand's own scale, about
        # (alpha + t_x) / (r + kx), taken from the data alone (t_x / (8 (kx + 1)))
        c = u / 2.0 ** 12
        c = np.where(x > 0, np.minimum(c, t_x / (8.0 * (k * x + 1.0))), c)
        c = np.where(c > 0, c, u / 2.0 ** 12)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.where(u > 0, np.log(u / np.where(c > 0, c, 1.0)) / (PANELS - 1), 0.0)
        edges = np.concatenate([np.zeros((len(x), 1)), c[:, None] * np.exp(
            log_ratio[:, None] * np.arange(PANELS)[None, :])], axis=1)
        edges[:, -1] = u
        lo, hi = edges[:, :-1], edges[:, 1:]
        half = 0.5 * (hi - lo)
        nodes, weights = _GL
        sigma = (lo + half)[:, :, None] + half[:, :, None] * nodes[None, None, :]
        qw = half[:, :, None] * weights[None, None, :]
        with np.errstate(divide="ignore"):
            log_qw = np.log(qw.reshape(len(x), -1))
        return cls(x, t_x, T, w, int(k), np.log(np.maximum(u, 1e-250)),
                   sigma.reshape(len(x), -1), log_qw)


def _blocks(n: int, per_row: int):
    step = max(1, CHUNK // max(per_row, 1))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def _horner(coefs: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``sum_j coefs[:, j] rho**j`` per row and node; ``coefs`` is ``(n, k)``, ``rho`` ``(n, m)``."""
    out = np.repeat(coefs[:, -1:], rho.shape[1], axis=1)
    for col in range(coefs.shape[1] - 2, -1, -1):
        out *= rho
        out += coefs[:, col:col + 1]
    return out


def _row_terms(theta, h: _Histories, grad: bool = True):
    """Per row: ``log(G(R)/G(r) alpha**r (A + B))``, the share of ``A``, the stage weights
    ``v`` of ``A`` and (with ``grad``) the ``(n, 4)`` gradient in ``(r, alpha, s, beta)``."""
    r, alpha, s, beta = theta
    k, x = h.k, h.x
    R = r + k * x
    j = np.arange(k, dtype=float)
    # log (R)_j and d/dr log (R)_j, j = 0..k-1
    steps = np.log(R[:, None] + j[None, :-1])
    log_poch = np.concatenate([np.zeros((len(x), 1)), np.cumsum(steps, axis=1)], axis=1)
    d_poch = np.concatenate([np.zeros((len(x), 1)), np.cumsum(
        1.0 / (R[:, None] + j[None, :-1]), axis=1)], axis=1)
    coef = log_poch - gammaln(j + 1.0)                          # (n, k)
    head = gammaln(R) - gammaln(r) + r * np.log(alpha)
    log_aT, log_bT = np.log(alpha + h.T), np.log(beta + h.T)
    # A: alive at T
    with np.errstate(invalid="ignore"):
        ju = np.where(j[None, :] > 0, j[None, :] * h.log_u[:, None], 0.0)
    log_a_terms = (s * (np.log(beta) - log_bT) - R * log_aT)[:, None] + coef + ju \
        - j[None, :] * log_aT[:, None]
    top_a = log_a_terms.max(axis=1)
    e_a = np.exp(log_a_terms - top_a[:, None])
    log_A = top_a + np.log(e_a.sum(axis=1))
    v = e_a / e_a.sum(axis=1, keepdims=True)
    # B: left at v in (t_x, T]. At each node the sum over j is a polynomial in
    # rho = (v - t_x)/(alpha + v) with coefficients (R)_j / j! (at most k terms, rho <= 1)
    n = len(x)
    log_B = np.empty(n)
    g_B = np.zeros((n, 4))
    a_j = np.exp(coef)                                           # (n, k)
    for blk in _blocks(n, h.sigma.shape[1]):
        sig = h.sigma[blk]
        tau = h.tx[blk, None] + sig
        log_at, log_bt = np.log(alpha + tau), np.log(beta + tau)
        rho = sig / (alpha + tau)
        poly = _horner(a_j[blk], rho)
        log_g = (math.log(s) + s * math.log(beta) - (s + 1.0) * log_bt + h.log_qw[blk]
                 - R[blk, None] * log_at + np.log(poly))
        top = log_g.max(axis=1)
        safe_top = np.where(np.isfinite(top), top, 0.0)
        e = np.exp(log_g - safe_top[:, None])
        tot = e.sum(axis=1)
        with np.errstate(divide="ignore"):
            log_B[blk] = np.where(tot > 0, safe_top + np.log(tot), -np.inf)
        if grad:
            wn = e / np.where(tot > 0, tot, 1.0)[:, None]          # node weights
            share = wn.sum(axis=1)
            wp = wn / poly
            by_r = _horner(a_j[blk] * d_poch[blk], rho)
            by_j = _horner(a_j[blk] * j[None, :], rho)
            inv_at = 1.0 / (alpha + tau)
            g_B[blk, 0] = np.einsum("bi,bi->b", wp, by_r) - np.einsum("bi,bi->b", wn, log_at)
            g_B[blk, 1] = -(R[blk] * np.einsum("bi,bi->b", wn, inv_at)
                            + np.einsum("bi,bi->b", wp * by_j, inv_at))
            g_B[blk, 2] = (1.0 / s + math.log(beta)) * share - np.einsum("bi,bi->b", wn, log_bt)
            g_B[blk, 3] = s / beta * share - (s + 1.0) * np.einsum(
                "bi,bi->b", wn, 1.0 / (beta + tau))
    both = np.logaddexp(log_A, log_B)
    pa = np.exp(log_A - both)
    ll = head + both
    if not grad:
        return ll, pa, v, None
    pb = 1.0 - pa
    g = np.empty((n, 4))
    g[:, 0] = digamma(R) - digamma(r) + math.log(alpha) + pa * (
        -log_aT + np.einsum("ij,ij->i", v, d_poch)) + pb * g_B[:, 0]
    g[:, 1] = r / alpha - pa * (v @ j + R) / (alpha + h.T) + pb * g_B[:, 1]
    g[:, 2] = pa * (math.log(beta) - log_bT) + pb * g_B[:, 2]
    g[:, 3] = pa * (s / beta - s / (beta + h.T)) + pb * g_B[:, 3]
    return ll, pa, v, g


def _with_trial(ll, g, q, x):
    """Mix in a share ``q`` of trial-only customers: ``(1-q) L + q [x = 0]`` per row."""
    one_time = x == 0
    log_keep = math.log1p(-q)
    mixed = np.where(one_time, np.logaddexp(log_keep + ll, math.log(q)), log_keep + ll)
    share = np.exp(log_keep + ll - mixed)         # of the rhythm part
    out = None
    if g is not None:
        out = np.empty((len(x), g.shape[1] + 1))
        out[:, :-1] = g * share[:, None]
        out[:, -1] = -1.0 / (1.0 - q)
        # d/dq log((1-q) L + q) = (1 - L) / ((1-q) L + q); the mixture is at least q
        out[one_time, -1] = np.exp(-mixed[one_time]) - np.exp(ll[one_time] - mixed[one_time])
    return mixed, share, out


def _theta_from(v: np.ndarray, trial: bool) -> tuple[np.ndarray, np.ndarray]:
    """Parameters and d theta / d v: log scale for the rates and shapes, logit for ``q``."""
    theta = np.exp(v)
    jac = theta.copy()
    if trial:
        q = expit(v[-1])
        theta[-1], jac[-1] = q, q * (1.0 - q)
    return theta, jac


def _ll_grad(theta, h: _Histories, trial: bool):
    ll, _, _, g = _row_terms(theta[:4], h)
    if trial:
        ll, _, g = _with_trial(ll, g, theta[4], h.x)
    return dot(h.w, ll), h.w @ g


def _objective(v, h, n_total, penalizer, trial):
    theta, jac = _theta_from(v, trial)
    ll, grad = _ll_grad(theta, h, trial)
    rates = theta[:4]
    f = -ll / n_total + penalizer * np.sum(rates ** 2)
    g = -jac * grad / n_total
    g[:4] += 2.0 * penalizer * rates ** 2
    if not np.isfinite(f):
        return np.inf, np.zeros_like(g)
    return f, g


def pareto_cnbd_log_likelihood(params, k: int, x, t_x, T, litt, trial: bool = False):
    """Per-customer Pareto/CNBD-k log-likelihood; times and ``litt`` in the unit of ``alpha``."""
    x, t_x, T, litt = (np.asarray(v, dtype=float) for v in (x, t_x, T, litt))
    theta = np.asarray([params[n] for n in PARAM_NAMES], dtype=float)
    ll, _, _, _ = _row_terms(theta, _Histories.build(x, t_x, T, k=k), grad=False)
    if trial:
        ll, _, _ = _with_trial(ll, None, params["q"], x)
    return ll + (k - 1) * litt - x * math.lgamma(k)


class ParetoCNBD(_RhythmModel):
    """Pareto/CNBD-k: Erlang-k gaps, an exponential lifetime (leaving at a moment in time).

    Parameters
    ----------
    penalizer, time_unit
        As :class:`~tierwise.models.ParetoNBD`.
    k
        Fix the regularity (1 = Pareto/NBD); ``None`` chooses it by likelihood over ``1..max_k``,
        stopping once the likelihood has fallen for two consecutive ``k`` (as MBG/CNBD-k).
    max_k
        Largest ``k`` tried.

    Attributes
    ----------
    params_ : dict
        ``k``, ``r``, ``alpha`` (stage rate scale in ``time_unit``), ``s``, ``beta`` (lifetime
        rate scale in ``time_unit``) and, for :class:`ParetoCNBDTrial`, ``q``.
    standard_errors_, log_likelihood_, log_likelihood_by_k_, n_customers_, converged_
        As :class:`~tierwise.models.MBGCNBD` (``log_likelihood_`` includes the ``litt`` term).
    """

    name = "pcnbd"
    label = "Pareto/CNBD-k"
    trial = False
    param_names = ("k", *PARAM_NAMES)

    def __init__(self, penalizer: float = 0.0, time_unit: str = "days", k: int | None = None,
                 max_k: int = DEFAULT_MAX_K) -> None:
        super().__init__(penalizer=penalizer, time_unit=time_unit, k=k, max_k=max_k)

    def _names(self) -> tuple[str, ...]:
        return PARAM_NAMES + (("q",) if self.trial else ())

    def fit(self, summary: pd.DataFrame):
        """Fit on ``frequency``, ``recency``, ``T`` (days) and, to choose ``k > 1``, ``litt``."""
        x, ks, comp, cols, unit_scale, k_term = self._inputs(summary)
        n_par = 5 if self.trial else 4
        best, by_k, x0, falls = None, {}, np.zeros(n_par), 0
        for k in ks:
            fit, hist = self._fit_one(comp, cols, k, x0)
            ll_rest, _ = _ll_grad(_theta_from(fit.log_params, self.trial)[0], hist, self.trial)
            ll = ll_rest + k_term(k)
            by_k[k] = float(ll)
            if best is None or ll > best[0]:
                best, falls = (ll, k, fit), 0
            else:
                falls += 1
                if falls >= 2 and self.k is None:
                    break
            x0 = fit.log_params.copy()
            x0[1] += np.log((k + 1.0) / k)
        ll, k, fit = best
        theta, jac = _theta_from(fit.log_params, self.trial)
        to_unit = np.array([1.0, unit_scale, 1.0, unit_scale, 1.0][:n_par])
        record_fit(self, self._names(), theta * to_unit, fit, x=x, n=float(len(x)),
                   n_distinct=comp.n_rows, log_likelihood=ll)
        if self.trial:  # the delta method on the logit scale: se(q) = q (1-q) sd(logit q)
            self.standard_errors_["q"] = float(jac[-1] * np.sqrt(fit.cov_log[-1, -1]))
        self.params_ = {"k": float(k), **self.params_}
        self.standard_errors_ = {"k": 0.0, **self.standard_errors_}
        self.at_bounds_ = {"k": False, **self.at_bounds_}
        self.k_ = int(k)
        self.log_likelihood_by_k_ = by_k
        return self

    def _fit_one(self, comp, cols, k, x0):
        trial = self.trial

        def objective(v, h, n_total, penalizer):
            return _objective(v, h, n_total, penalizer, trial)

        def build(c, w):
            return _Histories.build(*c, w, k=k)

        try:
            return fit_compressed(build, objective, comp, cols, self.penalizer, x0,
                                  f"{self.label} (k={k})")
        except FitError:
            if not np.any(x0):
                raise
            return fit_compressed(build, objective, comp, cols, self.penalizer,
                                  np.zeros_like(x0), f"{self.label} (k={k})")

    # ---------------------------------------------------------------------- predictions
    def _theta(self):
        self._check_fitted()
        return tuple(self.params_[n] for n in PARAM_NAMES)

    def _alive_terms(self, x, t_x, T):
        h = _Histories.build(x, t_x, T, k=self._fitted_k())
        ll, pa, v, _ = _row_terms(np.asarray(self._theta()), h, grad=False)
        if self.trial:
            _, share, _ = _with_trial(ll, None, self.params_["q"], x)
            pa = pa * share
        return pa, v

    def _forecast(self, x, t_x, T, t, what: str):
        if t == 0:
            return np.zeros_like(x, dtype=float)
        r, alpha, s, beta = self._theta()
        k = self._fitted_k()
        p_alive, v = self._alive_terms(x, t_x, T)
        nodes, weights = _GL_FORECAST
        ys = 0.5 * t * (nodes + 1.0)
        log_bT = np.log(beta + T)
        # -S'(y) dy weights, and S(t)
        dens = [0.5 * t * wq * s * np.exp(s * log_bT - (s + 1.0) * np.log(beta + T + y))
                for y, wq in zip(ys, weights)]
        surv_t = np.exp(s * (log_bT - np.log(beta + T + t)))
        R = r + k * x
        total = np.zeros(len(x))
        for j in range(k):
            def inner(y, j=j):
                z = y / (alpha + T + y)
                if what == "prob":
                    return betainc(k - j, R + j, z)
                return expected_erlang_purchases(R + j, z, k, j, 0.0, np.ones_like(x))
            part = surv_t * inner(t)
            for y, d in zip(ys, dens):
                part = part + d * inner(y)
            total += v[:, j] * part
        return p_alive * total

    def _expected_arrays(self, x, t_x, T, t):
        return self._forecast(x, t_x, T, t, "expected")

    def _prob_arrays(self, x, t_x, T, t):
        return self._forecast(x, t_x, T, t, "prob")


class ParetoCNBDTrial(ParetoCNBD):
    """Pareto/CNBD-k with a share ``q`` of trial-only customers, gone after the first purchase.

    The counterpart of MBG/CNBD-k's drop-out at the first purchase, for a model whose customers
    otherwise leave at a moment in time. ``params_`` adds ``q``.
    """

    name = "pcnbdq"
    label = "Pareto/CNBD-k with trial share"
    trial = True
    param_names = ("k", *PARAM_NAMES, "q")


def simulate_pareto_cnbd(params: dict, T_days, seed: int = 0, time_unit: str = "days",
                         integer_days: bool = True, holdout_days: float = 0.0) -> pd.DataFrame:
    """Simulate Pareto/CNBD-k summaries in days: ``params`` has ``k``, ``r``, ``alpha``, ``s``,
    ``beta`` and optionally ``q`` (trial-only share).

    Each customer buys at time 0, is trial-only with chance ``q``, else waits Erlang-k gaps
    (stage rate ``lambda ~ Gamma(r, alpha)``) until its exponential lifetime (rate
    ``mu ~ Gamma(s, beta)``) ends. Columns as :func:`tierwise.models.cnbd.simulate_cnbd`.
    """
    rng = np.random.default_rng(seed)
    T_days = np.asarray(T_days, dtype=float)
    n, k = len(T_days), int(params.get("k", 1))
    div = time_divisor(time_unit)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n) / div
    mu = rng.gamma(params["s"], 1.0 / params["beta"], n) / div
    lifetime = rng.exponential(1.0, n) / mu
    active = np.flatnonzero((lam > 0) & (rng.random(n) >= params.get("q", 0.0)))
    return simulate_purchases(T_days, lam, np.zeros(n), active,
                              lambda size: rng.gamma(k, 1.0, size), rng,
                              integer_days=integer_days, holdout_days=holdout_days,
                              lifetime=lifetime)

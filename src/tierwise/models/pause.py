"""MBG/CNBD-k with pauses: a rhythm that now and then stops for a while and then resumes.

The CNBD-k models (:mod:`tierwise.models.cnbd`) give every gap between purchases the same
Erlang-k shape: a clock. Real diners and shoppers keep a rhythm but now and then take a break (a
holiday, an illness, a busy month) and come back. To an Erlang clock a silence of three usual gaps
is almost certain churn; to a Poisson model it is noise. This model expects such breaks:

* a living customer's gap is ``Gamma(k, lambda)`` (``k`` stages at rate ``lambda ~ Gamma(r, alpha)``;
  ``k`` need not be an integer) with probability ``1 - pi``, and with probability ``pi`` a gap with
  a *pause* on top: ``Gamma(k + s, lambda)``, so a pause lasts ``s / k`` usual gaps on average and
  scales with the customer's own rhythm;
* the drop-out of MBG/CNBD-k is kept: after every purchase (the first included) the customer
  leaves with probability ``p ~ Beta(a, b)``.

Parameters ``r, alpha, a, b, k, pi, s``, estimated in two steps by maximum likelihood over all
customers: ``k, pi, s`` from the ratio ``M = t1 / (t1 + t2)`` of each customer's last two gaps
(``gap_prev``, ``gap_last``), which is a mixture of four beta distributions whatever the rate (Wheat
& Morrison's argument with pauses); then ``r, alpha, a, b`` from the summaries with those fixed.
The standard errors of the second step are conditional on the first (they leave out its
uncertainty).

**Likelihood on the summaries.** Which of a customer's past gaps held a pause is not observed,
and the features keep ``(x, t_x, T)`` (not every gap), so the model is fitted on the likelihood of
the summary itself. Given ``lambda`` and ``n`` of the ``x`` completed gaps holding a pause, the
time of the ``x``-th repeat purchase is ``Gamma(c_n, lambda)`` with ``c_n = k x + s n``, and
``n ~ Binomial(x, pi)``. Integrating ``lambda`` over its gamma mixing distribution::

    L = B(a, b+x+m)/B(a, b) sum_n Bin(n; x, pi) E_n [ a/(b+x-1+m) + P_n(alive, silent) ]
    E_n = t_x**(c_n-1)/G(c_n) G(r+c_n)/G(r) alpha**r / (alpha+t_x)**(r+c_n)
    P_n(alive, silent) = (1-pi) I(R_n, k) + pi I(R_n, k+s),   R_n = r + c_n,
                         I(R, c) = betainc(R, c, (alpha+t_x)/(alpha+T))

(``m = 1``: a one-time buyer can be gone; for ``x = 0``, ``E_0 = 1``). ``I(R, c)`` is the chance
that a gap ``Gamma(c, lambda)`` outlasts the silence ``T - t_x`` when ``lambda ~ Gamma(R,
alpha+t_x)`` (``X / (X + Y)`` with ``X ~ Gamma(c)``, ``Y ~ Gamma(R)`` is ``Beta(c, R)``). For a
fixed ``k`` and ``pi = 0`` it is MBG/CNBD-k's likelihood up to a factor of the data alone (the
summary likelihood uses the density of ``t_x``, the full one the density of every gap), so the
two give the same ``r, alpha, a, b``; the log-likelihood is that of the summary and is not
comparable with the other models' figures. The sum over ``n`` is cut where the binomial tail is
negligible (``x pi`` plus 7 standard deviations plus 3).

**Predictions.** ``P(alive)`` is the share of the alive terms. Given alive, the posterior of
``(n, pause in the open gap, lambda)`` is known; expected purchases and the purchase probability
over a horizon have no closed form, so they are the average over ``draws`` seeded posterior
draws per distinct history (importance sampling: ``lambda`` from its gamma posterior of component
``n`` weighted by the chance the open gap outlasts the silence, the open gap's end drawn from its
truncated gamma, then the future gaps and drop-outs simulated). The same seed gives the same
forecasts; the Monte Carlo error of a forecast is about ``1 / sqrt(draws)`` of it relative.

Both steps use central-difference gradients; the standard errors come from the numerical Hessian
of each step's log-likelihood (delta method from the log / logit parameters).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betainc, betaln, expit, gammaincc, gammainccinv, gammaln, logit

from tierwise.errors import DataContractError, FitError
from tierwise.models._summary import (
    FittedModelMixin,
    compress,
    per_distinct,
    purchase_summary,
    time_divisor,
)
from tierwise.models.cnbd import simulate_purchases

PARAM_NAMES = ("r", "alpha", "a", "b", "k", "pi", "s")
DEFAULT_DRAWS = 500
MIN_GAP_CUSTOMERS = 30


def _to_theta(v: np.ndarray) -> np.ndarray:
    theta = np.exp(np.clip(v, -30.0, 30.0))
    theta[5] = expit(v[5])
    return theta


def _from_theta(theta: np.ndarray) -> np.ndarray:
    v = np.log(np.asarray(theta, dtype=float))
    v[5] = logit(theta[5])
    return v


def _components(theta, x, t_x, T, modified: bool = True):
    """Per row and pause count ``n``: the log of the drop-out and alive terms.

    Returns ``(head, log_drop, log_alive_normal, log_alive_pause, n, valid)`` where the
    likelihood of a row is ``exp(head) sum_n (drop + alive_normal + alive_pause)``.
    """
    r, alpha, a, b, k, pi, s = theta
    m = 1.0 if modified else 0.0
    x = np.asarray(x, dtype=float)
    mean = x * pi
    n_hi = np.minimum(x, np.ceil(mean + 7.0 * np.sqrt(mean * (1.0 - pi)) + 3.0))
    n = np.arange(int(n_hi.max()) + 1, dtype=float)[None, :]
    valid = n <= n_hi[:, None]
    xx, tx = x[:, None], t_x[:, None]
    c = k * xx + s * n
    with np.errstate(divide="ignore", invalid="ignore"):
        log_bin = (gammaln(xx + 1.0) - gammaln(n + 1.0) - gammaln(np.maximum(xx - n, 0.0) + 1.0)
                   + n * math.log(pi) + (xx - n) * math.log1p(-pi))
        log_e = np.where(xx > 0, (c - 1.0) * np.log(np.where(xx > 0, tx, 1.0)) - gammaln(c)
                         + gammaln(r + c) - gammaln(r) + r * math.log(alpha)
                         - (r + c) * np.log(alpha + tx), 0.0)
    base = np.where(valid, log_bin + log_e, -np.inf)
    head = betaln(a, b + x + m) - betaln(a, b)
    can_drop = (x > 0) | bool(modified)
    log_d = np.where(can_drop, math.log(a) - np.log(np.where(can_drop, b + x - 1.0 + m, 1.0)),
                     -np.inf)
    # the chance the open gap outlasts the silence, only where it matters (valid n, u > 0)
    R = (r + c)[valid]
    zed = ((alpha + tx) / (alpha + T[:, None]) * np.ones_like(c))[valid]
    live = zed < 1.0
    in_n, in_p = np.ones_like(R), np.ones_like(R)
    in_n[live] = betainc(R[live], k, zed[live])
    in_p[live] = betainc(R[live], k + s, zed[live])
    log_an, log_ap = np.full(c.shape, -np.inf), np.full(c.shape, -np.inf)
    with np.errstate(divide="ignore"):
        log_an[valid] = base[valid] + np.log(in_n) + math.log1p(-pi)
        log_ap[valid] = base[valid] + np.log(in_p) + math.log(pi)
    return head, base + log_d[:, None], log_an, log_ap, n, valid


def _row_ll(theta, x, t_x, T, modified=True):
    head, ld, lan, lap, _, _ = _components(theta, x, t_x, T, modified)
    both = np.logaddexp(np.logaddexp(ld, lan), lap)
    top = both.max(axis=1)
    return head + top + np.log(np.exp(both - top[:, None]).sum(axis=1))


def pause_log_likelihood(params: dict, x, t_x, T, modified: bool = True) -> np.ndarray:
    """Per-customer summary log-likelihood; times in the unit of ``alpha``."""
    theta = np.asarray([params[n] for n in PARAM_NAMES], dtype=float)
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    return _row_ll(theta, x, t_x, T, modified)


class MBGCNBDPause(FittedModelMixin):
    """MBG/CNBD-k with pauses: gamma-k gaps, occasionally a longer pause, MBG drop-out.

    Parameters
    ----------
    penalizer, time_unit
        As :class:`~tierwise.models.BetaGeo` (``penalizer`` adds ``penalizer * sum(theta**2)``
        over ``r, alpha, a, b`` to the mean negative log-likelihood).
    draws
        Posterior draws per distinct history for expected purchases and purchase probability.
    seed
        Seed of those draws (the same seed gives the same forecasts).

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha`` (in ``time_unit``), ``a``, ``b``, ``k`` (gamma shape of a usual gap),
        ``pi`` (chance a gap holds a pause), ``s`` (a pause's extra shape: ``s / k`` usual gaps).
    standard_errors_, log_likelihood_, n_customers_, converged_
        As the other purchase models; ``log_likelihood_`` is that of the summaries (see the
        module notes), not comparable with the other models' likelihoods.
    """

    name = "mbgcnbd_pause"
    label = "MBG/CNBD-k with pauses"
    param_names = PARAM_NAMES
    modified = True

    def __init__(self, penalizer: float = 0.0, time_unit: str = "days",
                 draws: int = DEFAULT_DRAWS, seed: int = 0) -> None:
        self.penalizer = penalizer
        self.time_unit = time_unit
        self.draws = draws
        self.seed = seed

    # ------------------------------------------------------------------------ fitting
    def fit(self, summary: pd.DataFrame):
        """Fit on ``frequency``, ``recency``, ``T`` (days) and ``gap_prev``, ``gap_last``.

        Two steps (see the module notes): ``k``, ``pi``, ``s`` from the ratio of each customer's
        last two gaps, then ``r``, ``alpha``, ``a``, ``b`` from the summaries with those fixed.
        """
        x, rec, T = purchase_summary(summary, self.label)
        shape, shape_cov, n_ratio = _fit_gap_shape(summary, self.label)
        div = time_divisor(self.time_unit)
        scale = float(T.max())
        comp = compress(x, rec, T)
        cx, ctx, cT = comp.columns[0], comp.columns[1] / scale, comp.columns[2] / scale
        w = comp.weights
        n_total = float(w.sum())
        unit_scale = scale / div
        pen = self.penalizer

        def objective(v):
            theta = np.concatenate([np.exp(np.clip(v, -30.0, 30.0)), shape])
            ll = _row_ll(theta, cx, ctx, cT, self.modified)
            f = -float(np.dot(w, ll)) / n_total + pen * float(np.sum(theta[:4] ** 2))
            return f if np.isfinite(f) else 1e10

        mean_gap = float(np.sum(ctx * w) / max(np.sum(cx * w), 1.0))
        x0 = np.array([0.0, math.log(shape[0] * mean_gap), 0.0, 0.0])
        if objective(x0) >= 1e10:
            raise FitError(f"{self.label}: the log-likelihood is not finite at the start",
                           "check the summary for extreme values")
        res = minimize(objective, x0, method="L-BFGS-B", jac="3-point",
                       bounds=[(-15.0, 15.0)] * 4,
                       options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8})
        v = np.asarray(res.x, dtype=float)
        f = objective(v)
        if f >= 1e10:
            raise FitError(f"{self.label} did not converge ({res.message})",
                           "try a penalizer, or the MBG/CNBD-k model")
        cov = _inverse_or_nan(_hessian(objective, v) * n_total)
        theta4 = np.exp(v)
        unit = np.array([1.0, unit_scale, 1.0, 1.0])
        se4 = theta4 * np.sqrt(np.diag(cov)) * unit
        self.params_ = dict(zip(PARAM_NAMES, map(float, np.concatenate([theta4 * unit, shape]))))
        self.standard_errors_ = dict(zip(PARAM_NAMES, map(float, np.concatenate(
            [se4, np.sqrt(np.diag(shape_cov))]))))
        n_repeat = float(np.sum(w[cx > 0]))
        self.log_likelihood_ = float(-f * n_total - n_repeat * math.log(unit_scale)
                                     + pen * n_total * float(np.sum(theta4 ** 2)))
        self.n_customers_ = int(n_total)
        self.mean_log_likelihood_ = self.log_likelihood_ / n_total
        self.n_distinct_ = comp.n_rows
        self.n_repeat_buyers_ = int(n_repeat)
        self.n_gap_ratios_ = n_ratio
        self.converged_ = bool(res.success) and bool(np.all(np.isfinite(cov)))
        self.at_bounds_ = {n: bool(abs(val) >= 15.0 - 1e-3) for n, val in zip(PARAM_NAMES, v)}
        self.n_iter_ = int(res.nit)
        return self

    # ---------------------------------------------------------------------- predictions
    def _theta(self) -> np.ndarray:
        self._check_fitted()
        return np.array([self.params_[n] for n in PARAM_NAMES], dtype=float)

    def _p_alive(self, x, t_x, T):
        head, ld, lan, lap, _, _ = _components(self._theta(), x, t_x, T, self.modified)
        alive = np.logaddexp(lan, lap)
        top = np.maximum(ld.max(axis=1), alive.max(axis=1))
        s_alive = np.exp(alive - top[:, None]).sum(axis=1)
        s_drop = np.exp(ld - top[:, None]).sum(axis=1)
        return s_alive / (s_alive + s_drop)

    def p_alive(self, df: pd.DataFrame) -> pd.Series:
        """P(alive at T | x, t_x, T) per customer."""
        return per_distinct(df, self._unit_arrays(df), self._p_alive, "p_alive")

    def _forecast(self, x, t_x, T, t):
        """Per row: ``(expected purchases, purchase probability)`` in ``(T, T + t]``."""
        n_rows = len(x)
        if t == 0 or n_rows == 0:
            return np.zeros(n_rows), np.zeros(n_rows)
        theta = self._theta()
        r, alpha, a, b, k, pi, s = theta
        _, ld, lan, lap, n, _ = _components(theta, x, t_x, T, self.modified)
        alive_terms = np.concatenate([lan, lap], axis=1)        # columns: (normal | pause) x n
        top = np.maximum(alive_terms.max(axis=1), ld.max(axis=1))
        wa = np.exp(alive_terms - top[:, None])
        p_alive = wa.sum(axis=1) / (wa.sum(axis=1) + np.exp(ld - top[:, None]).sum(axis=1))
        wa = wa / wa.sum(axis=1, keepdims=True)
        rng = np.random.default_rng(self.seed)
        D = int(self.draws)
        width = n.shape[1]
        # draw the component (n, pause in the open gap) per row and draw
        cum = np.cumsum(wa, axis=1)
        pick = (rng.random((n_rows, D))[:, :, None] > cum[:, None, :-1]).sum(axis=2)
        pause_open = pick >= width
        n_past = (pick % width).astype(float)
        shape = r + k * x[:, None] + s * n_past
        lam = rng.gamma(shape, 1.0) / (alpha + t_x[:, None])
        c_open = np.where(pause_open, k + s, k)
        u = np.maximum(T - t_x, 0.0)[:, None]
        surv_u = gammaincc(c_open, lam * u)                     # importance weight
        # the open gap's end, drawn from Gamma(c_open, lam) given it exceeds u
        q = rng.random((n_rows, D)) * surv_u
        gap_end = gammainccinv(c_open, np.maximum(q, 1e-300)) / lam
        wait = np.maximum(gap_end - u, 0.0)
        weight = np.where(np.isfinite(wait), surv_u, 0.0)
        weight = weight / np.maximum(weight.sum(axis=1, keepdims=True), 1e-300)
        prob = np.einsum("ij,ij->i", weight, 1.0 - gammaincc(c_open, lam * (u + t)) / np.where(
            surv_u > 0, surv_u, 1.0))
        p_drop = rng.beta(a, b + x[:, None] + (1.0 if self.modified else 0.0), (n_rows, D))
        count = np.zeros((n_rows, D))
        when = np.where(np.isfinite(wait), wait, np.inf)
        live = when <= t
        while live.any():
            count += live
            live &= rng.random((n_rows, D)) >= p_drop
            gap_shape = np.where(rng.random((n_rows, D)) < pi, k + s, k)
            when = np.where(live, when + rng.gamma(gap_shape) / lam, np.inf)
            live &= when <= t
        expected = np.einsum("ij,ij->i", weight, count)
        return p_alive * expected, p_alive * np.clip(prob, 0.0, 1.0)

    def _chunked(self, x, t_x, T, t, which: int):
        out = np.empty(len(x))
        step = max(1, 2_000_000 // max(int(self.draws), 1))
        for i in range(0, len(x), step):
            sl = slice(i, i + step)
            out[sl] = self._forecast(x[sl], t_x[sl], T[sl], t)[which]
        return out

    def expected_purchases(self, df: pd.DataFrame, horizon_days: float) -> pd.Series:
        """Conditional expected number of purchases in the next ``horizon_days``."""
        t = self._horizon(horizon_days)
        return per_distinct(df, self._unit_arrays(df),
                            lambda x, tx, T: self._chunked(x, tx, T, t, 0), "expected_purchases")

    def purchase_probability(self, df: pd.DataFrame, horizon_days: float) -> pd.Series:
        """P(at least one purchase in the next ``horizon_days``) per customer."""
        t = self._horizon(horizon_days)
        return per_distinct(df, self._unit_arrays(df),
                            lambda x, tx, T: self._chunked(x, tx, T, t, 1), "purchase_probability")


def _hessian(f, v, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of a scalar function."""
    d = len(v)
    h = np.empty((d, d))
    f0 = f(v)
    for i in range(d):
        for j in range(i, d):
            ei, ej = np.zeros(d), np.zeros(d)
            ei[i], ej[j] = step, step
            if i == j:
                h[i, i] = (f(v + ei) - 2.0 * f0 + f(v - ei)) / step ** 2
            else:
                h[i, j] = h[j, i] = (f(v + ei + ej) - f(v + ei - ej) - f(v - ei + ej)
                                     + f(v - ei - ej)) / (4.0 * step ** 2)
    return h


def _gap_ratio_ll(v, ratio):
    """Per customer: log density of ``M = t1 / (t1 + t2)`` under the gap mixture."""
    k, pi, sx = math.exp(v[0]), expit(v[1]), math.exp(v[2])
    lm, l1m = np.log(ratio), np.log1p(-ratio)
    terms = []
    for c1, c2, wt in ((k, k, (1 - pi) ** 2), (k + sx, k, pi * (1 - pi)),
                       (k, k + sx, pi * (1 - pi)), (k + sx, k + sx, pi ** 2)):
        terms.append(math.log(wt) + (c1 - 1.0) * lm + (c2 - 1.0) * l1m - betaln(c1, c2))
    return np.logaddexp.reduce(np.stack(terms), axis=0)


def _fit_gap_shape(summary: pd.DataFrame, label: str):
    """``(k, pi, s)``, their covariance and the number of customers, from the last two gaps.

    Given the customer's rate, a usual gap is ``Gamma(k)`` and one with a pause
    ``Gamma(k + s)``, so ``M = t1 / (t1 + t2)`` of two gaps is a four-part mixture of beta
    distributions whatever the rate (Wheat & Morrison's argument, with pauses).
    """
    missing = [c for c in ("gap_prev", "gap_last") if c not in summary.columns]
    if missing:
        raise DataContractError(f"{label} needs column(s) {missing} (the last two gaps in "
                                f"days); the summary has {list(summary.columns)}",
                                "pass the summary from tierwise.features")
    t1 = pd.to_numeric(summary["gap_prev"], errors="coerce").to_numpy(dtype=float)
    t2 = pd.to_numeric(summary["gap_last"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(t1) & np.isfinite(t2) & (t1 > 0) & (t2 > 0)
    n = int(ok.sum())
    if n < MIN_GAP_CUSTOMERS:
        raise FitError(f"{label} needs at least {MIN_GAP_CUSTOMERS} customers with three or more "
                       f"purchase days to learn the rhythm and its pauses; there are {n}",
                       "use MBG/CNBD-k or a longer observation period")
    ratio = t1[ok] / (t1[ok] + t2[ok])

    def objective(v):
        f = -float(np.mean(_gap_ratio_ll(v, ratio)))
        return f if np.isfinite(f) else 1e10

    best = None
    for pi0 in (0.02, 0.1):
        res = minimize(objective, np.array([math.log(2.0), logit(pi0), math.log(6.0)]),
                       method="L-BFGS-B", jac="3-point", bounds=[(-8.0, 8.0)] * 3,
                       options={"maxiter": 1000, "ftol": 1e-14, "gtol": 1e-9})
        if best is None or res.fun < best.fun:
            best = res
    v = np.asarray(best.x, dtype=float)
    shape = np.array([math.exp(v[0]), expit(v[1]), math.exp(v[2])])
    jac = np.diag([shape[0], shape[1] * (1.0 - shape[1]), shape[2]])
    cov = jac @ _inverse_or_nan(_hessian(objective, v) * n) @ jac
    return shape, cov, n


def _inverse_or_nan(hess: np.ndarray) -> np.ndarray:
    try:
        np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        return np.full(hess.shape, np.nan)
    return np.linalg.inv(hess)


def simulate_pause(params: dict, T_days, seed: int = 0, time_unit: str = "days",
                   modified: bool = True, integer_days: bool = True,
                   holdout_days: float = 0.0) -> pd.DataFrame:
    """Simulate MBG/CNBD-k-with-pauses summaries in days (``params``: see :class:`MBGCNBDPause`).

    Each customer first buys at time 0; each gap is ``Gamma(k, lambda)``, or ``Gamma(k + s,
    lambda)`` with probability ``pi``, ``lambda ~ Gamma(r, alpha)`` (``alpha`` in ``time_unit``);
    after each purchase (also the first when ``modified``) the customer leaves with probability
    ``p ~ Beta(a, b)``. With ``integer_days`` times are floored to whole days and purchases of
    a day collapse into one. Returns ``frequency``, ``recency``, ``T``, ``litt``, ``gap_last``,
    ``gap_prev`` (as :func:`~tierwise.models.cnbd.simulate_cnbd`) and, with
    ``holdout_days``, ``purchases_holdout`` (purchase days in ``(T, T + holdout_days]``).
    """
    rng = np.random.default_rng(seed)
    T_days = np.asarray(T_days, dtype=float)
    n = len(T_days)
    k, pi, s = params["k"], params["pi"], params["s"]
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n) / time_divisor(time_unit)
    p = rng.beta(params["a"], params["b"], n)
    active = np.arange(n)
    if modified:
        active = active[rng.random(n) >= p]

    def gaps(size: int) -> np.ndarray:
        return rng.gamma(np.where(rng.random(size) < pi, k + s, k), 1.0)

    return simulate_purchases(T_days, lam, p, active, gaps, rng, integer_days=integer_days,
                              holdout_days=holdout_days)


__all__ = ["MBGCNBDPause", "pause_log_likelihood", "simulate_pause"]

"""MBG/CNBD-k with each customer's own regularity: a latent class ``k`` per customer.

MBG/CNBD-k (:mod:`tierwise.models.cnbd`) gives every customer the same regularity ``k``. Real
customers differ: one diner comes back like a clock, another more loosely. Here each customer has
their own ``k`` from ``1..max_k``, drawn from a population distribution with free weights
``w_1..w_K`` (a finite mixture, so no shape is imposed on it), and an individual mean gap that
does not depend on ``k``: the stage rate is ``k nu`` with ``nu ~ Gamma(r, alpha)``, i.e. class
``k`` is MBG/CNBD-k with ``alpha / k``, so ``1 / nu`` is the mean gap in every class. Drop-out is
MBG's (``p ~ Beta(a, b)`` after every purchase, the first included).

**What tells a customer's ``k``.** With gamma gaps of known shape, ``(t_x, litt)`` -- the sum
and the sum of the logs of the gaps -- are sufficient for the gaps, so the per-customer
likelihood of class ``k`` is MBG/CNBD-k's, ``litt`` term included
(:func:`~tierwise.models.cnbd.cnbd_log_likelihood`), and the customer's posterior class weights
are ``w_k L_k / sum_j w_j L_j``: the spread of the customer's own log gaps (through ``litt``
against ``log`` of the mean gap) pulls them toward a clock-like or a loose ``k``, shrunk toward the
population's weights when there are few gaps. No feature beyond ``litt`` is needed.

Every prediction is the posterior mixture of the classes' conditional expectations
(MBG/CNBD-k's exact series), so the forecast stays the conditional expectation. Predictions need
``litt`` as fitting does.

This model was built for issue 14 and measured in ``bench/RESULTS.md`` ("Each customer's own
regularity"); it is not a candidate of ``model = "auto"``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from tierwise.errors import DataContractError, FitError
from tierwise.models._summary import (
    TINY,
    FittedModelMixin,
    compress,
    fit_log_params,
    numerical_hessian,
    purchase_summary,
    time_divisor,
)
from tierwise.models.cnbd import (
    MBGCNBD,
    PARAM_NAMES,
    _Histories,
    _ll_grad,
    _row_terms,
    cnbd_log_likelihood,
    simulate_purchases,
)

DEFAULT_MAX_K = 8


class MBGCNBDMix(FittedModelMixin):
    """MBG/CNBD-k with a per-customer ``k`` (latent class) and a mean gap independent of ``k``.

    Parameters
    ----------
    time_unit
        ``days`` or ``weeks``: the unit of ``alpha``.
    max_k
        Classes ``k = 1..max_k`` (8).

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha`` (``nu ~ Gamma(r, alpha)``, ``1 / nu`` the mean gap in ``time_unit``),
        ``a``, ``b`` and ``w1``..``wK``, the population's class weights (summing to 1).
    standard_errors_ : dict
        Delta-method standard errors of the same (NaN when the Hessian is not positive definite).
    log_likelihood_ : float
        Including each customer's ``litt`` term, in ``time_unit`` (comparable with
        :class:`~tierwise.models.MBGCNBD`'s).
    n_customers_, n_distinct_, converged_, n_iter_
        As the other purchase models.

    Examples
    --------
    >>> MBGCNBDMix(time_unit="weeks").fit(summary).params_["w3"]  # doctest: +SKIP
    0.47
    """

    name = "mbgcnbd_mix"
    label = "MBG/CNBD-k (per-customer k)"

    def __init__(self, time_unit: str = "days", max_k: int = DEFAULT_MAX_K) -> None:
        self.time_unit = time_unit
        self.max_k = max_k

    @property
    def param_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return (*PARAM_NAMES, *(f"w{k}" for k in self._ks()))

    def _ks(self) -> np.ndarray:
        if int(self.max_k) != self.max_k or self.max_k < 1:
            raise ValueError(f"max_k must be a positive integer, got {self.max_k!r}")
        return np.arange(1, int(self.max_k) + 1)

    # ------------------------------------------------------------------------ fitting
    def fit(self, summary: pd.DataFrame) -> MBGCNBDMix:
        """Fit on ``frequency``, ``recency``, ``T`` (days) and ``litt`` by maximum likelihood."""
        x, rec, T = purchase_summary(summary, self.label)
        litt = _litt(summary, x, self.label, FitError)
        ks = self._ks()
        div = time_divisor(self.time_unit)
        scale = T.max()
        comp = compress(x, rec, T)
        cols = (comp.columns[0], comp.columns[1] / scale, comp.columns[2] / scale)
        hists = [_Histories.build(*cols, comp.weights, k=int(k)) for k in ks]
        unit_scale = scale / div
        # per customer and class: the part of the log-likelihood outside _row_terms (as
        # MBGCNBD's k_term, customer by customer)
        const = np.stack([-k * x * np.log(unit_scale) + (k - 1) * (litt - x * np.log(div))
                          - x * math.lgamma(k) for k in ks], axis=1)
        n = float(len(x))

        best = {"f": np.inf, "v": None}

        def objective(v):
            ll, grad = _mix_ll_grad(v, ks, hists, comp.inverse, const)
            # the likelihood does not change when every logit moves by the same amount: this
            # term, zero at the optimum, pins their sum to 0 (and keeps the Hessian regular)
            gauge = float(np.sum(v[4:]))
            f = -ll / n + 0.5 * gauge ** 2
            if f < best["f"]:
                best.update(f=f, v=np.array(v, dtype=float))
            return f, np.concatenate([-grad[:4] / n, -grad[4:] / n + gauge])

        v0 = np.concatenate([[0.0, np.log(float(np.mean(rec[x > 0] / x[x > 0])) / scale), 0.0,
                              0.0], np.zeros(len(ks))])
        try:
            fit = fit_log_params(objective, v0, n, self.label)
        except FitError:
            # a mixture's likelihood is flat along the weights of classes hardly used, and
            # L-BFGS can stop there by its step-size rule; once more from the best point found
            # (a fresh curvature estimate) before giving up
            if best["v"] is None:
                raise
            fit = fit_log_params(objective, best["v"], n, self.label)
        theta = np.exp(fit.log_params[:4]) * np.array([1.0, unit_scale, 1.0, 1.0])
        weights = _softmax(fit.log_params[4:])
        # delta method: d theta / d log theta = theta; d w / d logit_j = w (e_j - w)
        jac = np.zeros((4 + len(ks), len(fit.log_params)))
        jac[:4, :4] = np.diag(theta)
        jac[4:, 4:] = np.diag(weights) - np.outer(weights, weights)
        se = np.sqrt(np.abs(np.diag(jac @ _free_covariance(objective, fit, n) @ jac.T)))
        values = np.concatenate([theta, weights])
        self.params_ = dict(zip(self.param_names, map(float, values)))
        self.standard_errors_ = dict(zip(self.param_names, map(float, se)))
        per_class = self._class_log_likelihood(x, rec / div, T / div, litt - x * np.log(div))
        self.log_likelihood_ = float(logsumexp(per_class + np.log(np.maximum(weights, 1e-300)),
                                               axis=1).sum())
        self.n_customers_ = int(n)
        self.mean_log_likelihood_ = self.log_likelihood_ / n
        self.n_distinct_ = comp.n_rows
        self.n_repeat_buyers_ = int(np.sum(x > 0))
        self.converged_ = fit.converged
        self.n_iter_ = fit.n_iter
        return self

    # ---------------------------------------------------------------------- predictions
    def _weights(self) -> np.ndarray:
        self._check_fitted()
        return np.array([self.params_[f"w{k}"] for k in self._ks()])

    def _component(self, k: int) -> MBGCNBD:
        p = self.params_
        return MBGCNBD.from_params({"k": k, "r": p["r"], "alpha": p["alpha"] / k, "a": p["a"],
                                    "b": p["b"]}, time_unit=self.time_unit)

    def _class_log_likelihood(self, x, t_x, T, litt_unit) -> np.ndarray:
        """Per customer and class: MBG/CNBD-k's log-likelihood (times and litt in time_unit)."""
        cols = [cnbd_log_likelihood(self._component(int(k)).params_, int(k), x, t_x, T,
                                    litt_unit) for k in self._ks()]
        return np.stack(cols, axis=1)

    def class_posterior(self, df: pd.DataFrame) -> pd.DataFrame:
        """Each customer's posterior weights of ``k = 1..max_k`` (columns ``k1``..), rows sum to 1."""
        post = self._posterior(df)
        return pd.DataFrame(post, index=df.index, columns=[f"k{k}" for k in self._ks()])

    def _posterior(self, df: pd.DataFrame) -> np.ndarray:
        w = self._weights()
        x, t_x, T = self._unit_arrays(df)
        litt = _litt(df, x, self.label, DataContractError) - x * np.log(
            time_divisor(self.time_unit))
        ll = self._class_log_likelihood(x, t_x, T, litt) + np.log(np.maximum(w, 1e-300))
        post = np.exp(ll - logsumexp(ll, axis=1, keepdims=True))
        return np.where(post < TINY, 0.0, post)  # no subnormal numbers (slow, and noise)

    def _mixed(self, df: pd.DataFrame, method: str, *args) -> np.ndarray:
        post = self._posterior(df)
        comp = compress(*self._unit_arrays(df))
        out = np.zeros(len(df))
        for i, k in enumerate(self._ks()):
            keep = post[:, i] > 0
            if not keep.any():
                continue
            values = getattr(self._component(int(k)), method)(*comp.columns, *args)
            out += post[:, i] * values[comp.inverse]
        return out

    def p_alive(self, df: pd.DataFrame) -> pd.Series:
        """P(alive at T) per customer: the class posterior mix of MBG/CNBD-k's P(alive)."""
        return pd.Series(self._mixed(df, "_p_alive"), index=df.index, name="p_alive")

    def expected_purchases(self, df: pd.DataFrame, horizon_days: float) -> pd.Series:
        """Conditional expected number of purchases in the next ``horizon_days``."""
        t = self._horizon(horizon_days)
        return pd.Series(self._mixed(df, "_expected_arrays", t), index=df.index,
                         name="expected_purchases")

    def purchase_probability(self, df: pd.DataFrame, horizon_days: float) -> pd.Series:
        """P(at least one purchase in the next ``horizon_days``) per customer."""
        t = self._horizon(horizon_days)
        return pd.Series(self._mixed(df, "_prob_arrays", t), index=df.index,
                         name="purchase_probability")


def _free_covariance(objective, fit, n: float) -> np.ndarray:
    """Covariance of the log parameters with those at the box held fixed.

    A class the data hardly use (weight below 0.001) has its logit far out where the likelihood
    is flat, which leaves the full Hessian singular; the other parameters' covariance is that of
    the free block (the unused classes' weights get a standard error of 0).
    """
    weights = _softmax(fit.log_params[4:])
    free = ~np.array(fit.at_bound) & np.concatenate([np.ones(4, bool), weights > 1e-3])
    cov = np.zeros((len(free), len(free)))
    hess = numerical_hessian(lambda v: objective(v)[1], fit.log_params) * n
    try:
        np.linalg.cholesky(hess[np.ix_(free, free)])
        cov[np.ix_(free, free)] = np.linalg.inv(hess[np.ix_(free, free)])
    except np.linalg.LinAlgError:
        cov[:] = np.nan
    return cov


def _softmax(z: np.ndarray) -> np.ndarray:
    """Class weights from their logits."""
    return np.exp(z - logsumexp(z))


def _litt(df: pd.DataFrame, x: np.ndarray, label: str, error: type) -> np.ndarray:
    if "litt" not in df.columns:
        raise DataContractError(
            f"{label} needs column 'litt' (sum of log days between purchase days) to weigh each "
            f"customer's k; the summary has {list(df.columns)}",
            "pass the summary from tierwise.features")
    litt = np.where(x == 0, 0.0, pd.to_numeric(df["litt"], errors="coerce").to_numpy(float))
    if not np.all(np.isfinite(litt)):
        raise error(f"column 'litt' has {int(np.sum(~np.isfinite(litt)))} missing or infinite "
                    "value(s) among repeat buyers",
                    "recompute the features: litt is the sum of log gaps in days (>= 1)")
    return litt


def _mix_ll_grad(v, ks, hists, inverse, const):
    """Mixture log-likelihood (scaled time) and its gradient in ``(log r, log alpha, log a,
    log b, logits of w_1..w_K)``.

    The gradient of ``log sum_k w_k L_k`` in a parameter is the responsibility-weighted sum of
    the classes' gradients, so MBG/CNBD-k's analytic gradient is reused with each distinct
    history weighted by the summed responsibilities of its customers.
    """
    r, alpha, a, b = np.exp(v[:4])
    log_w = np.log(_softmax(v[4:]))
    rows = np.stack([_row_terms(np.array([r, alpha / k, a, b]), h)[0] for k, h in zip(ks, hists)],
                    axis=1)
    per = rows[inverse] + const + log_w
    total = logsumexp(per, axis=1)
    resp = np.exp(per - total[:, None])
    grad_theta = np.zeros(4)
    for i, (k, h) in enumerate(zip(ks, hists)):
        w = np.bincount(inverse, resp[:, i], len(h.x))
        hk = dataclasses.replace(h, w=w, w_x=np.bincount(h.xcode, w, len(h.ux)))
        _, g = _ll_grad(np.array([r, alpha / k, a, b]), hk)
        # d/d log theta; alpha_k = alpha / k has d log alpha_k = d log alpha
        grad_theta += g * np.array([r, alpha / k, a, b])
    grad_logits = resp.sum(axis=0) - len(total) * np.exp(log_w)
    return float(total.sum()), np.concatenate([grad_theta, grad_logits])


def simulate_cnbd_mix(params: dict, T_days, seed: int = 0, time_unit: str = "days",
                      integer_days: bool = True, holdout_days: float = 0.0) -> pd.DataFrame:
    """Simulate summaries of :class:`MBGCNBDMix`: ``params`` has ``r, alpha, a, b, w1..wK``.

    Each customer draws a class ``k`` with probabilities ``w``, ``nu ~ Gamma(r, alpha)`` and
    ``p ~ Beta(a, b)``; gaps are Erlang-``k`` with stage rate ``k nu`` (mean ``1 / nu``). The
    columns are :func:`~tierwise.models.cnbd.simulate_cnbd`'s, plus ``k`` (the customer's class).
    """
    rng = np.random.default_rng(seed)
    T_days = np.asarray(T_days, dtype=float)
    n = len(T_days)
    weights = np.array([params[f"w{k}"] for k in range(1, 1 + sum(
        1 for key in params if key.startswith("w")))], dtype=float)
    k = 1 + rng.choice(len(weights), size=n, p=weights / weights.sum())
    nu = rng.gamma(params["r"], 1.0 / params["alpha"], n) / time_divisor(time_unit)
    p = rng.beta(params["a"], params["b"], n)
    active = np.flatnonzero(nu > 0)
    active = active[rng.random(active.size) >= p[active]]
    out = simulate_purchases(T_days, k * nu, p, active, None, rng, integer_days=integer_days,
                             holdout_days=holdout_days, shape=k.astype(float))
    out["k"] = k
    return out


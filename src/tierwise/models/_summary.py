"""Summary statistics shared by the value models: input checks, compression, the ML fitting core.

The predictive models see each customer only through ``(frequency, recency, T)`` (and
``monetary_value`` for Gamma-Gamma). Customers with identical histories contribute identical
log-likelihood terms, so :func:`compress` collapses them into distinct rows with integer weights:
fitting cost then grows with the number of distinct histories, not with the number of customers.
With integer-day data (what :mod:`tierwise.features` produces) that number is bounded by the
number of (frequency, recency day, age day) combinations, typically far below the customer count.

:func:`fit_log_params` is the optimiser every model uses: L-BFGS-B on log parameters with the
model's analytic gradient, standard errors from a central-difference Hessian of that gradient.
"""

from __future__ import annotations

import functools

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from tierwise.errors import DataContractError, FitError, NotFittedError

SUMMARY_COLUMNS = ("frequency", "recency", "T")
TIME_UNITS = {"days": 1.0, "weeks": 7.0}
LOG_BOUND = 18.0  # log-parameter box; |log theta| beyond ~18 means the data do not pin theta down
PENALIZER_HINT = "raise penalizer (e.g. 0.001 to 0.1) to keep the parameters in a sensible range"
TINY = 1e-250  # below this, numbers are flushed to 0: subnormals make numpy arithmetic ~100x slower


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product of two vectors without BLAS.

    OpenBLAS threads ``ddot`` on long vectors; on a busy machine the threads wait on each other
    and a 40,000-element product can take 20 ms instead of 0.03 ms.
    """
    return float(np.einsum("i,i->", a, b))


def exp_neg(d: np.ndarray) -> np.ndarray:
    """``exp(-d)`` for ``d >= 0``, floored at ``exp(-600)``.

    The floor is negligible next to 1 and keeps products of the result normal numbers:
    subnormal numbers make numpy arithmetic about 100 times slower.
    """
    return np.exp(-np.minimum(d, 600.0))


def time_divisor(time_unit: str) -> float:
    """Days per model time unit; raises ``ValueError`` for an unknown unit."""
    if time_unit not in TIME_UNITS:
        raise ValueError(f"time_unit={time_unit!r} is not one of {sorted(TIME_UNITS)}")
    return TIME_UNITS[time_unit]


def summary_arrays(df: pd.DataFrame, columns: tuple[str, ...] = SUMMARY_COLUMNS,
                   error: type = FitError) -> list[np.ndarray]:
    """Return the named columns as float arrays after checking the summary contract.

    Missing columns raise :class:`DataContractError`; NaN, negative values, a non-integer
    ``frequency``, ``recency > T`` or ``recency != 0`` when ``frequency == 0`` raise ``error``
    (``FitError`` while fitting, ``DataContractError`` when predicting).
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataContractError(
            f"summary frame lacks column(s) {missing}; it has {list(df.columns)}",
            "pass the per-customer summary from tierwise.features (frequency, recency, T in days)")
    arrays = [np.asarray(df[c], dtype=float) for c in columns]
    for name, arr in zip(columns, arrays):
        bad = ~np.isfinite(arr) | (arr < 0)
        if bad.any():
            first = df.index[np.argmax(bad)]
            raise error(f"column {name!r} has {int(bad.sum())} NaN, infinite or negative value(s) "
                        f"(first at index {first!r}: {df[name].iloc[int(np.argmax(bad))]!r})",
                        "drop or repair those customers before fitting")
    if "frequency" in columns:
        x = arrays[columns.index("frequency")]
        if np.any(x != np.round(x)):
            raise error("column 'frequency' has non-integer values",
                        "frequency is the number of repeat purchase days (an integer)")
    if "recency" in columns and "T" in columns:
        rec, T = arrays[columns.index("recency")], arrays[columns.index("T")]
        if np.any(rec > T):
            raise error(f"{int(np.sum(rec > T))} customer(s) have recency > T",
                        "recency and T must be measured up to the same as-of date")
        if "frequency" in columns and np.any(rec[arrays[columns.index("frequency")] == 0] != 0):
            raise error("customers with frequency 0 must have recency 0",
                        "recency is the time between first and last purchase")
    return arrays


@dataclass(frozen=True)
class Compressed:
    """Distinct rows of a set of columns with their multiplicities.

    ``columns[j][i]`` is the j-th value of distinct row i, ``weights[i]`` how many input rows
    share it and ``inverse[k]`` the distinct row of input row k, so ``columns[j][inverse]``
    rebuilds the input.
    """

    columns: tuple[np.ndarray, ...]
    weights: np.ndarray
    inverse: np.ndarray

    @property
    def n_rows(self) -> int:
        return int(self.weights.shape[0])


def compress(*columns: np.ndarray) -> Compressed:
    """Collapse identical rows of the given equal-length columns (order of first appearance).

    Each column is factorised on its own, the codes are combined into one integer key (mixed
    radix), and the key is factorised again: O(n) hashing, no sort.
    """
    if not columns:
        raise ValueError("compress needs at least one column")
    fast = _compress_integers(columns)
    if fast is not None:
        return fast
    key = np.zeros(len(columns[0]), dtype=np.int64)
    uniques = []
    for col in columns:
        codes, uniq = pd.factorize(np.asarray(col))
        if len(uniq) and key.max(initial=0) > np.iinfo(np.int64).max // len(uniq):
            raise OverflowError("too many distinct values to combine into one key")
        key = key * len(uniq) + codes
        uniques.append((np.asarray(uniq), len(uniq)))
    inverse, distinct = pd.factorize(key)
    distinct = np.asarray(distinct, dtype=np.int64)
    out = []
    for uniq, size in reversed(uniques):
        out.append(uniq[distinct % size])
        distinct = distinct // size
    weights = np.bincount(inverse, minlength=len(out[0])).astype(float)
    return Compressed(tuple(reversed(out)), weights, inverse)


def _compress_integers(columns) -> Compressed | None:
    """Fast path of :func:`compress` for small non-negative integer values (days, counts).

    The mixed-radix key is built from the values themselves, skipping one hash pass per column.
    Returns None when a column is not integral or the key would not fit in 63 bits.
    """
    arrays = [np.asarray(c) for c in columns]
    radices = []
    for arr in arrays:
        if arr.size == 0 or arr.min() < 0 or not np.array_equal(arr, np.floor(arr)):
            return None
        radices.append(int(arr.max()) + 1)
    if np.prod(np.array(radices, dtype=float)) >= 2.0 ** 62:
        return None
    key = np.zeros(len(arrays[0]), dtype=np.int64)
    for arr, radix in zip(arrays, radices):
        key = key * radix + arr.astype(np.int64)
    inverse, distinct = pd.factorize(key)
    distinct = np.asarray(distinct, dtype=np.int64)
    out = []
    for arr, radix in zip(reversed(arrays), reversed(radices)):
        out.append((distinct % radix).astype(arr.dtype))
        distinct = distinct // radix
    weights = np.bincount(inverse, minlength=len(out[0])).astype(float)
    return Compressed(tuple(reversed(out)), weights, inverse)


def thin(comp: Compressed, target: int, seed: int = 0) -> np.ndarray | None:
    """Binomially thinned weights keeping about ``target`` customers, or None if already small.

    Used to find a starting point cheaply: a fit on the thinned weights lands near the full
    optimum, from where the full fit needs few iterations.
    """
    total = comp.weights.sum()
    if comp.n_rows <= 2 * target:
        return None
    rng = np.random.default_rng(seed)
    return rng.binomial(comp.weights.astype(np.int64), min(1.0, target / total)).astype(float)


@dataclass(frozen=True)
class LogFit:
    """What :func:`fit_log_params` found: log parameters, objective, covariance, convergence."""

    log_params: np.ndarray
    objective: float
    converged: bool
    at_bound: tuple[bool, ...]
    cov_log: np.ndarray  # covariance of the log parameters (inverse Hessian of the total NLL)
    n_iter: int
    message: str


def fit_log_params(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], x0: np.ndarray,
                   n_total: float, model: str,
                   warm: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None) -> LogFit:
    """Minimise a mean negative log-likelihood over log parameters with L-BFGS-B.

    Parameters
    ----------
    fun
        Maps log parameters to ``(objective, gradient)``: the mean penalised negative
        log-likelihood per customer and its analytic gradient.
    x0
        Starting log parameters.
    n_total
        Number of customers (sum of weights): the Hessian of the total NLL is ``n_total`` times
        the Hessian of the mean.
    model
        Model name, for error messages.
    warm
        Optional cheap approximation of ``fun`` (the same objective on a thinned sample). It is
        minimised first; its optimum and Hessian then start and precondition the minimisation of
        ``fun``, which then needs a handful of iterations. The result is the optimum of ``fun``.

    Raises
    ------
    FitError
        When the objective is not finite at the start or the optimiser stops away from a
        stationary point.
    """
    f0, g0 = fun(x0)
    if not (np.isfinite(f0) and np.all(np.isfinite(g0))):
        raise FitError(f"{model}: the log-likelihood is not finite at the starting point",
                       "check the summary for extreme values (e.g. T in milliseconds)")
    with _single_threaded_blas():
        x, res = _minimise(fun, x0, warm)
        f, g = fun(x)
        at_bound = tuple(bool(abs(v) >= LOG_BOUND - 1e-3) for v in x)
        free = ~np.array(at_bound)
        stationary = bool(np.all(np.abs(g[free]) <= 1e-6 * max(1.0, abs(f))))
        if not np.isfinite(f) or not stationary:
            raise FitError(f"{model} did not converge ({res.message}; {res.nit} iterations, "
                           f"largest gradient {np.max(np.abs(g[free]), initial=0):.3g})",
                           PENALIZER_HINT)
        hess = numerical_hessian(lambda v: fun(v)[1], x) * n_total
    return LogFit(x, float(f), True, at_bound, _inverse_or_nan(hess), int(res.nit),
                  str(res.message))


def _minimise(fun, x0, warm):
    """L-BFGS-B in the log-parameter box, preconditioned by a warm-up fit when one is given."""
    fun = _finite(fun)
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(x0)
    options = {"maxiter": 1000, "ftol": 1e-14, "gtol": 1e-9}
    if warm is not None:
        pre = minimize(_finite(warm), x0, jac=True, method="L-BFGS-B", bounds=bounds,
                       options={"maxiter": 500, "gtol": 1e-7})
        xw = np.asarray(pre.x, dtype=float)
        if np.all(np.abs(xw) < LOG_BOUND - 1.0) and np.isfinite(fun(xw)[0]):
            found = _preconditioned(fun, warm, xw, options)
            if found is not None:
                return found
            x0 = xw
    res = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
    return np.asarray(res.x, dtype=float), res


def _preconditioned(fun, warm, xw, options):
    """Minimise ``fun`` from ``xw`` in coordinates where the warm-up Hessian is the identity.

    ``x = xw + c M y`` with ``H = L L^T``, ``M = L^-T`` and ``c`` the length of the Newton step
    from ``xw``, so the optimiser's first unit step is about that Newton step. Returns None when
    the warm-up Hessian is not positive definite or the result leaves the box.
    """
    try:
        M = np.linalg.inv(np.linalg.cholesky(numerical_hessian(lambda v: warm(v)[1], xw))).T
    except np.linalg.LinAlgError:
        return None
    c = max(float(np.linalg.norm(M.T @ fun(xw)[1])), 1e-12)
    A = c * M

    def fun_y(y):
        f, g = fun(xw + A @ y)
        return f, A.T @ g

    res = minimize(fun_y, np.zeros(len(xw)), jac=True, method="L-BFGS-B", options=options)
    x = xw + A @ res.x
    if not (np.all(np.abs(x) <= LOG_BOUND) and np.isfinite(res.fun)):
        return None
    return x, res


def _finite(fun):
    """Replace a non-finite objective by a large finite one so line searches back off."""
    def wrapped(v):
        f, g = fun(v)
        if np.isfinite(f) and np.all(np.isfinite(g)):
            return f, g
        return 1e10, np.zeros_like(np.asarray(v, dtype=float))
    return wrapped


def _single_threaded_blas():
    """Limit BLAS to one thread while fitting, when threadpoolctl is available.

    The optimiser's BLAS calls are on vectors of 4 numbers; OpenBLAS threads them anyway, and on
    a busy machine each iteration then costs milliseconds instead of microseconds.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def penalised_objective(ll: float, grad: np.ndarray, theta: np.ndarray, n_total: float,
                        penalizer: float) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood plus ``penalizer * sum(theta**2)``, and its gradient in
    log-parameters (chain rule: d/d log theta = theta * d/d theta); inf where not finite."""
    f = -ll / n_total + penalizer * np.sum(theta ** 2)
    g = -theta * grad / n_total + 2.0 * penalizer * theta ** 2
    if not np.isfinite(f):
        return np.inf, np.zeros_like(g)
    return f, g


def purchase_summary(summary, label: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked ``frequency``, ``recency`` and ``T`` arrays a purchase model can be fitted on."""
    x, rec, T = summary_arrays(summary)
    if not np.any(x > 0):
        raise FitError(f"{label} cannot be fitted: no customer has a repeat purchase",
                       "use the historical-rate fallback or a longer observation period")
    if T.max() <= 0:
        raise FitError("all customers have T = 0", "fit as of a later date")
    return x, rec, T


def record_fit(model, names: tuple, theta_unit: np.ndarray, fit, *, x: np.ndarray, n: int,
               n_distinct: int, log_likelihood: float) -> None:
    """Set a purchase model's learned state (``params_``, ``standard_errors_``, ...) from a fit.

    ``theta_unit`` are the parameters in the model's time unit; standard errors follow from the
    covariance of the log-parameters (delta method: se = theta x sd(log theta)).
    """
    model.params_ = dict(zip(names, map(float, theta_unit)))
    se = theta_unit * np.sqrt(np.diag(fit.cov_log))
    model.standard_errors_ = dict(zip(names, map(float, se)))
    model.log_likelihood_ = float(log_likelihood)
    model.n_customers_ = int(n)
    model.mean_log_likelihood_ = model.log_likelihood_ / n
    model.n_distinct_ = n_distinct
    model.n_repeat_buyers_ = int(np.sum(x > 0))
    model.converged_ = fit.converged
    model.at_bounds_ = dict(zip(names, fit.at_bound))
    model.n_iter_ = fit.n_iter


def _objective_at(objective: Callable, data, n: float, penalizer: float, v: np.ndarray):
    return objective(v, data, n, penalizer)


def fit_compressed(build: Callable, objective: Callable, comp: Compressed, columns: tuple,
                   penalizer: float, x0: np.ndarray, model: str, warm_target: int = 20_000):
    """Fit ``objective`` on compressed data, warm-started from a thinned sample when large.

    ``build(columns, weights)`` prepares the model's data structure, ``objective(v, data,
    n_total, penalizer)`` returns the mean objective and gradient. Returns ``(LogFit, data)``.
    """
    data = build(columns, comp.weights)
    n_total = float(comp.weights.sum())
    w_sub = thin(comp, warm_target)
    warm = None
    if w_sub is not None and np.count_nonzero(w_sub) > len(x0):
        keep = w_sub > 0
        sub = build(tuple(c[keep] for c in columns), w_sub[keep])
        n_sub = float(w_sub.sum())
        warm = functools.partial(_objective_at, objective, sub, n_sub, penalizer)
    fit = fit_log_params(functools.partial(_objective_at, objective, data, n_total, penalizer),
                         x0, n_total, model, warm=warm)
    return fit, data


def numerical_hessian(grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                      step: float = 1e-6) -> np.ndarray:
    """Symmetrised Hessian by forward differences of an analytic gradient.

    One gradient per parameter; accurate to about ``step`` relative, ample for standard errors
    and preconditioning.
    """
    k = len(x)
    hess = np.empty((k, k))
    g0 = grad(x)
    for j in range(k):
        e = np.zeros(k)
        e[j] = step
        hess[:, j] = (grad(x + e) - g0) / step
    return 0.5 * (hess + hess.T)


#: An eigenvalue of the Hessian this small against its largest is a direction the data do not
#: tell apart (the Hessian is then singular up to rounding).
FLAT_EIGENVALUE = 1e-8
#: A parameter loading this much on such a direction is not identified by the data.
FLAT_LOADING = 0.1


def _inverse_or_nan(hess: np.ndarray) -> np.ndarray:
    """Inverse of a positive definite matrix; where it is not, NaN for the parameters along the
    directions the likelihood is flat in (or curves the wrong way), and the others' block
    inverted with those held at their estimates (conditional standard errors).

    Example: customers who never drop out leave Pareto/NBD's ``s`` and ``beta`` unidentified
    (only ``beta -> infinity`` matters), while ``r`` and ``alpha`` are as well measured as ever;
    whether the full Hessian rounds to positive definite or not must not decide whether ``r``
    gets a standard error.
    """
    try:
        np.linalg.cholesky(hess)
        return np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        pass
    out = np.full(hess.shape, np.nan)
    if not np.all(np.isfinite(hess)):
        return out
    values, vectors = np.linalg.eigh(hess)
    flat = values <= FLAT_EIGENVALUE * max(float(np.abs(values).max()), 1e-300)
    keep = ~(np.abs(vectors[:, flat]) > FLAT_LOADING).any(axis=1)
    if keep.any() and keep.sum() < len(keep):
        sub = hess[np.ix_(keep, keep)]
        try:
            np.linalg.cholesky(sub)
        except np.linalg.LinAlgError:
            return out
        out[np.ix_(keep, keep)] = np.linalg.inv(sub)
    return out


class FittedModelMixin:
    """Shared plumbing of the fitted models: the fitted check and the time-unit conversion."""

    time_unit: str
    param_names: tuple[str, ...] = ()

    @classmethod
    def from_params(cls, params: dict, **kwargs):
        """A model ready to predict with the given parameters (a stored or published fit).

        ``kwargs`` go to ``__init__`` (e.g. ``time_unit``, which must be the unit the
        parameters are in). Only ``params_`` is set; fit statistics are absent.
        """
        missing = [k for k in cls.param_names if k not in params]
        if missing:
            raise ValueError(f"{cls.__name__}.from_params needs {list(cls.param_names)}; "
                             f"missing {missing}")
        model = cls(**kwargs)
        model.params_ = {k: float(params[k]) for k in cls.param_names}
        return model

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet",
                                 "call fit(summary) before predicting")

    def _unit_arrays(self, df: pd.DataFrame) -> list[np.ndarray]:
        """``frequency`` and ``recency``/``T`` converted from days to the model time unit."""
        x, rec, T = summary_arrays(df, SUMMARY_COLUMNS, error=DataContractError)
        div = time_divisor(self.time_unit)
        return [x, rec / div, T / div]

    def _horizon(self, horizon_days: float) -> float:
        if not np.isfinite(horizon_days) or horizon_days < 0:
            raise ValueError(f"horizon_days must be a non-negative number, got {horizon_days!r}")
        return float(horizon_days) / time_divisor(self.time_unit)


def per_distinct(df: pd.DataFrame, unit_arrays: list[np.ndarray],
                 func: Callable[..., np.ndarray], name: str) -> pd.Series:
    """Evaluate ``func(x, t_x, T)`` once per distinct history and spread it back per customer."""
    comp = compress(*unit_arrays)
    values = func(*comp.columns)
    return pd.Series(values[comp.inverse], index=df.index, name=name)


#: Seed of the sample a purchase model is fitted on past ``value.fit_sample`` customers.
FIT_SAMPLE_SEED = 20240601


def fit_sample_rows(n: int, size: int | None) -> np.ndarray:
    """Positions of the rows a model is fitted on: all ``n``, or a seeded sample of ``size``.

    The sample is drawn with :data:`FIT_SAMPLE_SEED` and sorted: the same data give the same
    sample, hence the same fit.
    """
    if size is None or n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(FIT_SAMPLE_SEED).choice(n, size=size, replace=False))


"""A weighted average of two fitted purchase models, for when neither clearly wins on holdout.

When two models forecast the holdout about equally well they often err in different places (one
too generous with long-silent customers, the other with new ones); the average of their
forecasts can beat both. :func:`~tierwise.models.select_model` tries it with equal weights and
keeps it only when it wins on the holdout: the weight is fixed in advance, not tuned on the
holdout, so the comparison stays fair.

Every prediction is the weighted average of the members' predictions: expected purchases (the
forecast of a customer drawn from either model with the given weights), P(alive) and the
purchase probability (the mixture's probabilities).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tierwise.errors import NotFittedError

BLEND_PREFIX = "blend:"


def blend_name(members: tuple[str, ...]) -> str:
    """``"blend:a+b"``: the name under which a blend of the named models is reported."""
    return BLEND_PREFIX + "+".join(members)


def blend_members(name: str) -> tuple[str, ...] | None:
    """The member model names of a blend name, or None for a plain model name."""
    if not name.startswith(BLEND_PREFIX):
        return None
    return tuple(name.removeprefix(BLEND_PREFIX).split("+"))


class Blend:
    """Weighted average of fitted purchase models with the purchase-model interface.

    Parameters
    ----------
    models
        Purchase models (fitted, or fitted by :meth:`fit`), all with the same ``time_unit``.
    weights
        One non-negative weight per model (normalised to sum to 1); default equal weights.

    Attributes
    ----------
    params_, standard_errors_ : dict
        The members' parameters and standard errors, keyed ``"<model>.<parameter>"``.
    log_likelihood_ : float
        NaN: the average of forecasts is not a fitted likelihood model.
    """

    def __init__(self, models: list, weights: list[float] | None = None) -> None:
        if len(models) < 2:
            raise ValueError("a blend needs at least two models")
        w = np.ones(len(models)) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (len(models),) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"weights must be {len(models)} non-negative numbers, got {weights!r}")
        units = {m.time_unit for m in models}
        if len(units) != 1:
            raise ValueError(f"blended models must share a time unit, got {sorted(units)}")
        self.models = list(models)
        self.weights = w / w.sum()
        self.time_unit = units.pop()
        self.name = blend_name(tuple(m.name for m in models))
        if all(hasattr(m, "params_") for m in models):
            self._collect()

    def fit(self, summary: pd.DataFrame) -> Blend:
        """Fit every member on ``summary``; returns ``self``."""
        for model in self.models:
            model.fit(summary)
        self._collect()
        return self

    def _collect(self) -> None:
        ms = self.models
        self.params_ = {f"{m.name}.{k}": v for m in ms for k, v in m.params_.items()}
        self.standard_errors_ = {f"{m.name}.{k}": v for m in ms
                                 for k, v in getattr(m, "standard_errors_", {}).items()}
        self.at_bounds_ = {f"{m.name}.{k}": v for m in ms
                           for k, v in getattr(m, "at_bounds_", {}).items()}
        self.converged_ = all(getattr(m, "converged_", False) for m in ms)
        self.n_customers_ = min(getattr(m, "n_customers_", 0) for m in ms)
        self.n_repeat_buyers_ = min(getattr(m, "n_repeat_buyers_", 0) for m in ms)
        self.log_likelihood_ = float("nan")
        self.mean_log_likelihood_ = float("nan")
        self.weights_ = {m.name: float(w) for m, w in zip(ms, self.weights)}

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError("this Blend is not fitted yet", "call fit(summary) first")

    def _average(self, method: str, *args) -> pd.Series:
        self._check_fitted()
        parts = [getattr(m, method)(*args) for m in self.models]
        out = sum(w * p for w, p in zip(self.weights, parts))
        return out.rename(parts[0].name)

    def p_alive(self, df: pd.DataFrame) -> pd.Series:
        """Weighted average of the members' P(alive)."""
        return self._average("p_alive", df)

    def expected_purchases(self, df: pd.DataFrame, horizon_days: float) -> pd.Series:
        """Weighted average of the members' expected purchases in the next ``horizon_days``."""
        return self._average("expected_purchases", df, horizon_days)

    def purchase_probability(self, df: pd.DataFrame, horizon_days: float) -> pd.Series:
        """Weighted average of the members' P(at least one purchase in ``horizon_days``)."""
        return self._average("purchase_probability", df, horizon_days)

    # the interface predicted_clv uses: unit arrays and the cumulative expectation
    def _unit_arrays(self, df: pd.DataFrame) -> list[np.ndarray]:
        return self.models[0]._unit_arrays(df)

    def _expected_arrays(self, x, t_x, T, t):
        self._check_fitted()
        return sum(w * m._expected_arrays(x, t_x, T, t)
                   for w, m in zip(self.weights, self.models))

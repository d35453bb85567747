"""The weighted scorecard (定量 + 变量): at most 8 criteria, a 0-100 score, every contribution kept.

Each criterion takes one column, normalises it to 0-100 and multiplies it by its weight; the
weights sum to 1, so the score is 0-100. Quantitative criteria come from the data (amount, margin,
credit rating); "variable" ones from people (growth potential, strategic fit, rated 1-5).

Normalisations, learned by :meth:`Scorecard.fit` on one period and applied by
:meth:`Scorecard.transform` to any period:

``percentile``
    the mid-distribution percentile rank against the fit period's values: the share of reference
    values below the value plus half of those equal to it, times 100. Ties share a score, a lone
    value scores 50, a value above every reference value scores 100.
``minmax``
    ``(x - min) / (max - min) x 100`` with the fit period's min and max (or fixed ``bounds``, e.g.
    ``[1, 5]`` for a rating), clipped to 0-100; 50 for everyone when min = max.
``mapping``
    a table category -> 0-100 (e.g. credit rating AAA = 100 ... B = 20); matched on the text of
    the value, exactly first, then ignoring case; a number like ``4.0`` matches the key ``"4"``.

``direction = "lower_better"`` turns a normalised value x into ``100 - x``.

**Missing values.** A missing value, a category not in the mapping, or text where a number is
expected contributes 0 to the score, and the customer's ``score_flags`` says which criterion and
why (e.g. ``"credit: unknown category 'CCC'"``). Such a customer is scored as if it were the worst
on that criterion; read the flags before acting on a low score.

The output holds ``score``, one ``score_<name>`` column per criterion (weight x normalised value)
and ``score_flags``; the contributions add up to the score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..config import CriterionConfig, ScorecardConfig, criteria_problems
from ..errors import ConfigError, FitError, NotFittedError

CriteriaLike = ScorecardConfig | Sequence[CriterionConfig | Mapping[str, Any]] | None


def _validated(criteria: CriteriaLike) -> list[CriterionConfig]:
    """Criteria as validated config objects; every problem in one ConfigError."""
    if criteria is None:
        return list(ScorecardConfig().criteria)
    if isinstance(criteria, ScorecardConfig):
        return list(criteria.criteria)
    items: list[CriterionConfig] = []
    problems: list[str] = []
    for i, item in enumerate(criteria, start=1):
        if isinstance(item, CriterionConfig):
            items.append(item)
            continue
        try:
            items.append(CriterionConfig.model_validate(item))
        except ValidationError as exc:
            name = item.get("name", "?") if isinstance(item, Mapping) else "?"
            problems += [f"criterion {i} ({name}): "
                         f"{'.'.join(map(str, e['loc'])) or 'value'}: "
                         f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
    if not problems:
        problems = criteria_problems(items)
    if problems:
        raise ConfigError("the scorecard is not valid: " + "; ".join(problems),
                          "fix the [scorecard] criteria", problems=problems)
    return items


def _category_key(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


class Scorecard:
    """A weighted scorecard with at most 8 criteria, scoring customers 0-100.

    Parameters
    ----------
    criteria
        A :class:`~tierwise.config.ScorecardConfig`, a list of
        :class:`~tierwise.config.CriterionConfig` or of dicts with the same keys (``name``,
        ``source``, ``normalise``, ``direction``, ``weight``, ``mapping``, ``bounds``,
        ``optional``), or None for the default ``[scorecard]`` criteria.

    Raises
    ------
    ConfigError
        More than 8 criteria, weights not summing to 1 (the message shows the sum and each
        weight), repeated names, or an invalid criterion.

    Attributes
    ----------
    criteria_ : tuple of CriterionConfig
        The criteria in use after fit; optional criteria whose column was absent or empty are
        dropped and the remaining weights rescaled to sum to 1.
    dropped_ : list of str
        Why each dropped criterion was dropped.
    params_ : dict
        What fit learned per criterion: the sorted reference values (percentile) or
        ``low``/``high`` (minmax).

    Examples
    --------
    >>> import pandas as pd
    >>> card = Scorecard([
    ...     {"name": "revenue", "source": "total_amount", "weight": 0.7},
    ...     {"name": "credit", "source": "credit_rating", "normalise": "mapping",
    ...      "mapping": {"AAA": 100, "B": 20}, "weight": 0.3}])
    >>> frame = pd.DataFrame({"total_amount": [10.0, 30.0], "credit_rating": ["AAA", "B"]})
    >>> out = card.fit_transform(frame)
    >>> out[["score", "score_revenue", "score_credit"]].round(1).values.tolist()
    [[47.5, 17.5, 30.0], [58.5, 52.5, 6.0]]
    """

    def __init__(self, criteria: CriteriaLike = None) -> None:
        self.criteria = _validated(criteria)

    # ---- fit -------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame) -> Scorecard:
        """Learn each criterion's normalisation (reference values, min and max) from ``frame``.

        Raises
        ------
        ConfigError
            A source column of a required criterion is missing (names it and the columns there).
        FitError
            A required criterion's column has no usable value in ``frame``.
        """
        kept, dropped = self._usable(frame)
        total = sum(c.weight for c in kept)
        self.criteria_ = tuple(c.model_copy(update={"weight": c.weight / total}) for c in kept)
        self.dropped_ = dropped
        self.params_ = {c.name: self._learn(c, frame) for c in self.criteria_}
        return self

    def _usable(self, frame: pd.DataFrame) -> tuple[list[CriterionConfig], list[str]]:
        kept, dropped, absent = [], [], []
        for c in self.criteria:
            if c.source not in frame.columns:
                if c.optional:
                    dropped.append(f"{c.name}: column '{c.source}' is not in the data")
                else:
                    absent.append(f"'{c.source}' (criterion {c.name})")
            elif c.optional and frame[c.source].isna().all():
                dropped.append(f"{c.name}: column '{c.source}' has no values")
            else:
                kept.append(c)
        if absent:
            raise ConfigError(
                f"scorecard source column(s) {', '.join(absent)} not in the data",
                f"available columns: {sorted(map(str, frame.columns))}")
        if not kept:
            raise ConfigError("no scorecard criterion is usable: " + "; ".join(dropped),
                              "add the rating columns to the customers file or change the criteria")
        return kept, dropped

    @staticmethod
    def _learn(c: CriterionConfig, frame: pd.DataFrame) -> dict[str, Any]:
        if c.normalise == "mapping":
            return {}
        if c.normalise == "minmax" and c.bounds is not None:
            return {"low": float(c.bounds[0]), "high": float(c.bounds[1])}
        values = pd.to_numeric(frame[c.source], errors="coerce").dropna().to_numpy(dtype=float)
        if values.size == 0:
            raise FitError(f"scorecard criterion {c.name}: column '{c.source}' has no numeric "
                           "value to learn from",
                           "fill the column, use normalise = 'mapping' for categories, or set "
                           "optional = true")
        if c.normalise == "percentile":
            return {"reference": np.sort(values)}
        return {"low": float(values.min()), "high": float(values.max())}

    # ---- transform -------------------------------------------------------------------------
    def transform(self, frame: pd.DataFrame, prefix: str = "score") -> pd.DataFrame:
        """Score every row of ``frame`` with what fit learned.

        Parameters
        ----------
        frame
            One row per customer with the criteria's source columns.
        prefix
            Column prefix: the output has ``<prefix>``, ``<prefix>_<name>`` per criterion and
            ``<prefix>_flags``.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``frame``: the score (0-100), the contributions (weight x normalised
            value, adding up to the score) and the flags ('' when nothing was missing).
        """
        if not hasattr(self, "params_"):
            raise NotFittedError("this Scorecard is not fitted yet",
                                 "call fit(frame) on a reference period first")
        absent = [c.source for c in self.criteria_ if c.source not in frame.columns]
        if absent:
            raise ConfigError(f"scorecard source column(s) {absent} not in the data",
                              f"available columns: {sorted(map(str, frame.columns))}")
        names = [f"{prefix}_{c.name}" for c in self.criteria_]
        parts, flag_parts = {}, []
        for c, column in zip(self.criteria_, names):
            norm, flags = self._normalise(c, frame[c.source])
            parts[column] = np.where(np.isnan(norm), 0.0, c.weight * norm)
            flag_parts.append(flags)
        contributions = pd.DataFrame(parts, index=frame.index)
        out = pd.DataFrame({prefix: contributions[names].sum(axis=1)}, index=frame.index)
        out[names] = contributions
        out[f"{prefix}_flags"] = _joined(flag_parts, len(frame))
        return out

    def fit_transform(self, frame: pd.DataFrame, prefix: str = "score") -> pd.DataFrame:
        """``fit(frame)`` then ``transform(frame, prefix)``."""
        return self.fit(frame).transform(frame, prefix)

    def _normalise(self, c: CriterionConfig, raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Normalised values (0-100, NaN when unusable) and a flag per row ('' when fine)."""
        present = raw.notna().to_numpy()
        flags = np.full(len(raw), "", dtype=object)
        flags[~present] = f"{c.name}: missing"
        if c.normalise == "mapping":
            norm = self._mapped(c, raw)
            bad = present & np.isnan(norm)
            flags[bad] = [f"{c.name}: unknown category {v!r}" for v in raw[bad]]
        else:
            values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            bad = present & np.isnan(values)
            flags[bad] = [f"{c.name}: not a number {v!r}" for v in raw[bad]]
            norm = self._scaled(c, values)
        if c.direction == "lower_better":
            norm = 100.0 - norm
        return norm, flags

    def _scaled(self, c: CriterionConfig, values: np.ndarray) -> np.ndarray:
        params = self.params_[c.name]
        if c.normalise == "percentile":
            ref = params["reference"]
            below = np.searchsorted(ref, values, side="left")
            upto = np.searchsorted(ref, values, side="right")
            norm = (below + upto) / (2.0 * ref.size) * 100.0
        else:
            low, high = params["low"], params["high"]
            norm = (np.full(values.shape, 50.0) if high == low
                    else np.clip((values - low) / (high - low) * 100.0, 0.0, 100.0))
        return np.where(np.isnan(values), np.nan, norm)

    @staticmethod
    def _mapped(c: CriterionConfig, raw: pd.Series) -> np.ndarray:
        exact = {str(k).strip(): float(v) for k, v in (c.mapping or {}).items()}
        folded = {k.casefold(): v for k, v in exact.items()}

        def lookup(value: Any) -> float:
            if pd.isna(value):
                return np.nan
            key = _category_key(value)
            return exact.get(key, folded.get(key.casefold(), np.nan))

        return np.array([lookup(v) for v in raw], dtype=float)

    # ---- explanation -----------------------------------------------------------------------
    def criteria_table(self) -> pd.DataFrame:
        """The criteria in use with their weights and what fit learned, dropped ones last.

        Returns
        -------
        pandas.DataFrame
            Columns ``name``, ``source``, ``normalise``, ``direction``, ``weight``, ``learned``.
        """
        if not hasattr(self, "params_"):
            raise NotFittedError("this Scorecard is not fitted yet", "call fit(frame) first")
        rows = [{"name": c.name, "source": c.source, "normalise": c.normalise,
                 "direction": c.direction, "weight": c.weight,
                 "learned": self._learned_text(c)} for c in self.criteria_]
        rows += [{"name": d.split(":")[0], "source": "", "normalise": "", "direction": "",
                  "weight": 0.0, "learned": "dropped: " + d.split(": ", 1)[1]}
                 for d in self.dropped_]
        return pd.DataFrame(rows)

    def _learned_text(self, c: CriterionConfig) -> str:
        params = self.params_[c.name]
        if c.normalise == "mapping":
            return f"mapping of {len(c.mapping or {})} categories"
        if c.normalise == "percentile":
            return f"percentile against {params['reference'].size} reference values"
        return f"min {params['low']:g}, max {params['high']:g}"


def _joined(flag_parts: list[np.ndarray], n: int) -> list[str]:
    """Each row's flags joined with "; " ('' when it has none), a column at a time: only the
    rows with a flag are joined one by one (issue 16)."""
    if not flag_parts:
        return ["; ".join(f for f in row if f) for row in zip(*flag_parts)]
    flags = np.stack([np.asarray(f, dtype=object) for f in flag_parts])
    some = flags != ""
    out = np.full(n, "", dtype=object)
    rows = np.flatnonzero(some.any(axis=0))
    out[rows] = ["; ".join(f for f in flags[:, i] if f) for i in rows.tolist()]
    return out.tolist()


__all__ = ["Scorecard"]

"""RFM scoring, the named segments, the Chinese 8-class model and the two problem groups.

All of it works on the per-customer feature frame (``docs/architecture.md``, "Feature columns"):

* **R** is ``days_since_last`` (days from the last purchase to the as-of date; fewer is better),
* **F** is the number of purchase occasions, ``frequency + 1`` (``frequency`` counts *repeat*
  purchase days, lifetimes' definition, so a one-time buyer has F = 1). Any other frequency column
  (e.g. ``n_orders``) is used as it is,
* **M** is ``total_amount`` (net of refunds; configurable).

Scores are integers 1-5 per dimension, 5 best (R reversed: the most recent customers get 5).

Binning by customer share, ties never split
-------------------------------------------
In quintile (and custom-share ``"cuts"``) mode a customer's level is the number of cut shares
``q`` for which *the share of customers with a strictly worse value* is at least ``q``; with the
quintile cuts 0.2 / 0.4 / 0.6 / 0.8 that is ``score = 1 + floor(5 x share strictly worse)``.
Consequences, all intended and tested:

* customers with equal values always get the same score (ties are never split), and the score is
  monotone in the value;
* the worst value always gets score 1; a score of 5 needs at least 80 % of customers strictly worse;
* bins can therefore be uneven or empty: when 60 % of customers bought once they all get F = 1 and
  F = 2 and 3 stay empty; when every customer has the same value everyone gets 1 (the dimension
  carries no information); with fewer than 5 customers the top scores cannot all be reached
  (1 customer: 1; 2 customers: 1 and 3; 4 customers: 1, 2, 3, 4).

``fit`` learns these bins as value edges (``edges_``) so ``transform`` can apply one period's bins
to the next (fit thresholds on one period, apply them to the next). Edges are ascending cut points;
for F and M a value ``>= edge`` passes the cut, for R a value ``< edge`` (days) passes it, the same
rule fixed thresholds use ("R < 60 days is high, F >= 5, M >= 500"). An edge of ``inf`` (F, M) or
``-inf`` (R) is a cut nobody passes.

NULL values
-----------
A NULL value (e.g. unknown monetary) is left out when bins are learned and scores **1** on that
dimension: it never lands in the top bin, and every customer still gets a complete score and a
segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataContractError, NotFittedError
from .segment_maps import (DEFAULT_SEGMENT, DEFAULT_SEGMENT_MAP, EIGHT_CLASSES, PROBLEM_GROUPS,
                           validate_segment_map)

METHODS = ("quintile", "thresholds", "cuts")
CENTERS = ("mean", "median")
QUINTILE_CUTS = (0.2, 0.4, 0.6, 0.8)
DIMENSIONS = ("r", "f", "m")
_HIGHER_IS_BETTER = {"r": False, "f": True, "m": True}
#: k cut points make k + 1 levels, spread evenly over the scores 1..5.
LEVEL_SCORES: dict[int, tuple[int, ...]] = {
    1: (1, 5), 2: (1, 3, 5), 3: (1, 2, 4, 5), 4: (1, 2, 3, 4, 5)}


# ---------------------------------------------------------------------------------------------
# helpers


def _numeric(X: pd.DataFrame, column: str, what: str, param: str) -> np.ndarray:
    """One column of ``X`` as float64 with NaN for NULL; DataContractError when missing or text."""
    if column not in X.columns:
        raise DataContractError(f"the customer frame has no column '{column}' ({what})",
                                f"compute the features first, or set {param} to the column "
                                "that holds it")
    try:
        return pd.to_numeric(X[column]).to_numpy(dtype="float64", na_value=np.nan)
    except (ValueError, TypeError) as exc:
        raise DataContractError(f"column '{column}' ({what}) is not numeric: {exc}") from None


def _rfm_values(X: pd.DataFrame, recency_column: str, frequency_column: str,
                monetary_column: str) -> dict[str, np.ndarray]:
    """R (days), F (purchase occasions: ``frequency`` + 1) and M values of every customer."""
    f = _numeric(X, frequency_column, "F: purchase frequency", "frequency_column")
    return {
        "r": _numeric(X, recency_column, "R: days since the last purchase", "recency_column"),
        "f": f + 1.0 if frequency_column == "frequency" else f,
        "m": _numeric(X, monetary_column, "M: monetary value", "monetary_column"),
    }


def _check_choice(param: str, value: Any, valid: Sequence[str]) -> None:
    if value not in valid:
        raise ConfigError(f"{param} = {value!r} is not valid",
                          "valid values: " + ", ".join(repr(v) for v in valid))


def _cut_list(param: str, value: Any, *, shares: bool) -> tuple[float, ...]:
    """Validate 1 to 4 strictly ascending finite cut points (customer shares in (0, 1))."""
    valid = ("1 to 4 strictly ascending customer shares between 0 and 1, e.g. [0.2, 0.4, 0.6, 0.8]"
             if shares else "1 to 4 strictly ascending numbers, e.g. [30, 60, 90, 180]")
    try:
        if isinstance(value, str | bytes):
            raise TypeError(value)
        cuts = tuple(float(v) for v in value)
        ok = (1 <= len(cuts) <= 4 and all(np.isfinite(cuts))
              and all(a < b for a, b in zip(cuts, cuts[1:], strict=False))
              and not any(isinstance(v, bool) for v in value))
    except (TypeError, ValueError):
        ok = False
    if ok and shares:
        ok = all(0.0 < c < 1.0 for c in cuts)
    if not ok:
        raise ConfigError(f"{param} = {value!r} is not valid", f"valid values: {valid}")
    return cuts


def _score_param(param: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 1 <= value <= 5:
        raise ConfigError(f"{param} = {value!r} is not valid", "valid values: an integer 1..5")
    return int(value)


def _share_edges(values: np.ndarray, cuts: Sequence[float], higher_is_better: bool) -> np.ndarray:
    """Learn ascending edges so that ties are never split (see the module docstring)."""
    v = values[~np.isnan(values)]
    n = v.size
    if n == 0:
        return np.full(len(cuts), np.inf if higher_is_better else -np.inf)
    a = np.sort(v if higher_is_better else -v)
    # the k-th worst value (1-based): passing cut q needs at least k = ceil(q n) strictly worse
    ks = np.ceil(np.round(np.asarray(cuts) * n, 9)).astype(np.int64)
    kth = a[ks - 1]
    if not higher_is_better:
        return np.sort(-kth)  # days: a customer passes when days < edge
    nxt = np.searchsorted(a, kth, side="right")  # first value strictly above the k-th
    return np.where(nxt < n, a[np.minimum(nxt, n - 1)], np.inf)


def _apply_edges(values: np.ndarray, edges: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Scores 1..5 from ascending edges; NULL scores 1."""
    passed = np.searchsorted(edges, values, side="right")  # number of edges <= value
    level = passed if higher_is_better else edges.size - passed
    level = np.where(np.isnan(values), 0, level)
    return np.asarray(LEVEL_SCORES[edges.size], dtype=np.int64)[level]


def _require_fitted(model: Any, attribute: str) -> None:
    if not hasattr(model, attribute):
        raise NotFittedError(f"this {type(model).__name__} is not fitted yet",
                             "call fit(features) first, then transform")


class _Binning:
    """Shared parameter checks of the rank-based / fixed-threshold binning (method, cuts)."""

    method: str
    cuts: tuple[float, ...] | None

    def _init_binning(self, method: str, cuts: Any, thresholds: dict[str, Any]) -> None:
        _check_choice("method", method, METHODS)
        self.method = method
        self.cuts = None if cuts is None else _cut_list("cuts", cuts, shares=True)
        if method == "cuts" and self.cuts is None:
            raise ConfigError("method = 'cuts' needs the parameter cuts",
                              "give cuts as customer shares, e.g. [0.5, 0.8, 0.95]")
        for name, value in thresholds.items():
            if value is not None:
                setattr(self, name, _cut_list(name, value, shares=False))
            elif method == "thresholds":
                raise ConfigError(f"method = 'thresholds' needs the parameter {name}",
                                  f"give {name} as 1 to 4 ascending cut points")
            else:
                setattr(self, name, None)

    def _shares(self) -> tuple[float, ...]:
        return self.cuts if self.method == "cuts" and self.cuts else QUINTILE_CUTS


# ---------------------------------------------------------------------------------------------
# RFM scores


class RFMScorer(_Binning):
    """R, F and M scores 1-5 by quintile, custom customer shares, or fixed thresholds.

    Parameters
    ----------
    method : {"quintile", "thresholds", "cuts"}
        ``"quintile"``: five bins by customer share, learned by :meth:`fit`, ties never split.
        ``"cuts"``: the same with your own ascending shares (``cuts``). ``"thresholds"``: fixed
        cut points in value units from the config (``r_thresholds`` ...); ``fit`` learns nothing.
    cuts : sequence of float, optional
        1 to 4 ascending customer shares in (0, 1), e.g. ``[0.5, 0.8, 0.95]``; only for
        ``method="cuts"``.
    r_thresholds, f_thresholds, m_thresholds : sequence of float, optional
        1 to 4 strictly ascending cut points per dimension; only for ``method="thresholds"``.
        R in days: ``days < cut`` passes (``[30, 60, 90, 180]``: under 30 days scores 5, 180 or
        more scores 1). F in purchase occasions and M in money: ``value >= cut`` passes. With k
        cut points the k + 1 levels are spread over 1..5 (:data:`LEVEL_SCORES`): one cut gives
        1 or 5, so ``r_thresholds=[60], f_thresholds=[5], m_thresholds=[500]`` reads
        "R < 60 days is high, F >= 5, M >= 500".
    recency_column, frequency_column, monetary_column : str
        Feature columns. ``frequency`` (repeat purchase days) is turned into purchase occasions
        (+1); any other frequency column (e.g. ``n_orders``) is used as it is.

    Attributes
    ----------
    edges_ : dict of str to ndarray
        Ascending cut points per dimension ``"r"``, ``"f"``, ``"m"`` (see the module docstring).
    n_fit_ : int or None
        Customers the bins were learned on (None in thresholds mode).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"days_since_last": [1, 10, 100, 200, 300],
    ...                   "frequency": [9, 4, 2, 0, 0], "total_amount": [900, 50, 400, 20, 10]})
    >>> RFMScorer().fit(X).transform(X)["rfm_score"].tolist()
    ['555', '443', '334', '212', '111']
    """

    def __init__(self, method: str = "quintile", *, cuts: Sequence[float] | None = None,
                 r_thresholds: Sequence[float] | None = None,
                 f_thresholds: Sequence[float] | None = None,
                 m_thresholds: Sequence[float] | None = None,
                 recency_column: str = "days_since_last", frequency_column: str = "frequency",
                 monetary_column: str = "total_amount") -> None:
        self._init_binning(method, cuts, {"r_thresholds": r_thresholds,
                                          "f_thresholds": f_thresholds,
                                          "m_thresholds": m_thresholds})
        self.recency_column = recency_column
        self.frequency_column = frequency_column
        self.monetary_column = monetary_column

    def _values(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        return _rfm_values(X, self.recency_column, self.frequency_column, self.monetary_column)

    def fit(self, X: pd.DataFrame | None = None) -> RFMScorer:
        """Learn the bin edges on one period's customers (thresholds mode: take them as given).

        Raises
        ------
        DataContractError
            When a column is missing or not numeric, or (share modes) ``X`` has no rows.
        """
        if self.method == "thresholds":
            self.edges_ = {d: np.asarray(getattr(self, f"{d}_thresholds"), dtype="float64")
                           for d in DIMENSIONS}
            self.n_fit_: int | None = None
            return self
        if X is None or len(X) == 0:
            raise DataContractError("cannot learn RFM bins from an empty customer frame",
                                    "fit on a period that has customers, or use "
                                    "method = 'thresholds'")
        values = self._values(X)
        shares = self._shares()
        self.edges_ = {d: _share_edges(values[d], shares, _HIGHER_IS_BETTER[d])
                       for d in DIMENSIONS}
        self.n_fit_ = len(X)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Score customers with the learned edges.

        Returns
        -------
        DataFrame
            Same index as ``X``; ``rfm_r``, ``rfm_f``, ``rfm_m`` (int 1..5) and ``rfm_score``
            (str, e.g. ``"545"``).
        """
        _require_fitted(self, "edges_")
        values = self._values(X)
        s = {d: _apply_edges(values[d], self.edges_[d], _HIGHER_IS_BETTER[d])
             for d in DIMENSIONS}
        code = (s["r"] * 100 + s["f"] * 10 + s["m"]).astype(str)
        return pd.DataFrame({"rfm_r": s["r"], "rfm_f": s["f"], "rfm_m": s["m"],
                             "rfm_score": pd.array(code, dtype="str")}, index=X.index)

    def fit_transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """``fit(X).transform(X)``."""
        return self.fit(X).transform(X)


# ---------------------------------------------------------------------------------------------
# named segments


def _score_column(scores: pd.DataFrame, column: str) -> np.ndarray:
    values = _numeric(scores, column, "RFM score", column)
    bad = np.isnan(values) | (values < 1) | (values > 5) | (values != np.round(values))
    if bad.any():
        raise DataContractError(f"column '{column}' must hold integer scores 1..5; "
                                f"{int(bad.sum())} row(s) do not",
                                "score the customers with RFMScorer first")
    return values


def assign_segments(scores: pd.DataFrame, segment_map: Sequence[dict[str, Any]] | None = None,
                    *, default: tuple[str, str] = DEFAULT_SEGMENT) -> pd.DataFrame:
    """Name every customer's segment from its R score and FM score (mean of F and M).

    Parameters
    ----------
    scores
        A frame with ``rfm_r``, ``rfm_f``, ``rfm_m`` (integers 1..5), e.g. from
        :meth:`RFMScorer.transform`.
    segment_map
        Rules ``{name_en, name_zh, r: [lo, hi], fm: [lo, hi]}`` (inclusive), tried in order; the
        first match wins. Default: :data:`~tierwise.models.segment_maps.DEFAULT_SEGMENT_MAP`.
    default
        (English, Chinese) name of the catch-all segment for customers no rule matches.

    Returns
    -------
    DataFrame
        Same index as ``scores``; ``rfm_segment`` (English) and ``rfm_segment_zh``. Every
        customer gets exactly one segment.

    Raises
    ------
    ConfigError
        When the map is invalid (see :func:`~tierwise.models.segment_maps.validate_segment_map`).
    """
    rules = validate_segment_map(DEFAULT_SEGMENT_MAP if segment_map is None else segment_map,
                                 default=default)
    r = _score_column(scores, "rfm_r")
    fm = (_score_column(scores, "rfm_f") + _score_column(scores, "rfm_m")) / 2.0
    conditions = [(r >= rule["r"][0]) & (r <= rule["r"][1])
                  & (fm >= rule["fm"][0]) & (fm <= rule["fm"][1]) for rule in rules]
    which = np.select(conditions, np.arange(len(rules)), default=len(rules))
    en = np.array([rule["name_en"] for rule in rules] + [default[0]], dtype=object)
    zh = np.array([rule["name_zh"] for rule in rules] + [default[1]], dtype=object)
    return pd.DataFrame({"rfm_segment": pd.array(en[which], dtype="str"),
                         "rfm_segment_zh": pd.array(zh[which], dtype="str")}, index=scores.index)


# ---------------------------------------------------------------------------------------------
# the Chinese 8-class model


class RFMEightClass:
    """The Chinese 8-class RFM model: each of R, F, M "high" or "low" against the population centre.

    "High" means **strictly better than the centre**: R high when ``days_since_last < centre``
    (bought more recently than average), F high when occasions ``> centre``, M high when
    ``total_amount > centre``. A value exactly at the centre is "low": being average does not make
    a customer important, and with ``center="median"`` on a population where most customers bought
    once (median F = 1), one-time buyers stay F-low instead of everyone becoming F-high. A NULL
    value is "low" and is left out of the centre. When everyone has the same value, nobody is high.

    Parameters
    ----------
    center : {"mean", "median"}
        Population centre each value is compared with.
    recency_column, frequency_column, monetary_column : str
        As in :class:`RFMScorer` (the F comparison is unaffected by the +1 on ``frequency``).

    Attributes
    ----------
    centers_ : dict of str to float
        The centre of ``"r"`` (days), ``"f"`` (occasions), ``"m"`` learned by :meth:`fit`.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"days_since_last": [5, 50], "frequency": [3, 0],
    ...                   "total_amount": [500, 20]})
    >>> RFMEightClass().fit(X).transform(X)["rfm_class_cn"].tolist()
    ['重要价值客户', '一般挽留客户']
    """

    def __init__(self, center: str = "mean", *, recency_column: str = "days_since_last",
                 frequency_column: str = "frequency", monetary_column: str = "total_amount"
                 ) -> None:
        _check_choice("center", center, CENTERS)
        self.center = center
        self.recency_column = recency_column
        self.frequency_column = frequency_column
        self.monetary_column = monetary_column

    def _values(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        return _rfm_values(X, self.recency_column, self.frequency_column, self.monetary_column)

    def fit(self, X: pd.DataFrame) -> RFMEightClass:
        """Learn the population centre of R, F and M on one period's customers."""
        centre = np.mean if self.center == "mean" else np.median
        self.centers_ = {}
        for d, v in self._values(X).items():
            v = v[~np.isnan(v)]
            self.centers_[d] = float(centre(v)) if v.size else float("nan")
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Classify customers against the learned centres.

        Returns
        -------
        DataFrame
            Same index as ``X``; ``rfm_class_cn`` (e.g. 重要价值客户) and ``rfm_class_en``.
        """
        _require_fitted(self, "centers_")
        v, c = self._values(X), self.centers_
        high = {"r": v["r"] < c["r"], "f": v["f"] > c["f"], "m": v["m"] > c["m"]}  # NaN -> False
        code = high["r"].astype(int) * 4 + high["f"].astype(int) * 2 + high["m"].astype(int)
        cn = np.empty(8, dtype=object)
        en = np.empty(8, dtype=object)
        for cls in EIGHT_CLASSES:
            k = int(cls["r"]) * 4 + int(cls["f"]) * 2 + int(cls["m"])
            cn[k], en[k] = cls["name_zh"], cls["name_en"]
        return pd.DataFrame({"rfm_class_cn": pd.array(cn[code], dtype="str"),
                             "rfm_class_en": pd.array(en[code], dtype="str")}, index=X.index)

    def fit_transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """``fit(X).transform(X)``."""
        return self.fit(X).transform(X)


# ---------------------------------------------------------------------------------------------
# the two problem groups


class ProblemGroups(_Binning):
    """Flag "frequent visits, small tickets" and "big tickets, rare visits" customers.

    The ticket (spend per visit, ``mean_amount``) is scored 1-5 like M in :class:`RFMScorer`
    (same binning, ties never split, NULL scores 1); F is the ``rfm_f`` score already computed.

    * ``frequent_small`` (高频低客单): ``rfm_f >= frequent_min_f`` and ticket score
      ``<= small_max_ticket``;
    * ``big_rare`` (大额低频): ticket score ``>= big_min_ticket`` and ``rfm_f <= rare_max_f``;
    * otherwise NULL. A customer with a NULL ticket is never flagged. The two groups cannot
      overlap (the parameters are checked for that).

    Parameters
    ----------
    method, cuts
        As in :class:`RFMScorer`, for the ticket score.
    ticket_thresholds : sequence of float, optional
        1 to 4 ascending money cut points for the ticket (``method="thresholds"``).
    ticket_column : str
        Spend per visit; default ``mean_amount``.
    frequent_min_f, small_max_ticket, big_min_ticket, rare_max_f : int
        Score bounds 1..5 (defaults 4, 2, 4, 2).

    Attributes
    ----------
    edges_ : ndarray
        Ascending ticket edges (a ticket ``>= edge`` passes).
    """

    def __init__(self, method: str = "quintile", *, cuts: Sequence[float] | None = None,
                 ticket_thresholds: Sequence[float] | None = None,
                 ticket_column: str = "mean_amount", frequent_min_f: int = 4,
                 small_max_ticket: int = 2, big_min_ticket: int = 4, rare_max_f: int = 2) -> None:
        self._init_binning(method, cuts, {"ticket_thresholds": ticket_thresholds})
        self.ticket_column = ticket_column
        self.frequent_min_f = _score_param("frequent_min_f", frequent_min_f)
        self.small_max_ticket = _score_param("small_max_ticket", small_max_ticket)
        self.big_min_ticket = _score_param("big_min_ticket", big_min_ticket)
        self.rare_max_f = _score_param("rare_max_f", rare_max_f)
        if self.frequent_min_f <= self.rare_max_f:
            raise ConfigError(f"frequent_min_f = {frequent_min_f} must be above rare_max_f = "
                              f"{rare_max_f}", "otherwise a customer could be in both groups")
        if self.big_min_ticket <= self.small_max_ticket:
            raise ConfigError(f"big_min_ticket = {big_min_ticket} must be above small_max_ticket "
                              f"= {small_max_ticket}", "otherwise a customer could be in both "
                              "groups")

    def _ticket(self, X: pd.DataFrame) -> np.ndarray:
        return _numeric(X, self.ticket_column, "spend per visit", "ticket_column")

    def fit(self, X: pd.DataFrame | None = None) -> ProblemGroups:
        """Learn the ticket bins on one period (thresholds mode: take them as given)."""
        if self.method == "thresholds":
            self.edges_ = np.asarray(self.ticket_thresholds, dtype="float64")
            return self
        if X is None or len(X) == 0:
            raise DataContractError("cannot learn ticket bins from an empty customer frame",
                                    "fit on a period that has customers")
        self.edges_ = _share_edges(self._ticket(X), self._shares(), higher_is_better=True)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Flag customers; ``X`` needs ``rfm_f`` and the ticket column.

        Returns
        -------
        DataFrame
            Same index as ``X``; ``rfm_ticket`` (int 1..5), ``problem_group``
            (``"frequent_small"`` / ``"big_rare"`` / NULL) and ``problem_group_zh``.
        """
        _require_fitted(self, "edges_")
        ticket = self._ticket(X)
        f = _score_column(X, "rfm_f")
        t = _apply_edges(ticket, self.edges_, higher_is_better=True)
        known = ~np.isnan(ticket)
        small = known & (f >= self.frequent_min_f) & (t <= self.small_max_ticket)
        big = known & (t >= self.big_min_ticket) & (f <= self.rare_max_f)
        group = np.select([small, big], ["frequent_small", "big_rare"], default="")
        zh = np.select([small, big], [PROBLEM_GROUPS["frequent_small"][0],
                                      PROBLEM_GROUPS["big_rare"][0]], default="")
        none = ~(small | big)
        return pd.DataFrame({
            "rfm_ticket": t,
            "problem_group": pd.array(np.where(none, None, group), dtype="str"),
            "problem_group_zh": pd.array(np.where(none, None, zh), dtype="str"),
        }, index=X.index)


# ---------------------------------------------------------------------------------------------
# everything at once


def rfm_table(features: pd.DataFrame, fit_on: pd.DataFrame | None = None, *,
              scorer: RFMScorer | None = None, segment_map: Sequence[dict[str, Any]] | None = None,
              eight_class: RFMEightClass | None = None,
              problem_groups: ProblemGroups | None = None) -> pd.DataFrame:
    """Scores, segment, 8-class and problem group of every customer, in one frame.

    Parameters
    ----------
    features
        The per-customer feature frame to score.
    fit_on
        The frame to learn bins and centres on (e.g. the previous period); default ``features``.
    scorer, segment_map, eight_class, problem_groups
        Configured models / map; defaults as in each class. The models are (re)fitted on
        ``fit_on``.

    Returns
    -------
    DataFrame
        Same index as ``features``; ``rfm_r``, ``rfm_f``, ``rfm_m``, ``rfm_score``,
        ``rfm_segment``, ``rfm_segment_zh``, ``rfm_class_cn``, ``rfm_class_en``, ``rfm_ticket``,
        ``problem_group``, ``problem_group_zh``.
    """
    base = features if fit_on is None else fit_on
    scores = (scorer or RFMScorer()).fit(base).transform(features)
    groups_model = (problem_groups or ProblemGroups()).fit(base)
    groups_in = scores.assign(**{groups_model.ticket_column:
                                 features[groups_model.ticket_column]}) \
        if groups_model.ticket_column in features.columns else scores
    return pd.concat([
        scores,
        assign_segments(scores, segment_map),
        (eight_class or RFMEightClass()).fit(base).transform(features),
        groups_model.transform(groups_in),
    ], axis=1)


__all__ = ["RFMScorer", "RFMEightClass", "ProblemGroups", "assign_segments", "rfm_table",
           "METHODS", "CENTERS", "QUINTILE_CUTS", "LEVEL_SCORES"]

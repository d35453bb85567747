"""RFM scoring, the named segments, the Chinese 8-class model and the two problem groups.

All of it works on the per-customer feature frame (``docs/architecture.md``, "Feature columns"):

* **R** is ``days_since_last`` (days from the last purchase to the as-of date; fewer is better),
* **F** is the number of purchase occasions, ``frequency + 1`` (``frequency`` counts *repeat*
  purchase days, lifetimes' definition, so a one-time buyer has F = 1). Any other frequency column
  (e.g. ``n_orders``) is used as it is,
* **M** is ``total_amount`` (net of refunds; configurable).

Scores are integers 1-5 per dimension, 5 best (R reversed: the most recent customers get 5).

Binning by customer share, ties never split, no score wasted
-----------------------------------------------------------
In quintile (and custom-share ``"cuts"``) mode the customers are walked from the worst value up,
level by level. Each level aims at its share of **the customers not yet placed**, spread over the
levels left (the quintiles: a fifth of everyone for score 1; after that, a quarter of the rest for
score 2, and so on), and closes at the change of value nearest that aim (the later one when two
are equally near). Consequences,
all intended and tested:

* customers with equal values always get the same score (ties are never split), and the score is
  monotone in the value;
* the worst value always gets score 1;
* a big tie does not waste scores: when 60 % of customers bought once they all get F = 1, and
  the remaining 40 % are split over F = 2..5 (the old rule, "share strictly worse", skipped F = 2
  and 3 on such data: on CDNOW cohort data F = 2 was never used);
* when every customer has the same value everyone gets 1 (the dimension carries no information);
  with fewer customers than scores the top scores stay empty (2 customers: 1 and 2).

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
RECENCY_BASES = ("rank", "rhythm")
#: R edges of ``recency = "rhythm"``, in typical gaps of the business's regulars: under 1 gap
#: since the last purchase scores 5, under 2 gaps 4, under 4 gaps 3, under 8 gaps 2, else 1.
RHYTHM_GAPS = (1.0, 2.0, 4.0, 8.0)
#: In rank mode, a warning when R = 5 reaches customers this many typical gaps behind.
RHYTHM_WARN_GAPS = 4.0
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
    """Learn ascending edges so that ties are never split and no score is wasted (module notes)."""
    v = values[~np.isnan(values)]
    n = v.size
    if n == 0:
        return np.full(len(cuts), np.inf if higher_is_better else -np.inf)
    a = np.sort(v if higher_is_better else -v)
    widths = np.diff(np.concatenate([[0.0], np.asarray(cuts, dtype=float), [1.0]]))
    bounds = np.flatnonzero(np.diff(a)) + 1  # index of the first value of each new tie group
    bounds = np.append(bounds, n)
    ends, start = [], 0
    for level in range(len(cuts)):
        aim = start + (n - start) * widths[level] / widths[level:].sum()
        after = bounds[bounds > start]
        gap = np.round(np.abs(after - aim), 9)
        end = int(after[np.flatnonzero(gap == gap.min())[-1]])  # nearest change; later on a tie
        if end >= n:
            break
        ends.append(end)
        start = end
    missing = len(cuts) - len(ends)
    if not higher_is_better:
        # days: a customer passes when days < edge, the edge being the last value left behind
        return np.sort(np.concatenate([-a[np.asarray(ends, dtype=np.int64) - 1],
                                       np.full(missing, -np.inf)]))
    return np.concatenate([a[np.asarray(ends, dtype=np.int64)], np.full(missing, np.inf)])


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


def typical_gap(X: pd.DataFrame) -> float | None:
    """The regulars' typical days between purchases (see :attr:`RFMScorer.typical_gap_`)."""
    if not {"recency", "frequency"} <= set(X.columns):
        return None
    x = pd.to_numeric(X["frequency"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    rec = pd.to_numeric(X["recency"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps = rec / x
    for least in (2.0, 1.0):
        chosen = gaps[(x >= least) & np.isfinite(gaps) & (gaps > 0)]
        if chosen.size:
            return float(np.median(chosen))
    return None


def _bin_rule(edges: np.ndarray, d: str, score: int) -> str | None:
    """``"days < 30"``-style text of the values a score covers, None for an unused score."""
    scores = LEVEL_SCORES[edges.size]
    if score not in scores:
        return None
    k, n = scores.index(score), edges.size  # k cuts passed
    if _HIGHER_IS_BETTER[d]:  # value >= edges[k-1] and < edges[k]
        lo, hi, name = (edges[k - 1] if k > 0 else None), (edges[k] if k < n else None), "value"
    else:  # days >= edges[n-k-1] and < edges[n-k]
        lo = edges[n - k - 1] if n - k - 1 >= 0 else None
        hi, name = (edges[n - k] if k > 0 else None), "days"
    lo = lo if lo is not None and np.isfinite(lo) else None
    hi = hi if hi is not None and np.isfinite(hi) else None
    if (k > 0 and edges[k - 1 if _HIGHER_IS_BETTER[d] else n - k] in (np.inf, -np.inf)):
        return None  # a cut nobody passes: the score is empty
    parts = ([f"{name} >= {lo:g}"] if lo is not None else []) + \
        ([f"{name} < {hi:g}"] if hi is not None else [])
    return " and ".join(parts) if parts else "all"


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
    recency : {"rank", "rhythm"}
        ``"rank"``: R by customer share like F and M (or ``r_thresholds``). ``"rhythm"``: R edges
        are ``recency_gaps`` times the business's typical gap (:attr:`typical_gap_`), so R = 5
        means "bought within one usual gap" whatever the share of customers that is.
    recency_gaps : sequence of float
        1 to 4 ascending multiples of the typical gap for ``recency = "rhythm"``.

    Attributes
    ----------
    edges_ : dict of str to ndarray
        Ascending cut points per dimension ``"r"``, ``"f"``, ``"m"`` (see the module docstring).
    n_fit_ : int or None
        Customers the bins were learned on (None in thresholds mode).
    typical_gap_ : float or None
        The regulars' typical days between purchases: the median of ``recency / frequency`` over
        customers with at least 3 purchase occasions (over all repeat buyers when there are
        none); None without ``recency`` and ``frequency`` columns or repeat buyers.
    warnings_ : list of str
        In rank mode, a warning when R = 5 reaches customers more than
        :data:`RHYTHM_WARN_GAPS` typical gaps after their last purchase (cohort data).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"days_since_last": [1, 10, 100, 200, 300],
    ...                   "frequency": [9, 4, 2, 0, 0], "total_amount": [900, 50, 400, 20, 10]})
    >>> RFMScorer().fit(X).transform(X)["rfm_score"].tolist()
    ['545', '433', '324', '212', '111']
    """

    def __init__(self, method: str = "quintile", *, cuts: Sequence[float] | None = None,
                 r_thresholds: Sequence[float] | None = None,
                 f_thresholds: Sequence[float] | None = None,
                 m_thresholds: Sequence[float] | None = None,
                 recency_column: str = "days_since_last", frequency_column: str = "frequency",
                 monetary_column: str = "total_amount", recency: str = "rank",
                 recency_gaps: Sequence[float] = RHYTHM_GAPS) -> None:
        self._init_binning(method, cuts, {"r_thresholds": r_thresholds,
                                          "f_thresholds": f_thresholds,
                                          "m_thresholds": m_thresholds})
        _check_choice("recency", recency, RECENCY_BASES)
        self.recency = recency
        self.recency_gaps = _cut_list("recency_gaps", recency_gaps, shares=False)
        self.recency_column = recency_column
        self.frequency_column = frequency_column
        self.monetary_column = monetary_column

    def _values(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        return _rfm_values(X, self.recency_column, self.frequency_column, self.monetary_column)

    def edges_table(self) -> dict[str, list[float | None]]:
        """The learned edges as plain lists (infinite cuts, passed by nobody, as None)."""
        _require_fitted(self, "edges_")
        return {d: [float(e) if np.isfinite(e) else None for e in self.edges_[d]]
                for d in DIMENSIONS}

    def fit(self, X: pd.DataFrame | None = None) -> RFMScorer:
        """Learn the bin edges on one period's customers (thresholds mode: take them as given).

        Raises
        ------
        DataContractError
            When a column is missing or not numeric, or (share modes) ``X`` has no rows.
        """
        self.typical_gap_ = None if X is None else typical_gap(X)
        self.warnings_: list[str] = []
        if self.method == "thresholds":
            self.edges_ = {d: np.asarray(getattr(self, f"{d}_thresholds"), dtype="float64")
                           for d in DIMENSIONS}
            self.n_fit_: int | None = None
        else:
            if X is None or len(X) == 0:
                raise DataContractError("cannot learn RFM bins from an empty customer frame",
                                        "fit on a period that has customers, or use "
                                        "method = 'thresholds'")
            values = self._values(X)
            shares = self._shares()
            self.edges_ = {d: _share_edges(values[d], shares, _HIGHER_IS_BETTER[d])
                           for d in DIMENSIONS}
            self.n_fit_ = len(X)
        self._fit_recency()
        return self

    def _fit_recency(self) -> None:
        gap = self.typical_gap_
        if self.recency == "rhythm":
            if gap is None:
                raise DataContractError("recency = 'rhythm' needs repeat buyers with 'recency' "
                                        "and 'frequency' to learn the typical gap from",
                                        "use recency = 'rank' on this data")
            self.edges_["r"] = np.asarray(self.recency_gaps, dtype="float64") * gap
            return
        top = self.edges_["r"][0] if self.edges_["r"].size else np.nan
        if gap and np.isfinite(top) and top > RHYTHM_WARN_GAPS * gap:
            self.warnings_.append(
                f"R = 5 goes to customers up to {top - 1:.0f} days after their last purchase, "
                f"more than {RHYTHM_WARN_GAPS:g} times the regulars' typical gap of {gap:.0f} "
                "days: recency ranks are relative to this customer base (cohort data?); set "
                "[rfm] recency = 'rhythm' to score R by the business's rhythm")

    def bins_table(self, X: pd.DataFrame) -> pd.DataFrame:
        """The bins as applied to ``X``: per dimension and score, the edge and the values seen.

        Returns
        -------
        DataFrame
            ``dimension`` (r, f, m), ``score`` (1..5), ``rule`` (the edge as text: R ``days <
            edge``, F and M ``value >= edge``), ``customers``, ``min_value``, ``max_value``
            (R in days, F in purchase occasions, M in money; NULL when the bin is empty).
        """
        _require_fitted(self, "edges_")
        values, scores = self._values(X), self.transform(X)
        rows = []
        for d in DIMENSIONS:
            s, v = scores[f"rfm_{d}"].to_numpy(), values[d]
            for score in range(1, 6):
                inside = v[(s == score) & ~np.isnan(v)]
                rows.append({"dimension": d, "score": score,
                             "rule": _bin_rule(self.edges_[d], d, score),
                             "customers": int((s == score).sum()),
                             "min_value": float(inside.min()) if inside.size else None,
                             "max_value": float(inside.max()) if inside.size else None})
        return pd.DataFrame(rows)

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

    Both groups are judged **among repeat buyers**: how often a customer comes back is only known
    once they have, and a one-time buyer is neither frequent nor "rare" (DOMAIN "Value": the two
    problem groups each get their own playbook, and a one-time buyer's is the welcome, not the
    big-ticket one). Two scores 1-5, learned on the repeat buyers (``frequency > 0``) with the
    same binning as :class:`RFMScorer` (ties never split):

    * the **visit rate** ``rfm_rate``: repeat purchase days per 30 days since the first purchase,
      ``30 x frequency / T`` (a rhythm, so a member of three years and one of three months compare
      fairly; the lifetime count F does not). NULL for one-time buyers and prospects;
    * the **ticket** ``rfm_ticket``: spend per visit (``mean_amount``), scored with the repeat
      buyers' edges for everyone with a ticket.

    Then ``frequent_small`` (高频低客单): ``rfm_rate >= frequent_min_f`` and ticket score
    ``<= small_max_ticket``; ``big_rare`` (大额低频): ticket score ``>= big_min_ticket`` and
    ``rfm_rate <= rare_max_f``; otherwise NULL. The groups cannot overlap (checked).

    Parameters
    ----------
    method, cuts
        As in :class:`RFMScorer`, for both scores.
    ticket_thresholds : sequence of float, optional
        1 to 4 ascending money cut points for the ticket (``method="thresholds"``; the visit
        rate is then still binned by share among repeat buyers).
    ticket_column : str
        Spend per visit; default ``mean_amount``.
    frequent_min_f, small_max_ticket, big_min_ticket, rare_max_f : int
        Score bounds 1..5 (defaults 4, 2, 4, 2); ``frequent_min_f`` and ``rare_max_f`` bound the
        visit-rate score.

    Attributes
    ----------
    edges_ : ndarray
        Ascending ticket edges (a ticket ``>= edge`` passes).
    rate_edges_ : ndarray
        Ascending visit-rate edges (visits per 30 days).
    n_repeat_ : int
        Repeat buyers the scores were learned on.
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

    @staticmethod
    def _rate(X: pd.DataFrame) -> np.ndarray:
        """Repeat purchase days per 30 days since the first purchase; NaN for non-repeat buyers."""
        x = _numeric(X, "frequency", "repeat purchase days", "frequency")
        T = _numeric(X, "T", "days since the first purchase", "T")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((x > 0) & (T > 0), 30.0 * x / T, np.nan)

    def fit(self, X: pd.DataFrame) -> ProblemGroups:
        """Learn the visit-rate and ticket bins on one period's repeat buyers."""
        if X is None or len(X) == 0:
            raise DataContractError("cannot learn ticket bins from an empty customer frame",
                                    "fit on a period that has customers")
        rate = self._rate(X)
        repeat = ~np.isnan(rate)
        self.n_repeat_ = int(repeat.sum())
        self.rate_edges_ = _share_edges(rate, self._shares(), higher_is_better=True)
        if self.method == "thresholds":
            self.edges_ = np.asarray(self.ticket_thresholds, dtype="float64")
        else:
            ticket = np.where(repeat, self._ticket(X), np.nan)
            self.edges_ = _share_edges(ticket, self._shares(), higher_is_better=True)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Flag customers; ``X`` needs ``frequency``, ``T`` and the ticket column.

        Returns
        -------
        DataFrame
            Same index as ``X``; ``rfm_ticket`` (int 1..5), ``rfm_rate`` (Int64 1..5, NULL for
            one-time buyers), ``problem_group`` (``"frequent_small"`` / ``"big_rare"`` / NULL)
            and ``problem_group_zh``.
        """
        _require_fitted(self, "edges_")
        ticket, rate = self._ticket(X), self._rate(X)
        t = _apply_edges(ticket, self.edges_, higher_is_better=True)
        f = _apply_edges(rate, self.rate_edges_, higher_is_better=True)
        known = ~np.isnan(ticket) & ~np.isnan(rate)
        small = known & (f >= self.frequent_min_f) & (t <= self.small_max_ticket)
        big = known & (t >= self.big_min_ticket) & (f <= self.rare_max_f)
        group = np.select([small, big], ["frequent_small", "big_rare"], default="")
        zh = np.select([small, big], [PROBLEM_GROUPS["frequent_small"][0],
                                      PROBLEM_GROUPS["big_rare"][0]], default="")
        none = ~(small | big)
        return pd.DataFrame({
            "rfm_ticket": t,
            "rfm_rate": pd.array(np.where(np.isnan(rate), None, f), dtype="Int64"),
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
        ``rfm_rate``, ``problem_group``, ``problem_group_zh``.
    """
    base = features if fit_on is None else fit_on
    scores = (scorer or RFMScorer()).fit(base).transform(features)
    groups_model = (problem_groups or ProblemGroups()).fit(base)
    return pd.concat([
        scores,
        assign_segments(scores, segment_map),
        (eight_class or RFMEightClass()).fit(base).transform(features),
        groups_model.transform(features),
    ], axis=1)


__all__ = ["RFMScorer", "RFMEightClass", "ProblemGroups", "assign_segments", "rfm_table",
           "typical_gap", "METHODS", "CENTERS", "QUINTILE_CUTS", "LEVEL_SCORES", "RECENCY_BASES",
           "RHYTHM_GAPS"]

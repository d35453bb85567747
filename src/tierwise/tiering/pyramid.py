"""The customer pyramid 客户金字塔: key / major / ordinary / long-tail, fitted on one period.

:class:`Pyramid` follows the estimator contract: ``fit`` learns three cuts (``edges_``: the lowest
ranking value of key, major and ordinary) on one period, ``transform`` applies them to any period
(usually the next). Every graded customer lands in exactly one level: ``value >= edges_[0]`` is
key, else ``>= edges_[1]`` major, else ``>= edges_[2]`` ordinary, else long_tail.

Methods (``[pyramid] method``; more can be added with :func:`register_pyramid_method`, the way the
built-ins are registered):

``customer_share``
    level sizes as shares of the graded customers ranked by value (default 5 / 15 / 30 / 50 %).
    A level holds the whole number of customers nearest to its share (``floor(share x n + 0.5)``
    counted cumulatively), so with 20 customers key holds 1, with 10 it holds 1 (0.5 rounds up),
    with 9 none.
``value_share``
    cumulative value shares (default 50 / 80 / 95 / 100 %): key is the fewest top customers who
    together make at least 50 % of the value, key + major the fewest making 80 %, and so on.
    Negative values count as 0 in the shares.
``thresholds``
    absolute lowest values per level (e.g. 500,000 -> key, as a bank's VIP card does).
``scorecard``
    cut points on the 0-100 score of a :class:`~tierwise.tiering.Scorecard` fitted on the same
    period; the score's per-criterion columns come with the result.

**Ties.** Customers with equal values always share a level. A tie group straddling a relative cut
goes to the higher level by default (``ties = "higher"``: the level may then hold more than its
share), or to the lower one (``ties = "lower"``: a level never holds more than its share, and may
stay empty). When every graded customer of the fit period has the same value, a relative method
cannot rank them: all are ``ordinary`` (and later values below that value long_tail).

**Who is graded.** Only customers with at least ``min_purchases`` purchases (``frequency + 1``,
default 2); the others are ``prospect`` (no purchase) or ``new`` and are reported apart. A graded
customer without a ranking value goes to long_tail (``null_ranking = "lowest"``) or gets no tier
(``"exclude"``); either way it does not count in the shares.

**Hysteresis.** Given the previous snapshot's tiers, a customer keeps its previous level while its
value stays within the level's band widened by the margin (a share of the cut value, or percentile
points of the fit period): a customer hovering around a cut does not flip-flop.

References
----------
.. [1] 《客户关系管理》任务5 客户分级管理 (the four-level customer pyramid and tiered service).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import PYRAMID_LEVELS, PYRAMID_TIERS, PyramidConfig, ScorecardConfig
from ..errors import ConfigError, FitError, NotFittedError
from ._common import Lang, check_lang, customer_ids, fmt, label, numeric_column, purchases
from .policies import SERVICE_POLICIES, TIER_NAMES
from .scorecard import CriteriaLike, Scorecard

_TOL = 1e-9


# ---- the method registry ------------------------------------------------------------------
@dataclass(frozen=True)
class PyramidMethod:
    """A way to learn the pyramid's three cuts.

    Parameters
    ----------
    name
        The value of ``[pyramid] method`` that selects it.
    fit_edges
        ``(values, config) -> edges``: ``values`` are the graded customers' ranking values
        (NaN removed) sorted from highest to lowest; returns the lowest value of key, major and
        ordinary (``inf`` for a level nobody reaches).
    phrase
        ``(level, config, label, lang) -> text``: how a reason names the level, e.g. level 0 of
        customer_share in English: ``"top 5% by predicted CLV"``.
    relative
        True when the cuts depend on the population (then all-equal values are handled apart).
    uses_scorecard
        True when the ranking value is the scorecard score.
    """

    name: str
    fit_edges: Callable[[np.ndarray, PyramidConfig], np.ndarray]
    phrase: Callable[[int, PyramidConfig, str, Lang], str]
    relative: bool = False
    uses_scorecard: bool = False


_METHODS: dict[str, PyramidMethod] = {}


def register_pyramid_method(method: PyramidMethod, *, replace: bool = False) -> None:
    """Make ``method`` selectable as ``[pyramid] method = "<name>"``.

    Raises
    ------
    ConfigError
        A method of that name exists and ``replace`` is False.
    """
    if method.name in _METHODS and not replace:
        raise ConfigError(f"pyramid method {method.name!r} is already registered",
                          "pass replace=True to replace it")
    _METHODS[method.name] = method


def pyramid_methods() -> list[str]:
    """Names of the registered pyramid methods."""
    return sorted(_METHODS)


def get_pyramid_method(name: str) -> PyramidMethod:
    """The registered method ``name``; a ConfigError listing the valid names otherwise."""
    if name not in _METHODS:
        raise ConfigError(f"[pyramid] method {name!r} is not a pyramid method",
                          f"use one of {pyramid_methods()}")
    return _METHODS[name]


def edges_from_counts(values: np.ndarray, counts: np.ndarray, ties: str) -> np.ndarray:
    """Cuts that put the top ``counts[i]`` customers in levels ``0..i``, keeping ties together.

    Parameters
    ----------
    values
        Ranking values sorted from highest to lowest.
    counts
        Cumulative number of customers meant for key, key + major, key + major + ordinary.
    ties
        ``"higher"``: a tie group straddling a cut joins the higher level; ``"lower"``: it drops
        to the lower one.

    Returns
    -------
    numpy.ndarray
        Three cuts (lowest value of each level), ``inf`` where a level is empty.
    """
    n = values.size
    edges = np.full(3, np.inf)
    for i, count in enumerate(int(c) for c in counts):
        if count <= 0:
            continue
        if ties == "higher" or count >= n:
            edges[i] = values[min(count, n) - 1]
            continue
        head = values[:count]
        above = head[head > values[count]]
        edges[i] = above[-1] if above.size else np.inf
    return edges


def _share_counts(cumulative_shares: np.ndarray, n: int) -> np.ndarray:
    return np.floor(cumulative_shares * n + 0.5 + _TOL)


def _customer_share_edges(values: np.ndarray, cfg: PyramidConfig) -> np.ndarray:
    cumulative = np.cumsum(cfg.customer_shares)[:3] / 100.0
    return edges_from_counts(values, _share_counts(cumulative, values.size), cfg.ties)


def _value_share_edges(values: np.ndarray, cfg: PyramidConfig) -> np.ndarray:
    positive = np.clip(values, 0.0, None)
    total = positive.sum()
    if total <= 0:
        return np.full(3, np.inf)
    before = (np.cumsum(positive) - positive) / total
    cuts = np.asarray(cfg.value_shares[:3]) / 100.0
    counts = np.array([np.sum(before < c - _TOL) for c in cuts])
    return edges_from_counts(values, counts, cfg.ties)


def _pct(x: float) -> str:
    return f"{x:g}%"


def _customer_share_phrase(level: int, cfg: PyramidConfig, name: str, lang: Lang) -> str:
    cum = [0.0, *np.cumsum(cfg.customer_shares)]
    if level == 0:
        span = {"en": f"top {_pct(cum[1])}", "zh": f"前{_pct(cum[1])}"}
    elif level == 3:
        span = {"en": f"bottom {_pct(100 - cum[3])}", "zh": f"后{_pct(100 - cum[3])}"}
    else:
        lo, hi = _pct(cum[level]), _pct(cum[level + 1])
        span = {"en": f"top {lo}-{hi}", "zh": f"前{lo}-{hi}"}
    return f"{span['en']} by {name}" if lang == "en" else f"按{name}排名{span['zh']}"


def _value_share_phrase(level: int, cfg: PyramidConfig, name: str, lang: Lang) -> str:
    cum = [0.0, *cfg.value_shares]
    if level == 0:
        en, zh = f"in the first {_pct(cum[1])} of {name}", f"累计贡献前{_pct(cum[1])}的{name}"
    elif level == 3:
        last = _pct(100 - cum[3])
        en, zh = f"in the last {last} of {name}", f"累计贡献最后{last}的{name}"
    else:
        lo, hi = _pct(cum[level]), _pct(cum[level + 1])
        en, zh = f"in {lo}-{hi} of {name}", f"累计贡献{lo}-{hi}的{name}"
    return en if lang == "en" else zh


def _threshold_phrase(level: int, cfg: PyramidConfig, name: str, lang: Lang) -> str:
    if level == 3:
        zh = TIER_NAMES["ordinary"]["zh"]
        return (f"{name} below the ordinary threshold" if lang == "en"
                else f"{name}低于{zh}门槛")
    tier = PYRAMID_LEVELS[level]
    return (f"{name} at or above the {TIER_NAMES[tier]['en']} threshold" if lang == "en"
            else f"{name}达到{TIER_NAMES[tier]['zh']}门槛")


for _method in (
    PyramidMethod("customer_share", _customer_share_edges, _customer_share_phrase, relative=True),
    PyramidMethod("value_share", _value_share_edges, _value_share_phrase, relative=True),
    PyramidMethod("thresholds", lambda v, cfg: np.asarray(cfg.thresholds, dtype=float),
                  _threshold_phrase),
    PyramidMethod("scorecard", lambda v, cfg: np.asarray(cfg.score_cuts, dtype=float),
                  _threshold_phrase, uses_scorecard=True),
):
    register_pyramid_method(_method)


# ---- the estimator ------------------------------------------------------------------------
class Pyramid:
    """Grade customers into key / major / ordinary / long-tail (重要 / 主要 / 普通 / 长尾客户).

    Parameters
    ----------
    config
        The ``[pyramid]`` section; default :class:`~tierwise.config.PyramidConfig`.
    scorecard
        Criteria for the ``scorecard`` method (a ScorecardConfig, a list of criteria or a
        Scorecard whose criteria are reused); default the ``[scorecard]`` defaults. A fresh
        scorecard is fitted on the graded customers of the fit period.

    Attributes
    ----------
    method_ : str
        The method used.
    ranking_ : str
        The ranking column (``"score"`` for the scorecard method).
    edges_ : numpy.ndarray
        Lowest value of key, major and ordinary (``inf``: nobody reaches the level).
    reference_ : numpy.ndarray
        The fit period's graded values, sorted (percentile hysteresis).
    n_graded_ : int
        Graded customers with a value in the fit period.
    no_spread_ : bool
        True when a relative method met all-equal values (everyone ordinary).
    scorecard_ : Scorecard or None
        The fitted scorecard of the scorecard method.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(20)],
    ...                       "frequency": [3] * 20, "total_amount": range(20, 0, -1)})
    >>> out = Pyramid().fit_transform(frame)
    >>> out["tier"].value_counts().to_dict()
    {'long_tail': 10, 'ordinary': 6, 'major': 3, 'key': 1}
    >>> out["tier_reason"].iloc[0]
    'top 5% by total amount (20 >= cut 20)'
    """

    def __init__(self, config: PyramidConfig | None = None,
                 scorecard: CriteriaLike | Scorecard = None) -> None:
        self.config = config if config is not None else PyramidConfig()
        self.scorecard = scorecard
        get_pyramid_method(self.config.method)

    def fit(self, frame: pd.DataFrame) -> Pyramid:
        """Learn the cuts from the graded customers of one period.

        Raises
        ------
        DataContractError
            ``frequency`` is missing (it decides who is graded).
        ConfigError
            The ranking column is missing or not numeric.
        FitError
            A relative or scorecard method found no graded customer to learn from.
        """
        cfg = self.config
        method = get_pyramid_method(cfg.method)
        graded = purchases(frame) >= cfg.min_purchases
        self.method_ = method.name
        self.scorecard_ = None
        if method.uses_scorecard:
            self._fit_scorecard(frame[graded])
            self.ranking_ = "score"
        else:
            self.ranking_ = cfg.ranking or (
                "clv_predicted" if "clv_predicted" in frame.columns else "total_amount")
        values, _ = self._values(frame)
        values = values[graded & ~np.isnan(values)]
        if values.size == 0 and method.relative:
            raise FitError(f"no customer with at least {cfg.min_purchases} purchases and a "
                           f"{self.ranking_} value to learn the pyramid cuts from",
                           "fit on a longer period or use method = 'thresholds'")
        ordered = np.sort(values)[::-1]
        self.no_spread_ = bool(method.relative and ordered[0] == ordered[-1])
        self.edges_ = (np.array([np.inf, np.inf, ordered[0]]) if self.no_spread_
                       else np.asarray(method.fit_edges(ordered, cfg), dtype=float))
        self.reference_ = ordered[::-1].copy()
        self.n_graded_ = int(values.size)
        return self

    def _fit_scorecard(self, graded: pd.DataFrame) -> None:
        criteria = self.scorecard
        if isinstance(criteria, Scorecard):
            criteria = criteria.criteria
        if graded.empty:
            raise FitError(f"no customer with at least {self.config.min_purchases} purchases to "
                           "fit the pyramid's scorecard on", "fit on a longer period")
        self.scorecard_ = Scorecard(criteria or ScorecardConfig()).fit(graded)

    def _values(self, frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame | None]:
        if self.scorecard_ is not None:
            scores = self.scorecard_.transform(frame, prefix="score")
            return scores["score"].to_numpy(dtype=float), scores
        return numeric_column(frame, self.ranking_, "[pyramid] ranking"), None

    def transform(self, frame: pd.DataFrame, previous: pd.Series | pd.DataFrame | None = None,
                  lang: Lang = "en") -> pd.DataFrame:
        """Grade every customer of ``frame`` with the fitted cuts.

        Parameters
        ----------
        frame
            One row per customer: ``customer_id``, ``frequency`` and the ranking column (or the
            scorecard's columns).
        previous
            The previous snapshot's tiers for hysteresis: a Series indexed by ``customer_id``
            or a frame with ``customer_id`` and ``tier``. Ignored when the margin is 0.
        lang
            Language of ``tier_reason``: ``"en"`` or ``"zh"``.

        Returns
        -------
        pandas.DataFrame
            A copy of ``frame`` with ``tier``, ``tier_zh``, ``tier_score``, ``tier_reason`` (and
            the scorecard's ``score`` columns for the scorecard method).
        """
        if not hasattr(self, "edges_"):
            raise NotFittedError("this Pyramid is not fitted yet",
                                 "call fit(frame) on a reference period first")
        lang = check_lang(lang)
        values, scores = self._values(frame)
        count = purchases(frame)
        status = np.where(count <= 0, "prospect",
                          np.where(count < self.config.min_purchases, "new", "graded"))
        null = np.isnan(values)
        raw = np.sum(values[:, None] < self.edges_[None, :], axis=1)
        level = np.where(null, 3 if self.config.null_ranking == "lowest" else -1, raw)
        held = np.zeros(len(frame), dtype=bool)
        if previous is not None and self.config.hysteresis.margin > 0:
            prev = _previous_levels(previous, frame)
            held = (status == "graded") & ~null & (prev >= 0) & (prev != raw)
            held &= self._within_band(values, np.where(prev >= 0, prev, 0))
            level = np.where(held, prev, level)
        tiers = [s if s != "graded" else (PYRAMID_LEVELS[lv] if lv >= 0 else None)
                 for s, lv in zip(status, level)]
        out = frame.copy()
        if scores is not None:
            out[list(scores.columns)] = scores
        out["tier"] = pd.Series(tiers, index=frame.index, dtype=object)
        out["tier_zh"] = out["tier"].map(lambda t: TIER_NAMES[t]["zh"] if t else None)
        out["tier_score"] = values
        out["tier_reason"] = self._reasons(values, count, status, level, held, lang)
        return out

    def fit_transform(self, frame: pd.DataFrame, previous: pd.Series | pd.DataFrame | None = None,
                      lang: Lang = "en") -> pd.DataFrame:
        """``fit(frame)`` then ``transform(frame, previous, lang)``."""
        return self.fit(frame).transform(frame, previous, lang)

    # ---- hysteresis ------------------------------------------------------------------------
    def _within_band(self, values: np.ndarray, prev: np.ndarray) -> np.ndarray:
        """True where a value lies in its previous level's band widened by the margin."""
        bounds = np.concatenate([[np.inf], self.edges_, [-np.inf]])
        upper, lower = bounds[prev], bounds[prev + 1]
        hyst = self.config.hysteresis
        if hyst.unit == "percentile_points":
            values, upper, lower = (self._percentile(x) for x in (values, upper, lower))
            margin_up = margin_down = np.full(values.shape, hyst.margin)
        else:
            margin_up = np.where(np.isfinite(upper), hyst.margin * np.abs(upper), 0.0)
            margin_down = np.where(np.isfinite(lower), hyst.margin * np.abs(lower), 0.0)
        with np.errstate(invalid="ignore"):
            return (values >= lower - margin_down) & (values < upper + margin_up)

    def _percentile(self, x: np.ndarray) -> np.ndarray:
        """Percent of the fit period's values below ``x`` (infinities kept)."""
        ref = self.reference_
        pct = np.searchsorted(ref, x, side="left") / max(ref.size, 1) * 100.0
        return np.where(np.isinf(x), x, pct)

    # ---- reasons ---------------------------------------------------------------------------
    def _reasons(self, values: np.ndarray, count: np.ndarray, status: np.ndarray,
                 level: np.ndarray, held: np.ndarray, lang: Lang) -> list[str]:
        name = label(self.ranking_, lang)
        method = get_pyramid_method(self.method_)
        phrases = [method.phrase(i, self.config, name, lang) for i in range(4)]
        out = []
        for v, k, s, lv, h in zip(values, count, status, level, held):
            if s != "graded":
                out.append(_ungraded_reason(s, int(k), self.config.min_purchases, lang))
            elif math.isnan(v):
                out.append(_null_reason(lv, name, lang))
            elif h:
                out.append(self._held_reason(int(lv), v, lang))
            elif self.no_spread_ and lv == 2:
                out.append(_no_spread_reason(name, self.edges_[2], lang))
            else:
                out.append(phrases[lv] + _cut_text(v, self.edges_, int(lv), lang))
        return out

    def _held_reason(self, lv: int, v: float, lang: Lang) -> str:
        bounds = np.concatenate([[np.inf], self.edges_, [-np.inf]])
        cut = bounds[lv] if v >= bounds[lv] else bounds[lv + 1]
        hyst = self.config.hysteresis
        margin = (f"{hyst.margin:.0%}" if hyst.unit == "relative"
                  else f"{hyst.margin:g} percentile points")
        tier = TIER_NAMES[PYRAMID_LEVELS[lv]]
        if lang == "en":
            return (f"stays {tier['en']} (hysteresis): {fmt(v)} has not passed the cut "
                    f"{fmt(cut)} by the margin of {margin}")
        margin = margin.replace("percentile points", "个百分点")
        return f"保持{tier['zh']}（防抖）：{fmt(v)} 越过分界 {fmt(cut)} 未达 {margin}"

    # ---- explanation -----------------------------------------------------------------------
    def levels_table(self, lang: Lang = "en") -> pd.DataFrame:
        """The fitted levels: tier, name, lowest and highest value, and how the level is defined."""
        if not hasattr(self, "edges_"):
            raise NotFittedError("this Pyramid is not fitted yet", "call fit(frame) first")
        lang = check_lang(lang)
        name = label(self.ranking_, lang)
        method = get_pyramid_method(self.method_)
        bounds = np.concatenate([[np.inf], self.edges_, [-np.inf]])
        return pd.DataFrame({
            "tier": list(PYRAMID_LEVELS),
            "name": [TIER_NAMES[t][lang] for t in PYRAMID_LEVELS],
            "lowest": bounds[1:], "below": bounds[:-1],
            "definition": [method.phrase(i, self.config, name, lang) for i in range(4)],
        })


def _cut_text(v: float, edges: np.ndarray, lv: int, lang: Lang) -> str:
    if lv < 3:
        return f" ({fmt(v)} >= cut {fmt(edges[lv])})" if lang == "en" \
            else f"（{fmt(v)} ≥ 分界 {fmt(edges[lv])}）"
    if not np.isfinite(edges[2]):
        return ""
    return f" ({fmt(v)} < cut {fmt(edges[2])})" if lang == "en" \
        else f"（{fmt(v)} < 分界 {fmt(edges[2])}）"


def _ungraded_reason(status: str, count: int, needed: int, lang: Lang) -> str:
    if status == "prospect":
        return ("no purchase yet: prospect, not graded" if lang == "en"
                else "尚无购买：潜在客户，不参与分级")
    return (f"{count} purchase(s), fewer than the {needed} needed to be graded: new customer"
            if lang == "en" else f"仅 {count} 次购买（满 {needed} 次才分级）：新客户")


def _null_reason(level: int, name: str, lang: Lang) -> str:
    if level < 0:
        return f"not graded: no {name} value" if lang == "en" else f"未分级：无{name}数值"
    return (f"no {name} value: placed in the lowest level" if lang == "en"
            else f"无{name}数值：归入最低层级")


def _no_spread_reason(name: str, value: float, lang: Lang) -> str:
    if lang == "en":
        return (f"every graded customer of the fit period had the same {name} ({fmt(value)}): "
                "a relative cut cannot rank them, so all are ordinary")
    return f"拟合期所有参与分级的客户{name}相同（{fmt(value)}），相对分界无法区分，均为普通客户"


def _previous_levels(previous: pd.Series | pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """The previous level (0-3) of each row of ``frame``; -1 when there was none."""
    if isinstance(previous, pd.DataFrame):
        missing = [c for c in ("customer_id", "tier") if c not in previous.columns]
        if missing:
            raise ConfigError(f"previous tiers need columns {missing}",
                              "pass the previous snapshot's customer_id and tier")
        previous = previous.set_index("customer_id")["tier"]
    prev = previous.copy()
    prev.index = prev.index.astype(str).str.strip()
    prev = prev[~prev.index.duplicated(keep="last")]
    codes = {tier: i for i, tier in enumerate(PYRAMID_LEVELS)}
    mapped = customer_ids(frame).map(prev).map(codes)
    return mapped.fillna(-1).to_numpy(dtype=int)


# ---- policies and summaries ---------------------------------------------------------------
def service_policy(tier: str, lang: Lang = "en",
                   config: PyramidConfig | None = None) -> dict[str, Any]:
    """The service policy of one tier: benefits, response time, dedicated manager, payment terms.

    The built-in texts (:data:`~tierwise.tiering.policies.SERVICE_POLICIES`) with the changes of
    ``config.policies`` laid over them key by key.

    Examples
    --------
    >>> service_policy("key", "zh")["dedicated_manager"]
    True
    """
    lang = check_lang(lang)
    if tier not in SERVICE_POLICIES:
        raise ConfigError(f"no service policy for tier {tier!r}",
                          f"use one of {list(PYRAMID_TIERS)}")
    policy = dict(SERVICE_POLICIES[tier])
    change = (config or PyramidConfig()).policies.get(tier)
    if change is not None:
        policy.update(change.model_dump(exclude_none=True))
    return {"tier": tier, "name": TIER_NAMES[tier][lang],
            "benefits": policy[f"benefits_{lang}"],
            "response_time": policy[f"response_time_{lang}"],
            "dedicated_manager": policy["dedicated_manager"],
            "payment_terms": policy[f"payment_terms_{lang}"]}


def service_policy_table(lang: Lang = "en", config: PyramidConfig | None = None) -> pd.DataFrame:
    """Every tier's service policy, top level first, then ``new`` and ``prospect``."""
    return pd.DataFrame([service_policy(t, lang, config) for t in PYRAMID_TIERS])


def pyramid_summary(tiered: pd.DataFrame, value: str = "total_amount",
                    lang: Lang = "en") -> pd.DataFrame:
    """Customers and value per tier of a graded frame (the output of :meth:`Pyramid.transform`).

    Returns
    -------
    pandas.DataFrame
        One row per tier in pyramid order: ``tier``, ``name``, ``customers``,
        ``customer_share`` and ``value_share`` (0-1, of all customers / of the total value),
        ``value``.
    """
    lang = check_lang(lang)
    amounts = pd.Series(numeric_column(tiered, value, "pyramid summary"), index=tiered.index)
    rows = []
    for tier in PYRAMID_TIERS:
        mask = (tiered["tier"] == tier).to_numpy()
        rows.append({"tier": tier, "name": TIER_NAMES[tier][lang], "customers": int(mask.sum()),
                     "value": float(amounts[mask].sum())})
    out = pd.DataFrame(rows)
    out["customer_share"] = out["customers"] / max(len(tiered), 1)
    total = out["value"].sum()
    out["value_share"] = out["value"] / total if total else 0.0
    return out[["tier", "name", "customers", "customer_share", "value", "value_share"]]


__all__ = [
    "Pyramid",
    "PyramidMethod",
    "edges_from_counts",
    "get_pyramid_method",
    "pyramid_methods",
    "pyramid_summary",
    "register_pyramid_method",
    "service_policy",
    "service_policy_table",
]

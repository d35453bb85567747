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

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..config import PYRAMID_LEVELS, PYRAMID_TIERS, PyramidConfig, ScorecardConfig
from ..errors import ConfigError, FitError, NotFittedError
from ..i18n import t
from ..i18n.render import reason_part
from ..i18n.render import plain_number as fmt
from ._common import Lang, check_lang, customer_ids, label, numeric_column, purchases
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
        customer_share in English: ``"top 5% by predicted CLV"``. Built-in methods make it from
        ``parts``; a method without ``parts`` keeps its phrase's words in each stored reason.
    relative
        True when the cuts depend on the population (then all-equal values are handled apart).
    uses_scorecard
        True when the ranking value is the scorecard score.
    parts
        ``(level, config) -> (catalogue key, fields)``: the phrase as a code and its figures,
        which is what the store keeps (``by`` names the ranking column, ``tier`` a tier code).
    """

    name: str
    fit_edges: Callable[[np.ndarray, PyramidConfig], np.ndarray]
    phrase: Callable[[int, PyramidConfig, str, Lang], str]
    relative: bool = False
    uses_scorecard: bool = False
    parts: Callable[[int, PyramidConfig], tuple[str, dict[str, Any]]] | None = None


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


def _customer_share_parts(level: int, cfg: PyramidConfig) -> tuple[str, dict[str, Any]]:
    cum = [0.0, *np.cumsum(cfg.customer_shares)]
    if level == 0:
        return "tier_reason.top", {"hi": _pct(cum[1])}
    if level == 3:
        return "tier_reason.bottom", {"lo": _pct(100 - cum[3])}
    return "tier_reason.span", {"lo": _pct(cum[level]), "hi": _pct(cum[level + 1])}


def _value_share_parts(level: int, cfg: PyramidConfig) -> tuple[str, dict[str, Any]]:
    cum = [0.0, *cfg.value_shares]
    if level == 0:
        return "tier_reason.first", {"hi": _pct(cum[1])}
    if level == 3:
        return "tier_reason.last", {"lo": _pct(100 - cum[3])}
    return "tier_reason.within", {"lo": _pct(cum[level]), "hi": _pct(cum[level + 1])}


def _threshold_parts(level: int, cfg: PyramidConfig) -> tuple[str, dict[str, Any]]:
    if level == 3:
        return "tier_reason.below_threshold", {"tier": "ordinary"}
    return "tier_reason.at_threshold", {"tier": PYRAMID_LEVELS[level]}


def _catalogue_phrase(parts: Callable[[int, PyramidConfig], tuple[str, dict[str, Any]]]
                      ) -> Callable[[int, PyramidConfig, str, Lang], str]:
    """A method's ``phrase`` in words from the catalogue, for its ``parts``."""
    def phrase(level: int, cfg: PyramidConfig, name: str, lang: Lang) -> str:
        key, fields = parts(level, cfg)
        worded = {**fields, "name": name}
        if "tier" in fields:
            worded["tier"] = TIER_NAMES[fields["tier"]][lang]
        return t(key, lang, **worded)
    return phrase


for _name, _edges, _parts, _relative, _scorecard in (
    ("customer_share", _customer_share_edges, _customer_share_parts, True, False),
    ("value_share", _value_share_edges, _value_share_parts, True, False),
    ("thresholds", lambda v, cfg: np.asarray(cfg.thresholds, dtype=float), _threshold_parts,
     False, False),
    ("scorecard", lambda v, cfg: np.asarray(cfg.score_cuts, dtype=float), _threshold_parts,
     False, True),
):
    register_pyramid_method(PyramidMethod(_name, _edges, _catalogue_phrase(_parts), _relative,
                                          _scorecard, _parts))


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
                  lang: Lang = "en", *, words: bool = True) -> pd.DataFrame:
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
        words
            False to leave ``tier_reason`` out (the store keeps only ``tier_reason_args`` and
            words it when read): about half the time on a million customers.

        Returns
        -------
        pandas.DataFrame
            A copy of ``frame`` with ``tier``, ``tier_zh``, ``tier_score``, ``tier_reason`` (in
            words) and ``tier_reason_args`` (its code and figures, what the store keeps) (and
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
        out["tier_reason_args"], reasons = self._reasons(values, count, status, level, held,
                                                         lang, words)
        if reasons is not None:
            out["tier_reason"] = reasons
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
                 level: np.ndarray, held: np.ndarray, lang: Lang, with_words: bool = True
                 ) -> tuple[list[str], list[str] | None]:
        """Each customer's reason as the store keeps it (a JSON list of one catalogue part)
        and in words (``lang``).

        The common case, a customer ranked into a level, is written from per-level pieces made
        once (the phrase's JSON and words), so a million customers cost two string joins each.
        Without words the JSON is put together a column at a time (:meth:`_reason_args`; the
        same text, compared with this loop in tests/test_tiering_pyramid.py).
        """
        if not with_words:
            return self._reason_args(values, count, status, level, held), None
        cfg = self.config
        by = self.ranking_
        method = get_pyramid_method(self.method_)
        name = label(by, lang)
        phrase_words = [method.phrase(i, cfg, name, lang) for i in range(4)]
        phrase_json = [json.dumps(self._phrase_part(i), ensure_ascii=False) for i in range(4)]
        last_cut = float(self.edges_[2]) if np.isfinite(self.edges_[2]) else None
        cut_above, cut_below = t("tier_reason.cut_above", lang, v="{v}", cut="{cut}"), \
            t("tier_reason.cut_below", lang, v="{v}", cut="{cut}")
        args: list[str] = []
        words: list[str] = []
        for v, k, s, lv, h in zip(values.tolist(), count.tolist(), status.tolist(),
                                  level.tolist(), held.tolist()):
            ranked = s == "graded" and not math.isnan(v) and not h \
                and not (self.no_spread_ and lv == 2)
            if ranked and math.isfinite(v):
                cut = float(self.edges_[lv]) if lv < 3 else last_cut
                args.append(f'[["tier.rank",{{"phrase":{phrase_json[lv]},"v":{v!r},'
                            f'"cut":{"null" if cut is None else repr(cut)},'
                            f'"below":{"true" if lv == 3 else "false"}}}]]')
                if not with_words:
                    continue
                if cut is None:
                    words.append(phrase_words[lv])
                else:
                    words.append(phrase_words[lv] + (cut_below if lv == 3 else cut_above).format(
                        v=fmt(v), cut=fmt(cut)))
                continue
            key, fields = (self._rank_part(v, int(lv)) if ranked
                           else self._other_reason(v, int(k), s, int(lv), bool(h)))
            args.append(json.dumps([[key, fields]], ensure_ascii=False))
            if with_words:
                words.append(reason_part(key, fields, lang))
        return args, words if with_words else None

    def _reason_args(self, values: np.ndarray, count: np.ndarray, status: np.ndarray,
                     level: np.ndarray, held: np.ndarray) -> list[str]:
        """Each customer's reason as the store keeps it, a column at a time (issue 16).

        A ranked customer's JSON is its level's head, the figure's ``repr`` and its level's
        tail; the rest (ungraded, no value, held, no spread: the same reasons as
        :meth:`_reasons`) one by one, each distinct ungraded reason made once.
        """
        n = len(values)
        level = np.asarray(level, dtype=np.int64)
        with np.errstate(invalid="ignore"):
            ranked = (status == "graded") & ~np.isnan(values) & ~held \
                & ~(self.no_spread_ & (level == 2)) & np.isfinite(values)
        last_cut = float(self.edges_[2]) if np.isfinite(self.edges_[2]) else None
        heads, tails = np.empty(4, dtype=object), np.empty(4, dtype=object)
        for lv in range(4):
            cut = float(self.edges_[lv]) if lv < 3 else last_cut
            heads[lv] = ('[["tier.rank",{"phrase":'
                         + json.dumps(self._phrase_part(lv), ensure_ascii=False) + ',"v":')
            tails[lv] = (f',"cut":{"null" if cut is None else repr(cut)},'
                         f'"below":{"true" if lv == 3 else "false"}}}]]')
        args = np.empty(n, dtype=object)
        rows = np.flatnonzero(ranked)
        lv = level[rows].clip(0, 3)
        args[rows] = heads[lv] + np.array(list(map(repr, values[rows].tolist())),
                                          dtype=object) + tails[lv]
        made: dict[tuple[str, int], str] = {}
        for i in np.flatnonzero(~ranked).tolist():
            s, v, k = str(status[i]), float(values[i]), int(count[i])
            if s != "graded" and (s, k) in made:
                args[i] = made[(s, k)]
                continue
            key, fields = (self._rank_part(v, int(level[i])) if s == "graded" and not
                           math.isnan(v) and not held[i] and not (self.no_spread_ and
                                                                  level[i] == 2)
                           else self._other_reason(v, k, s, int(level[i]), bool(held[i])))
            args[i] = json.dumps([[key, fields]], ensure_ascii=False)
            if s != "graded":
                made[(s, k)] = args[i]
        return args.tolist()

    def _rank_part(self, v: float, lv: int) -> tuple[str, dict[str, Any]]:
        """A ranked customer's reason as one part (the fast path writes the same JSON)."""
        cut = self.edges_[lv] if lv < 3 else self.edges_[2]
        return "tier.rank", {"phrase": self._phrase_part(lv), "v": v,
                             "cut": float(cut) if np.isfinite(cut) else None, "below": lv == 3}

    def _phrase_part(self, level: int) -> Any:
        method = get_pyramid_method(self.method_)
        if method.parts is None:
            name = {lg: label(self.ranking_, lg) for lg in ("en", "zh")}
            return {"text": {lg: method.phrase(level, self.config, name[lg], lg)  # type: ignore[arg-type]
                             for lg in ("en", "zh")}}
        key, fields = method.parts(level, self.config)
        return [key, {**fields, "by": self.ranking_}]

    def _other_reason(self, v: float, count: int, status: str, lv: int,
                      held: bool) -> tuple[str, dict[str, Any]]:
        """The reason of a customer not simply ranked: ungraded, no value, held or no spread."""
        if status == "prospect":
            return "tier_reason.prospect", {}
        if status != "graded":
            return "tier_reason.new", {"count": count, "needed": self.config.min_purchases}
        if math.isnan(v):
            key = "tier_reason.not_graded" if lv < 0 else "tier_reason.null_lowest"
            return key, {"by": self.ranking_}
        if held:
            bounds = np.concatenate([[np.inf], self.edges_, [-np.inf]])
            cut = bounds[lv] if v >= bounds[lv] else bounds[lv + 1]
            hyst = self.config.hysteresis
            return "tier_reason.held", {"tier": PYRAMID_LEVELS[lv], "v": v, "cut": float(cut),
                                        "margin": hyst.margin, "unit": hyst.unit}
        return "tier_reason.no_spread", {"by": self.ranking_, "v": float(self.edges_[2])}

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

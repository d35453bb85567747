"""A selection matrix that learns from the best (关键客户: study the most successful relationships).

The key-account article chooses the selection criteria by studying the relationships that went
best. :func:`learn_selection` does that on the snapshots the store keeps:

1. **Growth** per account over the snapshots given (:func:`account_growth`): the revenue of the
   snapshots' periods against the same periods a year earlier,
   ``sum(value_period) / sum(value_same_period_ly) - 1``. Seasons cancel out, and every snapshot
   counts. Accounts without revenue a year earlier (new ones) have no growth to learn from and
   are left out (counted).
2. **The growers**: the ``top_share`` (default 20 %) of those accounts that grew most.
3. **Evidence per criterion**, on the criterion's normalised value (0-100, exactly as the
   scorecard would see it, learned on the *earliest* snapshot: what was known before the growth):
   the Spearman rank correlation with growth and its p-value, the mean normalised value of the
   growers and of the rest, the accounts that had a value (``n``), and a standardised
   coefficient from an L2 logistic regression of grower / not grower on every criterion at once
   (so two criteria that say the same thing, revenue and margin, do not both take the credit).
4. **Proposed weights**: positive coefficients of criteria whose correlation with growth is
   positive and significant (p < ``alpha``), normalised to sum to 1; weights under
   ``min_weight`` are dropped and the rest renormalised; at most 8 criteria.
5. **Candidates**: numeric customer columns (ratings such as ``willingness_to_partner``) that the
   configured matrix does not use are tried too; the proposal may add them.
6. **Comparison**: how well the configured weights and the proposed ones rank the growers:
   Spearman of score vs growth, the share of growers among the top-ranked accounts, and for the
   proposal also the same figures out of sample (5-fold: weights learned without the accounts
   they score), so the proposal is not judged on the data that made it.
7. **Look-alikes**: the current (latest snapshot) accounts scored with the proposed weights, the
   best first, with whether they are a key account now.

References
----------
.. [1] The key-account article in the seeds (choose the criteria of the selection matrix by
   studying the most successful relationships).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ..config import SCORECARD_MAX_CRITERIA, CriterionConfig, KeyAccountsConfig
from ..errors import DataContractError
from .scorecard import Scorecard

GROWTH_COLUMNS = ("customer_id", "value_period", "value_same_period_ly")
#: Columns of a snapshot that are never candidate criteria (features, results, codes).
_NOT_CANDIDATES = {"customer_key", "age"}


@dataclass
class CriterionEvidence:
    """Why a criterion got its proposed weight."""

    name: str
    source: str
    normalise: str
    configured_weight: float
    proposed_weight: float
    rho: float
    p_value: float
    coefficient: float
    mean_growers: float
    mean_rest: float
    n: int
    candidate: bool = False
    bounds: list[float] | None = None
    direction: str = "higher_better"
    mapping: dict[str, float] | None = None


@dataclass
class SelectionProposal:
    """Proposed criterion weights with their evidence, comparison and look-alike accounts."""

    runs: list[int]
    periods: list[str]
    accounts: int
    growers: int
    left_out_new: int
    top_share: float
    criteria: list[CriterionEvidence]
    comparison: dict[str, float | None]
    top_growers: list[dict[str, Any]] = field(default_factory=list)
    lookalikes: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def weights(self) -> dict[str, float]:
        """``name -> proposed weight`` of the criteria the proposal keeps (sum 1)."""
        return {c.name: c.proposed_weight for c in self.criteria if c.proposed_weight > 0}

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self), default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    return str(value)


# ---- growth -------------------------------------------------------------------------------
def account_growth(snapshots: list[pd.DataFrame]) -> pd.DataFrame:
    """Revenue growth per account over snapshots: their periods against a year earlier.

    Parameters
    ----------
    snapshots
        Per-customer snapshots (one per period), each with ``customer_id``, ``value_period`` and
        ``value_same_period_ly``.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``revenue`` (sum of the periods), ``revenue_ly`` (the same periods a
        year earlier) and ``growth`` (``revenue / revenue_ly - 1``; NaN without revenue a year
        earlier).

    Examples
    --------
    >>> s = pd.DataFrame({"customer_id": ["a", "b"], "value_period": [30.0, 10.0],
    ...                   "value_same_period_ly": [10.0, 0.0]})
    >>> account_growth([s])["growth"].tolist()
    [2.0, nan]
    """
    if not snapshots:
        raise DataContractError("learning the selection matrix needs at least one snapshot",
                                "run 'tierwise run' for a few periods first")
    parts = []
    for snap in snapshots:
        missing = [c for c in GROWTH_COLUMNS if c not in snap.columns]
        if missing:
            raise DataContractError(f"a snapshot lacks column(s) {missing}",
                                    "run 'tierwise run' again with this version of tierwise")
        parts.append(snap.loc[:, list(GROWTH_COLUMNS)])
    frame = pd.concat(parts, ignore_index=True)
    frame["customer_id"] = frame["customer_id"].astype(str)
    sums = frame.groupby("customer_id", sort=True).agg(
        revenue=("value_period", lambda s: float(s.fillna(0).sum())),
        revenue_ly=("value_same_period_ly", lambda s: float(s.fillna(0).sum())))
    ly = sums["revenue_ly"].to_numpy(dtype=float)
    sums["growth"] = np.where(ly > 0, sums["revenue"].to_numpy(dtype=float) / np.where(
        ly > 0, ly, 1.0) - 1.0, np.nan)
    return sums.reset_index()


# ---- candidates and normalised values -----------------------------------------------------
def candidate_criteria(frame: pd.DataFrame, used: set[str], columns: list[str] | None = None
                       ) -> list[CriterionConfig]:
    """Numeric customer columns the matrix does not use, as criteria (weight to be learned).

    ``columns`` names them; by default every user column of ``frame`` (those the customers
    file brought beyond the standard ones) with numbers for at least half of the accounts and
    at least three distinct values. A column of whole numbers within 1-5 is a rating
    (``minmax`` with bounds 1-5); anything else is ranked (``percentile``).
    """
    names = columns if columns is not None else [
        c for c in frame.columns if c not in used and c not in _NOT_CANDIDATES]
    found = []
    for col in names:
        if col not in frame.columns:
            raise DataContractError(f"candidate column '{col}' is not in the snapshot",
                                    f"available columns: {sorted(map(str, frame.columns))}")
        values = pd.to_numeric(frame[col], errors="coerce")
        usable = values.dropna()
        if columns is None and (len(usable) < 0.5 * len(frame) or usable.nunique() < 3):
            continue
        rating = bool(len(usable)) and usable.between(1, 5).all() and \
            (usable == usable.round()).all()
        found.append(CriterionConfig(
            name=str(col), source=str(col), weight=1.0, optional=True,
            normalise="minmax" if rating else "percentile",
            bounds=(1.0, 5.0) if rating else None))
    return found


def user_columns(snapshot: pd.DataFrame) -> pd.DataFrame:
    """The snapshot with its ``attributes`` (user columns of the customers file) as columns,
    and a list of those column names in ``frame.attrs["user_columns"]``."""
    frame = snapshot.reset_index(drop=True)
    raw = frame["attributes"] if "attributes" in frame.columns else pd.Series([None] * len(frame))
    attrs = raw.map(lambda s: json.loads(s) if isinstance(s, str) and s.strip() else
                    (s if isinstance(s, dict) else {}))
    extra = pd.DataFrame(attrs.tolist(), index=frame.index)
    extra = extra[[c for c in extra.columns if c not in frame.columns]]
    for col in extra.columns:
        numeric = pd.to_numeric(extra[col], errors="coerce")
        if numeric.notna().sum() == extra[col].notna().sum():
            extra[col] = numeric
    out = pd.concat([frame, extra], axis=1)
    out.attrs["user_columns"] = [str(c) for c in extra.columns]
    return out


def _normalised(criteria: list[CriterionConfig], frame: pd.DataFrame
                ) -> tuple[pd.DataFrame, list[CriterionConfig]]:
    """Each criterion's 0-100 value as the scorecard sees it (missing: 0), and those usable.

    Every criterion is scored on its own (a one-criterion scorecard of weight 1), so the matrix
    and its candidates may together exceed the scorecard's eight criteria. An optional criterion
    whose column is absent or empty is left out, as the scorecard drops it.
    """
    values, kept = {}, []
    for c in criteria:
        if c.optional and (c.source not in frame.columns or frame[c.source].isna().all()):
            continue
        card = Scorecard([c.model_copy(update={"weight": 1.0})]).fit(frame)
        values[c.name] = card.transform(frame, prefix="n")["n"].to_numpy(dtype=float)
        kept.append(c)
    return pd.DataFrame(values, index=frame.index), kept


# ---- the learning -------------------------------------------------------------------------
def learn_selection(snapshots: list[pd.DataFrame], current: pd.DataFrame,
                    config: KeyAccountsConfig | None = None, *, top_share: float = 0.2,
                    candidates: list[str] | None = None, alpha: float = 0.05,
                    min_weight: float = 0.05, lookalikes: int = 10,
                    runs: list[int] | None = None, periods: list[str] | None = None
                    ) -> SelectionProposal:
    """Propose selection-matrix weights from the accounts that grew most.

    Parameters
    ----------
    snapshots
        Past snapshots, oldest first (criteria are read from the first, growth from all).
    current
        The latest snapshot: the accounts to find look-alikes among.
    config
        The ``[key_accounts]`` section whose criteria are the starting point.
    top_share
        Share of the accounts with a growth figure that count as growers (default 20 %).
    candidates
        Extra columns to try as criteria; default: every numeric user column not in the matrix.
    alpha, min_weight
        Significance a criterion needs to get weight; the smallest weight kept.
    lookalikes
        How many current accounts to list.

    Returns
    -------
    SelectionProposal
    """
    cfg = config or KeyAccountsConfig()
    base = user_columns(snapshots[0])
    configured = list(cfg.criteria)
    used = {c.source for c in configured} | {g.column for g in cfg.gates}
    extra = candidate_criteria(base, used | _result_columns(base), candidates)
    names = {c.name for c in configured}
    extra = [c for c in extra if c.name not in names and (
        candidates is not None or c.source in base.attrs["user_columns"])]
    growth = account_growth(snapshots)
    data = base.merge(growth, on="customer_id", how="inner")
    left_out = int(data["growth"].isna().sum())
    data = data[data["growth"].notna()].reset_index(drop=True)
    if len(data) < 10:
        raise DataContractError(
            f"only {len(data)} accounts have revenue in the same periods a year earlier; "
            "learning needs at least 10", "run more periods ('tierwise run --as-of ...')")
    values, usable = _normalised(configured + extra, data)
    cut = np.quantile(data["growth"], 1 - top_share)
    grower = (data["growth"].to_numpy() >= cut) & (data["growth"].to_numpy() > 0)
    if grower.sum() < 3 or grower.all():
        raise DataContractError(
            f"{int(grower.sum())} of {len(data)} accounts count as growers; learning needs at "
            "least 3 growers and some accounts that are not",
            "use a longer history, or a top_share between 0.05 and 0.5")
    evidence = _evidence(values, usable, configured, data, grower)
    _propose(evidence, values, grower, alpha, min_weight)
    comparison = _compare(values, evidence, configured, data, grower, alpha, min_weight)
    proposal = SelectionProposal(
        runs=list(runs or []), periods=list(periods or []), accounts=len(data),
        growers=int(grower.sum()), left_out_new=left_out, top_share=top_share,
        criteria=evidence, comparison=comparison,
        top_growers=_top_growers(data, grower), notes=[])
    if not proposal.weights():
        proposal.notes.append("no_signal")
    proposal.lookalikes = _lookalikes(current, evidence, lookalikes)
    return proposal


def _result_columns(frame: pd.DataFrame) -> set[str]:
    user = set(frame.attrs.get("user_columns", []))
    return {c for c in frame.columns if c not in user}


def _evidence(values: pd.DataFrame, usable: list[CriterionConfig],
              configured: list[CriterionConfig], data: pd.DataFrame, grower: np.ndarray
              ) -> list[CriterionEvidence]:
    total = sum(c.weight for c in configured if c in usable) or 1.0
    coef = _coefficients(values.to_numpy(dtype=float), grower)
    growth = data["growth"].to_numpy(dtype=float)
    out = []
    for i, c in enumerate(usable):
        x = values[c.name].to_numpy(dtype=float)
        present = data[c.source].notna().to_numpy()
        rho, p = spearmanr(x, growth) if np.ptp(x) > 0 else (np.nan, np.nan)
        out.append(CriterionEvidence(
            name=c.name, source=c.source, normalise=c.normalise,
            configured_weight=c.weight / total if c in configured else 0.0,
            proposed_weight=0.0, rho=_f(rho), p_value=_f(p), coefficient=_f(coef[i]),
            mean_growers=_f(x[grower].mean()), mean_rest=_f(x[~grower].mean()),
            n=int(present.sum()), candidate=c not in configured,
            bounds=list(c.bounds) if c.bounds is not None else None, direction=c.direction,
            mapping=dict(c.mapping) if c.mapping else None))
    return out


def _f(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _coefficients(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Standardised L2 logistic-regression coefficients of grower on every criterion."""
    from sklearn.linear_model import LogisticRegression

    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
    model.fit(z, y.astype(int))
    return np.where(sd > 0, model.coef_[0], 0.0)


def _weights(rho: np.ndarray, p: np.ndarray, coef: np.ndarray, alpha: float,
             min_weight: float) -> np.ndarray:
    raw = np.where((rho > 0) & (p < alpha) & (coef > 0), coef, 0.0)
    raw = np.nan_to_num(raw)
    for _ in range(SCORECARD_MAX_CRITERIA + len(raw)):
        if raw.sum() <= 0:
            return raw
        w = raw / raw.sum()
        small = (w > 0) & (w < min_weight)
        if (w > 0).sum() > SCORECARD_MAX_CRITERIA:
            small |= w == w[w > 0].min()
        if not small.any():
            return np.round(w, 4)
        raw = np.where(small, 0.0, raw)
    return raw


def _propose(evidence: list[CriterionEvidence], values: pd.DataFrame, grower: np.ndarray,
             alpha: float, min_weight: float) -> None:
    w = _weights(np.array([e.rho for e in evidence]), np.array([e.p_value for e in evidence]),
                 np.array([e.coefficient for e in evidence]), alpha, min_weight)
    if w.sum() > 0:
        w[np.argmax(w)] += round(1.0 - float(w.sum()), 4)  # exactly 1 after rounding
    for e, weight in zip(evidence, w, strict=True):
        e.proposed_weight = float(weight)


def _rank_quality(score: np.ndarray, growth: np.ndarray, grower: np.ndarray) -> dict[str, float]:
    rho = spearmanr(score, growth)[0] if np.ptp(score) > 0 else np.nan
    top = np.argsort(-score, kind="stable")[: int(grower.sum())]
    return {"rho": _f(rho), "growers_in_top": float(grower[top].mean())}


def _compare(values: pd.DataFrame, evidence: list[CriterionEvidence],
             configured: list[CriterionConfig], data: pd.DataFrame, grower: np.ndarray,
             alpha: float, min_weight: float) -> dict[str, float | None]:
    growth = data["growth"].to_numpy(dtype=float)
    x = values.to_numpy(dtype=float)
    conf = _rank_quality(x @ np.array([e.configured_weight for e in evidence]), growth, grower)
    prop = _rank_quality(x @ np.array([e.proposed_weight for e in evidence]), growth, grower)
    oof = _out_of_fold(x, growth, grower, alpha, min_weight)
    out_of = _rank_quality(oof, growth, grower) if oof is not None else {}
    return {"configured_rho": conf["rho"], "configured_growers_in_top": conf["growers_in_top"],
            "proposed_rho": prop["rho"], "proposed_growers_in_top": prop["growers_in_top"],
            "proposed_rho_out_of_sample": out_of.get("rho"),
            "proposed_growers_in_top_out_of_sample": out_of.get("growers_in_top"),
            "growers_share": float(grower.mean())}


def _out_of_fold(x: np.ndarray, growth: np.ndarray, grower: np.ndarray, alpha: float,
                 min_weight: float, folds: int = 5) -> np.ndarray | None:
    """Each account scored with weights learned without it (5 folds, a fixed shuffle)."""
    if len(x) < 5 * folds or min(grower.sum(), (~grower).sum()) < 2 * folds:
        return None
    order = np.random.default_rng(0).permutation(len(x))
    score = np.zeros(len(x))
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        xt, gt, yt = x[train], growth[train], grower[train]
        stats = [spearmanr(col, gt) if np.ptp(col) > 0 else (np.nan, np.nan) for col in xt.T]
        w = _weights(np.array([s[0] for s in stats], dtype=float),
                     np.array([s[1] for s in stats], dtype=float),
                     _coefficients(xt, yt), alpha, min_weight)
        score[test] = x[test] @ w
    return score


def _top_growers(data: pd.DataFrame, grower: np.ndarray, n: int = 10) -> list[dict[str, Any]]:
    cols = [c for c in ("customer_id", "name", "account_manager", "revenue", "revenue_ly",
                        "growth") if c in data.columns]
    top = data.loc[grower, cols].sort_values("growth", ascending=False).head(n)
    return json.loads(top.to_json(orient="records", force_ascii=False))


def proposed_criteria(evidence: list[CriterionEvidence] | list[dict[str, Any]],
                      weights: dict[str, float]) -> list[CriterionConfig]:
    """The criteria of a proposal with the given weights (names absent or 0: left out)."""
    items = [e if isinstance(e, dict) else asdict(e) for e in evidence]
    out = []
    for e in items:
        w = float(weights.get(e["name"], 0.0))
        if w > 0:
            out.append(CriterionConfig(
                name=e["name"], source=e["source"], normalise=e["normalise"], weight=w,
                direction=e.get("direction") or "higher_better", mapping=e.get("mapping"),
                bounds=tuple(e["bounds"]) if e.get("bounds") else None, optional=True))
    return out


def _lookalikes(current: pd.DataFrame, evidence: list[CriterionEvidence], n: int
                ) -> list[dict[str, Any]]:
    weights = {e.name: e.proposed_weight for e in evidence if e.proposed_weight > 0}
    if not weights or n <= 0:
        return []
    frame = user_columns(current)
    if "lifecycle_stage" in frame.columns:
        frame = frame[frame["lifecycle_stage"].astype("string") != "lost"]
    if "frequency" in frame.columns:
        frame = frame[frame["frequency"].notna()]
    card = Scorecard(proposed_criteria(evidence, weights)).fit(frame)
    scored = frame.assign(proposed_score=card.transform(frame)["score"].to_numpy())
    cols = [c for c in ("customer_id", "name", "account_manager", "tier", "proposed_score",
                        "key_account_score", "key_account") if c in scored.columns]
    top = scored.sort_values(["proposed_score", "customer_id"], ascending=[False, True]).head(n)
    records = json.loads(top[cols].to_json(orient="records", force_ascii=False))
    for r in records:
        r["key_account"] = bool(r.get("key_account"))
    return records


__all__ = [
    "CriterionEvidence",
    "SelectionProposal",
    "account_growth",
    "candidate_criteria",
    "learn_selection",
    "proposed_criteria",
    "user_columns",
]

"""The speed-ups of issue 16 give the results they replaced (or, for fits on a sample, close ones).

Each fast path is compared with the code it replaced (kept here as the reference), on edge values
and on seeded data.
"""

from __future__ import annotations

import json
import os

import lifetimes
import numpy as np
import pandas as pd
import pytest
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

from tierwise.config import ClusteringConfig
from tierwise.i18n.render import render_note, render_notes
from tierwise.models import fit_value_models
from tierwise.models._summary import fit_sample_rows
from tierwise.segments import BehaviourClusters
from tierwise.snapshot import _contributions
from tierwise.tiering.big_accounts import NONE_LABEL, _label


def _contributions_before(frame: pd.DataFrame, prefix: str, exclude: set[str]) -> pd.Series:
    """The per-row dict version the column-wise one replaced."""
    cols = [c for c in frame.columns if c.startswith(prefix) and c not in exclude
            and pd.api.types.is_numeric_dtype(frame[c])]
    names = [c.removeprefix(prefix) for c in cols]
    values = frame[cols].to_numpy(dtype=float)
    return pd.Series([json.dumps({n: (None if np.isnan(v) else round(float(v), 6))
                                  for n, v in zip(names, row, strict=True)})
                      for row in values], index=frame.index, dtype=object)


def test_contributions_are_the_json_they_were():
    rng = np.random.default_rng(7)
    n = 20_000
    frame = pd.DataFrame({
        "score": rng.random(n) * 100,
        "score_recency": rng.random(n) * rng.choice([1, 10, 100, 1e-5, 1e-9], n),
        "score_spend 消费": rng.normal(0, 30, n),
        "score_int": rng.integers(0, 20, n),
        "score_flags": ["x"] * n,
        "other": rng.random(n),
    })
    frame.loc[::17, "score_recency"] = np.nan
    frame.loc[:4, "score_spend 消费"] = [0.0, -0.0, 1e20, 2.5e-7, 0.1234565]
    frame.loc[5, "score_recency"] = np.inf
    frame.loc[6, "score_recency"] = -np.inf
    new = _contributions(frame, "score_", exclude={"score_flags"})
    old = _contributions_before(frame, "score_", exclude={"score_flags"})
    assert new.tolist() == old.tolist()
    assert json.loads(new[0])["spend 消费"] == 0.0


def test_labels_and_notes_are_what_they_were():
    values = pd.Series(["store", " online ", None, np.nan, "", "  ", 3, "store", pd.NA],
                       dtype=object)
    before = values.astype("object").where(values.notna(), None).map(
        lambda v: NONE_LABEL if v is None or not str(v).strip() else str(v).strip())
    assert _label(values).tolist() == before.tolist()
    parts = pd.Series([json.dumps([["clv_note.historical_rate", {}]]), None, np.nan,
                       json.dumps([["clv_note.model_fallback", {"failed": "pareto",
                                                                "model": "bgnbd"}]])] * 3)
    for lang in ("en", "zh"):
        assert render_notes(parts, lang).tolist() == parts.map(
            lambda a, lang=lang: render_note(a, lang)).tolist()


@pytest.fixture(scope="module")
def cdnow():
    days = load_cdnow_summary_data_with_monetary_value()
    days["recency"] *= 7
    days["T"] *= 7
    path = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "CDNOW_sample.txt")
    raw = pd.read_csv(path, sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "quantity", "amount"])
    orders = pd.DataFrame({"customer_id": raw["customer_id"],
                           "ordered_at": pd.to_datetime(raw["date"].astype(str)),
                           "amount": raw["amount"]})
    return days.reset_index(drop=True), orders, days.index.to_series().reset_index(drop=True)


def test_value_models_on_a_sample_score_everyone_close_to_the_full_fit(cdnow):
    days, orders, ids = cdnow
    full = fit_value_models(days, "auto", orders=orders, holdout_days=181)
    sampled = fit_value_models(days, "auto", orders=orders, holdout_days=181, fit_sample=1500,
                               customer_ids=ids)
    again = fit_value_models(days, "auto", orders=orders, holdout_days=181, fit_sample=1500,
                             customer_ids=ids)
    assert "fit_sample" not in full.info
    assert sampled.info["fit_sample"]["customers"] == 1500
    # every customer scored, the same sample (and fit) on every run
    assert len(sampled.customers) == len(days) and sampled.customers["p_alive"].notna().all()
    assert sampled.info["params"] == again.info["params"]
    # the selection read the sampled customers' orders only
    assert "1500 customers" in sampled.info["selection"]["reason"]
    # close to the full fit: the total expected purchases within 10 %
    col = "expected_purchases_90d"
    assert sampled.customers[col].sum() == pytest.approx(full.customers[col].sum(), rel=0.10)
    assert np.corrcoef(sampled.customers["clv_predicted"],
                       full.customers["clv_predicted"])[0, 1] > 0.98


def test_fit_sample_rows():
    assert fit_sample_rows(10, None).tolist() == list(range(10))
    assert fit_sample_rows(10, 10).tolist() == list(range(10))
    rows = fit_sample_rows(1000, 100)
    assert len(rows) == len(set(rows)) == 100 and (np.diff(rows) > 0).all()
    assert rows.tolist() == fit_sample_rows(1000, 100).tolist()


def test_clusters_fitted_on_a_sample_assign_everyone():
    rng = np.random.default_rng(3)
    centres = np.array([[1, 100, 10, 20], [12, 3000, 200, 300], [4, 400, 700, 90]])
    which = rng.integers(0, 3, 6000)
    values = np.abs(centres[which] * rng.lognormal(0, 0.15, (6000, 4)))
    frame = pd.DataFrame(values, columns=ClusteringConfig().features)
    full = BehaviourClusters(fit_sample=10_000).fit(frame)
    part = BehaviourClusters(fit_sample=1000).fit(frame)
    assert len(part.labels_) == len(frame) and part.n_clusters_ == full.n_clusters_ == 3
    # the same customers together (labels agree up to renumbering)
    agree = pd.crosstab(full.labels_, part.labels_).max(axis=1).sum() / len(frame)
    assert agree > 0.99
    assert (BehaviourClusters(fit_sample=1000).fit(frame).labels_ == part.labels_).all()


def _policy_reasons_before(frame, policy, prob, basis, cfg):
    """The per-row json.dumps version of tierwise.lifecycle.advice._reasons it replaced."""
    def figure(x):
        return round(float(x), 6) if np.isfinite(x) else None

    h, floor = cfg.policy_horizon_days, cfg.policy_floor
    nan = pd.Series(np.nan, index=frame.index)
    missed = frame["gaps_missed"] if "gaps_missed" in frame else nan
    gap = frame["expected_gap_days"] if "expected_gap_days" in frame else nan
    alive = frame["p_alive"] if "p_alive" in frame else nan
    out = []
    for pol, p, m, g, a in zip(policy, prob, missed, gap, alive, strict=True):
        if pol is None:
            out.append(None)
            continue
        parts = [["reason.chance", {"p": figure(p), "horizon": h, "basis": basis,
                                    "floor": floor}]]
        if np.isfinite(m):
            parts.append(["reason.rhythm", {"missed": figure(m), "gap": figure(g)}])
        if np.isfinite(a):
            parts.append(["reason.alive", {"p": figure(a)}])
        out.append(json.dumps(parts))
    return out


@pytest.mark.parametrize("columns", [("gaps_missed", "expected_gap_days", "p_alive"), ()])
def test_policy_reasons_are_the_json_they_were(columns):
    from tierwise.config import ActivityConfig
    from tierwise.lifecycle.advice import _reasons

    rng = np.random.default_rng(11)
    n = 5000
    frame = pd.DataFrame({"gaps_missed": rng.random(n) * 5, "expected_gap_days": rng.random(n) * 60,
                          "p_alive": rng.random(n)})[list(columns)]
    for column in columns:
        frame.loc[rng.random(n) < 0.1, column] = np.nan
    if columns:
        frame.loc[3, "expected_gap_days"] = np.inf
    policy = np.array(rng.choice(["call", "sms", None], n), dtype=object)
    prob = pd.Series(rng.random(n))
    prob[::13] = np.nan
    cfg = ActivityConfig()
    for basis in ("model", "rhythm"):
        assert _reasons(frame, policy, prob, basis, cfg) == _policy_reasons_before(
            frame, policy, prob, basis, cfg)

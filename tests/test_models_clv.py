"""Predicted CLV, the historical-rate fallback and the fit_value_models pipeline."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from tierwise.errors import DataContractError, NotFittedError
from tierwise.models import (
    BetaGeo,
    GammaGamma,
    ParetoNBD,
    customer_confidence,
    fit_value_models,
    historical_rate_clv,
    predicted_clv,
)
from tierwise.models import fit_degeneracy
from tierwise.models.clv import discount_factors, step_ends

lifetimes = pytest.importorskip("lifetimes")
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value


@pytest.fixture(scope="module")
def cdnow_days():
    days = load_cdnow_summary_data_with_monetary_value()
    days["recency"] *= 7
    days["T"] *= 7
    return days


@pytest.fixture(scope="module")
def cdnow_orders():
    path = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "CDNOW_sample.txt")
    raw = pd.read_csv(path, sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "quantity", "amount"])
    return pd.DataFrame({"customer_id": raw["customer_id"],
                         "ordered_at": pd.to_datetime(raw["date"].astype(str)),
                         "amount": raw["amount"]})


@pytest.fixture(scope="module")
def bg(cdnow_days):
    return BetaGeo().fit(cdnow_days)


@pytest.fixture(scope="module")
def gg(cdnow_days):
    return GammaGamma().fit(cdnow_days)


# --------------------------------------------------------------------------- discounting
def test_steps_cover_the_horizon_with_a_short_last_step():
    assert list(step_ends(365, 30)) == [30.0 * k for k in range(1, 13)] + [365.0]
    assert list(step_ends(90, 30)) == [30.0, 60.0, 90.0]
    with pytest.raises(ValueError):
        step_ends(0, 30)


def test_annual_rate_compounds_per_step():
    factors = discount_factors(np.array([30.0, 365.0]), 0.10)
    assert factors[1] == pytest.approx(1 / 1.10)
    per_step = 1.10 ** (30 / 365) - 1
    assert factors[0] == pytest.approx(1 / (1 + per_step))
    assert per_step == pytest.approx(0.00786, abs=1e-5)


# --------------------------------------------------------------------------- predicted CLV
def test_predicted_clv_matches_lifetimes(bg, gg, cdnow_days):
    """lifetimes discounts month i by (1 + monthly rate)**i: the same as our annual rate."""
    d = cdnow_days
    theirs_bg = lifetimes.BetaGeoFitter()
    theirs_bg.params_ = pd.Series(bg.params_)[["r", "alpha", "a", "b"]]
    theirs_bg.predict = theirs_bg.conditional_expected_number_of_purchases_up_to_time
    theirs_gg = lifetimes.GammaGammaFitter()
    theirs_gg.params_ = pd.Series(gg.params_)[["p", "q", "v"]]
    monthly = 0.01
    expected = theirs_gg.customer_lifetime_value(
        theirs_bg, d["frequency"], d["recency"], d["T"], d["monetary_value"], time=12,
        discount_rate=monthly, freq="D")
    annual = (1 + monthly) ** (365 / 30) - 1
    ours = predicted_clv(bg, gg, d, horizon_days=360, discount_rate_annual=annual, step_days=30)
    assert np.allclose(ours, expected, rtol=1e-6)


def test_without_discounting_clv_is_purchases_times_spend(bg, gg, cdnow_days):
    clv = predicted_clv(bg, gg, cdnow_days, 365, 0.0, step_days=7, margin=0.3)
    direct = (bg.expected_purchases(cdnow_days, 365)
              * gg.conditional_expected_average_profit(cdnow_days) * 0.3)
    assert np.allclose(clv, direct, rtol=1e-9)


def test_discounting_lowers_value_and_accepts_per_customer_inputs(bg, cdnow_days):
    spend = pd.Series(np.linspace(10, 50, len(cdnow_days)), index=cdnow_days.index)
    margin = pd.Series(0.4, index=cdnow_days.index)
    plain = predicted_clv(bg, spend, cdnow_days, 730, 0.0, margin=margin)
    discounted = predicted_clv(bg, spend, cdnow_days, 730, 0.15, margin=margin)
    assert (discounted < plain).all() and (discounted > 0.8 * plain).all()
    assert plain.name == "clv_predicted" and list(plain.index) == list(cdnow_days.index)
    with pytest.raises(DataContractError, match="spend"):
        predicted_clv(bg, spend.iloc[:10], cdnow_days, 365, 0.1)


def test_pareto_clv_and_unfitted_model(cdnow_days, gg):
    pareto = ParetoNBD().fit(cdnow_days)
    clv = predicted_clv(pareto, gg, cdnow_days, 365, 0.1)
    assert np.isfinite(clv).all() and (clv >= 0).all()
    with pytest.raises(NotFittedError):
        predicted_clv(BetaGeo(), gg, cdnow_days, 365, 0.1)


# --------------------------------------------------------------------------- fallback
def test_historical_rate_clv_by_hand():
    df = pd.DataFrame({"frequency": [4.0, 0.0, 1.0], "recency": [200.0, 0.0, 10.0],
                       "T": [250.0, 100.0, 300.0], "monetary_value": [20.0, 0.0, 50.0]},
                      index=["a", "b", "c"])
    out = historical_rate_clv(df, 365, 0.0, step_days=30, margin=0.5, purchase_horizon_days=90)
    gap_a = 200 / 4
    assert out.loc["a", "p_alive"] == pytest.approx(np.exp(-50 / gap_a))
    assert out.loc["a", "rate_per_day"] == pytest.approx(4 / 250)
    assert out.loc["a", "clv_predicted"] == pytest.approx(np.exp(-1) * 4 / 250 * 365 * 20 * 0.5)
    median_gap = np.median([50.0, 10.0])
    assert out.loc["b", "p_alive"] == pytest.approx(np.exp(-100 / median_gap))
    assert out.loc["b", "rate_per_day"] == pytest.approx(5 / 650)  # pooled rate
    assert out.loc["b", "expected_spend"] == pytest.approx(35.0)   # repeat buyers' mean
    assert out.loc["a", "expected_purchases"] == pytest.approx(np.exp(-1) * 4 / 250 * 90)
    assert out.loc["a", "purchase_likelihood"] == pytest.approx(
        np.exp(-1) * (1 - np.exp(-4 / 250 * 90)))
    discounted = historical_rate_clv(df, 365, 0.1, step_days=30)
    assert (discounted["clv_predicted"] < out["clv_predicted"] / 0.5).all()


# --------------------------------------------------------------------------- pipeline
def test_fit_value_models_columns_and_json(cdnow_days):
    result = fit_value_models(cdnow_days, "bgnbd", purchase_horizon_days=90, margin=0.3)
    c = result.customers
    assert list(c.columns) == ["p_alive", "expected_purchases_90d", "purchase_likelihood_90d",
                               "expected_spend", "clv_predicted", "clv_confidence", "clv_method",
                               "clv_note_args", "clv_note"]
    assert (c["clv_method"] == "bgnbd+gg").all() and c["clv_note"].isna().all()
    assert c["clv_note_args"].isna().all()
    assert set(c["clv_confidence"]) <= {"low", "medium", "high"}
    assert (c.loc[cdnow_days["frequency"] == 0, "clv_confidence"] == "low").all()
    info = result.to_dict()
    json.dumps(info, allow_nan=False)
    assert info["method"] == "bgnbd+gg" and info["confidence"] == "high"
    assert info["params"]["r"] == pytest.approx(0.243, abs=1e-3)
    assert info["log_likelihood"] < 0 and info["spend"]["model"] == "gamma_gamma"
    assert np.allclose(c["clv_predicted"], predicted_clv(
        result.transaction_model, result.spend_model, cdnow_days, 365, 0.10, margin=0.3))


def test_too_few_repeat_buyers_falls_back_with_the_reason(cdnow_days):
    result = fit_value_models(cdnow_days.iloc[:300], "bgnbd")
    assert (result.customers["clv_method"] == "historical-rate").all()
    assert (result.customers["clv_confidence"] == "low").all()
    assert "min_repeat_buyers=200" in result.info["fallback_reason"]
    assert result.customers["clv_note"].str.contains("own purchase rate").all()
    json.dumps(result.info, allow_nan=False)


def test_a_failed_fit_falls_back_with_the_error(cdnow_days):
    no_repeat = cdnow_days.assign(frequency=0, recency=0.0)
    result = fit_value_models(no_repeat, "pareto", min_repeat_buyers=0)
    assert result.info["method"] == "historical-rate"
    assert "no customer has a repeat purchase" in result.info["fallback_reason"]


def test_auto_without_orders_keeps_the_higher_likelihood(cdnow_days):
    result = fit_value_models(cdnow_days, "auto")
    # MBG/NBD -9582.14 beats BG/NBD -9582.43 and Pareto/NBD -9595.0 on CDNOW (weeks)
    assert result.info["model"] == "mbgnbd"
    assert "log-likelihood" in result.info["selection"]["reason"]
    # the lifetimes summary has no litt: the models that choose k say so and are left out
    assert set(result.info["selection"]["errors"]) == {"bgcnbd", "mbgcnbd"}
    assert all("litt" in e for e in result.info["selection"]["errors"].values())


def test_auto_with_orders_chooses_on_the_holdout(cdnow_days, cdnow_orders):
    result = fit_value_models(cdnow_days, "auto", orders=cdnow_orders, holdout_days=181)
    sel = result.info["selection"]
    maes = {m["model"]: m["purchases_mae"] for m in sel["metrics"]}
    assert sel["chosen"] == min(maes, key=maes.get) == result.info["model"]
    assert "181-day holdout" in sel["reason"]


def test_customer_confidence_rules():
    df = pd.DataFrame({"frequency": [0, 1, 2, 3, 8], "T": [400, 400, 400, 400, 10]})
    assert list(customer_confidence(df, "high")) == ["low", "medium", "medium", "high", "low"]
    assert list(customer_confidence(df, "medium")) == ["low", "medium", "medium", "medium",
                                                       "low"]


def test_bad_arguments(cdnow_days):
    with pytest.raises(ValueError, match="model"):
        fit_value_models(cdnow_days, "magic")
    with pytest.raises(DataContractError, match="monetary_value"):
        fit_value_models(cdnow_days.drop(columns="monetary_value"), "bgnbd")


# --------------------------------------------------------------------------- failing gracefully
def test_one_zero_spend_repeat_buyer_keeps_gamma_gamma_for_everyone_else(cdnow_days):
    zero = cdnow_days.index[cdnow_days["frequency"] > 2][0]
    data = cdnow_days.copy()
    data.loc[zero, "monetary_value"] = 0.0
    result = fit_value_models(data, "bgnbd", lang="en")
    c = result.customers
    assert result.info["method"] == "bgnbd+gg" and result.info["spend"]["n_outside_model"] == 1
    assert result.info["confidence"] == "high"  # one customer in 2,357 is not the fit's fault
    assert c.loc[zero, "expected_spend"] == 0.0 and c.loc[zero, "clv_predicted"] == 0.0
    assert c.loc[zero, "clv_confidence"] == "low"
    assert "zero or less" in c.loc[zero, "clv_note"]
    assert c["clv_note"].notna().sum() == 1
    others = data.drop(index=zero)
    alone = GammaGamma().fit(others).conditional_expected_average_profit(others)
    assert np.allclose(c.loc[others.index, "expected_spend"], alone)
    zh = fit_value_models(data, "bgnbd", lang="zh").customers
    assert "复购金额" in zh.loc[zero, "clv_note"]
    assert zh.loc[zero, "clv_note_args"] == c.loc[zero, "clv_note_args"] == \
        '[["clv_note.spend_outside_model", {}]]'  # what the store keeps: no language


def test_many_zero_spend_repeat_buyers_lower_the_confidence(cdnow_days):
    data = cdnow_days.copy()
    zeros = data.index[data["frequency"] > 0][:200]  # 200 of 1,181: over 5 %
    data.loc[zeros, "monetary_value"] = 0.0
    info = fit_value_models(data, "bgnbd").info
    assert info["confidence"] == "medium" and info["spend"]["n_outside_model"] == 200
    assert "keep their own mean" in info["spend"]["outside_model"]


def _always_alive(n=600, seed=1):
    """Poisson buyers who never drop out: BG/NBD's a runs to 0 and b to infinity."""
    rng = np.random.default_rng(seed)
    T = rng.integers(200, 400, n).astype(float)
    lam = rng.gamma(2.0, 1 / 40, n)
    rows = []
    for t_i, l_i in zip(T, lam):
        days = np.unique(np.floor(rng.uniform(0, t_i, rng.poisson(l_i * t_i))))
        rows.append((0, 0.0, t_i) if days.size == 0
                    else (days.size - 1, days[-1] - days[0], t_i - days[0]))
    df = pd.DataFrame(rows, columns=["frequency", "recency", "T"])
    df["monetary_value"] = np.where(df["frequency"] > 0, rng.gamma(5, 10, n), 0.0)
    return df


def test_a_degenerate_fit_falls_back_and_says_why():
    data = _always_alive()
    fit = BetaGeo().fit(data)
    assert fit_degeneracy(fit)  # a at the bound, huge standard errors
    assert fit.p_alive(pd.DataFrame({"frequency": [5.0], "recency": [50.0],
                                     "T": [350.0]})).iloc[0] > 0.999  # "alive" after 300 days
    result = fit_value_models(data, "bgnbd", min_repeat_buyers=100)
    info, c = result.info, result.customers
    assert info["method"] == "historical-rate" and info["confidence"] == "low"
    assert info["degenerate"]["model"] == "bgnbd"
    assert any("bound" in p for p in info["degenerate"]["problems"])
    assert "pareto" in info["degenerate"]["tried"]
    assert "degenerate" in info["fallback_reason"]
    assert (c["clv_confidence"] == "low").all()
    assert c["clv_note"].str.contains("bgnbd fit was degenerate").all()
    silent = (data["T"] - data["recency"] > 150) & (data["frequency"] >= 3)
    assert silent.any() and (c.loc[silent, "p_alive"] < 0.5).all()
    json.dumps(info, allow_nan=False)


def test_fit_degeneracy_rules(bg):
    assert fit_degeneracy(bg) == []
    extreme = BetaGeo.from_params({"r": 0.24, "alpha": 4.4, "a": 8e-7, "b": 23606.0})
    extreme.standard_errors_ = {"r": 0.01, "alpha": 0.2, "a": 0.01, "b": 9e5}
    extreme.at_bounds_ = {k: False for k in extreme.params_}
    reasons = fit_degeneracy(extreme)
    assert any("extreme" in r and "a = 8e-07" in r for r in reasons)
    assert any("huge standard errors" in r for r in reasons)
    extreme.standard_errors_ = dict.fromkeys(extreme.params_, float("nan"))
    assert any("unavailable" in r for r in fit_degeneracy(extreme))

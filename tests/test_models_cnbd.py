"""MBG/NBD, MBG/CNBD-k and BG/CNBD-k: BTYDplus on CDNOW, recovery, Monte Carlo, gradients."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from tierwise.errors import DataContractError, NotFittedError
from tierwise.models import (
    BGCNBD,
    MBGCNBD,
    BetaGeo,
    ModifiedBetaGeo,
    calibration_holdout,
    holdout_errors,
    simulate_cnbd,
)
from tierwise.models import cnbd as cnbd_module

lifetimes = pytest.importorskip("lifetimes")

# BTYDplus 1.2.0, mbgcnbd.EstimateParameters(elog2cbs(cdnowElog, T.cal = "1997-09-30",
# T.tot = "1998-06-30"), k = 1) on the 2,357-customer CDNOW sample, time in weeks
BTYDPLUS_MBGNBD = {"r": 0.5248, "alpha": 6.1831, "a": 0.8914, "b": 1.6140}
BTYDPLUS_LL = -9582.14
BTYDPLUS_MAE = 0.7648


@pytest.fixture(scope="module")
def cdnow_split():
    path = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "CDNOW_sample.txt")
    raw = pd.read_csv(path, sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "quantity", "amount"])
    orders = pd.DataFrame({"customer_id": raw["customer_id"],
                           "ordered_at": pd.to_datetime(raw["date"].astype(str)),
                           "amount": raw["amount"]})
    return calibration_holdout(orders, "1997-09-30", "1998-06-30")


@pytest.fixture(scope="module")
def mbgnbd(cdnow_split):
    return ModifiedBetaGeo(time_unit="weeks").fit(cdnow_split.summary)


# --------------------------------------------------------------------------- CDNOW golden
def test_mbgnbd_matches_btydplus_on_cdnow(mbgnbd):
    for name, value in BTYDPLUS_MBGNBD.items():
        assert round(mbgnbd.params_[name], 4) == pytest.approx(value, abs=1e-3), name
    assert mbgnbd.log_likelihood_ == pytest.approx(BTYDPLUS_LL, abs=1e-2)


def test_mbgnbd_holdout_mae_matches_btydplus(mbgnbd, cdnow_split):
    mae = holdout_errors(mbgnbd, cdnow_split).aggregate["purchases_mae"]
    assert mae == pytest.approx(BTYDPLUS_MAE, abs=5e-4)


def test_mbgcnbd_chooses_k_1_on_cdnow_and_is_the_mbgnbd_fit(mbgnbd, cdnow_split):
    model = MBGCNBD(time_unit="weeks").fit(cdnow_split.summary)
    assert model.k_ == 1 and model.params_["k"] == 1.0
    assert model.log_likelihood_by_k_[2] < model.log_likelihood_by_k_[1]
    for name, value in mbgnbd.params_.items():
        assert model.params_[name] == pytest.approx(value, rel=1e-6)
    assert model.log_likelihood_ == pytest.approx(mbgnbd.log_likelihood_, rel=1e-9)


def test_bgcnbd_with_k_1_is_bgnbd(cdnow_split):
    ours = BGCNBD(time_unit="weeks", k=1).fit(cdnow_split.summary)
    bg = BetaGeo(time_unit="weeks").fit(cdnow_split.summary)
    for name, value in bg.params_.items():
        assert ours.params_[name] == pytest.approx(value, rel=1e-4)
    assert ours.log_likelihood_ == pytest.approx(bg.log_likelihood_, rel=1e-8)
    s = cdnow_split.summary
    np.testing.assert_allclose(ours.expected_purchases(s, 273), bg.expected_purchases(s, 273),
                               rtol=1e-4)
    np.testing.assert_allclose(ours.purchase_probability(s, 90),
                               bg.purchase_probability(s, 90), rtol=1e-4, atol=1e-9)


def test_time_unit_changes_only_alpha_and_the_likelihood_unit(cdnow_split, mbgnbd):
    days = ModifiedBetaGeo(time_unit="days").fit(cdnow_split.summary)
    assert days.params_["alpha"] == pytest.approx(mbgnbd.params_["alpha"] * 7, rel=1e-4)
    n_repeat = cdnow_split.summary["frequency"].sum()
    assert days.log_likelihood_ == pytest.approx(mbgnbd.log_likelihood_
                                                 - n_repeat * np.log(7), rel=1e-7)
    s = cdnow_split.summary
    np.testing.assert_allclose(days.expected_purchases(s, 90), mbgnbd.expected_purchases(s, 90),
                               rtol=1e-4)


# --------------------------------------------------------------------------- simulation
@pytest.mark.parametrize(("model", "k", "modified"), [(MBGCNBD, 2, True), (BGCNBD, 3, False)])
def test_parameter_recovery_of_erlang_k(model, k, modified):
    true = {"k": k, "r": 3.0, "alpha": 10.0 * k, "a": 1.0, "b": 6.0}
    sim = simulate_cnbd(true, np.full(4000, 200.0), seed=0, integer_days=False,
                        modified=modified)
    fitted = model().fit(sim)
    assert fitted.k_ == k
    for name in ("r", "alpha", "a", "b"):
        z = (fitted.params_[name] - true[name]) / fitted.standard_errors_[name]
        assert abs(z) < 2.0, (name, fitted.params_[name], fitted.standard_errors_[name])


@pytest.mark.parametrize(("model", "k", "modified"), [(MBGCNBD, 2, True), (BGCNBD, 3, False)])
def test_expectation_and_probability_match_monte_carlo(model, k, modified):
    true = {"k": k, "r": 3.0, "alpha": 10.0 * k, "a": 1.0, "b": 6.0}
    sim = simulate_cnbd(true, np.full(20000, 200.0), seed=5, integer_days=False,
                        modified=modified, holdout_days=100)
    m = model.from_params(true)
    pred, prob = m.expected_purchases(sim, 100), m.purchase_probability(sim, 100)
    actual = sim["purchases_holdout"]
    assert pred.mean() == pytest.approx(actual.mean(), rel=0.03)
    assert prob.mean() == pytest.approx((actual > 0).mean(), abs=0.01)
    busy = sim["frequency"] >= 5
    assert pred[busy].mean() == pytest.approx(actual[busy].mean(), rel=0.04)


def test_series_expectation_equals_the_closed_form_at_k_1():
    r, alpha, a, b = 0.5, 6.0, 0.9, 1.6
    x, T, t = np.array([0.0, 1, 5, 30]), np.full(4, 30.0), 39.0
    series = cnbd_module.expected_erlang_purchases(r + x, t / (alpha + T + t), 1, 0, a, b + x + 1)
    closed = cnbd_module._alive_bracket(r, alpha, a, b + 1, x, T, t)
    np.testing.assert_allclose(series, closed, rtol=1e-9)


@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("modified", [True, False])
def test_gradient_matches_finite_differences(k, modified):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 10, 200).astype(float)
    T = rng.uniform(0.5, 1, 200)
    tx = np.where(x > 0, T * rng.uniform(0, 1, 200), 0)
    h = cnbd_module._Histories.build(x, tx, T, k=k, modified=modified)
    theta = np.array([0.7, 0.3, 0.8, 2.5])
    _, grad = cnbd_module._ll_grad(theta, h)
    fd = [(cnbd_module._ll_grad(theta + e, h)[0] - cnbd_module._ll_grad(theta - e, h)[0]) / 2e-6
          for e in np.eye(4) * 1e-6]
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5)


def test_per_customer_log_likelihood_sums_to_the_fit(cdnow_split):
    s = cdnow_split.summary
    model = MBGCNBD(time_unit="weeks", k=2).fit(s)
    per = cnbd_module.cnbd_log_likelihood(model.params_, 2, s["frequency"], s["recency"] / 7,
                                          s["T"] / 7, s["litt"] - s["frequency"] * np.log(7))
    assert per.sum() == pytest.approx(model.log_likelihood_, rel=1e-9)


def test_heavy_regular_buyers_are_predicted_without_overflow():
    m = MBGCNBD.from_params({"k": 3, "r": 5.0, "alpha": 2.0, "a": 0.5, "b": 20.0})
    df = pd.DataFrame({"frequency": [300.0, 2000.0, 300.0], "recency": [365.0, 365.0, 360.0],
                       "T": [365.0, 365.0, 365.0]})
    pred, alive = m.expected_purchases(df, 365), m.p_alive(df)
    assert np.all(np.isfinite(pred)) and (pred[:2] > 200).all()
    assert (m.purchase_probability(df, 30)[:2] > 0.9).all() and (alive <= 1).all()
    assert alive[2] < 0.5  # five silent days are many gaps of someone buying almost daily


def test_a_long_silence_says_more_for_a_regular_buyer():
    # the same history: a regular (k = 4) buyer silent for 3 of their gaps is less likely alive
    df = pd.DataFrame({"frequency": [10.0], "recency": [70.0], "T": [100.0]})
    poisson = MBGCNBD.from_params({"k": 1, "r": 2.0, "alpha": 14.0, "a": 1.0, "b": 5.0})
    regular = MBGCNBD.from_params({"k": 4, "r": 8.0, "alpha": 14.0, "a": 1.0, "b": 5.0})
    assert regular.p_alive(df).iloc[0] < poisson.p_alive(df).iloc[0]


# --------------------------------------------------------------------------- contract
def test_contract_and_errors(cdnow_split):
    s = cdnow_split.summary
    with pytest.raises(NotFittedError):
        MBGCNBD().p_alive(s)
    model = MBGCNBD(k=2)
    assert model.fit(s) is model
    assert {"params_", "standard_errors_", "log_likelihood_", "k_"} <= set(vars(model))
    with pytest.raises(DataContractError, match="litt"):
        MBGCNBD().fit(s.drop(columns="litt"))
    ModifiedBetaGeo().fit(s.drop(columns="litt"))  # k = 1 needs no litt
    for name in ("p_alive", "expected_purchases", "purchase_probability"):
        args = () if name == "p_alive" else (30,)
        out = getattr(model, name)(s, *args)
        assert out.index.equals(s.index) and (out >= 0).all()

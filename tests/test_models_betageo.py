"""BG/NBD: against lifetimes and the paper on CDNOW, simulation, gradients, contract, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tierwise.errors import DataContractError, FitError, NotFittedError
from tierwise.models import BetaGeo, simulate_bgnbd
from tierwise.models import betageo as bg_module
from tierwise.models._summary import Compressed

lifetimes = pytest.importorskip("lifetimes")
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # Fader, Hardie & Lee 2005


@pytest.fixture(scope="module")
def cdnow_weeks():
    return load_cdnow_summary_data_with_monetary_value()


@pytest.fixture(scope="module")
def cdnow_days(cdnow_weeks):
    """The CDNOW sample as tierwise features give it: recency and T in days."""
    days = cdnow_weeks.copy()
    days["recency"] *= 7
    days["T"] *= 7
    return days


@pytest.fixture(scope="module")
def fitted(cdnow_days):
    return BetaGeo(time_unit="weeks").fit(cdnow_days)


@pytest.fixture(scope="module")
def lifetimes_fit(cdnow_weeks):
    d = cdnow_weeks
    return lifetimes.BetaGeoFitter(penalizer_coef=0.0).fit(d["frequency"], d["recency"], d["T"])


def _lifetimes_with(params, cdnow_weeks):
    """A lifetimes fitter carrying our parameters, to compare formulas at identical parameters."""
    d = cdnow_weeks
    f = lifetimes.BetaGeoFitter().fit(d["frequency"], d["recency"], d["T"])
    f.params_ = pd.Series(params)[["r", "alpha", "a", "b"]]
    return f


def _rel(a, b):
    return np.max(np.abs(np.asarray(a, float) / np.asarray(b, float) - 1.0))


# --------------------------------------------------------------------------- CDNOW
def test_params_match_lifetimes_on_cdnow(fitted, lifetimes_fit):
    theirs = lifetimes_fit.params_.to_dict()
    assert _rel([fitted.params_[k] for k in theirs], list(theirs.values())) < 1e-3


def test_log_likelihood_matches_lifetimes(fitted, lifetimes_fit, cdnow_weeks):
    d = cdnow_weeks
    log_params = np.log(lifetimes_fit.params_[["r", "alpha", "a", "b"]].to_numpy())
    nll_mean = lifetimes.BetaGeoFitter._negative_log_likelihood(
        log_params, d["frequency"].to_numpy(), d["recency"].to_numpy(), d["T"].to_numpy(),
        np.ones(len(d)), 0.0)
    assert abs(fitted.log_likelihood_ / (-nll_mean * len(d)) - 1) < 1e-6
    assert fitted.mean_log_likelihood_ == pytest.approx(fitted.log_likelihood_ / len(d))


def test_standard_errors_match_lifetimes(fitted, lifetimes_fit):
    theirs = lifetimes_fit.standard_errors_.to_dict()
    assert _rel([fitted.standard_errors_[k] for k in theirs], list(theirs.values())) < 1e-3


def test_published_cdnow_estimates(fitted):
    for name, value in PUBLISHED.items():
        assert fitted.params_[name] == pytest.approx(value, abs=6e-4), name
    assert fitted.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert fitted.n_customers_ == 2357 and fitted.n_repeat_buyers_ == 946
    assert fitted.converged_ and not any(fitted.at_bounds_.values())


def test_penalised_fit_matches_lifetimes(cdnow_days, cdnow_weeks):
    d = cdnow_weeks
    theirs = lifetimes.BetaGeoFitter(penalizer_coef=0.1).fit(d["frequency"], d["recency"],
                                                              d["T"]).params_
    ours = BetaGeo(penalizer=0.1, time_unit="days").fit(cdnow_days).params_
    assert ours["alpha"] / 7 == pytest.approx(theirs["alpha"], rel=1e-4)
    for name in ("r", "a", "b"):
        assert ours[name] == pytest.approx(theirs[name], rel=1e-4)
    assert ours["a"] < PUBLISHED["a"] / 2  # the penalty really bites


def test_p_alive_and_expected_purchases_match_lifetimes(fitted, cdnow_days, cdnow_weeks):
    d = cdnow_weeks
    theirs = _lifetimes_with(fitted.params_, cdnow_weeks)
    p_alive = theirs.conditional_probability_alive(d["frequency"], d["recency"], d["T"])
    assert _rel(fitted.p_alive(cdnow_days), p_alive) < 1e-6
    for weeks in (1, 10, 39, 52 * 3):
        expected = theirs.conditional_expected_number_of_purchases_up_to_time(
            weeks, d["frequency"], d["recency"], d["T"])
        assert _rel(fitted.expected_purchases(cdnow_days, weeks * 7), expected) < 1e-6


def test_time_unit_changes_only_the_unit_of_alpha(fitted, cdnow_days):
    in_days = BetaGeo(time_unit="days").fit(cdnow_days)
    assert in_days.params_["alpha"] == pytest.approx(fitted.params_["alpha"] * 7, rel=1e-5)
    assert in_days.params_["r"] == pytest.approx(fitted.params_["r"], rel=1e-5)
    assert _rel(in_days.p_alive(cdnow_days), fitted.p_alive(cdnow_days)) < 1e-5
    assert _rel(in_days.purchase_probability(cdnow_days, 90),
                fitted.purchase_probability(cdnow_days, 90)) < 1e-5
    with pytest.raises(ValueError, match="time_unit"):
        BetaGeo(time_unit="months").fit(cdnow_days)


# --------------------------------------------------------------------------- optimisation
@pytest.mark.parametrize("theta", [(0.24, 4.4 / 38.86, 0.79, 2.4), (1.3, 0.05, 2.5, 0.6),
                                   (0.05, 2.0, 0.3, 9.0)])
def test_gradient_matches_finite_differences(cdnow_weeks, theta):
    d = cdnow_weeks
    scale = d["T"].max()
    hist = bg_module._Histories.build(d["frequency"].to_numpy(float),
                                      d["recency"].to_numpy() / scale, d["T"].to_numpy() / scale)
    theta = np.array(theta)
    _, grad = bg_module._bgnbd_ll_grad(theta, hist)
    for j in range(4):
        h = 1e-6 * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        fd = (bg_module._bgnbd_ll_grad(up, hist)[0] - bg_module._bgnbd_ll_grad(down, hist)[0]) / (2 * h)
        assert grad[j] == pytest.approx(fd, rel=1e-5, abs=1e-4), j


def test_log_likelihood_function_matches_lifetimes_per_customer(cdnow_weeks):
    d = cdnow_weeks
    theta = np.array([0.3, 5.0, 0.6, 3.0])
    ours = bg_module.bgnbd_log_likelihood(theta, d["frequency"], d["recency"], d["T"])
    theirs = [-len(d) * lifetimes.BetaGeoFitter._negative_log_likelihood(
        np.log(theta), d["frequency"].to_numpy()[i:i + 1], d["recency"].to_numpy()[i:i + 1],
        d["T"].to_numpy()[i:i + 1], np.ones(1), 0.0) / len(d) for i in range(0, len(d), 97)]
    assert np.allclose(ours[::97], theirs, rtol=1e-10)


def test_compressed_fit_equals_uncompressed(cdnow_days, fitted, monkeypatch):
    def identity(*columns):
        n = len(columns[0])
        return Compressed(tuple(np.asarray(c) for c in columns), np.ones(n), np.arange(n))

    assert fitted.n_distinct_ < fitted.n_customers_ / 2  # compression did something
    monkeypatch.setattr(bg_module, "compress", identity)
    raw = BetaGeo(time_unit="weeks").fit(cdnow_days)
    assert raw.n_distinct_ == 2357
    assert _rel(list(raw.params_.values()), list(fitted.params_.values())) < 1e-6
    assert raw.log_likelihood_ == pytest.approx(fitted.log_likelihood_, rel=1e-10)


def test_duplicated_customers_double_the_log_likelihood(cdnow_days, fitted):
    doubled = BetaGeo(time_unit="weeks").fit(pd.concat([cdnow_days, cdnow_days]))
    assert _rel(list(doubled.params_.values()), list(fitted.params_.values())) < 1e-6
    assert doubled.log_likelihood_ == pytest.approx(2 * fitted.log_likelihood_, rel=1e-10)
    assert doubled.n_distinct_ == fitted.n_distinct_


# --------------------------------------------------------------------------- simulation
def _simulate_with_holdout(params, T, horizon, seed):
    """Continuous-time BG/NBD: calibration summary on (0, T] and purchase counts in (T, T+h]."""
    rng = np.random.default_rng(seed)
    n = len(T)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    x, t_x, hold, now = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.arange(n)
    while active.size:
        now[active] += rng.exponential(1.0, active.size) / lam[active]
        in_cal = now[active] <= T[active]
        in_hold = ~in_cal & (now[active] <= T[active] + horizon)
        cal, hol = active[in_cal], active[in_hold]
        x[cal] += 1
        t_x[cal] = now[cal]
        hold[hol] += 1
        bought = active[in_cal | in_hold]
        active = bought[rng.random(bought.size) >= p[bought]]
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T.astype(float)}), hold


TRUE = {"r": 0.4, "alpha": 25.0, "a": 0.7, "b": 3.0}  # alpha in days


def test_parameter_recovery_on_simulated_data():
    T = np.random.default_rng(1).integers(60, 400, 12_000).astype(float)
    summary, _ = _simulate_with_holdout(TRUE, T, 0.0, seed=2)
    model = BetaGeo().fit(summary)
    for name, value in TRUE.items():
        # each estimate within 4 of its standard errors (a two-sided 1e-4 test per parameter)
        assert abs(model.params_[name] - value) < 4 * model.standard_errors_[name], name
        assert model.standard_errors_[name] < 0.25 * value, name  # and the test has power


def test_purchase_probability_and_expectation_match_monte_carlo():
    T = np.random.default_rng(3).integers(30, 300, 60_000).astype(float)
    horizon = 60.0
    summary, hold = _simulate_with_holdout(TRUE, T, horizon, seed=4)
    model = BetaGeo.from_params(TRUE)
    prob = model.purchase_probability(summary, horizon).to_numpy()
    expected = model.expected_purchases(summary, horizon).to_numpy()
    bucket = np.minimum(summary["frequency"].to_numpy(), 4)
    for b in range(5):
        sel = bucket == b
        observed = np.mean(hold[sel] > 0)
        se = np.sqrt(np.sum(prob[sel] * (1 - prob[sel]))) / sel.sum()
        assert abs(prob[sel].mean() - observed) < 4 * se + 1e-3, b
        se_n = hold[sel].std() / np.sqrt(sel.sum())
        assert abs(expected[sel].mean() - hold[sel].mean()) < 4 * se_n + 1e-3, b
    # the alive factor matters: without it the probability would be far too high for x > 0
    alive = model.p_alive(summary).to_numpy()
    naive = prob / alive
    sel = bucket == 1
    assert naive[sel].mean() - np.mean(hold[sel] > 0) > 10 * np.sqrt(
        np.sum(prob[sel] * (1 - prob[sel]))) / sel.sum()


def test_integer_day_simulation_looks_like_real_data():
    T = np.random.default_rng(5).integers(1, 731, 20_000)
    summary = simulate_bgnbd(TRUE, T, seed=6)
    assert (summary["recency"] == np.round(summary["recency"])).all()
    assert (summary["recency"] <= summary["T"]).all()
    assert len(summary.drop_duplicates()) < 0.75 * len(summary)  # identical histories exist
    model = BetaGeo().fit(summary)  # day binning biases the fit only mildly
    assert model.params_["r"] == pytest.approx(TRUE["r"], rel=0.2)


def test_probabilities_are_ordered_and_bounded(fitted, cdnow_days):
    alive = fitted.p_alive(cdnow_days)
    short = fitted.purchase_probability(cdnow_days, 30)
    long = fitted.purchase_probability(cdnow_days, 365)
    assert ((0 <= short) & (short <= long + 1e-15) & (long <= alive + 1e-15) & (alive <= 1)).all()
    assert (fitted.expected_purchases(cdnow_days, 0) == 0).all()
    assert (fitted.expected_purchases(cdnow_days, 30) >= short - 1e-12).all()


def test_expected_purchases_are_continuous_at_a_equal_one(cdnow_days):
    base = {"r": 0.3, "alpha": 30.0, "b": 2.0}
    values = [BetaGeo.from_params({**base, "a": a}).expected_purchases(cdnow_days, 120)
              for a in (1 - 3e-4, 1 - 5e-5, 1.0, 1 + 5e-5, 1 + 3e-4)]
    for v in values[1:]:
        assert _rel(v, values[0]) < 2e-3
    assert np.isfinite(values[2]).all()


def test_heavy_buyers_do_not_overflow():
    df = pd.DataFrame({"frequency": [400.0, 1000.0], "recency": [729.0, 729.0],
                       "T": [730.0, 730.0]})
    model = BetaGeo.from_params({"r": 0.3, "alpha": 30.0, "a": 0.8, "b": 2.5})
    expected = model.expected_purchases(df, 3650)
    assert np.isfinite(expected).all() and (expected > 100).all()


# --------------------------------------------------------------------------- contract and errors
def test_predicting_before_fit_raises(cdnow_days):
    for method in ("p_alive",):
        with pytest.raises(NotFittedError, match="fit"):
            getattr(BetaGeo(), method)(cdnow_days)
    with pytest.raises(NotFittedError):
        BetaGeo().expected_purchases(cdnow_days, 30)
    with pytest.raises(NotFittedError):
        BetaGeo().purchase_probability(cdnow_days, 30)


def test_fit_returns_self_and_learned_state_ends_with_underscore(cdnow_days):
    model = BetaGeo(penalizer=0.0, time_unit="weeks")
    assert model.fit(cdnow_days) is model
    assert set(model.params_) == {"r", "alpha", "a", "b"}
    assert set(model.standard_errors_) == {"r", "alpha", "a", "b"}
    assert not hasattr(BetaGeo(), "params_")


@pytest.mark.parametrize("change, match", [
    (lambda d: d.assign(frequency=0, recency=0.0), "no customer has a repeat"),
    (lambda d: d.assign(T=d["T"].where(d.index != d.index[3], np.nan)), "NaN"),
    (lambda d: d.assign(recency=d["recency"] - 300), "negative"),
    (lambda d: d.assign(recency=d["T"] + 1), "recency > T"),
    (lambda d: d.assign(recency=np.where(d["frequency"] == 0, 1.0, d["recency"])),
     "frequency 0 must have recency 0"),
    (lambda d: d.assign(frequency=d["frequency"] + 0.5), "non-integer"),
    (lambda d: d.assign(T=0.0, recency=0.0), "T = 0"),
])
def test_bad_data_raises_fit_error_with_a_hint(cdnow_days, change, match):
    with pytest.raises(FitError, match=match) as info:
        BetaGeo().fit(change(cdnow_days.copy()))
    assert info.value.hint


def test_missing_column_is_a_contract_error(cdnow_days, fitted):
    with pytest.raises(DataContractError, match="recency"):
        BetaGeo().fit(cdnow_days.drop(columns="recency"))
    with pytest.raises(DataContractError, match="NaN"):
        fitted.p_alive(cdnow_days.assign(T=np.nan))


def test_outputs_are_series_on_the_input_index(fitted, cdnow_days):
    sub = cdnow_days.iloc[[5, 2, 9]]
    for out in (fitted.p_alive(sub), fitted.expected_purchases(sub, 30),
                fitted.purchase_probability(sub, 30)):
        assert isinstance(out, pd.Series) and list(out.index) == list(sub.index)

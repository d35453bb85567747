"""Gamma-Gamma: CDNOW against lifetimes and Fader-Hardie, gradient, recovery, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tierwise.errors import DataContractError, FitError, NotFittedError
from tierwise.models import GammaGamma, simulate_gamma_gamma
from tierwise.models import gamma_gamma as gg_module

lifetimes = pytest.importorskip("lifetimes")
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}  # Fader & Hardie, "The Gamma-Gamma Model" (025)


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary_data_with_monetary_value()


@pytest.fixture(scope="module")
def repeat(cdnow):
    return cdnow[cdnow["frequency"] > 0]


@pytest.fixture(scope="module")
def fitted(cdnow):
    return GammaGamma().fit(cdnow)


@pytest.fixture(scope="module")
def lifetimes_fit(repeat):
    return lifetimes.GammaGammaFitter(penalizer_coef=0.0).fit(repeat["frequency"],
                                                              repeat["monetary_value"])


def _rel(a, b):
    return np.max(np.abs(np.asarray(a, float) / np.asarray(b, float) - 1.0))


def test_params_log_likelihood_and_errors_match_lifetimes(fitted, lifetimes_fit, repeat):
    theirs = lifetimes_fit.params_.to_dict()
    assert _rel([fitted.params_[k] for k in theirs], list(theirs.values())) < 1e-3
    their_ll = -lifetimes_fit._negative_log_likelihood_ * len(repeat)  # lifetimes keeps the mean
    assert fitted.log_likelihood_ == pytest.approx(their_ll, rel=1e-6)
    se = lifetimes_fit.standard_errors_.to_dict()
    assert _rel([fitted.standard_errors_[k] for k in se], list(se.values())) < 1e-3


def test_published_estimates(fitted):
    # the note prints 15.44 for the maximum at v = 15.4477 (lifetimes finds the same maximum)
    for name, value in PUBLISHED.items():
        assert fitted.params_[name] == pytest.approx(value, abs=1e-2)
    assert fitted.n_customers_ == 946  # repeat buyers only


def test_conditional_expected_spend_matches_lifetimes(fitted, cdnow):
    theirs = lifetimes.GammaGammaFitter()
    theirs.params_ = pd.Series(fitted.params_)[["p", "q", "v"]]
    expected = theirs.conditional_expected_average_profit(cdnow["frequency"],
                                                          cdnow["monetary_value"])
    ours = fitted.conditional_expected_average_profit(cdnow)
    assert _rel(ours, expected) < 1e-10
    one_timers = cdnow["frequency"] == 0
    assert np.allclose(ours[one_timers], fitted.population_mean_spend())


def test_penalised_fit_matches_lifetimes(cdnow, repeat):
    theirs = lifetimes.GammaGammaFitter(penalizer_coef=0.01).fit(
        repeat["frequency"], repeat["monetary_value"]).params_.to_dict()
    ours = GammaGamma(penalizer=0.01).fit(cdnow).params_
    assert _rel([ours[k] for k in theirs], list(theirs.values())) < 1e-4
    assert ours["p"] < PUBLISHED["p"] * 0.8


@pytest.mark.parametrize("theta", [(6.25, 3.74, 15.44), (1.0, 0.5, 100.0), (20.0, 9.0, 3.0)])
def test_gradient_matches_finite_differences(repeat, theta):
    data = gg_module._Spends.build(repeat["frequency"].to_numpy(float),
                                   repeat["monetary_value"].to_numpy(float))
    theta = np.array(theta)
    _, grad = gg_module._gg_ll_grad(theta, data)
    for j in range(3):
        h = 1e-6 * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        fd = (gg_module._gg_ll_grad(up, data)[0] - gg_module._gg_ll_grad(down, data)[0]) / (2 * h)
        assert grad[j] == pytest.approx(fd, rel=1e-5, abs=1e-4), j


def test_per_customer_log_likelihood_matches_lifetimes(repeat):
    theta = np.array([5.0, 3.0, 12.0])
    ours = gg_module.gamma_gamma_log_likelihood(theta, repeat["frequency"],
                                                repeat["monetary_value"])
    their_mean = lifetimes.GammaGammaFitter._negative_log_likelihood(
        np.log(theta), repeat["frequency"].to_numpy(), repeat["monetary_value"].to_numpy(),
        np.ones(len(repeat)), 0.0)
    assert ours.sum() == pytest.approx(-their_mean * len(repeat), rel=1e-12)


def test_parameter_recovery_on_simulated_data():
    true = {"p": 5.0, "q": 4.0, "v": 60.0}
    x = np.random.default_rng(21).geometric(0.4, 20_000)
    m = simulate_gamma_gamma(true, x, seed=22)
    model = GammaGamma().fit(pd.DataFrame({"frequency": x, "monetary_value": m}))
    for name, value in true.items():
        assert abs(model.params_[name] - value) < 4 * model.standard_errors_[name], name
        assert model.standard_errors_[name] < 0.2 * value, name


def test_rounded_spends_compress(cdnow, fitted):
    assert fitted.n_distinct_ < fitted.n_customers_
    doubled = GammaGamma().fit(pd.concat([cdnow, cdnow]))
    assert doubled.n_distinct_ == fitted.n_distinct_
    assert _rel(list(doubled.params_.values()), list(fitted.params_.values())) < 1e-6
    assert doubled.log_likelihood_ == pytest.approx(2 * fitted.log_likelihood_, rel=1e-10)


def test_predicting_before_fit_raises(cdnow):
    with pytest.raises(NotFittedError, match="fit"):
        GammaGamma().conditional_expected_average_profit(cdnow)


@pytest.mark.parametrize("frame, match", [
    (pd.DataFrame({"frequency": [0, 0, 0], "monetary_value": [0.0, 0.0, 0.0]}), "repeat buyers"),
    (pd.DataFrame({"frequency": [1, 2, 3], "monetary_value": [0.0, 5.0, 0.0]}),
     "positive spend; found 1 \\(2 more"),
    (pd.DataFrame({"frequency": [1, 2, 3], "monetary_value": [5.0, 5.0, 5.0]}), "same"),
    (pd.DataFrame({"frequency": [1, 2, 3], "monetary_value": [5.0, np.nan, 7.0]}), "NaN"),
])
def test_degenerate_data_raises_fit_error(frame, match):
    with pytest.raises(FitError, match=match) as info:
        GammaGamma().fit(frame)
    assert info.value.hint


def test_missing_monetary_value_is_a_contract_error(cdnow):
    with pytest.raises(DataContractError, match="monetary_value"):
        GammaGamma().fit(cdnow.drop(columns="monetary_value"))


def test_infinite_mean_spend_is_refused():
    model = GammaGamma.from_params({"p": 2.0, "q": 0.8, "v": 10.0})
    with pytest.raises(FitError, match="q"):
        model.conditional_expected_average_profit(
            pd.DataFrame({"frequency": [1], "monetary_value": [3.0]}))


def test_a_zero_spend_repeat_buyer_is_left_out_not_fatal(cdnow, fitted):
    zero = cdnow.index[cdnow["frequency"] > 0][0]
    with_zero = cdnow.copy()
    with_zero.loc[zero, "monetary_value"] = 0.0
    model = GammaGamma().fit(with_zero)
    assert model.n_excluded_ == 1 and model.n_customers_ == fitted.n_customers_ - 1
    assert GammaGamma.spend_outside_model(with_zero).sum() == 1
    assert GammaGamma.spend_outside_model(with_zero)[zero]
    rest = GammaGamma().fit(with_zero.drop(index=zero))
    assert model.params_ == pytest.approx(rest.params_)

"""Pareto/CNBD-k: Pareto/NBD at k = 1, gradients, recovery, Monte Carlo forecasts, contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tierwise.errors import NotFittedError
from tierwise.models import ParetoNBD, simulate_pareto_nbd
from tierwise.models import pareto_cnbd as pc
from tierwise.models.pareto_cnbd import ParetoCNBD, ParetoCNBDTrial, simulate_pareto_cnbd
from tierwise.models.pareto_nbd import pareto_nbd_log_likelihood

TRUE = {"k": 3, "r": 4.0, "alpha": 12.0, "s": 1.5, "beta": 300.0, "q": 0.3}


def _histories(n=200, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 30, n).astype(float)
    T = rng.uniform(0.5, 1, n)
    tx = np.where(x > 0, T * rng.uniform(0, 1, n), 0)
    tx[:5] = T[:5]  # bought on the last day: no silence
    return x, tx, T


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("trial", [False, True])
def test_gradient_matches_finite_differences(k, trial):
    h = pc._Histories.build(*_histories(), k=k)
    theta = np.array([0.7, 0.3, 0.8, 2.5, 0.3])[:5 if trial else 4]
    _, grad = pc._ll_grad(theta, h, trial)
    fd = [(pc._ll_grad(theta + e, h, trial)[0] - pc._ll_grad(theta - e, h, trial)[0]) / 2e-6
          for e in np.eye(len(theta)) * 1e-6]
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5)


def test_k_1_is_pareto_nbd():
    x, tx, T = _histories()
    params = {"r": 0.7, "alpha": 0.3, "s": 0.8, "beta": 2.5}
    ours = pc.pareto_cnbd_log_likelihood(params, 1, x, tx, T, np.zeros_like(x))
    theirs = pareto_nbd_log_likelihood(list(params.values()), x, tx, T)
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-7)
    df = pd.DataFrame({"frequency": x, "recency": tx * 300, "T": T * 300})
    params = {"r": 0.6, "alpha": 20.0, "s": 0.8, "beta": 90.0}
    a, b = ParetoCNBD.from_params({"k": 1, **params}), ParetoNBD.from_params(params)
    for method in ("p_alive",):
        np.testing.assert_allclose(getattr(a, method)(df), getattr(b, method)(df), rtol=1e-6)
    for method in ("expected_purchases", "purchase_probability"):
        np.testing.assert_allclose(getattr(a, method)(df, 120), getattr(b, method)(df, 120),
                                   rtol=1e-6)


def test_fit_at_k_1_is_the_pareto_nbd_fit():
    sim = simulate_pareto_nbd({"r": 0.8, "alpha": 10.0, "s": 0.7, "beta": 60.0},
                              np.full(2000, 300), seed=2)
    ours, theirs = ParetoCNBD(k=1).fit(sim), ParetoNBD().fit(sim)
    for name in ("r", "alpha", "s", "beta"):
        assert ours.params_[name] == pytest.approx(theirs.params_[name], rel=1e-4)
    assert ours.log_likelihood_ == pytest.approx(theirs.log_likelihood_, rel=1e-7)


@pytest.mark.parametrize(("model", "true", "k"), [
    (ParetoCNBDTrial, TRUE, None),   # k chosen by likelihood (1..4)
    (ParetoCNBD, {"k": 2, "r": 2.0, "alpha": 8.0, "s": 0.8, "beta": 150.0}, 2),
])
def test_parameter_recovery_within_standard_errors(model, true, k):
    sim = simulate_pareto_cnbd(true, np.random.default_rng(3).uniform(100, 400, 4000), seed=4,
                               integer_days=False)
    fitted = model(k=k, max_k=4).fit(sim)
    assert fitted.k_ == true["k"]
    for name in model.param_names[1:]:
        z = (fitted.params_[name] - true[name]) / fitted.standard_errors_[name]
        assert abs(z) < 2.0, (name, fitted.params_[name], fitted.standard_errors_[name])
    per = pc.pareto_cnbd_log_likelihood(fitted.params_, true["k"], sim["frequency"],
                                        sim["recency"], sim["T"], sim["litt"],
                                        trial=model.trial)
    assert per.sum() == pytest.approx(fitted.log_likelihood_, rel=1e-9)


def test_forecasts_match_the_simulated_holdout():
    sim = simulate_pareto_cnbd(TRUE, np.full(8000, 200.0), seed=5, integer_days=False,
                               holdout_days=100)
    m = ParetoCNBDTrial.from_params(TRUE)
    pred, prob = m.expected_purchases(sim, 100), m.purchase_probability(sim, 100)
    actual = sim["purchases_holdout"]
    assert pred.mean() == pytest.approx(actual.mean(), rel=0.03)
    assert prob.mean() == pytest.approx((actual > 0).mean(), abs=0.01)
    busy = sim["frequency"] >= 5
    assert pred[busy].mean() == pytest.approx(actual[busy].mean(), rel=0.04)
    assert ((0 <= prob) & (prob <= m.p_alive(sim) + 1e-12)).all()


def test_a_long_silence_says_more_for_a_regular_buyer():
    df = pd.DataFrame({"frequency": [10.0], "recency": [70.0], "T": [100.0]})
    base = {"alpha": 14.0, "s": 1.0, "beta": 200.0}
    poisson = ParetoCNBD.from_params({"k": 1, "r": 2.0, **base})
    regular = ParetoCNBD.from_params({"k": 4, "r": 8.0, **base})
    assert regular.p_alive(df).iloc[0] < poisson.p_alive(df).iloc[0]


def test_simulated_customers_do_not_buy_after_their_lifetime():
    sim = simulate_pareto_cnbd({**TRUE, "s": 50.0, "beta": 500.0}, np.full(3000, 400.0), seed=6,
                               holdout_days=200)
    # mean lifetime 10 days: almost nobody is seen after the first months
    assert (sim["recency"] > 120).mean() < 0.01
    assert sim["purchases_holdout"].sum() == 0


def test_contract():
    with pytest.raises(NotFittedError):
        ParetoCNBD().p_alive(pd.DataFrame({"frequency": [1.0], "recency": [1.0], "T": [2.0]}))
    with pytest.raises(ValueError, match="needs"):
        ParetoCNBDTrial.from_params({"k": 2, "r": 1.0, "alpha": 1.0, "s": 1.0, "beta": 1.0})
    m = ParetoCNBD.from_params({"k": 2, "r": 1.0, "alpha": 5.0, "s": 1.0, "beta": 50.0})
    df = pd.DataFrame({"frequency": [0.0, 3.0], "recency": [0.0, 20.0], "T": [30.0, 30.0]})
    assert (m.expected_purchases(df, 0) == 0).all()
    assert m.expected_purchases(df, 30).index.equals(df.index)

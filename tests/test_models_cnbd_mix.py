"""MBG/CNBD-k with a per-customer k: its likelihood, gradient, recovery and Monte Carlo checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tierwise.errors import DataContractError, NotFittedError
from tierwise.models import MBGCNBD
from tierwise.models import cnbd as cnbd_module
from tierwise.models.cnbd_mix import MBGCNBDMix, _mix_ll_grad, simulate_cnbd_mix

TRUE = {"r": 4.0, "alpha": 40.0, "a": 0.8, "b": 8.0,
        "w1": 0.0, "w2": 0.5, "w3": 0.0, "w4": 0.0, "w5": 0.5}


def test_one_class_is_mbgcnbd_with_that_k():
    sim = cnbd_module.simulate_cnbd({"k": 3, "r": 3.0, "alpha": 30.0, "a": 1.0, "b": 6.0},
                                    np.full(3000, 300.0), seed=2)
    one = MBGCNBDMix(max_k=3)
    one.params_ = {"r": 3.0, "alpha": 30.0, "a": 1.0, "b": 6.0, "w1": 0.0, "w2": 0.0, "w3": 1.0}
    plain = MBGCNBD.from_params({"k": 3, "r": 3.0, "alpha": 10.0, "a": 1.0, "b": 6.0})
    np.testing.assert_allclose(one.expected_purchases(sim, 90), plain.expected_purchases(sim, 90),
                               rtol=1e-12)
    np.testing.assert_allclose(one.p_alive(sim), plain.p_alive(sim), rtol=1e-12)
    np.testing.assert_allclose(one.purchase_probability(sim, 30),
                               plain.purchase_probability(sim, 30), rtol=1e-12)


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 10, 300).astype(float)
    T = rng.uniform(0.5, 1, 300)
    tx = np.where(x > 0, T * rng.uniform(0, 1, 300), 0)
    litt = np.where(x > 0, x * np.log(np.maximum(tx, 1e-3) / np.maximum(x, 1)) - 0.3 * x, 0.0)
    ks = np.arange(1, 5)
    hists = [cnbd_module._Histories.build(x, tx, T, np.ones(300), k=int(k)) for k in ks]
    const = np.stack([(k - 1) * litt for k in ks], axis=1)
    inverse = np.arange(300)
    v = np.array([np.log(0.7), np.log(0.3), np.log(0.8), np.log(2.5), 0.0, 0.3, -0.2, 0.1])
    _, grad = _mix_ll_grad(v, ks, hists, inverse, const)
    fd = [(_mix_ll_grad(v + e, ks, hists, inverse, const)[0]
           - _mix_ll_grad(v - e, ks, hists, inverse, const)[0]) / 2e-6 for e in np.eye(8) * 1e-6]
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-5)


def test_parameter_recovery_within_standard_errors():
    sim = simulate_cnbd_mix(TRUE, np.full(6000, 365.0), seed=0, integer_days=False)
    fitted = MBGCNBDMix(max_k=6).fit(sim)
    for name in ("r", "alpha", "a", "b", "w2", "w5"):
        z = (fitted.params_[name] - TRUE[name]) / fitted.standard_errors_[name]
        assert abs(z) < 3.0, (name, fitted.params_[name], fitted.standard_errors_[name])
    assert sum(fitted.params_[f"w{k}"] for k in range(1, 7)) == pytest.approx(1.0)
    # the customer's own gaps tell the classes apart: regulars with many gaps are classified
    post = fitted.class_posterior(sim)
    many = sim["frequency"] >= 15
    guess = post.to_numpy().argmax(axis=1) + 1
    assert np.mean(guess[many] == sim["k"][many]) > 0.9


def test_forecasts_match_monte_carlo():
    sim = simulate_cnbd_mix(TRUE, np.full(20000, 200.0), seed=5, integer_days=False,
                            holdout_days=100)
    m = MBGCNBDMix(max_k=5)
    m.params_ = {k: v for k, v in TRUE.items()}
    pred, prob = m.expected_purchases(sim, 100), m.purchase_probability(sim, 100)
    actual = sim["purchases_holdout"]
    assert pred.mean() == pytest.approx(actual.mean(), rel=0.03)
    assert prob.mean() == pytest.approx((actual > 0).mean(), abs=0.01)
    for k in (2, 5):  # per true class among busy buyers: the posterior finds the class
        busy = (sim["frequency"] >= 5) & (sim["k"] == k)
        assert pred[busy].mean() == pytest.approx(actual[busy].mean(), rel=0.04)


def test_contract_and_errors():
    sim = simulate_cnbd_mix(TRUE, np.full(2000, 365.0), seed=3)
    with pytest.raises(NotFittedError):
        MBGCNBDMix().p_alive(sim)
    model = MBGCNBDMix(max_k=5)
    assert model.fit(sim) is model
    assert {"params_", "standard_errors_", "log_likelihood_"} <= set(vars(model))
    assert np.isfinite(model.log_likelihood_)
    with pytest.raises(DataContractError, match="litt"):
        MBGCNBDMix().fit(sim.drop(columns="litt"))
    with pytest.raises(DataContractError, match="litt"):
        model.expected_purchases(sim.drop(columns="litt"), 30)
    for name in ("p_alive", "expected_purchases", "purchase_probability"):
        args = () if name == "p_alive" else (30,)
        out = getattr(model, name)(sim, *args)
        assert out.index.equals(sim.index) and (out >= 0).all() and out.notna().all()
    assert (model.p_alive(sim) <= 1).all()
    assert MBGCNBDMix().fit(sim.iloc[:0].pipe(lambda d: pd.concat([d, sim]))).params_

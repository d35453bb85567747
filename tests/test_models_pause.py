"""MBG/CNBD-k with pauses: parameter recovery, the pi = 0 limit, Monte Carlo, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tierwise.errors import DataContractError, FitError, NotFittedError
from tierwise.models import MBGCNBD, simulate_cnbd
from tierwise.models.pause import MBGCNBDPause, pause_log_likelihood, simulate_pause

TRUE = {"r": 3.0, "alpha": 20.0, "a": 0.8, "b": 6.0, "k": 3.0, "pi": 0.08, "s": 9.0}


@pytest.fixture(scope="module")
def recovered():
    T = np.random.default_rng(1).uniform(60.0, 730.0, 4000)
    sim = simulate_pause(TRUE, T, seed=3, integer_days=False)
    return MBGCNBDPause().fit(sim)


def test_parameter_recovery_within_standard_errors(recovered):
    assert recovered.converged_
    for name, value in TRUE.items():
        se = recovered.standard_errors_[name]
        assert np.isfinite(se) and se > 0, name
        z = (recovered.params_[name] - value) / se
        assert abs(z) < 2.5, (name, recovered.params_[name], se)


def test_without_pauses_it_is_mbg_cnbd():
    """pi -> 0: the same P(alive) as MBG/CNBD-k and, up to Monte Carlo, the same forecasts."""
    true = {"k": 2, "r": 3.0, "alpha": 20.0, "a": 1.0, "b": 6.0}
    sim = simulate_cnbd(true, np.full(3000, 200.0), seed=2, integer_days=False)
    cnbd = MBGCNBD.from_params(true)
    pause = MBGCNBDPause.from_params({**true, "pi": 1e-12, "s": 1.0}, draws=2000)
    np.testing.assert_allclose(pause.p_alive(sim), cnbd.p_alive(sim), rtol=1e-8, atol=1e-12)
    e_pause, e_cnbd = pause.expected_purchases(sim, 60), cnbd.expected_purchases(sim, 60)
    assert e_pause.mean() == pytest.approx(e_cnbd.mean(), rel=0.01)
    assert float((e_pause - e_cnbd).abs().mean()) < 0.05
    p_pause, p_cnbd = pause.purchase_probability(sim, 60), cnbd.purchase_probability(sim, 60)
    assert float((p_pause - p_cnbd).abs().max()) < 0.02


def test_forecasts_match_the_simulated_holdout():
    sim = simulate_pause(TRUE, np.full(6000, 300.0), seed=5, integer_days=False,
                         holdout_days=120)
    m = MBGCNBDPause.from_params(TRUE)
    pred, prob = m.expected_purchases(sim, 120), m.purchase_probability(sim, 120)
    actual = sim["purchases_holdout"]
    assert pred.mean() == pytest.approx(actual.mean(), rel=0.04)
    assert prob.mean() == pytest.approx((actual > 0).mean(), abs=0.015)
    long_silence = (sim["T"] - sim["recency"]) > 3 * sim["recency"] / sim["frequency"].clip(1)
    repeat = sim["frequency"] >= 3
    sel = long_silence & repeat
    assert sel.sum() > 100
    # after a silence of three usual gaps the pause keeps some customers alive: they come back
    assert pred[sel].mean() == pytest.approx(actual[sel].mean(), abs=0.15)


def test_same_seed_same_forecast_and_likelihood_sums():
    sim = simulate_pause(TRUE, np.full(500, 300.0), seed=9)
    m = MBGCNBDPause.from_params(TRUE, seed=4)
    pd.testing.assert_series_equal(m.expected_purchases(sim, 30), m.expected_purchases(sim, 30))
    ll = pause_log_likelihood(TRUE, sim["frequency"], sim["recency"], sim["T"])
    assert np.all(np.isfinite(ll)) and np.all(ll < 0)


def test_clear_errors():
    sim = simulate_pause(TRUE, np.full(300, 300.0), seed=1)
    with pytest.raises(DataContractError, match="gap_prev"):
        MBGCNBDPause().fit(sim.drop(columns=["gap_prev"]))
    with pytest.raises(FitError, match="three or more purchase days"):
        MBGCNBDPause().fit(sim.head(20))
    with pytest.raises(NotFittedError):
        MBGCNBDPause().p_alive(sim)

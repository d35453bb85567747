"""Pareto/NBD: the hypergeometric pieces, CDNOW against lifetimes and Fader-Hardie, simulation."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import hyp2f1

from tierwise.demo.rhythm import generate_rhythm_business
from tierwise.errors import FitError, NotFittedError
from tierwise.models import BetaGeo, ParetoNBD
from tierwise.models import _tail_integral as ti
from tierwise.models import pareto_nbd as pn
from tierwise.models.validation import calibration_holdout, holdout_errors
from tierwise.models._summary import Compressed

lifetimes = pytest.importorskip("lifetimes")
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value

PUBLISHED = {"r": 0.553, "alpha": 10.58, "s": 0.606, "beta": 11.67}  # Fader & Hardie note 009


@pytest.fixture(scope="module")
def cdnow_weeks():
    return load_cdnow_summary_data_with_monetary_value()


@pytest.fixture(scope="module")
def cdnow_days(cdnow_weeks):
    days = cdnow_weeks.copy()
    days["recency"] *= 7
    days["T"] *= 7
    return days


@pytest.fixture(scope="module")
def fitted(cdnow_days):
    return ParetoNBD(time_unit="weeks").fit(cdnow_days)


@pytest.fixture(scope="module")
def lifetimes_fit(cdnow_weeks):
    d = cdnow_weeks
    np.random.seed(0)  # lifetimes starts Nelder-Mead from a random point
    return lifetimes.ParetoNBDFitter(penalizer_coef=0.0).fit(d["frequency"], d["recency"], d["T"])


def _rel(a, b):
    return np.max(np.abs(np.asarray(a, float) / np.asarray(b, float) - 1.0))


# --------------------------------------------------------------------------- 2F1 and A0
def test_series_matches_scipy_hyp2f1_including_z_near_one():
    rng = np.random.default_rng(0)
    p_u, q_u = rng.uniform(0.05, 60, 40), rng.uniform(0.05, 60, 40)
    z = np.concatenate([rng.uniform(0, 0.99, 2000), 1 - 10 ** rng.uniform(-2.2, -1, 300)])
    code = rng.integers(0, 40, len(z))
    F, F_p, F_q, F_z = pn.hyp2f1_1pq(p_u, q_u, code, z)
    p, q = p_u[code], q_u[code]
    assert _rel(F, hyp2f1(1.0, p, p + q, z)) < 1e-11
    h = 1e-6
    fd_p = (hyp2f1(1.0, p + h, p + h + q, z) - hyp2f1(1.0, p - h, p - h + q, z)) / (2 * h)
    fd_q = (hyp2f1(1.0, p, p + q + h, z) - hyp2f1(1.0, p, p + q - h, z)) / (2 * h)
    zs = z * (1 - 1e-7)
    fd_z = (hyp2f1(1.0, p, p + q, z) - hyp2f1(1.0, p, p + q, zs)) / (z - zs)
    big = np.abs(fd_p) > 1e-3
    assert _rel(F_p[big], fd_p[big]) < 1e-4
    assert _rel(F_q, fd_q) < 1e-4
    assert _rel(F_z[z > 0.01], fd_z[z > 0.01]) < 1e-4


def test_series_refuses_arguments_too_close_to_one():
    with pytest.raises(pn.SeriesDiverged):
        pn.hyp2f1_1pq(np.array([1.0]), np.array([1.0]), np.array([0]), np.array([1 - 1e-9]))


@pytest.mark.parametrize("alpha, beta", [(3.0, 11.0), (11.0, 3.0), (5.0, 5.0), (0.5, 40.0)])
def test_tail_integral_matches_quadrature(alpha, beta):
    pa, qb, t = np.array([0.6, 4.6, 12.6]), np.array([1.7, 1.7, 0.4]), np.array([0.0, 2.5, 30.0])
    value, grad = pn.log_tail_integral(pa, qb, np.arange(3), alpha, beta, t)
    for i in range(3):
        integral = quad(lambda u, a=pa[i], b=qb[i]: (alpha + u) ** -a * (beta + u) ** -b, t[i],
                        np.inf, epsabs=0, epsrel=1e-12)[0]
        assert value[i] == pytest.approx(np.log((pa[i] + qb[i] - 1) * integral), rel=1e-9)
    # gradient with respect to (pa, qb, alpha, beta) by central differences
    args = [pa, qb, alpha, beta]
    for j in range(4):
        up, down = list(args), list(args)
        h = 1e-6 * (np.abs(args[j]) + 1)
        up[j] = args[j] + h
        down[j] = args[j] - h
        fd = (pn.log_tail_integral(up[0], up[1], np.arange(3), up[2], up[3], t)[0]
              - pn.log_tail_integral(down[0], down[1], np.arange(3), down[2], down[3], t)[0]) / (2 * h)
        assert np.allclose(grad[j], fd, rtol=1e-5, atol=1e-8), j


# --------------------------------------------------------------------------- CDNOW
def test_params_match_lifetimes_on_cdnow(fitted, lifetimes_fit):
    theirs = lifetimes_fit.params_.to_dict()
    assert _rel([fitted.params_[k] for k in theirs], list(theirs.values())) < 1e-3


def test_log_likelihood_matches_lifetimes(fitted, lifetimes_fit, cdnow_weeks):
    d = cdnow_weeks
    theirs = lifetimes.ParetoNBDFitter._conditional_log_likelihood(
        lifetimes_fit.params_[["r", "alpha", "s", "beta"]].to_numpy(),
        d["frequency"].to_numpy(), d["recency"].to_numpy(), d["T"].to_numpy()).sum()
    assert fitted.log_likelihood_ == pytest.approx(theirs, rel=1e-6)
    assert fitted.log_likelihood_ >= theirs - 1e-6  # ours is at least as good an optimum


def test_per_customer_log_likelihood_matches_lifetimes(cdnow_weeks):
    d = cdnow_weeks
    for theta in ([0.55, 10.6, 0.61, 11.7], [0.5, 3.0, 0.6, 40.0], [2.0, 40.0, 0.3, 1.5]):
        ours = pn.pareto_nbd_log_likelihood(theta, d["frequency"], d["recency"], d["T"])
        theirs = lifetimes.ParetoNBDFitter._conditional_log_likelihood(
            np.array(theta), d["frequency"].to_numpy(), d["recency"].to_numpy(),
            d["T"].to_numpy())
        assert np.allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_published_cdnow_estimates(fitted):
    for name, value in PUBLISHED.items():
        assert fitted.params_[name] == pytest.approx(value, abs=6e-3 if value > 10 else 6e-4)
    assert fitted.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)
    assert all(np.isfinite(v) and v > 0 for v in fitted.standard_errors_.values())


def test_p_alive_and_expected_purchases_match_lifetimes(fitted, cdnow_days, cdnow_weeks,
                                                         lifetimes_fit):
    d = cdnow_weeks
    theirs = lifetimes.ParetoNBDFitter()
    theirs.params_ = pd.Series(fitted.params_)[["r", "alpha", "s", "beta"]]
    p_alive = theirs.conditional_probability_alive(d["frequency"], d["recency"], d["T"])
    assert _rel(fitted.p_alive(cdnow_days), p_alive) < 1e-6
    for weeks in (1, 39, 150):
        expected = theirs.conditional_expected_number_of_purchases_up_to_time(
            weeks, d["frequency"], d["recency"], d["T"])
        assert _rel(fitted.expected_purchases(cdnow_days, weeks * 7), expected) < 1e-6


# --------------------------------------------------------------------------- optimisation
@pytest.mark.parametrize("theta", [(0.55, 0.27, 0.61, 0.30), (0.55, 0.05, 0.61, 2.0),
                                   (2.0, 1.5, 0.3, 0.04), (0.3, 0.5, 1.0, 0.5)])
def test_gradient_matches_finite_differences(cdnow_weeks, theta):
    d = cdnow_weeks
    scale = d["T"].max()
    hist = pn._Histories.build(d["frequency"].to_numpy(float), d["recency"].to_numpy() / scale,
                               d["T"].to_numpy() / scale)
    theta = np.array(theta)
    _, grad = pn._pnbd_ll_grad(theta, hist)
    for j in range(4):
        h = 1e-6 * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        fd = (pn._pnbd_ll_grad(up, hist)[0] - pn._pnbd_ll_grad(down, hist)[0]) / (2 * h)
        assert grad[j] == pytest.approx(fd, rel=1e-5, abs=1e-3), j


def test_compressed_fit_equals_uncompressed(cdnow_days, fitted, monkeypatch):
    def identity(*columns):
        n = len(columns[0])
        return Compressed(tuple(np.asarray(c) for c in columns), np.ones(n), np.arange(n))

    monkeypatch.setattr(pn, "compress", identity)
    raw = ParetoNBD(time_unit="weeks").fit(cdnow_days)
    assert raw.n_distinct_ == 2357 and fitted.n_distinct_ < 1200
    assert _rel(list(raw.params_.values()), list(fitted.params_.values())) < 1e-6
    assert raw.log_likelihood_ == pytest.approx(fitted.log_likelihood_, rel=1e-10)


def test_penalizer_is_on_the_mean_objective(cdnow_days, cdnow_weeks):
    """lifetimes adds the penalty to the total NLL: its c equals our c / n_customers."""
    d = cdnow_weeks
    np.random.seed(1)
    theirs = lifetimes.ParetoNBDFitter(penalizer_coef=5.0).fit(d["frequency"], d["recency"],
                                                               d["T"]).params_
    ours = ParetoNBD(penalizer=5.0 / len(d), time_unit="weeks").fit(cdnow_days).params_
    assert _rel([ours[k] for k in theirs.index], theirs.to_numpy()) < 2e-3


# --------------------------------------------------------------------------- simulation
def _simulate_with_holdout(params, T, horizon, seed):
    """Continuous-time Pareto/NBD: calibration summary and purchases in (T, T+horizon]."""
    rng = np.random.default_rng(seed)
    n = len(T)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    death = rng.exponential(1.0, n) / rng.gamma(params["s"], 1.0 / params["beta"], n)
    x, t_x, hold, now = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.arange(n)
    while active.size:
        now[active] += rng.exponential(1.0, active.size) / lam[active]
        active = active[now[active] < np.minimum(death[active], T[active] + horizon)]
        cal = active[now[active] <= T[active]]
        x[cal] += 1
        t_x[cal] = now[cal]
        hold[active[now[active] > T[active]]] += 1
    return pd.DataFrame({"frequency": x, "recency": t_x, "T": T.astype(float)}), hold


TRUE = {"r": 0.6, "alpha": 30.0, "s": 0.8, "beta": 120.0}  # days


def test_parameter_recovery_on_simulated_data():
    T = np.random.default_rng(11).integers(60, 500, 10_000).astype(float)
    summary, _ = _simulate_with_holdout(TRUE, T, 0.0, seed=12)
    model = ParetoNBD().fit(summary)
    for name, value in TRUE.items():
        assert abs(model.params_[name] - value) < 4 * model.standard_errors_[name], name
        assert model.standard_errors_[name] < 0.5 * value, name


def test_purchase_probability_and_expectation_match_monte_carlo():
    T = np.random.default_rng(13).integers(30, 300, 50_000).astype(float)
    horizon = 60.0
    summary, hold = _simulate_with_holdout(TRUE, T, horizon, seed=14)
    model = ParetoNBD.from_params(TRUE)
    prob = model.purchase_probability(summary, horizon).to_numpy()
    expected = model.expected_purchases(summary, horizon).to_numpy()
    bucket = np.minimum(summary["frequency"].to_numpy(), 4)
    for b in range(5):
        sel = bucket == b
        se = np.sqrt(np.sum(prob[sel] * (1 - prob[sel]))) / sel.sum()
        assert abs(prob[sel].mean() - np.mean(hold[sel] > 0)) < 4 * se + 1e-3, b
        se_n = hold[sel].std() / np.sqrt(sel.sum())
        assert abs(expected[sel].mean() - hold[sel].mean()) < 4 * se_n + 1e-3, b


def test_expected_purchases_continuous_at_s_equal_one(cdnow_days):
    base = {"r": 0.5, "alpha": 70.0, "beta": 80.0}
    values = [ParetoNBD.from_params({**base, "s": s}).expected_purchases(cdnow_days, 365)
              for s in (1 - 1e-6, 1.0, 1 + 1e-6)]
    assert _rel(values[0], values[1]) < 1e-5 and _rel(values[2], values[1]) < 1e-5


def test_probabilities_are_ordered_and_bounded(fitted, cdnow_days):
    alive = fitted.p_alive(cdnow_days)
    short = fitted.purchase_probability(cdnow_days, 30)
    long = fitted.purchase_probability(cdnow_days, 365)
    assert ((0 <= short) & (short <= long + 1e-15) & (long <= alive + 1e-15) & (alive <= 1)).all()
    assert (fitted.expected_purchases(cdnow_days, 30) >= short - 1e-12).all()


# --------------------------------------------------------------------------- contract and errors
def test_predicting_before_fit_raises(cdnow_days):
    with pytest.raises(NotFittedError):
        ParetoNBD().p_alive(cdnow_days)
    with pytest.raises(NotFittedError):
        ParetoNBD().purchase_probability(cdnow_days, 10)


def test_no_repeat_buyers_raises_fit_error(cdnow_days):
    with pytest.raises(FitError, match="repeat") as info:
        ParetoNBD().fit(cdnow_days.assign(frequency=0, recency=0.0))
    assert "historical-rate" in info.value.hint


def test_recency_after_T_raises_fit_error(cdnow_days):
    with pytest.raises(FitError, match="recency > T"):
        ParetoNBD().fit(cdnow_days.assign(recency=cdnow_days["T"] + 1))


def test_no_drop_out_fits_and_everyone_stays_alive():
    """Without drop-out the optimum has beta/alpha beyond 1e4: fitted, not refused."""
    T = np.random.default_rng(0).integers(30, 730, 3000)
    no_churn = pn.simulate_pareto_nbd({"r": 0.8, "alpha": 40.0, "s": 0.5, "beta": 1e9}, T, seed=1)
    model = ParetoNBD().fit(no_churn)
    assert model.converged_
    assert model.params_["beta"] / model.params_["alpha"] > 1e4
    assert abs(model.params_["r"] - 0.8) < 4 * model.standard_errors_["r"]
    assert model.p_alive(no_churn).min() > 0.999


# --------------------------------------------------------------------------- extreme ratios
def _mp_log_tail(pa, qb, alpha, beta, t):
    """``log((pa+qb-1) I)`` by mpmath at 50 digits: ``I = (A-B)**(1-c) z**(c-1)/(c-1) *
    2F1(c-1, q; c; z)`` (the sigma substitution of models/_tail_integral.py)."""
    mp = pytest.importorskip("mpmath")
    with mp.workdps(50):
        (A, p), (B, q) = sorted([(mp.mpf(alpha), pa), (mp.mpf(beta), qb)], reverse=True)
        c, t = mp.mpf(p) + q, mp.mpf(t)
        if A == B:
            return float((1 - c) * mp.log(A + t))
        z = (A - B) / (A + t)
        return float(mp.log((A - B) ** (1 - c) * z ** (c - 1) * mp.hyp2f1(c - 1, q, c, z)))


GRID = [(pa, qb, ratio, t) for pa in (0.3, 1.0, 4.6, 30.5, 300.2) for qb in (0.4, 1.05, 2.0, 60.0)
        for ratio in (1.0, 3.0, 1e3, 1e4, 1e6, 1e12, 1e-3, 1e-6) for t in (0.0, 1.0)
        if pa + qb > 1]


def test_tail_integral_matches_mpmath_for_any_ratio_and_large_x():
    """Series and quadrature rows alike, ratios up to 1e12 either way, x up to 300."""
    pa, qb, ratio, t = (np.array(col) for col in zip(*GRID))
    code = np.arange(len(GRID))
    value = np.concatenate([pn.log_tail_integral(pa, qb, code, 0.7, 0.7 * r, t)[0][ratio == r]
                            for r in np.unique(ratio)])
    order = np.concatenate([code[ratio == r] for r in np.unique(ratio)])
    expected = np.array([_mp_log_tail(pa[i], qb[i], 0.7, 0.7 * ratio[i], t[i]) for i in order])
    assert np.max(np.abs(value - expected) / np.maximum(1.0, np.abs(expected))) < 1e-13
    A, B = np.maximum(0.7, 0.7 * ratio), np.minimum(0.7, 0.7 * ratio)
    p, q = np.where(ratio > 1, qb, pa), np.where(ratio > 1, pa, qb)
    sizes = ti._terms_needed((A - B) / (A + t), p, q, np.arange(len(GRID)))
    assert np.sum(sizes > ti.SERIES_LIMIT) >= 40  # the quadrature is really exercised


@pytest.mark.parametrize("alpha, beta", [(0.02, 400.0), (900.0, 0.003), (1e-4, 5e3)])
def test_tail_integral_gradient_at_extreme_ratios(alpha, beta):
    pa, qb = np.array([0.6, 1.7, 4.6, 40.6, 300.5]), np.array([1.2, 0.7, 2.0, 1.05, 1.6])
    t = np.array([0.0, 0.4, 1.0, 0.05, 0.7])
    code = np.arange(5)
    args = [pa, qb, alpha, beta]
    _, grad = pn.log_tail_integral(pa, qb, code, alpha, beta, t)
    for j in range(4):
        up, down = list(args), list(args)
        h = 1e-6 * np.abs(args[j])
        up[j], down[j] = args[j] + h, args[j] - h
        fd = (pn.log_tail_integral(up[0], up[1], code, up[2], up[3], t)[0]
              - pn.log_tail_integral(down[0], down[1], code, down[2], down[3], t)[0]) / (2 * h)
        assert np.allclose(grad[j], fd, rtol=1e-6, atol=1e-7 / np.abs(args[j]).max()), j


@pytest.mark.parametrize("theta", [(5.3, 0.054, 0.11, 1.3e-4), (8.8, 1.37, 0.013, 1.3e-8),
                                   (0.8, 0.08, 1e-4, 1e4)])
def test_likelihood_gradient_where_the_series_used_to_refuse(cdnow_weeks, theta):
    d = cdnow_weeks
    scale = d["T"].max()
    hist = pn._Histories.build(d["frequency"].to_numpy(float), d["recency"].to_numpy() / scale,
                               d["T"].to_numpy() / scale)
    theta = np.array(theta)
    ll, grad = pn._pnbd_ll_grad(theta, hist)
    assert np.isfinite(ll)
    for j in range(4):
        h = 1e-6 * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        fd = (pn._pnbd_ll_grad(up, hist)[0] - pn._pnbd_ll_grad(down, hist)[0]) / (2 * h)
        assert grad[j] == pytest.approx(fd, rel=1e-5, abs=1e-3), j


def test_weekly_diners_fit_and_forecast_the_holdout():
    """A restaurant's weekly regulars: the fit used to stop with 'almost no customer seems to
    drop out'. Now it converges and its holdout forecast is checked against what they did."""
    data = generate_rhythm_business("weekly_diners", customers=400, seed=0,
                                    start=date(2024, 1, 1), end=date(2024, 12, 31))
    ch = calibration_holdout(data.orders, pd.Timestamp("2024-10-01"), pd.Timestamp("2024-12-31"))
    model = ParetoNBD(time_unit="weeks").fit(ch.summary)
    assert model.converged_ and all(np.isfinite(v) for v in model.params_.values())
    report = holdout_errors(model, ch).aggregate
    assert abs(report["purchases_total_relative_error"]) < 0.15
    bgnbd = holdout_errors(BetaGeo(time_unit="weeks").fit(ch.summary), ch).aggregate
    assert report["purchases_mae"] < 1.2 * bgnbd["purchases_mae"]


def test_unidentified_parameters_get_no_standard_error_and_the_others_keep_theirs():
    """A Hessian singular along (s, beta) only: those two get NaN, r and alpha the inverse of
    their own block (held at the estimates), whatever rounding does to the full matrix."""
    from tierwise.models._summary import _inverse_or_nan

    block = np.array([[4.0, 1.0], [1.0, 3.0]])
    hess = np.zeros((4, 4))
    hess[:2, :2] = block
    hess[2:, 2:] = np.array([[1.0, 1.0], [1.0, 1.0]]) * 2.0  # s and beta only as one direction
    hess[2, 2] -= 1e-12  # rounding made it indefinite
    out = _inverse_or_nan(hess)
    np.testing.assert_allclose(out[:2, :2], np.linalg.inv(block))
    assert np.isnan(out[2:, :]).all() and np.isnan(out[:, 2:]).all()
    # positive definite: the plain inverse; flat in every direction: NaN throughout
    np.testing.assert_allclose(_inverse_or_nan(np.eye(2) * 2.0), np.eye(2) / 2.0)
    assert np.isnan(_inverse_or_nan(np.zeros((2, 2)))).all()


def test_the_quadrature_in_blocks_of_rows_is_the_whole_array_at_once(monkeypatch) -> None:
    """The tail integral's quadrature runs a block of rows at a time (memory and cache); every
    row's value and gradient are the same, to the bit, as with one block for all rows."""
    rng = np.random.default_rng(7)
    n = 1300  # more than two blocks, the last one partial
    x = rng.integers(0, 4, n).astype(float)  # few purchases: no row converges by the series
    pa, qb = 0.8 + np.unique(x), np.full(len(np.unique(x)), 1.3)
    code = np.searchsorted(np.unique(x), x)
    t = rng.uniform(0.0, 2.0, n)
    alpha, beta = 0.05, 4e4  # beta / alpha far beyond the series: every row by quadrature
    quadrature = ti._terms_needed((beta - alpha) / (beta + t), qb, pa, code) > ti.SERIES_LIMIT
    assert quadrature.sum() == n
    value, grad = pn.log_tail_integral(pa, qb, code, alpha, beta, t)
    monkeypatch.setattr(ti, "QUAD_BLOCK_ROWS", 10 * n)
    whole_value, whole_grad = pn.log_tail_integral(pa, qb, code, alpha, beta, t)
    assert ti.QUAD_BLOCK_ROWS > n > 2 * 512
    assert np.all(np.isfinite(value))
    np.testing.assert_array_equal(value, whole_value)
    np.testing.assert_array_equal(grad, whole_grad)

"""Calibration/holdout splits, holdout errors, model selection and fit confidence."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from tierwise.errors import DataContractError, FitError
from tierwise.models.validation import MODELS
from tierwise.models import (
    BetaGeo,
    calibration_holdout,
    fit_confidence,
    holdout_errors,
    make_model,
    select_model,
    summary_from_orders,
)

lifetimes = pytest.importorskip("lifetimes")
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value


@pytest.fixture(scope="module")
def cdnow_orders():
    path = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "CDNOW_sample.txt")
    raw = pd.read_csv(path, sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "quantity", "amount"])
    return pd.DataFrame({"customer_id": raw["customer_id"],
                         "ordered_at": pd.to_datetime(raw["date"].astype(str)),
                         "amount": raw["amount"]})


@pytest.fixture(scope="module")
def cdnow_split(cdnow_orders):
    return calibration_holdout(cdnow_orders, "1997-09-30", "1998-06-30")


@pytest.fixture
def small_orders():
    return pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "a", "b", "b", "c", "d"],
        "ordered_at": ["2024-01-01", "2024-01-01", "2024-01-11", "2024-02-01", "2024-03-05",
                       "2024-01-20", "2024-01-25", "2024-03-01", "2024-01-05"],
        "amount": [10.0, 5.0, 20.0, -20.0, 40.0, 7.0, 9.0, 30.0, 12.0],
    })


def test_calibration_summary_reproduces_the_published_cdnow_summary(cdnow_split):
    ours = cdnow_split.summary
    theirs = load_cdnow_summary_data_with_monetary_value()
    assert len(ours) == len(theirs) == 2357
    assert (ours["frequency"].to_numpy() == theirs["frequency"].to_numpy()).all()
    # the published file rounds weeks to two decimals
    assert np.abs(ours["recency"].to_numpy() / 7 - theirs["recency"].to_numpy()).max() <= 0.005
    assert np.abs(ours["T"].to_numpy() / 7 - theirs["T"].to_numpy()).max() <= 0.005
    assert np.abs(ours["monetary_value"].to_numpy()
                  - theirs["monetary_value"].to_numpy()).max() <= 0.005 + 1e-9
    assert cdnow_split.holdout_days == 273


def test_small_split_by_hand(small_orders):
    ch = calibration_holdout(small_orders, "2024-01-31", "2024-03-31")
    s = ch.summary
    assert list(s.index) == ["a", "b", "d"]  # c was acquired after the calibration period
    # a: purchase days Jan 1 (two orders) and Jan 11 in calibration; the Feb 1 refund is no
    # purchase; Mar 5 is in the holdout
    assert s.loc["a", ["frequency", "recency", "T", "monetary_value"]].tolist() == [
        1.0, 10.0, 30.0, 20.0]
    assert s.loc["a", "purchases_holdout"] == 1 and s.loc["a", "spend_holdout"] == 40.0
    assert s.loc["b", ["frequency", "recency", "T", "monetary_value"]].tolist() == [
        1.0, 5.0, 11.0, 9.0]
    assert s.loc["d", "frequency"] == 0 and s.loc["d", "monetary_value"] == 0
    assert s.loc["d", "purchases_holdout"] == 0
    assert ch.holdout_days == 60


def test_summary_from_orders_ignores_later_orders(small_orders):
    s = summary_from_orders(small_orders, "2024-01-11")
    assert s.loc["a", "frequency"] == 1 and s.loc["a", "T"] == 10
    assert "c" not in s.index


def test_bad_inputs(small_orders):
    with pytest.raises(ValueError, match="before"):
        calibration_holdout(small_orders, "2024-03-31", "2024-01-31")
    with pytest.raises(DataContractError, match="amount"):
        calibration_holdout(small_orders.drop(columns="amount"), "2024-01-31", "2024-03-31")
    with pytest.raises(DataContractError, match="calibration_end"):
        calibration_holdout(small_orders, "2023-01-31", "2024-03-31")


def test_holdout_errors_by_hand(cdnow_split):
    model = BetaGeo(time_unit="weeks").fit(cdnow_split.summary)
    report = holdout_errors(model, cdnow_split)
    t = report.per_customer
    predicted = model.expected_purchases(cdnow_split.summary, 273)
    assert np.allclose(t["purchases_predicted"], predicted)
    mae = np.mean(np.abs(predicted - cdnow_split.summary["purchases_holdout"]))
    assert report.aggregate["purchases_mae"] == pytest.approx(mae)
    assert report.aggregate["purchases_actual"] == cdnow_split.summary["purchases_holdout"].sum()
    table = report.by_frequency
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["n_customers"].sum() == 2357
    assert table.loc["7+", "n_customers"] == (cdnow_split.summary["frequency"] >= 7).sum()
    assert table.loc["0", "purchases_actual_mean"] == pytest.approx(
        cdnow_split.summary.loc[cdnow_split.summary["frequency"] == 0, "purchases_holdout"].mean())
    # a fitted model tracks the holdout: high-frequency customers buy more
    assert table["purchases_predicted_mean"].is_monotonic_increasing


def test_select_model_picks_the_lowest_holdout_error(cdnow_orders):
    sel = select_model(cdnow_orders, "1997-09-30", "1998-06-30", time_unit="weeks")
    maes = sel.metrics["purchases_mae"].astype(float)
    assert sel.chosen == maes.idxmin()
    assert f"{maes[sel.chosen]:.4f}" in sel.reason and "273-day holdout" in sel.reason
    assert set(MODELS) <= set(sel.reports)
    json.dumps(sel.to_dict(), allow_nan=False)
    row = sel.metrics.loc["mbgnbd"]
    assert row["fit_seconds"] > 0 and np.isfinite(row["log_likelihood"])
    assert row["purchases_bias"] == pytest.approx(
        row["purchases_predicted"] / row["purchases_actual"] - 1)


def test_auto_on_cdnow_is_at_least_as_good_as_pareto_nbd(cdnow_orders):
    sel = select_model(cdnow_orders, "1997-09-30", "1998-06-30", time_unit="weeks")
    assert sel.metrics.loc[sel.chosen, "purchases_mae"] <= 0.7545 + 5e-5
    # Pareto/NBD and MBG/NBD are within 5 %: their average was tried, and lost on holdout
    assert sel.blend["members"] == ["pareto", "mbgnbd"] and not sel.blend["won"]
    assert sel.blend["purchases_mae"] == pytest.approx(
        sel.metrics.loc[sel.blend["model"], "purchases_mae"])
    assert sel.chosen == "pareto"


def test_a_blend_that_wins_is_chosen_and_refits(cdnow_orders):
    sel = select_model(cdnow_orders, "1997-09-30", "1998-06-30", candidates=("bgnbd", "mbgnbd"),
                       time_unit="weeks", blend_within=1.0)
    blend = sel.blend
    maes = sel.metrics["purchases_mae"].astype(float)
    assert blend["won"] == (maes[blend["model"]] < maes[["bgnbd", "mbgnbd"]].min())
    assert sel.chosen == maes.idxmin()
    model = make_model(blend["model"], time_unit="weeks").fit(
        calibration_holdout(cdnow_orders, "1997-09-30", "1998-06-30").summary)
    assert model.name == "blend:mbgnbd+bgnbd" and set(model.weights_) == {"mbgnbd", "bgnbd"}


def test_select_model_reports_failures(small_orders):
    with pytest.raises(FitError, match="no purchase model"):
        select_model(small_orders.assign(customer_id=["a", "e", "f", "g", "h", "b", "i", "c",
                                                      "d"]),
                     "2024-01-31", "2024-03-31")


def test_fit_confidence_grades(cdnow_split):
    model = BetaGeo(time_unit="weeks").fit(cdnow_split.summary)
    assert fit_confidence(model) == ("high", [])
    level, reasons = fit_confidence(model, min_repeat_buyers=5000)
    assert level == "low" and "946 repeat buyers" in reasons[0]
    level, reasons = fit_confidence(model, max_relative_se=0.1)  # a and b are 23-29 % wide
    assert level == "medium" and "a (se" in reasons[0] and "b (se" in reasons[0]


def test_fit_confidence_flags_bounds_and_non_convergence(cdnow_split):
    model = BetaGeo(time_unit="weeks").fit(cdnow_split.summary)
    model.at_bounds_ = {**model.at_bounds_, "b": True}
    level, reasons = fit_confidence(model)
    assert level == "low" and "parameter b ended at the optimiser bound" in reasons[0]
    model.converged_ = False
    model.standard_errors_ = {**model.standard_errors_, "r": float("nan")}
    level, reasons = fit_confidence(model)
    assert level == "low" and any("did not converge" in r for r in reasons)
    assert any("standard errors unavailable" in r for r in reasons)


def test_small_data_gets_low_confidence(cdnow_split):
    small = cdnow_split.summary.iloc[:400]
    model = BetaGeo(time_unit="weeks").fit(small)
    level, reasons = fit_confidence(model)
    assert level == "low" and any("repeat buyers" in r for r in reasons)

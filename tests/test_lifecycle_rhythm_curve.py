"""The rhythm's curve: the chance of a purchase by gaps missed, learnt from the business's history.

Fitted on one period and checked on the next (seeded businesses whose customers are not drawn
from any curve), and at its edges (a small band, too little history, nobody bought).
"""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest

from tierwise.config import ActivityConfig
from tierwise.demo.rhythm import generate_rhythm_business
from tierwise.errors import NotFittedError
from tierwise.features import rfm_expr
from tierwise.lifecycle import assign_policies, classify_activity, rhythm_probability
from tierwise.lifecycle.rhythm_curve import (
    RhythmCurve,
    fit_rhythm_curve,
    purchase_band,
    rhythm_curve_sample,
)

END = dt.date(2024, 12, 31)
H = 90


def _summary(orders: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The RFM summary as the run computes it (the engine's expression, here on a memtable)."""
    table = ibis.memtable(orders).cast({"ordered_at": "date"})
    out = rfm_expr(table, as_of).to_pandas()
    out["days_since_last"] = out["T"] - out["recency"]
    return out.sort_values("customer_key", ignore_index=True)


@pytest.fixture(scope="module", params=["monthly_shoppers", "quarterly_b2b"])
def business(request) -> tuple[str, pd.DataFrame]:
    data = generate_rhythm_business(request.param, customers=2500, end=END, seed=21)
    o = data.orders
    keys = {c: i for i, c in enumerate(sorted(o["customer_id"].unique()), start=1)}
    orders = pd.DataFrame({"customer_key": o["customer_id"].map(keys),
                           "ordered_at": pd.to_datetime(o["ordered_at"]).dt.date,
                           "amount": o["amount"].astype(float), "is_refund": False})
    return request.param, orders


def _deciles(prob: pd.Series, bought: pd.Series) -> pd.DataFrame:
    decile = pd.qcut(prob.rank(method="first"), 10, labels=False)
    return pd.DataFrame({"p": prob, "y": bought.astype(float)}).groupby(decile).mean()


def test_calibrated_on_one_period_it_holds_on_the_next(business):
    kind, orders = business
    t0, t1, t2 = (END - dt.timedelta(days=d) for d in (2 * H, H, 0))
    then, now, later = _summary(orders, t0), _summary(orders, t1), _summary(orders, t2)
    curve, why = fit_rhythm_curve(then, now, H)       # learnt on (t0, t1] ...
    assert curve is not None, why
    frame = classify_activity(now, ActivityConfig(mode="rhythm"))
    prob = curve.predict(frame)                        # ... applied at t1, checked on (t1, t2]
    bought = frame["customer_key"].map(later.set_index("customer_key")["days_since_last"]) < H
    table = _deciles(prob, bought)
    # the target is 0.05 per decile (bench/backtest.py, 5,000 customers); 250 a decile
    # here add about 0.03 of sampling noise
    gap = (table["p"] - table["y"]).abs().max()
    assert gap <= 0.10, (kind, table)
    formula = rhythm_probability(frame["days_since_last"], frame["expected_gap_days"], H)
    assert gap < (_deciles(formula, bought)["p"] - _deciles(formula, bought)["y"]).abs().max()
    told = assign_policies(frame, ActivityConfig(), basis="rhythm", curve=curve)
    silenced = told["activity_policy"].isin(["do_not_contact", "archive"])
    assert silenced.sum() > 50
    assert bought[silenced].mean() <= 0.10, kind      # the floor held on the next period


def test_the_curve_decreases_with_gaps_missed_in_every_band(business):
    _, orders = business
    sample = rhythm_curve_sample(_summary(orders, END - dt.timedelta(days=2 * H)),
                                 _summary(orders, END - dt.timedelta(days=H)), H)
    curve = RhythmCurve().fit(sample)
    grid = np.geomspace(0.05, 50, 60)
    for freq in (0, 1, 3, 10):
        p = curve.predict(pd.DataFrame({"frequency": freq, "gaps_missed": grid}))
        assert p.between(0, 1).all() and p.is_monotonic_decreasing


def test_a_small_band_uses_the_curve_of_all():
    sample = pd.DataFrame({"frequency": [0] * 200 + [9] * 5,
                           "gaps_missed": list(np.linspace(0.1, 20, 200)) + [1, 2, 3, 4, 5],
                           "bought": [True] * 100 + [False] * 100 + [False] * 5})
    curve = RhythmCurve(min_band_customers=100).fit(sample)
    assert curve.info_["bands"]["6+"] == {"customers": 5, "own_curve": False,
                                          "bought_share": 0.0}
    p = curve.predict(pd.DataFrame({"frequency": [9], "gaps_missed": [1.0]})).iloc[0]
    assert p == curve.curves_["all"].predict([1.0])[0] > 0.9   # its own five would have said 0


def test_band_labels_at_their_edges():
    assert purchase_band(pd.Series([0, 1, 2, 4, 5, np.nan])).tolist() == [
        "1", "2", "3-5", "3-5", "6+", "1"]


def test_not_enough_history_or_nothing_to_learn():
    now = pd.DataFrame({"customer_key": [1, 2], "days_since_last": [3, 200]})
    assert fit_rhythm_curve(None, now, H)[0] is None
    then = pd.DataFrame({"customer_key": range(1, 41), "frequency": 2, "recency": 60, "T": 100})
    nobody = pd.DataFrame({"customer_key": range(1, 41), "days_since_last": 500})
    curve, why = fit_rhythm_curve(then, nobody, H)
    assert curve is None and why.startswith("0 %")
    with pytest.raises(NotFittedError):
        RhythmCurve().predict(now.assign(frequency=1, gaps_missed=1.0))


def test_policies_without_a_curve_fall_back_to_the_formula():
    f = pd.DataFrame({"activity_state": ["dead"], "days_since_last": [200.0],
                      "expected_gap_days": [30.0], "frequency": [3], "gaps_missed": [6.7]})
    expected = rhythm_probability(f["days_since_last"], f["expected_gap_days"], H).iloc[0]
    out = assign_policies(f, ActivityConfig(), basis="rhythm")
    assert out["policy_probability"].iloc[0] == pytest.approx(expected)

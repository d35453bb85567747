"""The 80/20 curve: cumulative value share against customer share."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.errors import ConfigError
from tierwise.models.pareto import customer_share_for, pareto_curve, top_share

FAST = settings(max_examples=80, deadline=None)
values_st = st.lists(st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(float("nan"))),
                     min_size=1, max_size=50)


def test_top_20_percent_of_one_to_ten() -> None:
    assert top_share(list(range(1, 11))) == pytest.approx(19 / 55)  # 10 + 9 of 55
    assert top_share(list(range(1, 11)), top=0.5) == pytest.approx(40 / 55)
    assert top_share(list(range(1, 11)), top=0.0) == 0.0
    assert top_share(list(range(1, 11)), top=1.0) == 1.0


def test_order_of_input_does_not_matter() -> None:
    rng = np.random.default_rng(3)
    v = rng.gamma(0.5, 100, 300)
    assert top_share(v) == pytest.approx(top_share(rng.permutation(v)))
    assert top_share(pd.Series(v)) == pytest.approx(top_share(v.tolist()))


def test_known_curve() -> None:
    curve = pareto_curve(range(1, 11), points=10)
    assert len(curve) == 11 and list(curve.columns) == ["customer_share", "value_share"]
    cum = np.concatenate([[0], np.cumsum(np.arange(10, 0, -1))]) / 55
    np.testing.assert_allclose(curve["value_share"], cum)
    np.testing.assert_allclose(curve["customer_share"], np.linspace(0, 1, 11))


def test_ties_at_the_cut_are_counted_by_customers() -> None:
    # five equal customers: the top 20 % is one of them, whichever it is
    assert top_share([5, 5, 5, 5, 5]) == pytest.approx(0.2)
    assert top_share([10, 5, 5, 5, 1], top=0.4) == pytest.approx(15 / 26)
    # a cut inside a customer: 20 % of 7 customers is 1.4 customers
    assert top_share([7, 1, 1, 1, 1, 1, 1]) == pytest.approx(7.4 / 13)


def test_negative_and_null_values() -> None:
    # a customer with a net refund holds zero value but still counts as a customer
    assert top_share([10.0, -5.0, 0.0, 0.0, 0.0]) == pytest.approx(1.0)
    assert top_share([10.0, -5.0, 0.0, 0.0, 0.0], top=0.1) == pytest.approx(0.5)
    # NULL values are left out: two customers remain
    assert top_share([10.0, None, 10.0], top=0.5) == pytest.approx(0.5)
    assert top_share(pd.array([10.0, None, 30.0], dtype="Float64"), top=0.5) == pytest.approx(0.75)
    curve = pareto_curve([10.0, -5.0, np.nan, 3.0])
    assert curve["value_share"].iloc[-1] == 1.0 and curve["value_share"].max() == 1.0


def test_no_positive_value_gives_nan() -> None:
    assert math.isnan(top_share([0.0, -1.0]))
    assert math.isnan(top_share([]))
    assert pareto_curve([], points=4)["value_share"].isna().all()
    assert len(pareto_curve([0, 0], points=4)) == 5


@given(values_st, st.integers(1, 60))
@FAST
def test_curve_endpoints_monotone_and_concave(values, points) -> None:
    curve = pareto_curve(values, points=points)
    y = curve["value_share"].to_numpy()
    assert len(curve) == points + 1
    if np.isnan(y).any():
        assert sum(v > 0 for v in values if not math.isnan(v)) == 0
        return
    assert (curve["customer_share"].iloc[0], y[0]) == (0.0, 0.0)
    assert (curve["customer_share"].iloc[-1], y[-1]) == (1.0, 1.0)
    steps = np.diff(y)
    assert (steps >= -1e-12).all()
    assert (np.diff(steps) <= 1e-9).all()  # largest customers first: the curve is concave


@given(values_st, st.integers(0, 20))
@FAST
def test_top_share_agrees_with_the_curve(values, k) -> None:
    share = top_share(values, top=k / 20)
    point = pareto_curve(values, points=20)["value_share"].iloc[k]
    assert (math.isnan(share) and math.isnan(point)) or share == pytest.approx(point)


def test_customer_share_for_is_the_inverse() -> None:
    assert customer_share_for([80, 5, 5, 5, 5], 0.8) == pytest.approx(0.2)
    v = list(range(1, 11))
    assert customer_share_for(v, top_share(v, 0.3)) == pytest.approx(0.3)
    assert customer_share_for(v, 0.0) == 0.0 and customer_share_for(v, 1.0) == pytest.approx(1.0)


def test_bad_parameters() -> None:
    with pytest.raises(ConfigError, match=r"points = 0.*>= 1"):
        pareto_curve([1, 2], points=0)
    with pytest.raises(ConfigError, match=r"top = 1.5.*between 0 and 1"):
        top_share([1, 2], top=1.5)
    with pytest.raises(ConfigError, match="value_share"):
        customer_share_for([1, 2], value_share=-0.1)

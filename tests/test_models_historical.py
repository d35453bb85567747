"""Historical CLV: margin earned to date, net of refunds."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tierwise.errors import ConfigError, DataContractError
from tierwise.models.historical import historical_clv


def features() -> pd.DataFrame:
    return pd.DataFrame({
        "margin_total": pd.array([30.0, None, None, -12.0], dtype="Float64"),
        "total_amount": pd.array([100.0, 70.0, None, -20.0], dtype="Float64"),
        "refund_amount": [0.0, 30.0, 0.0, 50.0],
    }, index=["a", "b", "c", "d"])


def test_margin_total_is_used_when_known() -> None:
    out = historical_clv(features(), gross_margin=0.6)
    assert out.loc["a", "clv_historical"] == 30.0
    assert out.loc["a", "clv_historical_basis"] == "margin_total"
    assert pd.isna(out.loc["a", "clv_historical_reason"])
    assert out.index.tolist() == ["a", "b", "c", "d"]


def test_gross_margin_fallback_on_net_amount_with_refunds() -> None:
    out = historical_clv(features(), gross_margin=0.6)
    # b bought 100 and returned 30: total_amount is already net (70), so 70 x 0.6
    assert out.loc["b", "clv_historical"] == pytest.approx(42.0)
    assert out.loc["b", "clv_historical_basis"] == "gross_margin"
    # d returned more than it bought: its known margin is negative and kept as such
    assert out.loc["d", "clv_historical"] == -12.0


def test_null_with_a_reason_when_neither_is_known() -> None:
    out = historical_clv(features(), gross_margin=0.6)
    assert math.isnan(out.loc["c", "clv_historical"])
    assert "no purchase amount" in out.loc["c", "clv_historical_reason"]
    assert pd.isna(out.loc["c", "clv_historical_basis"])
    without = historical_clv(features(), gross_margin=None)
    assert math.isnan(without.loc["b", "clv_historical"])
    assert "set gross_margin" in without.loc["b", "clv_historical_reason"]
    assert without.loc["a", "clv_historical"] == 30.0


def test_missing_margin_column_uses_the_rate() -> None:
    X = pd.DataFrame({"total_amount": [200.0, -50.0]})
    out = historical_clv(X, gross_margin=0.25)
    assert out["clv_historical"].tolist() == [50.0, -12.5]
    assert set(out["clv_historical_basis"]) == {"gross_margin"}


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan"), "0.6", True])
def test_gross_margin_must_be_a_rate(bad) -> None:
    with pytest.raises(ConfigError, match=r"gross_margin = .*between 0 and 1"):
        historical_clv(features(), gross_margin=bad)


def test_text_values_are_a_contract_error() -> None:
    with pytest.raises(DataContractError, match="total_amount"):
        historical_clv(pd.DataFrame({"total_amount": ["12", "abc"]}), gross_margin=0.5)

"""The purchase likelihood calibrated on the last horizon: fitted on one period, checked on the next."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lifetimes
from tierwise.errors import FitError, NotFittedError
from tierwise.models import BetaGeo
from tierwise.models.calibration import (
    LikelihoodCalibration,
    calibrate_on_history,
    decile_gap,
    unfitted_like,
)
from tierwise.models.cnbd import MBGCNBD, simulate_cnbd
from tierwise.models.ensemble import Blend
from tierwise.models.pareto_nbd import ParetoNBD

CDNOW = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"


def _biased(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A model whose likelihood is too low by half where it matters (a season it cannot see)."""
    p = rng.beta(0.6, 3.0, n)
    return p, rng.uniform(size=n) < np.minimum(1.0, 1.5 * p)


def test_a_map_fitted_on_one_period_corrects_the_next() -> None:
    rng = np.random.default_rng(3)
    cal = LikelihoodCalibration().fit(*_biased(rng, 20_000))
    p, bought = _biased(rng, 20_000)
    assert decile_gap(p, bought) > 0.05
    assert decile_gap(cal.transform(p), bought) < 0.02
    assert cal.gap_after_ < cal.gap_before_
    assert np.all(np.diff([y for _, y in cal.points_]) >= 0)  # increasing


def test_a_tiny_block_of_non_buyers_is_not_a_certainty() -> None:
    rng = np.random.default_rng(4)
    p = np.concatenate([[0.001, 0.002, 0.003], rng.uniform(0.05, 0.5, 4000)])
    bought = np.concatenate([[False] * 3, rng.uniform(size=4000) < 0.2])
    cal = LikelihoodCalibration().fit(p, bought)
    low = cal.transform(np.array([0.001]))[0]
    assert 0.0 < low < 0.3  # three non-buyers do not make a certainty


def test_too_little_history_and_an_unfitted_map_say_so() -> None:
    with pytest.raises(FitError, match="too few"):
        LikelihoodCalibration().fit(np.full(100, 0.3), np.arange(100) < 30)
    with pytest.raises(NotFittedError):
        LikelihoodCalibration().transform([0.2])
    assert calibrate_on_history(None, None, pd.Series(dtype=bool), 90) == (None,
                                                                            "no purchase model")


def _summary(days: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    seen = days[days["date"] <= cut].groupby("id")["date"]
    first, last = seen.min(), seen.max()
    return pd.DataFrame({"customer_key": first.index, "frequency": (seen.nunique() - 1).to_numpy(),
                         "recency": (last - first).dt.days.to_numpy(),
                         "T": (cut - first).dt.days.to_numpy()}).astype(float)


def test_unfitted_like_keeps_kind_settings_and_k() -> None:
    s = simulate_cnbd({"k": 2, "r": 0.9, "alpha": 10.0, "a": 0.8, "b": 2.5},
                      np.full(2000, 365.0), seed=1, time_unit="weeks")
    fitted = MBGCNBD(time_unit="weeks", k=2).fit(s)
    fresh = unfitted_like(fitted)
    assert type(fresh) is MBGCNBD and fresh.k == 2 and fresh.time_unit == "weeks"
    blend = Blend([BetaGeo(penalizer=0.1), ParetoNBD()], [0.3, 0.7])
    copy = unfitted_like(blend)
    assert [type(m) for m in copy.models] == [BetaGeo, ParetoNBD]
    assert copy.models[0].penalizer == 0.1 and list(copy.weights) == pytest.approx([0.3, 0.7])


@pytest.mark.slow
def test_cdnow_autumn_likelihood_calibrated_on_the_summer() -> None:
    """Fitted to 1997-07-02 and checked on Jul-Sep, applied at 1997-09-30 and checked on Oct-Dec."""
    raw = pd.read_csv(CDNOW, sep=r"\s+", header=0, names=["id", "date", "n", "amount"],
                      dtype={"date": str})
    days = raw.assign(date=pd.to_datetime(raw["date"], format="%Y%m%d"))[["id", "date"]]
    days = days.drop_duplicates()
    then, now = pd.Timestamp("1997-07-02"), pd.Timestamp("1997-09-30")
    later = days[(days["date"] > now) & (days["date"] <= now + pd.Timedelta(days=90))]
    summary = _summary(days, now)
    model = BetaGeo(time_unit="weeks").fit(summary[["frequency", "recency", "T"]])
    since = days[(days["date"] > then) & (days["date"] <= now)]
    bought = pd.Series(True, index=since["id"].unique())
    cal, how = calibrate_on_history(model, _summary(days, then), bought, 90)
    assert how == "calibrated"
    p = np.asarray(model.purchase_probability(summary[["frequency", "recency", "T"]], 90))
    actual = summary["customer_key"].isin(later["id"]).to_numpy()
    assert decile_gap(p, actual) > 0.06                   # BG/NBD misses the autumn
    assert decile_gap(cal.transform(p), actual) <= 0.05   # the summer's map corrects it

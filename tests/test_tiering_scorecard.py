"""The weighted scorecard: validation, normalisations, missing values, contributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tierwise.config import CREDIT_RATING_MAPPING, ScorecardConfig
from tierwise.errors import ConfigError, FitError, NotFittedError
from tierwise.tiering import SCORECARD_MAX_CRITERIA, Scorecard


def crit(name: str, weight: float, source: str | None = None, **extra) -> dict:
    return {"name": name, "source": source or name, "weight": weight, **extra}


# ---- validation ------------------------------------------------------------------------------
def test_a_ninth_criterion_is_refused_and_the_message_says_why() -> None:
    nine = [crit(f"c{i}", 1 / 9) for i in range(9)]
    with pytest.raises(ConfigError) as err:
        Scorecard(nine)
    assert SCORECARD_MAX_CRITERIA == 8
    assert "9 criteria given" in str(err.value)
    assert "at most 8 clearly defined criteria keep a scorecard explainable" in str(err.value)
    Scorecard(nine[:8][:7] + [crit("c7", 1 - 7 / 9)])  # eight are fine


def test_the_config_file_refuses_a_ninth_criterion_too() -> None:
    with pytest.raises(ValidationError, match="at most 8"):
        ScorecardConfig.model_validate({"criteria": [crit(f"c{i}", 1 / 9) for i in range(9)]})


def test_weights_must_sum_to_one_and_the_error_shows_the_sum_and_each_weight() -> None:
    with pytest.raises(ConfigError) as err:
        Scorecard([crit("revenue", 0.5), crit("margin", 0.3), crit("credit", 0.1)])
    assert "weights must sum to 1 (got 0.9: revenue=0.5, margin=0.3, credit=0.1)" in str(err.value)
    Scorecard([crit("a", 0.1 + 0.2), crit("b", 0.7)])  # float noise within 1e-6 is fine


def test_names_must_be_unique_and_criteria_well_formed() -> None:
    with pytest.raises(ConfigError, match="repeated: a"):
        Scorecard([crit("a", 0.5), crit("a", 0.5, source="b")])
    with pytest.raises(ConfigError, match="mapping"):
        Scorecard([crit("credit", 1.0, source="credit_rating", normalise="mapping")])
    with pytest.raises(ConfigError, match="criterion 1"):
        Scorecard([crit("a", 1.0, normalise="zscore")])


def test_a_missing_source_column_names_it_and_the_columns_available() -> None:
    card = Scorecard([crit("revenue", 0.6, source="total_amount"), crit("trust", 0.4)])
    with pytest.raises(ConfigError) as err:
        card.fit(pd.DataFrame({"total_amount": [1.0], "region": ["east"]}))
    assert "'trust'" in str(err.value) and "['region', 'total_amount']" in str(err.value)


def test_text_in_a_numeric_criterion_is_a_fit_error_pointing_at_mapping() -> None:
    with pytest.raises(FitError, match="mapping"):
        Scorecard([crit("credit", 1.0, source="credit_rating")]).fit(
            pd.DataFrame({"credit_rating": ["AAA", "B"]}))


def test_transform_before_fit_is_refused() -> None:
    with pytest.raises(NotFittedError):
        Scorecard().transform(pd.DataFrame({"total_amount": [1.0]}))


# ---- normalisations ----------------------------------------------------------------------------
def test_percentile_ranks_share_ties_and_respect_direction() -> None:
    frame = pd.DataFrame({"x": [10.0, 20.0, 20.0, 40.0], "days": [1.0, 2.0, 3.0, 4.0]})
    out = Scorecard([crit("x", 0.5), crit("days", 0.5, direction="lower_better")]).fit_transform(
        frame)
    assert (out["score_x"] / 0.5).tolist() == [12.5, 50.0, 50.0, 87.5]
    assert (out["score_days"] / 0.5).tolist() == [87.5, 62.5, 37.5, 12.5]


def test_minmax_learned_or_fixed_bounds_and_applied_to_the_next_period() -> None:
    card = Scorecard([crit("amount", 0.5, normalise="minmax"),
                      crit("growth", 0.5, normalise="minmax", bounds=[1, 5])])
    card.fit(pd.DataFrame({"amount": [100.0, 200.0, 300.0], "growth": [2, 3, 4]}))
    later = pd.DataFrame({"amount": [50.0, 250.0, 900.0], "growth": [1, 5, 3]})
    out = card.transform(later)
    assert (out["score_amount"] / 0.5).tolist() == [0.0, 75.0, 100.0]  # clipped to 0-100
    assert (out["score_growth"] / 0.5).tolist() == [0.0, 100.0, 50.0]
    assert card.criteria_table()["learned"].tolist() == ["min 100, max 300", "min 1, max 5"]


def test_percentile_reference_comes_from_the_fit_period() -> None:
    card = Scorecard([crit("x", 1.0)]).fit(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}))
    out = card.transform(pd.DataFrame({"x": [0.0, 2.5, 99.0]}))
    assert out["score"].tolist() == [0.0, 50.0, 100.0]


def test_mapping_with_an_unknown_category_contributes_zero_and_is_flagged() -> None:
    card = Scorecard([crit("credit", 0.5, source="credit_rating", normalise="mapping",
                           mapping=CREDIT_RATING_MAPPING),
                      crit("growth", 0.5, source="growth_potential", normalise="mapping",
                           mapping={"1": 0, "3": 50, "5": 100})])
    frame = pd.DataFrame({"credit_rating": ["AAA", " bbb ", "CCC", None],
                          "growth_potential": [5.0, 3.0, 1.0, 5.0]})
    out = card.fit_transform(frame)
    assert out["score_credit"].tolist() == [50.0, 26.0, 0.0, 0.0]
    assert out["score_growth"].tolist() == [50.0, 25.0, 0.0, 50.0]
    assert out["score_flags"].tolist() == ["", "", "credit: unknown category 'CCC'",
                                           "credit: missing"]


def test_missing_values_contribute_zero_with_a_flag() -> None:
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [1.0, 2.0, "n/a"]})
    out = Scorecard([crit("a", 0.5), crit("b", 0.5)]).fit_transform(frame)
    assert out.loc[1, "score_a"] == 0.0
    assert out["score_flags"].tolist() == ["", "a: missing", "b: not a number 'n/a'"]


def test_an_optional_criterion_without_data_is_dropped_and_weights_rescaled() -> None:
    card = Scorecard([crit("revenue", 0.5, source="total_amount"),
                      crit("trust", 0.3, optional=True), crit("fit", 0.2, optional=True)])
    card.fit(pd.DataFrame({"total_amount": [1.0, 2.0], "fit": [np.nan, np.nan]}))
    assert [c.name for c in card.criteria_] == ["revenue"]
    assert card.criteria_[0].weight == 1.0
    assert card.dropped_ == ["trust: column 'trust' is not in the data",
                             "fit: column 'fit' has no values"]
    assert card.criteria_table()["weight"].tolist() == [1.0, 0.0, 0.0]


def test_the_default_scorecard_runs_on_feature_columns() -> None:
    frame = pd.DataFrame({"total_amount": [10.0, 50.0], "frequency": [1, 4],
                          "days_since_last": [90, 3]})
    out = Scorecard().fit_transform(frame)
    assert out["score"].iloc[1] > out["score"].iloc[0]
    assert list(out.columns) == ["score", "score_revenue", "score_frequency", "score_recency",
                                 "score_flags"]


# ---- contributions add up ------------------------------------------------------------------------
_value = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False), st.integers(-5, 5))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 20), min_size=1, max_size=8),
       st.lists(st.sampled_from(["percentile", "minmax", "mapping"]), min_size=8, max_size=8),
       st.lists(st.booleans(), min_size=8, max_size=8),
       st.lists(st.lists(_value, min_size=8, max_size=8), min_size=1, max_size=25))
def test_contributions_add_up_to_the_score(parts, kinds, lower, rows) -> None:
    total = sum(parts)
    criteria = [crit(f"k{i}", p / total, source=f"c{i}", normalise=kinds[i],
                     direction="lower_better" if lower[i] else "higher_better",
                     **({"mapping": {"1": 100, "2": 40, "-3": 0}} if kinds[i] == "mapping"
                        else {}))
                for i, p in enumerate(parts)]
    frame = pd.DataFrame(rows, columns=[f"c{i}" for i in range(8)], dtype=object)
    for i, kind in enumerate(kinds[:len(parts)]):
        if kind != "mapping":
            frame[f"c{i}"] = pd.to_numeric(frame[f"c{i}"])
            assume(frame[f"c{i}"].notna().any())  # nothing to learn from: a FitError, tested apart
    out = Scorecard(criteria).fit_transform(frame)
    columns = [f"score_k{i}" for i in range(len(parts))]
    assert (out[columns].sum(axis=1) == out["score"]).all()
    assert ((out[columns] >= 0) & (out[columns] <= 100 * np.array(parts) / total + 1e-9)).all(
        axis=None)
    assert out["score"].between(0, 100 + 1e-9).all()


@pytest.mark.parametrize("seed", range(4))
def test_the_flags_joined_a_column_at_a_time_are_the_per_row_join(seed: int) -> None:
    from tierwise.tiering.scorecard import _joined

    rng = np.random.default_rng(seed)
    n = [0, 1, 40, 3000][seed]
    parts = [np.array(rng.choice(["", "", "", f"c{k}: missing", f"c{k}: not a number 'x; y'"],
                                 n), dtype=object) for k in range(1 + seed)]
    assert _joined(parts, n) == ["; ".join(f for f in row if f) for row in zip(*parts)]
    frame = pd.DataFrame({"a": rng.choice([1.0, np.nan, 3.0], n),
                          "b": rng.choice(["x", "y", None, "zz"], n)})
    card = Scorecard([{"name": "a", "source": "a", "weight": 0.5},
                      {"name": "b", "source": "b", "weight": 0.5, "normalise": "mapping",
                       "mapping": {"x": 1, "y": 0}}])
    if n:
        flags = card.fit_transform(frame)["score_flags"].tolist()
        assert flags == ["; ".join(f for f in (
            "a: missing" if pd.isna(a) else "",
            "b: missing" if pd.isna(b) else ("b: unknown category 'zz'" if b == "zz" else ""))
            if f) for a, b in zip(frame["a"], frame["b"])]

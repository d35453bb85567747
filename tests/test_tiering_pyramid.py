"""The customer pyramid: cuts, ties, tiny and degenerate populations, hysteresis, policies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tierwise.config import PyramidConfig
from tierwise.errors import ConfigError, DataContractError, FitError, NotFittedError
from tierwise.tiering import (
    PYRAMID_LEVELS,
    Pyramid,
    PyramidMethod,
    pyramid_methods,
    pyramid_summary,
    register_pyramid_method,
    service_policy,
    service_policy_table,
)


def customers(values, frequency=3, **columns) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({"customer_id": [f"c{i:03d}" for i in range(n)],
                         "customer_key": range(n),
                         "frequency": frequency if np.ndim(frequency) else [frequency] * n,
                         "total_amount": values, **columns})


def tiers(out: pd.DataFrame) -> list[str]:
    return out["tier"].tolist()


# ---- customer_share -------------------------------------------------------------------------
def test_customer_share_default_cuts_on_twenty_customers() -> None:
    out = Pyramid().fit_transform(customers(list(range(20, 0, -1))))
    assert tiers(out) == ["key"] + ["major"] * 3 + ["ordinary"] * 6 + ["long_tail"] * 10
    assert out["tier_zh"].iloc[0] == "重要客户"
    assert out["tier_reason"].iloc[0] == "top 5% by total amount (20 >= cut 20)"
    assert out["tier_reason"].iloc[19] == "bottom 50% by total amount (1 < cut 11)"
    assert out["tier_score"].tolist() == list(range(20, 0, -1))


def test_customer_share_ranks_by_predicted_clv_when_present() -> None:
    frame = customers([1.0] * 19 + [0.0], clv_predicted=list(range(20)))
    pyramid = Pyramid().fit(frame)
    out = pyramid.transform(frame)
    assert pyramid.ranking_ == "clv_predicted"
    assert out.loc[19, "tier"] == "key" and out.loc[0, "tier"] == "long_tail"
    assert "predicted CLV" in out.loc[19, "tier_reason"]


def test_tie_straddling_a_cut_goes_to_the_higher_level_by_default() -> None:
    values = [20, 20] + list(range(18, 0, -1))  # the top two tie across the 5 % cut (1 seat)
    out = Pyramid().fit_transform(customers(values))
    assert tiers(out)[:2] == ["key", "key"]
    assert tiers(out)[2:4] == ["major", "major"]


def test_tie_straddling_a_cut_drops_to_the_lower_level_when_asked() -> None:
    values = [20, 20] + list(range(18, 0, -1))
    out = Pyramid(PyramidConfig(ties="lower")).fit_transform(customers(values))
    assert "key" not in tiers(out)
    assert tiers(out)[:4] == ["major"] * 4  # the tie group takes major seats; major not overfilled
    assert tiers(out).count("major") == 4


@pytest.mark.parametrize("ties", ["higher", "lower"])
def test_all_equal_values_are_all_ordinary(ties: str) -> None:
    pyramid = Pyramid(PyramidConfig(ties=ties))
    out = pyramid.fit_transform(customers([7.0] * 30))
    assert set(tiers(out)) == {"ordinary"}
    assert pyramid.no_spread_
    assert "same total amount" in out["tier_reason"].iloc[0]
    later = pyramid.transform(customers([8.0, 7.0, 6.0]))
    assert tiers(later) == ["ordinary", "ordinary", "long_tail"]


@pytest.mark.parametrize(("values", "expected"), [
    ([5.0], ["ordinary"]),
    ([9.0, 5.0], ["ordinary", "long_tail"]),
    ([9.0, 5.0, 1.0], ["major", "ordinary", "long_tail"]),
    ([5.0, 5.0, 1.0], ["major", "major", "long_tail"]),  # tie joins the higher level
])
def test_tiny_populations_get_exactly_one_level_each(values, expected) -> None:
    assert tiers(Pyramid().fit_transform(customers(values))) == expected


# ---- who is graded ---------------------------------------------------------------------------
def test_one_purchase_is_new_and_no_purchase_is_prospect_and_neither_moves_the_cuts() -> None:
    graded = customers(list(range(20, 0, -1)))
    extra = pd.DataFrame({"customer_id": ["big_new", "none"], "customer_key": [98, 99],
                          "frequency": [0.0, np.nan], "total_amount": [10_000.0, np.nan]})
    frame = pd.concat([graded, extra], ignore_index=True)
    pyramid = Pyramid().fit(frame)
    out = pyramid.transform(frame)
    assert tiers(out)[-2:] == ["new", "prospect"]
    assert out["tier_zh"].iloc[-2:].tolist() == ["新客户", "潜在客户"]
    assert "1 purchase(s), fewer than the 2 needed" in out["tier_reason"].iloc[-2]
    assert tiers(out)[:20] == tiers(Pyramid().fit_transform(graded))
    assert pyramid.n_graded_ == 20


def test_min_purchases_is_configurable() -> None:
    frame = customers([10.0, 9.0, 8.0], frequency=[1, 2, 3])
    out = Pyramid(PyramidConfig(min_purchases=3)).fit_transform(frame)
    assert tiers(out)[0] == "new"
    assert "new" not in tiers(out)[1:]


def test_null_ranking_goes_to_the_lowest_level_or_is_excluded() -> None:
    values = list(range(20, 0, -1)) + [np.nan]
    out = Pyramid().fit_transform(customers(values))
    assert tiers(out)[-1] == "long_tail"
    assert out["tier_reason"].iloc[-1] == "no total amount value: placed in the lowest level"
    assert tiers(out)[:20] == tiers(Pyramid().fit_transform(customers(values[:20])))
    excluded = Pyramid(PyramidConfig(null_ranking="exclude")).fit_transform(customers(values))
    assert excluded["tier"].iloc[-1] is None
    assert excluded["tier_reason"].iloc[-1] == "not graded: no total amount value"


def test_missing_frequency_or_ranking_column_is_named() -> None:
    frame = customers([1.0, 2.0])
    with pytest.raises(DataContractError, match="frequency"):
        Pyramid().fit(frame.drop(columns="frequency"))
    with pytest.raises(ConfigError, match="'assets'.*total_amount"):
        Pyramid(PyramidConfig(ranking="assets")).fit(frame)


def test_relative_method_without_graded_customers_cannot_fit() -> None:
    with pytest.raises(FitError, match="at least 2 purchases"):
        Pyramid().fit(customers([5.0, 6.0], frequency=0))


# ---- value_share -----------------------------------------------------------------------------
def test_value_share_known_example() -> None:
    cfg = PyramidConfig(method="value_share")
    out = Pyramid(cfg).fit_transform(customers([40.0, 25.0, 15.0, 10.0, 5.0, 3.0, 2.0]))
    # 40 + 25 = 65 % reaches 50 %; + 15 = 80 %; + 10 + 5 = 95 %; the rest is the last 5 %.
    assert tiers(out) == ["key", "key", "major", "ordinary", "ordinary", "long_tail", "long_tail"]
    assert out["tier_reason"].iloc[0] == "in the first 50% of total amount (40 >= cut 25)"
    assert out["tier_reason"].iloc[2] == "in 50%-80% of total amount (15 >= cut 15)"


def test_value_share_tie_at_the_last_cut_stays_together() -> None:
    frame = customers([50.0, 30.0, 10.0, 5.0, 5.0])
    out = Pyramid(PyramidConfig(method="value_share")).fit_transform(frame)
    assert tiers(out) == ["key", "major", "ordinary", "ordinary", "ordinary"]
    lower = Pyramid(PyramidConfig(method="value_share", ties="lower")).fit_transform(frame)
    assert tiers(lower) == ["key", "major", "ordinary", "long_tail", "long_tail"]


# ---- thresholds and scorecard ----------------------------------------------------------------
def test_absolute_thresholds() -> None:
    cfg = PyramidConfig(method="thresholds", thresholds=[500_000, 100_000, 10_000])
    frame = customers([600_000.0, 500_000.0, 499_999.0, 100_000.0, 9_999.0])
    out = Pyramid(cfg).fit_transform(frame)
    assert tiers(out) == ["key", "key", "major", "major", "long_tail"]
    assert out["tier_reason"].iloc[1] == (
        "total amount at or above the key threshold (500,000 >= cut 500,000)")
    zh = Pyramid(cfg).fit_transform(frame, lang="zh")
    assert zh["tier_reason"].iloc[0] == "消费总额达到重要客户门槛（600,000 ≥ 分界 500,000）"


def test_scorecard_cut_points() -> None:
    criteria = [{"name": "rating", "source": "rating", "normalise": "minmax",
                 "bounds": [0, 100], "weight": 1.0}]
    frame = customers([1.0] * 5, rating=[80.0, 79.9, 60.0, 40.0, 39.0])
    out = Pyramid(PyramidConfig(method="scorecard"), scorecard=criteria).fit_transform(frame)
    assert tiers(out) == ["key", "major", "major", "ordinary", "long_tail"]
    assert out["tier_score"].tolist() == pytest.approx([80.0, 79.9, 60.0, 40.0, 39.0])
    assert {"score", "score_rating", "score_flags"} <= set(out.columns)
    assert out["tier_reason"].iloc[0].startswith("scorecard score at or above the key threshold")


# ---- fit on one period, apply to the next ------------------------------------------------------
def test_cuts_fitted_on_one_period_are_applied_to_the_next() -> None:
    pyramid = Pyramid().fit(customers([float(v) for v in range(1, 101)]))
    assert pyramid.edges_.tolist() == [96.0, 81.0, 51.0]
    later = customers([200.0, 96.0, 95.9, 81.0, 60.0, 51.0, 50.0])
    out = pyramid.transform(later)
    assert tiers(out) == ["key", "key", "major", "major", "ordinary", "ordinary", "long_tail"]
    assert tiers(Pyramid().fit_transform(later)) != tiers(out)


def test_transform_before_fit_is_refused() -> None:
    with pytest.raises(NotFittedError):
        Pyramid().transform(customers([1.0]))


# ---- hysteresis --------------------------------------------------------------------------------
def _walk(pyramid: Pyramid, path: list[float]) -> list[str]:
    """Tiers of customer c000 over periods whose value follows ``path``; others fixed."""
    previous, seen = None, []
    for value in path:
        frame = customers([value, 75.0, 30.0, 5.0])
        out = pyramid.transform(frame, previous=previous)
        previous = out[["customer_id", "tier"]]
        seen.append(out["tier"].iloc[0])
    return seen


def test_hysteresis_stops_a_customer_oscillating_around_a_cut_from_flip_flopping() -> None:
    cfg = PyramidConfig(method="thresholds", thresholds=[100, 50, 10])
    path = [101.0, 99.0, 102.0, 98.0, 95.0, 91.0, 89.0, 105.0, 111.0]
    plain = _walk(Pyramid(cfg).fit(customers([1.0])), path)
    assert plain == ["key", "major", "key", "major", "major", "major", "major", "key", "key"]
    cfg.hysteresis.margin = 0.10
    held = _walk(Pyramid(cfg).fit(customers([1.0])), path)
    assert held == ["key", "key", "key", "key", "key", "key", "major", "major", "key"]


def test_hysteresis_reason_says_why_the_level_was_kept() -> None:
    cfg = PyramidConfig(method="thresholds", thresholds=[100, 50, 10])
    cfg.hysteresis.margin = 0.10
    pyramid = Pyramid(cfg).fit(customers([1.0]))
    out = pyramid.transform(customers([99.0]), previous=pd.Series({"c000": "key"}))
    assert out["tier"].iloc[0] == "key"
    assert out["tier_reason"].iloc[0] == (
        "stays key (hysteresis): 99 has not passed the cut 100 by the margin of 10%")


def test_hysteresis_in_percentile_points() -> None:
    cfg = PyramidConfig()
    cfg.hysteresis.margin = 3
    cfg.hysteresis.unit = "percentile_points"
    pyramid = Pyramid(cfg).fit(customers([float(v) for v in range(1, 101)]))
    frame = customers([95.0, 92.0, 97.0, 98.5])
    previous = pd.DataFrame({"customer_id": ["c000", "c001", "c002", "c003"],
                             "tier": ["key", "key", "major", "ordinary"]})
    out = pyramid.transform(frame, previous=previous)
    # cut to key at 96 = 95th percentile: 95 (94th) stays key, 92 (91st) drops; 97 (96th) is
    # not 3 points past it so stays major; 98.5 is more than 3 points past the major band.
    assert tiers(out) == ["key", "major", "major", "key"]


# ---- properties --------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=60),
       st.sampled_from(["customer_share", "value_share"]), st.sampled_from(["higher", "lower"]))
def test_every_graded_customer_gets_one_level_monotone_in_value(values, method, ties) -> None:
    out = Pyramid(PyramidConfig(method=method, ties=ties)).fit_transform(
        customers([float(v) for v in values]))
    rank = out["tier"].map({t: i for i, t in enumerate(PYRAMID_LEVELS)})
    assert rank.notna().all()
    assert out.groupby("total_amount")["tier"].nunique().max() == 1  # ties stay together
    ordered = rank[np.argsort(-out["total_amount"].to_numpy(), kind="stable")]
    assert ordered.is_monotonic_increasing


# ---- registry, config, policies ----------------------------------------------------------------
def test_unknown_method_lists_the_registered_ones() -> None:
    with pytest.raises(ConfigError, match="customer_share"):
        Pyramid(PyramidConfig(method="by_magic"))


def test_a_registered_method_is_used_like_a_built_in() -> None:
    def halves(values, cfg):
        return np.array([np.inf, np.inf, np.median(values)])

    register_pyramid_method(PyramidMethod("median_split", halves,
                                          lambda i, c, n, lang: f"level {i} by {n}"),
                            replace=True)
    assert "median_split" in pyramid_methods()
    out = Pyramid(PyramidConfig(method="median_split")).fit_transform(customers([4.0, 3, 2, 1]))
    assert tiers(out) == ["ordinary", "ordinary", "long_tail", "long_tail"]


def test_config_rejects_bad_cuts_with_the_values() -> None:
    with pytest.raises(ValidationError, match=r"value_shares.*\[50.0, 80.0, 95.0\]"):
        PyramidConfig.model_validate({"value_shares": [50, 80, 95]})
    with pytest.raises(ValidationError, match="customer_shares"):
        PyramidConfig.model_validate({"customer_shares": [5, 15, 30, 40]})
    with pytest.raises(ValidationError, match="thresholds"):
        PyramidConfig.model_validate({"thresholds": [1, 2, 3]})


def test_service_policies_default_and_overridden_key_by_key() -> None:
    key = service_policy("key")
    assert key["dedicated_manager"] is True and key["response_time"]
    assert service_policy("long_tail", "zh")["name"] == "长尾客户"
    table = service_policy_table("zh")
    assert table["tier"].tolist() == [*PYRAMID_LEVELS, "new", "prospect"]
    cfg = PyramidConfig.model_validate({"policies": {"key": {"response_time_en": "1 hour"}}})
    mine = service_policy("key", config=cfg)
    assert mine["response_time"] == "1 hour" and mine["benefits"] == key["benefits"]
    assert mine["dedicated_manager"] is True
    with pytest.raises(ValidationError, match="valid"):
        PyramidConfig.model_validate({"policies": {"vip": {}}})
    with pytest.raises(ConfigError, match="prospect"):
        service_policy("vip")


def test_summary_counts_customers_and_value_per_tier() -> None:
    out = Pyramid().fit_transform(customers(list(range(20, 0, -1))))
    summary = pyramid_summary(out)
    assert summary["customers"].tolist() == [1, 3, 6, 10, 0, 0]
    assert summary["value"].iloc[0] == 20 and summary["value_share"].sum() == pytest.approx(1.0)


# ---- the reason as codes ---------------------------------------------------------------------
@pytest.mark.parametrize("method", ["customer_share", "value_share", "thresholds"])
def test_the_stored_reason_words_the_same_in_either_language(method: str) -> None:
    """``tier_reason_args`` (what the store keeps) reads back as the sentence ``transform`` wrote,
    one row at a time and a column at a time, for every kind of reason."""
    import json

    from tierwise.i18n.render import render_note, tier_reasons

    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                          "frequency": rng.integers(-1, 6, n),
                          "total_amount": rng.lognormal(8, 1.5, n).round(2)})
    frame.loc[5:9, "total_amount"] = np.nan
    cfg = PyramidConfig.model_validate({"method": method, "thresholds": [50000, 10000, 2000],
                                        "hysteresis": {"margin": 0.2}})
    pyramid = Pyramid(cfg).fit(frame)
    previous = pyramid.transform(frame)[["customer_id", "tier"]]
    frame["total_amount"] *= rng.uniform(0.8, 1.2, n)
    for lang in ("en", "zh"):
        out = pyramid.transform(frame, previous=previous, lang=lang)
        other = "zh" if lang == "en" else "en"
        assert out["tier_reason_args"].map(lambda a, lg=lang: render_note(a, lg)).tolist() == \
            out["tier_reason"].tolist()
        assert tier_reasons(out["tier_reason_args"], lang).tolist() == out["tier_reason"].tolist()
        assert tier_reasons(out["tier_reason_args"], other).tolist() == \
            pyramid.transform(frame, previous=previous, lang=other)["tier_reason"].tolist()
    keys = {json.loads(a)[0][0] for a in out["tier_reason_args"]}
    assert {"tier.rank", "tier_reason.new", "tier_reason.prospect"} <= keys
    assert "tier_reason.held" in keys
    assert "tier_reason_args" in out and "tier_reason" not in \
        pyramid.transform(frame, words=False).columns


@pytest.mark.parametrize("method", ["customer_share", "value_share", "thresholds"])
@pytest.mark.parametrize("seed", range(3))
def test_the_column_reason_args_are_the_per_row_ones(method: str, seed: int) -> None:
    """The stored reasons put together a column at a time (``words=False``, what a run keeps,
    issue 16) are the text of the per-row loop (``words=True``) for every kind of reason:
    ranked, infinite, missing (lowest or not graded), held, new, prospect, no spread."""
    rng = np.random.default_rng(seed)
    n = 3000
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                          "frequency": rng.integers(-1, 6, n),
                          "total_amount": rng.lognormal(8, 1.5, n) * rng.choice([1, 1e-7], n)})
    frame.loc[5:40, "total_amount"] = np.nan
    frame.loc[41:43, "total_amount"] = [np.inf, -np.inf, 0.0]
    for null in ("lowest", "exclude"):
        cfg = PyramidConfig.model_validate({"method": method, "null_ranking": null,
                                            "min_purchases": 4,
                                            "thresholds": [50000, 10000, 2000],
                                            "hysteresis": {"margin": 0.2}})
        pyramid = Pyramid(cfg).fit(frame)
        previous = pyramid.transform(frame)[["customer_id", "tier"]]
        now = frame.assign(total_amount=frame["total_amount"] * rng.uniform(0.7, 1.3, n))
        got = pyramid.transform(now, previous=previous, words=False)
        want = pyramid.transform(now, previous=previous)
        assert got["tier_reason_args"].tolist() == want["tier_reason_args"].tolist()
        assert got["tier_reason_args"].dtype == want["tier_reason_args"].dtype
    flat = customers([5.0] * 30, frequency=3)  # no spread in a relative method
    pyramid = Pyramid(PyramidConfig(method="value_share")).fit(flat)
    assert pyramid.transform(flat, words=False)["tier_reason_args"].tolist() == \
        pyramid.transform(flat)["tier_reason_args"].tolist()

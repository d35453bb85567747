"""RFM scores, named segments, the Chinese 8-class model and the problem groups."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.errors import ConfigError, DataContractError, NotFittedError
from tierwise.models.rfm import (ProblemGroups, RFMEightClass, RFMScorer, assign_segments,
                                 rfm_table)
from tierwise.models.segment_maps import (DEFAULT_SEGMENT_MAP, EIGHT_CLASSES,
                                          validate_segment_map)

FAST = settings(max_examples=80, deadline=None)


def frame(days=None, freq=None, money=None, ticket=None) -> pd.DataFrame:
    """A feature frame; missing dimensions are filled with a constant."""
    n = len(next(v for v in (days, freq, money, ticket) if v is not None))
    return pd.DataFrame({
        "days_since_last": days if days is not None else [10] * n,
        "frequency": freq if freq is not None else [0] * n,
        "total_amount": money if money is not None else [100.0] * n,
        "mean_amount": ticket if ticket is not None else [50.0] * n,
    }, index=[f"c{i}" for i in range(n)])


def score(column: str, values, **kw) -> list[int]:
    dim = {"days_since_last": "rfm_r", "frequency": "rfm_f", "total_amount": "rfm_m"}[column]
    X = frame(**{{"days_since_last": "days", "frequency": "freq",
                  "total_amount": "money"}[column]: values})
    return RFMScorer(**kw).fit_transform(X)[dim].tolist()


def strictly_worse_oracle(values: list[float], higher_is_better: bool) -> list[int]:
    """score = 1 + floor(5 x share of customers strictly worse), by brute force."""
    n = len(values)
    out = []
    for v in values:
        worse = sum(1 for w in values if (w < v if higher_is_better else w > v))
        out.append(1 + (5 * worse) // n)
    return out


# --- quintile scores -------------------------------------------------------------------------

def test_quintiles_on_known_data() -> None:
    assert score("total_amount", list(range(1, 11))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # R reversed: the most recent customers (fewest days) get 5
    assert score("days_since_last", list(range(1, 11))) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # F counts purchase occasions (frequency + 1); binning is by customer share
    assert score("frequency", list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    counts = pd.Series(score("total_amount", list(range(100)))).value_counts().sort_index()
    assert counts.tolist() == [20] * 5


def test_rfm_score_string_and_columns() -> None:
    X = frame(days=[1, 10, 100, 200, 300], freq=[9, 4, 2, 0, 0], money=[900, 50, 400, 20, 10])
    out = RFMScorer().fit_transform(X)
    assert list(out.columns) == ["rfm_r", "rfm_f", "rfm_m", "rfm_score"]
    assert out.index.tolist() == X.index.tolist()
    assert out["rfm_score"].tolist() == ["555", "443", "334", "212", "111"]


def test_ties_at_cut_points_stay_together_and_bins_can_be_uneven() -> None:
    # six one-time buyers straddle the 20 % and 40 % cuts: all get F = 1, scores 2-3 stay empty
    assert score("frequency", [0] * 6 + [1, 2, 3, 4]) == [1] * 6 + [4, 4, 5, 5]
    # a tie at the top: nobody reaches 5 when 30 % share the best value
    assert score("total_amount", [1, 2, 3, 4, 5, 6, 7, 9, 9, 9]) == [1, 1, 2, 2, 3, 3, 4, 4, 4, 4]


def test_all_equal_values_score_one() -> None:
    X = frame(days=[7] * 6, freq=[2] * 6, money=[50.0] * 6)
    assert set(RFMScorer().fit_transform(X)["rfm_score"]) == {"111"}


@pytest.mark.parametrize(("money", "expected"), [
    ([5.0], [1]),
    ([5.0, 9.0], [1, 3]),
    ([9.0, 5.0], [3, 1]),
    ([1.0, 2.0, 3.0, 4.0], [1, 2, 3, 4]),
    ([4.0, 4.0, 1.0, 1.0], [3, 3, 1, 1]),
    ([1.0, 2.0, 3.0, 4.0, 5.0], [1, 2, 3, 4, 5]),
])
def test_tiny_populations(money, expected) -> None:
    assert score("total_amount", money) == expected
    days = [100 - m for m in money]  # same order, reversed direction
    assert score("days_since_last", days) == expected


def test_null_monetary_never_lands_in_the_top_bin() -> None:
    money = [None, 1.0, 2.0, 3.0, 4.0, 5.0, None, 7.0, 8.0, 9.0]
    out = RFMScorer().fit_transform(frame(money=pd.array(money, dtype="Float64")))
    assert out["rfm_m"].tolist()[0] == 1 and out["rfm_m"].tolist()[6] == 1
    # NULLs are left out of the bins: the 8 known values fill all five scores
    assert out["rfm_m"].max() == 5
    # also when the bins come from another period
    scorer = RFMScorer().fit(frame(money=list(range(1, 11))))
    applied = scorer.transform(frame(money=[np.nan, 1e9]))
    assert applied["rfm_m"].tolist() == [1, 5]


def test_null_recency_and_frequency_score_one() -> None:
    X = frame(days=[np.nan, 1, 2, 3, 4, 5], freq=[np.nan, 5, 4, 3, 2, 1])
    out = RFMScorer().fit_transform(X)
    assert out.loc["c0", "rfm_r"] == 1 and out.loc["c0", "rfm_f"] == 1


def test_fit_on_one_period_transform_the_next() -> None:
    scorer = RFMScorer().fit(frame(money=list(range(1, 11))))
    np.testing.assert_array_equal(scorer.edges_["m"], [3, 5, 7, 9])
    assert scorer.n_fit_ == 10
    nxt = frame(money=[0.0, 2.9, 3.0, 5.5, 9.0, 1000.0])
    assert scorer.transform(nxt)["rfm_m"].tolist() == [1, 1, 2, 3, 5, 5]
    # a single customer is scored against the learned bins, not against itself
    assert scorer.transform(frame(money=[8.0]))["rfm_m"].tolist() == [4]
    r = RFMScorer().fit(frame(days=list(range(1, 11))))
    np.testing.assert_array_equal(r.edges_["r"], [3, 5, 7, 9])  # days < edge passes
    assert r.transform(frame(days=[0, 2, 3, 8, 9, 500]))["rfm_r"].tolist() == [5, 5, 4, 2, 1, 1]


def test_thresholds_mode() -> None:
    scorer = RFMScorer("thresholds", r_thresholds=[30, 60, 90, 180], f_thresholds=[2, 3, 5, 10],
                       m_thresholds=[100, 200, 500, 1000]).fit()
    X = frame(days=[0, 29, 30, 90, 179, 180, 999], freq=[0, 1, 2, 4, 8, 9, 50],
              money=[99.0, 100.0, 199.0, 500.0, 999.0, 1000.0, 5000.0])
    out = scorer.transform(X)
    assert out["rfm_r"].tolist() == [5, 5, 4, 2, 2, 1, 1]
    assert out["rfm_f"].tolist() == [1, 2, 3, 4, 4, 5, 5]  # occasions 1, 2, 3, 5, 9, 10, 51
    assert out["rfm_m"].tolist() == [1, 2, 2, 4, 4, 5, 5]
    assert scorer.n_fit_ is None


def test_single_threshold_reads_high_or_low() -> None:
    # "R < 60 days -> high, F >= 5, M >= 500"
    scorer = RFMScorer("thresholds", r_thresholds=[60], f_thresholds=[5], m_thresholds=[500])
    out = scorer.fit().transform(frame(days=[59, 60], freq=[4, 3], money=[500.0, 499.99]))
    assert out["rfm_score"].tolist() == ["555", "111"]
    two = RFMScorer("thresholds", r_thresholds=[30, 90], f_thresholds=[2, 5],
                    m_thresholds=[100, 500]).fit()
    assert two.transform(frame(days=[10, 50, 100]))["rfm_r"].tolist() == [5, 3, 1]


def test_frequency_column_other_than_frequency_is_used_as_is() -> None:
    X = frame(freq=[4, 4]).assign(n_orders=[5, 4])
    scorer = RFMScorer("thresholds", r_thresholds=[60], f_thresholds=[5], m_thresholds=[500],
                       frequency_column="n_orders").fit()
    assert scorer.transform(X)["rfm_f"].tolist() == [5, 1]


def test_custom_share_cuts() -> None:
    assert score("total_amount", list(range(1, 11)), method="cuts", cuts=[0.5]) == [1] * 5 + [5] * 5
    assert score("total_amount", list(range(1, 11)), method="cuts",
                 cuts=[0.5, 0.9]) == [1] * 5 + [3] * 4 + [5]
    # 0.55 x 100 is 55.00000000000001 in floats: exactly 55 customers below still passes
    assert score("total_amount", list(range(1, 101)), method="cuts",
                 cuts=[0.55]) == [1] * 55 + [5] * 45


@given(st.lists(st.integers(-20, 20), min_size=1, max_size=40),
       st.sampled_from(["days_since_last", "frequency", "total_amount"]))
@FAST
def test_scores_match_the_rank_definition(values, column) -> None:
    got = score(column, values)
    higher = column != "days_since_last"
    assert got == strictly_worse_oracle([v + (column == "frequency") for v in values], higher)


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40),
       st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40),
       st.sampled_from(["days_since_last", "total_amount"]))
@FAST
def test_ties_monotone_and_range_properties(train, apply, column) -> None:
    key = {"days_since_last": "days", "total_amount": "money"}[column]
    dim = {"days_since_last": "rfm_r", "total_amount": "rfm_m"}[column]
    scorer = RFMScorer().fit(frame(**{key: train}))
    values = train + apply
    s = scorer.transform(frame(**{key: values}))[dim].to_numpy()
    assert set(s) <= {1, 2, 3, 4, 5}
    order = np.argsort(values, kind="stable")
    v, sv = np.asarray(values)[order], s[order]
    assert (np.diff(sv) <= 0).all() if column == "days_since_last" else (np.diff(sv) >= 0).all()
    for a, b in itertools.pairwise(range(len(v))):
        if v[a] == v[b]:
            assert sv[a] == sv[b]


def test_invalid_parameters_name_the_parameter_value_and_valid_values() -> None:
    with pytest.raises(ConfigError, match=r"method = 'decile'.*'quintile', 'thresholds', 'cuts'"):
        RFMScorer("decile")
    with pytest.raises(ConfigError, match=r"r_thresholds = \[90, 30\].*ascending"):
        RFMScorer("thresholds", r_thresholds=[90, 30], f_thresholds=[5], m_thresholds=[500])
    with pytest.raises(ConfigError, match="needs the parameter m_thresholds"):
        RFMScorer("thresholds", r_thresholds=[60], f_thresholds=[5])
    with pytest.raises(ConfigError, match=r"f_thresholds = \[1, 2, 3, 4, 5\]"):
        RFMScorer("thresholds", r_thresholds=[60], f_thresholds=[1, 2, 3, 4, 5], m_thresholds=[1])
    with pytest.raises(ConfigError, match=r"cuts = \[0.5, 1.2\].*between 0 and 1"):
        RFMScorer("cuts", cuts=[0.5, 1.2])
    with pytest.raises(ConfigError, match="needs the parameter cuts"):
        RFMScorer("cuts")
    with pytest.raises(ConfigError, match="m_thresholds = '123'"):
        RFMScorer("thresholds", r_thresholds=[1], f_thresholds=[1], m_thresholds="123")
    with pytest.raises(ConfigError, match="m_thresholds = 'abc'"):
        RFMScorer("thresholds", r_thresholds=[1], f_thresholds=[1], m_thresholds="abc")


def test_not_fitted_and_bad_data() -> None:
    X = frame(money=[1.0, 2.0])
    for model in (RFMScorer(), RFMEightClass(), ProblemGroups()):
        with pytest.raises(NotFittedError, match="not fitted"):
            model.transform(X)
    with pytest.raises(DataContractError, match="no column 'total_amount'"):
        RFMScorer().fit(X.drop(columns="total_amount"))
    with pytest.raises(DataContractError, match="empty"):
        RFMScorer().fit(X.iloc[:0])
    with pytest.raises(DataContractError, match="not numeric"):
        RFMScorer().fit(X.assign(total_amount=["1", "x"]))


# --- named segments ----------------------------------------------------------------------------

def scores_frame(triples) -> pd.DataFrame:
    return pd.DataFrame(list(triples), columns=["rfm_r", "rfm_f", "rfm_m"])


def test_default_map_covers_every_score_with_one_named_segment() -> None:
    all_scores = scores_frame(itertools.product(range(1, 6), repeat=3))
    seg = assign_segments(all_scores)
    assert len(seg) == 125 and seg["rfm_segment"].notna().all()
    assert "Other" not in set(seg["rfm_segment"])
    assert set(seg["rfm_segment"]) == {r["name_en"] for r in DEFAULT_SEGMENT_MAP}  # all reachable
    assert seg["rfm_segment_zh"].notna().all()


@pytest.mark.parametrize(("rfm", "name"), [
    ((5, 5, 5), "Champions"), ((1, 1, 1), "Lost"), ((5, 1, 1), "New"), ((4, 1, 1), "Promising"),
    ((1, 5, 5), "Cannot Lose Them"), ((1, 3, 3), "At Risk"), ((2, 5, 5), "At Risk"),
    ((3, 1, 1), "About to Sleep"), ((3, 2, 2), "Need Attention"), ((2, 1, 1), "Hibernating"),
    ((5, 2, 2), "Potential Loyalist"), ((5, 3, 3), "Loyal"), ((3, 5, 5), "Loyal"),
    ((4, 5, 3), "Champions"), ((4, 5, 2), "Loyal"), ((5, 1, 2), "New"),
])
def test_default_map_known_cells(rfm, name) -> None:
    assert assign_segments(scores_frame([rfm]))["rfm_segment"].item() == name


range_st = st.tuples(st.integers(1, 5), st.integers(1, 5)).map(sorted)
rule_st = st.fixed_dictionaries({"r": range_st, "fm": range_st})


@given(st.lists(rule_st, min_size=1, max_size=6),
       st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5)), min_size=1,
                max_size=30))
@FAST
def test_every_customer_gets_exactly_the_first_matching_segment(rules, triples) -> None:
    seg_map = [dict(rule, name_en=f"S{i}", name_zh=f"段{i}") for i, rule in enumerate(rules)]
    got = assign_segments(scores_frame(triples), seg_map)
    for (r, f, m), name in zip(triples, got["rfm_segment"], strict=True):
        fm = (f + m) / 2
        matches = [s["name_en"] for s in seg_map
                   if s["r"][0] <= r <= s["r"][1] and s["fm"][0] <= fm <= s["fm"][1]]
        assert name == (matches[0] if matches else "Other")


def test_first_match_wins() -> None:
    seg_map = [{"name_en": "A", "name_zh": "甲", "r": [3, 5], "fm": [1, 5]},
               {"name_en": "B", "name_zh": "乙", "r": [1, 5], "fm": [1, 5]}]
    out = assign_segments(scores_frame([(4, 1, 1), (2, 1, 1)]), seg_map)
    assert out["rfm_segment"].tolist() == ["A", "B"]
    assert out["rfm_segment_zh"].tolist() == ["甲", "乙"]


def test_segment_map_validation_lists_every_problem() -> None:
    bad = [{"name_en": "A", "name_zh": "甲", "r": [0, 5], "fm": [1, 5]},
           {"name_en": "A", "name_zh": "乙", "r": [4, 2], "fm": [1, 5]},
           {"name_en": "Other", "name_zh": "丙", "r": [1, 5], "fm": [1, 5]},
           {"name_en": "D", "name_zh": "丁", "r": [1, 5]},
           {"name_en": "E", "name_zh": "戊", "r": [1, 5], "fm": "high", "colour": "red"}]
    with pytest.raises(ConfigError) as info:
        validate_segment_map(bad, source="rfm.segment_map")
    text = "\n".join(info.value.problems)
    assert "rfm.segment_map[0].r = [0, 5]: both ends must lie within 1..5" in text
    assert "rfm.segment_map[1].name_en = 'A' repeats rfm.segment_map[0]" in text
    assert "rfm.segment_map[1].r = [4, 2]: low end is above high end" in text
    assert "catch-all" in text and "missing key 'fm'" in text
    assert "unknown key 'colour'" in text and "fm = 'high'" in text
    assert len(info.value.problems) == 7
    with pytest.raises(ConfigError, match="not a segment map"):
        validate_segment_map([])
    with pytest.raises(ConfigError):
        assign_segments(scores_frame([(1, 1, 1)]), bad)


def test_segments_need_valid_scores() -> None:
    with pytest.raises(DataContractError, match="rfm_m"):
        assign_segments(scores_frame([(1, 1, 6)]))


# --- the 8-class model -------------------------------------------------------------------------

def eight_frame() -> pd.DataFrame:
    # centres: days mean 61.2 / median 3; occasions mean 3 / median 1; money mean 220 / median 30
    return frame(days=[1, 2, 3, 100, 200], freq=[0, 0, 0, 1, 9], money=[10, 20, 30, 40, 1000])


def test_eight_classes_against_the_mean() -> None:
    model = RFMEightClass().fit(eight_frame())
    assert model.centers_ == pytest.approx({"r": 61.2, "f": 3.0, "m": 220.0})
    out = model.transform(eight_frame())
    assert out["rfm_class_cn"].tolist() == ["一般发展客户"] * 3 + ["一般挽留客户", "重要保持客户"]
    assert out["rfm_class_en"].tolist()[-1] == "Important to keep"


def test_eight_classes_against_the_median_and_ties_are_low() -> None:
    out = RFMEightClass("median").fit_transform(eight_frame())
    # c2 sits exactly on every median (3 days, 1 occasion, 30): "high" needs strictly better
    assert out["rfm_class_cn"].tolist() == [
        "一般发展客户", "一般发展客户", "一般挽留客户", "重要保持客户", "重要保持客户"]


def test_all_eight_classes_are_reachable_and_distinct() -> None:
    combos = list(itertools.product([True, False], repeat=3))
    X = frame(days=[1 if r else 9 for r, _, _ in combos],
              freq=[9 if f else 0 for _, f, _ in combos],
              money=[900.0 if m else 1.0 for _, _, m in combos])
    out = RFMEightClass().fit_transform(X)
    table = {(c["r"], c["f"], c["m"]): c["name_zh"] for c in EIGHT_CLASSES}
    assert out["rfm_class_cn"].tolist() == [table[c] for c in combos]
    assert out["rfm_class_cn"].tolist()[0] == "重要价值客户"
    assert len(set(out["rfm_class_en"])) == 8


def test_eight_class_edge_cases() -> None:
    same = RFMEightClass().fit_transform(frame(days=[5] * 3, freq=[1] * 3, money=[9.0] * 3))
    assert set(same["rfm_class_cn"]) == {"一般挽留客户"}
    X = frame(money=pd.array([None, 10.0, 1000.0], dtype="Float64"), days=[1, 50, 50])
    assert RFMEightClass().fit_transform(X)["rfm_class_cn"].tolist()[0] == "一般发展客户"
    with pytest.raises(ConfigError, match=r"center = 'mode'.*'mean', 'median'"):
        RFMEightClass("mode")
    model = RFMEightClass().fit(eight_frame())
    assert model.transform(frame(days=[61], freq=[3], money=[221.0]))["rfm_class_cn"].item() == \
        "重要价值客户"


# --- problem groups ----------------------------------------------------------------------------

def groups_frame() -> pd.DataFrame:
    return pd.DataFrame({"rfm_f": [5, 4, 5, 1, 5, 1, 1, 2, 3, 5],
                         "mean_amount": [float(v) for v in range(1, 11)]})  # tickets 1,1,2,2,...


def test_problem_groups() -> None:
    out = ProblemGroups().fit(groups_frame()).transform(groups_frame())
    assert out["rfm_ticket"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    fs, br = "frequent_small", "big_rare"
    expected = [fs, fs, fs, None, None, None, br, br, None, None]
    assert [None if pd.isna(g) else g for g in out["problem_group"]] == expected
    assert out["problem_group_zh"].tolist()[0] == "高频低客单"
    assert out["problem_group_zh"].tolist()[6] == "大额低频"


def test_problem_group_thresholds_are_configurable() -> None:
    model = ProblemGroups(frequent_min_f=5, rare_max_f=1).fit(groups_frame())
    got = model.transform(groups_frame())["problem_group"].tolist()
    assert pd.isna(got[1])  # F = 4 is no longer "frequent"
    assert pd.isna(got[7])  # F = 2 is no longer "rare"
    fixed = ProblemGroups("thresholds", ticket_thresholds=[30, 300]).fit()
    X = pd.DataFrame({"rfm_f": [5, 1, 5], "mean_amount": [29.0, 300.0, None]})
    got = fixed.transform(X)
    assert got["rfm_ticket"].tolist() == [1, 5, 1]
    assert got["problem_group"].tolist()[:2] == ["frequent_small", "big_rare"]
    assert pd.isna(got["problem_group"].tolist()[2])  # a NULL ticket is never flagged


def test_problem_group_parameters_are_checked() -> None:
    with pytest.raises(ConfigError, match="frequent_min_f = 2 must be above rare_max_f = 2"):
        ProblemGroups(frequent_min_f=2)
    with pytest.raises(ConfigError, match=r"big_min_ticket = 7.*1\.\.5"):
        ProblemGroups(big_min_ticket=7)
    with pytest.raises(ConfigError, match="ticket_thresholds"):
        ProblemGroups("thresholds")


# --- all at once -------------------------------------------------------------------------------

def test_rfm_table_end_to_end() -> None:
    rng = np.random.default_rng(7)
    n = 200
    X = frame(days=rng.integers(0, 400, n).tolist(), freq=rng.poisson(2, n).tolist(),
              money=rng.gamma(2, 100, n).round(2).tolist(), ticket=rng.gamma(2, 30, n).tolist())
    out = rfm_table(X)
    assert out.index.equals(X.index)
    assert list(out.columns) == [
        "rfm_r", "rfm_f", "rfm_m", "rfm_score", "rfm_segment", "rfm_segment_zh", "rfm_class_cn",
        "rfm_class_en", "rfm_ticket", "problem_group", "problem_group_zh"]
    assert out["rfm_segment"].notna().all() and out["rfm_class_cn"].notna().all()
    assert set(out["problem_group"].dropna()) <= {"frequent_small", "big_rare"}
    # bins learned on another period
    later = rfm_table(X.iloc[:5], fit_on=X)
    pd.testing.assert_frame_equal(later, out.iloc[:5])

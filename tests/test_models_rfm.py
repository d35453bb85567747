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
        "T": [400.0] * n,
    }, index=[f"c{i}" for i in range(n)])


def score(column: str, values, **kw) -> list[int]:
    dim = {"days_since_last": "rfm_r", "frequency": "rfm_f", "total_amount": "rfm_m"}[column]
    X = frame(**{{"days_since_last": "days", "frequency": "freq",
                  "total_amount": "money"}[column]: values})
    return RFMScorer(**kw).fit_transform(X)[dim].tolist()


def walk_oracle(values: list[float], higher_is_better: bool) -> list[int]:
    """The walk of the module notes, by brute force over the groups of equal values.

    Worst group first; level k (0-based) aims at ``placed + (n - placed) / (5 - k)`` customers
    and closes at the group boundary nearest that aim (the later one on a tie); the levels that
    close are spread over the scores 1..5 as LEVEL_SCORES says.
    """
    n = len(values)
    groups = sorted(set(values), reverse=not higher_is_better)  # worst first
    cum = list(itertools.accumulate(sum(1 for v in values if v == g) for g in groups))
    level_of, placed, level, i = {}, 0, 0, 0
    while i < len(groups):
        aim = placed + (n - placed) / (5 - level) if level < 4 else n
        ends = [c for c in cum[i:]]
        best = min(ends, key=lambda c: (round(abs(c - aim), 9), -c))
        while i < len(groups) and cum[i] <= best:
            level_of[groups[i]] = level
            i += 1
        placed, level = best, level + 1
    n_edges = 4
    mapping = {1: (1, 5), 2: (1, 3, 5), 3: (1, 2, 4, 5), 4: (1, 2, 3, 4, 5)}[n_edges]
    return [mapping[level_of[v]] for v in values]


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
    # F: two one-time buyers take score 1, the other three scores 2-4 (5 stays empty)
    assert out["rfm_score"].tolist() == ["545", "433", "324", "212", "111"]


def test_ties_at_cut_points_stay_together_and_bins_can_be_uneven() -> None:
    # six one-time buyers straddle the 20 % and 40 % cuts: all get F = 1, and the other four
    # are spread over 2-5 instead of leaving 2 and 3 empty (the CDNOW cohort case)
    assert score("frequency", [0] * 6 + [1, 2, 3, 4]) == [1] * 6 + [2, 3, 4, 5]
    # a tie at the top: the 30 % sharing the best value get 5 together
    assert score("total_amount", [1, 2, 3, 4, 5, 6, 7, 9, 9, 9]) == [1, 1, 2, 2, 3, 3, 4, 5, 5, 5]
    # a tie at the bottom that is nearer its aim than the next change of value closes level 1
    assert score("total_amount", [1] * 9 + [2]) == [1] * 9 + [2]
    assert score("days_since_last", [1] * 9 + [2]) == [2] * 9 + [1]


def test_all_equal_values_score_one() -> None:
    X = frame(days=[7] * 6, freq=[2] * 6, money=[50.0] * 6)
    assert set(RFMScorer().fit_transform(X)["rfm_score"]) == {"111"}


@pytest.mark.parametrize(("money", "expected"), [
    ([5.0], [1]),
    ([5.0, 9.0], [1, 2]),
    ([9.0, 5.0], [2, 1]),
    ([1.0, 2.0, 3.0, 4.0], [1, 2, 3, 4]),
    ([4.0, 4.0, 1.0, 1.0], [2, 2, 1, 1]),
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
    assert got == walk_oracle([v + (column == "frequency") for v in values], higher)


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
    """Ten repeat buyers over 300 days (visit rates 0.2 to 5 a month) and two one-time buyers."""
    return pd.DataFrame({
        "frequency": [50, 40, 50, 2, 50, 2, 2, 4, 10, 50, 0, 0],
        "T": [300.0] * 10 + [100.0, 5.0],
        "mean_amount": [float(v) for v in range(1, 11)] + [1000.0, 1.0],
    })


def test_problem_groups_are_judged_among_repeat_buyers() -> None:
    out = ProblemGroups().fit(groups_frame()).transform(groups_frame())
    # ticket bins learned on the ten repeat buyers; the one-time buyer's 1000 scores 5
    assert out["rfm_ticket"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5, 1]
    # visit rates 0.2 (x3) | 0.4, 1 | 4 | 5 (x4, a tie at the top): scores 1 | 2 | 3 | 4
    assert out["rfm_rate"].tolist()[:10] == [4, 3, 4, 1, 4, 1, 1, 2, 2, 4]
    assert out["rfm_rate"].isna().tolist()[10:] == [True, True]
    fs, br = "frequent_small", "big_rare"
    expected = [fs, None, fs, None, None, None, br, br, br, None, None, None]
    assert [None if pd.isna(g) else g for g in out["problem_group"]] == expected
    assert out["problem_group_zh"].tolist()[0] == "高频低客单"
    assert out["problem_group_zh"].tolist()[6] == "大额低频"


def test_one_time_buyers_and_all_tied_are_never_flagged() -> None:
    once = pd.DataFrame({"frequency": [0] * 5, "T": [10.0, 50, 100, 200, 400],
                         "mean_amount": [1.0, 10, 100, 1000, 10000]})
    assert ProblemGroups().fit(once).transform(once)["problem_group"].isna().all()
    tied = pd.DataFrame({"frequency": [3] * 6, "T": [90.0] * 6, "mean_amount": [50.0] * 6})
    out = ProblemGroups().fit(tied).transform(tied)
    assert out["problem_group"].isna().all()  # everyone scores 1 on both: nobody stands out
    assert set(out["rfm_rate"]) == {1} and set(out["rfm_ticket"]) == {1}


def test_problem_group_thresholds_are_configurable() -> None:
    model = ProblemGroups(frequent_min_f=5, rare_max_f=1).fit(groups_frame())
    got = model.transform(groups_frame())["problem_group"].tolist()
    assert all(g != "frequent_small" for g in got)  # nobody reaches rate score 5
    assert [i for i, g in enumerate(got) if g == "big_rare"] == [6]  # rate score 1 only
    fixed = ProblemGroups("thresholds", ticket_thresholds=[30, 300]).fit(groups_frame())
    X = pd.DataFrame({"frequency": [50, 2, 50], "T": [300.0] * 3,
                      "mean_amount": [29.0, 300.0, None]})
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
        "rfm_class_en", "rfm_ticket", "rfm_rate", "problem_group", "problem_group_zh"]
    assert out["rfm_segment"].notna().all() and out["rfm_class_cn"].notna().all()
    assert set(out["problem_group"].dropna()) <= {"frequent_small", "big_rare"}
    # bins learned on another period
    later = rfm_table(X.iloc[:5], fit_on=X)
    pd.testing.assert_frame_equal(later, out.iloc[:5])


# --- bins that do not collapse, their edges, recency by rhythm ---------------------------------

def test_cohort_frequency_uses_every_score() -> None:
    # 60 % one-time buyers (CDNOW-like): the other 40 % spread over F = 2..5
    freq = [0] * 60 + [1] * 15 + [2] * 10 + [3] * 8 + [5] * 4 + [9] * 3
    assert sorted(set(score("frequency", freq))) == [1, 2, 3, 4, 5]


def test_bins_table_shows_edges_and_counts() -> None:
    X = frame(freq=[0] * 6 + [1, 2, 3, 4], money=list(range(1, 11)))
    scorer = RFMScorer().fit(X)
    bins = scorer.bins_table(X)
    f = bins[bins["dimension"] == "f"].set_index("score")
    assert f["customers"].tolist() == [6, 1, 1, 1, 1]
    assert f.loc[1, "rule"] == "value < 2" and f.loc[5, "rule"] == "value >= 5"
    assert f.loc[2, "min_value"] == 2 == f.loc[2, "max_value"]
    assert scorer.edges_table()["f"] == [2.0, 3.0, 4.0, 5.0]
    r = bins[bins["dimension"] == "r"]
    assert r["customers"].sum() == 10 and r["rule"].tolist()[0] == "all"  # all tied on R


def rhythm_frame() -> pd.DataFrame:
    """Regulars buying every ~20 days, and a cohort gone quiet 431 days ago."""
    n_reg, n_old = 20, 80
    return pd.DataFrame({
        "days_since_last": [5] * 10 + [30] * 10 + [431] * n_old,
        "frequency": [10] * n_reg + [3] * n_old,
        "recency": [200.0] * n_reg + [60.0] * n_old,
        "T": [205.0] * 10 + [230.0] * 10 + [491.0] * n_old,
        "total_amount": [500.0] * (n_reg + n_old), "mean_amount": [50.0] * (n_reg + n_old),
    })


def test_rank_recency_warns_when_r5_is_far_behind_the_rhythm() -> None:
    X = rhythm_frame()
    scorer = RFMScorer().fit(X)
    assert scorer.typical_gap_ == 20.0
    assert scorer.transform(X)["rfm_r"].iloc[-1] == 1  # the 431-day cohort is worst ...
    cohort = X.assign(days_since_last=list(range(431, 531)))  # a cohort: all long quiet
    ranked = RFMScorer().fit(cohort)
    assert ranked.transform(cohort)["rfm_r"].iloc[0] == 5  # ... unless everyone is that old
    assert ranked.warnings_ and "450 days" in ranked.warnings_[0]
    rhythm = RFMScorer(recency="rhythm").fit(cohort)
    assert rhythm.edges_["r"].tolist() == [20.0, 40.0, 80.0, 160.0]
    assert set(rhythm.transform(cohort)["rfm_r"]) == {1} and not rhythm.warnings_


def test_rhythm_recency_needs_repeat_buyers() -> None:
    with pytest.raises(DataContractError, match="rhythm"):
        RFMScorer(recency="rhythm").fit(frame(days=[1, 2, 3]))
    with pytest.raises(ConfigError, match="recency"):
        RFMScorer(recency="calendar")

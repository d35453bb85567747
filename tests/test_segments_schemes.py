"""Segment schemes: first match wins, one segment per customer, nesting, owners, playbooks, P&L."""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

import tierwise.segments as segments_api
from tierwise.config import SegmentsConfig, parse_config
from tierwise.errors import ConfigError, DataContractError
from tierwise.segments import Scheme, assign_segments, parse_rule, segment_pnl


@pytest.fixture
def customers() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_key": [1, 2, 3, 4, 5, 6],
        "region": ["华东", "华东", "华南", "华北", None, "华东"],
        "total_amount": [8000.0, 300.0, 12000.0, 50.0, 700.0, 5000.0],
        "margin_total": [2400.0, 60.0, 3000.0, np.nan, 140.0, 1500.0],
        "value_period": [800.0, 30.0, 1200.0, 0.0, 70.0, 500.0],
        "tags": ["商务宴请", "", "商务宴请;家庭聚餐", None, "家庭聚餐", "家庭聚餐"],
    })


NESTED = {
    "name": "regions",
    "segment": [
        {"name": "华东", "name_zh": "华东区", "rule": 'region = "华东"', "owner": "王总",
         "playbook": {"channel": "企业微信", "message": "华东会员日"},
         "children": [
             {"name": "大客户", "rule": "total_amount >= 5000", "owner": "赵经理",
              "playbook": {"offer": "专属包间"}},
             {"name": "宴请", "rule": 'tags contains "商务宴请"'},
         ]},
        {"name": "商务宴请", "rule": 'tags contains "商务宴请"', "owner": "李总",
         "playbook": {"offer": "满2000减200", "product": "宴请套餐", "channel": "电话",
                      "message": "提前预订包间"}},
        {"name": "其他客户", "default": True, "owner": "陈总"},
    ],
}


# ---- assignment ---------------------------------------------------------------------------------

def test_first_match_wins(customers):
    scheme = Scheme.from_config([
        {"name": "big", "rule": "total_amount >= 5000"},
        {"name": "east", "rule": 'region = "华东"'},
        {"name": "rest", "default": True},
    ])
    out = scheme.assign(customers)
    # customer 1 is both big and east: the first segment listed wins
    assert out["segment"].tolist() == ["big", "east", "big", "rest", "rest", "big"]


def test_order_matters(customers):
    scheme = Scheme.from_config([
        {"name": "east", "rule": 'region = "华东"'},
        {"name": "big", "rule": "total_amount >= 5000"},
        {"name": "rest", "default": True},
    ])
    assert scheme.assign(customers)["segment"].tolist() == [
        "east", "east", "big", "rest", "rest", "east"]


def test_automatic_other_when_no_default(customers):
    scheme = Scheme.from_config([{"name": "big", "rule": "total_amount >= 5000"}])
    out = scheme.assign(customers)
    assert out["segment"].tolist() == ["big", "Other", "big", "Other", "Other", "big"]
    assert out.loc[1, "segment_zh"] == "其他"
    assert scheme.segments[-1].automatic and scheme.segments[-1].is_default


def test_nested_scheme_paths_and_level1(customers):
    out = Scheme.from_config(NESTED).assign(customers)
    assert out["segment"].tolist() == [
        "华东/大客户", "华东/Other", "商务宴请", "其他客户", "其他客户", "华东/大客户"]
    assert out["segment_level1"].tolist() == ["华东", "华东", "商务宴请", "其他客户", "其他客户", "华东"]
    assert out["segment_zh"].tolist()[:2] == ["华东区/大客户", "华东区/其他"]


def test_children_only_refine_their_parent(customers):
    # customer 3 has 商务宴请 and would match the child "宴请", but is not in 华东
    out = Scheme.from_config(NESTED).assign(customers)
    assert out.loc[2, "segment"] == "商务宴请"
    assert not out["segment"].str.endswith("/宴请").any()


def test_owner_and_playbook_attached_and_inherited(customers):
    out = Scheme.from_config(NESTED).assign(customers)
    by_segment = out.drop_duplicates("segment").set_index("segment")
    assert by_segment.loc["华东/大客户", "segment_owner"] == "赵经理"
    assert by_segment.loc["华东/Other", "segment_owner"] == "王总"       # inherited
    assert by_segment.loc["其他客户", "segment_owner"] == "陈总"
    assert by_segment.loc["商务宴请", "playbook"] == "满2000减200 / 宴请套餐 / 电话 / 提前预订包间"
    # the child's offer over the parent's channel and message
    assert by_segment.loc["华东/大客户", "playbook"] == "专属包间 / 企业微信 / 华东会员日"
    assert by_segment.loc["华东/Other", "playbook"] == "企业微信 / 华东会员日"


def test_assign_keeps_the_frame_and_index(customers):
    frame = customers.set_index(pd.Index([10, 11, 12, 13, 14, 15]))
    out = assign_segments(frame, NESTED)
    assert out.index.equals(frame.index)
    assert list(out.columns[: len(frame.columns)]) == list(frame.columns)
    assert set(segments_api.schemes.OUTPUT_COLUMNS) <= set(out.columns)


def test_leaves_are_the_possible_segments():
    scheme = Scheme.from_config(NESTED)
    assert [n.path for n in scheme.leaves()] == [
        "华东/大客户", "华东/宴请", "华东/Other", "商务宴请", "其他客户"]


# ---- each customer in exactly one segment (property) --------------------------------------------

_REGIONS = st.sampled_from(["华东", "华南", "华北", None])
_ATOMS = st.one_of(
    st.builds(lambda v: f"region = '{v}'", st.sampled_from(["华东", "华南", "西北"])),
    st.builds(lambda op, v: f"total_amount {op} {v}",
              st.sampled_from(["<", "<=", ">", ">=", "=", "!="]), st.integers(-10, 10_000)),
    st.builds(lambda a, b: f"total_amount between {min(a, b)} and {max(a, b)}",
              st.integers(0, 5000), st.integers(0, 5000)),
    st.sampled_from(["region is null", "total_amount is not null", "region in ['华东', '华北']"]),
)
_RULES = st.recursive(_ATOMS, lambda inner: st.one_of(
    st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
    st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
    st.builds(lambda a: f"not ({a})", inner)), max_leaves=4)
_FRAMES = data_frames(
    columns=[column("region", elements=_REGIONS, dtype=object),
             column("total_amount", elements=st.one_of(st.none(), st.floats(-100, 10_000)),
                    dtype=float)],
    index=range_indexes(max_size=30))


@settings(max_examples=80, deadline=None)
@given(frame=_FRAMES, rules=st.lists(_RULES, min_size=1, max_size=4),
       with_default=st.booleans(), child_rules=st.lists(_RULES, max_size=2))
def test_every_customer_in_exactly_one_segment(frame, rules, with_default, child_rules):
    specs = [{"name": f"s{i}", "rule": r} for i, r in enumerate(rules)]
    if child_rules:
        specs[0]["children"] = [{"name": f"c{i}", "rule": r} for i, r in enumerate(child_rules)]
    if with_default:
        specs.append({"name": "rest", "default": True})
    scheme = Scheme.from_config(specs)
    out = scheme.assign(frame)
    leaves = {n.path for n in scheme.leaves()}
    assert out["segment"].notna().all() and set(out["segment"]) <= leaves
    # first match wins, computed independently rule by rule
    hits = np.column_stack([parse_rule(r).evaluate(frame).to_numpy() for r in rules]
                           + [np.ones(len(frame), dtype=bool)])
    first = hits.argmax(axis=1)
    expected_level1 = [specs[i]["name"] if i < len(rules) else ("rest" if with_default else "Other")
                       for i in first]
    assert out["segment_level1"].tolist() == expected_level1
    pnl = segment_pnl(out, scheme=scheme)
    assert pnl["customers"].sum() == len(frame)


# ---- validation -------------------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "fragment"), [
    ([{"name": "a", "default": True}, {"name": "b", "default": True}], "2 default segments"),
    ([{"name": "a", "default": True}, {"name": "b", "rule": "x = 1"}], "must be the last one"),
    ([{"name": "a", "rule": "x = 1"}, {"name": "a", "rule": "x = 2"}], "appears 2 times"),
    ([{"name": "a/b", "rule": "x = 1"}], "contains the separator"),
    ([{"name": "a", "rule": "x = 1", "default": True}], "either a rule or default"),
    ([{"name": "a"}], "either a rule or default"),
    ([{"name": "a", "rule": "x >"}], "the rule ends here"),
    ([{"name": "Other", "rule": "x = 1"}], "clashes with the automatic catch-all"),
    ([{"name": "p", "rule": "x = 1", "children": [{"name": "c", "default": True},
                                                   {"name": "d", "rule": "x = 2"}]}],
     "inside 'p'"),
    ([{"name": "", "rule": "x = 1"}], "at least 1 character"),
    ([{"name": "a", "rule": "x = 1", "colour": "red"}], "not a tierwise setting"),
])
def test_scheme_config_errors(spec, fragment):
    with pytest.raises(ConfigError) as info:
        Scheme.from_config(spec)
    assert fragment in str(info.value)


def test_empty_scheme_is_refused():
    with pytest.raises(ConfigError, match="no segment"):
        Scheme.from_config([])


def test_all_structure_problems_at_once():
    with pytest.raises(ConfigError) as info:
        Scheme.from_config([{"name": "a", "rule": "x = 1"}, {"name": "a", "default": True},
                            {"name": "b/c", "rule": "x = 1"}])
    message = str(info.value)
    assert "appears 2 times" in message and "separator" in message and "last one" in message


def test_rules_are_checked_against_the_data_before_running(customers):
    scheme = Scheme.from_config({"name": "main", "segment": [
        {"name": "华东", "rule": 'regin = "华东"',
         "children": [{"name": "大客户", "rule": 'total_amount >= "5000"'}]},
        {"name": "rest", "default": True}]})
    with pytest.raises(ConfigError) as info:
        scheme.assign(customers)
    message = str(info.value)
    assert "2 rule problems" in message
    assert "segment '华东' of scheme 'main'" in message and "unknown column 'regin'" in message
    assert "segment '华东/大客户'" in message and "without quotes" in message
    assert len(info.value.problems) == 2


def test_require_owner():
    with pytest.raises(ConfigError, match="has no owner"):
        Scheme.from_config({"require_owner": True, "segment": [{"name": "a", "rule": "x = 1"}]})
    with pytest.raises(ConfigError, match="other_owner"):
        Scheme.from_config({"require_owner": True,
                            "segment": [{"name": "a", "rule": "x = 1", "owner": "王总"}]})
    scheme = Scheme.from_config({"require_owner": True, "other_owner": "陈总",
                                 "segment": [{"name": "a", "rule": "x = 1", "owner": "王总"}]})
    assert scheme.leaves()[-1].owner == "陈总"


TOML = '''
[segments]
name = "区域"
separator = " > "

[[segments.segment]]
name = "华东"
rule = 'region in ["华东"]'
owner = "王总"
playbook = { offer = "满200减30", channel = "短信", message = "周末家庭套餐" }

[[segments.segment.children]]
name = "大客户"
rule = "total_amount >= 5000"

[[segments.segment]]
name = "其他"
default = true
owner = "陈总"
'''


def test_scheme_from_the_config_file(customers):
    cfg = parse_config(tomllib.loads(TOML), source="tierwise.toml")
    out = Scheme.from_config(cfg.segments).assign(customers)
    assert out["segment"].tolist()[:2] == ["华东 > 大客户", "华东 > Other"]
    assert out.loc[0, "playbook"] == "满200减30 / 短信 / 周末家庭套餐"


def test_config_reports_a_bad_rule_with_its_key():
    data = tomllib.loads(TOML.replace("total_amount >= 5000", "total_amount >="))
    with pytest.raises(ConfigError) as info:
        parse_config(data, source="tierwise.toml")
    assert "segments.segment.0.children.0.rule" in str(info.value)


def test_defaults_live_in_the_config():
    cfg = SegmentsConfig()
    assert (cfg.segment, cfg.separator) == ([], "/")
    assert (cfg.other_name, cfg.other_name_zh) == ("Other", "其他")
    assert cfg.pnl_revenue == "total_amount" and cfg.require_owner is False


# ---- P&L ----------------------------------------------------------------------------------------

def test_pnl_sums_equal_totals(customers):
    scheme = Scheme.from_config(NESTED)
    pnl = segment_pnl(scheme.assign(customers), scheme=scheme)
    assert pnl["customers"].sum() == len(customers)
    assert pnl["revenue"].sum() == pytest.approx(customers["total_amount"].sum())
    assert pnl["margin"].sum() == pytest.approx(customers["margin_total"].sum())
    assert pnl["customer_share"].sum() == pytest.approx(1.0)
    assert pnl["revenue_share"].sum() == pytest.approx(1.0)


def test_pnl_rows_follow_the_scheme_with_owners(customers):
    scheme = Scheme.from_config(NESTED)
    pnl = segment_pnl(scheme.assign(customers), scheme=scheme).set_index("segment")
    assert list(pnl.index) == ["华东/大客户", "华东/宴请", "华东/Other", "商务宴请", "其他客户"]
    assert pnl.loc["华东/宴请", "customers"] == 0                # empty segments show
    row = pnl.loc["华东/大客户"]
    assert (row["customers"], row["revenue"], row["margin"], row["owner"]) == (2, 13000.0, 3900.0,
                                                                              "赵经理")
    assert row["customer_share"] == pytest.approx(2 / 6)
    assert pnl.loc["其他客户", "margin"] == pytest.approx(140.0)  # unknown margin left out


def test_pnl_by_level1_and_by_value_period(customers):
    scheme = Scheme.from_config(NESTED)
    out = scheme.assign(customers)
    level1 = segment_pnl(out, "segment_level1", scheme=scheme, revenue="value_period")
    assert level1["segment"].tolist() == ["华东", "商务宴请", "其他客户"]
    assert level1["revenue"].tolist() == [1330.0, 1200.0, 70.0]
    assert level1["owner"].tolist() == ["王总", "李总", "陈总"]


def test_pnl_without_a_scheme_uses_the_frame(customers):
    out = assign_segments(customers, NESTED)
    pnl = segment_pnl(out)
    assert pnl["revenue"].is_monotonic_decreasing
    assert dict(zip(pnl["segment"], pnl["owner"], strict=True))["华东/Other"] == "王总"
    assert pnl["customers"].sum() == len(customers)


def test_pnl_needs_its_columns(customers):
    with pytest.raises(DataContractError, match="'segment'"):
        segment_pnl(customers)
    out = assign_segments(customers, NESTED).drop(columns=["total_amount"])
    with pytest.raises(DataContractError, match="total_amount"):
        segment_pnl(out)


def test_pnl_without_margin_column(customers):
    out = assign_segments(customers.drop(columns=["margin_total"]), NESTED)
    assert segment_pnl(out)["margin"].isna().all()


# ---- public API -------------------------------------------------------------------------------

def test_public_api_is_complete():
    for name in segments_api.__all__:
        assert hasattr(segments_api, name), name
    for module in (segments_api.rules, segments_api.schemes, segments_api.clustering):
        for name in ("parse_rule", "Rule", "Scheme", "segment_pnl", "assign_segments",
                     "BehaviourClusters", "describe_profile"):
            if name in module.__all__:
                assert name in segments_api.__all__

"""The segment rule language: parsing, checking against a frame, evaluation, errors."""

from __future__ import annotations

import builtins

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwise.errors import ConfigError
from tierwise.segments import parse_rule
from tierwise.segments.rules import column_kind, tokenize


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4", "c5"],
        "region": ["华东", "华南", "华北", None, "华东"],
        "total_amount": [6000.0, 1200.0, 9000.0, 300.0, np.nan],
        "n_orders": pd.array([5, 1, 12, 2, None], dtype="Int64"),
        "tags": ["商务宴请;家庭聚餐", "商务", "家庭聚餐；生日宴", None, ""],
        "joined_at": pd.to_datetime(["2023-01-15", "2024-03-01", "2022-07-30", None, "2025-01-01"]),
        "vip": pd.array([True, False, True, None, False], dtype="boolean"),
        "增长潜力": [5, 2, 4, 1, 3],
        "消费 金额": [10, 20, 30, 40, 50],
    })


def matches(rule: str, frame: pd.DataFrame) -> list[str]:
    result = parse_rule(rule).evaluate(frame)
    assert result.dtype == bool and result.index.equals(frame.index)
    return frame.loc[result, "customer_id"].tolist()


# ---- each operator ----------------------------------------------------------------------------

@pytest.mark.parametrize(("rule", "expected"), [
    ("total_amount = 1200", ["c2"]),
    ("total_amount == 1200", ["c2"]),
    ("total_amount != 1200", ["c1", "c3", "c4"]),
    ("total_amount <> 1200", ["c1", "c3", "c4"]),
    ("total_amount < 1200", ["c4"]),
    ("total_amount <= 1200", ["c2", "c4"]),
    ("total_amount > 6000", ["c3"]),
    ("total_amount >= 6000", ["c1", "c3"]),
    ("6000 <= total_amount", ["c1", "c3"]),
    ("total_amount > -1.5e2", ["c1", "c2", "c3", "c4"]),
    ("n_orders >= 5", ["c1", "c3"]),
    ('region = "华东"', ["c1", "c5"]),
    ("region = '华东'", ["c1", "c5"]),
    ("region = “华东”", ["c1", "c5"]),
    ('region != "华东"', ["c2", "c3"]),
])
def test_comparisons(frame, rule, expected):
    assert matches(rule, frame) == expected


@pytest.mark.parametrize(("rule", "expected"), [
    ('region in ["华东", "华南"]', ["c1", "c2", "c5"]),
    ('region in ("华东", "华南",)', ["c1", "c2", "c5"]),
    ('region not in ["华东", "华南"]', ["c3"]),
    ("region in []", []),
    ("n_orders in [1, 2]", ["c2", "c4"]),
    ("增长潜力 not in [1, 2, 3]", ["c1", "c3"]),
])
def test_in_and_not_in(frame, rule, expected):
    assert matches(rule, frame) == expected


@pytest.mark.parametrize(("rule", "expected"), [
    ('tags contains "商务宴请"', ["c1"]),
    ('tags contains "商务"', ["c2"]),            # a whole tag, not a piece of one
    ('tags contains "生日宴"', ["c3"]),          # full-width separator
    ('tags contains " 家庭聚餐 "', ["c1", "c3"]),  # spaces around a tag do not matter
    ('tags not contains "商务宴请"', ["c2", "c3", "c5"]),  # missing tags: unknown, no match
])
def test_contains_matches_whole_tags(frame, rule, expected):
    assert matches(rule, frame) == expected


@pytest.mark.parametrize(("rule", "expected"), [
    ("total_amount between 1200 and 6000", ["c1", "c2"]),
    ("total_amount not between 1200 and 6000", ["c3", "c4"]),
    ('joined_at between "2023-01-01" and "2024-12-31"', ["c1", "c2"]),
])
def test_between_is_inclusive(frame, rule, expected):
    assert matches(rule, frame) == expected


@pytest.mark.parametrize(("rule", "expected"), [
    ("region is null", ["c4"]),
    ("region is not null", ["c1", "c2", "c3", "c5"]),
    ("total_amount IS NULL", ["c5"]),
    ("joined_at is null", ["c4"]),
    ("vip is null", ["c4"]),
])
def test_is_null(frame, rule, expected):
    assert matches(rule, frame) == expected


def test_null_compares_unknown_like_sql(frame):
    # c4 has no region: neither "= 华东" nor "!= 华东" nor "not (= 华东)" matches it
    assert "c4" not in matches('region = "华东"', frame)
    assert "c4" not in matches('region != "华东"', frame)
    assert "c4" not in matches('not region = "华东"', frame)
    assert "c4" in matches('region is null or region != "华东"', frame)
    # unknown or true is true; unknown and false is false
    assert "c5" in matches("total_amount > 0 or region = '华东'", frame)
    assert matches("not (total_amount > 0 and region = '华南')", frame) == ["c1", "c3", "c5"]


def test_precedence_and_binds_tighter_than_or(frame):
    # a or (b and c): c1 matches through a alone
    rule = 'region = "华东" or total_amount > 5000 and region = "华北"'
    assert matches(rule, frame) == ["c1", "c3", "c5"]
    # the parentheses change it: (a or b) and c
    assert matches('(region = "华东" or total_amount > 5000) and region = "华北"', frame) == ["c3"]


def test_not_binds_tighter_than_and(frame):
    assert matches('not region = "华东" and total_amount > 1000', frame) == ["c2", "c3"]
    # c4 (no region, 300): unknown and false = false, so the negation matches it
    assert matches('not (region = "华东" and total_amount > 1000)', frame) == ["c2", "c3", "c4"]
    assert matches('not (region = "华南" or n_orders > 10)', frame) == ["c1"]


def test_keywords_are_case_insensitive(frame):
    assert matches('REGION IN ["华东"] AND NOT total_amount IS NULL'.replace("REGION", "region"),
                   frame) == ["c1"]


def test_chinese_and_backticked_identifiers(frame):
    assert matches("增长潜力 >= 4", frame) == ["c1", "c3"]
    assert matches("`消费 金额` > 30 and `region` = '华东'", frame) == ["c5"]
    assert parse_rule("`消费 金额` > 30 and 增长潜力 = 1").columns == ("消费 金额", "增长潜力")


def test_full_width_punctuation(frame):
    assert matches("region in （'华东'，'华南'）", frame) == ["c1", "c2", "c5"]


def test_dates_and_booleans(frame):
    assert matches('joined_at >= "2024-01-01"', frame) == ["c2", "c5"]
    assert matches("vip", frame) == ["c1", "c3"]
    assert matches("not vip", frame) == ["c2", "c5"]
    assert matches("vip = true", frame) == ["c1", "c3"]
    assert matches("true", frame) == ["c1", "c2", "c3", "c4", "c5"]


def test_escaped_quotes():
    assert tokenize(r'"他说\"好\""')[0].value == '他说"好"'


def test_column_kinds(frame):
    kinds = {c: column_kind(frame[c]) for c in frame.columns}
    assert kinds["region"] == "text" and kinds["total_amount"] == "number"
    assert kinds["n_orders"] == "number" and kinds["joined_at"] == "date"
    assert kinds["vip"] == "bool"
    assert column_kind(pd.Series([None, None], dtype=object)) == "null"


def test_all_missing_column_never_matches():
    frame = pd.DataFrame({"industry": pd.Series([None, None], dtype=object)})
    assert not parse_rule('industry = "餐饮"').evaluate(frame).any()
    assert parse_rule("industry is null").evaluate(frame).all()


def test_empty_frame(frame):
    assert parse_rule('region = "华东"').evaluate(frame.iloc[:0]).tolist() == []


# ---- errors ---------------------------------------------------------------------------------

def caret_column(message: str) -> int:
    """Position of the first caret, in display columns after the 4-space indent."""
    caret_line = [line for line in message.splitlines() if line.lstrip().startswith("^")][0]
    return len(caret_line) - len(caret_line.lstrip()) - 4


def test_syntax_error_points_at_the_position():
    with pytest.raises(ConfigError) as info:
        parse_rule("total_amount >= 5000 and and region = 'x'")
    message = str(info.value)
    assert "character 26" in message
    assert caret_column(message) == 25
    assert "total_amount >= 5000 and and region = 'x'" in message


def test_caret_counts_chinese_characters_as_wide():
    with pytest.raises(ConfigError) as info:
        parse_rule('区域 = "华东" 或 金额 > 1')
    message = str(info.value)
    assert "character 11" in message
    # 区域 = "华东" is 2+2 + 3 + 2+2+2 = 13 display columns, then a space
    assert caret_column(message) == 14


@pytest.mark.parametrize(("rule", "fragment"), [
    ("total_amount >", "the rule ends here"),
    ("(total_amount > 1", "')'"),
    ("region = null", "is null"),
    ('region = "华东', "never closed"),
    ("`消费 金额 > 1", "never closed"),
    ("region in 华东", "list"),
    ("region in [华东]", 'quote text values: "华东"'),
    ("tags contains 5", "quoted text"),
    ("total_amount 5000", "'and', 'or'"),
    ("total_amount >= 5000 &&", "unexpected character '&'"),
    ("total_amount between 1 or 2", "'and'"),
    ("   ", "empty"),
    ("5000", "expected a comparison"),
])
def test_syntax_errors_are_config_errors(rule, fragment):
    with pytest.raises(ConfigError) as info:
        parse_rule(rule)
    assert fragment in str(info.value)


def test_deep_nesting_is_a_config_error_not_a_crash():
    with pytest.raises(ConfigError, match="nests"):
        parse_rule("(" * 500 + "a = 1" + ")" * 500)
    with pytest.raises(ConfigError, match="nests"):
        parse_rule("not " * 500 + "vip")


def test_unknown_column_names_rule_segment_column_and_available(frame):
    rule = parse_rule("totl_amount >= 5000")
    with pytest.raises(ConfigError) as info:
        rule.validate(frame, where="segment '大客户' of scheme 'main'")
    message = str(info.value)
    assert "'totl_amount >= 5000'" in message
    assert "segment '大客户'" in message
    assert "unknown column 'totl_amount'" in message
    assert "available columns: customer_id, region, total_amount" in message
    assert "did you mean 'total_amount'" in message
    assert caret_column(message) == 0


def test_unquoted_text_value_gets_a_quoting_hint(frame):
    with pytest.raises(ConfigError, match='quote it'):
        parse_rule("region = 华东").evaluate(frame)


@pytest.mark.parametrize(("rule", "fragment"), [
    ("region = 5", "cannot compare column 'region' (text) with the number 5"),
    ('total_amount >= "5000"', "write the number without quotes: 5000"),
    ('region in ["华东", 3]', "cannot compare"),
    ('region > "华东"', "cannot order text"),
    ("region between 'a' and 'b'", "cannot order text"),
    ("total_amount contains '5'", "'contains' looks inside text"),
    ("total_amount", "must be true/false"),
    ('joined_at > "last year"', "a date can only be compared with a date"),
    ("vip = 1", "cannot compare"),
    ("region = total_amount", "cannot compare"),
])
def test_type_mismatches_are_found_before_running(frame, rule, fragment):
    parsed = parse_rule(rule)
    problems = parsed.problems(frame)
    assert problems and fragment in str(problems[0])
    with pytest.raises(ConfigError):
        parsed.evaluate(frame)


def test_unknown_column_in_an_empty_list_is_found(frame):
    with pytest.raises(ConfigError, match="unknown column 'nope'"):
        parse_rule("nope in []").evaluate(frame)


def test_every_problem_is_listed(frame):
    problems = parse_rule('regoin = "华东" and total_amount = "x" and foo > 1').problems(frame)
    assert len(problems) == 3
    # one problem per mistake, even when a column is used several times by one condition
    assert len(parse_rule("nope in [1, 2, 3]").problems(frame)) == 1
    assert len(parse_rule("nope between 1 and 2").problems(frame)) == 1


# ---- safety ---------------------------------------------------------------------------------

@pytest.mark.parametrize("rule", [
    "__import__('os')",
    "__import__('os').system('rm -rf /')",
    "os.system('ls')",
    "region == 'a'; import os",
    "lambda: 1",
    "region = 'a' or exec('print(1)')",
    "[x for x in ()]",
    "total_amount.__class__",
])
def test_code_is_not_a_rule(rule):
    with pytest.raises(ConfigError):
        parse_rule(rule)


def test_no_eval_or_exec_is_used(frame, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec must never be used")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    rule = parse_rule('region in ["华东"] and total_amount >= 5000 or tags contains "商务"')
    assert rule.evaluate(frame).tolist() == [True, True, False, False, False]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_parser_raises_only_config_errors_on_any_text(text):
    try:
        parse_rule(text)
    except ConfigError:
        pass


_PIECES = ["region", "total_amount", "tags", "vip", "joined_at", "增长潜力", "`消费 金额`", "nope",
           "=", "!=", "<", ">=", "in", "not", "and", "or", "contains", "between", "is", "null",
           "(", ")", "[", "]", ",", "'华东'", '"商务"', "5000", "-1.5", "true", '"2024-01-01"']


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_PIECES), max_size=12))
def test_any_token_soup_parses_and_runs_or_raises_config_error(frame, pieces):
    try:
        rule = parse_rule(" ".join(pieces))
        result = rule.evaluate(frame)
    except ConfigError:
        return
    assert result.dtype == bool and len(result) == len(frame)

"""Value parsers: amounts, dates (incl. day/month refusal and time zones), ids and text."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.errors import DataContractError
from tierwise.io.values import (
    clean_id,
    clean_text,
    numeric_or_none,
    parse_amount,
    parse_date,
    to_date_series,
)

EPOCH = dt.date(1970, 1, 1)


def s(*values) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def dates(parsed) -> list[dt.date | None]:
    col = to_date_series(parsed, pd.RangeIndex(len(parsed.values)))
    return [None if pd.isna(v) else v for v in col.tolist()]


def pdate(*values, tz="Asia/Shanghai", fmt=None):
    return parse_date(s(*values), timezone=tz, date_format=fmt, label="orders.csv: column 'd'")


# ------------------------------------------------------------------------------------ amounts


@pytest.mark.parametrize("text, expected", [
    ("12.5", 12.5), ("  12.50 ", 12.5), ("-3", -3.0), ("+3", 3.0), (".5", 0.5),
    ("¥12.50", 12.5), ("￥1,234.50", 1234.5), ("1,234,567.8", 1234567.8), ("RMB 100", 100.0),
    ("100元", 100.0), ("$5", 5.0), ("CNY 7", 7.0), ("(12.50)", -12.5), ("(¥1,000)", -1000.0),
    ("12.50-", -12.5), ("１２３．５", 123.5), ("\u00a0 88 \u3000", 88.0), ("1e3", 1000.0),
    ("−4", -4.0),
])
def test_amounts_decimal_point(text, expected):
    p = parse_amount(s(text))
    assert not p.invalid[0] and not p.empty[0]
    assert p.values[0] == pytest.approx(expected)


@pytest.mark.parametrize("text, expected", [
    ("12,5", 12.5), ("1.234,56", 1234.56), ("1 234,5", 1234.5), ("€ 3,00", 3.0),
    ("(1.000,50)", -1000.5), ("7", 7.0),
])
def test_amounts_decimal_comma(text, expected):
    p = parse_amount(s(text), decimal=",")
    assert not p.invalid[0]
    assert p.values[0] == pytest.approx(expected)


def test_amount_with_wrong_decimal_is_invalid_and_hints_the_setting():
    p = parse_amount(s("12,5", "1.234,56", "abc", "1,23,456", "nan", "inf", "", "12.5.3"))
    assert p.invalid.tolist() == [True, True, True, True, True, True, False, True]
    assert p.empty.tolist() == [False] * 6 + [True, False]
    assert p.hint[0] == "set decimal = ',' in [intake]"
    assert p.hint[1] == "set decimal = ',' in [intake]"
    assert p.hint[2] == ""
    assert np.isnan(p.values).all()
    q = parse_amount(s("12.5", "1,234.5"), decimal=",")
    assert q.invalid.tolist() == [True, True]
    assert q.hint[0] == "set decimal = '.' in [intake]"


def test_machine_written_numbers_ignore_the_decimal_setting():
    p = parse_amount(s("12.5", "-0.25"), decimal=",", machine=True)
    assert p.values.tolist() == [12.5, -0.25]


def test_numeric_series_amounts():
    p = parse_amount(pd.Series([1.5, np.nan, np.inf, -2.0]))
    assert p.empty.tolist() == [False, True, False, False]
    assert p.invalid.tolist() == [False, False, True, False]
    assert p.values[0] == 1.5 and p.values[3] == -2.0


def test_numeric_or_none_keeps_codes_as_text():
    assert numeric_or_none(s("1", "2.5", "", "-3")).tolist()[:2] == [1.0, 2.5]
    assert numeric_or_none(s("007", "12")) is None  # leading zero: a code, not a number
    assert numeric_or_none(s("A", "1")) is None
    assert numeric_or_none(s("", "")) is None
    assert numeric_or_none(s("4,5"), decimal=",").tolist() == [4.5]


# --------------------------------------------------------------------------------------- dates


@pytest.mark.parametrize("text, expected", [
    ("2026-10-03", dt.date(2026, 10, 3)),
    ("2026-10-03 19:42:11", dt.date(2026, 10, 3)),
    ("2026-10-03T19:42:11", dt.date(2026, 10, 3)),
    ("2026-10-03 19:42", dt.date(2026, 10, 3)),
    ("2026-10-03T19:42:11.123456", dt.date(2026, 10, 3)),
    ("2026/10/3", dt.date(2026, 10, 3)),
    ("2026/10/3 9:05:01", dt.date(2026, 10, 3)),
    ("2026.10.03", dt.date(2026, 10, 3)),
    ("20261003", dt.date(2026, 10, 3)),
    ("20261003194211", dt.date(2026, 10, 3)),
    ("2026年10月3日", dt.date(2026, 10, 3)),
    ("2026年10月3日 19:42", dt.date(2026, 10, 3)),
    ("2026年10月3日 19时42分", dt.date(2026, 10, 3)),
    ("2018-01-01 星期一", dt.date(2018, 1, 1)),  # a weekday after the date
    ("2018-01-01 周五 10:30", dt.date(2018, 1, 1)),  # ... even a wrong one: the date wins
    ("Fri, 2018-01-05", dt.date(2018, 1, 5)),
    ("2018-01-06（六）", dt.date(2018, 1, 6)),
    ("2018-01-07 Sunday", dt.date(2018, 1, 7)),
    ("2024-02-29", dt.date(2024, 2, 29)),
    ("２０２６－１０－０３", dt.date(2026, 10, 3)),  # full-width
])
def test_date_forms(text, expected):
    p = pdate(text)
    assert not p.invalid[0], text
    assert dates(p) == [expected]


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01", "2025-02-29", "1800-01-01",
                                  "2026-10-03 25:00:00", "2026-10-03 10:61", "yesterday",
                                  "2026-10", "1759488000", "26-10-03"])
def test_invalid_dates(text):
    p = pdate(text)
    assert p.invalid[0], text
    assert "2026-10-03" in p.hint[0] or "there is no such day" in p.hint[0]


def test_offsets_convert_to_business_date_across_midnight():
    p = pdate("2026-10-03T18:30:00Z", "2026-10-03 23:30:00+00:00", "2026-10-03 16:30:00.5+00",
              "2026-10-03T15:59:59+0000", "2026-10-03 23:59:59")
    assert dates(p) == [dt.date(2026, 10, 4), dt.date(2026, 10, 4), dt.date(2026, 10, 4),
                        dt.date(2026, 10, 3), dt.date(2026, 10, 3)]
    q = pdate("2026-10-04T01:00:00+08:00", "2026-10-04 07:59:59+08:00", tz="UTC")
    assert dates(q) == [dt.date(2026, 10, 3), dt.date(2026, 10, 3)]
    r = pdate("2026-03-08T06:30:00Z", tz="America/New_York")  # DST day in New York
    assert dates(r) == [dt.date(2026, 3, 8)]


def test_day_month_refuses_to_guess_when_every_value_reads_both_ways():
    with pytest.raises(DataContractError) as err:
        pdate("03/04/2026", "05/06/2026", "07/07/2026")
    msg = str(err.value)
    assert "orders.csv" in msg and "'03/04/2026'" in msg
    assert "date_format = '%d/%m/%Y' or '%m/%d/%Y'" in msg


def test_day_month_settled_by_the_column():
    p = pdate("03/04/2026", "25/04/2026")
    assert dates(p) == [dt.date(2026, 4, 3), dt.date(2026, 4, 25)]
    assert p.warnings and "day/month" in p.warnings[0]
    q = pdate("03/04/2026", "04/25/2026 10:00")
    assert dates(q) == [dt.date(2026, 3, 4), dt.date(2026, 4, 25)]
    same = pdate("03/03/2026")
    assert dates(same) == [dt.date(2026, 3, 3)]


def test_day_month_contradictory_column_is_refused():
    with pytest.raises(DataContractError, match="mix day/month"):
        pdate("25/04/2026", "04/25/2026")


def test_date_format_settles_and_rejects_what_does_not_match():
    p = pdate("03/04/2026", "13/13/2026", "2026-10-03", fmt="%d/%m/%Y")
    assert dates(p)[0] == dt.date(2026, 4, 3)
    assert p.invalid.tolist() == [False, True, False]
    assert "date_format" in p.hint[1]
    z = pdate("03.04.2026 23:30 +0000", fmt="%d.%m.%Y %H:%M %z")
    assert dates(z) == [dt.date(2026, 4, 4)]


def test_native_datetimes():
    naive = pd.Series(pd.to_datetime(["2026-10-03 23:30", None]))
    p = parse_date(naive, timezone="Asia/Shanghai")
    assert dates(p) == [dt.date(2026, 10, 3), None]
    assert p.empty.tolist() == [False, True]
    aware = pd.Series(pd.to_datetime(["2026-10-03 23:30"]).tz_localize("UTC"))
    assert dates(parse_date(aware, timezone="Asia/Shanghai")) == [dt.date(2026, 10, 4)]


def test_numeric_date_column_is_read_as_serial_or_compact():
    p = parse_date(pd.Series([45568.0, 45568.75, 20261003.0, np.nan]), timezone="UTC")
    assert dates(p) == [dt.date(2024, 10, 3), dt.date(2024, 10, 3), dt.date(2026, 10, 3), None]


def test_serials_only_from_numeric_cells_in_a_plausible_range():
    text = pdate("45568")
    assert text.invalid[0] and "Excel date serial" in text.hint[0]
    far = parse_date(pd.Series([99999.0, 45568.0]), timezone="UTC")
    assert far.invalid.tolist() == [True, False] and "plausible" in far.hint[0]


def test_impossible_days_and_offsets_say_why():
    p = parse_date(s("2018-02-29", "2018年2月29日 星期四", "2024-05-01T10:00:00+25:00",
                     "2024-05-01T10:00:00+14:00"), timezone="UTC")
    assert p.invalid.tolist() == [True, True, True, False]
    assert "February 2018 has 28 days" in p.hint[0] and "February 2018" in p.hint[1]
    assert "+25:00" in p.hint[2]


def test_a_wrong_weekday_is_warned_about_once():
    p = parse_date(s("2018-01-01 星期五", "2018-01-02 星期五", "2018-01-05 星期五"),
                   timezone="UTC", label="x.csv")
    assert not p.invalid.any()
    assert len(p.warnings) == 1 and "2 of 3" in p.warnings[0] and "Monday" in p.warnings[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2199, 12, 31)),
                min_size=1, max_size=30),
       st.sampled_from(["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日",
                        "%Y-%m-%dT%H:%M", "%Y.%m.%d"]))
def test_every_valid_date_round_trips(values, fmt):
    text = [dt.datetime.combine(v, dt.time(13, 5, 9)).strftime(fmt) for v in values]
    p = parse_date(s(*text), timezone="Asia/Shanghai")
    assert not p.invalid.any()
    assert dates(p) == values


# ---------------------------------------------------------------------------------------- text


def test_ids_keep_leading_zeros_and_drop_excel_float_tails():
    ids = clean_id(s(" 001 ", "\u00a0A1\u3000", "1001.0", "1001.50", "A.0", "\ufeffX", ""))
    assert ids.to_pylist() == ["001", "A1", "1001", "1001.50", "A.0", "X", ""]
    from_excel = clean_id(pd.Series([1001.0, np.nan, 13800138000.0, 2.5]))
    assert from_excel.to_pylist() == ["1001", "", "13800138000", "2.5"]


def test_clean_text_trims_unicode_spaces_only_at_the_ends():
    assert clean_text(s("\u3000北京 店\u00a0", "\u200bx")).to_pylist() == ["北京 店", "x"]

"""The attendance sheet 客户考勤表 on hand-made orders."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tierwise.config import AttendanceConfig
from tierwise.errors import ConfigError, DataContractError
from tierwise.lifecycle import attendance_sheet, attendance_table

AS_OF = dt.date(2026, 3, 31)


def _orders(rows) -> pd.DataFrame:
    """Orders from (customer_key, 'YYYY-MM-DD', amount[, is_refund])."""
    rows = [(*r, False) if len(r) == 3 else r for r in rows]
    frame = pd.DataFrame(rows, columns=["customer_key", "ordered_at", "amount", "is_refund"])
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"]).dt.date
    return frame


CUSTOMERS = pd.DataFrame({"customer_key": [1, 2, 3, 4, 5],
                          "customer_id": ["C01", "C02", "C03", "C04", "C05"],
                          "name": ["张总", "李总", "王总", "赵总", "钱总"],
                          "account_manager": ["车经理"] * 5})


def _cell(sheet, key, month, bucket, column):
    hit = sheet[(sheet["customer_key"] == key) & (sheet["month"] == month)
                & (sheet["bucket"] == bucket)]
    assert len(hit) == 1
    return hit[column].iloc[0]


@pytest.fixture
def sheet() -> pd.DataFrame:
    orders = _orders([
        # customer 1: bucket edges 10/11, 20/21, month ends 31 (Jan), 28 (Feb 2026), 31 (Mar)
        (1, "2026-01-10", 100.0), (1, "2026-01-11", 200.0), (1, "2026-01-20", 300.0),
        (1, "2026-01-21", 400.0), (1, "2026-01-31", 500.0), (1, "2026-02-28", 600.0),
        (1, "2026-03-31", 700.0),
        (1, "2026-03-31", 100.0),           # same day: one visit, spend summed
        (1, "2026-03-31", -50.0, True),     # refund: not a visit, netted into spend
        (1, "2025-12-31", 9999.0),          # before the window
        (1, "2026-04-01", 9999.0),          # after as_of
        # customer 2: came only in early January -> 8 empty buckets after that
        (2, "2026-01-02", 3000.0),
        # customer 3: exactly 3 empty buckets in the middle (Feb 上旬 .. Feb 下旬)
        (3, "2026-01-25", 500.0), (3, "2026-03-05", 500.0), (3, "2026-03-15", 500.0),
        (3, "2026-03-25", 500.0),
    ])
    return attendance_sheet(orders, CUSTOMERS, AS_OF)


def test_bucket_edges_and_month_ends(sheet):
    assert _cell(sheet, 1, "2026-01", 1, "visits") == 1   # the 10th is 上旬
    assert _cell(sheet, 1, "2026-01", 2, "visits") == 2   # the 11th and the 20th are 中旬
    assert _cell(sheet, 1, "2026-01", 3, "visits") == 2   # the 21st and the 31st are 下旬
    assert _cell(sheet, 1, "2026-02", 3, "visits") == 1   # the 28th ends February
    assert _cell(sheet, 1, "2026-01", 3, "spend") == 900.0
    assert _cell(sheet, 1, "2026-01", 2, "mean_spend") == 250.0
    assert _cell(sheet, 1, "2026-03", 3, "visits") == 1
    assert _cell(sheet, 1, "2026-03", 3, "spend") == 750.0
    assert _cell(sheet, 1, "2026-03", 3, "mean_spend") == 750.0
    assert np.isnan(_cell(sheet, 1, "2026-02", 1, "mean_spend"))
    assert _cell(sheet, 1, "2026-02", 3, "bucket_end") == pd.Timestamp("2026-02-28")
    assert _cell(sheet, 1, "2026-01", 3, "bucket_end") == pd.Timestamp("2026-01-31")
    assert _cell(sheet, 1, "2026-01", 2, "bucket_start") == pd.Timestamp("2026-01-11")
    assert _cell(sheet, 1, "2026-03", 1, "bucket_zh") == "上旬"


def test_one_row_per_customer_and_bucket_with_totals(sheet):
    assert len(sheet) == 3 * 9
    assert sheet.groupby("customer_key").size().tolist() == [9, 9, 9]
    one = sheet[sheet["customer_key"] == 1].iloc[0]
    assert one["total_spend"] == 100 + 200 + 300 + 400 + 500 + 600 + 700 + 100 - 50
    assert one["total_visits"] == 7
    assert one["name"] == "张总" and one["account_manager"] == "车经理"
    assert sheet[sheet["customer_key"] == 1]["visits"].sum() == 7


def test_long_absences_are_marked(sheet):
    two = sheet[sheet["customer_key"] == 2].sort_values("seq")
    assert two["absent"].tolist() == [False] + [True] * 8
    assert two["marker"].tolist() == [""] + ["×"] * 8
    assert two["long_absence"].all() and two["current_absence_buckets"].iloc[0] == 8
    three = sheet[sheet["customer_key"] == 3].sort_values("seq")
    # Jan 上旬, 中旬 empty (2, too short), Jan 下旬 visit, Feb x 3 empty (marked), Mar visits
    assert three["absent"].tolist() == [False, False, False, True, True, True,
                                        False, False, False]
    assert three["current_absence_buckets"].iloc[0] == 0
    one = sheet[sheet["customer_key"] == 1]
    assert not one["absent"].any() and not one["long_absence"].any()


def test_absence_threshold_and_marker_are_config():
    orders = _orders([(3, "2026-01-25", 500.0), (3, "2026-03-05", 500.0),
                      (4, "2026-01-05", 600.0), (4, "2026-03-05", 600.0)])
    cfg = AttendanceConfig(absence_buckets=4, absence_marker="缺")
    sheet = attendance_sheet(orders, CUSTOMERS, AS_OF, config=cfg).sort_values(["rank", "seq"])
    four, three = sheet[sheet["customer_key"] == 4], sheet[sheet["customer_key"] == 3]
    # customer 4: Jan 中旬 .. Feb 下旬 empty (5 buckets) -> marked; customer 3: Feb only (3)
    assert four["marker"].tolist() == ["", "缺", "缺", "缺", "缺", "缺", "", "", ""]
    assert not three["absent"].any()
    default = attendance_sheet(orders, CUSTOMERS, AS_OF)
    assert default[default["customer_key"] == 3]["absent"].sum() == 3


def test_top_n_ordering_and_ties():
    orders = _orders([
        (1, "2026-03-01", 100.0),
        (2, "2026-03-01", 300.0),
        (3, "2026-03-01", 150.0), (3, "2026-03-02", 150.0),   # 300 in 2 visits: beats key 2
        (4, "2026-03-01", 300.0),                              # ties with 2: C02 before C04
        (5, "2026-03-01", 50.0),
    ])
    sheet = attendance_sheet(orders, CUSTOMERS, AS_OF, top_n=3, months=1)
    table = sheet.drop_duplicates("customer_key")
    assert table["customer_id"].tolist() == ["C03", "C02", "C04"]
    assert table["rank"].tolist() == [1, 2, 3]
    assert len(sheet) == 3 * 3
    everyone = attendance_sheet(orders, CUSTOMERS, AS_OF, top_n=50, months=1)
    assert everyone["customer_key"].nunique() == 5


def test_default_top_n_is_50():
    orders = _orders([(k, "2026-03-10", float(k)) for k in range(1, 61)])
    sheet = attendance_sheet(orders, None, AS_OF)
    assert sheet["customer_key"].nunique() == 50
    assert sheet.drop_duplicates("customer_key")["customer_key"].iloc[0] == 60
    assert sheet["customer_id"].iloc[0] == "60"


def test_as_of_mid_month_and_leap_february():
    orders = _orders([(1, "2024-02-29", 80.0), (1, "2024-04-12", 90.0)])
    sheet = attendance_sheet(orders, None, dt.date(2024, 4, 15), months=3)
    assert sheet["month"].unique().tolist() == ["2024-02", "2024-03", "2024-04"]
    assert len(sheet) == 3 + 3 + 2              # April's 下旬 lies after as_of
    assert _cell(sheet, 1, "2024-02", 3, "visits") == 1
    assert _cell(sheet, 1, "2024-02", 3, "bucket_end") == pd.Timestamp("2024-02-29")
    assert _cell(sheet, 1, "2024-04", 2, "bucket_end") == pd.Timestamp("2024-04-15")
    assert _cell(sheet, 1, "2024-04", 2, "visits") == 1
    # four empty buckets between 2024-02-29 and 2024-04-12 are marked
    assert sheet.sort_values("seq")["absent"].tolist() == [False, False, False,
                                                          True, True, True, True, False]


def test_wide_table_has_one_row_per_customer(sheet):
    table = attendance_table(sheet)
    assert table["customer_id"].tolist() == ["C02", "C01", "C03"]
    assert table.loc[0, "2026-03 下旬 mark"] == "×"
    assert table.loc[1, "2026-01 中旬 visits"] == 2
    assert table.loc[1, "2026-01 中旬 mean_spend"] == 250.0
    assert len([c for c in table.columns if c.endswith(" visits")]) == 9


def test_bad_arguments():
    orders = _orders([(1, "2026-03-01", 10.0)])
    with pytest.raises(ConfigError):
        attendance_sheet(orders, None, AS_OF, top_n=0)
    with pytest.raises(DataContractError, match="as-of"):
        attendance_sheet(orders, None, None)
    with pytest.raises(DataContractError, match="ordered_at"):
        attendance_sheet(orders.drop(columns="ordered_at"), None, AS_OF)

"""read_source / reconcile_customers / inspect_source: contracts, rejects, refunds, duplicates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from tierwise.config import IntakeConfig, SourceConfig
from tierwise.errors import DataContractError
from tierwise.io import IntakeResult, inspect_source, read_rejects, read_source, reconcile_customers

ORDERS = """订单号,会员卡号,消费时间,消费金额,状态,门店,备注
S1,001,2026-10-01 12:00:00,100,已支付,北京店,ok
S2,002,2026-10-02 12:00:00,"1,200.50",已支付,上海店,
S3,001,2026-10-03 12:00:00,-30,已支付,北京店,
S4,003,2026-10-04 12:00:00,50,已退款,北京店,
S2,004,2026-10-05 12:00:00,10,已支付,北京店,dup
S6,,2026-10-06 12:00:00,10,已支付,北京店,
S7,005,2026-10-07 12:00:00,"12,5",已支付,北京店,
S8,006,2026-11-30 12:00:00,10,已支付,北京店,future
S9,007,someday,10,,,
"""


def read(tmp_path, text, name="orders.csv", kind="orders", intake=None, as_of=None, **source):
    (tmp_path / name).write_text(text, encoding="utf-8")
    src = SourceConfig(path=Path(name), **source)
    return read_source(src, kind=kind, intake=intake or IntakeConfig(), timezone="Asia/Shanghai",
                       as_of=as_of, base_dir=tmp_path, rejects_dir=tmp_path / "rejects")


def test_orders_contract_refunds_and_rejects(tmp_path):
    res = read(tmp_path, ORDERS, as_of=dt.date(2026, 10, 31))
    rep = res.report
    assert (rep.rows_in, rep.accepted, rep.rejected) == (9, 4, 5)
    f = res.frame
    assert f["order_id"].tolist() == ["S1", "S2", "S3", "S4"]
    assert f["amount"].tolist() == [100.0, 1200.5, -30.0, -50.0]
    assert f["is_refund"].tolist() == [False, False, True, True]
    assert f["ordered_at"].tolist() == [dt.date(2026, 10, d) for d in (1, 2, 3, 4)]
    assert f["_source"].unique().tolist() == ["orders.csv"]
    assert f["_line"].tolist() == [2, 3, 4, 5]
    assert rep.rejects_file == tmp_path / "rejects" / "orders.orders.rejects.csv"
    assert any("ignored: '备注'" in w for w in rep.warnings)
    rej = read_rejects(rep.rejects_file)
    assert rep.rejects_file.read_bytes().startswith(b"\xef\xbb\xbf")
    assert list(rej.columns) == ["source", "line", "reason", "订单号", "会员卡号", "消费时间",
                                 "消费金额", "状态", "门店", "备注"]
    assert rej["line"].tolist() == ["6", "7", "8", "9", "10"]
    reasons = dict(zip(rej["line"], rej["reason"]))
    assert "duplicate order_id 'S2'" in reasons["6"] and "first on line 3" in reasons["6"]
    assert "'会员卡号' (customer_id) is empty" in reasons["7"]
    assert "'12,5' is not a number" in reasons["8"] and "set decimal = ','" in reasons["8"]
    assert "2026-11-30 is after as_of 2026-10-31" in reasons["9"]
    assert "'someday' is not a date" in reasons["10"]
    assert rej.loc[rej["line"] == "8", "消费金额"].item() == "12,5"  # original value kept
    assert json.loads(json.dumps(rep.to_dict()))["rejected"] == 5


def test_future_tolerance(tmp_path):
    res = read(tmp_path, ORDERS, as_of=dt.date(2026, 11, 28),
               intake=IntakeConfig(future_tolerance_days=2))
    assert 9 in res.frame["_line"].tolist()


def test_decimal_comma_setting(tmp_path):
    res = read(tmp_path, "customer_id;date;amount\nA;2026-10-01;12,5\nB;2026-10-01;1.234,5\n",
               intake=IntakeConfig(decimal=","))
    assert res.frame["amount"].tolist() == [12.5, 1234.5]


def test_refund_statuses_case_insensitive_and_configurable(tmp_path):
    text = "customer_id,date,amount,status\nA,2026-10-01,5,REFUNDED\nB,2026-10-01,5,void\n"
    res = read(tmp_path, text)
    assert res.frame["is_refund"].tolist() == [True, False]
    assert res.frame["amount"].tolist() == [-5.0, 5.0]
    res = read(tmp_path, text, intake=IntakeConfig(refund_statuses=["Void"]))
    assert res.frame["is_refund"].tolist() == [False, True]


def test_derived_order_ids_come_from_content_not_the_file_name(tmp_path):
    text = "customer_id,date,amount\nA,2026-10-01,5\n\nB,2026-10-02,6\nA,2026-10-01,5\n"
    first = read(tmp_path, text, name="pos.csv")
    renamed = read(tmp_path, text, name="pos-copy.csv")
    ids = first.frame["order_id"].tolist()
    assert renamed.frame["order_id"].tolist() == ids
    assert len(set(ids)) == 3  # two identical orders of a day differ by their position
    moved = read(tmp_path, "customer_id,date,amount\nB,2026-10-02,6\nA,2026-10-01,5\n",
                 name="other.csv")
    assert moved.frame["order_id"].tolist() == [ids[1], ids[0]]  # not tied to line numbers


def test_missing_order_id_values_are_derived(tmp_path):
    res = read(tmp_path, "order_id,customer_id,date,amount\nX,A,2026-10-01,5\n,B,2026-10-01,6\n")
    assert res.frame["order_id"].iloc[0] == "X"
    assert res.frame["order_id"].iloc[1].startswith("~")
    assert any("without an order id" in w for w in res.report.warnings)


def test_required_columns_missing_refuses_the_file(tmp_path):
    with pytest.raises(DataContractError) as err:
        read(tmp_path, "编号,时间\n1,2\n")
    msg = str(err.value)
    assert "customer_id, ordered_at, amount not found" in msg and "'编号', '时间'" in msg
    assert "[sources.orders.columns]" in msg
    assert not (tmp_path / "rejects").exists()


def test_explicit_columns_mapping(tmp_path):
    res = read(tmp_path, "卡,时,钱\nA,2026-10-01,5\n",
               columns={"customer_id": "卡", "ordered_at": "时", "amount": "钱"})
    assert res.report.columns == {"卡": "customer_id", "时": "ordered_at", "钱": "amount"}
    assert res.frame["amount"].tolist() == [5.0]


def test_ambiguous_dates_refuse_the_file(tmp_path):
    with pytest.raises(DataContractError, match="date_format"):
        read(tmp_path, "customer_id,date,amount\nA,03/04/2026,5\nB,05/06/2026,5\n")
    res = read(tmp_path, "customer_id,date,amount\nA,03/04/2026,5\n",
               intake=IntakeConfig(date_format="%m/%d/%Y"))
    assert res.frame["ordered_at"].tolist() == [dt.date(2026, 3, 4)]


def test_rejects_file_is_replaced_and_removed(tmp_path):
    bad = read(tmp_path, "customer_id,date,amount\nA,2026-10-01,x\nB,2026-10-01,1\n")
    path = bad.report.rejects_file
    assert len(read_rejects(path)) == 1
    good = read(tmp_path, "customer_id,date,amount\nB,2026-10-01,1\n")
    assert good.report.rejects_file is None and not path.exists()


def test_customers_extras_duplicates_and_dates(tmp_path):
    text = ("客户编号,客户名称,注册日期,行业,成长潜力,邮编,手机号\n"
            "C1,甲公司,2024-01-02,制造,4,010020,13800138000\n"
            "C2,乙公司,,零售,5,100000,\n"
            "C1,甲公司二,2024-01-03,制造,3,010020,\n"
            "C3,丙,2024-13-01,零售,,,\n")
    res = read(tmp_path, text, name="customers.csv", kind="customers")
    f = res.frame
    assert f["customer_id"].tolist() == ["C1", "C2"]
    assert f["joined_at"].tolist()[0] == dt.date(2024, 1, 2) and pd.isna(f["joined_at"][1])
    assert f["成长潜力"].dtype == "float64" and f["成长潜力"].tolist() == [4.0, 5.0]
    assert f["邮编"].tolist() == ["010020", "100000"]  # a code, kept as text
    assert f["industry"].tolist() == ["制造", "零售"]
    assert f["phone"].tolist()[0] == "13800138000"
    rej = read_rejects(res.report.rejects_file)
    assert res.report.rejects_file.name == "customers.customers.rejects.csv"
    assert "duplicate customer_id 'C1'" in rej["reason"][0]
    assert "first on line 2" in rej["reason"][0]
    assert "'2024-13-01' is not a date" in rej["reason"][1]


def orders_and_customers(tmp_path) -> tuple[pd.DataFrame, IntakeResult]:
    cust = read(tmp_path, "customer_id,name\nA,Ann\nB,Bob\n", name="customers.csv",
                kind="customers")
    orders = read(tmp_path, "customer_id,date,amount\nA,2026-10-01,5\nZ,2026-10-01,x\n"
                            "Z,2026-10-02,6\nY,2026-10-03,7\nZ,2026-10-04,8\n")
    return cust.frame, orders


def test_reconcile_creates_flagged_customers(tmp_path):
    customers, orders = orders_and_customers(tmp_path)
    merged, orders2 = reconcile_customers(customers, orders, policy="create",
                                          rejects_dir=tmp_path / "rejects")
    assert merged["customer_id"].tolist() == ["A", "B", "Z", "Y"]
    assert merged["created_from_orders"].tolist() == [False, False, True, True]
    assert merged.loc[2, "_line"] == 4 and merged.loc[2, "_source"] == "orders.csv"
    assert len(orders2.frame) == 4
    assert any("2 customer(s)" in w for w in orders2.report.warnings)
    alone, _ = reconcile_customers(None, orders, policy="create", rejects_dir=tmp_path)
    assert alone["customer_id"].tolist() == ["A", "Z", "Y"]


def test_reconcile_rejects_orders_and_appends_to_rejects(tmp_path):
    customers, orders = orders_and_customers(tmp_path)
    assert orders.report.rejected == 1
    merged, out = reconcile_customers(customers, orders, policy="reject",
                                      rejects_dir=tmp_path / "rejects")
    assert merged["created_from_orders"].tolist() == [False, False]
    assert out.frame["customer_id"].tolist() == ["A"]
    rep = out.report
    assert (rep.rows_in, rep.accepted, rep.rejected) == (5, 1, 4)
    rej = read_rejects(rep.rejects_file)
    assert len(rej) == rep.rejected
    assert sorted(rej["line"].astype(int)) == [3, 4, 5, 6]
    missing = rej[rej["reason"].str.contains("not in the customers source")]
    assert missing["customer_id"].tolist() == ["Z", "Y", "Z"]
    assert missing["amount"].tolist() == ["6", "7", "8"]  # the original text


def test_reconcile_reject_without_earlier_rejects_creates_the_file(tmp_path):
    orders = read(tmp_path, "customer_id,date,amount\nA,2026-10-01,5\nQ,2026-10-01,5\n")
    assert orders.report.rejects_file is None
    customers = pd.DataFrame({"customer_id": ["A"]})
    _, out = reconcile_customers(customers, orders, policy="reject",
                                 rejects_dir=tmp_path / "rejects")
    assert out.report.rejects_file.exists()
    assert out.report.rejects_file.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_rejects(out.report.rejects_file)["line"].tolist() == ["3"]


def test_inspect_source_lists_everything_and_writes_nothing(tmp_path):
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    src = SourceConfig(path=Path("orders.csv"))
    problems = inspect_source(src, kind="orders", intake=IntakeConfig(), timezone="Asia/Shanghai",
                              as_of=dt.date(2026, 10, 31), base_dir=tmp_path)
    assert not (tmp_path / "rejects").exists()
    text = "\n".join(problems)
    assert ("orders.csv: 1 row with an amount that is not a number "
            "(first: line 8 '12,5': set decimal = ',' in [intake])") in text
    assert "1 row with a duplicate order_id (first: line 6 'S2'" in text
    assert "1 row with an empty customer_id (first: line 7" in text
    assert "after as_of" in text and "not a date" in text


def test_inspect_source_reports_mapping_and_file_problems(tmp_path):
    (tmp_path / "o.csv").write_text("会员卡号,钱\nA,5\nB,x\n", encoding="utf-8")
    src = SourceConfig(path=Path("o.csv"), columns={"amount": "钱", "store": "门店"})
    problems = inspect_source(src, kind="orders", intake=IntakeConfig(), timezone="UTC",
                              as_of=None, base_dir=tmp_path)
    assert any("columns.store = '门店'" in p for p in problems)
    assert any("ordered_at not found" in p and "ordered_at = '<header>'" in p for p in problems)
    assert any("1 row with an amount that is not a number (first: line 3 'x'" in p
               for p in problems)
    missing = inspect_source(SourceConfig(path=Path("none.csv")), kind="orders",
                             intake=IntakeConfig(), timezone="UTC", as_of=None, base_dir=tmp_path)
    assert len(missing) == 1 and "file not found" in missing[0]
    (tmp_path / "amb.csv").write_text("customer_id,date,amount\nA,03/04/2026,1\n")
    amb = inspect_source(SourceConfig(path=Path("amb.csv")), kind="orders",
                         intake=IntakeConfig(), timezone="UTC", as_of=None, base_dir=tmp_path)
    assert any("date_format" in p for p in amb)

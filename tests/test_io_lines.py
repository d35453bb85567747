"""Order lines at the door and in the store: amounts, repeats, cancellations, content ids, items."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from tierwise.config import IntakeConfig, SourceConfig
from tierwise.errors import DataContractError
from tierwise.io import read_rejects, read_source
from tierwise.store import Store

LINES = """InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom
536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom
536366,22633,HAND WARMER,6,12/1/2010 8:28,1.85,,United Kingdom
536367,84879,BIRD ORNAMENT,32,12/13/2010 8:34,1.69,13047.0,United Kingdom
536367,22745,POPPY'S PLAYHOUSE,6,12/13/2010 8:34,2.10,99999.0,United Kingdom
C536379,71053,WHITE METAL LANTERN,-2,12/14/2010 9:41,3.39,17850.0,United Kingdom
C536380,D,Discount,-1,12/14/2010 9:45,27.50,14527.0,United Kingdom
"""


def read(tmp_path: Path, text: str, name: str = "lines.csv", intake: IntakeConfig | None = None,
         **columns: str):
    (tmp_path / name).write_text(text, encoding="utf-8")
    src = SourceConfig(path=Path(name), columns=columns)
    return read_source(src, kind="orders", intake=intake or IntakeConfig(),
                       timezone="Europe/London", as_of=None, base_dir=tmp_path,
                       rejects_dir=tmp_path / "rejects")


def test_lines_amounts_repeats_conflicts_and_cancellations(tmp_path):
    res = read(tmp_path, LINES)
    rep = res.report
    assert rep.columns["Quantity"] == "quantity" and rep.columns["StockCode"] == "product_id"
    assert rep.rows_in == 8 == rep.accepted + rep.rejected
    f = res.frame.set_index("_line")
    assert f.loc[2, "amount"] == pytest.approx(6 * 2.55)
    assert f.loc[[2, 3], "order_id"].tolist() == ["536365", "536365"]  # lines of one order
    assert f.loc[8, "is_refund"] and f.loc[8, "amount"] == pytest.approx(-2 * 3.39)
    assert f.loc[9, "is_refund"] and f.loc[9, "amount"] == -27.5
    assert not f.loc[2, "is_refund"]
    reasons = dict(zip(*(read_rejects(rep.rejects_file)[c] for c in ("line", "reason"))))
    assert set(reasons) == {"4", "5", "7"}
    assert "duplicate line" in reasons["4"] and "line 3" in reasons["4"]
    assert "customer_id) is empty" in reasons["5"]
    assert "is for customer '13047' (line 6)" in reasons["7"] and "'99999'" in reasons["7"]


def test_chinese_line_headers_and_a_line_amount(tmp_path):
    text = ("小票号,会员卡号,消费时间,商品编码,商品名称,品类,数量,单价,小计\n"
            "T1,001,2024-05-01,A1,拿铁,咖啡,2,18,36\n"
            "T1,001,2024-05-01,B7,可颂,烘焙,1,12,11\n")
    res = read(tmp_path, text)
    assert res.report.rejected == 0
    assert res.frame["amount"].tolist() == [36.0, 11.0]  # the line amount wins over q x p
    assert res.frame["category"].tolist() == ["咖啡", "烘焙"]
    assert res.frame["product_name"].tolist() == ["拿铁", "可颂"]


def test_amount_is_required_unless_it_can_be_computed(tmp_path):
    with pytest.raises(DataContractError, match="amount not found"):
        read(tmp_path, "customer_id,date,quantity\nA,2024-05-01,2\n")
    res = read(tmp_path, "customer_id,date,quantity,unit_price\nA,2024-05-01,2,x\n")
    assert res.report.rejected == 1
    assert "'x' is not a number" in read_rejects(res.report.rejects_file)["reason"][0]


def test_cancel_prefix_needs_a_digit_and_a_minority(tmp_path):
    text = "order_id,customer_id,date,quantity,unit_price\n{}\n"
    rows = ["CN1,A,2024-05-01,1,5", "C17,A,2024-05-02,1,5", "918,A,2024-05-01,1,5"]
    res = read(tmp_path, text.format("\n".join(rows)))
    assert res.frame["is_refund"].tolist() == [False, True, False]  # 'CN1' is not 'C' + digit
    numbered = ["C1,A,2024-05-01,1,5", "C2,A,2024-05-02,1,5", "918,A,2024-05-01,1,5"]
    res = read(tmp_path, text.format("\n".join(numbered)))
    assert not res.frame["is_refund"].any()
    assert any("not read as cancellations" in w for w in res.report.warnings)
    res = read(tmp_path, text.format("\n".join(rows)), intake=IntakeConfig(cancel_prefixes=[]))
    assert not res.frame["is_refund"].any()


def test_lines_without_order_ids_make_one_order_per_customer_and_day(tmp_path):
    text = ("customer_id,date,product_id,quantity,unit_price\n"
            "A,2024-05-01 10:00,p1,1,5\nA,2024-05-01 10:00,p2,2,3\nA,2024-05-02,p1,1,5\n"
            "B,2024-05-01,p1,1,5\n")
    first = read(tmp_path, text, name="a.csv")
    again = read(tmp_path, text, name="b.csv")
    ids = first.frame["order_id"].tolist()
    assert ids == again.frame["order_id"].tolist()
    assert ids[0] == ids[1] and len(set(ids)) == 3


def store_with(tmp_path: Path, *frames) -> Store:
    store = Store(tmp_path / "s.duckdb")
    for frame, source in frames:
        ids = sorted(set(frame["customer_id"]))
        store.upsert_customers(frame[["customer_id"]].drop_duplicates(), source="c") \
            if ids else None
        store.upsert_orders(frame, source=source)
    return store


def test_store_sums_lines_keeps_them_and_links_refunds(tmp_path):
    res = read(tmp_path, LINES)
    with store_with(tmp_path, (res.frame, "lines.csv")) as store:
        counts = store.link_refunds(["C"])
        orders = store.con.execute(
            "SELECT order_id, amount, is_refund, refund_of FROM orders ORDER BY order_id"
        ).df().set_index("order_id")
        assert orders.loc["536365", "amount"] == pytest.approx(6 * 2.55 + 6 * 3.39)
        assert orders.loc["C536379", "refund_of"] == "536365"  # same customer, same product
        assert pd.isna(orders.loc["C536380", "refund_of"])  # nothing to link to
        assert counts == {"linked_now": 1, "refunds": 2, "refunds_unlinked": 1}
        n_lines = store.con.execute("SELECT count(*) FROM order_lines").fetchall()[0][0]
        assert n_lines == res.report.accepted
        again = store.upsert_orders(res.frame, source="copy.csv")
        assert again["inserted"] == 0 and again["overlap"] == again["replaced"] == len(orders)
        assert store.con.execute("SELECT count(*) FROM order_lines").fetchall()[0][0] == n_lines


def test_refund_linked_by_its_id_without_the_prefix(tmp_path):
    text = ("order_id,customer_id,date,product_id,quantity,unit_price\n"
            "77,A,2024-05-01,p1,1,5\n78,A,2024-05-02,p9,1,5\nC77,A,2024-05-03,p1,-1,5\n"
            "C78,B,2024-05-03,p9,-1,5\n")
    res = read(tmp_path, text)
    with store_with(tmp_path, (res.frame, "x.csv")) as store:
        store.link_refunds(["C"])
        links = dict(store.con.execute(
            "SELECT order_id, refund_of FROM orders WHERE is_refund").fetchall())
    assert links == {"C77": "77", "C78": None}  # C78 is another customer's


def test_favourite_and_top_products(tmp_path):
    rows = ["order_id,customer_id,date,product_name,quantity,unit_price"]
    rows += [f"o{i},A,2024-05-{i + 1:02d},latte,1,18" for i in range(3)]
    rows += ["o9,A,2024-05-09,cake,1,30", "o9,A,2024-05-09,tea,1,9", "o8,A,2024-05-08,cookie,5,2",
             "C10,A,2024-05-10,cookie,-5,2", "b1,B,2024-05-01,tea,2,9"]
    res = read(tmp_path, "\n".join(rows) + "\n")
    with store_with(tmp_path, (res.frame, "x.csv")) as store:
        fav = store.favourite_products(dt.date(2024, 5, 31)).set_index("customer_key")
        keys = dict(store.con.execute("SELECT customer_id, customer_key FROM customers")
                    .fetchall())
        # latte: 3 orders; cake before tea (more spent); the cookies were all returned
        assert fav.loc[keys["A"], "favourite_products"] == "latte; cake; tea"
        assert fav.loc[keys["B"], "favourite_products"] == "tea"

        groups = pd.DataFrame({"customer_key": [keys["A"], keys["B"]], "tier": ["key", "major"]})
        top = store.top_products(dt.date(2024, 5, 31), groups, by=["tier", "segment"], top=2)
    key = top[top["group"] == "key"]
    assert key["product"].tolist() == ["latte", "cake"]
    assert key["revenue"].tolist() == [54.0, 30.0] and key["orders"].tolist() == [3, 1]
    assert set(top["grouping"]) == {"tier"}

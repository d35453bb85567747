"""Orders read in batches (bounded memory) accept, reject and explain what reading whole does.

Each test reads the same file whole (:func:`read_source`) and in small batches
(:func:`read_source_batches`, a few rows each) and compares the accepted rows, the counts and
the rejects file (lines and reasons); checks that look across rows (duplicate order ids, the
day/month order of a date column) must see across batches. The ingest test runs the real
pipeline into a real DuckDB store.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tierwise.config import IntakeConfig, SourceConfig, load_config
from tierwise.errors import DataContractError
from tierwise.io import read_rejects, read_source, read_source_batches
from tierwise.pipeline import ingest

#: Chinese headers, a duplicate id across batches (S2 on lines 3 and 12), an id repeated within
#: a later batch and an earlier one (S5: lines 6, 13, 14), a blank line, a row with too many
#: fields, an amount that is not a number, an empty customer, a date after as_of.
ORDERS = """订单号,会员卡号,消费时间,消费金额,状态
S1,001,2026-10-01 12:00:00,100,已支付
S2,002,2026-10-02 12:00:00,"1,200.50",已支付
S3,001,2026-10-03 12:00:00,-30,已支付
S4,003,2026-10-04 12:00:00,50,已退款
S5,004,2026-10-05,10,已支付

S6,,2026-10-06 12:00:00,10,已支付
S7,005,2026-10-07 12:00:00,"12,5",已支付
S8,006,2026-11-30 12:00:00,10,已支付
S9,007,2026-10-09,10,已支付,extra
S2,008,2026-10-10,10,已支付
S5,009,2026-10-11,10,已支付
S5,009,2026-10-12,10,已支付
S10,010,2026-10-13,20,已支付
S11,011,2026-10-14,20,已支付
"""
AS_OF = dt.date(2026, 10, 31)


def _read_both(tmp_path: Path, name: str, batch_rows: int, **source):
    src = SourceConfig(path=Path(name), **source)
    kw = dict(kind="orders", intake=IntakeConfig(), timezone="Asia/Shanghai", as_of=AS_OF,
              base_dir=tmp_path)
    whole = read_source(src, rejects_dir=tmp_path / "whole", **kw)
    parts = list(read_source_batches(src, rejects_dir=tmp_path / "parts", batch_rows=batch_rows,
                                     **kw))
    return whole, parts


def _same(whole, parts) -> None:
    frame = pd.concat([p.frame for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(frame, whole.frame)
    counts = [sum(getattr(p.report, k) for p in parts) for k in ("rows_in", "accepted",
                                                                  "rejected")]
    assert counts == [whole.report.rows_in, whole.report.accepted, whole.report.rejected]
    assert whole.report.rows_in == whole.report.accepted + whole.report.rejected
    if whole.report.rejects_file is None:
        assert parts[-1].report.rejects_file is None
        return
    pd.testing.assert_frame_equal(read_rejects(parts[-1].report.rejects_file),
                                  read_rejects(whole.report.rejects_file))


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
@pytest.mark.parametrize("batch_rows", [2, 3, 5])
def test_csv_in_batches_rejects_what_the_whole_file_rejects(tmp_path, encoding, batch_rows):
    (tmp_path / "orders.csv").write_bytes(ORDERS.replace("\n", "\r\n").encode(encoding))
    whole, parts = _read_both(tmp_path, "orders.csv", batch_rows)
    assert len(parts) > 2
    _same(whole, parts)
    assert whole.report.encoding == parts[0].report.encoding
    rej = read_rejects(parts[-1].report.rejects_file)
    reasons = dict(zip(rej["line"], rej["reason"]))
    assert "duplicate order_id 'S2'" in reasons["12"] and "first on line 3" in reasons["12"]
    assert "first on line 6" in reasons["13"] and "first on line 6" in reasons["14"]
    assert "has 6 fields but the header has 5" in reasons["11"]
    assert "'12,5' is not a number" in reasons["9"]
    assert set(reasons) == {"8", "9", "10", "11", "12", "13", "14"}


def test_csv_with_quoted_line_breaks_is_read_in_one_piece(tmp_path):
    text = ORDERS.replace('S3,001,2026-10-03 12:00:00,-30,已支付',
                          'S3,001,2026-10-03 12:00:00,-30,"已\n支付"')
    (tmp_path / "orders.csv").write_text(text, encoding="utf-8")
    whole, parts = _read_both(tmp_path, "orders.csv", 2)
    assert len(parts) == 1
    _same(whole, parts)


def test_parquet_in_batches_rejects_what_the_whole_file_rejects(tmp_path):
    ids = [f"o{i}" for i in range(40)] + ["o3", "o39", "o39"]
    table = pa.table({
        "order_id": ids,
        "customer_id": [f"c{i % 7}" for i in range(len(ids))],
        "ordered_at": pa.array([dt.date(2026, 1, 1) + dt.timedelta(days=i % 200)
                                for i in range(len(ids))], pa.date32()),
        "amount": [float(i) if i % 11 else None for i in range(len(ids))],
    })
    pq.write_table(table, tmp_path / "orders.parquet")
    whole, parts = _read_both(tmp_path, "orders.parquet", 8)
    assert len(parts) == 6
    _same(whole, parts)
    assert whole.report.rejected == 3 + 4  # the three repeats, the four empty amounts
    rej = read_rejects(parts[-1].report.rejects_file)
    assert rej.loc[rej["line"] == "41", "reason"].item().startswith("duplicate order_id 'o3'")
    assert "first on line 4" in rej.loc[rej["line"] == "41", "reason"].item()


DMY = "order_id,customer_id,ordered_at,amount\n"


def test_day_month_order_settled_by_an_earlier_batch_holds_for_the_later_ones(tmp_path):
    rows = ["a,c1,25/03/2026,1", "b,c1,01/02/2026,1", "c,c2,03/04/2026,1", "d,c2,05/06/2026,1"]
    (tmp_path / "orders.csv").write_text(DMY + "\n".join(rows) + "\n", encoding="utf-8")
    whole, parts = _read_both(tmp_path, "orders.csv", 1)
    assert len(parts) == 4
    _same(whole, parts)
    assert whole.frame["ordered_at"].tolist()[-1] == dt.date(2026, 6, 5)


def test_day_month_order_contradicted_by_a_later_batch_stops_the_read(tmp_path):
    rows = ["a,c1,25/03/2026,1", "b,c1,01/02/2026,1", "c,c2,03/25/2026,1"]
    (tmp_path / "orders.csv").write_text(DMY + "\n".join(rows) + "\n", encoding="utf-8")
    src = SourceConfig(path=Path("orders.csv"))
    kw = dict(kind="orders", intake=IntakeConfig(), timezone="Asia/Shanghai", as_of=None,
              base_dir=tmp_path, rejects_dir=tmp_path / "r")
    with pytest.raises(DataContractError, match="mix day/month"):
        read_source(src, **kw)
    with pytest.raises(DataContractError, match=r"mix day/month \(earlier rows\).*line 4"):
        list(read_source_batches(src, batch_rows=1, **kw))


def test_order_lines_are_read_whole(tmp_path):
    text = ("InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
            "1,A,2,2026-01-01,3.0,c1\n1,B,1,2026-01-01,5.0,c1\n2,A,1,2026-01-02,3.0,c2\n"
            "2,A,1,2026-01-02,3.0,c3\n3,C,4,2026-01-03,1.0,c2\n")
    (tmp_path / "lines.csv").write_text(text, encoding="utf-8")
    whole, parts = _read_both(tmp_path, "lines.csv", 1)
    assert len(parts) == 1
    _same(whole, parts)


CONFIG = """[sources.orders]
path = "orders.csv"
[store]
path = "store.duckdb"
"""


def _stored(path: Path) -> pd.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT o.order_id, c.customer_id, o.ordered_at, o.amount, "
                           "o.is_refund FROM orders o JOIN customers c USING (customer_key) "
                           "ORDER BY o.order_id").df()
    finally:
        con.close()


def test_ingest_in_batches_stores_what_ingest_whole_stores(tmp_path):
    for name in ("whole", "parts"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "tierwise.toml").write_text(CONFIG, encoding="utf-8")
        (tmp_path / name / "orders.csv").write_text(ORDERS, encoding="utf-8")
    whole = ingest(load_config(tmp_path / "whole" / "tierwise.toml"), today=AS_OF)
    parts = ingest(load_config(tmp_path / "parts" / "tierwise.toml"), today=AS_OF, batch_rows=3)
    pd.testing.assert_frame_equal(_stored(tmp_path / "parts" / "store.duckdb"),
                                  _stored(tmp_path / "whole" / "store.duckdb"))
    one, many = whole.to_dicts()[0], parts.to_dicts()[0]
    for key in ("rows_in", "accepted", "rejected", "inserted", "replaced", "customers_created",
                "refunds"):
        assert one[key] == many[key], key
    assert whole.totals == parts.totals
    created = [w for w in many["warnings"] if "created from orders" in w]
    assert created == [w for w in one["warnings"] if "created from orders" in w]
    assert len(created) == 1 and f" {one['customers_created']} customer(s)" in created[0]


def test_ingest_failing_in_a_later_batch_leaves_the_store_as_it_was(tmp_path):
    (tmp_path / "tierwise.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "orders.csv").write_text(ORDERS, encoding="utf-8")
    cfg = load_config(tmp_path / "tierwise.toml")
    ingest(cfg, today=AS_OF)
    before = _stored(tmp_path / "store.duckdb")
    rows = ["x1,c1,25/03/2026,1", "x2,c1,01/02/2026,1", "x3,c2,03/25/2026,1"]
    (tmp_path / "orders.csv").write_text(DMY + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(DataContractError, match="mix day/month"):
        ingest(cfg, today=AS_OF, batch_rows=1)
    pd.testing.assert_frame_equal(_stored(tmp_path / "store.duckdb"), before)

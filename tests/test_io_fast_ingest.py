"""The batched ingest's fast path stores and rejects what the whole-input path does.

The pipeline finds an orders batch's unknown customers with an anti join in the store
(:meth:`Store.unknown_customers`) and hands batches to DuckDB without registering them
(:func:`query_over`); the reference here is the path that reads the input whole and reconciles
it against a frame of every known customer id (:func:`reconcile_customers` without
``missing``), then upserts customers and orders: the stores (customers with their keys,
orders), the counts and the rejects files (lines and reasons) must be the same, on real-looking
files with accidents, UTF-8 and GBK, with customers known from the store and from a customers
source. The CSV cuts found with numpy are checked against one ``find`` per line.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from tierwise.config import load_config
from tierwise.io import read_rejects, read_source, reconcile_customers
from tierwise.io.readers import _record_cuts
from tierwise.pipeline import ingest
from tierwise.store import Store
from tierwise.store.lines import query_over

AS_OF = dt.date(2026, 10, 31)

#: Chinese headers; customers 001/002 are stored by an earlier ingest, 003/004 come in the
#: customers source, the rest only in the orders. Accidents: a date that does not exist, an
#: unreadable date, an empty customer, a negative amount (a refund), a refund status, an
#: amount that is not a number, a row with too many fields, a blank line, a duplicate id
#: within a batch and across batches, a date after as_of, a date before earliest_date.
ORDERS = """订单号,会员卡号,消费时间,消费金额,状态
A1,001,2026-10-01 12:00:00,100,已支付
A2,005,2026-10-02,"1,200.50",已支付
A3,003,2026-02-30,30,已支付
A4,006,2026-10-04,-40,已支付
A5,,2026-10-05,10,已支付
A6,007,不是日期,10,已支付
A7,005,2026-10-07,50,已退款

A8,004,2026-10-08,"12,5",已支付
A9,008,2026-10-09,10,已支付,多余
A2,009,2026-10-10,10,已支付
A10,010,2026-11-30,20,已支付
A11,002,1899-01-01,20,已支付
A12,011,2026-10-12,20,已支付
A12,011,2026-10-12,20,已支付
A13,012,2026-10-13,15,已支付
A14,006,2026-10-14,25,已支付
A15,013,2026-10-15,5,已支付
"""
EARLIER = "订单号,会员卡号,消费时间,消费金额\nE1,001,2026-09-01,10\nE2,002,2026-09-02,20\n"
CUSTOMERS = "会员卡号,姓名,城市,joined_at,vip\n003,张三,上海,2025-01-02,gold\n004,李四,北京,,silver\n"


def _config(folder: Path, *, customers: bool, policy: str) -> Path:
    text = ('name = "t"\n[sources.orders]\npath = "orders.csv"\n'
            + ('[sources.customers]\npath = "customers.csv"\n' if customers else "")
            + f'[store]\npath = "store.duckdb"\n[intake]\non_missing_customer = "{policy}"\n')
    (folder / "tierwise.toml").write_text(text, encoding="utf-8")
    return folder / "tierwise.toml"


def _setup(folder: Path, encoding: str, *, customers: bool, policy: str):
    folder.mkdir()
    (folder / "orders.csv").write_bytes(EARLIER.encode(encoding))
    cfg = load_config(_config(folder, customers=False, policy="create"))
    ingest(cfg, today=AS_OF)  # customers 001 and 002 are in the store
    (folder / "orders.csv").write_bytes(ORDERS.replace("\n", "\r\n").encode(encoding))
    (folder / "customers.csv").write_bytes(CUSTOMERS.encode(encoding))
    return load_config(_config(folder, customers=customers, policy=policy))


def _reference_ingest(cfg) -> dict:
    """Orders read whole and reconciled against a frame of every known customer id."""
    kw = dict(intake=cfg.intake, timezone=cfg.timezone, as_of=cfg.as_of, base_dir=cfg.base_dir,
              rejects_dir=cfg.rejects_dir, today=AS_OF)
    customers = (read_source(cfg.sources.customers, kind="customers", **kw)
                 if cfg.sources.customers is not None else None)
    orders = read_source(cfg.sources.orders, kind="orders", **kw)
    with Store(cfg.store_path) as store, store.transaction():
        if customers is not None:
            store.upsert_customers(customers.frame, source=customers.report.source)
        known = store.customer_frame()[["customer_id"]]
        created, orders = reconcile_customers(known, orders,
                                              policy=cfg.intake.on_missing_customer,
                                              rejects_dir=cfg.rejects_dir)
        new = created[created["created_from_orders"].fillna(False).astype(bool)]
        if len(new):
            store.upsert_customers(new, source=orders.report.source)
        counts = store.upsert_orders(orders.frame, source=orders.report.source)
    report = orders.report
    return {"rows_in": report.rows_in, "accepted": report.accepted, "rejected": report.rejected,
            "inserted": counts["inserted"], "customers_created": len(new),
            "rejects_file": report.rejects_file}


def _tables(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        customers = con.execute(
            "SELECT customer_key, customer_id, name, city, joined_at, attributes, "
            "created_from_orders, source FROM customers ORDER BY customer_key").df()
        orders = con.execute(
            "SELECT o.order_id, o.customer_key, o.ordered_at, o.amount, o.is_refund, o.status, "
            "o.source FROM orders o ORDER BY o.order_id").df()
    finally:
        con.close()
    return customers, orders


def _rejects(path: Path | None) -> pd.DataFrame:
    if path is None:
        return pd.DataFrame()
    frame = read_rejects(Path(path))
    frame["line"] = frame["line"].astype(int)
    return frame.sort_values(["line", "reason"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
@pytest.mark.parametrize(("customers", "policy"),
                         [(True, "create"), (False, "create"), (True, "reject")])
def test_batched_ingest_stores_and_rejects_what_the_whole_path_does(tmp_path, encoding,
                                                                    customers, policy):
    fast = _setup(tmp_path / "fast", encoding, customers=customers, policy=policy)
    ref = _setup(tmp_path / "ref", encoding, customers=customers, policy=policy)
    got = ingest(fast, today=AS_OF, batch_rows=4).to_dicts()[-1]
    want = _reference_ingest(ref)
    assert got["source"] == "orders.csv" and got["rows_in"] == 17
    for key in ("rows_in", "accepted", "rejected", "inserted", "customers_created"):
        assert got[key] == want[key], key
    assert got["rows_in"] == got["accepted"] + got["rejected"]
    fast_customers, fast_orders = _tables(fast.store_path)
    ref_customers, ref_orders = _tables(ref.store_path)
    pd.testing.assert_frame_equal(fast_customers, ref_customers)
    pd.testing.assert_frame_equal(fast_orders, ref_orders)
    rejects = _rejects(got["rejects_file"])
    pd.testing.assert_frame_equal(rejects, _rejects(want["rejects_file"]))
    assert len(rejects) == got["rejected"]
    reasons = dict(zip(rejects["line"], rejects["reason"]))
    assert "first on line 3" in reasons[12]  # A2 again, a batch later
    assert "first on line 15" in reasons[16]  # A12 twice in one batch
    assert "February 2026 has 28 days" in reasons[4]
    if policy == "reject":
        assert "'005' is not in the customers source" in reasons[3]
    else:
        # 001 and 002 were created from the orders of the earlier ingest
        assert fast_customers["created_from_orders"].sum() == got["customers_created"] + 2 > 2


def test_unknown_customers_is_a_join_in_the_store(tmp_path):
    with Store(tmp_path / "s.duckdb") as store, store.transaction():
        store.upsert_customers(pd.DataFrame({"customer_id": ["a", "b"]}), source="x")
        ids = pd.Series(["b", "c", "a", "c", "d"], dtype="str")
        assert store.unknown_customers(ids).tolist() == [False, True, False, True, True]
        assert store.unknown_customers(ids.iloc[:0]).tolist() == []


def test_batches_read_inside_the_transaction_are_not_kept_until_the_commit(tmp_path):
    """``register`` + ``unregister`` in a transaction kept every batch to the commit."""
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    con.execute("CREATE TABLE t (x VARCHAR)")
    con.execute("BEGIN")
    before = pa.total_allocated_bytes()
    for _ in range(3):
        batch = pa.table({"x": pa.array([f"value {j}" for j in range(200_000)])})
        query_over(con, "batch", batch, "INSERT INTO t SELECT x FROM batch LIMIT 1")
        del batch
    assert pa.total_allocated_bytes() - before < 1_000_000
    con.execute("COMMIT")
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(3,)]
    con.close()


def _cuts_line_by_line(data: bytes, batch_rows: int) -> list[int]:
    """The header's end, then the start of a record every ``batch_rows`` lines."""
    cuts, pos = [], data.find(b"\n")
    while pos >= 0 and pos + 1 < len(data):
        cuts.append(pos + 1)
        for _ in range(batch_rows):
            pos = data.find(b"\n", pos + 1)
            if pos < 0:
                break
    return cuts


def test_csv_cuts_found_with_numpy_are_those_of_one_find_per_line():
    rng = random.Random(7)
    for _ in range(400):
        lines = ["h1,h2"] + [f"{'x' * rng.randint(0, 9)},{rng.randint(0, 99)}"
                             for _ in range(rng.randint(0, 40))]
        data = ("\n".join(lines) + ("\n" if rng.random() < 0.5 else "")).encode()
        batch_rows = rng.randint(1, 6)
        want = _cuts_line_by_line(data, batch_rows)
        if data.count(b"\n") <= batch_rows + 1 or len(want) < 2:
            assert _record_cuts(data, ",", batch_rows) is None
        else:
            assert _record_cuts(data, ",", batch_rows) == want

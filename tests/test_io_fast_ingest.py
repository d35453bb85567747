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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# ------------------------------------------------------------------ a CSV read a block at a time

#: Over the reader's head (``_HEAD_BYTES``), so the file is streamed: its encoding is told from
#: the first MB and checked over the rest, then it is decoded a block at a time.
BIG_ROWS = 40_000
BLOCK = 4099  # odd: blocks end inside GBK / UTF-8 characters and inside lines


def _big_text(rows: int = BIG_ROWS, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    lines = ["订单号,会员卡号,消费时间,消费金额,状态"]
    for i in range(rows):
        lines.append(f"B{i},{rng.randint(1, 999):03d},2026-10-{rng.randint(1, 28):02d},"
                     f"{rng.randint(1, 500)},{rng.choice(['已支付', '已退款', 'paid', '支付'])}")
    return lines


BIG = _big_text()


def _outcome(parts):
    """Batches as comparable values, or the error's text."""
    from tierwise.errors import DataContractError

    try:
        tables = list(parts)
    except DataContractError as exc:
        return ("error", str(exc))
    return [(t.headers, t.frame, t.lines.tolist(), t.bad, t.encoding, t.warnings)
            for t in tables]


def _same(got, want) -> None:
    if want and want[0] == "error":
        assert got == want
        return
    assert got and got[0] != "error", got
    assert len(got) == len(want)
    for (h1, f1, l1, b1, e1, w1), (h2, f2, l2, b2, e2, w2) in zip(got, want):
        assert (h1, l1, e1, w1) == (h2, l2, e2, w2)
        pd.testing.assert_frame_equal(f1, f2)
        if b1 is None or b2 is None:
            assert b1 is None and b2 is None
        else:
            pd.testing.assert_frame_equal(b1, b2)


def _streamed_vs_whole(path: Path, *, encoding: str = "auto", batch_rows: int = 7_000,
                       block: int = BLOCK, delimiter: str | None = None) -> tuple[bool, object]:
    """Whether the file was streamed; its batches (or error) streamed and read whole compared,
    and the lines and rejects of all batches compared with one :func:`read_file`."""
    from tierwise.errors import DataContractError
    from tierwise.io.readers import _csv_batches, _csv_batches_whole, _csv_stream, _Whole, read_file

    kw = dict(label="orders.csv", encoding=encoding, delimiter=delimiter, section="sources.orders",
              batch_rows=batch_rows)
    try:
        streamed = _csv_stream(path, encoding=encoding, delimiter=delimiter,
                               batch_rows=batch_rows, block_bytes=block) is not None
    except _Whole:
        streamed = False
    got = _outcome(_csv_batches(path, **kw, block_bytes=block))
    want = _outcome(_csv_batches_whole(path, **kw))
    _same(got, want)
    if got[0] != "error":
        try:
            one = read_file(path, label="orders.csv", encoding=encoding, delimiter=delimiter,
                            section="sources.orders")
        except DataContractError as exc:  # pragma: no cover - read whole, same decoding
            raise AssertionError(exc) from None
        assert sum((g[2] for g in got), []) == one.lines.tolist()
        bad = [g[3] for g in got if g[3] is not None and len(g[3])]
        if one.bad is None or not len(one.bad):
            assert not bad
        else:
            pd.testing.assert_frame_equal(pd.concat(bad, ignore_index=True), one.bad)
        assert got[0][5] == one.warnings
    return streamed, got


def _head_plan(path: Path):
    from tierwise.io.encoding import stream_plan
    from tierwise.io.readers import _HEAD_BYTES

    return stream_plan(path.read_bytes()[:_HEAD_BYTES + 1], "auto")


def _write(path: Path, lines: list[str], encoding: str, *, eol: str = "\r\n",
           last_eol: bool = True) -> Path:
    path.write_bytes((eol.join(lines) + (eol if last_eol else "")).encode(encoding))
    return path


@pytest.mark.parametrize(("encoding", "given", "name"), [
    ("utf-8", "auto", "utf-8"), ("gbk", "auto", "gb18030"), ("utf-8-sig", "auto", "utf-8-sig"),
    ("utf-16", "auto", "utf-16"), ("gbk", "gbk", "gbk"), ("utf-8-sig", "utf-8", "utf-8"),
    ("gb18030", "gb18030", "gb18030")])
def test_a_clean_csv_is_streamed_and_read_as_whole(tmp_path, encoding, given, name):
    lines = list(BIG)
    lines[30_000] += ",多余"  # too many fields, late: the rejects name its line
    lines[35_001] = 'B35000,"0,1",2026-10-01,"1,5",已支付'  # quoted delimiters within a line
    path = _write(tmp_path / "orders.csv", lines, encoding)
    streamed, got = _streamed_vs_whole(path, encoding=given)
    assert streamed
    assert len(got) == 6 and got[0][4] == name
    bad = pd.concat([g[3] for g in got if g[3] is not None])
    assert bad["_line"].tolist() == [30_001]
    assert sum(len(g[1]) for g in got) + len(bad) == BIG_ROWS  # rows in = accepted + rejected


@pytest.mark.parametrize("block", [5, 7, 4097, 1 << 16, 1 << 24])
@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "utf-16"])
def test_any_block_size_reads_the_same(tmp_path, block, encoding):
    """Blocks of a few bytes split GBK / UTF-8 / UTF-16 characters between two reads."""
    rows = 6_000
    lines = _big_text(rows, seed=9)
    pad = "备注" * 40  # long enough that 6,000 lines pass the head of 1 MB
    lines = [lines[0] + ",备注"] + [f"{ln},{pad}" for ln in lines[1:]]
    path = _write(tmp_path / "orders.csv", lines, encoding, last_eol=False)
    streamed, got = _streamed_vs_whole(path, encoding="auto", batch_rows=1_000, block=block)
    assert streamed and len(got) == rows // 1_000


@pytest.mark.parametrize("rows", [40_000 + 1, 40_000, 39_999])
def test_a_file_ending_at_a_cut_has_no_empty_batch(tmp_path, rows):
    lines = _big_text(rows, seed=2)
    path = _write(tmp_path / "orders.csv", lines, "gbk", eol="\n")
    streamed, got = _streamed_vs_whole(path, batch_rows=8_000)
    assert streamed and len(got) == 5 + (rows > 40_000)
    assert all(len(g[1]) for g in got)


def test_a_bad_byte_late_in_an_explicit_encoding_names_its_line(tmp_path):
    data = bytearray(("\r\n".join(BIG) + "\r\n").encode("gbk"))
    line = 38_123
    at = data.index(f"\r\nB{line - 2},".encode()) + 2
    data[at:at] = b"\x80"  # not a GBK byte
    path = tmp_path / "orders.csv"
    path.write_bytes(bytes(data))
    assert _head_plan(path) == ("gb18030", "gb18030", 0)
    streamed, got = _streamed_vs_whole(path, encoding="gbk")
    assert not streamed
    assert got[0] == "error" and f"line {line} is not valid gbk" in got[1]


def test_a_bad_byte_late_in_a_detected_encoding_is_judged_over_the_whole_file(tmp_path):
    data = bytearray(("\r\n".join(BIG) + "\r\n").encode("gbk"))
    line = 39_000
    at = data.index(f"\r\nB{line - 2},".encode()) + 2
    data[at:at] = b"\xff"  # neither GBK nor UTF-8
    path = tmp_path / "orders.csv"
    path.write_bytes(bytes(data))
    assert _head_plan(path) == ("gb18030", "gb18030", 0)
    streamed, got = _streamed_vs_whole(path)
    assert not streamed
    assert got[0] == "error" and "GBK/GB18030 (Chinese)" in got[1] and str(line) in got[1]


def test_gbk_lines_pasted_late_into_a_utf8_file_are_decoded_line_by_line(tmp_path):
    head = "\r\n".join(BIG[:36_000]).encode("utf-8")
    tail = "\r\n".join(BIG[36_000:]).encode("gbk")
    path = tmp_path / "orders.csv"
    path.write_bytes(head + b"\r\n" + tail + b"\r\n")
    assert _head_plan(path) == ("utf-8", "utf-8", 0)  # the first MB is UTF-8
    streamed, got = _streamed_vs_whole(path)
    assert not streamed
    assert got[0][4] == "utf-8+gb18030" and "mixed encodings" in got[0][5][0]
    assert got[-1][1].iloc[-1].tolist()[0] == f"B{BIG_ROWS - 1}"
    assert "已" in "".join(got[-1][1]["c4"])  # the GBK lines read as Chinese


def test_utf8_lines_pasted_into_the_head_of_a_gbk_file_are_decoded_line_by_line(tmp_path):
    head = "\r\n".join(BIG[:20]).encode("utf-8")
    tail = "\r\n".join(BIG[20:]).encode("gbk")
    path = tmp_path / "orders.csv"
    path.write_bytes(head + b"\r\n" + tail + b"\r\n")
    streamed, got = _streamed_vs_whole(path)
    assert not streamed and got[0][4] == "utf-8+gb18030"


@pytest.mark.parametrize(("accident", "streams"), [
    ('B1,001,2026-10-01,1,"两行\r\n的备注"', False),  # a quoted field spanning lines
    ('B1,001,2026-10-01,1,"stray', False),  # a quote that never closes
    ("B1,001,2026-10-01,1,old mac\rB2,002,2026-10-02,2,x", False),  # a lone \r
    ("", True),  # a blank line
    ('B1,001,2026-10-01,1,"say ""hi"""', True),  # doubled quotes within a line
])
def test_accidents_late_in_the_file(tmp_path, accident, streams):
    lines = list(BIG)
    lines[33_333] = accident
    path = _write(tmp_path / "orders.csv", lines, "gbk")
    streamed, got = _streamed_vs_whole(path)
    assert streamed == streams


def test_a_blank_first_line_is_read_whole(tmp_path):
    path = _write(tmp_path / "orders.csv", ["", *BIG], "utf-8")
    assert _streamed_vs_whole(path)[0] is False


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.integers(1, BIG_ROWS), st.sampled_from(
           ["extra", "fewer", "blank", "gbk-in-utf8", "bad-byte", "quote", "newline-in-quote",
            "utf8-in-gbk"])), max_size=3),
       st.sampled_from(["utf-8", "gbk"]), st.integers(1_000, 20_000),
       st.sampled_from([997, 4099, 1 << 16, 1 << 20]))
def test_streamed_batches_are_those_of_the_whole_file(tmp_path_factory, accidents, encoding,
                                                      batch_rows, block):
    """Whatever happens where in the file: the same batches, lines, rejects and warnings, or
    the same error, as reading it whole."""
    lines = [ln.encode(encoding) for ln in BIG]
    for at, what in accidents:
        text = BIG[at]
        lines[at] = {"extra": (text + ",x").encode(encoding),
                     "fewer": text.rsplit(",", 1)[0].encode(encoding),
                     "blank": b"",
                     "gbk-in-utf8": text.encode("gbk"),
                     "utf8-in-gbk": text.encode("utf-8"),
                     "bad-byte": text.encode(encoding) + b"\xff",
                     "quote": text.replace(",", ',"a,b",', 1).encode(encoding),
                     "newline-in-quote": text.replace(",", ',"a\nb",', 1).encode(encoding),
                     }[what]
    path = tmp_path_factory.mktemp("csv") / "orders.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    _streamed_vs_whole(path, batch_rows=batch_rows, block=block)


FILLER = 40_000


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_streamed_ingest_stores_and_rejects_what_the_whole_path_does(tmp_path, encoding):
    """The accidents of ``ORDERS`` late in a file that is streamed, through ``pipeline.ingest``."""
    from tierwise.io.readers import _csv_stream

    body = ORDERS.split("\n")
    filler = [f"F{i},{i % 977:03d},2026-09-{i % 28 + 1:02d},{i % 300 + 1},已支付"
              for i in range(FILLER)]
    lines = [body[0], *filler, *body[1:-1]]
    fast = _setup(tmp_path / "fast", encoding, customers=True, policy="create")
    ref = _setup(tmp_path / "ref", encoding, customers=True, policy="create")
    for cfg in (fast, ref):
        _write(cfg.base_dir / "orders.csv", lines, encoding)
    assert _csv_stream(fast.base_dir / "orders.csv", encoding="auto", delimiter=None,
                       batch_rows=4_000, block_bytes=1 << 24) is not None
    got = ingest(fast, today=AS_OF, batch_rows=4_000).to_dicts()[-1]
    want = _reference_ingest(ref)
    assert got["rows_in"] == FILLER + 17
    for key in ("rows_in", "accepted", "rejected", "inserted", "customers_created"):
        assert got[key] == want[key], key
    assert got["rows_in"] == got["accepted"] + got["rejected"]
    for a, b in zip(_tables(fast.store_path), _tables(ref.store_path)):
        pd.testing.assert_frame_equal(a, b)
    rejects = _rejects(got["rejects_file"])
    pd.testing.assert_frame_equal(rejects, _rejects(want["rejects_file"]))
    reasons = dict(zip(rejects["line"], rejects["reason"]))
    assert "February 2026 has 28 days" in reasons[FILLER + 4]
    assert f"first on line {FILLER + 3}" in reasons[FILLER + 12]

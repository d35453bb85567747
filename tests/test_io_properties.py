"""Property tests: whatever the input, intake either refuses it with a DataContractError or
accounts for every row (rows_in == accepted + rejected, and the rejects file has exactly the
rejected rows). No other exception may escape."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwise.config import IntakeConfig, SourceConfig
from tierwise.errors import DataContractError
from tierwise.io import read_source

# More examples for a bug hunt: TIERWISE_IO_EXAMPLES=2000 pytest tests/test_io_properties.py
EXAMPLES = int(os.environ.get("TIERWISE_IO_EXAMPLES", "60"))
HEADERS = [b"customer_id,date,amount\n", "会员卡号,消费时间,消费金额,订单号,状态\n".encode(),
           "会员卡号;消费时间;消费金额\r\n".encode("gbk"), b'"customer_id","date","amount"\n']
CELL = st.one_of(
    st.text(alphabet=st.sampled_from(
        list('0123456789-./:, ;"\n\r\t年月日¥元()AZaz会员 \u00a0\ufeff\x00')), max_size=12),
    st.sampled_from(["2026-10-03", "12.5", "A1", "2026/10/3 10:00", "03/04/2026", "(5)"]),
    st.text(max_size=6))


def check(data: bytes, *, kind: str = "orders", intake: IntakeConfig | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "in.csv").write_bytes(data)
        try:
            res = read_source(SourceConfig(path=Path("in.csv")), kind=kind,
                              intake=intake or IntakeConfig(), timezone="Asia/Shanghai",
                              as_of=dt.date(2026, 12, 31), base_dir=base,
                              rejects_dir=base / "rejects")
        except DataContractError as exc:
            assert str(exc).strip()
            return
        rep = res.report
        assert rep.rows_in == rep.accepted + rep.rejected
        assert len(res.frame) == rep.accepted
        assert res.frame["customer_id"].str.len().gt(0).all()
        assert res.frame["_line"].is_monotonic_increasing
        if rep.rejected:
            with open(rep.rejects_file, encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.reader(fh))
            assert rows[0][:3] == ["source", "line", "reason"]
            assert len(rows) - 1 == rep.rejected
            assert all(r[2] for r in rows[1:])
        else:
            assert rep.rejects_file is None


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=400),
                 st.tuples(st.sampled_from(HEADERS), st.binary(max_size=400)).map(
                     lambda t: t[0] + t[1])))
def test_arbitrary_bytes(data):
    check(data)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(CELL, min_size=0, max_size=6), max_size=12),
       quoted=st.booleans(), kind=st.sampled_from(["orders", "customers"]),
       decimal=st.sampled_from([".", ","]), encoding=st.sampled_from(["utf-8", "gb18030"]))
def test_arbitrary_rows_under_a_valid_header(rows, quoted, kind, decimal, encoding):
    header = ["customer_id", "date", "amount", "order_id"]
    if quoted:
        buf = io.StringIO()
        csv.writer(buf).writerows([header, *rows])
        text = buf.getvalue()
    else:
        text = "\n".join(",".join(r) for r in [header, *rows])
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    check(data, kind=kind, intake=IntakeConfig(decimal=decimal))


@settings(max_examples=max(EXAMPLES // 2, 10), deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", " A", "", "0001"]),
                          st.sampled_from(["2026-10-03", "2026/10/3 23:59", "x", "",
                                           "2027-01-01", "20261003"]),
                          st.sampled_from(["1", "-2.5", "(3)", "¥4", "x", "", "1,5"]),
                          st.sampled_from(["O1", "O2", "", "O3"])), max_size=25))
def test_every_row_accounted_for_with_realistic_values(rows):
    text = "customer_id,date,amount,order_id\n" + "".join(",".join(r) + "\n" for r in rows)
    check(text.encode())

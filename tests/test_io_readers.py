"""File formats, encodings, delimiters and line numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tierwise.config import IntakeConfig, SourceConfig
from tierwise.errors import DataContractError
from tierwise.io import read_rejects, read_source, readers

HEADER = "会员卡号,消费时间,消费金额,门店\n"
ROWS = "0012,2026-10-03 19:42:11,￥12.50,北京店\n0013,2026/10/4,\"1,234.5\",上海店\n"


def read(tmp_path: Path, name: str, kind="orders", intake=None, as_of=None, **source):
    src = SourceConfig(path=Path(name), **source)
    return read_source(src, kind=kind, intake=intake or IntakeConfig(), timezone="Asia/Shanghai",
                       as_of=as_of, base_dir=tmp_path, rejects_dir=tmp_path / "rejects")


def write(tmp_path: Path, name: str, text: str, encoding="utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


# -------------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding, reported", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030"),
    ("utf-16", "utf-16"),
])
def test_csv_encodings_are_detected(tmp_path, encoding, reported):
    write(tmp_path, "o.csv", HEADER + ROWS, encoding)
    res = read(tmp_path, "o.csv")
    assert res.report.encoding == reported
    assert res.report.rows_in == 2 and res.report.accepted == 2
    assert res.frame["customer_id"].tolist() == ["0012", "0013"]
    assert res.frame["store"].tolist() == ["北京店", "上海店"]
    assert res.frame["amount"].tolist() == [12.5, 1234.5]


def test_gb18030_only_characters(tmp_path):
    write(tmp_path, "o.csv", "客户编号,姓名\nC1,𠮷野家\n", "gb18030")
    res = read(tmp_path, "o.csv", kind="customers")
    assert res.frame["name"].tolist() == ["𠮷野家"]


def test_explicit_encoding_and_bad_bytes(tmp_path):
    write(tmp_path, "o.csv", HEADER + ROWS, "gbk")
    assert read(tmp_path, "o.csv", encoding="gbk").report.accepted == 2
    with pytest.raises(DataContractError) as err:
        read(tmp_path, "o.csv", encoding="utf-8")
    assert "o.csv" in str(err.value) and "line 1" in str(err.value)
    assert "encoding" in str(err.value)
    with pytest.raises(DataContractError, match="unknown encoding"):
        read(tmp_path, "o.csv", encoding="klingon")


# ------------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path, delim):
    text = f"customer_id{delim}date{delim}amount\nA{delim}2026-10-03{delim}5\n"
    write(tmp_path, "o.csv", text)
    res = read(tmp_path, "o.csv")
    assert res.frame["amount"].tolist() == [5.0]


def test_explicit_delimiter(tmp_path):
    write(tmp_path, "o.txt", "customer_id;date;amount\nA;2026-10-03;5,5\n")
    res = read(tmp_path, "o.txt", delimiter=";", intake=IntakeConfig(decimal=","))
    assert res.frame["amount"].tolist() == [5.5]


def test_wrong_delimiter_refuses_the_file(tmp_path):
    rows = "".join(f"A{i};2026-10-03;{i}\n" for i in range(10))
    write(tmp_path, "o.csv", "customer_id,date,amount\n" + rows)
    with pytest.raises(DataContractError, match="delimiter"):
        read(tmp_path, "o.csv")


# ------------------------------------------------------------------------------ line numbers

TRICKY = (
    'customer_id,date,amount,note\r\n'
    'A,2026-10-01,1,"two\r\nlines"\r\n'          # 2-3
    '\r\n'                                         # 4 blank
    'B,2026-10-02,x,plain\r\n'                     # 5 bad amount
    'C,2026-10-03,3,"say ""hi"", ok"\r\n'          # 6
    '"D\nE",2026-10-04,4,"a\n\nb"\r\n'             # 7-10 (id and note span lines)
    'F,2026-10-05,5,extra,field\r\n'               # 11 too many fields
    ',,,\r\n'                                      # 12 empty row: skipped
    'G,2026-13-01,7,\r\n'                          # 13 bad date
)


@pytest.mark.parametrize("path", ["fast", "slow"])
def test_line_numbers_with_multiline_fields_blank_lines_and_crlf(tmp_path, monkeypatch, path):
    if path == "slow":
        monkeypatch.setattr(readers, "_fast_csv", lambda data, delim: None)
    write(tmp_path, "o.csv", TRICKY)
    res = read(tmp_path, "o.csv")
    assert res.frame["_line"].tolist() == [2, 6, 7]
    assert res.frame["customer_id"].tolist() == ["A", "C", "D\nE"]
    assert res.report.rows_in == 6 and res.report.accepted == 3 and res.report.rejected == 3
    rej = read_rejects(res.report.rejects_file)
    assert rej["line"].tolist() == ["5", "11", "13"]
    assert list(rej.columns) == ["source", "line", "reason",
                                 "customer_id", "date", "amount", "note"]
    assert "'x' is not a number" in rej["reason"][0]
    assert "has 5 fields but the header has 4" in rej["reason"][1]
    assert "not a date" in rej["reason"][2]
    assert any("1 empty row(s) skipped (lines 12)" in w for w in res.report.warnings)


def test_irregular_quotes_take_the_careful_path(tmp_path):
    write(tmp_path, "o.csv", 'customer_id,date,amount\nA"1,2026-10-03,5\n"B",2026-10-04,6\n')
    res = read(tmp_path, "o.csv")
    assert res.frame["customer_id"].tolist() == ['A"1', "B"]
    assert res.frame["_line"].tolist() == [2, 3]


def test_fast_and_slow_paths_agree_on_a_larger_file(tmp_path):
    rng = np.random.default_rng(1)
    parts = ["customer_id,date,amount,note\n"]
    for i in range(400):
        note = rng.choice(["plain", '"multi\nline"', '"with, comma"', '""', '"q ""x"""'])
        blank = "\n" if rng.random() < 0.05 else ""
        parts.append(f"C{i},2026-10-{1 + i % 28:02d},{i}.5,{note}\n{blank}")
    data = "".join(parts).encode()
    fast = readers.read_csv_bytes(data, label="x", stem="x")
    assert readers._fast_csv(data, ",") is not None
    slow_parts = readers._slow_csv(data, ",", "x")
    assert fast.headers == slow_parts[0]
    assert fast.lines.tolist() == slow_parts[2].tolist()
    pd.testing.assert_frame_equal(fast.frame, slow_parts[1])


def test_empty_and_header_only_files(tmp_path):
    write(tmp_path, "empty.csv", "")
    with pytest.raises(DataContractError, match="empty"):
        read(tmp_path, "empty.csv")
    write(tmp_path, "h.csv", "customer_id,date,amount\n")
    res = read(tmp_path, "h.csv")
    assert res.report.rows_in == 0 and res.report.rejects_file is None
    assert list(res.frame.columns)[:4] == ["order_id", "customer_id", "ordered_at", "amount"]


def test_missing_file_and_old_excel(tmp_path):
    with pytest.raises(DataContractError, match="file not found"):
        read(tmp_path, "nope.csv")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(DataContractError, match="save it as .xlsx"):
        read(tmp_path, "old.xls")


# ------------------------------------------------------------------------------------- Excel


def make_xlsx(path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["this sheet is notes"])
    data = wb.create_sheet("明细")
    data.append(["会员卡号", "消费时间", "消费金额", "备注"])
    data.append([1001, dt.datetime(2026, 10, 3, 19, 42), 12.5, "a"])
    data.append([1002.0, dt.datetime(2026, 10, 4, 8, 0), "¥8", None])
    data.append([None, None, None, None])          # empty row 4
    data.append(["0003", "2026/10/5", "x", "b"])     # row 5: bad amount
    data.append([1005, 45570, 3, None, "stray"])     # row 6: value right of the headers
    wb.save(path)


def test_xlsx_by_sheet_name_and_index(tmp_path):
    make_xlsx(tmp_path / "o.xlsx")
    for sheet in ("明细", 1):
        res = read(tmp_path, "o.xlsx", sheet=sheet)
        assert res.frame["customer_id"].tolist() == ["1001", "1002"]
        assert res.frame["ordered_at"].tolist() == [dt.date(2026, 10, 3), dt.date(2026, 10, 4)]
        assert res.frame["amount"].tolist() == [12.5, 8.0]
        assert res.frame["_line"].tolist() == [2, 3]
        assert res.report.rows_in == 4 and res.report.rejected == 2
        rej = read_rejects(res.report.rejects_file)
        assert rej["line"].tolist() == ["5", "6"]
        assert "right of the last header" in rej["reason"][1]


def test_xlsx_missing_sheet_lists_the_sheets(tmp_path):
    make_xlsx(tmp_path / "o.xlsx")
    with pytest.raises(DataContractError) as err:
        read(tmp_path, "o.xlsx", sheet="Sheet9")
    assert "'说明'" in str(err.value) and "'明细'" in str(err.value)
    with pytest.raises(DataContractError, match="no sheet 5"):
        read(tmp_path, "o.xlsx", sheet=5)


def test_xlsx_written_by_xlsxwriter(tmp_path):
    xlsxwriter = pytest.importorskip("xlsxwriter")
    wb = xlsxwriter.Workbook(str(tmp_path / "c.xlsx"))
    ws = wb.add_worksheet()
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, ["客户编号", "注册日期", "评分"])
    ws.write_row(1, 0, ["C1"])
    ws.write_datetime(1, 1, dt.datetime(2025, 1, 2), fmt)
    ws.write_number(1, 2, 4)
    ws.write_row(2, 0, ["C2", "", 5])
    wb.close()
    res = read(tmp_path, "c.xlsx", kind="customers")
    assert res.frame["joined_at"].tolist()[0] == dt.date(2025, 1, 2)
    assert res.frame["评分"].tolist() == [4.0, 5.0]


# ----------------------------------------------------------------------------------- Parquet


def test_parquet_typed_columns(tmp_path):
    table = pa.table({
        "customer_id": pa.array([1001, 1002, None], pa.int64()),
        "ordered_at": pa.array([dt.datetime(2026, 10, 3, 18, 30), dt.datetime(2026, 10, 3, 1),
                                dt.datetime(2026, 10, 3)], pa.timestamp("us", tz="UTC")),
        "amount": pa.array([12.5, -3.0, 1.0]),
        "store": pa.array(["北京店", None, "x"]),
    })
    pq.write_table(table, tmp_path / "o.parquet")
    res = read(tmp_path, "o.parquet", intake=IntakeConfig(decimal=","))
    assert res.frame["customer_id"].tolist() == ["1001", "1002"]
    assert res.frame["ordered_at"].tolist() == [dt.date(2026, 10, 4), dt.date(2026, 10, 3)]
    assert res.frame["amount"].tolist() == [12.5, -3.0]
    assert res.frame["is_refund"].tolist() == [False, True]
    assert res.frame["_line"].tolist() == [1, 2]
    rej = read_rejects(res.report.rejects_file)
    assert rej["line"].tolist() == ["3"] and "customer_id" in rej["reason"][0]


def test_parquet_dates_and_decimals(tmp_path):
    from decimal import Decimal

    table = pa.table({"会员卡号": ["A"], "日期": pa.array([dt.date(2026, 1, 2)], pa.date32()),
                      "金额": pa.array([Decimal("12.30")], pa.decimal128(10, 2))})
    pq.write_table(table, tmp_path / "o.parquet")
    res = read(tmp_path, "o.parquet", intake=IntakeConfig(decimal=","))
    assert res.frame["ordered_at"].tolist() == [dt.date(2026, 1, 2)]
    assert res.frame["amount"].tolist() == [12.3]


def test_corrupt_parquet(tmp_path):
    (tmp_path / "o.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(DataContractError, match="Parquet"):
        read(tmp_path, "o.parquet")

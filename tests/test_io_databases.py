"""Reading from real databases: PostgreSQL, MySQL/MariaDB (servers from tests/_dbs.py) and
DuckDB files. Each test creates a uniquely named table with messy rows and drops it."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from _dbs import MYSQL_URL, PG_URL, mysql_connection, pg_connection, unique_name
from tierwise.config import IntakeConfig, SourceConfig
from tierwise.errors import DataContractError, MissingDependencyError
from tierwise.io import read_rejects, read_source
from tierwise.io.databases import duckdb_path, redact

UTC = dt.UTC
# id, customer, paid at (UTC), amount, note
MESSY = [
    ("O1", "001", dt.datetime(2026, 10, 3, 18, 30, tzinfo=UTC), Decimal("12.50"), "multi\nline"),
    ("O2", "", dt.datetime(2026, 10, 3, 1, 0, tzinfo=UTC), Decimal("5.00"), "no customer"),
    ("O3", "003", None, Decimal("7.00"), "no date"),
    ("O1", "004", dt.datetime(2026, 10, 4, 1, 0, tzinfo=UTC), Decimal("1.00"), "dup id"),
    ("O5", " 005 ", dt.datetime(2026, 10, 5, 1, 0, tzinfo=UTC), Decimal("-3.25"), "refund"),
    ("O6", "006", dt.datetime(2026, 10, 6, 1, 0, tzinfo=UTC), None, "no amount"),
    ("O7", "007", dt.datetime(2026, 10, 7, 1, 0, tzinfo=UTC), Decimal("1234567.89"), "引号\"逗号,"),
]


def read_db(tmp_path, url, *, table=None, query=None, intake=None):
    src = SourceConfig(url=url, table=table, query=query,
                       columns={"order_id": "order_no", "customer_id": "会员卡号"})
    return read_source(src, kind="orders", intake=intake or IntakeConfig(decimal=","),
                       timezone="Asia/Shanghai", as_of=None, base_dir=tmp_path,
                       rejects_dir=tmp_path / "rejects")


def check_messy(res, *, query=False):
    rep = res.report
    assert (rep.rows_in, rep.accepted, rep.rejected) == (7, 3, 4)
    f = res.frame
    assert f["order_id"].tolist() == ["O1", "O5", "O7"]
    assert f["customer_id"].tolist() == ["001", "005", "007"]
    # 18:30 UTC is the next morning in Shanghai
    assert f["ordered_at"].tolist() == [dt.date(2026, 10, 4), dt.date(2026, 10, 5),
                                        dt.date(2026, 10, 7)]
    # numeric columns are read as numbers even with decimal = ',' for text
    assert f["amount"].tolist() == [12.5, -3.25, 1234567.89]
    assert f["is_refund"].tolist() == [False, True, False]
    assert f["_line"].tolist() == [1, 5, 7]
    rej = read_rejects(rep.rejects_file)
    assert rej["line"].tolist() == ["2", "3", "4", "6"]
    assert "customer_id) is empty" in rej["reason"][0]
    assert "ordered_at" in rej["reason"][1] and "empty" in rej["reason"][1]
    assert "duplicate order_id 'O1'" in rej["reason"][2] and "first on line 1" in rej["reason"][2]
    assert "amount" in rej["reason"][3]
    assert rep.rejects_file.name == ("query.orders.rejects.csv" if query
                                     else rep.rejects_file.name)
    assert "note" in rej.columns and rej.loc[0, "note"] == "no customer"


# -------------------------------------------------------------------------------- PostgreSQL


@pytest.mark.postgres
def test_postgres_table_and_query(tmp_path):
    conn = pg_connection()
    name = unique_name("tw_orders")
    conn.execute(f'CREATE TABLE {name} (order_no text, "会员卡号" text, paid_at timestamptz, '
                 'amount numeric(14,2), note text, seq serial)')
    try:
        with conn.cursor() as cur:
            cur.executemany(f'INSERT INTO {name} (order_no, "会员卡号", paid_at, amount, note) '
                            "VALUES (%s, %s, %s, %s, %s)", MESSY)
        res = read_db(tmp_path, PG_URL, table=f"public.{name}")
        check_messy(res)
        assert res.report.rejects_file.name == f"{name}.orders.rejects.csv"
        assert res.report.source.endswith(f"table public.{name}")
        q = read_db(tmp_path, PG_URL, query=f"SELECT * FROM {name} ORDER BY seq;")
        check_messy(q, query=True)
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.close()


@pytest.mark.postgres
def test_postgres_missing_table_and_bad_query(tmp_path):
    pg_connection().close()
    with pytest.raises(DataContractError, match="read failed"):
        read_db(tmp_path, PG_URL, table=unique_name("absent"))
    with pytest.raises(DataContractError, match="read failed"):
        read_db(tmp_path, PG_URL, query="SELEKT 1")


# --------------------------------------------------------------------------------- MySQL


@pytest.mark.mysql
def test_mysql_table_and_query(tmp_path):
    conn = mysql_connection()
    name = unique_name("tw_orders")
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE `{name}` (seq INT AUTO_INCREMENT PRIMARY KEY, "
                    "order_no VARCHAR(20), `会员卡号` VARCHAR(20), paid_at DATETIME, "
                    "amount DECIMAL(14,2), note TEXT) CHARACTER SET utf8mb4")
    try:
        with conn.cursor() as cur:
            # MySQL DATETIME has no zone: store the Shanghai wall-clock time
            rows = [(o, c, None if t is None else t.astimezone(
                dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None), a, n)
                for o, c, t, a, n in MESSY]
            cur.executemany(f"INSERT INTO `{name}` (order_no, `会员卡号`, paid_at, amount, note) "
                            "VALUES (%s, %s, %s, %s, %s)", rows)
        res = read_db(tmp_path, MYSQL_URL, table=name)
        check_messy(res)
        q = read_db(tmp_path, MYSQL_URL, query=f"SELECT * FROM `{name}` ORDER BY seq")
        check_messy(q, query=True)
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS `{name}`")
        conn.close()


@pytest.mark.mysql
def test_mysql_missing_table(tmp_path):
    mysql_connection().close()
    with pytest.raises(DataContractError, match="read failed"):
        read_db(tmp_path, MYSQL_URL, table=unique_name("absent"))


# ---------------------------------------------------------------------------------- DuckDB


def make_duckdb(path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA sales; CREATE TABLE sales.orders (order_no VARCHAR, "
                '"会员卡号" VARCHAR, paid_at TIMESTAMPTZ, amount DECIMAL(14,2), note VARCHAR, '
                "seq INTEGER)")
    con.executemany("INSERT INTO sales.orders VALUES (?, ?, ?, ?, ?, ?)",
                    [(*row, i) for i, row in enumerate(MESSY)])
    con.close()


def test_duckdb_table_and_query(tmp_path):
    make_duckdb(tmp_path / "shop.duckdb")
    res = read_db(tmp_path, f"duckdb:///{tmp_path / 'shop.duckdb'}", table="sales.orders")
    check_messy(res)
    rel = read_db(tmp_path, "duckdb:///shop.duckdb",
                  query="SELECT * FROM sales.orders ORDER BY seq")
    check_messy(rel, query=True)


def test_duckdb_paths(tmp_path):
    assert duckdb_path("duckdb:///data/x.duckdb", tmp_path) == tmp_path / "data/x.duckdb"
    assert duckdb_path("duckdb:////abs/x.duckdb", tmp_path) == Path("/abs/x.duckdb")
    with pytest.raises(DataContractError, match="not found"):
        read_db(tmp_path, "duckdb:///missing.duckdb", table="t")


# ------------------------------------------------------------------------- no server needed


def test_table_names_are_validated_never_spliced(tmp_path):
    for bad in ("orders; DROP TABLE x", 'a"b', "a.b.c", "1abc", "a b"):
        with pytest.raises(DataContractError, match="not a plain name"):
            read_db(tmp_path, "postgresql://u@127.0.0.1:1/db", table=bad)


def test_unreachable_server_and_unknown_scheme(tmp_path):
    with pytest.raises(DataContractError) as err:
        read_db(tmp_path, "postgresql://u:secret@127.0.0.1:1/db", table="t")
    assert "cannot connect" in str(err.value) and "secret" not in str(err.value)
    with pytest.raises(DataContractError, match="cannot connect"):
        read_db(tmp_path, "mysql://u:secret@127.0.0.1:1/db", table="t")
    with pytest.raises(DataContractError, match="unsupported"):
        read_db(tmp_path, "oracle://u@h/db", table="t")


def test_missing_driver_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingDependencyError) as err:
        read_db(tmp_path, "postgresql://u@127.0.0.1:1/db", table="t")
    assert err.value.extra == "postgres" and "tierwise[postgres]" in str(err.value)
    monkeypatch.setitem(sys.modules, "pymysql", None)
    with pytest.raises(MissingDependencyError, match=r"tierwise\[mysql\]"):
        read_db(tmp_path, "mysql://u@127.0.0.1:1/db", table="t")


def test_redact():
    assert redact("postgresql://u:p%40ss@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact("mysql://root@h/db") == "mysql://root@h/db"

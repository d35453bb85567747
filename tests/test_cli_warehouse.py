"""`tierwise run` computing inside a real PostgreSQL / MariaDB warehouse, results kept there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _dbs import MYSQL_URL, PG_URL, mysql_connection, pg_connection, unique_name
from conftest import ROOT, run_cli
from test_engine_snapshots import snapshot_differences

from tierwise.store import Store

CONFIG = """
as_of = "2026-10-31"
[sources.orders]
path = "visits.csv"
[sources.customers]
path = "members.csv"
[value]
min_repeat_buyers = 20
[clustering]
enabled = false
"""


def setup_business(tmp_path: Path, engine: str) -> Path:
    for name in ("members.csv", "visits.csv"):
        shutil.copy(ROOT / "examples" / "restaurant" / name, tmp_path / name)
    (tmp_path / "tierwise.toml").write_text(CONFIG + engine, encoding="utf-8")
    assert run_cli("ingest", cwd=tmp_path).code == 0
    return tmp_path


def duckdb_store(tmp_path: Path) -> Path:
    local = setup_business(tmp_path / "local", "")
    assert run_cli("run", cwd=local).code == 0
    return local / "tierwise.duckdb"


@pytest.mark.parametrize("kind", ["postgres", "mysql"])
def test_run_in_the_warehouse_matches_duckdb_and_keeps_results(tmp_path: Path, kind: str) -> None:
    url, connect = (PG_URL, pg_connection) if kind == "postgres" else (MYSQL_URL, mysql_connection)
    con = connect()
    orders, results = unique_name("orders"), unique_name("features")
    engine = (f'[engine]\nbackend = "{kind}"\nurl = "{url}"\norders_table = "{orders}"\n'
              f'results_table = "{results}"\n')
    try:
        (tmp_path / "wh").mkdir()
        business = setup_business(tmp_path / "wh", engine)
        result = run_cli("run", "--json", cwd=business)
        assert result.code == 0, result.stderr
        with con.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {results}")
            kept = cur.fetchall()[0][0]
        with Store(business / "tierwise.duckdb", read_only=True) as store:
            remote = store.snapshot()
        (tmp_path / "local").mkdir()
        local = duckdb_store(tmp_path)
        # the warehouse keeps the features of customers with orders; prospects (customers file
        # only, NULL frequency) are added to the snapshot afterwards
        assert kept == int(remote["frequency"].notna().sum())
        # every snapshot column and every table the run keeps, as on DuckDB
        assert snapshot_differences(local, business / "tierwise.duckdb") == []
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {results}")
            cur.execute(f"DROP TABLE IF EXISTS {orders}")
        con.close()

"""The server's copy of the store: complete for runs bigger than a DuckDB row group, updated run
by run, and it never keeps the store open."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

pytest.importorskip("fastapi")

ROWS = 150_000  # more than one DuckDB row group (122,880 rows)


def _add_run(store: Path, run_id: int, as_of: dt.date, rows: int = ROWS) -> None:
    """A synthetic run written straight into the store's tables."""
    con = duckdb.connect(str(store))
    try:
        con.execute("INSERT INTO runs VALUES (?, ?, ?, 'h', now(), 'duckdb', ?, '{}')",
                    [run_id, as_of.strftime("%Y-%m"), as_of, rows])
        con.execute("""
            INSERT INTO snapshot_customers (run_id, customer_key, customer_id, name, phone,
                                            account_manager, total_amount, tier)
            SELECT ?, i, 'C' || lpad(i::VARCHAR, 7, '0'), 'name ' || i, '138' || lpad(i::VARCHAR, 8, '0'),
                   'manager' || (i % 7), i * 1.5, 'ordinary'
            FROM range(?) t(i)""", [run_id, rows])
    finally:
        con.close()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    from tierwise.store import Store

    path = tmp_path / "tierwise.duckdb"
    Store(path).close()  # an empty, migrated store
    _add_run(path, 1, dt.date(2026, 1, 31))
    return path


def test_a_big_run_is_copied_whole_and_found_by_id(store: Path, tmp_path: Path) -> None:
    from tierwise.web.snapshots import SnapshotCache, StoreFile

    cache = SnapshotCache(StoreFile(store), tmp_path / "copy")
    cache.open()
    try:
        assert cache.refresh()
        with cache.reader() as con:
            assert con.execute("SELECT run_id, count(*) FROM snapshot_customers GROUP BY 1"
                               ).fetchall() == [(1, ROWS)]
            assert con.execute("SELECT name FROM snapshot_customers WHERE customer_id = ?",
                               ["C0149999"]).fetchall() == [("name 149999",)]
        index = cache.shelf.get(1)
        assert index is not None and index.size == ROWS
    finally:
        cache.close()


def test_runs_are_added_and_dropped_one_by_one(store: Path, tmp_path: Path) -> None:
    from tierwise.web.snapshots import SnapshotCache, StoreFile

    cache = SnapshotCache(StoreFile(store), tmp_path / "copy")
    cache.open()
    try:
        cache.refresh()
        _add_run(store, 2, dt.date(2026, 2, 28), rows=1000)
        assert cache.refresh()
        assert cache.shelf.get(2) is not None and cache.shelf.get(1) is None
        con = duckdb.connect(str(store))
        con.execute("DELETE FROM snapshot_customers WHERE run_id = 1")
        con.execute("DELETE FROM runs WHERE run_id = 1")
        con.close()
        assert cache.refresh()
        with cache.reader() as con:
            assert con.execute("SELECT run_id, count(*) FROM snapshot_customers GROUP BY 1"
                               ).fetchall() == [(2, 1000)]
        assert not cache.refresh()
    finally:
        cache.close()


def test_the_store_is_free_between_refreshes(store: Path, tmp_path: Path) -> None:
    from tierwise.store import Store
    from tierwise.web.snapshots import SnapshotCache, StoreFile

    cache = SnapshotCache(StoreFile(store), tmp_path / "copy")
    cache.open()
    try:
        cache.refresh()
        with Store(store, lock_timeout=0) as writer:  # no wait: nothing holds the file
            writer.con.execute("SELECT 1").fetchall()
    finally:
        cache.close()

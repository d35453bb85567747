"""The server's copy of the store: complete for runs bigger than a DuckDB row group, updated run
by run, and it never keeps the store open; each run's files beside the store are written once,
kept across starts, and made again when they no longer match the store."""

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
        assert cache.refresh(force=True)  # run 1's files outlive the state that read them
        assert _run_files(store) == {2}
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


def _run_files(store: Path) -> set[int]:
    """The runs that have files beside the store."""
    return {int(p.name.split("-")[1]) for p in store.with_name(store.name + ".web-runs").iterdir()
            if p.name.startswith("run-")}


def _started(store: Path, folder: Path):
    from tierwise.web.snapshots import SnapshotCache, StoreFile

    cache = SnapshotCache(StoreFile(store), folder)
    cache.open()
    assert cache.refresh()
    return cache


def test_a_second_start_reads_the_files_the_first_wrote(store: Path, tmp_path: Path) -> None:
    cache = _started(store, tmp_path / "first")
    cache.close()
    written = {p.name: p.stat().st_mtime_ns
               for p in store.with_name(store.name + ".web-runs").iterdir()}
    assert len(written) == 2  # the rows and the arranged list
    cache = _started(store, tmp_path / "second")
    try:
        assert {p.name: p.stat().st_mtime_ns
                for p in store.with_name(store.name + ".web-runs").iterdir()} == written
        assert cache.shelf.get(1).size == ROWS
        with cache.reader() as con:
            assert con.execute("SELECT count(*) FROM snapshot_customers WHERE run_id = 1"
                               ).fetchall() == [(ROWS,)]
    finally:
        cache.close()


def test_files_that_no_longer_match_the_store_are_made_again(store: Path,
                                                             tmp_path: Path) -> None:
    """A store replaced by another with the same run id: the old run's files are not read."""
    _started(store, tmp_path / "first").close()
    files = store.with_name(store.name + ".web-runs")
    con = duckdb.connect(str(store))
    con.execute("DELETE FROM snapshot_customers")
    con.execute("DELETE FROM runs")
    con.close()
    _add_run(store, 1, dt.date(2026, 3, 31), rows=10)
    cache = _started(store, tmp_path / "second")
    try:
        assert cache.shelf.get(1).size == 10
        with cache.reader() as con:
            assert con.execute("SELECT count(*) FROM snapshot_customers").fetchall() == [(10,)]
        assert cache.refresh(force=True)
        assert len(list(files.glob("run-1-*.duckdb"))) == 1
        assert len(list(files.glob("run-1-*.index"))) == 1
    finally:
        cache.close()


def test_an_unfinished_arranged_list_is_made_again(store: Path, tmp_path: Path) -> None:
    _started(store, tmp_path / "first").close()
    (manifest,) = store.with_name(store.name + ".web-runs").glob("*.index/index.json")
    manifest.unlink()  # as a server stopped while writing it leaves it
    cache = _started(store, tmp_path / "second")
    try:
        assert manifest.exists() and cache.shelf.get(1).size == ROWS
    finally:
        cache.close()


def test_a_first_start_is_ready_before_the_runs_file_is_written(store: Path, tmp_path: Path
                                                                ) -> None:
    """The first start after a new run is ready once the small tables are copied: the run is
    read from the store (attached read-only) while a thread writes its file, then from the
    file; the store is let go and the list arranged after. A later start opens both before it
    is ready."""
    import threading

    from tierwise.store import Store
    from tierwise.web.snapshots import SnapshotCache, StoreFile

    files = store.with_name(store.name + ".web-runs")
    cache = SnapshotCache(StoreFile(store), tmp_path / "first")
    cache.open()
    go = threading.Event()
    export = cache.files.export

    def held_export(*args: object) -> bool:  # the real export, once the test has looked
        assert go.wait(timeout=60)
        return export(*args)

    cache.files.export = held_export  # type: ignore[method-assign]
    try:
        assert cache.refresh(background=True)
        assert cache.loaded and cache._arranging is not None
        assert not list(files.glob("run-1-*.duckdb"))  # not written yet: read from the store
        with cache.reader() as con:
            assert con.execute("SELECT count(*), max(name) FROM snapshot_customers WHERE "
                               "customer_id = ?", ["C0149999"]).fetchall() == [(1, "name 149999")]
            assert con.execute("SELECT count(*) FROM snapshot_customers").fetchall() == [(ROWS,)]
        assert cache.shelf.get(1) is None  # SQL serves the list meanwhile
        version = cache.version
        go.set()
        cache._arranging.join(timeout=300)
        assert len(list(files.glob("run-1-*.duckdb"))) == 1
        assert cache.version > version and cache.shelf.get(1).size == ROWS
        with cache.reader() as con:
            assert con.execute("SELECT database_name FROM duckdb_databases() "
                               "WHERE database_name = 'src'").fetchall() == []
            assert con.execute("SELECT name FROM snapshot_customers WHERE customer_id = ?",
                               ["C0149999"]).fetchall() == [("name 149999",)]
        with Store(store, lock_timeout=1.0):  # let go: a writer (here, in this process) gets in
            pass
        assert not cache.refresh()  # nothing changed: the store is not copied again
    finally:
        go.set()
        cache.close()
    assert len(list(files.glob("*.index/index.json"))) == 1
    cache = SnapshotCache(StoreFile(store), tmp_path / "second")
    cache.open()
    try:
        assert cache.refresh(background=True)
        assert cache._arranging is None and cache.shelf.get(1).size == ROWS
    finally:
        cache.close()

"""The DuckDB store: migrations, idempotent upserts, dense keys, atomic and replaceable runs."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from tierwise.errors import StoreError
from tierwise.store import MIGRATIONS, Store

AS_OF = dt.date(2026, 1, 31)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store(tmp_path / "t.duckdb") as s:
        yield s


def orders(ids: list[str], customers: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"order_id": ids, "customer_id": customers,
                         "ordered_at": [dt.date(2026, 1, 1)] * len(ids),
                         "amount": [10.0] * len(ids), "is_refund": [False] * len(ids)})


def test_migrations_are_named_ordered_and_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "t.duckdb"
    with Store(path) as s:
        assert s.applied_migrations() == [name for name, _ in MIGRATIONS]
    with Store(path) as s:
        assert s.migrate() == []
    names = [name for name, _ in MIGRATIONS]
    assert names == sorted(names) and len(set(names)) == len(names)


def test_customer_keys_are_dense_and_stable(store: Store) -> None:
    store.upsert_customers(pd.DataFrame({"customer_id": ["a", "b"], "vip": [1, 2]}), source="c")
    counts = store.upsert_customers(pd.DataFrame({"customer_id": ["b", "c", "d"]}), source="c")
    assert counts == {"inserted": 2, "replaced": 1}
    keys = dict(store.customer_frame()[["customer_id", "customer_key"]].values)
    assert keys == {"a": 1, "b": 2, "c": 3, "d": 4}
    attrs = store.customer_frame().set_index("customer_id")["attributes"]
    assert attrs["a"] == '{"vip":1}'


def test_reingesting_orders_is_idempotent(store: Store) -> None:
    store.upsert_customers(pd.DataFrame({"customer_id": ["a", "b"]}), source="c")
    first = store.upsert_orders(orders(["1", "2"], ["a", "b"]), source="o")
    again = store.upsert_orders(orders(["1", "2"], ["a", "b"]), source="o")
    assert first == {"inserted": 2, "replaced": 0, "lines": 0, "overlap": 0, "legacy_replaced": 0}
    assert again == {"inserted": 0, "replaced": 2, "lines": 0, "overlap": 0, "legacy_replaced": 0}
    assert store.counts() == {"customers": 2, "orders": 2}
    moved = store.upsert_orders(orders(["1", "2"], ["a", "b"]), source="renamed")
    assert moved["replaced"] == moved["overlap"] == 2  # the same orders from another source


def test_orders_stored_under_old_file_line_ids_are_replaced_not_doubled(tmp_path: Path, cli) -> None:
    """A store written before ids came from content holds '<stem>:<line>' ids for id-less rows."""
    (tmp_path / "tierwise.toml").write_text('[sources.orders]\npath = "visits.csv"\n', "utf-8")
    (tmp_path / "visits.csv").write_text("customer_id,ordered_at,amount\nA,2024-01-01,5\n"
                                         "A,2024-01-01,5\nB,2024-01-02,7\n", "utf-8")
    assert cli("ingest", cwd=tmp_path).code == 0
    with Store(tmp_path / "tierwise.duckdb") as s:  # as the older release stored them
        s.con.execute("UPDATE orders SET order_id = 'visits:' || CAST(rowid + 2 AS VARCHAR)")
        s.con.execute("INSERT INTO orders (order_id, customer_key, ordered_at, amount, is_refund,"
                      " source) VALUES ('1234:5', 1, DATE '2024-01-03', 9, false, 'other.csv')")
    again = cli("ingest", "--json", cwd=tmp_path)
    assert again.code == 0, again.stderr
    report = again.json()[0]
    assert report["legacy_replaced"] == 3
    assert any("older tierwise" in w for w in report["warnings"])
    with Store(tmp_path / "tierwise.duckdb", read_only=True) as s:
        ids = sorted(r[0] for r in s.con.execute("SELECT order_id FROM orders").fetchall())
    assert len(ids) == 4 and "1234:5" in ids  # 3 content ids + another source's real id kept
    assert not any(i.startswith("visits:") for i in ids)


def test_orders_of_unknown_customers_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="ingest customers before"):
        store.upsert_orders(orders(["1"], ["ghost"]), source="o")


def results(n: int) -> pd.DataFrame:
    return pd.DataFrame({"customer_key": range(1, n + 1),
                         "customer_id": [f"c{i}" for i in range(1, n + 1)],
                         "frequency": [1] * n})


def test_rerunning_a_period_replaces_it(store: Store) -> None:
    common = {"period": "2026-01", "as_of": AS_OF, "engine": "duckdb", "meta": {}}
    first = store.commit_run(config_hash="h", results=results(3), **common)
    second = store.commit_run(config_hash="h", results=results(2), **common)
    other = store.commit_run(config_hash="other", results=results(1), **common)
    assert store.runs()["run_id"].tolist() == [second, other]
    assert len(store.snapshot(second)) == 2
    assert store.run_info(second)["meta"]["replaced_runs"] == [first]
    with pytest.raises(StoreError, match="not found"):
        store.snapshot(first)


def test_unknown_result_columns_are_a_bug_not_silence(store: Store) -> None:
    with pytest.raises(StoreError, match="no place for"):
        store.commit_run(period="p", as_of=AS_OF, config_hash="h", engine="duckdb", meta={},
                         results=results(1).assign(mystery=1))


def test_failed_run_leaves_previous_snapshot(store: Store) -> None:
    common = {"period": "2026-01", "as_of": AS_OF, "config_hash": "h", "engine": "duckdb",
              "meta": {}}
    run_id = store.commit_run(results=results(3), **common)

    def boom() -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.commit_run(results=results(5), before_commit=boom, **common)
    assert store.runs()["run_id"].tolist() == [run_id]
    assert len(store.snapshot()) == 3


def test_killed_process_leaves_previous_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "t.duckdb"
    common = dict(period="2026-01", as_of=AS_OF, config_hash="h", engine="duckdb", meta={})
    with Store(path) as s:
        kept = s.commit_run(results=results(3), **common)
    script = textwrap.dedent(f"""
        import datetime as dt, time, pandas as pd
        from tierwise.store import Store
        s = Store({str(path)!r})
        frame = pd.DataFrame({{"customer_key": range(1, 50001), "customer_id": ["x"] * 50000}})
        def hang():
            print("ready", flush=True)
            time.sleep(60)
        s.commit_run(period="2026-01", as_of=dt.date(2026, 1, 31), config_hash="h",
                     engine="duckdb", meta={{}}, results=frame, before_commit=hang)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.kill()
    proc.wait(timeout=30)
    with Store(path, read_only=True) as s:
        assert s.runs()["run_id"].tolist() == [kept]
        assert len(s.snapshot()) == 3


def test_read_only_store_must_exist(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "missing.duckdb", read_only=True)


def test_a_foreign_file_is_not_a_store(tmp_path: Path) -> None:
    bad = tmp_path / "bad.duckdb"
    bad.write_text("not a database")
    with pytest.raises(StoreError):
        Store(bad)

"""The engine seam on DuckDB, connect_engine, and the missing-dependency errors."""

from __future__ import annotations

import datetime as dt
import importlib.util

import duckdb
import pandas as pd
import pytest

from test_features_behaviour import (
    AS_OF,
    HAND_ROWS,
    assert_same_features,
    duckdb_features,
    make_store,
)
from tierwise.config import EngineConfig
from tierwise.engine import DuckDBEngine, Engine, connect_engine, export_orders_parquet
from tierwise.errors import ConfigError, MissingDependencyError, StoreError
from tierwise.features import FEATURE_COLUMNS, RFM_COLUMNS


@pytest.fixture
def store():
    con = make_store(HAND_ROWS)
    yield con
    con.close()


def test_duckdb_engine_runs_and_keeps_results_in_the_store(store):
    with connect_engine(EngineConfig(), store) as engine:
        assert isinstance(engine, DuckDBEngine) and isinstance(engine, Engine)
        assert engine.name == "duckdb"
        engine.materialize(engine.features(AS_OF))
        engine.materialize(engine.rfm(AS_OF), "rfm_results")
    kept = store.sql("SELECT * FROM tierwise_features").df()
    assert list(kept.columns) == list(FEATURE_COLUMNS)
    assert_same_features(kept, duckdb_features(store, AS_OF))
    assert list(store.sql("SELECT * FROM rfm_results").df().columns) == list(RFM_COLUMNS)


def test_materialize_replaces_the_table(store):
    engine = DuckDBEngine(store, results_table="feat")
    engine.materialize(engine.features(dt.date(2023, 12, 31)))
    assert store.execute("SELECT count(*) FROM feat").fetchone()[0] == 1   # customer 1 only
    engine.materialize(engine.features(AS_OF))
    assert store.execute("SELECT count(*) FROM feat").fetchone()[0] == 5  # refund-only too
    engine.close()


def test_engine_leaves_the_store_connection_settings_alone(store):
    store.execute("SET TimeZone = 'Asia/Shanghai'")
    engine = DuckDBEngine(store)
    engine.to_pandas(engine.rfm(AS_OF))
    engine.close()
    assert store.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "Asia/Shanghai"
    assert store.execute("SELECT count(*) FROM orders").fetchone()[0] == len(HAND_ROWS)


def test_store_without_orders_is_a_store_error():
    with pytest.raises(StoreError, match="no 'orders' table"):
        DuckDBEngine(duckdb.connect())
    con = duckdb.connect()
    con.execute("CREATE TABLE orders (customer_key BIGINT, ordered_at DATE)")
    with pytest.raises(StoreError, match="lacks column"):
        DuckDBEngine(con)


def test_bad_results_table_name(store):
    with pytest.raises(ConfigError, match="not a plain SQL table name"):
        DuckDBEngine(store, results_table="x; DROP TABLE orders")


def test_export_orders_parquet(store, tmp_path):
    path = tmp_path / "sub" / "orders.parquet"
    assert export_orders_parquet(store, path) == len(HAND_ROWS)
    back = duckdb.sql(f"SELECT * FROM '{path}'").df()
    # channel, agent and store too: a Spark run's order aggregates (contributions, the
    # retention's by-store rows) read them from this export
    assert list(back.columns) == ["order_id", "customer_key", "ordered_at", "amount", "cost",
                                  "margin", "is_refund", "channel", "agent", "store"]
    assert int(back["is_refund"].sum()) == sum(1 for r in HAND_ROWS if r[2] < 0)


@pytest.mark.parametrize(("backend", "module", "package", "extra"), [
    ("spark", "pyspark", "pyspark", "spark"),
    ("postgres", "psycopg", "psycopg", "postgres"),
    ("mysql", "pymysql", "pymysql", "mysql"),
])
def test_missing_dependency_names_the_extra(store, monkeypatch, backend, module, package, extra):
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name.split(".")[0] == module else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    urls = {"spark": None, "postgres": "postgresql://u@h/db", "mysql": "mysql://u@h/db"}
    cfg = EngineConfig(backend=backend, url=urls[backend])
    with pytest.raises(MissingDependencyError) as info:
        connect_engine(cfg, store)
    assert info.value.package == package and info.value.extra == extra
    assert f"tierwise[{extra}]" in str(info.value)


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
def test_warehouse_without_url_is_a_config_error(store, backend):
    with pytest.raises(ConfigError, match="needs engine.url"):
        connect_engine(EngineConfig(backend=backend), store)


def test_to_pandas_types_are_ibis_types(store):
    with DuckDBEngine(store) as engine:
        expr = engine.features(AS_OF)
        frame = engine.to_pandas(expr)
        via_ibis = engine._backend.to_pandas(expr)  # Ibis' own (slower) conversion
    assert isinstance(frame, pd.DataFrame)
    assert frame["frequency"].dtype == "int64"
    assert frame["margin_total"].dtype == "float64"
    pd.testing.assert_frame_equal(frame.sort_values("customer_key").reset_index(drop=True),
                                  via_ibis.sort_values("customer_key").reset_index(drop=True))

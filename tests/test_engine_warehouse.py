"""Features computed inside PostgreSQL and MySQL / MariaDB, checked against DuckDB's.

Each test pushes a store's orders into a uniquely named warehouse table, computes the features
there (results kept in the warehouse), reads the results table back with the plain driver and
compares it with the DuckDB engine's result. Skipped when a server is unreachable, unless
``TIERWISE_REQUIRE_DBS=1``.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from _dbs import MYSQL_URL, PG_URL, mysql_connection, pg_connection, unique_name
from test_features_behaviour import (
    AS_OF,
    CDNOW_DATES,
    HAND_ROWS,
    assert_matches_lifetimes,
    assert_same_features,
    cdnow_store,
    duckdb_features,
    lifetimes_summary,
    make_store,
)
from tierwise.config import EngineConfig
from tierwise.features import FEATURE_COLUMNS


@pytest.fixture(scope="module")
def hand():
    con = make_store(HAND_ROWS)
    yield con
    con.close()


@pytest.fixture(scope="module")
def cdnow():
    con = cdnow_store()
    yield con
    con.close()


def _read(conn, sql: str) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(sql)
        columns = [d[0] for d in cur.description]
        return pd.DataFrame.from_records(list(cur.fetchall()), columns=columns)


# --------------------------------------------------------------------------------------------
# PostgreSQL


@pytest.fixture
def pg():
    conn = pg_connection()
    names: list[str] = []
    yield conn, names
    with conn.cursor() as cur:
        for name in names:
            cur.execute(f'DROP TABLE IF EXISTS "{name}"')
    conn.close()


@pytest.mark.postgres
def test_postgres_features_stay_in_the_warehouse(pg, hand):
    from tierwise.engine import PostgresEngine, connect_engine

    conn, names = pg
    orders, results = unique_name("tw_orders"), unique_name("tw_features")
    names += [orders, results]
    cfg = EngineConfig(backend="postgres", url=PG_URL, orders_table=orders,
                       results_table=results)
    with connect_engine(cfg, hand, push=True) as engine:
        assert isinstance(engine, PostgresEngine)
        engine.materialize(engine.features(AS_OF))
    kept = _read(conn, f'SELECT * FROM "{results}"')
    assert list(kept.columns) == list(FEATURE_COLUMNS)
    assert_same_features(kept, duckdb_features(hand, AS_OF))
    pushed = _read(conn, f'SELECT count(*) AS n, sum(CASE WHEN is_refund THEN 1 ELSE 0 END) '
                         f'AS refunds FROM "{orders}"')
    assert int(pushed.n[0]) == len(HAND_ROWS)
    assert int(pushed.refunds[0]) == sum(1 for r in HAND_ROWS if r[2] < 0)


@pytest.mark.postgres
def test_postgres_cdnow_matches_lifetimes_and_duckdb(pg, cdnow):
    from tierwise.engine import PostgresEngine, push_orders

    conn, names = pg
    orders, results = unique_name("tw_orders"), unique_name("tw_features")
    names += [orders, results]
    assert push_orders(cdnow, PG_URL, orders) == cdnow.execute(
        "SELECT count(*) FROM orders").fetchone()[0]
    engine = PostgresEngine(PG_URL, orders, results)
    try:
        as_of = CDNOW_DATES[1]
        assert_matches_lifetimes(engine.to_pandas(engine.rfm(as_of)), lifetimes_summary(as_of))
        engine.materialize(engine.features(as_of))
        # re-running replaces the results table
        engine.materialize(engine.features(as_of))
    finally:
        engine.close()
    assert_same_features(_read(conn, f'SELECT * FROM "{results}"'), duckdb_features(cdnow, as_of))


# --------------------------------------------------------------------------------------------
# MySQL / MariaDB


@pytest.fixture
def my():
    conn = mysql_connection()
    names: list[str] = []
    yield conn, names
    with conn.cursor() as cur:
        for name in names:
            cur.execute(f"DROP TABLE IF EXISTS `{name}`")
    conn.close()


@pytest.mark.mysql
@pytest.mark.parametrize("method", ["load", "insert"])
def test_mysql_features_stay_in_the_warehouse(my, hand, method):
    from tierwise.engine import MySQLEngine

    conn, names = my
    orders, results = unique_name("tw_orders"), unique_name("tw_features")
    names += [orders, results]
    engine = MySQLEngine(MYSQL_URL, orders, results)
    try:
        assert engine.push_orders(hand, method=method) == len(HAND_ROWS)
        assert engine.push_orders(hand, method=method) == len(HAND_ROWS)  # replaces
        engine.materialize(engine.features(AS_OF))
        got = engine.to_pandas(engine.features(AS_OF))
    finally:
        engine.close()
    kept = _read(conn, f"SELECT * FROM `{results}`")
    assert list(kept.columns) == list(FEATURE_COLUMNS)
    want = duckdb_features(hand, AS_OF)
    assert_same_features(kept, want)
    assert_same_features(got, want)
    back = _read(conn, f"SELECT order_id, is_refund, cost FROM `{orders}` ORDER BY order_id")
    assert int(back.is_refund.sum()) == sum(1 for r in HAND_ROWS if r[2] < 0)
    assert int(back.cost.isna().sum()) == sum(1 for r in HAND_ROWS if r[3] is None)


@pytest.mark.mysql
def test_mysql_cdnow_matches_lifetimes_and_duckdb(my, cdnow):
    from tierwise.engine import MySQLEngine, connect_engine

    conn, names = my
    orders, results = unique_name("tw_orders"), unique_name("tw_features")
    names += [orders, results]
    cfg = EngineConfig(backend="mysql", url=MYSQL_URL, orders_table=orders,
                       results_table=results)
    engine = connect_engine(cfg, cdnow, push=True)
    try:
        assert isinstance(engine, MySQLEngine)
        as_of = CDNOW_DATES[0]
        assert_matches_lifetimes(engine.to_pandas(engine.rfm(as_of)), lifetimes_summary(as_of))
        engine.materialize(engine.features(as_of))
    finally:
        engine.close()
    assert_same_features(_read(conn, f"SELECT * FROM `{results}`"),
                         duckdb_features(cdnow, as_of))


def test_mysql_sql_has_no_median_or_arg_min():
    """MySQL / MariaDB lack MEDIAN and ARG_MIN aggregates: the compiled query must not use them."""
    import ibis

    from tierwise.features import ORDERS_SCHEMA, feature_expr, rfm_expr

    orders = ibis.table(ORDERS_SCHEMA, name="tierwise_orders")  # as MySQLEngine.orders()
    for expr in (feature_expr(orders, dt.date(2024, 3, 15)), rfm_expr(orders, AS_OF)):
        sql = str(ibis.to_sql(expr, dialect="mysql")).lower()
        for func in ("median", "percentile_cont", "percentile", "arg_min", "min_by"):
            assert not re.search(rf"\b{func}\s*\(", sql), func
        assert "row_number()" in sql

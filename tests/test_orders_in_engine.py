"""Each computation over orders gives the same result from the engine as from pandas (issue 16).

The pandas functions of :mod:`tierwise.lifecycle` and :mod:`tierwise.tiering` take either a
DataFrame of orders (the reference) or the engine's :class:`~tierwise.engine.orders.OrderTable`
(aggregates run in the engine, per-customer results in Python). Here both are run on the same
seeded orders (refunds, blank and missing channels, costs and margins partly known, orders after
the as-of date) and compared exactly: on DuckDB always, on PostgreSQL, MySQL/MariaDB and Spark
where they are reachable (skipped otherwise, failed with ``TIERWISE_REQUIRE_DBS=1``).
"""

from __future__ import annotations

import datetime as dt
import importlib.util

import duckdb
import numpy as np
import pandas as pd
import pytest

from _dbs import MYSQL_URL, PG_URL, mysql_connection, pg_connection, unique_name
from tierwise.config import ActivityConfig, Config
from tierwise.engine import DuckDBEngine
from tierwise.engine.orders import OrderTable
from tierwise.lifecycle import attendance_sheet, early_warnings
from tierwise.lifecycle.states import _from_orders, window_visits
from tierwise.tiering.big_accounts import big_account_tables, channel_contribution

AS_OF = dt.date(2024, 6, 20)  # mid-month and mid-quarter: the windows are cut "to date"
COLUMNS = ["order_id", "customer_key", "ordered_at", "amount", "cost", "margin", "is_refund",
           "channel", "agent"]
DDL = ("CREATE TABLE orders (order_id VARCHAR, customer_key BIGINT, ordered_at DATE, "
       "amount DOUBLE, cost DOUBLE, margin DOUBLE, is_refund BOOLEAN, channel VARCHAR, "
       "agent VARCHAR)")


def seeded_orders(n_customers: int = 300, seed: int = 16) -> pd.DataFrame:
    """Orders over two years and a bit past AS_OF, with cents, refunds and odd labels."""
    rng = np.random.default_rng(seed)
    per = rng.geometric(0.08, n_customers)
    keys = np.repeat(np.arange(1, n_customers + 1), per)
    n = len(keys)
    start = np.datetime64("2022-06-01")
    days = rng.integers(0, (np.datetime64(AS_OF) - start).astype(int) + 15, n)
    amount = np.round(rng.lognormal(4, 1, n), 2)
    refund = rng.random(n) < 0.04
    amount[refund] = -np.round(amount[refund] * rng.random(refund.sum()), 2)
    cost = np.where(rng.random(n) < 0.5, np.round(amount * 0.6, 2), np.nan)
    margin = np.where(rng.random(n) < 0.2, np.round(amount * 0.3, 2), np.nan)
    channel = rng.choice(np.array(["store", "online", " phone ", "", None], dtype=object), n,
                         p=[0.4, 0.3, 0.15, 0.05, 0.1])
    agent = rng.choice(np.array(["A-1", "B-2", None], dtype=object), n, p=[0.3, 0.2, 0.5])
    return pd.DataFrame({
        "order_id": [f"o{i}" for i in range(n)], "customer_key": keys.astype("int64"),
        "ordered_at": pd.to_datetime(start + days.astype("timedelta64[D]")),
        "amount": amount, "cost": cost, "margin": margin, "is_refund": refund,
        "channel": channel, "agent": agent})


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return seeded_orders()


@pytest.fixture(scope="module")
def reference(orders) -> pd.DataFrame:
    """What the run read before: the orders up to AS_OF, by customer and date."""
    up = orders[orders["ordered_at"] <= pd.Timestamp(AS_OF)]
    return up.sort_values(["customer_key", "ordered_at"], kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def frame(reference) -> pd.DataFrame:
    """A per-customer frame: every fifth customer a key account, tiers, silences and gaps."""
    keys = np.sort(reference["customer_key"].unique())
    last = reference.groupby("customer_key")["ordered_at"].max().reindex(keys)
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "customer_key": keys, "customer_id": [f"c{k:04d}" for k in keys],
        "key_account": keys % 5 == 0,
        "tier": np.where(keys % 5 == 0, "key", np.where(keys % 3 == 0, "major", "ordinary")),
        "total_amount": reference.groupby("customer_key")["amount"].sum().reindex(keys).values,
        "days_since_last": (pd.Timestamp(AS_OF) - last).dt.days.values,
        "gap_median": rng.uniform(5, 60, len(keys)),
        "account_manager": np.where(keys % 2 == 0, "Li", "Wang")})


def _duckdb_table(orders: pd.DataFrame) -> tuple[duckdb.DuckDBPyConnection, OrderTable]:
    con = duckdb.connect()
    con.execute(DDL)
    con.register("incoming", orders[COLUMNS])
    con.execute("INSERT INTO orders SELECT order_id, customer_key, ordered_at::DATE, amount, "
                "cost, margin, is_refund, channel, agent FROM incoming")
    con.unregister("incoming")
    return con, OrderTable.of(DuckDBEngine(con), AS_OF)


# ---- the comparisons (each takes the reference frame and an OrderTable) ------------------


def _same(a: pd.DataFrame | pd.Series, b: pd.DataFrame | pd.Series) -> None:
    """Equal values and dtypes, NaN equal to NaN, floats exactly."""
    if isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True, check_names=False,
                                       check_index_type=False)
    else:
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True),
                                      check_exact=True)


def check_all(reference: pd.DataFrame, frame: pd.DataFrame, table: OrderTable) -> None:
    cfg = Config.model_validate({"period": "quarter"})
    # activity: visits in a window, and the counts of the relative mode (window 28)
    _same(window_visits(reference, AS_OF, 30, offset=30),
          window_visits(table, AS_OF, 30, offset=30))
    activity = ActivityConfig(window_days=28)
    ts = pd.Timestamp(AS_OF)
    _same(_from_orders(frame["customer_key"], reference, ts, activity),
          _from_orders(frame["customer_key"], table, ts, activity))
    # warnings: this quarter, the same quarter last year and four trailing quarters, all from
    # the orders (the frame carries no value_period)
    _same(early_warnings(frame, reference, AS_OF, cfg),
          early_warnings(frame, table, AS_OF, cfg))
    # attendance: the top 20 by spend over 3 months, their 10-day buckets
    customers = frame[["customer_key", "customer_id"]]
    _same(attendance_sheet(reference, customers, AS_OF, top_n=20),
          attendance_sheet(table, customers, AS_OF, top_n=20))
    # channel and agent contributions, to date and this quarter, all and key accounts
    _same(channel_contribution(frame, reference, as_of=AS_OF, period="quarter"),
          channel_contribution(frame, table, as_of=AS_OF, period="quarter"))
    # the big-account tables the run keeps (the key-account review reads its accounts' orders)
    want = big_account_tables(frame, reference, None, None, as_of=AS_OF, period="quarter")
    got = big_account_tables(frame, table, None, None, as_of=AS_OF, period="quarter")
    assert sorted(want) == sorted(got) == ["channel_contribution", "key_account_review",
                                           "manager_performance"]
    for name in want:
        _same(want[name], got[name])


def test_duckdb_matches_pandas(orders, reference, frame):
    con, table = _duckdb_table(orders)
    try:
        check_all(reference, frame, table)
    finally:
        con.close()


def test_the_table_reads_no_order_after_its_date(orders, reference):
    con, table = _duckdb_table(orders)
    try:
        got = table.frame(None, ["customer_key", "ordered_at", "amount"])
        assert len(got) == len(reference) < len(orders)
        keys = [5, 10, 15]
        some = table.frame(None, customers=keys)
        assert set(some["customer_key"]) == set(keys)
        assert len(some) == reference["customer_key"].isin(keys).sum()
        # a subset past the IN-list size is a join with an in-memory table: same rows
        many = reference["customer_key"].unique()
        assert len(table.frame(None, customers=np.tile(many, 5))) == len(reference)
    finally:
        con.close()


def test_without_channels_there_is_no_contribution_table(orders, reference, frame):
    bare = orders.assign(channel=None, agent=None)
    con, table = _duckdb_table(bare)
    try:
        got = big_account_tables(frame, table, None, None, as_of=AS_OF, period="quarter")
        want = big_account_tables(frame, reference.assign(channel=None, agent=None), None,
                                  None, as_of=AS_OF, period="quarter")
        assert "channel_contribution" not in got and "channel_contribution" not in want
        _same(want["key_account_review"], got["key_account_review"])
    finally:
        con.close()


@pytest.mark.postgres
def test_postgres_matches_pandas(orders, reference, frame):
    import ibis

    conn = pg_connection()
    name = unique_name("orders")
    backend = ibis.connect(PG_URL)
    try:
        with duckdb.connect() as con:
            con.execute(DDL)
            con.register("incoming", orders[COLUMNS])
            typed = con.sql("SELECT order_id, customer_key, ordered_at::DATE AS ordered_at, "
                            "amount, cost, margin, is_refund, channel, agent "
                            "FROM incoming").to_arrow_table()
        backend.create_table(name, typed)
        check_all(reference, frame, OrderTable(backend.table(name), backend.to_pandas,
                                               as_of=AS_OF))
    finally:
        backend.drop_table(name, force=True)
        backend.disconnect()
        conn.close()


@pytest.mark.mysql
def test_mysql_matches_pandas(orders, reference, frame):
    import ibis

    from tierwise.engine import MySQLEngine

    conn = mysql_connection()
    name = unique_name("orders")
    rows = [tuple(None if pd.isna(v) else v for v in (
        r.order_id, int(r.customer_key), r.ordered_at.date(), float(r.amount), r.cost,
        r.margin, bool(r.is_refund), r.channel, r.agent))
        for r in orders[COLUMNS].itertuples()]
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE TABLE `{name}` (order_id VARCHAR(20), customer_key BIGINT, "
                        "ordered_at DATE, amount DOUBLE, cost DOUBLE, margin DOUBLE, "
                        "is_refund BOOLEAN, channel VARCHAR(20), agent VARCHAR(20))")
            cur.executemany(f"INSERT INTO `{name}` VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                            rows)
        schema = ibis.schema({"order_id": "string", "customer_key": "int64",
                              "ordered_at": "date", "amount": "float64", "cost": "float64",
                              "margin": "float64", "is_refund": "boolean",
                              "channel": "string", "agent": "string"})
        engine = MySQLEngine(MYSQL_URL, name, unique_name("results"))
        try:
            check_all(reference, frame, OrderTable(ibis.table(schema, name=name),
                                                   engine.to_pandas, as_of=AS_OF))
        finally:
            engine.close()
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS `{name}`")
        conn.close()


@pytest.mark.spark
def test_spark_matches_pandas(orders, reference, frame, tmp_path):
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed (pip install 'tierwise[spark]')")
    from tierwise.engine import SparkEngine, java_available, spark_session

    if not java_available():
        pytest.skip("no Java runtime (JAVA_HOME or java on the PATH) for Spark")
    con, _ = _duckdb_table(orders)
    path = tmp_path / "orders.parquet"
    con.execute(f"COPY orders TO '{path}' (FORMAT parquet)")
    con.close()
    session = spark_session("local[2]", shuffle_partitions=2,
                            warehouse_dir=tmp_path / "warehouse",
                            conf={"spark.default.parallelism": "2"})
    try:
        engine = SparkEngine(path, session=session)
        check_all(reference, frame, OrderTable.of(engine, AS_OF))
        engine.close()
    finally:
        session.stop()

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
from tierwise.backtest import outcomes
from tierwise.config import ActivityConfig, Config
from tierwise.engine import DuckDBEngine
from tierwise.engine.orders import OrderTable, group_sums
from tierwise.lifecycle.retention import cohort_table, retention_table
from tierwise.loyalty.levels import window_spend
from tierwise.lifecycle import attendance_sheet, early_warnings
from tierwise.lifecycle.states import _from_orders, window_visits
from tierwise.pipeline import RUN_ORDER_COLUMNS
from tierwise.tiering.big_accounts import big_account_tables, channel_contribution

AS_OF = dt.date(2024, 6, 20)  # mid-month and mid-quarter: the windows are cut "to date"
COLUMNS = ["order_id", "customer_key", "ordered_at", "amount", "cost", "margin", "is_refund",
           "channel", "agent", "store"]
DDL = ("CREATE TABLE orders (order_id VARCHAR, customer_key BIGINT, ordered_at DATE, "
       "amount DOUBLE, cost DOUBLE, margin DOUBLE, is_refund BOOLEAN, channel VARCHAR, "
       "agent VARCHAR, store VARCHAR)")


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
    # labels a warehouse may mangle: case (MySQL's default collation groups 'Store' with
    # 'store'), Chinese, a comma and quotes (CSV loading), the text 'NULL' (a NULL marker)
    channel = rng.choice(np.array(["store", "online", " phone ", "", None, "Store", "门店",
                                   'a,"b"', "NULL"], dtype=object), n,
                         p=[0.34, 0.26, 0.12, 0.05, 0.1, 0.04, 0.04, 0.03, 0.02])
    agent = rng.choice(np.array(["A-1", "B-2", None], dtype=object), n, p=[0.3, 0.2, 0.5])
    # drawn last (the columns above keep their draws); case and Chinese as for the channels
    store = rng.choice(np.array(["北京路店", "Mall", "mall", "Zoo", None], dtype=object), n,
                       p=[0.3, 0.25, 0.15, 0.1, 0.2])
    return pd.DataFrame({
        "order_id": [f"o{i}" for i in range(n)], "customer_key": keys.astype("int64"),
        "ordered_at": pd.to_datetime(start + days.astype("timedelta64[D]")),
        "amount": amount, "cost": cost, "margin": margin, "is_refund": refund,
        "channel": channel, "agent": agent, "store": store})


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
                "cost, margin, is_refund, channel, agent, store FROM incoming")
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


# ---- the run's steps besides the snapshot: pandas references written apart ----------------


def _purchases(reference: pd.DataFrame) -> pd.DataFrame:
    return reference[~reference["is_refund"]].assign(day=reference["ordered_at"])


def _cohorts_reference(reference: pd.DataFrame) -> pd.DataFrame:
    p = _purchases(reference)
    p = p.assign(month=p["day"].dt.to_period("M"))
    first = p.groupby("customer_key")["month"].min().rename("cohort")
    p = p.join(first, on="customer_key")
    active = p.groupby(["cohort", "month"])["customer_key"].nunique()
    sizes = first.value_counts()
    rows = []
    for cohort in sorted(sizes.index):
        for m in range((pd.Period(AS_OF, "M") - cohort).n + 1):
            n = int(active.get((cohort, cohort + m), 0))
            rows.append({"cohort": str(cohort), "months_since": m,
                         "customers": int(sizes[cohort]), "active": n,
                         "share": n / int(sizes[cohort])})
    return pd.DataFrame(rows)


def _retention_reference(reference: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    p = _purchases(reference)
    days = p.groupby("customer_key")["day"].nunique()
    per_store = p.dropna(subset=["store"]).groupby(["customer_key", "store"])["day"].nunique()
    main = {}
    for (key, store), n in sorted(per_store.items()):  # ties: the first name in sort order
        if key not in main or n > main[key][1]:
            main[key] = (store, n)
    who = people.set_index("customer_key")
    rows = []
    for by in ("all", "tier", "segment", "store"):
        groups: dict[str, list[int]] = {}
        for key in days.index:
            group = "all" if by == "all" else main[key][0] if by == "store" and key in main                 else who.at[key, by] if by != "store" and key in who.index else None
            if group is not None and group == group:
                groups.setdefault(str(group), []).append(key)
        for group in sorted(groups):
            keys = groups[group]
            repeat = sum(days[k] >= 2 for k in keys)
            churned = sum(who.at[k, "activity_state"] in ("dead", "buried")
                          for k in keys if k in who.index)
            rows.append({"by": by, "group": group, "customers": len(keys),
                         "repeat_customers": repeat, "repeat_rate": repeat / len(keys),
                         "churned": churned, "churn_rate": churned / len(keys)})
    return pd.DataFrame(rows)


def _spend_reference(reference: pd.DataFrame, window: str) -> pd.DataFrame:
    freq = {"month": "M", "quarter": "Q", "year": "Y"}[window]
    start = reference["ordered_at"].dt.to_period(freq).dt.start_time.astype("datetime64[us]")
    out = group_sums(reference["amount"], [reference["customer_key"], start.rename("w")])
    return pd.DataFrame({"customer_key": out.index.get_level_values(0),
                         "window_start": out.index.get_level_values(1), "spend": out.values})


def _first_orders_reference(reference: pd.DataFrame) -> pd.DataFrame:
    paid = reference[~reference["is_refund"] & (reference["amount"] > 0)]
    first = paid.groupby("customer_key")["ordered_at"].transform("min")
    day = paid[paid["ordered_at"] == first]
    revenue = group_sums(day["amount"], day["customer_key"])
    return pd.DataFrame({"customer_key": revenue.index.to_numpy(),
                         "first_order": day.groupby("customer_key")["ordered_at"].min()
                         .astype("datetime64[us]").to_numpy(),
                         "first_revenue": revenue.to_numpy()})


def check_store_steps(reference: pd.DataFrame, frame: pd.DataFrame, table: OrderTable) -> None:
    """The steps that read the store's own orders table before (issue 16 item 2)."""
    people = frame.assign(segment=np.where(frame["customer_key"] % 4 == 0, "vip", None),
                          activity_state=np.where(frame["days_since_last"] > 200, "dead",
                                                  "active"))
    _same(_cohorts_reference(reference), cohort_table(table, AS_OF))
    _same(_retention_reference(reference, people), retention_table(table, AS_OF, people))
    for window in ("month", "quarter", "year"):
        _same(_spend_reference(reference, window), window_spend(table, AS_OF, window))
    _same(_first_orders_reference(reference), table.first_orders(AS_OF))
    # the default as-of date and the backtest's outcome windows
    counts = reference.groupby("ordered_at").size()
    assert table.order_days() == ([d.date() for d in counts.index], counts.tolist())
    assert table.first_purchase() == reference.loc[~reference["is_refund"], "ordered_at"].min() \
        .date()
    start = AS_OF - dt.timedelta(days=90)
    want = outcomes(reference, start, AS_OF)
    _same(want.assign(bought=want["bought"].astype(bool)), table.outcomes(start, AS_OF))
    keys = frame["customer_key"].iloc[::3]
    hit = _purchases(reference)
    hit = hit[hit["customer_key"].isin(keys) & (hit["day"] > pd.Timestamp(start))]
    _same(hit.groupby("customer_key")["day"].max().astype("datetime64[us]"),
          table.last_purchases(keys, start, AS_OF).astype("datetime64[us]"))


def test_duckdb_matches_pandas(orders, reference, frame):
    con, table = _duckdb_table(orders)
    try:
        check_all(reference, frame, table)
        check_store_steps(reference, frame, table)
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


def _store_with(orders: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection whose ``orders`` table is laid out as the store's (what the engines
    export and push)."""
    con, _ = _duckdb_table(orders)
    return con


@pytest.mark.postgres
def test_postgres_matches_pandas(orders, reference, frame):
    """Through the run's path: the store's orders pushed to PostgreSQL, read by the engine."""
    from tierwise.engine import PostgresEngine

    conn = pg_connection()
    name = unique_name("orders")
    con = _store_with(orders)
    engine = PostgresEngine(PG_URL, name, unique_name("results"))
    try:
        assert engine.push_orders(con) == len(orders)
        assert set(RUN_ORDER_COLUMNS) <= set(engine.orders().columns)
        check_all(reference, frame, OrderTable.of(engine, AS_OF))
        check_store_steps(reference, frame, OrderTable.of(engine, AS_OF))
    finally:
        engine.close()
        con.close()
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {name}")
        conn.close()


@pytest.mark.mysql
@pytest.mark.parametrize("method", ["load", "insert"])
def test_mysql_matches_pandas(orders, reference, frame, method):
    """Through the run's path: the store's orders pushed to MariaDB / MySQL (``LOAD DATA`` and
    ``INSERT`` batches), read by the engine."""
    from tierwise.engine import MySQLEngine

    conn = mysql_connection()
    name = unique_name("orders")
    con = _store_with(orders)
    engine = MySQLEngine(MYSQL_URL, name, unique_name("results"))
    try:
        assert engine.push_orders(con, method=method) == len(orders)
        assert set(RUN_ORDER_COLUMNS) <= set(engine.orders().columns)
        check_all(reference, frame, OrderTable.of(engine, AS_OF))
        check_store_steps(reference, frame, OrderTable.of(engine, AS_OF))
    finally:
        engine.close()
        con.close()
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS `{name}`")
        conn.close()


@pytest.mark.mysql
def test_mysql_table_kept_without_labels_reads_the_features_columns(orders):
    """A warehouse table the user keeps without channel / agent: the engine's orders lack them
    (the run then reads the labels from the store), it does not fail."""
    from tierwise.engine import MySQLEngine

    conn = mysql_connection()
    name = unique_name("orders")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE TABLE `{name}` (customer_key BIGINT, ordered_at DATE, "
                        "amount DOUBLE, cost DOUBLE, margin DOUBLE, is_refund BOOLEAN)")
            cur.execute(f"INSERT INTO `{name}` VALUES (1, '2024-01-05', 20, NULL, NULL, 0)")
        engine = MySQLEngine(MYSQL_URL, name, unique_name("results"))
        try:
            assert "channel" not in engine.orders().columns
            assert OrderTable.of(engine, AS_OF).visits(AS_OF, 365).to_dict() == {1: 1}
        finally:
            engine.close()
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS `{name}`")
        conn.close()


@pytest.mark.spark
def test_spark_matches_pandas(orders, reference, frame, tmp_path):
    """Through the run's path: the store's orders exported to Parquet, read by Spark."""
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed (pip install 'tierwise[spark]')")
    from tierwise.engine import SparkEngine, export_orders_parquet, java_available, spark_session

    if not java_available():
        pytest.skip("no Java runtime (JAVA_HOME or java on the PATH) for Spark")
    con = _store_with(orders)
    path = tmp_path / "orders.parquet"
    assert export_orders_parquet(con, path) == len(orders)
    con.close()
    session = spark_session("local[2]", shuffle_partitions=2,
                            warehouse_dir=tmp_path / "warehouse",
                            conf={"spark.default.parallelism": "2"})
    try:
        engine = SparkEngine(path, session=session)
        assert set(RUN_ORDER_COLUMNS) <= set(engine.orders().columns)
        check_all(reference, frame, OrderTable.of(engine, AS_OF))
        check_store_steps(reference, frame, OrderTable.of(engine, AS_OF))
        engine.close()
    finally:
        session.stop()

"""The same config run on DuckDB, Spark, PostgreSQL and MariaDB stores the same snapshot (issue 16).

Each business (the restaurant and B2B demos' example files, and seeded orders with refunds, costs
and awkward channel / agent labels) is ingested into its own store and run once per engine; every
column of the stored snapshot and every table the run keeps is compared with the DuckDB run's.

Tolerance: text, codes, dates, counts and flags must be equal; floating-point columns may differ
by a relative 1e-9 (plus 1e-9 absolute for values near 0), and so may the numbers inside JSON text
(a tier's reason quotes the value and the cut it compared). Sums of money are exactly rounded in
every engine (``engine.orders._sum``), so the tolerance only absorbs the last bits of quotients and
means an engine computes in another order (a ``mean_amount`` is ``sum / count`` in one engine and
a running average in another); a real difference (a lost order, a label grouped with another, a
changed tier) is far above it.

Spark runs share one local session (``local[2]``, 2 shuffle partitions); the data are kept to a few
thousand orders because each Spark query costs about a second. Servers and Spark are skipped when
unreachable, failed with ``TIERWISE_REQUIRE_DBS=1``.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from _dbs import MYSQL_URL, PG_URL, dbs_required, mysql_connection, pg_connection, unique_name
from conftest import ROOT
from tierwise.config import load_config
from tierwise.demo.walkthrough import (
    B2B_CONFIG,
    B2B_END,
    RESTAURANT_CONFIG,
    RESTAURANT_END,
)
from tierwise.demo.loyalty import REWARD_SEED, REWARD_SHARE
from tierwise.engine import connect_engine
from tierwise.pipeline import _orders_engine, ingest, run
from tierwise.store import Store

RTOL = 1e-9
ATOL = 1e-9

SEEDED_CONFIG = """
as_of = "2024-06-20"
period = "quarter"
[sources.orders]
path = "orders.csv"
columns = { order_id = "bon", customer_id = "member_no", ordered_at = "paid_on", amount = "total", cost = "einkauf", margin = "marge", channel = "via", agent = "rep", store = "filiale" }
[value]
min_repeat_buyers = 20
[clustering]
enabled = false
[loyalty]
window = "quarter"
[[loyalty.level]]
code = "member"
name = "Member"
min_spend = 0
[[loyalty.level]]
code = "silver"
name = "Silver"
min_spend = 300
[[loyalty.level]]
code = "gold"
name = "Gold"
min_spend = 900
"""


# ---- the comparison -------------------------------------------------------------------------


def _float(s: pd.Series) -> bool:
    return pd.api.types.is_float_dtype(s.dtype)


def _same_value(x: object, y: object) -> bool:
    missing_x, missing_y = x is None or x is pd.NA or x is pd.NaT, y is None or y is pd.NA \
        or y is pd.NaT
    if isinstance(x, float) and np.isnan(x):
        missing_x = True
    if isinstance(y, float) and np.isnan(y):
        missing_y = True
    if missing_x or missing_y:
        return missing_x and missing_y
    if isinstance(x, str) and isinstance(y, str) and x != y:
        # JSON text (a tier's reason with the value and the cut it was compared with): the
        # same structure, numbers within the tolerance
        try:
            return _same_json(json.loads(x), json.loads(y))
        except ValueError:
            return False
    return bool(x == y)


def _same_json(x: object, y: object) -> bool:
    if isinstance(x, bool) or isinstance(y, bool):
        return x == y
    if isinstance(x, int | float) and isinstance(y, int | float):
        return bool(np.isclose(x, y, rtol=RTOL, atol=ATOL))
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_same_json(a, b) for a, b in zip(x, y, strict=True))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_same_json(x[k], y[k]) for k in x)
    return x == y


def differences(want: pd.DataFrame, got: pd.DataFrame, *, key: list[str], what: str
                ) -> list[str]:
    """Every column of ``got`` that differs from ``want`` (rows matched on ``key``), described."""
    if list(want.columns) != list(got.columns):
        return [f"{what}: columns {list(got.columns)} != {list(want.columns)}"]
    if len(want) != len(got):
        return [f"{what}: {len(got)} rows != {len(want)}"]
    want = want.sort_values(key, kind="stable").reset_index(drop=True)
    got = got.sort_values(key, kind="stable").reset_index(drop=True)
    out = []
    for column in want.columns:
        a, b = want[column], got[column]
        if _float(a) or _float(b):
            x = pd.to_numeric(a, errors="coerce").to_numpy(float, na_value=np.nan)
            y = pd.to_numeric(b, errors="coerce").to_numpy(float, na_value=np.nan)
            same = np.isclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=True)
        else:
            same = np.array([_same_value(x, y) for x, y in zip(a, b, strict=True)], dtype=bool)
        if not same.all():
            i = int(np.flatnonzero(~same)[0])
            out.append(f"{what}.{column}: {int((~same).sum())} row(s) differ, e.g. "
                       f"{dict(want.loc[i, key])}: {a.iloc[i]!r} != {b.iloc[i]!r}")
    return out


def snapshot_differences(reference: Path, other: Path) -> list[str]:
    """Differences between the latest runs of two stores: the snapshot's every column, then
    every table the run keeps."""
    with Store(reference, read_only=True) as a, Store(other, read_only=True) as b:
        out = differences(a.snapshot(words=False), b.snapshot(words=False),
                          key=["customer_id"], what="snapshot")
        names = a.run_table_names()
        if names != b.run_table_names():
            return [*out, f"tables {b.run_table_names()} != {names}"]
        for name in names:
            want, got = a.run_table(a.run_info()["run_id"], name, words=False), \
                b.run_table(b.run_info()["run_id"], name, words=False)
            if want is None or got is None:
                assert want is None and got is None, name
                continue
            out += differences(want, got, key=list(want.columns), what=name)
    return out


# ---- the businesses ---------------------------------------------------------------------------


def _restaurant(folder: Path) -> dt.date:
    for name in ("members.csv", "visits.csv", "survey.csv", "feedback.csv"):
        shutil.copy(ROOT / "examples" / "restaurant" / name, folder / name)
    (folder / "tierwise.toml").write_text(RESTAURANT_CONFIG.format(
        end=RESTAURANT_END, share=REWARD_SHARE, seed=REWARD_SEED), encoding="utf-8")
    return RESTAURANT_END


def _b2b(folder: Path) -> dt.date:
    for path in (ROOT / "examples" / "b2b").iterdir():
        shutil.copy(path, folder / path.name)
    # with its leads: prospects graded apart, converted by their first orders
    (folder / "tierwise.toml").write_text(B2B_CONFIG.format(end=B2B_END)
                                          + '\n[sources.leads]\npath = "leads.csv"\n',
                                          encoding="utf-8")
    return B2B_END


def _seeded(folder: Path) -> dt.date:
    from test_orders_in_engine import AS_OF, seeded_orders

    orders = seeded_orders(n_customers=250, seed=116)
    orders = orders.assign(customer_id=[f"S{k:05d}" for k in orders["customer_key"]],
                           ordered_at=orders["ordered_at"].dt.strftime("%Y-%m-%d"))
    # headers only the config's [sources.orders] columns map (the Parquet copy has the same)
    orders = orders[list(SEEDED_HEADERS)].rename(columns=SEEDED_HEADERS)
    orders.to_csv(folder / "orders.csv", index=False)
    # the same orders where a cluster keeps them: Parquet partitioned by month, typed dates
    parquet = orders.assign(paid_on=pd.to_datetime(orders["paid_on"]).dt.date,
                            month=orders["paid_on"].str[:7])
    parquet.to_parquet(folder / "orders_parquet", partition_cols=["month"], index=False)
    (folder / "tierwise.toml").write_text(SEEDED_CONFIG, encoding="utf-8")
    return AS_OF


SEEDED_HEADERS = {"order_id": "bon", "customer_id": "member_no", "ordered_at": "paid_on",
                  "amount": "total", "cost": "einkauf", "margin": "marge", "channel": "via",
                  "agent": "rep", "store": "filiale"}


BUSINESSES = {"restaurant": _restaurant, "b2b": _b2b, "seeded": _seeded}
#: Run tables (and snapshot columns) of the steps that read the store's own orders table before
#: issue 16 item 2 and now run on the engine: each business has some to compare.
MOVED_TABLES = {"restaurant": ("cohorts", "retention", "loyalty_levels", "backtest",
                               "backtest_calibration"),
                "b2b": ("cohorts", "retention", "prospects", "backtest",
                        "backtest_calibration"),
                "seeded": ("cohorts", "retention", "loyalty_levels", "backtest",
                           "backtest_calibration")}


def run_business(folder: Path, business: str, engine: str = "") -> Path:
    """Lay out ``business`` in ``folder`` with ``engine`` appended to its config, ingest, run;
    returns the store. With an engine, first checks that the run's order aggregates run on it
    (not on the store's DuckDB table)."""
    folder.mkdir(parents=True, exist_ok=True)
    as_of = BUSINESSES[business](folder)
    config = folder / "tierwise.toml"
    config.write_text(config.read_text(encoding="utf-8") + "\n" + engine, encoding="utf-8")
    cfg = load_config(config)
    ingest(cfg)
    if engine:
        with Store(cfg.store_path) as store, \
                connect_engine(cfg.engine, store.con, push=cfg.engine.push_orders) as on, \
                _orders_engine(on, store) as orders_on:
            assert orders_on is on, f"the run's order steps left {cfg.engine.backend}"
    run(cfg, as_of=as_of)
    return cfg.store_path


class _Runs(dict):
    """The DuckDB run of each business, made when a test first asks for it."""

    def __init__(self, base: Path) -> None:
        super().__init__()
        self.base = base

    def __missing__(self, business: str) -> Path:
        self[business] = run_business(self.base / business, business)
        return self[business]


@pytest.fixture(scope="module")
def duckdb_runs(tmp_path_factory) -> dict[str, Path]:
    return _Runs(tmp_path_factory.mktemp("duckdb"))


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    if importlib.util.find_spec("pyspark") is None:
        if dbs_required():
            pytest.fail("pyspark is not installed (TIERWISE_REQUIRE_DBS=1)")
        pytest.skip("pyspark is not installed (pip install 'tierwise[spark]')")
    from tierwise.engine import java_available, spark_session

    if not java_available():
        if dbs_required():
            pytest.fail("no Java runtime for Spark (TIERWISE_REQUIRE_DBS=1)")
        pytest.skip("no Java runtime (JAVA_HOME or java on the PATH) for Spark")
    session = spark_session("local[2]", shuffle_partitions=2,
                            warehouse_dir=tmp_path_factory.mktemp("spark-warehouse"),
                            conf={"spark.default.parallelism": "2"})
    yield session
    session.stop()


# ---- the tests --------------------------------------------------------------------------------


def test_the_comparison_sees_a_changed_value_and_a_lost_row():
    """The check can fail: one float moved past the tolerance, one label, one row fewer."""
    want = pd.DataFrame({"customer_id": ["a", "b"], "x": [1.0, np.nan], "tier": ["key", None]})
    assert differences(want, want.copy(), key=["customer_id"], what="t") == []
    near = want.assign(x=[1.0 + 1e-12, np.nan])
    assert differences(want, near, key=["customer_id"], what="t") == []
    far = want.assign(x=[1.0 + 1e-6, np.nan], tier=["key", "major"])
    assert [d.split(":")[0] for d in differences(want, far, key=["customer_id"], what="t")] \
        == ["t.x", "t.tier"]
    assert differences(want, want.iloc[:1], key=["customer_id"], what="t") \
        == ["t: 1 rows != 2"]
    # numbers inside JSON text: within the tolerance, not beyond it, and the words exactly
    why = pd.DataFrame({"customer_id": ["a"], "why": ['[["rank", {"v": 11.58942486999315}]]']})
    assert differences(why, why.assign(why=['[["rank", {"v": 11.589424869993151}]]']),
                       key=["customer_id"], what="t") == []
    assert differences(why, why.assign(why=['[["rank", {"v": 11.5894}]]']),
                       key=["customer_id"], what="t") != []
    assert differences(why, why.assign(why=['[["top", {"v": 11.58942486999315}]]']),
                       key=["customer_id"], what="t") != []


@pytest.mark.parametrize("business", list(BUSINESSES))
def test_the_moved_steps_have_results_to_compare(business, duckdb_runs):
    """The engines' comparison covers retention (by store where the orders name one), loyalty
    levels, prospects and the backtest: each business's DuckDB run has rows in them, so an engine
    that lost them (or computed them elsewhere) would differ."""
    with Store(duckdb_runs[business], read_only=True) as s:
        run_id = s.run_info()["run_id"]
        for name in MOVED_TABLES[business]:
            table = s.run_table(run_id, name, words=False)
            assert table is not None and len(table), f"{business}: no {name} rows"
        retention = s.run_table(run_id, "retention", words=False)
        if business != "b2b":
            assert "store" in set(retention["by"]), business
        if business != "b2b":
            assert s.snapshot(words=False)["loyalty_level"].notna().any()


@pytest.mark.spark
@pytest.mark.parametrize("business", list(BUSINESSES))
def test_spark_stores_the_same_snapshot(business, duckdb_runs, spark, tmp_path):
    store = run_business(tmp_path / business, business,
                         '[engine]\nbackend = "spark"\nurl = "local[2]"\n')
    with Store(store, read_only=True) as s:
        assert s.run_info()["engine"] == "spark"
    assert snapshot_differences(duckdb_runs[business], store) == []


@pytest.mark.spark
def test_spark_reading_the_orders_where_they_live_stores_the_same_snapshot(duckdb_runs, spark,
                                                                          tmp_path):
    """``[engine] orders_path``: Spark reads the partitioned Parquet copy of the orders (headers
    mapped by [sources.orders] columns) instead of the store's export: the same snapshot."""
    store = run_business(tmp_path / "seeded", "seeded",
                         '[engine]\nbackend = "spark"\nurl = "local[2]"\n'
                         'orders_path = "orders_parquet"\n')
    assert snapshot_differences(duckdb_runs["seeded"], store) == []
    # the rows the intake rejected from the CSV (dated after as_of) are rejected here too
    ingested = pd.read_csv(tmp_path / "seeded" / "rejects" / "orders.orders.rejects.csv")
    spark_rejects = pd.read_csv(tmp_path / "seeded" / "rejects" /
                                "orders_parquet.orders.rejects.csv")
    assert len(ingested) > 0
    assert sorted(spark_rejects["bon"]) == sorted(ingested["bon"])
    assert spark_rejects["reason"].str.contains("is after as_of").all()


@pytest.mark.parametrize("business", list(BUSINESSES))
@pytest.mark.parametrize("kind", [pytest.param("postgres", marks=pytest.mark.postgres),
                                  pytest.param("mysql", marks=pytest.mark.mysql)])
def test_the_warehouse_stores_the_same_snapshot(kind, business, duckdb_runs, tmp_path):
    url, connect = (PG_URL, pg_connection) if kind == "postgres" else (MYSQL_URL, mysql_connection)
    con = connect()
    orders, results = unique_name("orders"), unique_name("features")
    try:
        store = run_business(tmp_path / business, business,
                             f'[engine]\nbackend = "{kind}"\nurl = "{url}"\n'
                             f'orders_table = "{orders}"\nresults_table = "{results}"\n')
        assert snapshot_differences(duckdb_runs[business], store) == []
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {results}")
            cur.execute(f"DROP TABLE IF EXISTS {orders}")
        con.close()


@pytest.mark.spark
def test_spark_reading_the_orders_where_they_live_needs_no_orders_in_the_store(
        duckdb_runs, spark, tmp_path):
    """``[engine] orders_path`` with the store's ``orders`` table EMPTY: retention, cohorts,
    loyalty levels and the backtest (its first purchase and outcome windows) come from Spark's
    orders alone and equal the DuckDB run's over the ingested orders; so do the snapshot and
    every other run table of this business."""
    folder = tmp_path / "seeded"
    folder.mkdir()
    _seeded(folder)
    config = folder / "tierwise.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[engine]\nbackend = "spark"\n'
                      'url = "local[2]"\norders_path = "orders_parquet"\n', encoding="utf-8")
    cfg = load_config(config)
    ingest(cfg)  # the customers (created from the orders), then the orders are removed
    with Store(cfg.store_path) as store:
        store.con.execute("DELETE FROM orders")
        assert store.last_order_date() is None
    run(cfg)
    with Store(cfg.store_path, read_only=True) as store:
        assert store.last_order_date() is None
        names = store.run_table_names()
    assert set(MOVED_TABLES["seeded"]) <= set(names)
    assert snapshot_differences(duckdb_runs["seeded"], cfg.store_path) == []

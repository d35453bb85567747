"""The same features on PySpark local: lifetimes on CDNOW, the hand case, materialize.

One SparkSession (``local[2]``, 2 shuffle partitions) serves the whole module; queries are kept
few because each costs seconds on Spark.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

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
from tierwise.features import FEATURE_COLUMNS

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed (pip install 'tierwise[spark]')")
    from tierwise.engine import java_available, spark_session

    if not java_available():
        pytest.skip("no Java runtime (JAVA_HOME or java on the PATH) for Spark")
    session = spark_session("local[2]", shuffle_partitions=2,
                            warehouse_dir=tmp_path_factory.mktemp("spark-warehouse"),
                            conf={"spark.default.parallelism": "2"})
    yield session
    session.stop()


@pytest.fixture(scope="module")
def cdnow_engine(spark, tmp_path_factory):
    from tierwise.engine import SparkEngine, export_orders_parquet

    con = cdnow_store()
    path = tmp_path_factory.mktemp("cdnow") / "orders.parquet"
    export_orders_parquet(con, path)
    engine = SparkEngine(path, session=spark)
    yield engine, con
    engine.close()
    con.close()


def test_rfm_matches_lifetimes_on_cdnow(cdnow_engine):
    engine, _ = cdnow_engine
    as_of = CDNOW_DATES[1]  # mid-period: 1997-09-30
    assert_matches_lifetimes(engine.to_pandas(engine.rfm(as_of)), lifetimes_summary(as_of))


def test_features_match_lifetimes_and_duckdb_on_cdnow(cdnow_engine):
    engine, con = cdnow_engine
    as_of = CDNOW_DATES[0]  # 1998-06-30
    got = engine.to_pandas(engine.features(as_of))
    assert list(got.columns) == list(FEATURE_COLUMNS)
    assert_matches_lifetimes(got, lifetimes_summary(as_of))
    assert_same_features(got, duckdb_features(con, as_of))


def test_hand_case_and_materialize(spark, tmp_path):
    from tierwise.engine import SparkEngine, export_orders_parquet

    con = make_store(HAND_ROWS)
    path = tmp_path / "orders.parquet"
    export_orders_parquet(con, path)
    engine = SparkEngine(path, session=spark, results_table="tw_features")
    engine.materialize(engine.features(AS_OF))
    kept = spark.table("tw_features").toPandas()
    assert_same_features(kept[list(FEATURE_COLUMNS)], duckdb_features(con, AS_OF))
    # replacing works, also once the files exist
    engine.materialize(engine.rfm(AS_OF))
    # the RFM summary holds the customers with a purchase (a refund-only customer has features)
    assert spark.table("tw_features").count() == int((kept["n_orders"] > 0).sum())
    engine.close()
    assert not spark.sparkContext._jsc.sc().isStopped()  # a given session is never stopped
    assert not spark.catalog.tableExists(engine.orders_view)  # its temporary view is gone


def test_engines_sharing_a_session_keep_their_own_orders(cdnow_engine, spark, tmp_path):
    from tierwise.engine import SparkEngine, export_orders_parquet

    engine, _ = cdnow_engine
    path = tmp_path / "hand.parquet"
    export_orders_parquet(make_store(HAND_ROWS), path)
    other = SparkEngine(path, session=spark)
    assert engine.orders_view != other.orders_view
    assert len(engine.to_pandas(engine.orders())) > len(other.to_pandas(other.orders()))
    other.close()


def test_connect_engine_spark_stages_the_store(spark):
    from tierwise.config import EngineConfig
    from tierwise.engine import SparkEngine, connect_engine

    con = make_store(HAND_ROWS)
    engine = connect_engine(EngineConfig(backend="spark", url="local[2]"), con)
    assert isinstance(engine, SparkEngine) and engine.session is spark  # the active session
    staged = Path(engine.orders_parquet)
    assert len(engine.to_pandas(engine.orders())) == len(HAND_ROWS)
    engine.close()
    assert not staged.exists()
    assert not spark.sparkContext._jsc.sc().isStopped()  # not started by the engine: kept


def test_connect_engine_spark_stages_under_the_configured_folder(spark, tmp_path):
    from tierwise.config import EngineConfig
    from tierwise.engine import connect_engine

    con = make_store(HAND_ROWS)
    cfg = EngineConfig(backend="spark", url="local[2]", staging_dir=tmp_path / "shared")
    engine = connect_engine(cfg, con)
    staged = Path(engine.orders_parquet)
    assert (tmp_path / "shared") in staged.parents
    assert len(engine.to_pandas(engine.orders())) == len(HAND_ROWS)
    engine.close()
    assert not staged.exists()


# ---- [engine] orders_path: orders read where they live -------------------------------------


def _source(path, **kwargs):
    import pandas as pd

    from tierwise.engine import SparkOrdersSource

    customers = pd.DataFrame({"customer_id": ["M1", "M2"], "customer_key": [1, 2]})
    return SparkOrdersSource(path=str(path), customers=customers,
                             refund_statuses=("refunded",), **kwargs)


def test_orders_path_checks_each_row_and_writes_the_rejects(spark, tmp_path):
    import datetime as dt

    import pandas as pd

    from tierwise.engine import SparkEngine
    from tierwise.io.rejects import read_rejects

    rows = pd.DataFrame({
        "会员卡号": ["M1", " ", "M1", "M2", "M2", "M9", "M1", "M2"],
        "消费时间": ["2024-01-05", "2024-01-06", "2024-02-31", "2024-01-07", "2024-01-08",
                 "2024-01-09", "1979-12-31", "2024-01-10"],
        "消费金额": ["20.5", "3", "4", "abc", "2e12", "7", "8", "9"],
        "状态": [None, None, None, None, None, None, None, "Refunded"]})
    folder = tmp_path / "orders"
    folder.mkdir()
    rows.to_parquet(folder / "part-0.parquet", index=False)
    source = _source(folder, rejects_dir=tmp_path / "rejects",
                     earliest_date=dt.date(1980, 1, 1))
    engine = SparkEngine(None, session=spark, source=source)
    try:
        got = engine.to_pandas(engine.orders()).sort_values("ordered_at")
        assert got["customer_key"].tolist() == [1, 2]
        assert got["amount"].tolist() == [20.5, 9.0]
        assert got["is_refund"].tolist() == [False, True]  # a status listed as a refund
    finally:
        engine.close()
    rejects = read_rejects(source.rejects_file)
    assert source.rejects_file == tmp_path / "rejects" / "orders.orders.rejects.csv"
    assert rejects["line"].astype(int).tolist() == [2, 3, 4, 5, 6, 7]
    assert all(str(s).endswith("part-0.parquet") for s in rejects["source"])
    reasons = rejects["reason"].tolist()
    assert reasons[0] == "customer_id is missing"
    assert "2024-02-31 is not a date" in reasons[1]
    assert "abc is not a number" in reasons[2]
    assert "max_amount" in reasons[3]
    assert "M9 is not in the store" in reasons[4]
    assert "earliest_date" in reasons[5]
    assert sum(source.rejected.values()) == 6
    assert rejects["消费金额"].tolist()[2] == "abc"  # the original value, as read


def test_orders_path_names_the_missing_column_and_refuses_order_lines(spark, tmp_path):
    import pandas as pd

    from tierwise.engine import SparkEngine
    from tierwise.errors import ConfigError, DataContractError

    path = tmp_path / "orders.parquet"
    pd.DataFrame({"member": ["M1"], "ordered_at": ["2024-01-05"]}).to_parquet(path)
    with pytest.raises(DataContractError, match=r"amount.*\[sources\.orders\.columns\]"):
        SparkEngine(None, session=spark, source=_source(path, columns={"customer_id": "member"}))
    lines = tmp_path / "lines.parquet"
    pd.DataFrame({"customer_id": ["M1"], "ordered_at": ["2024-01-05"], "amount": [2.0],
                  "quantity": [2]}).to_parquet(lines)
    with pytest.raises(ConfigError, match="order lines"):
        SparkEngine(None, session=spark, source=_source(lines))
    with pytest.raises(DataContractError, match="not found"):
        SparkEngine(None, session=spark, source=_source(tmp_path / "nowhere"))


def test_orders_path_needs_the_spark_backend():
    from pydantic import ValidationError

    from tierwise.config import EngineConfig

    with pytest.raises(ValidationError, match="Spark engine only"):
        EngineConfig(backend="postgres", orders_path="orders/")
    assert EngineConfig(backend="spark", orders_path="orders/").orders_path == "orders/"

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

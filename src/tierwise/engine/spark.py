"""The Spark engine: features computed by Spark over the store's orders exported to Parquet.

Needs the ``[spark]`` extra (``pyspark``, Ibis' PySpark backend) and Java 17. ``master`` is
``local[N]`` to run on this machine or a cluster URL (``spark://host:7077``, ``yarn``); on a
cluster, the Parquet file must be on storage every executor can read (HDFS, S3, a shared disk).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataContractError, MissingDependencyError, TierwiseError
from ..features.behaviour import ORDER_COLUMNS
from .base import Engine, split_table_name

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

    from .spark_source import SparkOrdersSource

ORDERS_VIEW = "tierwise_orders"


def require_pyspark() -> None:
    """Raise :class:`MissingDependencyError` unless pyspark is installed."""
    if importlib.util.find_spec("pyspark") is None:
        raise MissingDependencyError("pyspark", "spark", "The Spark engine")


def java_available() -> bool:
    """Whether a Java runtime can be found (``JAVA_HOME`` or ``java`` on the PATH)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


def _local_cores(master: str) -> int:
    """Cores of a ``local``, ``local[N]``, ``local[*]`` or ``local[N,F]`` master."""
    if not master.startswith("local["):
        return 1
    first = master[len("local["):].rstrip("]").split(",")[0]
    return int(first) if first.isdigit() else (os.cpu_count() or 2)


def spark_session(master: str = "local[2]", *, app_name: str = "tierwise",
                  shuffle_partitions: int | None = None, warehouse_dir: Path | str | None = None,
                  conf: dict[str, str] | None = None) -> Any:
    """Start (or get) a SparkSession suited to tierwise.

    Parameters
    ----------
    master
        ``local[N]`` or a cluster URL.
    shuffle_partitions
        ``spark.sql.shuffle.partitions``; default: 4 x cores in local mode, Spark's default
        otherwise. Spark's default of 200 makes small local jobs slow.
    warehouse_dir
        ``spark.sql.warehouse.dir``, where :meth:`SparkEngine.materialize` writes tables.
    conf
        Any other Spark settings.
    """
    require_pyspark()
    if master.startswith("local") and not java_available():
        raise TierwiseError("the Spark engine needs Java (17), which was not found",
                            "install a Java 17 runtime and set JAVA_HOME")
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC"))
    if shuffle_partitions is None and master.startswith("local"):
        shuffle_partitions = 4 * _local_cores(master)
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    if warehouse_dir is not None:
        builder = builder.config("spark.sql.warehouse.dir", str(Path(warehouse_dir).resolve()))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return session
    except Exception as exc:  # py4j / JVM start-up failures have no common base class
        raise TierwiseError(f"could not start Spark (master {master!r}): {exc}",
                            "check Java 17 (JAVA_HOME) and the master URL") from exc


class SparkEngine(Engine):
    """Features computed by Spark over orders in Parquet.

    Parameters
    ----------
    orders_parquet
        The orders in Parquet with the store's columns (see
        :func:`tierwise.engine.export_orders_parquet`); None with ``source``.
    source
        Instead: orders read where they live, mapped and checked in Spark
        (:class:`~tierwise.engine.spark_source.SparkOrdersSource`, ``[engine] orders_path``).
    master
        ``local[N]`` (default ``local[2]``) or a cluster URL; ignored when ``session`` is given.
    session
        An existing SparkSession to use. The engine stops only a session it started itself
        (not one given here, nor one already active in the process).
    results_table
        Default table name for :meth:`materialize` (a table in Spark's warehouse).
    warehouse_dir
        Where materialized tables are written when the engine starts its own session.
    """

    name = "spark"

    def __init__(self, orders_parquet: Path | str | None, master: str = "local[2]", *,
                 session: Any = None, results_table: str = "tierwise_features",
                 warehouse_dir: Path | str | None = None,
                 source: SparkOrdersSource | None = None) -> None:
        require_pyspark()
        import ibis

        split_table_name(results_table, key="engine.results_table")
        if (orders_parquet is None) == (source is None):
            raise TypeError("give exactly one of orders_parquet or source")
        self.source = source
        self.orders_parquet = str(orders_parquet if source is None else source.path)
        if source is None and "://" not in self.orders_parquet \
                and not Path(self.orders_parquet).exists():
            raise DataContractError(f"orders Parquet {self.orders_parquet} not found",
                                    "export it with tierwise.engine.export_orders_parquet")
        self.results_table = results_table
        if session is None:
            from pyspark.sql import SparkSession

            # A session already running in this process (getOrCreate returns it) is not ours.
            self._owns_session = SparkSession.getActiveSession() is None
            session = spark_session(master, warehouse_dir=warehouse_dir)
        else:
            self._owns_session = False
        self.session = session
        self._backend = ibis.pyspark.connect(self.session)
        # one temporary view per engine: engines sharing a session must not see each other's
        self.orders_view = f"{ORDERS_VIEW}_{uuid.uuid4().hex[:10]}"
        self._frame = None
        if source is None:
            self._orders = self._backend.read_parquet(self.orders_parquet,
                                                      table_name=self.orders_view)
        else:  # read where the orders live, checked in Spark; kept for the run's many queries
            from pyspark import StorageLevel

            self._frame = source.read(self.session).persist(StorageLevel.MEMORY_AND_DISK)
            self._frame.createOrReplaceTempView(self.orders_view)
            self._orders = self._backend.table(self.orders_view)
        missing = [c for c in ORDER_COLUMNS if c not in self._orders.schema()]
        if missing:
            raise DataContractError(
                f"{self.orders_parquet} lacks column(s) {', '.join(missing)}",
                "export the store's orders with tierwise.engine.export_orders_parquet")

    def orders(self) -> ir.Table:
        return self._orders

    def to_pandas(self, expr: ir.Table) -> pd.DataFrame:
        return self._backend.to_pandas(expr)

    def materialize(self, expr: ir.Table, table_name: str | None = None) -> None:
        """Write ``expr`` as a Parquet table in Spark's warehouse folder, replacing it.

        The table is registered with an explicit location (``<warehouse>/<table>``, or
        ``<warehouse>/<schema>.db/<table>``), so a later session can replace it even when its
        catalog (in-memory in local mode) has forgotten the table.
        """
        name = table_name or self.results_table
        schema, table = split_table_name(name)
        warehouse = self.session.conf.get("spark.sql.warehouse.dir").rstrip("/")
        location = f"{warehouse}/{schema}.db/{table}" if schema else f"{warehouse}/{table}"
        frame = self.session.sql(self._backend.compile(expr))
        frame.write.mode("overwrite").option("path", location).saveAsTable(name)

    def close(self) -> None:
        if self._frame is not None:
            self._frame.unpersist()
        if self._owns_session:
            self.session.stop()
        else:
            self.session.catalog.dropTempView(self.orders_view)


__all__ = ["ORDERS_VIEW", "SparkEngine", "java_available", "require_pyspark", "spark_session"]

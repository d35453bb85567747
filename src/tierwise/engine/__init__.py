"""Where per-customer computation runs: DuckDB (default), Spark, PostgreSQL or MySQL.

One seam, :class:`Engine`: ``orders()`` gives the orders as an Ibis table, the feature
expressions of :mod:`tierwise.features` are built on it, and ``to_pandas`` / ``materialize``
run them in the backend. :func:`connect_engine` picks the engine from ``[engine]`` in the config.

Examples
--------
>>> import datetime as dt, duckdb
>>> from tierwise.config import EngineConfig
>>> con = duckdb.connect()
>>> _ = con.execute("CREATE TABLE orders AS SELECT 'o1' AS order_id, 1::BIGINT AS customer_key, "
...     "DATE '2024-01-05' AS ordered_at, 20.0 AS amount, NULL::DOUBLE AS cost, "
...     "NULL::DOUBLE AS margin, false AS is_refund")
>>> with connect_engine(EngineConfig(), con) as engine:
...     engine.materialize(engine.features(dt.date(2024, 1, 31)))
>>> con.execute("SELECT customer_key, T FROM tierwise_features").fetchall()
[(1, 26)]
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ._duckdb import DuckDBEngine, export_orders_parquet
from .base import Engine, split_table_name
from .spark import SparkEngine, java_available, spark_session
from .spark_source import SparkOrdersSource
from .warehouse import MySQLEngine, PostgresEngine, push_orders

if TYPE_CHECKING:
    import duckdb

    from ..config import EngineConfig


class _StagedSparkEngine(SparkEngine):
    """A SparkEngine over a Parquet export it removes on close."""

    def __init__(self, staging_dir: Path, *args: object, **kwargs: object) -> None:
        self._staging_dir = staging_dir
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        try:
            super().close()
        finally:
            shutil.rmtree(self._staging_dir, ignore_errors=True)


def connect_engine(cfg: EngineConfig, con: duckdb.DuckDBPyConnection, *,
                   push: bool = False, orders_source: SparkOrdersSource | None = None
                   ) -> Engine:
    """The engine ``cfg.backend`` names, wired to the store.

    Parameters
    ----------
    cfg
        The ``[engine]`` section of the config.
    con
        The store's DuckDB connection.
    push
        For ``postgres`` / ``mysql``: first load the store's orders into ``cfg.orders_table``
        (replacing it). Without it the warehouse table must already hold the orders.
    orders_source
        For ``spark``: read the orders from there (``[engine] orders_path``, see
        :meth:`SparkOrdersSource.from_config`) instead of exporting the store's.

    Returns
    -------
    Engine
        Close it (or use it as a context manager) when done.

    Raises
    ------
    MissingDependencyError
        pyspark / psycopg / pymysql is not installed (install the extra it names).
    ConfigError
        A warehouse backend without ``engine.url``.

    Notes
    -----
    ``spark`` exports the store's orders to Parquet in a fresh folder under
    ``engine.staging_dir`` (default: this machine's temp folder, which suits ``local[N]``
    masters; the default master is ``local[2]`` when ``engine.url`` is unset). On a cluster,
    point ``staging_dir`` at storage every executor can read.
    """
    backend = cfg.backend
    if backend == "duckdb":
        return DuckDBEngine(con, results_table=cfg.results_table)
    if backend == "spark":
        from .spark import require_pyspark

        require_pyspark()
        if orders_source is not None:
            return SparkEngine(None, cfg.url or "local[2]", results_table=cfg.results_table,
                               source=orders_source)
        base = None
        if cfg.staging_dir is not None:
            base = Path(cfg.staging_dir)
            base.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="tierwise-spark-", dir=base))
        try:
            path = staging / "orders.parquet"
            export_orders_parquet(con, path)
            return _StagedSparkEngine(staging, path, cfg.url or "local[2]",
                                      results_table=cfg.results_table)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    if not cfg.url:
        raise ConfigError(f"engine.backend = '{backend}' needs engine.url",
                          f"set url = '{_EXAMPLE_URLS[backend]}' in [engine]")
    engine: PostgresEngine | MySQLEngine
    if backend == "postgres":
        engine = PostgresEngine(cfg.url, cfg.orders_table, cfg.results_table)
    elif backend == "mysql":
        engine = MySQLEngine(cfg.url, cfg.orders_table, cfg.results_table)
    else:  # pragma: no cover - EngineConfig validates the backend
        raise ConfigError(f"unknown engine backend {backend!r}",
                          "use one of: duckdb, spark, postgres, mysql")
    if push:
        try:
            engine.push_orders(con)
        except BaseException:
            engine.close()
            raise
    return engine


_EXAMPLE_URLS = {
    "postgres": "postgresql://user@host:5432/database",
    "mysql": "mysql://user@host:3306/database",
}

__all__ = [
    "DuckDBEngine",
    "Engine",
    "MySQLEngine",
    "PostgresEngine",
    "SparkEngine",
    "SparkOrdersSource",
    "connect_engine",
    "export_orders_parquet",
    "java_available",
    "push_orders",
    "spark_session",
    "split_table_name",
]

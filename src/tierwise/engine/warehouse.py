"""Warehouse engines: features computed inside PostgreSQL or MySQL / MariaDB.

The orders are read from a table in the warehouse (``orders_table``, with the store's columns),
either one the user already keeps there or one loaded from the store by :func:`push_orders`.
Results stay in the warehouse (``CREATE TABLE ... AS``) unless asked for with ``to_pandas``.

- PostgreSQL runs through Ibis' PostgreSQL backend (needs the ``[postgres]`` extra: psycopg 3).
- MySQL / MariaDB: Ibis' MySQL backend needs ``mysqlclient`` (C headers to build), so the same
  Ibis expression is compiled with ``ibis.to_sql(expr, dialect="mysql")`` and executed through
  PyMySQL (the ``[mysql]`` extra). MySQL 8 / MariaDB 10.2+ (window functions) is required.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

import duckdb
import ibis
import sqlglot as sg

from ..errors import ConfigError, MissingDependencyError, StoreError
from ..features.behaviour import ORDERS_SCHEMA
from ._duckdb import EXPORT_COLUMNS, ORDERS_TABLE, _check_store
from .base import Engine, split_table_name

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

_PG_TYPES = {
    "order_id": "TEXT", "customer_key": "BIGINT", "ordered_at": "DATE",
    "amount": "DOUBLE PRECISION", "cost": "DOUBLE PRECISION", "margin": "DOUBLE PRECISION",
    "is_refund": "BOOLEAN", "channel": "TEXT", "agent": "TEXT", "store": "TEXT",
}
_MYSQL_TYPES = {
    "order_id": "VARCHAR(255)", "customer_key": "BIGINT", "ordered_at": "DATE",
    "amount": "DOUBLE", "cost": "DOUBLE", "margin": "DOUBLE", "is_refund": "BOOLEAN",
    # binary collation: MySQL's default (case- and accent-insensitive) would group 'Store' with
    # 'store' where DuckDB, Spark, PostgreSQL and pandas keep them apart
    "channel": "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    "agent": "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    "store": "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
}
#: Text columns of the orders a run groups by (channel and agent contributions, the
#: retention's stores).
LABEL_COLUMNS = ("channel", "agent", "store")
_COPY_CHUNK = 1 << 20
_INSERT_BATCH = 10_000


def _require(module: str, package: str, extra: str, purpose: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(package, extra, purpose)


def _quote(name: str, dialect: str) -> str:
    schema, table = split_table_name(name)
    return sg.table(table, db=schema, quoted=True).sql(dialect)


def _url_kind(url: str) -> Literal["postgres", "mysql"]:
    scheme = urlsplit(url).scheme.lower()
    if scheme.startswith(("postgres", "postgresql")):
        return "postgres"
    if scheme.startswith(("mysql", "mariadb")):
        return "mysql"
    raise ConfigError(f"engine url {url!r} is not a PostgreSQL or MySQL URL",
                      "use postgresql://user@host:5432/db or mysql://user@host:3306/db")


@contextlib.contextmanager
def _orders_csv(con: duckdb.DuckDBPyConnection, *, null: str, bool_as_int: bool,
                quote_text: bool) -> Iterator[Path]:
    """The store's orders written by DuckDB to a temporary CSV file (no header)."""
    _check_store(con)
    cols = ["CAST(is_refund AS INTEGER) AS is_refund" if c == "is_refund" and bool_as_int
            else c for c in EXPORT_COLUMNS]
    options = ["FORMAT csv", "HEADER false", f"NULLSTR '{null}'"]
    if quote_text:
        # quoted, a text 'NULL' stays text (the NULL string marks missing values)
        options.append("FORCE_QUOTE (order_id, channel, agent, store)")
    fd, name = tempfile.mkstemp(prefix="tierwise-orders-", suffix=".csv")
    os.close(fd)
    path = Path(name)
    try:
        literal = str(path).replace("'", "''")
        con.execute(f"COPY (SELECT {', '.join(cols)} FROM {ORDERS_TABLE}) TO '{literal}' "
                    f"({', '.join(options)})")
        yield path
    finally:
        path.unlink(missing_ok=True)


def _count_orders(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute(f"SELECT count(*) FROM {ORDERS_TABLE}").fetchone()[0])


# --------------------------------------------------------------------------------------------
# PostgreSQL


def _pg_connect(url: str) -> Any:
    _require("psycopg", "psycopg", "postgres", "The PostgreSQL engine")
    import psycopg

    try:
        return psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=False)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to PostgreSQL at {_safe_url(url)}: {exc}",
                         "check engine.url, the server and the credentials") from exc


def push_orders_postgres(con: duckdb.DuckDBPyConnection, url: str,
                         orders_table: str = "tierwise_orders") -> int:
    """Load the store's orders into a PostgreSQL table (replaced) with ``COPY``.

    Returns the number of rows loaded. The table is replaced in one transaction: readers see
    either the old or the new orders.
    """
    target = _quote(orders_table, "postgres")
    columns = ", ".join(f"{c} {_PG_TYPES[c]}" for c in EXPORT_COLUMNS)
    with _orders_csv(con, null="", bool_as_int=False, quote_text=False) as csv_path, \
            _pg_connect(url) as pg:
        with pg.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {target}")
            cur.execute(f"CREATE TABLE {target} ({columns})")
            with cur.copy(f"COPY {target} ({', '.join(EXPORT_COLUMNS)}) FROM STDIN "
                          "(FORMAT csv, NULL '')") as copy, csv_path.open("rb") as fh:
                while chunk := fh.read(_COPY_CHUNK):
                    copy.write(chunk)
            cur.execute(f"ANALYZE {target}")
            cur.execute(f"SELECT count(*) FROM {target}")
            n = int(cur.fetchone()[0])
        pg.commit()
    return n


class PostgresEngine(Engine):
    """Features computed inside PostgreSQL, through Ibis' PostgreSQL backend.

    Parameters
    ----------
    url
        ``postgresql://user:password@host:5432/database``.
    orders_table
        The warehouse table holding the orders (the store's columns; see
        :func:`push_orders`), optionally ``schema.table``.
    results_table
        Default table for :meth:`materialize`, replaced on each run.
    """

    name = "postgres"

    def __init__(self, url: str, orders_table: str = "tierwise_orders",
                 results_table: str = "tierwise_features") -> None:
        _require("psycopg", "psycopg", "postgres", "The PostgreSQL engine")
        split_table_name(orders_table, key="engine.orders_table")
        split_table_name(results_table, key="engine.results_table")
        self.url, self.orders_table, self.results_table = url, orders_table, results_table
        try:
            self._backend = ibis.connect(url.replace("postgres://", "postgresql://", 1))
        except Exception as exc:  # psycopg.OperationalError and URL errors
            raise StoreError(f"cannot connect to PostgreSQL at {_safe_url(url)}: {exc}",
                             "check engine.url, the server and the credentials") from exc

    def push_orders(self, con: duckdb.DuckDBPyConnection) -> int:
        """Load the store's orders into :attr:`orders_table` (see :func:`push_orders`)."""
        return push_orders_postgres(con, self.url, self.orders_table)

    def orders(self) -> ir.Table:
        schema, table = split_table_name(self.orders_table)
        return self._backend.table(table, database=schema)

    def to_pandas(self, expr: ir.Table) -> pd.DataFrame:
        return self._backend.to_pandas(expr)

    def materialize(self, expr: ir.Table, table_name: str | None = None) -> None:
        schema, table = split_table_name(table_name or self.results_table)
        self._backend.create_table(table, expr, database=schema, overwrite=True)

    def close(self) -> None:
        self._backend.disconnect()


# --------------------------------------------------------------------------------------------
# MySQL / MariaDB


def _mysql_params(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    if not parts.hostname:
        raise ConfigError(f"engine url {_safe_url(url)} has no host",
                          "use mysql://user:password@host:3306/database")
    params: dict[str, Any] = {
        "host": parts.hostname,
        "port": parts.port or 3306,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "database": parts.path.lstrip("/") or None,
        "charset": "utf8mb4",
        "autocommit": True,
        "local_infile": True,
    }
    query = parse_qs(parts.query)
    if "charset" in query:
        params["charset"] = query["charset"][0]
    return params


def _mysql_connect(url: str) -> Any:
    _require("pymysql", "pymysql", "mysql", "The MySQL engine")
    import pymysql

    try:
        return pymysql.connect(**_mysql_params(url))
    except pymysql.MySQLError as exc:
        raise StoreError(f"cannot connect to MySQL at {_safe_url(url)}: {exc}",
                         "check engine.url, the server and the credentials") from exc


def push_orders_mysql(con: duckdb.DuckDBPyConnection, url: str,
                      orders_table: str = "tierwise_orders", *,
                      method: Literal["auto", "load", "insert"] = "auto") -> int:
    """Load the store's orders into a MySQL / MariaDB table (replaced).

    ``method="load"`` streams a CSV file with ``LOAD DATA LOCAL INFILE`` (needs the server's
    ``local_infile`` on); ``"insert"`` sends multi-row ``INSERT`` batches; ``"auto"`` tries the
    first and falls back to the second. The new table is built under a temporary name and
    swapped in with one ``RENAME TABLE``. Returns the number of rows loaded.
    """
    _require("pymysql", "pymysql", "mysql", "The MySQL engine")
    import pymysql

    schema, table = split_table_name(orders_table, key="engine.orders_table")
    staging_name = f"{schema + '.' if schema else ''}{table}_load_{uuid.uuid4().hex[:8]}"
    target, staging = _quote(orders_table, "mysql"), _quote(staging_name, "mysql")
    columns = ", ".join(f"`{c}` {_MYSQL_TYPES[c]}" for c in EXPORT_COLUMNS)
    conn = _mysql_connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE TABLE {staging} ({columns})")
            try:
                loaded = False
                if method in ("auto", "load"):
                    try:
                        _mysql_load_data(con, cur, staging)
                        loaded = True
                    except pymysql.MySQLError:
                        if method == "load":
                            raise
                if not loaded:
                    _mysql_insert_batches(con, cur, staging)
                cur.execute(f"SELECT count(*) FROM {staging}")
                n = int(cur.fetchone()[0])
                _mysql_swap(cur, staging, target, staging_name, orders_table)
            except BaseException:
                cur.execute(f"DROP TABLE IF EXISTS {staging}")
                raise
    finally:
        conn.close()
    return n


def _mysql_load_data(con: duckdb.DuckDBPyConnection, cur: Any, staging: str) -> None:
    with _orders_csv(con, null="NULL", bool_as_int=True, quote_text=True) as csv_path:
        literal = str(csv_path).replace("\\", "\\\\").replace("'", "\\'")
        cur.execute(
            f"LOAD DATA LOCAL INFILE '{literal}' INTO TABLE {staging} CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
            f"LINES TERMINATED BY '\\n' ({', '.join(EXPORT_COLUMNS)})")


def _mysql_insert_batches(con: duckdb.DuckDBPyConnection, cur: Any, staging: str) -> None:
    placeholders = ", ".join(["%s"] * len(EXPORT_COLUMNS))
    sql = f"INSERT INTO {staging} ({', '.join(EXPORT_COLUMNS)}) VALUES ({placeholders})"
    reader = con.cursor()
    try:
        reader.execute(f"SELECT {', '.join(EXPORT_COLUMNS)} FROM {ORDERS_TABLE}")
        while rows := reader.fetchmany(_INSERT_BATCH):
            cur.executemany(sql, rows)
    finally:
        reader.close()


def _mysql_swap(cur: Any, staging: str, target: str, staging_name: str, target_name: str
                ) -> None:
    """Put ``staging`` in place of ``target`` (which may not exist) with one RENAME TABLE."""
    schema, table = split_table_name(target_name)
    cur.execute("SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = COALESCE(%s, DATABASE()) AND table_name = %s",
                (schema, table))
    if int(cur.fetchone()[0]) == 0:
        cur.execute(f"RENAME TABLE {staging} TO {target}")
        return
    old = _quote(f"{staging_name}_old", "mysql")
    cur.execute(f"RENAME TABLE {target} TO {old}, {staging} TO {target}")
    cur.execute(f"DROP TABLE {old}")


class MySQLEngine(Engine):
    """Features computed inside MySQL 8 / MariaDB 10.2+.

    The Ibis expression is built on an unbound table named ``orders_table``, compiled with
    ``ibis.to_sql(expr, dialect="mysql")`` and run through PyMySQL.

    Parameters
    ----------
    url
        ``mysql://user:password@host:3306/database``.
    orders_table
        The warehouse table holding the orders (the store's columns; see :func:`push_orders`).
    results_table
        Default table for :meth:`materialize`, replaced on each run (built under a temporary
        name, then swapped in with one ``RENAME TABLE``).
    """

    name = "mysql"

    def __init__(self, url: str, orders_table: str = "tierwise_orders",
                 results_table: str = "tierwise_features") -> None:
        _require("pymysql", "pymysql", "mysql", "The MySQL engine")
        split_table_name(orders_table, key="engine.orders_table")
        split_table_name(results_table, key="engine.results_table")
        self.url, self.orders_table, self.results_table = url, orders_table, results_table
        self._conn = _mysql_connect(url)

    def push_orders(self, con: duckdb.DuckDBPyConnection,
                    method: Literal["auto", "load", "insert"] = "auto") -> int:
        """Load the store's orders into :attr:`orders_table` (see :func:`push_orders`)."""
        return push_orders_mysql(con, self.url, self.orders_table, method=method)

    def orders(self) -> ir.Table:
        """The orders table: the features' columns, and ``channel`` / ``agent`` when the
        warehouse table has them (a pushed table does; one kept by the user may not)."""
        schema, table = split_table_name(self.orders_table)
        labels = {c: "string" for c in LABEL_COLUMNS if c in self._table_columns()}
        return ibis.table(ibis.schema({**ORDERS_SCHEMA, **labels}), name=table,
                          database=schema)

    def _table_columns(self) -> set[str]:
        """The columns of :attr:`orders_table` (looked up on each call: a push replaces it)."""
        schema, table = split_table_name(self.orders_table)
        with self._conn.cursor() as cur:
            cur.execute("SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = COALESCE(%s, DATABASE()) AND table_name = %s",
                        (schema, table))
            return {str(r[0]).lower() for r in cur.fetchall()}

    def sql(self, expr: ir.Table) -> str:
        """The MySQL statement ``expr`` compiles to."""
        return str(ibis.to_sql(expr, dialect="mysql"))

    def to_pandas(self, expr: ir.Table) -> pd.DataFrame:
        import pandas as pd
        from ibis.formats.pandas import PandasData

        schema = expr.schema()
        with self._conn.cursor() as cur:
            cur.execute(self.sql(expr))
            rows = cur.fetchall()
        frame = pd.DataFrame.from_records(list(rows), columns=list(schema.names),
                                          coerce_float=True)
        return PandasData.convert_table(frame, schema)

    def materialize(self, expr: ir.Table, table_name: str | None = None) -> None:
        name = table_name or self.results_table
        schema, table = split_table_name(name)
        staging_name = f"{schema + '.' if schema else ''}{table}_new_{uuid.uuid4().hex[:8]}"
        target, staging = _quote(name, "mysql"), _quote(staging_name, "mysql")
        with self._conn.cursor() as cur:
            cur.execute(f"CREATE TABLE {staging} AS {self.sql(expr)}")
            try:
                _mysql_swap(cur, staging, target, staging_name, name)
            except BaseException:
                cur.execute(f"DROP TABLE IF EXISTS {staging}")
                raise

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()


# --------------------------------------------------------------------------------------------


def push_orders(con: duckdb.DuckDBPyConnection, url: str,
                orders_table: str = "tierwise_orders") -> int:
    """Load the store's orders into a warehouse table, replacing it.

    PostgreSQL gets ``COPY ... FROM STDIN`` (CSV written by DuckDB, streamed by psycopg);
    MySQL / MariaDB gets ``LOAD DATA LOCAL INFILE``, or multi-row ``INSERT`` batches when the
    server refuses local files. The table has the columns ``order_id, customer_key,
    ordered_at, amount, cost, margin, is_refund, channel, agent`` (``EXPORT_COLUMNS``): the
    run's channel and agent aggregates run in the warehouse too.

    Parameters
    ----------
    con
        The store's DuckDB connection (its ``orders`` table is read).
    url
        ``postgresql://...`` or ``mysql://...``.
    orders_table
        The warehouse table to (re)create.

    Returns
    -------
    int
        Rows in the warehouse table after loading.
    """
    split_table_name(orders_table, key="engine.orders_table")
    if _url_kind(url) == "postgres":
        return push_orders_postgres(con, url, orders_table)
    return push_orders_mysql(con, url, orders_table)


def _safe_url(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


__all__ = [
    "MySQLEngine",
    "PostgresEngine",
    "push_orders",
    "push_orders_mysql",
    "push_orders_postgres",
]

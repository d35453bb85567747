"""The default engine: DuckDB, over the store's own connection."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import ibis
import ibis.expr.operations as ops
from ibis.formats.pandas import PandasData

from ..errors import StoreError
from ..features.behaviour import ORDER_COLUMNS
from ..store.purchase_days import TABLE as PURCHASE_DAYS_TABLE
from ..store.purchase_days import in_step
from .base import Engine, split_table_name

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

ORDERS_TABLE = "orders"
EXPORT_COLUMNS = ("order_id", "customer_key", "ordered_at", "amount", "cost", "margin",
                  "is_refund", "channel", "agent", "store")
"""The store's orders columns exported to Parquet and pushed to warehouses: the features'
columns and the labels a run's order steps group by (``pipeline.RUN_ORDER_COLUMNS``; the
retention's by-store rows read ``store``), so that every aggregate of a run runs on the
configured engine."""


def _check_store(con: duckdb.DuckDBPyConnection, columns: tuple[str, ...] = EXPORT_COLUMNS
                 ) -> None:
    found = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = ? AND table_schema = current_schema()", [ORDERS_TABLE]).fetchall()}
    if not found:
        raise StoreError("the store has no 'orders' table",
                         "ingest orders first (tierwise ingest)")
    missing = [c for c in columns if c not in found]
    if missing:
        raise StoreError(f"the store's orders table lacks column(s) {', '.join(missing)}",
                         "the store may be from an older tierwise: run its migrations")


class DuckDBEngine(Engine):
    """Features computed inside the DuckDB store, over its ``orders`` table.

    Parameters
    ----------
    con
        The store's DuckDB connection. The engine works on a cursor of it (a second connection
        to the same database), so Ibis' session settings (it sets the time zone to UTC) do not
        leak into the store's connection; the caller keeps owning ``con``.
    results_table
        Default table name for :meth:`materialize`.

    Notes
    -----
    The cursor sees what the store has committed: call the engine outside an open
    transaction of ``con``.
    """

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, *,
                 results_table: str = "tierwise_features") -> None:
        split_table_name(results_table, key="engine.results_table")
        _check_store(con, tuple(ORDER_COLUMNS))
        self.con = con
        self.results_table = results_table
        self._cursor = con.cursor()
        self._backend = ibis.duckdb.from_connection(self._cursor)

    def orders(self) -> ir.Table:
        return self._backend.table(ORDERS_TABLE)

    def purchase_days(self) -> ir.Table | None:
        """The store's ``purchase_days`` table when it counts every stored order (checked on
        each call: a connection without it, or orders written past the store, read the orders).
        """
        if not in_step(self._cursor):
            return None
        return self._backend.table(PURCHASE_DAYS_TABLE)

    def to_pandas(self, expr: ir.Table) -> pd.DataFrame:
        """Run ``expr`` and convert its Arrow result in one go.

        Ibis' own ``to_pandas`` turns every column holding a NULL into a Python list first,
        which costs seconds on the feature set of a million customers.
        """
        if expr.op().find(ops.InMemoryTable):  # memtables are registered by Ibis itself
            return self._backend.to_pandas(expr)
        table = self._cursor.sql(str(self._backend.compile(expr))).to_arrow_table()
        return PandasData.convert_table(table.to_pandas(), expr.schema())

    def materialize(self, expr: ir.Table, table_name: str | None = None) -> None:
        schema, table = split_table_name(table_name or self.results_table)
        self._backend.create_table(table, expr, database=schema, overwrite=True)

    def close(self) -> None:
        self._cursor.close()


def export_orders_parquet(con: duckdb.DuckDBPyConnection, path: Path | str) -> int:
    """Write the store's orders (the columns the engines read) to one Parquet file.

    Parameters
    ----------
    con
        The store's DuckDB connection.
    path
        Target file; its folder is created; an existing file is replaced.

    Returns
    -------
    int
        The number of orders written.
    """
    _check_store(con)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = ", ".join(EXPORT_COLUMNS)
    literal = str(path).replace("'", "''")
    con.execute(f"COPY (SELECT {columns} FROM {ORDERS_TABLE}) TO '{literal}' "
                "(FORMAT parquet, COMPRESSION zstd)")
    return int(con.execute(f"SELECT count(*) FROM read_parquet('{literal}')").fetchone()[0])


__all__ = ["EXPORT_COLUMNS", "ORDERS_TABLE", "DuckDBEngine", "export_orders_parquet"]

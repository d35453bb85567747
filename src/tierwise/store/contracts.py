"""The store's contracts and costs to serve (docs/contracts.md): written at ingest, read at a run.

Like survey answers, rows are replaced per source: re-ingesting a file is idempotent, and a
contract id that comes again from another source replaces the stored one (one row per contract).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from .source_rows import replace_source_rows


def write_contracts(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, *, source: str
                    ) -> dict[str, int]:
    """Replace the contracts stored from ``source`` (and any stored under the same ids).

    ``frame``: accepted contract rows as intake returns them (``contract_id``, ``customer_id``,
    ``starts_at``, ``ends_at``, ``value``, ``product``, ``_line``). Returns ``inserted``,
    ``replaced`` and ``removed`` counts.
    """
    incoming = pd.DataFrame({c: frame[c].astype("object") if c in ("contract_id", "customer_id",
                                                                   "product") else frame[c]
                             for c in ("contract_id", "customer_id", "starts_at", "ends_at",
                                       "value", "product")})
    incoming["line"] = frame["_line"].to_numpy() if "_line" in frame else range(1, len(frame) + 1)
    # a contract id that comes again from another source replaces the stored one
    return replace_source_rows(
        con, "contracts", incoming, source=source, what="contracts", same=("contract_id",),
        scope="source = ? OR contract_id IN (SELECT contract_id FROM {incoming})", insert="""
            INSERT INTO contracts
            SELECT c.customer_key, i.customer_id, i.contract_id, CAST(i.starts_at AS DATE),
                   CAST(i.ends_at AS DATE), CAST(i.value AS DOUBLE), CAST(i.product AS VARCHAR),
                   ?, CAST(i.line AS BIGINT)
            FROM incoming_contracts i JOIN customers c USING (customer_id)
        """)


def write_costs(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, *, source: str
                ) -> dict[str, int]:
    """Replace the costs stored from ``source``.

    ``frame``: accepted cost rows (``customer_id`` or ``segment``, ``period``, ``cost_type``,
    ``amount``, ``_line``). Returns ``inserted``, ``replaced`` (rows of the same line, period
    and type) and ``removed`` counts.
    """
    incoming = pd.DataFrame({
        "customer_id": frame["customer_id"].astype("object"),
        "segment": frame["segment"].astype("object"), "period": frame["period"],
        "cost_type": frame["cost_type"].astype("object"), "amount": frame["amount"],
        "line": frame["_line"].to_numpy() if "_line" in frame else range(1, len(frame) + 1)})
    return replace_source_rows(con, "costs", incoming, source=source, what="costs",
                               same=("line", "period", "cost_type"), insert="""
        INSERT INTO costs
        SELECT c.customer_key, i.customer_id, CAST(i.segment AS VARCHAR),
               CAST(i.period AS DATE), i.cost_type, CAST(i.amount AS DOUBLE), ?,
               CAST(i.line AS BIGINT)
        FROM incoming_costs i LEFT JOIN customers c USING (customer_id)
    """)


def contracts_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every stored contract, by customer and start (``customer_key``, ``customer_id``,
    ``contract_id``, ``starts_at``, ``ends_at``, ``value``, ``product``)."""
    return con.execute(
        "SELECT customer_key, customer_id, contract_id, starts_at, ends_at, value, product "
        "FROM contracts ORDER BY customer_key, starts_at, contract_id").df()


def costs_frame(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Costs whose period lies in ``(start, end]`` (``customer_key``, ``customer_id``,
    ``segment``, ``period``, ``cost_type``, ``amount``)."""
    return con.execute(
        "SELECT customer_key, customer_id, segment, period, cost_type, amount FROM costs "
        "WHERE period > ? AND period <= ? ORDER BY period, source, line", [start, end]).df()


def has_rows(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the ``contracts`` or ``costs`` table holds a row."""
    if table not in ("contracts", "costs"):
        raise ValueError(f"table must be 'contracts' or 'costs', not {table!r}")
    return bool(con.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchall()[0][0])


__all__ = ["contracts_frame", "costs_frame", "has_rows", "write_contracts", "write_costs"]

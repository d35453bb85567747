"""Rows replaced per source: what survey answers, feedback, leads, contracts and costs share.

An input of these kinds is stored as a whole per source (the file or address it came from):
ingesting the same source again replaces its rows, so re-ingesting is idempotent, and the
counts say what came again (``replaced``), what is new (``inserted``) and what the source no
longer has (``removed``). Their rows must name customers the store knows (intake rejects the
others first; the check here guards the store against a caller that skipped it).
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from ..errors import StoreError


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> int:
    return int(con.execute(sql, params).fetchall()[0][0] or 0)


def replace_source_rows(con: duckdb.DuckDBPyConnection, table: str, incoming: pd.DataFrame, *,
                        source: str, what: str, same: tuple[str, ...], insert: str,
                        scope: str = "source = ?", check_customers: bool = True
                        ) -> dict[str, int]:
    """Replace the rows of ``table`` stored from ``source`` by ``incoming``.

    Parameters
    ----------
    table
        The store table; ``incoming`` is registered as ``incoming_<table>`` for ``insert``.
    incoming
        The accepted rows, with a ``customer_id`` column (None for a row that names no
        customer, such as a cost booked to a segment).
    what
        How messages name the rows ("survey answers", "contracts" ...).
    same
        The columns that make an incoming row the same as a stored one (it is ``replaced``).
    insert
        ``INSERT INTO <table> ... FROM incoming_<table> ...``; its one parameter is the source.
    scope
        Which stored rows the incoming ones replace, a condition with the source as its one
        parameter and ``{incoming}`` for the incoming rows (default: the rows of the same
        source).
    check_customers
        Refuse rows naming a customer the store does not know (leads create theirs first).
    """
    name = f"incoming_{table}"
    con.register(name, incoming)
    try:
        if check_customers:
            missing = con.execute(
                f"SELECT count(*), min(i.customer_id) FROM {name} i WHERE i.customer_id IS NOT "
                "NULL AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = "
                "i.customer_id)").fetchall()[0]
            if missing[0]:
                raise StoreError(f"{missing[0]} {what} name customers the store does not know "
                                 f"(first: {missing[1]!r})",
                                 "ingest customers first; intake rejects unknown customers")
        where = scope.replace("{incoming}", name)
        replaced = _count(con, f"SELECT count(*) FROM {name} i SEMI JOIN (SELECT * FROM {table} "
                               f"WHERE {where}) s USING ({', '.join(same)})", [source])
        before = _count(con, f"SELECT count(*) FROM {table} WHERE {where}", [source])
        con.execute(f"DELETE FROM {table} WHERE {where}", [source])
        con.execute(insert, [source])
    finally:
        con.unregister(name)
    return {"inserted": len(incoming) - replaced, "replaced": replaced,
            "removed": before - replaced}


__all__ = ["replace_source_rows"]

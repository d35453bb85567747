"""Stored leads (migration ``0095_leads``) and the first orders that convert them.

A lead is also a customer row: a lead whose id the store does not know yet becomes a customer
(its ``joined_at`` the day it was captured), so it appears in each snapshot from that day as a
prospect, can carry tasks, and keeps its key when it buys. A lead whose id is already a customer
(an account in the customers file) only adds its lead row: the customer's attributes stay.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
from .source_rows import replace_source_rows

#: Lead columns kept in the ``leads`` table besides the key, source and line.
LEAD_FIELDS = ("customer_id", "captured_at", "name", "lead_source", "fit", "engagement",
               "industry", "size", "region", "city", "account_manager")
#: Lead columns copied onto the customer row of a new lead.
CUSTOMER_FIELDS = ("customer_id", "name", "industry", "size", "region", "city",
                   "account_manager", "phone", "email")


def new_lead_customers(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame,
                       also_known: set[str] | None = None) -> pd.DataFrame:
    """The customer rows of the leads whose id is not a stored customer (nor in ``also_known``)."""
    known = {r[0] for r in con.execute("SELECT customer_id FROM customers").fetchall()}
    known |= also_known or set()
    new = frame[~frame["customer_id"].isin(known)]
    out = pd.DataFrame({c: new[c] for c in CUSTOMER_FIELDS if c in new})
    out["joined_at"] = new["captured_at"]
    return out.reset_index(drop=True)


def write_leads(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, *,
                source: str) -> dict[str, int]:
    """Replace the leads stored from ``source`` with ``frame``; every id must be a customer.

    Returns ``inserted``, ``replaced`` (ids stored from this source before) and ``removed``.
    """
    incoming = pd.DataFrame({c: frame[c] if c in frame else None for c in LEAD_FIELDS})
    incoming["line"] = frame["_line"] if "_line" in frame else range(1, len(frame) + 1)
    return replace_source_rows(con, "leads", incoming, source=source, what="leads",
                               same=("customer_id",), check_customers=False, insert="""
        INSERT INTO leads
        SELECT c.customer_key, i.customer_id, CAST(i.captured_at AS DATE),
               CAST(i.name AS VARCHAR), CAST(i.lead_source AS VARCHAR),
               CAST(i.fit AS DOUBLE), CAST(i.engagement AS DOUBLE),
               CAST(i.industry AS VARCHAR), CAST(i.size AS VARCHAR),
               CAST(i.region AS VARCHAR), CAST(i.city AS VARCHAR),
               CAST(i.account_manager AS VARCHAR), ?, CAST(i.line AS BIGINT)
        FROM incoming_leads i JOIN customers c USING (customer_id)
    """)


def leads_frame(con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None) -> pd.DataFrame:
    """Stored leads captured by ``as_of`` (all when None), one row per customer (the latest)."""
    where = "" if as_of is None else "WHERE captured_at <= ?"
    return con.execute(
        f"SELECT * EXCLUDE (k) FROM (SELECT *, row_number() OVER (PARTITION BY customer_key "
        f"ORDER BY captured_at DESC, source) AS k FROM leads {where}) WHERE k = 1 "
        "ORDER BY customer_key", [] if as_of is None else [as_of]).df()


def first_orders(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    """Each customer's first purchase day up to ``as_of`` and what it spent that day.

    Columns ``customer_key``, ``first_order``, ``first_revenue`` (refunds are not purchases).
    """
    return con.execute("""
        WITH paid AS (SELECT customer_key, ordered_at, amount FROM orders
                      WHERE NOT is_refund AND amount > 0 AND ordered_at <= ?),
             firsts AS (SELECT customer_key, min(ordered_at) AS first_order FROM paid
                        GROUP BY customer_key)
        SELECT f.customer_key, f.first_order, sum(p.amount) AS first_revenue
        FROM firsts f JOIN paid p ON p.customer_key = f.customer_key
                                  AND p.ordered_at = f.first_order
        GROUP BY f.customer_key, f.first_order ORDER BY f.customer_key
    """, [as_of]).df()

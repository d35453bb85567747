"""Purchase-day totals: the store's orders summed per customer and day, kept in step with them.

Every behaviour metric starts by summing the orders of a customer and day (a purchase occasion
is a day with at least one purchase, :mod:`tierwise.features.behaviour`). The ``purchase_days``
table keeps those sums, so that the RFM summary reads one row per customer and day instead of
every order (issue 16). It holds one row per customer and day with at least one order:

- ``n_orders``, ``amount``, ``margin``: the day's purchases (non-refund orders): their count,
  amount and margin (``margin``, else ``amount - cost``; NULL when no purchase has either);
  0 / NULL on a day with refunds only;
- ``n_refunds``, ``refund_amount``, ``refund_margin``: the day's refunds the same way
  (amounts negative, as stored);
- ``gap``: on a purchase day, the days since the customer's previous purchase day (NULL on the
  first one, and on a day with refunds only). It does not depend on an as-of date (earlier
  days are kept by any as-of filter that keeps the day), so the RFM summary averages the
  repeat days (``gap IS NOT NULL``) without ordering a customer's days.

The table is written in the same statement sequence (the caller's transaction) as the orders:
:func:`mark_orders` notes the customers of orders about to be deleted or just inserted, and
:func:`refresh` sums those customers' days again from ``orders``. :func:`in_step` tells whether the table
counts every stored order (a write that bypassed the store, e.g. raw SQL, makes it false, and
readers then fall back to the orders).
"""

from __future__ import annotations

import duckdb

TABLE = "purchase_days"
_CHANGED = "changed_purchase_customers"

DDL = f"""
    CREATE TABLE {TABLE} (
        customer_key BIGINT NOT NULL,
        ordered_at DATE NOT NULL,
        n_orders BIGINT NOT NULL,
        amount DOUBLE NOT NULL,
        margin DOUBLE,
        n_refunds BIGINT NOT NULL,
        refund_amount DOUBLE NOT NULL,
        refund_margin DOUBLE,
        gap BIGINT
    )
"""

_SUMS = f"""
    WITH d AS (
        SELECT customer_key, ordered_at,
               count(*) FILTER (WHERE NOT is_refund) AS n_orders,
               coalesce(sum(amount) FILTER (WHERE NOT is_refund), 0.0) AS amount,
               sum(coalesce(margin, amount - cost)) FILTER (WHERE NOT is_refund) AS margin,
               count(*) FILTER (WHERE is_refund) AS n_refunds,
               coalesce(sum(amount) FILTER (WHERE is_refund), 0.0) AS refund_amount,
               sum(coalesce(margin, amount - cost)) FILTER (WHERE is_refund) AS refund_margin
        FROM {{source}}
        GROUP BY customer_key, ordered_at)
    INSERT INTO {TABLE}
    SELECT *, CASE WHEN n_orders > 0 THEN date_diff('day', lag(ordered_at) OVER (
                   PARTITION BY customer_key, n_orders > 0 ORDER BY ordered_at), ordered_at)
              END AS gap
    FROM d
"""


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Migration 0120: create the table and fill it from the stored orders."""
    con.execute(DDL)
    rebuild(con)


def rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Sum every stored order again (after a bulk load that bypassed :func:`refresh`)."""
    con.execute(f"DELETE FROM {TABLE}")
    con.execute(_SUMS.format(source="orders"))


def mark_orders(con: duckdb.DuckDBPyConnection, select: str, params: list | None = None) -> None:
    """Note the customers of some orders, whose days :func:`refresh` sums again.

    ``select`` returns ``customer_key`` values: those of the stored orders about to be deleted
    or replaced (run it before the DELETE) and of the orders inserted. A superset is harmless,
    a missing customer leaves the table stale. Whole customers are summed again, not single
    days, because ``gap`` (days since the previous purchase day) links a customer's days.
    """
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_CHANGED} (customer_key BIGINT)")
    con.execute(f"INSERT INTO {_CHANGED} {select}", params or [])


#: Customers whose days one statement sums again. All 1M customers of a 10M-order ingest at
#: once (the aggregate and the window over their ~10M days) took ~1 GB over the rest of the
#: ingest, the peak of the whole command; a slice of them takes a share of that.
SLICE_CUSTOMERS = 200_000


def refresh(con: duckdb.DuckDBPyConnection, *, slice_customers: int = SLICE_CUSTOMERS) -> int:
    """Sum the days of the customers noted by :func:`mark_orders` again from ``orders``.

    Run it after the orders are written, in the same transaction. Returns the customers noted.
    More than ``slice_customers`` customers are summed a slice at a time (by a hash of the
    key: a customer's days, which ``gap`` links, are all in one slice), with bounded memory.
    """
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary "
                         "AND table_name = ?", [_CHANGED]).fetchall()[0][0]
    if not exists:
        return 0
    keys = f"{_CHANGED}_keys"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {keys} AS "
                f"SELECT DISTINCT customer_key FROM {_CHANGED}")
    con.execute(f"DROP TABLE {_CHANGED}")
    n = con.execute(f"SELECT count(*) FROM {keys}").fetchall()[0][0]
    if n:
        con.execute(f"DELETE FROM {TABLE} WHERE customer_key IN (SELECT customer_key FROM {keys})")
        parts = -(-n // max(1, slice_customers))
        for i in range(parts):
            only = f" WHERE hash(customer_key) % {parts} = {i}" if parts > 1 else ""
            con.execute(_SUMS.format(
                source=f"(SELECT o.* FROM orders o SEMI JOIN "
                       f"(SELECT customer_key FROM {keys}{only}) k USING (customer_key))"))
    con.execute(f"DROP TABLE {keys}")
    return int(n)


def in_step(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``purchase_days`` exists and counts every stored order.

    A cheap guard, not a proof: an order changed in place by SQL outside the store (its amount,
    day or refund flag) keeps the counts equal. Every write path of the store keeps the table in
    step (tests/test_store_purchase_days.py).
    """
    if not has_table(con):
        return False
    orders, counted = con.execute(
        f"SELECT (SELECT count(*) FROM orders), "
        f"(SELECT coalesce(sum(n_orders + n_refunds), 0) FROM {TABLE})").fetchall()[0]
    return bool(orders == counted)


def has_table(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's current schema has ``purchase_days`` (migration 0120)."""
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? "
        "AND table_schema = current_schema()", [TABLE]).fetchall()[0][0])


__all__ = ["DDL", "TABLE", "has_table", "in_step", "mark_orders", "migrate", "rebuild", "refresh"]

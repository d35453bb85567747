"""Orders from their lines, refunds linked to what they cancel, and item views: SQL in the store.

Intake hands the store one row per order line (one row per order for order-level exports), each
carrying its ``order_id``. Here, in DuckDB:

- :func:`write_orders` replaces the incoming orders: the ``orders`` table gets one row per order id
  (its lines summed; a refund when every line is one or the net amount is negative) and, for
  line-level inputs, ``order_lines`` keeps every line with its product, quantity and price;
- :func:`link_refunds` points each refund at the order it cancels: the order whose id is the
  refund's id without its cancellation prefix (``C536379`` -> ``536379``), else the customer's
  latest earlier purchase holding most of the refunded products;
- :func:`favourite_products` and :func:`top_products` read the lines up to an as-of date;
- :func:`cross_sell_hints` names what customers of the same tier buy and a customer never bought,
  and :func:`product_breadth` counts the distinct products and categories each customer bought.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path, PurePath

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import purchase_days

#: Line columns an incoming frame may carry (intake adds those the file maps).
LINE_FIELDS = ("product_id", "product_name", "category", "quantity", "unit_price")
_ORDER_TEXT = ("channel", "agent", "store", "status")
#: How a product is named in item views: its name, else its code.
_PRODUCT = "coalesce(product_name, product_id)"


def _prepare(frame: pd.DataFrame, source: str) -> tuple[pd.DataFrame, bool]:
    incoming = frame.copy()
    incoming["source"] = source
    has_lines = any(c in incoming and incoming[c].notna().any() for c in LINE_FIELDS)
    for col in ("cost", "margin", *_ORDER_TEXT, *LINE_FIELDS):
        if col not in incoming:
            incoming[col] = None
    if "_line" not in incoming:
        incoming["_line"] = range(1, len(incoming) + 1)
    return incoming, has_lines


def _drop_legacy_ids(con: duckdb.DuckDBPyConnection, content_ids: bool, source: str) -> int:
    """Remove this source's orders stored under the old derived ids ``<file stem>:<line>``.

    Stores written before order ids came from content hold orders without an id of their own
    as ``<file stem>:<line>``. When the same file comes again with content-derived ids (they
    start with ``~``), its old rows are the same orders: they are replaced, not doubled.
    """
    if not content_ids:
        return 0
    prefix = PurePath(source).stem + ":"
    where = ("source = ? AND starts_with(order_id, ?) "
             "AND regexp_full_match(substr(order_id, ?), '[0-9]+')")
    args = [source, prefix, len(prefix) + 1]
    n = con.execute(f"SELECT count(*) FROM orders WHERE {where}", args).fetchall()[0][0]
    if n:
        purchase_days.mark_orders(
            con, f"SELECT DISTINCT customer_key FROM orders WHERE {where}", args)
        con.execute(f"DELETE FROM order_lines WHERE order_id IN "
                    f"(SELECT order_id FROM orders WHERE {where})", args)
        con.execute(f"DELETE FROM orders WHERE {where}", args)
    return int(n)


def write_orders(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, *, source: str
                 ) -> dict[str, int]:
    """Replace the orders (and lines) of ``frame``; every customer must be stored already.

    Returns ``inserted`` / ``replaced`` orders, ``lines`` stored, ``overlap``: stored orders
    this input replaced that had come from another source (the same rows under another name),
    and ``legacy_replaced``: this source's orders stored under the old ``<file stem>:<line>``
    ids, replaced by the same orders under content-derived ids.
    """
    incoming, has_lines = _prepare(frame, source)
    con.register("incoming_lines", incoming)
    try:
        return _write_incoming(con, source=source, has_lines=has_lines,
                               content_ids=_content_ids(incoming))
    finally:
        con.unregister("incoming_lines")


def query_over(con: duckdb.DuckDBPyConnection, name: str, data: pa.Table | pd.DataFrame,
               sql: str) -> duckdb.DuckDBPyRelation:
    """Run ``sql`` with ``data`` (an Arrow table or a pandas frame) readable as table ``name``.

    Unlike ``con.register`` and ``unregister``, nothing enters the catalog: inside a
    transaction DuckDB keeps a dropped catalog entry, and the Python object it holds, until the
    commit, so an ingest registering every batch kept every batch in memory to the end. A
    statement runs at once; a query runs when its result is fetched.
    """
    rel = con.from_arrow(data) if isinstance(data, pa.Table) else con.from_df(data)
    return rel.query(name, sql)


def _content_ids(incoming: pd.DataFrame) -> bool:
    return bool(incoming["order_id"].astype(str).str.startswith("~").any())


class IncomingOrders:
    """The orders of one input gathered a batch at a time, then written as :func:`write_orders`
    writes one frame, in one statement each (memory bounded by a batch, not by the input).

    Each batch is checked (every customer stored) and kept in a Parquet file in a temporary
    folder beside the store; :meth:`write` replaces the orders from all of them. Use it inside
    the caller's transaction, and :meth:`close` it (a context manager) to remove the folder.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, *, source: str, folder: Path) -> None:
        import tempfile

        self.con, self.source = con, source
        self.folder = Path(tempfile.mkdtemp(prefix=".incoming-orders-", dir=folder))
        self.parts: list[Path] = []
        self.has_lines = self.content_ids = False

    def __enter__(self) -> IncomingOrders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, frame: pd.DataFrame) -> None:
        """Keep one batch (canonical order columns, as :meth:`Store.upsert_orders` takes).

        The batch goes to DuckDB as an Arrow table (its columns as they are, no copy of the
        frame, no Python objects); a column the batch lacks is written as NULL, as
        :func:`write_orders` would store it."""
        present = [c for c, _ in _INCOMING_TYPES if c in frame.columns and c != "source"]
        incoming = pa.Table.from_pandas(frame[present], preserve_index=False)
        self.has_lines |= any(c in frame and frame[c].notna().any() for c in LINE_FIELDS)
        ids = incoming.column("order_id").cast(pa.large_string())
        self.content_ids |= bool(pc.any(pc.starts_with(pc.fill_null(ids, "None"), "~")).as_py())
        path = self.folder / f"part-{len(self.parts):05d}.parquet"
        source = "'" + self.source.replace("'", "''") + "'"
        cols = ", ".join(
            f"CAST({c if c in present else ('NULL' if c != 'source' else source)} AS {t}) AS {c}"
            for c, t in _INCOMING_TYPES)
        if "_line" not in present:
            cols = cols.replace("CAST(NULL AS BIGINT) AS _line",
                                "CAST(row_number() OVER () AS BIGINT) AS _line")
        query_over(self.con, "incoming_batch", incoming,
                   f"COPY (SELECT {cols} FROM incoming_batch) TO '{path}' (FORMAT parquet)")
        self.parts.append(path)

    def write(self) -> dict[str, int]:
        """Replace the orders of every batch; counts as :func:`write_orders` returns them."""
        if not self.parts:
            return {"inserted": 0, "replaced": 0, "lines": 0, "overlap": 0, "legacy_replaced": 0}
        files = ", ".join(f"'{p}'" for p in self.parts)
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW incoming_lines AS "
                         f"SELECT * FROM read_parquet([{files}])")
        try:
            return _write_incoming(self.con, source=self.source, has_lines=self.has_lines,
                                   content_ids=self.content_ids)
        finally:
            self.con.execute("DROP VIEW incoming_lines")

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


#: The columns of a batch kept by :class:`IncomingOrders`, with fixed types (a batch whose
#: optional column is all empty would otherwise be typed apart from the others).
_INCOMING_TYPES = (
    ("order_id", "VARCHAR"), ("customer_id", "VARCHAR"), ("ordered_at", "DATE"),
    ("amount", "DOUBLE"), ("cost", "DOUBLE"), ("margin", "DOUBLE"),
    *((c, "VARCHAR") for c in _ORDER_TEXT), ("is_refund", "BOOLEAN"), ("source", "VARCHAR"),
    ("_line", "BIGINT"), ("product_id", "VARCHAR"), ("product_name", "VARCHAR"),
    ("category", "VARCHAR"), ("quantity", "DOUBLE"), ("unit_price", "DOUBLE"))


def _write_incoming(con: duckdb.DuckDBPyConnection, *, source: str, has_lines: bool,
                    content_ids: bool) -> dict[str, int]:
    """Replace the orders (and lines) of the relation ``incoming_lines``."""
    legacy = _drop_legacy_ids(con, content_ids, source)
    n_rows = con.execute("SELECT count(*) FROM incoming_lines").fetchall()[0][0]
    con.execute("""
        CREATE OR REPLACE TEMP TABLE incoming_keys AS
        SELECT DISTINCT order_id FROM incoming_lines""")
    n_orders = con.execute("SELECT count(*) FROM incoming_keys").fetchall()[0][0]
    replaced, overlap = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE o.source IS DISTINCT FROM ?)
        FROM orders o SEMI JOIN incoming_keys k USING (order_id)""", [source]).fetchall()[0]
    if replaced:  # the customers of the orders replaced: their days are summed again below
        purchase_days.mark_orders(con, "SELECT DISTINCT customer_key FROM orders "
                                       "SEMI JOIN incoming_keys USING (order_id)")
    con.execute("DELETE FROM orders WHERE order_id IN (SELECT order_id FROM incoming_keys)")
    con.execute("DELETE FROM order_lines WHERE order_id IN "
                "(SELECT order_id FROM incoming_keys)")
    if not has_lines and n_orders == n_rows:
        _insert_orders_as_is(con)
    else:
        _insert_orders_summed(con)
    # the customers of the orders inserted: their days are summed again, with those of the
    # orders replaced (purchase-day totals stay in step with the orders)
    purchase_days.mark_orders(con, """
        SELECT DISTINCT c.customer_key FROM incoming_lines l JOIN customers c USING (customer_id)""")
    purchase_days.refresh(con)
    lines = 0
    if has_lines:
        con.execute("""
            INSERT INTO order_lines
            SELECT l.order_id, row_number() OVER (PARTITION BY l.order_id ORDER BY l._line),
                   c.customer_key, CAST(l.ordered_at AS DATE), CAST(l.product_id AS VARCHAR),
                   CAST(l.product_name AS VARCHAR), CAST(l.category AS VARCHAR),
                   CAST(l.quantity AS DOUBLE), CAST(l.unit_price AS DOUBLE),
                   CAST(l.amount AS DOUBLE), CAST(l.is_refund AS BOOLEAN), l.source,
                   CAST(l._line AS BIGINT)
            FROM incoming_lines l JOIN customers c USING (customer_id)
        """)
        lines = n_rows
    con.execute("DROP TABLE incoming_keys")
    return {"inserted": n_orders - replaced - min(legacy, n_orders - replaced),
            "replaced": replaced + min(legacy, n_orders - replaced), "lines": lines,
            "overlap": overlap, "legacy_replaced": legacy}


def _insert_orders_summed(con: duckdb.DuckDBPyConnection) -> None:
    """One order per ``order_id`` of ``incoming_lines``: its lines summed."""
    text = ", ".join(f"CAST(arg_min(l.{c}, l._line) AS VARCHAR)" for c in _ORDER_TEXT)
    con.execute(f"""
        INSERT INTO orders (order_id, customer_key, ordered_at, amount, cost, margin,
                            {", ".join(_ORDER_TEXT)}, is_refund, source)
        SELECT l.order_id, arg_min(c.customer_key, l._line), CAST(min(l.ordered_at) AS DATE),
               sum(CAST(l.amount AS DOUBLE)), sum(CAST(l.cost AS DOUBLE)),
               sum(CAST(l.margin AS DOUBLE)), {text},
               bool_and(CAST(l.is_refund AS BOOLEAN)) OR sum(CAST(l.amount AS DOUBLE)) < 0,
               any_value(l.source)
        FROM incoming_lines l JOIN customers c USING (customer_id)
        GROUP BY l.order_id
    """)


def _insert_orders_as_is(con: duckdb.DuckDBPyConnection) -> None:
    """:func:`_insert_orders_summed` when every row is a whole order of its own: the same rows
    without the grouping (a sum of one value is the value), which at millions of orders costs
    most of the write and its memory."""
    text = ", ".join(f"CAST(l.{c} AS VARCHAR)" for c in _ORDER_TEXT)
    con.execute(f"""
        INSERT INTO orders (order_id, customer_key, ordered_at, amount, cost, margin,
                            {", ".join(_ORDER_TEXT)}, is_refund, source)
        SELECT l.order_id, c.customer_key, CAST(l.ordered_at AS DATE), CAST(l.amount AS DOUBLE),
               CAST(l.cost AS DOUBLE), CAST(l.margin AS DOUBLE), {text},
               CAST(l.is_refund AS BOOLEAN) OR CAST(l.amount AS DOUBLE) < 0, l.source
        FROM incoming_lines l JOIN customers c USING (customer_id)
    """)


def link_refunds(con: duckdb.DuckDBPyConnection, prefixes: Sequence[str]) -> dict[str, int]:
    """Set ``orders.refund_of`` for refunds not linked yet; returns refund and link counts.

    A refund is linked to the customer's purchase whose id is the refund's id without a
    cancellation prefix; failing that (the UCI Online Retail numbers cancellations anew), to the
    customer's purchase on or before the refund's date holding the most of its products, then
    the most of its lines with the same quantity and price, then the latest. A refund with neither stays unlinked (it still reduces value).
    """
    strip = " UNION ALL ".join(
        f"SELECT r.order_id, o.order_id AS orig, 0 AS rank_, 0 AS n, 0 AS n_exact, o.ordered_at "
        f"FROM todo r "
        f"JOIN orders o ON o.order_id = substr(r.order_id, {len(p) + 1}) "
        f"AND o.customer_key = r.customer_key AND NOT o.is_refund "
        f"WHERE starts_with(r.order_id, '{p.replace(chr(39), chr(39) * 2)}')"
        for p in prefixes if p) or ("SELECT NULL::VARCHAR AS order_id, NULL::VARCHAR AS orig, "
                                    "0 AS rank_, 0 AS n, 0 AS n_exact, NULL::DATE AS ordered_at "
                                    "WHERE false")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE refund_links AS
        WITH todo AS (
            SELECT order_id, customer_key, ordered_at FROM orders
            WHERE is_refund AND refund_of IS NULL),
        items AS (
            SELECT DISTINCT t.order_id, t.customer_key, t.ordered_at, {_PRODUCT} AS product,
                   abs(l.quantity) AS quantity, l.unit_price
            FROM todo t JOIN order_lines l USING (order_id)
            WHERE {_PRODUCT} IS NOT NULL),
        by_product AS (
            SELECT i.order_id, p.order_id AS orig, 1 AS rank_,
                   count(DISTINCT i.product) AS n,
                   count(DISTINCT i.product) FILTER (WHERE p.quantity = i.quantity
                       AND p.unit_price IS NOT DISTINCT FROM i.unit_price) AS n_exact,
                   max(p.ordered_at) AS ordered_at
            FROM items i
            JOIN order_lines p ON p.customer_key = i.customer_key
                 AND coalesce(p.product_name, p.product_id) = i.product
                 AND p.ordered_at <= i.ordered_at AND NOT p.is_refund
            JOIN orders o ON o.order_id = p.order_id AND NOT o.is_refund
            GROUP BY i.order_id, p.order_id),
        candidates AS ({strip} UNION ALL SELECT * FROM by_product)
        SELECT order_id, arg_min(orig, (rank_, -n, -n_exact, -epoch(ordered_at), orig)) AS orig
        FROM candidates GROUP BY order_id
    """)
    con.execute("UPDATE orders SET refund_of = k.orig FROM refund_links k "
                "WHERE orders.order_id = k.order_id")
    linked = con.execute("SELECT count(*) FROM refund_links").fetchall()[0][0]
    con.execute("DROP TABLE refund_links")
    refunds, unlinked = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE refund_of IS NULL) FROM orders "
        "WHERE is_refund").fetchall()[0]
    return {"linked_now": linked, "refunds": refunds, "refunds_unlinked": unlinked}


def favourite_products(con: duckdb.DuckDBPyConnection, as_of: dt.date, *, top: int = 3,
                       separator: str = "; ") -> pd.DataFrame:
    """Each customer's favourite products up to ``as_of``: ``customer_key``, ``favourite_products``.

    A product's rank for a customer: the number of purchase orders holding it, then the net amount
    spent on it (refunded lines netted), then its name. Products the customer returned in full
    (net amount not above 0) are left out. At most ``top`` names, joined by ``separator``.
    """
    return con.execute(f"""
        WITH p AS (
            SELECT customer_key, {_PRODUCT} AS product,
                   count(DISTINCT order_id) FILTER (WHERE NOT is_refund) AS n_orders,
                   sum(amount) AS net
            FROM order_lines WHERE ordered_at <= ? AND {_PRODUCT} IS NOT NULL
            GROUP BY ALL HAVING sum(amount) > 0 AND n_orders > 0),
        r AS (SELECT *, row_number() OVER (PARTITION BY customer_key
                                           ORDER BY n_orders DESC, net DESC, product) AS rn
              FROM p)
        SELECT customer_key, string_agg(product, ? ORDER BY rn) AS favourite_products
        FROM r WHERE rn <= ? GROUP BY customer_key ORDER BY customer_key
    """, [as_of, separator, top]).df()


def top_products(con: duckdb.DuckDBPyConnection, as_of: dt.date, groups: pd.DataFrame, *,
                 by: Sequence[str], top: int = 5) -> pd.DataFrame:
    """The best-selling products per value of each ``by`` column of ``groups`` (e.g. tier).

    ``groups`` has ``customer_key`` and the ``by`` columns (a run's per-customer results).
    Returns one row per (``grouping``, ``group``, ``rank``): ``product``, ``customers`` (buying
    it), ``orders``, ``quantity`` and ``revenue`` (net of refunded lines), best revenue first.
    """
    by = [c for c in by if c in groups]
    columns = ["grouping", "group", "rank", "product", "customers", "orders", "quantity",
               "revenue"]
    if not by:
        return pd.DataFrame(columns=columns)
    con.register("run_groups", groups[["customer_key", *by]])
    try:
        parts = " UNION ALL ".join(
            f"SELECT '{c}' AS grouping, CAST(g.\"{c}\" AS VARCHAR) AS \"group\", l.* "
            f"FROM lines l JOIN run_groups g USING (customer_key) WHERE g.\"{c}\" IS NOT NULL"
            for c in by)
        return con.execute(f"""
            WITH lines AS (
                SELECT customer_key, order_id, {_PRODUCT} AS product, quantity, amount, is_refund
                FROM order_lines WHERE ordered_at <= ? AND {_PRODUCT} IS NOT NULL),
            g AS ({parts}),
            a AS (SELECT grouping, "group", product,
                         count(DISTINCT customer_key) FILTER (WHERE NOT is_refund) AS customers,
                         count(DISTINCT order_id) FILTER (WHERE NOT is_refund) AS orders,
                         sum(quantity) AS quantity, sum(amount) AS revenue
                  FROM g GROUP BY ALL),
            r AS (SELECT *, row_number() OVER (PARTITION BY grouping, "group"
                                               ORDER BY revenue DESC, product) AS rank
                  FROM a WHERE revenue > 0)
            SELECT {", ".join(f'"{c}"' for c in columns)} FROM r WHERE rank <= ?
            ORDER BY grouping, "group", rank
        """, [as_of, top]).df()
    finally:
        con.unregister("run_groups")


def cross_sell_hints(con: duckdb.DuckDBPyConnection, as_of: dt.date, groups: pd.DataFrame, *,
                     by: str = "tier", top: int = 3, min_buyers: int = 2,
                     separator: str = "; ") -> pd.DataFrame:
    """What customers of the same group commonly buy and this customer never bought.

    ``groups`` has ``customer_key`` and the ``by`` column (a run's per-customer results). Among
    the group's members with order lines up to ``as_of``, a product's share is the number of
    members who bought it (a purchase line, refunded or not) over the members; a member's hints
    are the products of their group they never bought, largest share first (then by name),
    bought by at least ``min_buyers`` members. Returns ``customer_key``, ``cross_sell``: at most
    ``top`` hints as ``product (share %)``, joined by ``separator``; customers without a hint are
    left out.

    Examples
    --------
    Three customers of tier ``key``: 1 and 2 bought tea and cake, 3 bought tea only. Cake is
    bought by 2 of the 3: it is customer 3's hint, at 67 %.
    """
    if by not in groups:
        return pd.DataFrame(columns=["customer_key", "cross_sell"])
    con.register("run_groups", groups[["customer_key", by]].rename(columns={by: "grp"}))
    try:
        return con.execute(f"""
            WITH bought AS (
                SELECT DISTINCT customer_key, {_PRODUCT} AS product FROM order_lines
                WHERE ordered_at <= ? AND NOT is_refund AND {_PRODUCT} IS NOT NULL),
            members AS (
                SELECT DISTINCT customer_key, CAST(grp AS VARCHAR) AS grp FROM run_groups
                WHERE grp IS NOT NULL AND customer_key IN (SELECT customer_key FROM bought)),
            size AS (SELECT grp, count(*) AS n FROM members GROUP BY grp),
            popular AS (
                SELECT m.grp, b.product, count(*) AS buyers
                FROM members m JOIN bought b USING (customer_key)
                GROUP BY ALL HAVING count(*) >= ?),
            hints AS (
                SELECT m.customer_key, p.product, p.buyers / s.n AS share,
                       row_number() OVER (PARTITION BY m.customer_key
                                          ORDER BY p.buyers DESC, p.product) AS rn
                FROM members m JOIN popular p USING (grp) JOIN size s USING (grp)
                WHERE NOT EXISTS (SELECT 1 FROM bought b WHERE b.customer_key = m.customer_key
                                  AND b.product = p.product))
            SELECT customer_key,
                   string_agg(printf('%s (%d%%)', product, CAST(round(100 * share) AS INTEGER)),
                              ? ORDER BY rn) AS cross_sell
            FROM hints WHERE rn <= ? GROUP BY customer_key ORDER BY customer_key
        """, [as_of, min_buyers, separator, top]).df()
    finally:
        con.unregister("run_groups")


def product_breadth(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    """Per customer with purchase lines up to ``as_of``: ``distinct_products`` and
    ``distinct_categories`` bought (refund lines left out; a product bought and returned was
    still bought); ``distinct_categories`` is NULL for a customer none of whose lines carries a
    category."""
    return con.execute(f"""
        WITH l AS (SELECT customer_key, {_PRODUCT} AS product, category FROM order_lines
                   WHERE ordered_at <= ? AND NOT is_refund),
        SELECT customer_key, count(DISTINCT product) AS distinct_products,
               CASE WHEN count(category) > 0 THEN count(DISTINCT category)
               END AS distinct_categories
        FROM l GROUP BY customer_key ORDER BY customer_key
    """, [as_of]).df()


__all__ = ["LINE_FIELDS", "IncomingOrders", "query_over", "cross_sell_hints", "favourite_products",
           "link_refunds", "product_breadth", "top_products", "write_orders"]

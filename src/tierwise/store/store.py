"""The DuckDB store: ingested customers, orders, survey answers and feedback, one snapshot per run.

One writer, many readers: a :class:`Store` opened for writing holds DuckDB's file lock for as long
as it is open, so front doors open it for one command and close it again. Readers hold a shared
lock that keeps writers out while they read (the web server does, for the moment it copies a new
snapshot), so a writer that finds the lock taken waits a few seconds before giving up. Every write that must
be all-or-nothing (an ingest, a run) happens in one transaction: a process killed half-way leaves
the previous state intact, because DuckDB discards an uncommitted transaction when it reopens
the file.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from ..config import CANONICAL_CUSTOMER_COLUMNS
from ..errors import StoreBusyError, StoreError
from .leads import first_orders, leads_frame, new_lead_customers, write_leads
from .feedback_rows import feedback_frame, upsert_feedback
from .source_rows import replace_source_rows
from .lines import (
    IncomingOrders,
    cross_sell_hints,
    favourite_products,
    link_refunds,
    product_breadth,
    query_over,
    top_products,
    write_orders,
)
from ..io.headers import SURVEY_ASPECTS
from ..i18n.render import NAMES_TABLE, add_words, strip_table_words, strip_words, table_words
from .migrations import MIGRATIONS

_CUSTOMER_COLUMNS = [c for c in CANONICAL_CUSTOMER_COLUMNS]
_ORDER_COLUMNS = ["order_id", "customer_key", "ordered_at", "amount", "cost", "margin", "channel",
                  "agent", "store", "status", "is_refund", "source", "refund_of"]
#: What :meth:`Store.orders_frame` returns unless told otherwise.
_ORDERS_FRAME_COLUMNS = ("customer_key", "ordered_at", "amount", "is_refund")
#: Seconds a writer waits for a lock held by readers (a web server copying a snapshot holds it for
#: a few seconds at most); readers do not wait by default, since a writer holds it for a whole run.
WRITER_LOCK_TIMEOUT = 15.0


class Store:
    """A tierwise store in one DuckDB file.

    Parameters
    ----------
    path
        The DuckDB file; created (with its folder) when missing, unless ``read_only``.
    read_only
        Open without the write lock; fails when the file does not exist yet.
    lock_timeout
        Seconds to keep retrying while another process holds the file lock (default:
        :data:`WRITER_LOCK_TIMEOUT` for a writer, 0 for a reader); then :class:`StoreBusyError`.

    Examples
    --------
    >>> with Store("tierwise.duckdb") as store:          # doctest: +SKIP
    ...     store.runs()
    """

    def __init__(self, path: Path | str, *, read_only: bool = False,
                 lock_timeout: float | None = None) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise StoreError(f"store {self.path} does not exist yet",
                             "run 'tierwise ingest' and 'tierwise run' first, or check [store] path")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        wait = (0.0 if read_only else WRITER_LOCK_TIMEOUT) if lock_timeout is None else lock_timeout
        self.con = _connect(self.path, read_only, wait)
        if not read_only:
            self.migrate()
        elif "schema_migrations" not in self._tables():
            raise StoreError(f"{self.path} is not a tierwise store (no schema_migrations table)",
                             "point [store] path at a file written by tierwise")

    @classmethod
    def over(cls, con: duckdb.DuckDBPyConnection, path: Path | str) -> Store:
        """A read-only Store over an open connection to a copy of a store's tables.

        A server keeps its own copy of the snapshots and hands each request a cursor of it;
        wrapping the cursor lets the library's readers (``run_info``, ``snapshot`` ...) work on
        the copy. ``path`` names the original store (messages and report titles use it).
        """
        store = cls.__new__(cls)
        store.path, store.read_only, store.con = Path(path), True, con
        return store

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing: commit on success, roll back on any exception."""
        self.con.begin()
        try:
            yield self.con
        except BaseException:
            self.con.rollback()
            raise
        self.con.commit()

    def _tables(self) -> set[str]:
        return {r[0] for r in self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()}

    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded; return the names applied now."""
        self.con.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
        done = set(self.applied_migrations())
        applied = []
        for name, step in MIGRATIONS:
            if name in done:
                continue
            with self.transaction() as con:
                step(con) if callable(step) else con.execute(step)
                con.execute("INSERT INTO schema_migrations VALUES (?, ?)", [name, _now()])
            applied.append(name)
        return applied

    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self.con.execute(
            "SELECT name FROM schema_migrations ORDER BY name").fetchall()]

    # -- ingested data ---------------------------------------------------------------------
    def upsert_customers(self, frame: pd.DataFrame, *, source: str) -> dict[str, int]:
        """Insert new customers (new dense keys) and update known ones; returns counts."""
        incoming = _customer_frame(frame, source)
        con = self.con
        replaced = query_over(con, "incoming_customers", incoming,
                              "SELECT count(*) FROM incoming_customers i "
                              "SEMI JOIN customers c USING (customer_id)").fetchall()[0][0]
        cols = ", ".join(incoming.columns)
        updates = ", ".join(f"{c} = i.{c}" for c in incoming.columns if c != "customer_id")
        if replaced:
            query_over(con, "incoming_customers", incoming, f"""
                UPDATE customers SET {updates}
                FROM incoming_customers i WHERE customers.customer_id = i.customer_id
            """)
        query_over(con, "incoming_customers", incoming, f"""
            INSERT INTO customers (customer_key, {cols})
            SELECT coalesce((SELECT max(customer_key) FROM customers), 0)
                   + row_number() OVER (ORDER BY i.rowid_), {", ".join("i." + c for c in incoming.columns)}
            FROM (SELECT *, row_number() OVER () AS rowid_ FROM incoming_customers) i
            ANTI JOIN customers c USING (customer_id)
        """)
        return {"inserted": len(incoming) - replaced, "replaced": replaced}

    def upsert_orders(self, frame: pd.DataFrame, *, source: str) -> dict[str, int]:
        """Insert orders; an order id already stored is replaced, so re-ingesting is idempotent.

        ``frame`` holds one row per order, or one row per order line (line-level exports: the
        lines sharing an ``order_id`` are summed into one order and kept in ``order_lines``).
        Every ``customer_id`` must already be a stored customer (intake reconciles first).

        Returns
        -------
        dict
            ``inserted`` and ``replaced`` orders, ``lines`` stored, and ``overlap``: the
            replaced orders that had been stored from another source (the same orders, e.g. the
            same rows under another file name, recognised by their ids).
        """
        self._check_customers(frame)
        return write_orders(self.con, frame, source=source)

    def incoming_orders(self, *, source: str) -> IncomingOrders:
        """:meth:`upsert_orders` a batch at a time: ``add`` each batch (its customers checked
        as here), then ``write`` once; memory is bounded by a batch. A context manager."""
        store = self

        class _Checked(IncomingOrders):
            def add(self, frame: pd.DataFrame) -> None:
                store._check_customers(frame)
                super().add(frame)

        return _Checked(self.con, source=source, folder=self.path.parent)

    def unknown_customers(self, ids: pd.Series) -> np.ndarray:
        """Which of ``ids`` name no stored customer (a mask aligned with ``ids``): one anti
        join in the store, not a set of every known id in Python."""
        probe = pa.table({"customer_id": _arrow_text(ids),
                          "pos_": np.arange(len(ids), dtype=np.int64)})
        got = query_over(self.con, "probe_customers", probe,
                         "SELECT p.pos_ FROM probe_customers p "
                         "ANTI JOIN customers c USING (customer_id)").fetchnumpy()
        out = np.zeros(len(ids), dtype=bool)
        out[np.asarray(got["pos_"], dtype=np.int64)] = True
        return out

    def _check_customers(self, frame: pd.DataFrame) -> None:
        missing = query_over(self.con, "incoming_orders",
                             pa.table({"customer_id": _arrow_text(frame["customer_id"])}),
                             "SELECT count(*), min(o.customer_id) FROM incoming_orders o "
                             "ANTI JOIN customers c USING (customer_id)").fetchall()[0]
        if missing[0]:
            raise StoreError(f"{missing[0]} orders name customers the store does not know "
                             f"(first: {missing[1]!r})", "ingest customers before their orders")

    def link_refunds(self, cancel_prefixes: Sequence[str] = ("C",)) -> dict[str, int]:
        """Link refunds to the orders they cancel (``orders.refund_of``); see :mod:`.lines`."""
        return link_refunds(self.con, cancel_prefixes)

    def favourite_products(self, as_of: dt.date, *, top: int = 3) -> pd.DataFrame:
        """Each customer's ``favourite_products`` (up to ``top`` names) from the order lines."""
        return favourite_products(self.con, as_of, top=top)

    def top_products(self, as_of: dt.date, groups: pd.DataFrame, *, by: Sequence[str],
                     top: int = 5) -> pd.DataFrame:
        """Best-selling products per tier, segment ... (columns of ``groups``) up to ``as_of``."""
        return top_products(self.con, as_of, groups, by=by, top=top)

    def cross_sell_hints(self, as_of: dt.date, groups: pd.DataFrame, *, by: str = "tier",
                         top: int = 3) -> pd.DataFrame:
        """Each customer's ``cross_sell``: what the ``by`` group buys and they never bought."""
        return cross_sell_hints(self.con, as_of, groups, by=by, top=top)

    def product_breadth(self, as_of: dt.date) -> pd.DataFrame:
        """Each customer's ``distinct_products`` and ``distinct_categories`` from the lines."""
        return product_breadth(self.con, as_of)

    def has_order_lines(self) -> bool:
        return bool(_scalar(self.con, "SELECT EXISTS (SELECT 1 FROM order_lines)"))

    def upsert_surveys(self, frame: pd.DataFrame, *, source: str) -> dict[str, int]:
        """Replace the survey answers stored from ``source``; re-ingesting is idempotent.

        An answer is identified by ``customer_id``, ``answered_at`` and its source line
        (``_line``): stored answers of ``source`` that come again are counted as replaced, the
        others as inserted; stored answers of ``source`` no longer in it are removed.

        Parameters
        ----------
        frame
            Accepted survey rows (``customer_id``, ``answered_at``, ``score``, ``comment``,
            ``_line``; optional aspect scores ``taste``, ``service``, ``setting``), as
            :func:`tierwise.io.read_source` returns them with ``kind="survey"``.
            Every ``customer_id`` must already be a stored customer (intake rejects the others).
        source
            The source label (file or URL) the rows came from.

        Returns
        -------
        dict
            ``inserted``, ``replaced`` and ``removed`` counts.
        """
        incoming = pd.DataFrame({
            "customer_id": frame["customer_id"].astype("object"),
            "answered_at": frame["answered_at"],
            "score": pd.to_numeric(frame["score"]),
            "comment": frame.get("comment"),
            "line": frame["_line"] if "_line" in frame else range(1, len(frame) + 1),
            **{a: pd.to_numeric(frame[a]) if a in frame else float("nan")
               for a in SURVEY_ASPECTS}})
        return replace_source_rows(self.con, "surveys", incoming, source=source,
                                   what="survey answers", same=("customer_id", "answered_at",
                                                                "line"), insert="""
            INSERT INTO surveys BY NAME
            SELECT c.customer_key, i.customer_id, CAST(i.answered_at AS DATE) AS answered_at,
                   CAST(i.score AS DOUBLE) AS score, CAST(i.comment AS VARCHAR) AS comment,
                   ? AS source, CAST(i.line AS BIGINT) AS line,
                   CAST(i.taste AS DOUBLE) AS taste, CAST(i.service AS DOUBLE) AS service,
                   CAST(i.setting AS DOUBLE) AS setting
            FROM incoming_surveys i JOIN customers c USING (customer_id)
        """)

    def upsert_leads(self, frame: pd.DataFrame, *, source: str,
                     also_known: set[str] | None = None) -> dict[str, int]:
        """Store leads (``kind="leads"`` rows): new ids become customers, then the lead rows
        from ``source`` are replaced (:mod:`.leads`). ``also_known``: ids of customers written
        in the same ingest. Returns ``inserted``, ``replaced``, ``removed`` and
        ``customers_created``."""
        new = new_lead_customers(self.con, frame, also_known)
        if len(new):
            self.upsert_customers(new, source=source)
        counts = write_leads(self.con, frame, source=source)
        counts["customers_created"] = len(new)
        return counts

    def leads_frame(self, as_of: dt.date | None = None) -> pd.DataFrame:
        """Stored leads captured by ``as_of`` (:func:`.leads.leads_frame`)."""
        return leads_frame(self.con, as_of)

    def first_orders(self, as_of: dt.date) -> pd.DataFrame:
        """Each customer's first purchase day and revenue (:func:`.leads.first_orders`)."""
        return first_orders(self.con, as_of)
    def upsert_feedback(self, frame: pd.DataFrame, *, source: str) -> dict[str, int]:
        """Replace the complaints and comments stored from ``source``
        (:func:`tierwise.store.feedback_rows.upsert_feedback`)."""
        return upsert_feedback(self.con, frame, source=source)

    def feedback_frame(self, as_of: dt.date | None = None) -> pd.DataFrame:
        """Complaints and comments received up to ``as_of`` (all when None)."""
        return feedback_frame(self.con, as_of)

    def record_ingest(self, report: dict[str, Any], counts: dict[str, int]) -> None:
        self.con.execute(
            "INSERT INTO ingests (ingested_at, source, kind, rows_in, accepted, rejected, inserted,"
            " replaced, rejects_file, encoding, columns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_now(), str(report["source"]), report["kind"], report["rows_in"], report["accepted"],
             report["rejected"], counts["inserted"], counts["replaced"],
             None if report.get("rejects_file") is None else str(report["rejects_file"]),
             report.get("encoding"),
             json.dumps(report.get("columns") or {}, ensure_ascii=False)])

    def source_headers(self) -> list[str]:
        """The source headers of the latest ingest of each input (source and kind).

        The header mapping each ingest recorded (source header -> column); ``language = "auto"``
        reads it to tell a Chinese export from an English one.
        """
        rows = self.con.execute(
            "SELECT columns FROM (SELECT columns, row_number() OVER (PARTITION BY source, kind "
            "ORDER BY ingest_id DESC) AS k FROM ingests) WHERE k = 1 AND columns IS NOT NULL"
        ).fetchall()
        return [h for (text,) in rows for h in json.loads(text)]

    def counts(self) -> dict[str, int]:
        q = "SELECT (SELECT count(*) FROM customers), (SELECT count(*) FROM orders)"
        customers, orders = self.con.execute(q).fetchall()[0]
        return {"customers": customers, "orders": orders}

    def last_order_date(self) -> dt.date | None:
        """The last day with an order or a refund: the natural as-of date of the data."""
        return _scalar(self.con, "SELECT max(ordered_at) FROM orders")

    def order_days(self) -> tuple[list[dt.date], list[int]]:
        """Distinct order dates, ascending, and the orders on each.

        Refunds count: a cancellation dated after the last purchase belongs in the run (an
        as-of date on the last purchase would leave it out and overstate revenue).
        """
        rows = self.con.execute("SELECT ordered_at, count(*) FROM orders "
                                "GROUP BY 1 ORDER BY 1").fetchall()
        return [r[0] for r in rows], [int(r[1]) for r in rows]

    def customer_frame(self) -> pd.DataFrame:
        """Customers with their attributes (as stored) for joining onto results."""
        return self.con.execute("SELECT * FROM customers ORDER BY customer_key").df()

    # -- runs and snapshots ----------------------------------------------------------------
    def commit_run(self, *, period: str, as_of: dt.date, config_hash: str, engine: str,
                   results: pd.DataFrame, meta: dict[str, Any],
                   tables: dict[str, pd.DataFrame] | None = None,
                   before_commit: Callable[[], None] | None = None,
                   also: Callable[[duckdb.DuckDBPyConnection, int], None] | None = None) -> int:
        """Write a snapshot atomically; a run with the same (period, as_of, config_hash) is replaced.

        ``before_commit`` is called inside the transaction, after every row is written and before
        COMMIT (tests use it to kill the process at the worst moment). ``also(con, run_id)`` writes
        what belongs with the run (its tasks) in the same transaction, before ``before_commit``.
        """
        results, names = strip_words(results)
        tables = {name: strip_table_words(table, name) for name, table in (tables or {}).items()}
        if len(names):
            tables[NAMES_TABLE] = names
        unknown = sorted(set(results.columns) - set(self.snapshot_columns()))
        if unknown:
            raise StoreError(f"results carry columns the store has no place for: {unknown}",
                             "this is a tierwise bug: a column needs a store migration")
        con = self.con
        with self.transaction():
            old = [r[0] for r in con.execute(
                "SELECT run_id FROM runs WHERE period = ? AND as_of = ? AND config_hash = ?",
                [period, as_of, config_hash]).fetchall()]
            for run_id in old:
                con.execute("DELETE FROM snapshot_customers WHERE run_id = ?", [run_id])
                con.execute("DELETE FROM run_tables WHERE run_id = ?", [run_id])
                con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])
            run_id = _scalar(con, "SELECT nextval('run_id_seq')")
            frame = results.assign(run_id=run_id)
            con.register("run_results", frame)
            try:
                con.execute("INSERT INTO snapshot_customers BY NAME SELECT * FROM run_results")
            finally:
                con.unregister("run_results")
            for name, table in tables.items():
                con.execute("INSERT INTO run_tables VALUES (?, ?, ?)",
                            [run_id, name, table.to_json(orient="split", index=False,
                                                         date_format="iso", force_ascii=False)])
            con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [run_id, period, as_of, config_hash, _now(), engine, len(results),
                         json.dumps({**meta, "replaced_runs": old}, default=str, ensure_ascii=False)])
            if also is not None:
                also(con, int(run_id))
            if before_commit is not None:
                before_commit()
        return int(run_id)

    def snapshot_columns(self) -> list[str]:
        return [r[0] for r in self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = "
            "'snapshot_customers' ORDER BY ordinal_position").fetchall()]

    def runs(self) -> pd.DataFrame:
        return self.con.execute(
            "SELECT run_id, period, as_of, config_hash, created_at, engine, n_customers "
            "FROM runs ORDER BY as_of, run_id").df()

    def run_info(self, run: int | str = "latest") -> dict[str, Any]:
        """One run's row (``"latest"``: the most recent as-of date, then the newest run)."""
        if run == "latest":
            rows = self.con.execute(
                "SELECT * FROM runs ORDER BY as_of DESC, run_id DESC LIMIT 1").fetchall()
            row = rows[0] if rows else None
            if row is None:
                raise StoreError(f"store {self.path} has no runs yet", "run 'tierwise run' first")
        else:
            rows = self.con.execute("SELECT * FROM runs WHERE run_id = ?", [int(run)]).fetchall()
            row = rows[0] if rows else None
            if row is None:
                known = ", ".join(str(r) for r in self.runs()["run_id"].tolist()) or "none"
                raise StoreError(f"run {run} not found in {self.path} (runs: {known})",
                                 "list them with 'tierwise runs'")
        names = [d[0] for d in self.con.description]
        info = dict(zip(names, row, strict=True))
        info["meta"] = json.loads(info["meta"]) if info.get("meta") else {}
        return info

    def run_table(self, run: int | str, name: str, *, words: bool = True) -> pd.DataFrame | None:
        """A run-level table (warnings, migration, attendance ...) or None when the run has none.

        The store keeps codes; with ``words`` (the default) the names of the codes
        (``movement_zh``, ``kind_zh``, a warning's ``message_en`` ...) are added from the catalogue
        (:func:`tierwise.i18n.render.table_words`).
        """
        info = self.run_info(run)
        table = self._raw_table(info["run_id"], name)
        if table is None or not words or name == NAMES_TABLE:
            return table
        return table_words(table, self._raw_table(info["run_id"], NAMES_TABLE), name,
                           info["meta"].get("language"))

    def _raw_table(self, run_id: int, name: str) -> pd.DataFrame | None:
        rows = self.con.execute("SELECT data FROM run_tables WHERE run_id = ? AND name = ?",
                                [run_id, name]).fetchall()
        if not rows:
            return None
        data = json.loads(rows[0][0])
        return pd.DataFrame(data["data"], columns=data["columns"])

    def run_table_names(self, run: int | str = "latest") -> list[str]:
        run_id = self.run_info(run)["run_id"]
        return [r[0] for r in self.con.execute(
            "SELECT name FROM run_tables WHERE run_id = ? ORDER BY name", [run_id]).fetchall()]

    def previous_run(self, as_of: dt.date, config_hash: str | None = None) -> dict[str, Any] | None:
        """The newest run before ``as_of`` (preferring the same config), or None."""
        rows = self.con.execute(
            "SELECT run_id FROM runs WHERE as_of < ? ORDER BY (config_hash = ?) DESC, as_of DESC, "
            "run_id DESC LIMIT 1", [as_of, config_hash or ""]).fetchall()
        return self.run_info(rows[0][0]) if rows else None

    def orders_frame(self, as_of: dt.date, columns: Sequence[str] | None = None, *,
                     after: dt.date | None = None) -> pd.DataFrame:
        """Orders up to ``as_of``, by customer and date.

        Parameters
        ----------
        as_of
            The last order date included.
        after
            Only orders after this date (the backtest's outcomes read the horizon since the
            replay date, not the whole history).
        columns
            Columns of the orders table to return (``order_id``, ``customer_key``, ``ordered_at``,
            ``amount``, ``cost``, ``margin``, ``channel``, ``agent``, ``store``, ``status``,
            ``is_refund``, ``source``, ``refund_of``); default ``customer_key, ordered_at, amount, is_refund``.
        """
        cols = list(_ORDERS_FRAME_COLUMNS if columns is None else columns)
        unknown = [c for c in cols if c not in _ORDER_COLUMNS]
        if unknown or not cols:
            raise ValueError(f"orders_frame: unknown column(s) {unknown or '(none given)'}; "
                             f"valid: {', '.join(_ORDER_COLUMNS)}")
        select = ", ".join(f'"{c}"' for c in cols)
        since, params = ("AND ordered_at > ? ", [as_of, after]) if after is not None \
            else ("", [as_of])
        return self.con.execute(
            f"SELECT {select} FROM orders WHERE ordered_at <= ? {since}"
            "ORDER BY customer_key, ordered_at", params).df()

    def surveys_frame(self, as_of: dt.date | None = None) -> pd.DataFrame:
        """Survey answers up to ``as_of`` (all when None), by customer and date.

        Columns: ``customer_key``, ``customer_id``, ``answered_at``, ``score``, ``comment``,
        ``source``, ``line``.
        """
        where, params = ("WHERE answered_at <= ?", [as_of]) if as_of is not None else ("", [])
        return self.con.execute(
            "SELECT customer_key, customer_id, answered_at, score, comment, source, line "
            f"FROM surveys {where} ORDER BY customer_key, answered_at, source, line", params).df()

    def key_account_overrides(self) -> pd.DataFrame:
        return self.con.execute(
            'SELECT customer_id, action, reason, "by", "at" FROM key_account_overrides '
            'ORDER BY "at"').df()

    def add_key_account_override(self, customer_id: str, action: str, reason: str, by: str,
                                 at: dt.datetime | None = None) -> None:
        """Record a manual key-account add or remove; later runs honour it."""
        self.con.execute("INSERT INTO key_account_overrides VALUES (?, ?, ?, ?, ?)",
                         [customer_id, action, reason, by, at or _now()])

    def snapshot(self, run: int | str = "latest", *, words: bool = True) -> pd.DataFrame:
        """The per-customer result table of one run (the public export contract).

        The store keeps codes and figures; with ``words`` (the default) the Chinese names
        (``tier_zh``, ``activity_state_zh`` ...) and the policy reason in both languages
        (``policy_reason``, ``policy_reason_zh``) are added from the catalogue, as the export
        always gave them (:func:`tierwise.i18n.render.add_words`).
        """
        info = self.run_info(run)
        frame = self.con.execute(
            "SELECT * EXCLUDE (run_id) FROM snapshot_customers WHERE run_id = ? "
            "ORDER BY customer_key", [info["run_id"]]).df()
        if not words:
            return frame
        return add_words(frame, self._raw_table(info["run_id"], NAMES_TABLE),
                         info["meta"].get("language"))


def is_lock_conflict(exc: BaseException) -> bool:
    """True when DuckDB refused to open a file because another process holds its lock."""
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def _connect(path: Path, read_only: bool, wait: float) -> duckdb.DuckDBPyConnection:
    """Open the file, retrying with growing pauses while another process holds its lock."""
    deadline = time.monotonic() + wait
    pause = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if not is_lock_conflict(exc):
                raise StoreError(f"cannot open store {path}: {exc}",
                                 "check the file's permissions and the disk") from None
            if time.monotonic() + pause > deadline:
                raise StoreBusyError(
                    f"store {path} is in use by another process"
                    + (f" (waited {wait:.0f} s)" if wait >= 1 else ""),
                    "a 'tierwise run' or ingest may be writing to it; wait for it to finish "
                    "and retry") from None
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
        except duckdb.Error as exc:
            raise StoreError(f"{path} is not a readable tierwise store: {exc}",
                             "point [store] path at a new file or a tierwise .duckdb file") from None


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The single value of a query (fetching every row, as DuckDB wants before the next call)."""
    return con.execute(sql, params or []).fetchall()[0][0]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _arrow_text(s: pd.Series) -> pa.Array:
    """A text column as an Arrow string array (DuckDB scans it without Python objects)."""
    arr = pa.array(s, type=pa.large_string(), from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _text_or_none(s: pd.Series) -> pd.Series:
    """Objects: ``str`` values, ``None`` where missing (other values written with ``str``)."""
    out = s.astype("object").where(s.notna(), None)
    if pd.api.types.infer_dtype(out, skipna=True) in ("string", "empty"):
        return out  # already text: no per-value conversion
    return out.map(lambda v: v if v is None else str(v))


def _dates_or_none(s: pd.Series) -> pd.Series:
    """Dates as ``datetime.date`` objects; a column with no value at all stays ``None``."""
    if not s.notna().any():
        return pd.Series([None] * len(s), index=s.index, dtype="object")
    return pd.to_datetime(s, errors="coerce").dt.date


def _customer_frame(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Canonical customer columns plus an ``attributes`` JSON text column for the rest."""
    out = pd.DataFrame(index=frame.index)
    for col in _CUSTOMER_COLUMNS:
        out[col] = frame[col] if col in frame else None
    out["age"] = pd.to_numeric(out["age"], errors="coerce")
    for col in ("joined_at", "birthday"):
        out[col] = _dates_or_none(out[col])
    for col in _CUSTOMER_COLUMNS:
        if col not in ("age", "joined_at", "birthday"):
            out[col] = _text_or_none(out[col])
    out["created_from_orders"] = (frame["created_from_orders"].fillna(False).astype(bool)
                                  if "created_from_orders" in frame else False)
    extra = [c for c in frame.columns if c not in _CUSTOMER_COLUMNS
             and c not in ("created_from_orders",) and not c.startswith("_")]
    if extra:
        lines = frame[extra].to_json(orient="records", lines=True, force_ascii=False,
                                     date_format="iso").splitlines()
        out["attributes"] = lines if len(lines) == len(frame) else None
    else:
        out["attributes"] = None
    out["source"] = source
    return out.reset_index(drop=True)

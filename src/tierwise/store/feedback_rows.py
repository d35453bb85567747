"""Complaints and comments in the store (the ``feedback`` table, migration ``0085_feedback``).

Kept like survey answers: the rows of one source replace that source's earlier rows, so
ingesting the same export again (with more rows resolved) is idempotent.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from ..errors import StoreError

#: What :func:`feedback_frame` returns.
FEEDBACK_FRAME_COLUMNS = ("customer_key", "customer_id", "received_at", "channel", "category",
                          "text", "resolved", "source", "line")


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> int:
    return int(con.execute(sql, params or []).fetchall()[0][0])


def upsert_feedback(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, *,
                    source: str) -> dict[str, int]:
    """Replace the feedback rows stored from ``source`` by ``frame`` (accepted rows as
    :func:`tierwise.io.read_source` returns them with ``kind="feedback"``); every customer must
    already be stored. Returns ``inserted``, ``replaced`` and ``removed`` counts (a row is the
    same row when its customer, date and source line are)."""
    resolved = frame["resolved"] if "resolved" in frame else pd.Series(pd.NA, index=frame.index)
    incoming = pd.DataFrame({
        "customer_id": frame["customer_id"].astype("object"),
        "received_at": frame["received_at"],
        "channel": frame.get("channel"), "category": frame.get("category"),
        "text": frame["text"].astype("object"),
        "resolved": resolved.astype("object").where(resolved.notna(), None),
        "line": frame["_line"] if "_line" in frame else range(1, len(frame) + 1)})
    con.register("incoming_feedback", incoming)
    try:
        missing = con.execute("SELECT count(*), min(i.customer_id) FROM incoming_feedback i "
                              "ANTI JOIN customers c USING (customer_id)").fetchall()[0]
        if missing[0]:
            raise StoreError(f"{missing[0]} feedback rows name customers the store does not know "
                             f"(first: {missing[1]!r})",
                             "ingest customers first; intake rejects unknown customers")
        replaced = _count(con, "SELECT count(*) FROM incoming_feedback i SEMI JOIN "
                               "(SELECT * FROM feedback WHERE source = ?) f "
                               "USING (customer_id, received_at, line)", [source])
        before = _count(con, "SELECT count(*) FROM feedback WHERE source = ?", [source])
        con.execute("DELETE FROM feedback WHERE source = ?", [source])
        con.execute("""
            INSERT INTO feedback
            SELECT c.customer_key, i.customer_id, CAST(i.received_at AS DATE),
                   CAST(i.channel AS VARCHAR), CAST(i.category AS VARCHAR),
                   CAST(i.text AS VARCHAR), CAST(i.resolved AS BOOLEAN), ?, CAST(i.line AS BIGINT)
            FROM incoming_feedback i JOIN customers c USING (customer_id)
        """, [source])
    finally:
        con.unregister("incoming_feedback")
    return {"inserted": len(incoming) - replaced, "replaced": replaced,
            "removed": before - replaced}


def feedback_frame(con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None) -> pd.DataFrame:
    """Feedback rows received up to ``as_of`` (all when None), by customer, date and line."""
    where, params = ("WHERE received_at <= ?", [as_of]) if as_of is not None else ("", [])
    return con.execute(f"SELECT {', '.join(FEEDBACK_FRAME_COLUMNS)} FROM feedback {where} "
                       "ORDER BY customer_key, received_at, source, line", params).df()


__all__ = ["FEEDBACK_FRAME_COLUMNS", "feedback_frame", "upsert_feedback"]

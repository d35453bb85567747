"""Complaints and comments in the store (the ``feedback`` table, migration ``0085_feedback``).

Kept like survey answers: the rows of one source replace that source's earlier rows, so
ingesting the same export again (with more rows resolved) is idempotent.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from .source_rows import replace_source_rows

#: What :func:`feedback_frame` returns.
FEEDBACK_FRAME_COLUMNS = ("customer_key", "customer_id", "received_at", "channel", "category",
                          "text", "resolved", "source", "line")


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
    return replace_source_rows(con, "feedback", incoming, source=source, what="feedback rows",
                               same=("customer_id", "received_at", "line"), insert="""
        INSERT INTO feedback
        SELECT c.customer_key, i.customer_id, CAST(i.received_at AS DATE),
               CAST(i.channel AS VARCHAR), CAST(i.category AS VARCHAR),
               CAST(i.text AS VARCHAR), CAST(i.resolved AS BOOLEAN), ?, CAST(i.line AS BIGINT)
        FROM incoming_feedback i JOIN customers c USING (customer_id)
    """)


def feedback_frame(con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None) -> pd.DataFrame:
    """Feedback rows received up to ``as_of`` (all when None), by customer, date and line."""
    where, params = ("WHERE received_at <= ?", [as_of]) if as_of is not None else ("", [])
    return con.execute(f"SELECT {', '.join(FEEDBACK_FRAME_COLUMNS)} FROM feedback {where} "
                       "ORDER BY customer_key, received_at, source, line", params).df()


__all__ = ["FEEDBACK_FRAME_COLUMNS", "feedback_frame", "upsert_feedback"]

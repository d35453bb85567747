"""The sent log: every event raised (``alert_events``) and every delivery of it
(``alert_log``: event key, channel, status, attempts, error, time).

An event is delivered on a channel at most once: :func:`sent_keys` tells which keys a channel
already carried, and only the others go out. A failed delivery is logged too and tried again at
the next pass.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

import pandas as pd

from ..store import Store
from .rules import AlertEvent


def _has_log(store: Store) -> bool:
    """False in a store opened read-only before its first writer added the alert tables."""
    return bool(store.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND "
        "table_name = 'alert_log'").fetchall()[0][0])


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record_events(store: Store, events: Iterable[AlertEvent]) -> int:
    """Keep events not yet recorded (by key); returns how many were new."""
    rows = [[e.key, e.code, e.run_id, e.period, e.customer_id, list(e.people),
             json.dumps(e.params, ensure_ascii=False, default=str), _now()] for e in events]
    if not rows:
        return 0
    with store.transaction() as con:
        before = con.execute("SELECT count(*) FROM alert_events").fetchall()[0][0]
        con.executemany("INSERT INTO alert_events VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (event_key) DO NOTHING", rows)
        after = con.execute("SELECT count(*) FROM alert_events").fetchall()[0][0]
    return int(after - before)


def sent_keys(store: Store, channel: str, keys: Iterable[str]) -> set[str]:
    """The keys among ``keys`` that ``channel`` has already delivered."""
    wanted = sorted(set(keys))
    if not wanted or not _has_log(store):
        return set()
    return {r[0] for r in store.con.execute(
        "SELECT DISTINCT event_key FROM alert_log WHERE channel = ? AND status = 'sent' AND "
        "event_key IN (SELECT unnest(?))", [channel, wanted]).fetchall()}


def record_delivery(store: Store, keys: Iterable[str], channel: str, status: str,
                    attempts: int, error: str | None = None) -> None:
    """One log row per key for a delivery on ``channel``, in one transaction."""
    at = _now()
    rows = [[k, channel, status, attempts, error, at] for k in keys]
    if not rows:
        return
    with store.transaction() as con:
        con.executemany('INSERT INTO alert_log (event_key, channel, status, attempts, error, "at")'
                        " VALUES (?, ?, ?, ?, ?, ?)", rows)


def alert_log(store: Store, *, limit: int = 100) -> pd.DataFrame:
    """The latest ``limit`` deliveries, newest first, with the event's code and customer."""
    if not _has_log(store):
        return pd.DataFrame(columns=["at", "event_key", "channel", "status", "attempts", "error",
                                     "code", "customer_id", "period"])
    return store.con.execute("""
        SELECT l."at", l.event_key, l.channel, l.status, l.attempts, l.error,
               e.code, e.customer_id, e.period
        FROM alert_log l LEFT JOIN alert_events e USING (event_key)
        ORDER BY l.log_id DESC LIMIT ?""", [limit]).df()


def events_between(store: Store, start: dt.date, end: dt.date,
                   person: str | None = None) -> list[AlertEvent]:
    """Events first raised on ``start`` up to the day before ``end`` (those naming ``person``
    among their people, when given)."""
    if not _has_log(store):
        return []
    mine = "" if person is None else "AND list_contains(people, ?)"
    rows = store.con.execute(f"""
        SELECT event_key, code, run_id, period, customer_id, people, params FROM alert_events
        WHERE CAST(raised_at AS DATE) >= ? AND CAST(raised_at AS DATE) < ? {mine}
        ORDER BY raised_at, event_key""",
        [start, end, *([] if person is None else [person])]).fetchall()
    return [AlertEvent(k, c, int(r), p, cid, tuple(people or ()), json.loads(params))
            for k, c, r, p, cid, people, params in rows]


__all__ = ["alert_log", "events_between", "record_delivery", "record_events", "sent_keys"]

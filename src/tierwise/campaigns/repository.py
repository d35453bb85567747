"""The campaign tables of the store: one place that reads and writes them.

Tables (migration ``0020_campaigns``): ``campaigns`` (one row per campaign, its settings and
counts), ``campaign_members`` (the frozen audience: ``customer_key``, ``customer_id``, ``group``
target / control), ``campaign_exclusions`` (who was left out, and why), ``campaign_sends`` and
``campaign_redemptions`` (imported or derived results) and ``campaign_imports`` (one row per
results import with its counts).

Every query fetches all its rows before the next call on the connection (DuckDB 2.0 wants that).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import StoreError
from ..store import Store

GROUPS = ("target", "control")
_CAMPAIGN_TABLES = ("campaigns", "campaign_members", "campaign_exclusions", "campaign_sends",
                    "campaign_redemptions", "campaign_imports")
SEND_COLUMNS = ("customer_key", "customer_id", "sent_at", "coupon_code", "channel", "source",
                "line")
#: The source of redemptions derived from the store's orders starts with this.
DERIVED_PREFIX = "orders:"
REDEMPTION_COLUMNS = ("customer_key", "customer_id", "coupon_code", "used_at", "order_id",
                      "amount", "source", "line")


@dataclass(frozen=True)
class Campaign:
    """One stored campaign: its settings, the snapshot its audience came from, and its counts."""

    campaign_id: int
    name: str
    created_at: dt.datetime
    run_id: int
    as_of: dt.date
    window_start: dt.date
    window_end: dt.date
    face_value: float
    message_unit_cost: float
    gross_margin: float
    control_share: float
    seed: int
    cooldown_days: int
    audience: dict[str, Any]
    n_matched: int
    n_excluded: int
    n_target: int
    n_control: int
    meta: dict[str, Any] = field(default_factory=dict)
    #: The first step's id (every step of one campaign shares it); None: the campaign's own id.
    series_id: int | None = None
    #: 1 for a campaign, 2.. for its follow-up steps (:mod:`tierwise.campaigns.steps`).
    step: int = 1
    #: A follow-up step starts this many days after the previous step's start.
    after_days: int | None = None

    @property
    def series(self) -> int:
        """The id of the campaign this is a step of (its own id for a first step)."""
        return self.campaign_id if self.series_id is None else self.series_id

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO text)."""
        out = dataclasses.asdict(self)
        for key in ("created_at", "as_of", "window_start", "window_end"):
            out[key] = out[key].isoformat() if out[key] is not None else None
        return out


def _rows(store: Store, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    return store.con.execute(sql, params or []).fetchall()


def _frame(store: Store, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    return store.con.execute(sql, params or []).df()


def require_tables(store: Store) -> None:
    """Fail clearly on a store written before campaigns existed (opened read-only)."""
    have = {r[0] for r in _rows(store, "SELECT table_name FROM information_schema.tables "
                                       "WHERE table_schema = 'main'")}
    if not set(_CAMPAIGN_TABLES) <= have:
        raise StoreError(f"store {store.path} has no campaigns yet",
                         "create one with 'tierwise campaign create' (it also upgrades the store)")


def next_campaign_id(store: Store) -> int:
    """The id the next campaign gets (the store has one writer, so nothing can take it first)."""
    return int(_rows(store, "SELECT coalesce(max(campaign_id), 0) + 1 FROM campaigns")[0][0])


def utc_now() -> dt.datetime:
    """Naive UTC, as the store's other tables record times."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _insert_frame(store: Store, table: str, frame: pd.DataFrame) -> None:
    if not len(frame):
        return
    name = f"incoming_{table}"
    store.con.register(name, frame)
    try:
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        store.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")
    finally:
        store.con.unregister(name)


def insert_campaign(store: Store, campaign: Campaign, members: pd.DataFrame,
                    exclusions: pd.DataFrame) -> None:
    """Store a campaign with its frozen audience and exclusions, all or nothing."""
    row = campaign.to_dict()
    row["created_at"] = campaign.created_at
    row["audience"] = json.dumps(campaign.audience, ensure_ascii=False, default=str)
    row["meta"] = json.dumps(campaign.meta, ensure_ascii=False, default=str)
    row["series_id"] = campaign.series
    names = list(row)
    with store.transaction():
        store.con.execute(
            f"INSERT INTO campaigns ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            [row[n] for n in names])
        _insert_frame(store, "campaign_members",
                      members[["customer_key", "customer_id", "group"]]
                      .assign(campaign_id=campaign.campaign_id))
        _insert_frame(store, "campaign_exclusions",
                      exclusions[["customer_key", "customer_id", "rule", "reason"]]
                      .assign(campaign_id=campaign.campaign_id))


def _campaign(names: list[str], row: tuple[Any, ...]) -> Campaign:
    data = dict(zip(names, row, strict=True))
    data["audience"] = json.loads(data["audience"]) if data["audience"] else {}
    data["meta"] = json.loads(data["meta"]) if data["meta"] else {}
    for key in ("campaign_id", "run_id", "seed", "cooldown_days", "n_matched", "n_excluded",
                "n_target", "n_control"):
        data[key] = int(data[key])
    for key in ("series_id", "step", "after_days"):  # a store before 0075 has none of them
        if data.get(key) is not None:
            data[key] = int(data[key])
    if data.get("step") is None:
        data.pop("step", None)
    return Campaign(**data)


def get_campaign(store: Store, campaign_id: int) -> Campaign:
    """One campaign; a :class:`StoreError` naming the known ids when it does not exist."""
    require_tables(store)
    cur = store.con.execute("SELECT * FROM campaigns WHERE campaign_id = ?", [int(campaign_id)])
    rows = cur.fetchall()
    names = [d[0] for d in cur.description]
    if not rows:
        known = ", ".join(str(r[0]) for r in _rows(
            store, "SELECT campaign_id FROM campaigns ORDER BY campaign_id")) or "none"
        raise StoreError(f"campaign {campaign_id} not found in {store.path} (campaigns: {known})",
                         "list them with 'tierwise campaign list'")
    return _campaign(names, rows[0])


def list_campaigns(store: Store) -> list[Campaign]:
    require_tables(store)
    cur = store.con.execute("SELECT * FROM campaigns ORDER BY campaign_id")
    rows = cur.fetchall()
    names = [d[0] for d in cur.description]
    return [_campaign(names, r) for r in rows]


def series(store: Store, campaign_id: int) -> list[Campaign]:
    """Every step of the campaign ``campaign_id`` belongs to (any step's id), first step first."""
    first = get_campaign(store, campaign_id)
    if "series_id" not in _campaign_columns(store):  # a read-only store before 0075: one step
        return [first]
    cur = store.con.execute("SELECT * FROM campaigns WHERE coalesce(series_id, campaign_id) = ? "
                            "ORDER BY step, campaign_id", [first.series])
    rows = cur.fetchall()
    names = [d[0] for d in cur.description]
    return [_campaign(names, r) for r in rows]


def _campaign_columns(store: Store) -> set[str]:
    return {r[0] for r in _rows(store, "SELECT column_name FROM information_schema.columns "
                                       "WHERE table_name = 'campaigns'")}


def members(store: Store, campaign_id: int, group: str | None = None) -> pd.DataFrame:
    """The frozen audience: ``customer_key``, ``customer_id``, ``group``."""
    sql = ('SELECT customer_key, customer_id, "group" FROM campaign_members '
           "WHERE campaign_id = ?")
    params: list[Any] = [int(campaign_id)]
    if group is not None:
        sql += ' AND "group" = ?'
        params.append(group)
    return _frame(store, sql + " ORDER BY customer_key", params)


def targets_with_contacts(store: Store, campaign_id: int) -> pd.DataFrame:
    """Target members only (never the control group), with name and phone from ``customers``."""
    return _frame(store, """
        SELECT m.customer_id, c.name, c.phone
        FROM campaign_members m JOIN customers c USING (customer_key)
        WHERE m.campaign_id = ? AND m."group" = 'target'
        ORDER BY m.customer_key""", [int(campaign_id)])


def contact_history(store: Store, *, exclude: int | None = None) -> pd.DataFrame:
    """Every campaign member with its contact date (first send, else the window start).

    Columns: ``campaign_id``, ``customer_key``, ``group``, ``contact_date``, ``window_end``.
    Control members carry their campaign's window (they were held out, not contacted).
    """
    have = {r[0] for r in _rows(store, "SELECT table_name FROM information_schema.tables "
                                       "WHERE table_schema = 'main'")}
    if "campaign_members" not in have:
        return pd.DataFrame(columns=["campaign_id", "customer_key", "group", "contact_date",
                                     "window_end"])
    return _frame(store, """
        SELECT m.campaign_id, m.customer_key, m."group",
               coalesce(s.first_sent, c.window_start) AS contact_date, c.window_end
        FROM campaign_members m
        JOIN campaigns c USING (campaign_id)
        LEFT JOIN (SELECT campaign_id, customer_key, min(sent_at) AS first_sent
                   FROM campaign_sends GROUP BY ALL) s USING (campaign_id, customer_key)
        WHERE m.campaign_id IS DISTINCT FROM ?
        ORDER BY m.campaign_id, m.customer_key""", [exclude])


def customer_keys(store: Store) -> pd.DataFrame:
    """``customer_id`` -> ``customer_key`` of every stored customer."""
    return _frame(store, "SELECT customer_id, customer_key FROM customers")


def member_orders(store: Store, campaign_id: int, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Orders of the campaign's members dated ``start`` .. ``end`` (inclusive), with the group."""
    return _frame(store, """
        SELECT m.customer_key, m.customer_id, m."group", o.order_id, o.ordered_at, o.amount,
               o.is_refund
        FROM campaign_members m JOIN orders o USING (customer_key)
        WHERE m.campaign_id = ? AND o.ordered_at BETWEEN ? AND ?
        ORDER BY m.customer_key, o.ordered_at, o.order_id""", [int(campaign_id), start, end])


def last_order_date(store: Store) -> dt.date | None:
    return _rows(store, "SELECT max(ordered_at) FROM orders")[0][0]


def sends(store: Store, campaign_id: int) -> pd.DataFrame:
    return _frame(store, f"SELECT {', '.join(SEND_COLUMNS)} FROM campaign_sends "
                         "WHERE campaign_id = ? ORDER BY customer_key", [int(campaign_id)])


def redemptions(store: Store, campaign_id: int) -> pd.DataFrame:
    return _frame(store, f"SELECT {', '.join(REDEMPTION_COLUMNS)} FROM campaign_redemptions "
                         "WHERE campaign_id = ? ORDER BY used_at, customer_key",
                  [int(campaign_id)])


def replace_results(store: Store, campaign_id: int, kind: str, frame: pd.DataFrame, *,
                    source: str, report: dict[str, Any], replace_all: bool = False) -> int:
    """Store sends or redemptions from one source, replacing that source's earlier rows.

    Rows derived from the orders (source ``orders:...``) are always replaced too, so imported and
    derived redemptions are never counted twice. ``replace_all`` drops every earlier row of the
    kind (used when results are derived: they describe the whole campaign). Returns the number
    of rows replaced.
    """
    table = {"sends": "campaign_sends", "redemptions": "campaign_redemptions"}[kind]
    columns = list(SEND_COLUMNS if kind == "sends" else REDEMPTION_COLUMNS)
    where = "campaign_id = ?" + ("" if replace_all else
                                 f" AND (source = ? OR source LIKE '{DERIVED_PREFIX}%')")
    params: list[Any] = [int(campaign_id)] + ([] if replace_all else [source])
    with store.transaction():
        replaced = int(_rows(store, f"SELECT count(*) FROM {table} WHERE {where}", params)[0][0])
        store.con.execute(f"DELETE FROM {table} WHERE {where}", params)
        _insert_frame(store, table, frame[columns].assign(campaign_id=int(campaign_id)))
        store.con.execute(
            "INSERT INTO campaign_imports (campaign_id, imported_at, kind, source, rows_in, "
            "accepted, rejected, rejects_file, encoding, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?)",
            [int(campaign_id), utc_now(), kind, source, report["rows_in"], report["accepted"],
             report["rejected"], report.get("rejects_file"), report.get("encoding"),
             json.dumps(report.get("warnings", []), ensure_ascii=False)])
    return replaced


def imports(store: Store, campaign_id: int) -> pd.DataFrame:
    return _frame(store, "SELECT * FROM campaign_imports WHERE campaign_id = ? ORDER BY import_id",
                  [int(campaign_id)])


__all__ = [
    "DERIVED_PREFIX",
    "GROUPS",
    "Campaign",
    "contact_history",
    "customer_keys",
    "get_campaign",
    "imports",
    "insert_campaign",
    "last_order_date",
    "list_campaigns",
    "member_orders",
    "members",
    "next_campaign_id",
    "redemptions",
    "replace_results",
    "require_tables",
    "sends",
    "series",
    "targets_with_contacts",
    "utc_now",
]

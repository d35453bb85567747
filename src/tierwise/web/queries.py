"""What the dashboard shows, as queries scoped to the signed-in viewer.

Every function takes a DuckDB connection holding the store's tables (the server's copy, or a
:class:`~tierwise.store.Store`'s ``con``) and a :class:`~tierwise.web.access.Viewer`, and
returns plain data (dicts and lists, JSON-ready: NaN becomes None). The viewer's scope goes into
each query's ``WHERE``, so what a viewer may not see is never read, and an id outside the scope
raises :class:`~tierwise.web.errors.NotFound` exactly as an unknown id does.

Examples
--------
>>> from tierwise.store import Store                                    # doctest: +SKIP
>>> with Store("tierwise.duckdb", read_only=True) as store:             # doctest: +SKIP
...     run = run_info(store.con, None)
...     page = customer_page(store.con, Viewer("li", "manager"), run, CustomerQuery(q="王"))
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ..config import PYRAMID_TIERS
from ..i18n.render import NAMES_TABLE, add_words_to_rows, table_words
from ..lifecycle.policies import ACTIVITY_STATES, POLICIES, STATE_POLICIES, WAKE_UP_STATES
from ..runview import ITEM_COLUMNS, OUTLOOK_COLUMNS, RunView, Scope
from ..tiering.policies import TIER_NAMES
from .access import Viewer
from .errors import NotFound

#: Columns of a row in the customer list.
LIST_COLUMNS = ("customer_id", "name", "phone", "account_manager", "tier", "segment",
                "activity_state", "key_account", "key_account_type", "total_amount",
                "clv_predicted", "days_since_last", "last_purchase", "score")
_TIER_RANK = "CASE tier " + " ".join(f"WHEN '{t}' THEN {i}" for i, t in enumerate(PYRAMID_TIERS)) \
    + f" ELSE {len(PYRAMID_TIERS)} END"
#: What the list can be sorted by (the whitelist), and the SQL each sorts on.
SORTS = {"clv_predicted": "clv_predicted", "total_amount": "total_amount",
         "days_since_last": "days_since_last", "last_purchase": "last_purchase",
         "score": "score", "p_alive": "p_alive", "frequency": "frequency",
         "customer_id": "customer_id", "name": "name", "tier": _TIER_RANK}
#: The digits of the phone column, in SQL.
PHONE_DIGITS_SQL = "regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g')"
_NOT_DIGITS = re.compile(r"[^0-9]")
_PHONE_LIKE = re.compile(r"[0-9 ()+\-]+")


def phone_digits(text: str | None) -> str:
    """The ASCII digits of a text (``'138-1234 5678'`` -> ``'13812345678'``)."""
    return _NOT_DIGITS.sub("", text or "")


def phone_like(text: str) -> bool:
    """Whether a search text looks like (part of) a phone number: then phones are searched."""
    return bool(_PHONE_LIKE.fullmatch(text))
_STATE_POLICY = {row["state"]: row for row in STATE_POLICIES}
_POLICY = {row["policy"]: row for row in POLICIES}


# -- runs -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunInfo:
    """One snapshot, as pages show it."""

    run_id: int
    period: str
    as_of: dt.date
    created_at: dt.datetime
    engine: str
    n_customers: int
    language: str | None
    previous_run: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "period": self.period, "as_of": self.as_of.isoformat(),
                "created_at": self.created_at.isoformat(timespec="seconds"),
                "engine": self.engine, "n_customers": self.n_customers,
                "language": self.language, "previous_run": self.previous_run}


_RUNS = ("SELECT run_id, period, as_of, created_at, engine, n_customers, "
         "json_extract_string(meta, '$.language'), "
         "TRY_CAST(json_extract_string(meta, '$.previous_run') AS BIGINT) FROM runs")


def list_runs(con: duckdb.DuckDBPyConnection) -> list[RunInfo]:
    """Every run, newest first (by as-of date, then id)."""
    return [RunInfo(*row) for row in con.execute(
        f"{_RUNS} ORDER BY as_of DESC, run_id DESC").fetchall()]


def run_info(con: duckdb.DuckDBPyConnection, run: int | None) -> RunInfo:
    """One run by id, or the latest (None). Runs are not personal: every viewer sees them."""
    if run is None:
        rows = con.execute(f"{_RUNS} ORDER BY as_of DESC, run_id DESC LIMIT 1").fetchall()
        if not rows:
            raise NotFound("the store has no runs yet", "run 'tierwise run' first")
    else:
        rows = con.execute(f"{_RUNS} WHERE run_id = ?", [run]).fetchall()
        if not rows:
            raise NotFound(f"run {run} not found", "see the runs page for the runs there are")
    return RunInfo(*rows[0])


def run_table(con: duckdb.DuckDBPyConnection, run_id: int, name: str, *,
              words: bool = True) -> pd.DataFrame | None:
    """A run-level table (warnings, service policies ...) or None when the run has none; with
    ``words``, the names of its codes from the catalogue (:func:`tierwise.i18n.render.table_words`)."""
    rows = con.execute("SELECT data FROM run_tables WHERE run_id = ? AND name = ?",
                       [run_id, name]).fetchall()
    if not rows:
        return None
    data = json.loads(rows[0][0])
    table = pd.DataFrame(data["data"], columns=data["columns"])
    if not words or name == NAMES_TABLE:
        return table
    return table_words(table, run_table(con, run_id, NAMES_TABLE, words=False), name)


def worded(con: duckdb.DuckDBPyConnection, run: RunInfo | None,
           rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Snapshot rows with the words of their codes (``tier_zh``, ``policy_reason_zh`` ...,
    ``key_account_reason`` in the run's language), from the catalogue and the run's own names
    (:func:`tierwise.i18n.render.add_words`)."""
    if not rows:
        return rows
    names = run_table(con, run.run_id, NAMES_TABLE, words=False) if run is not None else None
    return add_words_to_rows(rows, names, run.language if run is not None else None)


# -- the customer list ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CustomerQuery:
    """Search, filters, sort and page of the customer list (every field optional).

    ``q`` matches a customer whose name contains it, whose id contains it (three characters or
    more; a shorter text must be the whole id), or, when it looks like a phone number (digits,
    spaces, ``+-()``, at least three digits), whose phone digits contain its digits; letters
    compare in lower case.
    """

    q: str | None = None
    tiers: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    key_account: bool | None = None
    sort: str = "clv_predicted"
    order: str = "desc"
    page: int = 1
    page_size: int = 50

    def where(self) -> tuple[list[str], list[Any]]:
        """SQL conditions and parameters of the search and filters."""
        conds: list[str] = []
        params: list[Any] = []
        text = (self.q or "").strip().lower()
        if text:
            parts = ["contains(lower(name), ?)",
                     "contains(lower(customer_id), ?)" if len(text) >= 3
                     else "lower(customer_id) = ?"]
            params += [text, text]
            digits = phone_digits(text)
            if len(digits) >= 3 and phone_like(text):
                parts.append(f"contains({PHONE_DIGITS_SQL}, ?)")
                params.append(digits)
            conds.append("(" + " OR ".join(parts) + ")")
        for column, values in (("tier", self.tiers), ("activity_state", self.states)):
            if values:
                conds.append(f"{column} IN ({', '.join('?' * len(values))})")
                params += list(values)
        if self.segments:
            marks = ", ".join("?" * len(self.segments))
            conds.append(f"(segment IN ({marks}) OR segment_level1 IN ({marks}))")
            params += [*self.segments, *self.segments]
        if self.key_account is not None:
            conds.append("coalesce(key_account, FALSE) = ?")
            params.append(self.key_account)
        return conds, params

    def order_by(self) -> str:
        if self.sort not in SORTS:
            raise NotFound(f"cannot sort by {self.sort!r}", f"sort by one of: {', '.join(SORTS)}")
        direction = "ASC" if self.order == "asc" else "DESC"
        return f"{SORTS[self.sort]} {direction} NULLS LAST, customer_id ASC"


def _scoped(viewer: Viewer, run_id: int, extra: list[str] | None = None,
            extra_params: list[Any] | None = None) -> tuple[str, list[Any]]:
    scope, params = viewer.scope()
    conds = ["run_id = ?", scope, *(extra or [])]
    return " AND ".join(conds), [run_id, *params, *(extra_params or [])]


def scoped(viewer: Viewer, run_id: int) -> tuple[str, list[Any]]:
    """The SQL condition (and its parameters) selecting a run's rows the viewer may see."""
    return _scoped(viewer, run_id)


def customer_page(con: duckdb.DuckDBPyConnection, viewer: Viewer, run: RunInfo,
                  query: CustomerQuery) -> dict[str, Any]:
    """One page of the viewer's customers matching ``query``, with the total count."""
    conds, params = query.where()
    where, args = _scoped(viewer, run.run_id, conds, params)
    total = con.execute(f"SELECT count(*) FROM snapshot_customers WHERE {where}",
                        args).fetchall()[0][0]
    offset = (query.page - 1) * query.page_size
    rows = worded(con, run, _records(
        con, f"SELECT {', '.join(LIST_COLUMNS)} FROM snapshot_customers "
             f"WHERE {where} ORDER BY {query.order_by()} LIMIT ? OFFSET ?",
        [*args, query.page_size, offset]))
    return {"run": run.to_dict(), "total": int(total), "page": query.page,
            "page_size": query.page_size,
            "pages": max(1, math.ceil(total / query.page_size)),
            "sort": query.sort, "order": query.order,
            "items": [viewer.contacts(r) for r in rows]}


def filter_options(con: duckdb.DuckDBPyConnection, viewer: Viewer, run: RunInfo
                   ) -> dict[str, list[str]]:
    """The tiers, segments and states present among the viewer's customers (for filter menus)."""
    where, args = _scoped(viewer, run.run_id)
    out: dict[str, list[str]] = {}
    for key, column in (("tiers", "tier"), ("segments", "segment"),
                        ("states", "activity_state")):
        values = [r[0] for r in con.execute(
            f"SELECT DISTINCT {column} FROM snapshot_customers WHERE {where} "
            f"AND {column} IS NOT NULL ORDER BY 1", args).fetchall()]
        order = {"tiers": PYRAMID_TIERS, "states": ACTIVITY_STATES}.get(key)
        if order:
            values.sort(key=lambda v, o=order: o.index(v) if v in o else len(o))
        out[key] = values
    return out


# -- one customer -----------------------------------------------------------------------------------
HISTORY_COLUMNS = ("tier", "activity_state", "segment",
                   "total_amount", "clv_predicted", "score", "key_account", "days_since_last")


def customer_row(con: duckdb.DuckDBPyConnection, viewer: Viewer, run: RunInfo,
                 customer_id: str) -> dict[str, Any]:
    """One customer's snapshot row in one run (every column but ``run_id``), JSON-ready.

    Raises
    ------
    NotFound
        When the run has no such customer, or the customer is outside the viewer's scope.
    """
    where, args = _scoped(viewer, run.run_id, ["customer_id = ?"], [customer_id])
    rows = worded(con, run, _records(
        con, f"SELECT * EXCLUDE (run_id) FROM snapshot_customers WHERE {where}", args))
    if not rows:
        raise customer_not_found(customer_id, run)
    return rows[0]


def customer_not_found(customer_id: str, run: RunInfo) -> NotFound:
    """The one answer for an unknown customer and for one outside the viewer's scope."""
    return NotFound(f"customer {customer_id!r} not found in run {run.run_id}",
                    "search the customer list")


def customer_detail(con: duckdb.DuckDBPyConnection, viewer: Viewer, run: RunInfo,
                    customer_id: str, *, row: dict[str, Any] | None = None,
                    runs: list[RunInfo] | None = None,
                    service_policies: dict[str, dict[str, Any]] | None = None,
                    outlook: OutlookSettings | None = None) -> dict[str, Any]:
    """Everything about one customer in one run, their history and what to do next.

    ``row`` (the customer's row, already scoped to the viewer: :func:`customer_row`, or the
    server's in-memory copy of the latest run), ``runs`` (every run), ``service_policies``
    (:func:`service_policies`) and ``outlook`` (:func:`outlook_settings`) are read from ``con``
    unless given: a server that keeps them at hand saves a query each.

    Raises
    ------
    NotFound
        When the run has no such customer, or the customer is outside the viewer's scope.
    """
    row = viewer.contacts(row if row is not None else customer_row(con, viewer, run,
                                                                  customer_id))
    known = {r.run_id: r for r in (runs if runs is not None else list_runs(con))}
    history = [{"run_id": item["run_id"], "period": known[item["run_id"]].period,
                "as_of": known[item["run_id"]].as_of, **item}
               for item in worded(con, None, _records(
                   con, f"SELECT run_id, {', '.join(HISTORY_COLUMNS)} "
                        "FROM snapshot_customers WHERE customer_id = ?", [customer_id]))
               if item["run_id"] in known]
    history.sort(key=lambda h: (h["as_of"], h["run_id"]))
    row["score_contributions"] = _contributions(row.get("score_contributions"))
    row["key_account_contributions"] = _contributions(row.get("key_account_contributions"))
    row["attributes"] = _json_object(row.get("attributes"))
    if service_policies is None:
        service_policies = service_policies_of(con, run.run_id)
    return {"run": run.to_dict(), "customer": row, "history": history,
            "next_action": _next_action(row, service_policies),
            "outlook": customer_outlook(con, viewer, run, row, outlook)}


@dataclass(frozen=True)
class OutlookSettings:
    """What a run's customer pages share: the horizon of the purchase likelihood
    (:meth:`tierwise.runview.RunView.purchase_horizon_days`) and the run's ``[key_accounts]``
    settings (:meth:`tierwise.runview.RunView.key_accounts_config`), read once per run."""

    purchase_horizon_days: int | None
    key_accounts: Any


def outlook_settings(con: duckdb.DuckDBPyConnection, run: RunInfo) -> OutlookSettings:
    """The run's :class:`OutlookSettings` (from its stored meta)."""
    view = RunView(con, run.run_id)
    return OutlookSettings(view.purchase_horizon_days(), view.key_accounts_config())


def customer_outlook(con: duckdb.DuckDBPyConnection, viewer: Viewer, run: RunInfo,
                     row: dict[str, Any], settings: OutlookSettings | None = None
                     ) -> dict[str, Any]:
    """What the customer is likely to do and which classes they fall in, as the read model
    (:meth:`tierwise.runview.RunView.outlook`) says: purchase likelihood in the run's horizon, the
    expected date of the next purchase (and whether it has already passed), the 8-class RFM
    class, the problem group, the cluster profile, this month's visits and mean spend per
    10-day bucket, and the pricing guidance of a key account's kind (both languages).

    The per-customer figures are read from ``row`` (the customer's whole row, which holds
    every column they come from: :func:`outlook_of_row`), not queried again; ``settings``
    (:func:`outlook_settings`) are read from ``con`` unless given.
    """
    from ..tiering.key_accounts import pricing_guidance

    item = outlook_of_row(row)
    if item is None:  # a row the read model's rule cannot be applied to here: ask it
        view = RunView(con, run.run_id, scope_of(viewer))
        found = view.outlook([row["customer_id"]]).to_dict("records")
        item = {k: clean(v) for k, v in found[0].items()} if found else {}
        nxt = item.get("next_purchase_expected")
        item["next_purchase_expected"] = nxt.date() if nxt is not None else None
    settings = settings or outlook_settings(con, run)
    nxt = item.get("next_purchase_expected")
    kind = item.get("key_account_type") if row.get("key_account") else None
    cfg = settings.key_accounts if kind in ("strategic", "core") else None
    return {
        "purchase_likelihood": item.get("purchase_likelihood"),
        "purchase_horizon_days": settings.purchase_horizon_days,
        "next_purchase_expected": nxt,
        "behind_rhythm": (nxt < run.as_of) if nxt is not None else None,
        "rfm_class_cn": item.get("rfm_class_cn"), "problem_group": item.get("problem_group"),
        "cluster_profile": item.get("cluster_profile"),
        "cluster_profile_zh": row.get("cluster_profile_zh"),
        "buckets": [{"bucket": b, "visits": row.get(f"visits_b{b}"),
                     "mean_spend": row.get(f"spend_b{b}")} for b in (1, 2, 3)],
        "pricing_zh": pricing_guidance(kind, "zh", cfg) if cfg is not None else None,
        "pricing_en": pricing_guidance(kind, "en", cfg) if cfg is not None else None,
    }


def outlook_of_row(row: dict[str, Any]) -> dict[str, Any] | None:
    """:data:`tierwise.runview.OUTLOOK_COLUMNS` of one customer from their row (a column the
    row lacks is None), by the read model's rules: ``next_purchase_expected`` is the day of
    ``last_purchase`` plus ``expected_gap_days`` rounded half away from zero (as DuckDB's
    ``round``, :data:`tierwise.lifecycle.next_purchase.NEXT_PURCHASE_SQL`), a date. None when
    ``last_purchase`` is neither a date nor a time (ask the read model then)."""
    last, gap = row.get("last_purchase"), row.get("expected_gap_days")
    if isinstance(last, dt.datetime):
        last = last.date()
    elif last is not None and not isinstance(last, dt.date):
        return None
    nxt = None
    if last is not None and isinstance(gap, int | float) and math.isfinite(gap):
        days = int(math.copysign(math.floor(abs(gap) + 0.5), gap))
        try:
            nxt = last + dt.timedelta(days=days)
        except OverflowError:
            return None
    item = {column: row.get(column) for column in OUTLOOK_COLUMNS}
    item["next_purchase_expected"] = nxt
    return item


def with_outlook(con: duckdb.DuckDBPyConnection, viewer: Viewer, run: RunInfo,
                 rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (each with a ``customer_id``) with every sales list's columns from the read
    model: ``purchase_likelihood``, ``next_purchase_expected``, ``rfm_class_cn``,
    ``problem_group`` (codes; the page names them), and what to talk about from the order
    lines: ``favourite_products`` and ``cross_sell`` (NULL without lines)."""
    if not rows:
        return rows
    view = RunView(con, run.run_id, scope_of(viewer))
    ids = [str(r["customer_id"]) for r in rows]
    outlook = view.outlook(ids).set_index("customer_id").join(
        view.items(ids).set_index("customer_id"))
    for row in rows:
        key = str(row["customer_id"])
        found = outlook.loc[key] if key in outlook.index else None
        for column in ("purchase_likelihood", "next_purchase_expected", "rfm_class_cn",
                       "problem_group", *ITEM_COLUMNS):
            value = clean(found[column]) if found is not None else None
            row[column] = value.date() if isinstance(value, dt.datetime) else value
    return rows


def service_policies_of(con: duckdb.DuckDBPyConnection, run_id: int
                        ) -> dict[str, dict[str, Any]]:
    """The run's service policy of each tier (benefits, response time ...), by tier."""
    table = run_table(con, run_id, "service_policies")
    if table is None or "tier" not in table:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for found in table.to_dict("records"):
        out.setdefault(found["tier"], {k: clean(found.get(k)) for k in (
            "benefits", "response_time", "dedicated_manager", "payment_terms")})
    return out


def _contributions(value: Any) -> list[dict[str, Any]]:
    data = _json_object(value)
    return [{"criterion": str(k), "points": _number(v)} for k, v in data.items()]


def _json_object(value: Any) -> dict[str, Any]:
    if isinstance(value, str) and value:
        try:
            data = json.loads(value)
        except ValueError:
            return {}
        return {str(k): clean(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return {}


def _next_action(row: dict[str, Any], policies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The segment's playbook, the customer's stored policy with its reason, the tier's service.

    The policy is the one the run stored (``activity_policy``: a key or major account may have
    ``call`` where its state's usual policy is "do not contact"); a run from before policies were
    stored falls back to the state's usual policy.
    """
    code = row.get("activity_policy")
    if code in _POLICY:
        policy = _POLICY[code]
    else:
        policy = _STATE_POLICY.get(row.get("activity_state") or "")
        code = policy["policy"] if policy else code
    service = policies.get(row.get("tier") or "")
    return {"playbook": row.get("playbook"), "segment_owner": row.get("segment_owner"),
            "activity_policy": code,
            "activity_policy_zh": policy["policy_zh"] if policy else None,
            "activity_policy_en": policy["policy_en"] if policy else None,
            "actions_zh": policy["actions_zh"] if policy else None,
            "actions_en": policy["actions_en"] if policy else None,
            "policy_reason": row.get("policy_reason"),
            "policy_reason_zh": row.get("policy_reason_zh"),
            "policy_probability": row.get("policy_probability"),
            "policy_basis": row.get("policy_basis"),
            "service_policy": dict(service) if service is not None else None}


# -- overview -------------------------------------------------------------------------------------
def scope_of(viewer: Viewer) -> Scope:
    """The read model's scope of a viewer (:class:`tierwise.runview.Scope`)."""
    sql, params = viewer.scope()
    return Scope(sql, tuple(params), whole=viewer.scope_terms() is None)


def overview(con: duckdb.DuckDBPyConnection, viewer: Viewer, run: RunInfo,
             pareto_top: float = 0.2) -> dict[str, Any]:
    """Key figures, pyramid, activity states and the Pareto curve of the viewer's customers,
    and the data quality of the inputs the run was made from. The figures, the pyramid, the
    Pareto share and the backtest are the read model's (:class:`tierwise.runview.RunView`)."""
    view = RunView(con, run.run_id, scope_of(viewer))
    figures = view.summary()
    pyramid = view.pyramid()
    for row in pyramid:
        row["tier_zh"] = TIER_NAMES[row["tier"]]["zh"]
    where, args = _scoped(viewer, run.run_id)
    states = _records(con, f"""
        SELECT activity_state AS state, count(*) AS customers FROM snapshot_customers
        WHERE {where} AND activity_state IS NOT NULL GROUP BY 1""", args)
    states.sort(key=lambda r: ACTIVITY_STATES.index(r["state"]) if r["state"] in ACTIVITY_STATES
                else len(ACTIVITY_STATES))
    _shares(states, "customers", "customer_share")
    for item in states:
        policy = _STATE_POLICY.get(item["state"], {})
        item.update({k: policy.get(k) for k in ("state_zh", "policy", "policy_zh", "policy_en",
                                                 "actions_zh", "actions_en")})
    return {"run": run.to_dict(), "figures": figures, "pyramid": pyramid, "activity": states,
            "pareto": view.pareto(pareto_top), "quality": _quality(view),
            "backtest": _backtest_names(view.backtest()),
            "retention": retention_of(con, view)}


def retention_of(con: duckdb.DuckDBPyConnection, view: RunView) -> dict[str, Any] | None:
    """The run's cohorts and repeat / churn rates (:meth:`RunView.cohorts`,
    :meth:`RunView.retention`) with the names of tiers and segments; None for a viewer who sees
    only some customers (the figures cover the whole business) or a run made before them."""
    from ..i18n import name_of
    from ..lifecycle.retention import retention_curve

    cohorts, rates = view.cohorts(), view.retention()
    if cohorts is None or rates is None:
        return None
    names = run_table(con, view.run_id, NAMES_TABLE, words=False)
    segments = {} if names is None else dict(
        names.loc[names["column"] == "segment", ["code", "zh"]].itertuples(index=False))
    rows = []
    for row in _json_rows(rates):
        by, group = row["by"], row["group"]
        row["group_zh"] = (name_of("tier", group, "zh") if by == "tier" else
                           segments.get(group, group) if by == "segment" else group)
        row["group_en"] = name_of("tier", group, "en") if by == "tier" else group
        rows.append(row)
    return {"rates": rows, "curve": _json_rows(retention_curve(cohorts)),
            "cohorts": _json_rows(cohorts)}


def _json_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
            for r in frame.to_dict(orient="records")]


def backtest_of(con: duckdb.DuckDBPyConnection, viewer: Viewer, run: RunInfo
                ) -> dict[str, Any] | None:
    """The run's stored backtest (:func:`tierwise.backtest.stored_backtest`), for a viewer who
    sees every customer; None for a scoped viewer (its figures cover the whole business)."""
    return _backtest_names(RunView(con, run.run_id, scope_of(viewer)).backtest())


def _backtest_names(view: dict[str, Any] | None) -> dict[str, Any] | None:
    """The backtest's policy and state groups with their names."""
    if view is None:
        return None
    names = {p["policy"]: p for p in POLICIES}
    for row in view["groups"].get("activity_policy", []):
        policy = names.get(row["group"], {})
        row["group_zh"], row["group_en"] = policy.get("policy_zh"), policy.get("policy_en")
    for row in view["groups"].get("activity_state", []):
        state = _STATE_POLICY.get(row["group"], {})
        row["group_zh"], row["group_en"] = state.get("state_zh"), state.get("state_en")
    return json_safe(view)


def _shares(rows: list[dict[str, Any]], column: str, share: str) -> None:
    total = sum(r[column] or 0 for r in rows)
    for r in rows:
        r[share] = (r[column] or 0) / total if total else None


def _quality(view: RunView) -> list[dict[str, Any]]:
    """The latest read-in of each input before the run was made (the run's data)."""
    return [{k: clean(v) for k, v in r.items()} for r in view.inputs().to_dict("records")]


# -- key accounts, calls, migration -----------------------------------------------------------------
def key_accounts(con: duckdb.DuckDBPyConnection, viewer: Viewer, run: RunInfo
                 ) -> dict[str, Any]:
    """The viewer's key accounts with type, score, rank, reason and each criterion's points."""
    where, args = _scoped(viewer, run.run_id, ["key_account"])
    rows = worded(con, run, _records(con, f"""
        SELECT customer_id, name, account_manager, tier, segment, key_account_type,
               key_account_score, key_account_rank, key_account_reason_args,
               key_account_contributions
        FROM snapshot_customers WHERE {where}
        ORDER BY key_account_rank NULLS LAST, key_account_score DESC NULLS LAST, customer_id""",
                                            args))
    for row in rows:
        row.pop("segment_zh", None)
    criteria: list[str] = []
    for row in rows:
        points = _json_object(row.pop("key_account_contributions"))
        row["contributions"] = {k: _number(v) for k, v in points.items()}
        criteria += [k for k in points if k not in criteria]
    by_type: dict[str, int] = {}
    for row in rows:
        kind = row["key_account_type"] or "unknown"
        by_type[kind] = by_type.get(kind, 0) + 1
    return {"run": run.to_dict(), "criteria": criteria, "by_type": by_type, "items": rows}


_CALL_COLUMNS = ("customer_id", "name", "account_manager", "tier", "activity_state",
                 "clv_predicted", "last_purchase", "days_since_last", "segment_owner", "playbook")


def feedback(con: duckdb.DuckDBPyConnection, viewer: Viewer, run: RunInfo, lang: str
             ) -> dict[str, Any]:
    """Satisfaction and feedback by value (:func:`tierwise.reports.feedback.feedback_view`),
    worded in ``lang``: a restricted viewer sees only their customers' open complaints."""
    from ..reports.feedback import feedback_view, section_data

    section = feedback_view(RunView(con, run.run_id, scope_of(viewer)), run.as_of.isoformat(),
                            lang)
    return json_safe({"run": run.to_dict(), **section_data(section)})


def calls(con: duckdb.DuckDBPyConnection, viewer: Viewer, run: RunInfo, size: int = 30
          ) -> dict[str, Any]:
    """This week's calls: the run's warnings on the viewer's customers, then the most valuable
    resting, dormant and shock customers to wake up (those with a warning left out)."""
    warned: list[dict[str, Any]] = []
    table = run_table(con, run.run_id, "warnings")
    if table is not None and len(table):
        ids = sorted({str(v) for v in table["customer_id"]})
        where, args = _scoped(viewer, run.run_id, ["list_contains(?, customer_id)"], [ids])
        visible = {r[0] for r in con.execute(
            f"SELECT customer_id FROM snapshot_customers WHERE {where}", args).fetchall()}
        keep = table[table["customer_id"].astype(str).isin(visible)]
        cols = [c for c in ("customer_id", "name", "account_manager", "tier", "kind", "kind_zh",
                            "severity", "severity_zh", "message_en", "message_zh")
                if c in keep.columns]
        warned = [{k: clean(v) for k, v in r.items()}
                  for r in keep[cols].to_dict(orient="records")]
    states = ", ".join(f"'{s}'" for s in WAKE_UP_STATES)
    where, args = _scoped(viewer, run.run_id,
                          [f"activity_state IN ({states})", "clv_predicted IS NOT NULL",
                           "NOT list_contains(?, customer_id)"],
                          [[w["customer_id"] for w in warned]])
    wake = worded(con, run, _records(
        con, f"SELECT {', '.join(_CALL_COLUMNS)} FROM snapshot_customers "
             f"WHERE {where} ORDER BY clv_predicted DESC, customer_id LIMIT ?", [*args, size]))
    return {"run": run.to_dict(), "warnings": with_outlook(con, viewer, run, warned),
            "wake_up": with_outlook(con, viewer, run, wake),
            "purchase_horizon_days": RunView(con, run.run_id).purchase_horizon_days()}


MIGRATION_BY = ("tier", "activity_state", "segment", "rfm_segment", "lifecycle_stage")


def migration(con: duckdb.DuckDBPyConnection, viewer: Viewer, to_run: RunInfo,
              from_run: RunInfo | None, by: str = "tier") -> dict[str, Any]:
    """Who moved where between two runs, among the viewer's customers of each run.

    ``from_run`` None: the run before ``to_run``.
    """
    from ..lifecycle import migration_matrix

    if by not in MIGRATION_BY:
        raise NotFound(f"cannot compare runs by {by!r}", f"use one of: {', '.join(MIGRATION_BY)}")
    if from_run is None:
        rows = con.execute("SELECT run_id FROM runs WHERE as_of < ? OR (as_of = ? AND run_id < ?)"
                           " ORDER BY as_of DESC, run_id DESC LIMIT 1",
                           [to_run.as_of, to_run.as_of, to_run.run_id]).fetchall()
        if not rows:
            raise NotFound(f"run {to_run.run_id} has no earlier run to compare with",
                           "pick two runs, or make an earlier one with 'tierwise run --as-of'")
        from_run = run_info(con, rows[0][0])
    frames = []
    for run in (from_run, to_run):
        where, args = _scoped(viewer, run.run_id)
        frames.append(con.execute(f"SELECT customer_key, {by}, total_amount "
                                  f"FROM snapshot_customers WHERE {where}", args).df())
    moved = migration_matrix(frames[0], frames[1], column=by, value="total_amount")
    summary = [{k: clean(v) for k, v in r.items()}
               for r in moved.summary.to_dict(orient="records")]
    counts = moved.counts
    return {"from_run": from_run.to_dict(), "to_run": to_run.to_dict(), "by": by,
            "summary": summary, "rows": [str(i) for i in counts.index],
            "columns": [str(c) for c in counts.columns],
            "counts": [[int(v) for v in row] for row in counts.to_numpy()]}


# -- helpers --------------------------------------------------------------------------------------
def _records(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [{n: clean(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


def clean(value: Any) -> Any:
    """JSON-ready: NaN, infinities and NaT become None; numpy and pandas scalars Python ones."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_safe(value: Any) -> Any:
    """Nested data (dicts, lists) made JSON-ready the same way as :func:`clean`."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return clean(value)


def _number(value: Any) -> float | None:
    value = clean(value)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


__all__ = ["HISTORY_COLUMNS", "LIST_COLUMNS", "MIGRATION_BY", "PHONE_DIGITS_SQL",
           "SORTS", "WAKE_UP_STATES", "CustomerQuery", "OutlookSettings", "RunInfo",
           "calls", "clean", "customer_detail", "customer_not_found",
           "customer_outlook", "customer_page", "customer_row", "filter_options",
           "json_safe", "key_accounts", "list_runs", "migration", "outlook_of_row",
           "outlook_settings", "overview", "phone_digits", "phone_like", "run_info",
           "run_table", "scope_of", "service_policies_of", "with_outlook"]

"""Contracts, renewals and cost to serve of one run, JSON-ready, for the CLI and the web
(``tierwise contracts``, ``tierwise pnl``, ``/contracts``, ``/api/contracts``).

Both read the run through :class:`tierwise.runview.RunView` (the report reads the same), keep
the codes and add their words in Chinese and English (``status_zh``, ``check_en`` ...).
"""

from __future__ import annotations

import math
from typing import Any

import duckdb
import pandas as pd

from .i18n import name_of
from .i18n.render import NAMES_TABLE, _names_map
from .lifecycle.renewals import CONTRACT_STATUSES, REMIND_STATUSES
from .runview import EVERYONE, RunView, Scope
from .segments.cost_to_serve import TOTAL


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None:
        return []
    return [{k: _plain(v) if not (isinstance(v, float) and v != v) else None
             for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _words(rows: list[dict[str, Any]], column: str, family: str) -> None:
    for row in rows:
        for lang in ("zh", "en"):
            row[f"{column}_{lang}"] = name_of(family, row.get(column), lang)


def contracts_view(con: duckdb.DuckDBPyConnection, run_id: int, scope: Scope = EVERYONE, *,
                   statuses: tuple[str, ...] | None = REMIND_STATUSES) -> dict[str, Any]:
    """The run's contracts of ``statuses`` (default: due for renewal) for the in-scope
    customers, the counts by status and the renewal rates by tier (whole business only).

    Returns ``{"available", "reminder_days", "counts", "items", "rates"}``; ``available`` is
    False when the run has no contracts.
    """
    view = RunView(con, run_id, scope)
    every = view.contracts()
    settings = view.meta().get("contracts") or {}
    if every is None:
        return {"available": False, "reminder_days": settings.get("reminder_days"),
                "counts": {}, "items": [], "rates": []}
    counts = every["status"].value_counts()
    shown = every if statuses is None else every[every["status"].isin(list(statuses))]
    items = _records(shown.drop(columns=["customer_key"]))
    _words(items, "status", "contract_status")
    _words(items, "tier", "tier")
    _words(items, "key_account_type", "key_account_type")
    rates = _records(view.renewal_rates())
    _words(rates, "tier", "tier")
    return {"available": True, "reminder_days": settings.get("reminder_days"),
            "counts": {s: int(counts.get(s, 0)) for s in CONTRACT_STATUSES},
            "items": items, "rates": rates}


def pnl_view(con: duckdb.DuckDBPyConnection, run_id: int, scope: Scope = EVERYONE
             ) -> dict[str, Any]:
    """The run's segment P&L (whole business only; the total row has ``segment`` None and
    ``total`` True) and the in-scope key accounts' margin after cost to serve.

    Returns ``{"available", "window", "segments", "key_accounts"}``.
    """
    view = RunView(con, run_id, scope)
    pnl, margins = view.segment_cost_pnl(), view.key_account_margins()
    meta = view.meta()
    window = meta.get("cost_to_serve") or {}
    settings = (meta.get("config") or {}).get("cost_to_serve") or {}
    segments = _records(pnl)
    own = _names_map(view._table(NAMES_TABLE)).get("segment", {})
    for row in segments:
        row["total"] = row["segment"] == TOTAL
        if row["total"]:
            row["segment"] = None
        row["segment_zh"] = own.get(row["segment"], row["segment"])
    _words(segments, "status", "pnl_status")
    keys = _records(None if margins is None else margins.drop(columns=["customer_key"]))
    _words(keys, "check", "margin_check")
    _words(keys, "key_account_type", "key_account_type")
    return {"available": pnl is not None or margins is not None,
            "window": {"start": window.get("start"), "days": window.get("window_days"),
                       "core_min_margin": settings.get("core_min_margin"),
                       "strategic_min_margin": settings.get("strategic_min_margin")},
            "segments": segments, "key_accounts": keys}


__all__ = ["contracts_view", "pnl_view"]

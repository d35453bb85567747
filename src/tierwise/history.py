"""Questions asked of the store across runs: migrations, warnings, model validation, overrides.

The library calls behind ``tierwise migration``, ``tierwise warnings``, ``tierwise
validate-model`` and ``tierwise key-accounts``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .config import Config
from .errors import ConfigError, StoreError
from .store import Store

MIGRATION_COLUMNS = ("tier", "activity_state", "segment", "rfm_segment", "lifecycle_stage")


@dataclass
class RunComparison:
    """A migration between two runs, with the runs it compares."""

    from_run: dict[str, Any]
    to_run: dict[str, Any]
    column: str
    summary: pd.DataFrame
    counts: pd.DataFrame


def compare_runs(store: Store, *, column: str = "tier", from_run: int | str | None = None,
                 to_run: int | str = "latest", value: str = "total_amount") -> RunComparison:
    """Who moved where between two snapshots (default: the latest and the one before it)."""
    from .lifecycle import migration_matrix

    if column not in MIGRATION_COLUMNS:
        raise ConfigError(f"--by {column!r} is not a column runs can be compared on",
                          f"use one of: {', '.join(MIGRATION_COLUMNS)}")
    to_info = store.run_info(to_run)
    if from_run is None:
        from_info = store.previous_run(to_info["as_of"], to_info["config_hash"])
        if from_info is None:
            raise StoreError(f"run {to_info['run_id']} has no earlier run to compare with",
                             "run 'tierwise run --as-of DATE' for an earlier period first")
    else:
        from_info = store.run_info(from_run)
    prev, curr = store.snapshot(from_info["run_id"]), store.snapshot(to_info["run_id"])
    if prev[column].isna().all() or curr[column].isna().all():
        raise StoreError(f"column {column!r} is empty in run {from_info['run_id']} or "
                         f"{to_info['run_id']}", "configure it (e.g. [segments]) and re-run")
    moved = migration_matrix(prev, curr, column=column, value=value)
    return RunComparison(from_info, to_info, column, moved.summary, moved.counts)


def run_warnings(store: Store, run: int | str = "latest") -> tuple[dict[str, Any], pd.DataFrame]:
    """The early warnings kept with a run (empty frame when there are none)."""
    info = store.run_info(run)
    table = store.run_table(info["run_id"], "warnings")
    return info, table if table is not None else pd.DataFrame()


def validate_value_model(store: Store, cfg: Config, *, holdout_days: int | None = None,
                         as_of: dt.date | None = None) -> dict[str, Any]:
    """Calibration/holdout check of every purchase model on the stored orders.

    The last ``holdout_days`` (default ``value.holdout_days``, else a third of the history) are
    held out; every model is fitted on the rest and judged on the holdout purchases and spend
    (with a blend of the two best when they are close). ``regularity`` is the Wheat & Morrison
    estimate of how regularly customers come back, from all orders up to ``as_of``.
    """
    from .models import estimate_regularity, select_model, summary_from_orders

    as_of = as_of or cfg.as_of or store.last_order_date()
    if as_of is None:
        raise StoreError(f"store {store.path} has no orders", "run 'tierwise ingest' first")
    orders = store.orders_frame(as_of).rename(columns={"customer_key": "customer_id"})
    first = pd.Timestamp(orders["ordered_at"].min())
    days = holdout_days or cfg.value.holdout_days or max(30, (pd.Timestamp(as_of) - first).days // 3)
    end = pd.Timestamp(as_of)
    selection = select_model(orders, end - pd.Timedelta(days=days), end,
                             penalizer=cfg.value.penalizer, time_unit=cfg.value.time_unit)
    chosen = selection.reports[selection.chosen]
    by_frequency = {name: report.by_frequency.reset_index()
                    for name, report in selection.reports.items()}
    regularity = estimate_regularity(summary_from_orders(orders, end))
    return {"as_of": as_of, "holdout_days": days, "selection": selection.to_dict(),
            "regularity": regularity.to_dict(),
            "aggregate": {name: r.aggregate for name, r in selection.reports.items()},
            "by_frequency": by_frequency, "chosen_aggregate": chosen.aggregate}


def override_key_account(store: Store, customer_id: str, action: str, reason: str, by: str
                         ) -> None:
    """Add or remove a key account by hand; the next run honours it."""
    if action not in ("add", "remove"):
        raise ConfigError(f"action {action!r} is not add or remove")
    if not reason.strip():
        raise ConfigError("a manual key-account change needs a reason", "pass --reason '...'")
    known = store.con.execute("SELECT count(*) FROM customers WHERE customer_id = ?",
                              [customer_id]).fetchall()[0][0]
    if not known:
        raise StoreError(f"customer {customer_id!r} is not in the store",
                         "check the id with 'tierwise export customers'")
    store.add_key_account_override(customer_id, action, reason.strip(), by)


@dataclass
class ProspectsView:
    """One run's prospects, as the CLI, the report and the web show them (one read model).

    ``prospects``: open prospects, best score first, with ``explained`` (each criterion's points, in
    the run's words); ``conversions``: leads that bought; ``check``: conversion rate per grade;
    ``meta``: the scorecard's criteria and weights, the grade cuts and the counts.
    """

    info: dict[str, Any]
    meta: dict[str, Any]
    prospects: pd.DataFrame
    conversions: pd.DataFrame
    check: pd.DataFrame


def run_prospects(store: Store, run: int | str = "latest", *, grade: str | None = None,
                  lang: str | None = None) -> ProspectsView:
    """The prospects kept with a run (:mod:`tierwise.tiering.prospects`); ``grade`` keeps one.

    A run without prospects (no lead and every customer has bought) gives empty frames.
    """
    from .config import PROSPECT_GRADES

    if grade is not None and grade not in PROSPECT_GRADES:
        raise ConfigError(f"unknown prospect grade {grade!r}",
                          f"use one of: {', '.join(PROSPECT_GRADES)}")
    info = store.run_info(run)
    meta = (info.get("meta") or {}).get("prospects") or {}
    lang = lang or (info.get("meta") or {}).get("language") or "en"
    frames = [store.run_table(info["run_id"], name) for name in
              ("prospects", "prospect_conversions", "prospect_check")]
    prospects, conversions, check = (f if f is not None else pd.DataFrame() for f in frames)
    if len(prospects):
        prospects = prospects.assign(explained=[prospect_why(r, lang) for r in
                                          prospects.to_dict("records")])
        if grade is not None:
            prospects = prospects[prospects["grade"] == grade].reset_index(drop=True)
    return ProspectsView(info, meta, prospects, conversions, check)


def prospect_why(row: dict[str, Any], lang: str) -> str:
    """A prospect's score as the sum of its criteria's points, e.g. ``fit 26.3 + size 20``,
    with what was missing."""
    from .i18n import MESSAGES

    parts = []
    for column, value in row.items():
        if not column.startswith("score_") or column == "score_flags":
            continue
        name = column.removeprefix("score_")
        key = f"prospect_criterion.{name}"
        label = MESSAGES[key][lang] if key in MESSAGES else name
        points = 0.0 if value is None or value != value else float(value)
        parts.append(f"{label} {points:.1f}")
    text = " + ".join(parts)
    flags = row.get("score_flags")
    return f"{text} ({flags})" if isinstance(flags, str) and flags else text

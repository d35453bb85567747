"""Cost to serve: each segment's profit and loss and each key account's margin after it
(docs/contracts.md).

Over the ``window_days`` up to the as-of date:

* **revenue** is the net order amount; **gross margin** the orders' margin (else amount - cost;
  else amount x ``gross_margin_rate`` when set);
* **costs to serve** come from the costs input, by type (visits, discounts, service, logistics,
  other), booked to a customer or to a whole segment;
* a segment's **contribution** = gross margin - its costs (its customers' and its own);
  its **break-even revenue** = costs / gross-margin rate: the revenue at which the contribution
  is nil, at the segment's own margin rate (no break-even when the margin rate is not positive);
* a customer's **cost to serve** = its own costs + its share of its segment's costs (by revenue,
  when ``allocate_segment_costs``); **margin after cost** = gross margin - cost to serve.

Key accounts are checked against the pricing guidance of their kind
(:data:`tierwise.tiering.policies.PRICING_GUIDANCE`): a strategic account may run on low margins,
even break-even, but not below ``strategic_min_margin`` of its revenue; a core account aims for
optimal margins and is flagged below ``core_min_margin``. Checks: ``below_guidance`` (flagged),
``near_break_even`` (within ``break_even_band`` of nil, allowed for a strategic account),
``ok``, ``no_revenue``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ..config import COST_TYPES, CostToServeConfig

#: The per-type cost columns of the P&L tables.
COST_COLUMNS = [f"cost_{t}" for t in COST_TYPES]
#: Checks of a key account's margin after cost against its pricing guidance.
MARGIN_CHECKS: tuple[str, ...] = ("below_guidance", "near_break_even", "ok", "no_revenue")
#: Where a segment stands against its break-even.
PNL_STATUSES: tuple[str, ...] = ("below_break_even", "near_break_even", "above_break_even")
#: The name of the P&L's total row.
TOTAL = "__total__"


def customer_revenue(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date,
                     gross_margin_rate: float | None) -> pd.DataFrame:
    """Per customer with orders in ``(start, end]``: ``revenue`` and ``gross_margin``."""
    fallback = "NULL" if gross_margin_rate is None else f"amount * {float(gross_margin_rate)!r}"
    return con.execute(f"""
        SELECT customer_key, sum(amount) AS revenue,
               sum(coalesce(margin, amount - cost, {fallback})) AS gross_margin
        FROM orders WHERE ordered_at > ? AND ordered_at <= ?
        GROUP BY customer_key""", [start, end]).df()


def _by_type(costs: pd.DataFrame, key: str) -> pd.DataFrame:
    wide = costs.pivot_table(index=key, columns="cost_type", values="amount", aggfunc="sum",
                             fill_value=0.0)
    wide = wide.reindex(columns=list(COST_TYPES), fill_value=0.0)
    wide.columns = COST_COLUMNS
    wide["costs"] = wide.sum(axis=1)
    return wide


def customer_costs(customers: pd.DataFrame, revenue: pd.DataFrame, costs: pd.DataFrame,
                   cfg: CostToServeConfig) -> pd.DataFrame:
    """Per customer of ``customers`` (``customer_key``, ``segment``): ``revenue``,
    ``gross_margin``, the cost columns (own costs plus the allocated share of the segment's),
    ``cost_to_serve`` and ``margin_after_cost`` (module notes)."""
    frame = customers[["customer_key", "segment"]].merge(revenue, on="customer_key", how="left")
    frame["revenue"] = frame["revenue"].fillna(0.0)
    own = costs[costs["customer_key"].notna()].astype({"customer_key": "int64"})
    own = _by_type(own, "customer_key") if len(own) else None
    out = frame.set_index("customer_key")
    for col in [*COST_COLUMNS, "costs"]:
        out[col] = 0.0 if own is None else own[col].reindex(out.index).fillna(0.0)
    seg = costs[costs["customer_key"].isna() & costs["segment"].notna()]
    if cfg.allocate_segment_costs and len(seg):
        seg_costs = _by_type(seg, "segment")
        base = out["revenue"].clip(lower=0)
        total = base.groupby(out["segment"]).transform("sum")
        count = out.groupby("segment")["revenue"].transform("size")
        share = (base / total).where(total > 0, 1.0 / count)
        for col in [*COST_COLUMNS, "costs"]:
            out[col] += (out["segment"].map(seg_costs[col]).fillna(0.0) * share).fillna(0.0)
    out["cost_to_serve"] = out["costs"]
    out["margin_after_cost"] = out["gross_margin"] - out["cost_to_serve"]
    return out.drop(columns=["costs"]).reset_index()


def segment_cost_pnl(customers: pd.DataFrame, revenue: pd.DataFrame, costs: pd.DataFrame,
                cfg: CostToServeConfig) -> pd.DataFrame:
    """One row per segment (then the total, ``segment == TOTAL``): ``segment``,
    ``segment_owner``, ``customers``, ``revenue``, ``gross_margin``, ``gross_margin_rate``, the
    cost columns, ``costs``, ``contribution``, ``contribution_rate``, ``break_even_revenue``,
    ``break_even_gap`` (revenue - break-even revenue) and ``status`` (:data:`PNL_STATUSES`).

    Costs booked to a segment the run does not know get a row of their own (no customers), so
    that no cost is left out of the total.
    """
    frame = customers[["customer_key", "segment", "segment_owner"]].merge(
        revenue, on="customer_key", how="left")
    frame["segment"] = frame["segment"].fillna("")
    g = frame.groupby("segment", sort=True)
    pnl = pd.DataFrame({"segment_owner": g["segment_owner"].first(),
                        "customers": g.size(), "revenue": g["revenue"].sum(min_count=1),
                        "gross_margin": g["gross_margin"].sum(min_count=1)})
    costs = costs.copy()
    seg_of = frame.set_index("customer_key")["segment"]
    costs["segment"] = np.where(costs["customer_key"].notna(),
                                costs["customer_key"].map(seg_of), costs["segment"])
    costs["segment"] = costs["segment"].fillna("")
    wide = _by_type(costs, "segment") if len(costs) else pd.DataFrame(
        columns=[*COST_COLUMNS, "costs"])
    pnl = pnl.join(wide, how="outer")
    pnl["customers"] = pnl["customers"].fillna(0).astype("int64")
    for col in [*COST_COLUMNS, "costs"]:
        pnl[col] = pnl[col].astype("float64").fillna(0.0)
    pnl = pnl.reset_index(names="segment")
    total = pnl[["customers", "revenue", "gross_margin", *COST_COLUMNS, "costs"]].sum(
        min_count=1).to_frame().T
    total.insert(0, "segment", TOTAL)
    pnl = pd.concat([pnl, total], ignore_index=True)
    pnl["customers"] = pnl["customers"].astype("int64")
    return _pnl_figures(pnl, cfg)


def _pnl_figures(pnl: pd.DataFrame, cfg: CostToServeConfig) -> pd.DataFrame:
    revenue = pnl["revenue"].astype("float64")
    margin = pnl["gross_margin"].astype("float64")
    pnl["contribution"] = margin - pnl["costs"]
    with np.errstate(divide="ignore", invalid="ignore"):
        pnl["gross_margin_rate"] = np.where(revenue > 0, margin / revenue, np.nan)
        pnl["contribution_rate"] = np.where(revenue > 0, pnl["contribution"] / revenue, np.nan)
        rate = pnl["gross_margin_rate"]
        pnl["break_even_revenue"] = np.where(rate > 0, pnl["costs"] / rate, np.nan)
    pnl["break_even_gap"] = revenue - pnl["break_even_revenue"]
    band = cfg.break_even_band
    pnl["status"] = np.select(
        [pnl["contribution_rate"].abs() <= band, pnl["contribution"] < 0,
         pnl["contribution"] >= 0],
        ["near_break_even", "below_break_even", "above_break_even"], default=None)
    cols = ["segment", "segment_owner", "customers", "revenue", "gross_margin",
            "gross_margin_rate", *COST_COLUMNS, "costs", "contribution", "contribution_rate",
            "break_even_revenue", "break_even_gap", "status"]
    return pnl[cols].round({c: 2 for c in ("revenue", "gross_margin", *COST_COLUMNS, "costs",
                                           "contribution", "break_even_revenue",
                                           "break_even_gap")})


def margin_check(kind: Any, rate: float | None, cfg: CostToServeConfig) -> tuple[str, float]:
    """A key account's check against its kind's pricing guidance, and the floor applied.

    Examples
    --------
    >>> cfg = CostToServeConfig()
    >>> margin_check("strategic", 0.01, cfg), margin_check("core", 0.01, cfg)
    (('near_break_even', -0.02), ('below_guidance', 0.05))
    """
    floor = cfg.strategic_min_margin if kind == "strategic" else cfg.core_min_margin
    if rate is None or not np.isfinite(rate):
        return "no_revenue", floor
    if rate < floor:
        return "below_guidance", floor
    if abs(rate) <= cfg.break_even_band:
        return "near_break_even", floor
    return "ok", floor


def key_account_margins(customers: pd.DataFrame, served: pd.DataFrame,
                        cfg: CostToServeConfig) -> pd.DataFrame:
    """The key accounts' margin after cost to serve, checked against the pricing guidance.

    ``customers``: the run's codes (``key_account``, ``key_account_type``, ``customer_id``,
    ``name``, ``account_manager``, ``segment``); ``served``: :func:`customer_costs`. One row per
    key account, flagged ones first: the figures, ``margin_rate`` (margin after cost / revenue),
    ``floor`` and ``check`` (:data:`MARGIN_CHECKS`).
    """
    if "key_account" not in customers:
        return pd.DataFrame()
    keys = customers[customers["key_account"].fillna(False).astype(bool)]
    cols = [c for c in ("customer_key", "customer_id", "name", "account_manager",
                        "key_account_type", "segment") if c in keys]
    out = keys[cols].merge(served.drop(columns=["segment"]), on="customer_key", how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["margin_rate"] = np.where(out["revenue"] > 0,
                                      out["margin_after_cost"] / out["revenue"], np.nan)
    checks = [margin_check(k, r, cfg) for k, r in zip(out["key_account_type"],
                                                      out["margin_rate"], strict=True)]
    out["floor"] = [f for _, f in checks]
    out["check"] = [c for c, _ in checks]
    order = {c: i for i, c in enumerate(MARGIN_CHECKS)}
    out = out.assign(_o=out["check"].map(order)).sort_values(["_o", "margin_rate",
                                                              "customer_id"])
    return out.drop(columns=["_o"]).reset_index(drop=True).round(
        {c: 2 for c in ("revenue", "gross_margin", *COST_COLUMNS, "cost_to_serve",
                        "margin_after_cost")})


def cost_to_serve_step(con: duckdb.DuckDBPyConnection, snap: Any, as_of: dt.date,
                       cfg: CostToServeConfig) -> None:
    """The run's cost to serve: per customer ``cost_to_serve`` and ``margin_after_cost``, the
    run tables ``segment_cost_pnl`` and ``key_account_margins``, and ``meta["cost_to_serve"]``;
    nothing when the store holds no costs."""
    from ..store.contracts import costs_frame, has_rows

    if not has_rows(con, "costs"):
        return
    start = as_of - dt.timedelta(days=cfg.window_days)
    revenue = customer_revenue(con, start, as_of, cfg.gross_margin_rate)
    costs = costs_frame(con, start, as_of)
    customers = snap.customers
    if "segment" not in customers:
        customers = customers.assign(segment=None)
    if "segment_owner" not in customers:
        customers = customers.assign(segment_owner=None)
    served = customer_costs(customers, revenue, costs, cfg)
    keep = served[(served["cost_to_serve"] != 0) | served["gross_margin"].notna()]
    snap.customers = snap.customers.drop(
        columns=[c for c in ("cost_to_serve", "margin_after_cost") if c in snap.customers]
    ).merge(keep[["customer_key", "cost_to_serve", "margin_after_cost"]], on="customer_key",
            how="left")
    pnl = segment_cost_pnl(customers, revenue, costs, cfg)
    snap.tables["segment_cost_pnl"] = pnl
    margins = key_account_margins(customers, served, cfg)
    snap.tables["key_account_margins"] = margins
    known = set(customers["segment"].dropna())
    loose = costs[costs["customer_key"].isna() & ~costs["segment"].isin(known)]
    snap.meta["cost_to_serve"] = {
        "window_days": cfg.window_days,
        "start": (start + dt.timedelta(days=1)).isoformat(),  # the window's first day
        "costs_total": round(float(costs["amount"].sum()), 2),
        "unknown_segments": sorted(set(loose["segment"].dropna())),
        "below_guidance": int((margins.get("check") == "below_guidance").sum())
        if len(margins) else 0}


__all__ = ["COST_COLUMNS", "MARGIN_CHECKS", "PNL_STATUSES", "TOTAL", "cost_to_serve_step",
           "customer_costs", "customer_revenue", "key_account_margins", "margin_check",
           "segment_cost_pnl"]

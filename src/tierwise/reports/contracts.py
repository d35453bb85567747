"""The report sections "contracts and renewals" (合同与续约) and "segment P&L and cost to serve"
(细分损益与服务成本), read from the run through :class:`tierwise.runview.RunView`
(docs/contracts.md)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..i18n import name_of
from ..lifecycle.renewals import REMIND_STATUSES
from ..segments.cost_to_serve import COST_COLUMNS, TOTAL
from .structure import Figure

REMINDER_COLUMNS = ["customer_id", "name", "account_manager", "tier", "key_account_type",
                    "contract_id", "product", "ends_at", "days_left", "value", "contract_status",
                    "due"]
RATE_COLUMNS = ["tier", "ended", "renewed", "renewal_rate", "ended_value", "renewed_value",
                "renewal_rate_value"]
PNL_COLUMNS = ["segment", "segment_owner", "customers", "revenue", "gross_margin",
               "gross_margin_rate", *COST_COLUMNS, "costs", "contribution", "contribution_rate",
               "break_even_revenue", "break_even_gap", "pnl_status"]
MARGIN_COLUMNS = ["customer_id", "name", "account_manager", "key_account_type", "segment",
                  "revenue", "gross_margin", "cost_to_serve", "margin_after_cost", "margin_rate",
                  "floor", "margin_check"]


def _as_of(c: Any) -> str:
    return str(c.info["as_of"])[:10]


def contracts_section(c: Any) -> Any:
    """Renewal reminders (contracts due or just ended, not renewed) and renewal rate by tier."""
    settings = c.meta.get("contracts") or {}
    days = settings.get("reminder_days", "-")
    due = c.view.contracts(REMIND_STATUSES)
    if due is None:
        return c.missing("contracts", "why.no_contracts", reminder_days=days, as_of=_as_of(c))
    s = c.section("contracts", reminder_days=days, as_of=_as_of(c))
    frame = due.assign(
        tier=[name_of("tier", v, c.lang) for v in due["tier"]],
        key_account_type=[name_of("key_account_type", v, c.lang) for v in due["key_account_type"]],
        contract_status=[name_of("contract_status", v, c.lang) for v in due["status"]])
    s.tables.append(c.make("reminders", "contracts.reminders", frame[REMINDER_COLUMNS]))
    s.figures += [Figure("contracts_due", c.t("fig.contracts_due"), len(due), "integer"),
                  Figure("contracts_due_value", c.t("fig.contracts_due_value"),
                         float(due["value"].sum()), "currency")]
    rates = c.view.renewal_rates()
    if rates is not None and len(rates):
        shown = rates[RATE_COLUMNS].assign(tier=[
            c.t("contracts.all_tiers") if v == "all" else name_of("tier", v, c.lang)
            for v in rates["tier"]])
        table = c.make("rates", "contracts.rates", shown)
        table.formats.update({"renewal_rate": "percent", "renewal_rate_value": "percent"})
        s.tables.append(table)
        overall = rates[rates["tier"] == "all"]
        if len(overall) and pd.notna(overall["renewal_rate"].iloc[0]):
            s.figures.append(Figure("renewal_rate", c.t("fig.renewal_rate"),
                                    float(overall["renewal_rate"].iloc[0]), "percent"))
    return s


def pnl_section(c: Any) -> Any:
    """Each segment's P&L and the key accounts' margin after cost to serve, checked against the
    pricing guidance of their kind."""
    settings = (c.meta.get("config") or {}).get("cost_to_serve") or {}
    window = c.meta.get("cost_to_serve") or {}
    fields = {"start": window.get("start", "-"), "as_of": _as_of(c),
              "strategic_min": _pct(settings.get("strategic_min_margin")),
              "core_min": _pct(settings.get("core_min_margin"))}
    margins = c.view.key_account_margins()
    pnl = c.view.segment_cost_pnl()
    if margins is None and pnl is None:
        return c.missing("pnl", "why.no_costs", **fields)
    s = c.section("pnl", **fields)
    if pnl is not None:
        names = _segment_names(c)
        shown = pnl.assign(
            segment=[c.t("pnl.total") if v == TOTAL else c.t("pnl.unassigned") if not v
                     else names.get(v, v) for v in pnl["segment"]],
            pnl_status=[name_of("pnl_status", v, c.lang) for v in pnl["status"]])
        table = c.make("segments", "pnl.segments", shown[PNL_COLUMNS])
        table.formats.update({col: "currency" for col in (
            "gross_margin", *COST_COLUMNS, "costs", "contribution", "break_even_revenue",
            "break_even_gap")})
        table.formats.update({"gross_margin_rate": "percent", "contribution_rate": "percent"})
        s.tables.append(table)
        total = pnl[pnl["segment"] == TOTAL]
        if len(total):
            s.figures += [Figure("costs_total", c.t("fig.costs_total"),
                                 float(total["costs"].iloc[0]), "currency"),
                          Figure("contribution", c.t("fig.contribution"),
                                 float(total["contribution"].iloc[0]), "currency")]
    if margins is not None and len(margins):
        names = _segment_names(c)
        shown = margins.assign(
            segment=[names.get(v, v) for v in margins["segment"]],
            key_account_type=[name_of("key_account_type", v, c.lang)
                              for v in margins["key_account_type"]],
            margin_check=[name_of("margin_check", v, c.lang) for v in margins["check"]])
        table = c.make("key_accounts", "pnl.key_accounts",
                       shown[[col for col in MARGIN_COLUMNS if col in shown]],
                       {"margin_rate": c.t("col.margin_after_cost_rate")})
        table.formats.update({"gross_margin": "currency", "cost_to_serve": "currency",
                              "margin_after_cost": "currency", "floor": "percent"})
        s.tables.append(table)
        s.figures.append(Figure("below_guidance", c.t("fig.below_guidance"),
                                int((margins["check"] == "below_guidance").sum()), "integer"))
    return s


def _segment_names(c: Any) -> dict[str, str]:
    snap = c.snapshot
    if c.lang != "zh" or "segment_zh" not in snap:
        return {}
    return snap.dropna(subset=["segment"]).drop_duplicates("segment") \
        .set_index("segment")["segment_zh"].to_dict()


def _pct(value: Any) -> str:
    return "-" if value is None else f"{float(value):.0%}"


__all__ = ["contracts_section", "pnl_section"]


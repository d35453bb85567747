"""``tierwise contracts`` and ``tierwise pnl``: renewals and cost to serve of a run.

Mounted by ``tierwise.cli`` with ``app.command("contracts")(contracts)`` and
``app.command("pnl")(pnl)``; both call :mod:`tierwise.contracts_view` and only present it, in
the run's language (docs/contracts.md).
"""

from __future__ import annotations

from typing import Annotated, Literal

import typer
from rich.markup import escape

from .cli_common import (
    DEFAULT_CONFIG,
    ConfigOpt,
    JsonOpt,
    RunOpt,
    out,
    print_json,
    reader,
    say,
    table,
)
from .i18n import t

LangOpt = Annotated[Literal["zh", "en"] | None, typer.Option(
    "--lang", help="Language of the tables (default: the run's).")]
StatusOpt = Annotated[Literal["due", "all"], typer.Option(
    "--status", help="due: contracts due for renewal (ending within [contracts] reminder_days, "
                     "or just ended, not renewed); all: every contract.")]


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def contracts(config: ConfigOpt = DEFAULT_CONFIG, run_id: RunOpt = "latest",
              status: StatusOpt = "due", lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Contracts due for renewal, with the renewal rate by tier (from [sources.contracts])."""
    from .contracts_view import contracts_view

    with reader(config) as store:
        info = store.run_info(run_id)
        data = contracts_view(store.con, info["run_id"],
                              statuses=None if status == "all" else ("due", "overdue"))
    if as_json:
        print_json({"run_id": info["run_id"], "period": info["period"], **data})
        return
    if not data["available"]:
        say(escape(f"run {info['run_id']}: {t('why.no_contracts', lang or 'en')}"))
        return
    lang = lang or info["meta"].get("language") or "en"
    w = lambda key: t(f"col.{key}", lang)  # noqa: E731
    out.print(table(f"{t('contracts.reminders', lang)}, run {info['run_id']} ({info['period']})",
                    [w(c) for c in ("customer_id", "name", "account_manager", "tier",
                                    "contract_id", "ends_at", "days_left", "value",
                                    "contract_status")],
                    [[r["customer_id"], r["name"], r["account_manager"], r[f"tier_{lang}"],
                      r["contract_id"], r["ends_at"], r["days_left"], r["value"],
                      r[f"status_{lang}"]] for r in data["items"]]))
    if data["rates"]:
        out.print(table(t("contracts.rates", lang),
                        [w(c) for c in ("tier", "ended", "renewed", "renewal_rate",
                                        "renewal_rate_value")],
                        [[t("contracts.all_tiers", lang) if r["tier"] == "all"
                          else r[f"tier_{lang}"], r["ended"], r["renewed"],
                          _pct(r["renewal_rate"]), _pct(r["renewal_rate_value"])]
                         for r in data["rates"]]))


def pnl(config: ConfigOpt = DEFAULT_CONFIG, run_id: RunOpt = "latest", lang: LangOpt = None,
        as_json: JsonOpt = False) -> None:
    """Segment P&L (revenue, costs to serve by type, contribution, break-even) and key accounts'
    margin after cost to serve against their pricing guidance (from [sources.costs])."""
    from .contracts_view import pnl_view

    with reader(config) as store:
        info = store.run_info(run_id)
        data = pnl_view(store.con, info["run_id"])
    if as_json:
        print_json({"run_id": info["run_id"], "period": info["period"], **data})
        return
    if not data["available"]:
        say(escape(f"run {info['run_id']}: {t('why.no_costs', lang or 'en')}"))
        return
    lang = lang or info["meta"].get("language") or "en"
    w = lambda key: t(f"col.{key}", lang)  # noqa: E731
    out.print(table(f"{t('pnl.segments', lang)}, run {info['run_id']} ({info['period']}), "
                    f"{data['window']['start']} - {str(info['as_of'])[:10]}",
                    [w(c) for c in ("segment", "customers", "revenue", "gross_margin", "costs",
                                    "contribution", "contribution_rate", "break_even_revenue",
                                    "pnl_status")],
                    [[t("pnl.total", lang) if r["total"] else
                      r["segment_zh" if lang == "zh" else "segment"], r["customers"],
                      r["revenue"], r["gross_margin"], r["costs"], r["contribution"],
                      _pct(r["contribution_rate"]), r["break_even_revenue"],
                      r[f"status_{lang}"]] for r in data["segments"]]))
    out.print(table(t("pnl.key_accounts", lang),
                    [w(c) for c in ("customer_id", "name", "key_account_type", "revenue",
                                    "cost_to_serve", "margin_after_cost",
                                    "margin_after_cost_rate",
                                    "floor", "margin_check")],
                    [[r["customer_id"], r["name"], r[f"key_account_type_{lang}"], r["revenue"],
                      r["cost_to_serve"], r["margin_after_cost"], _pct(r["margin_rate"]),
                      _pct(r["floor"]), r[f"check_{lang}"]] for r in data["key_accounts"]]))


__all__ = ["contracts", "pnl"]

"""What a report is made of: sections of titled tables and figures, independent of the format.

The builders (:mod:`.builders`, :mod:`.backtest`) fill these; the Excel and HTML writers read
them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..i18n import name_of

#: How a column's numbers should be shown: currency, percent, integer, number, date, text.
FORMATS: dict[str, str] = {
    "customers": "integer", "rows_in": "integer", "accepted": "integer", "rejected": "integer",
    "value": "currency", "revenue": "currency", "margin": "currency", "clv_predicted": "currency",
    "clv_total": "currency", "clv_mean": "currency", "total_amount": "currency",
    "total_spend": "currency", "value_prev": "currency", "value_curr": "currency",
    "value_change": "currency", "customer_share": "percent", "value_share": "percent",
    "revenue_share": "percent", "p_alive": "percent", "pareto_customer_share": "percent",
    "pareto_value_share": "percent", "key_account_score": "number", "key_account_rank": "integer",
    "rank": "integer", "total_visits": "integer", "days_since_last": "integer",
    "estimate": "number", "standard_error": "number", "change_pct": "number",
    "value_period": "currency", "value_prev_period": "currency", "value_same_period_ly": "currency",
    "growth_prev_pct": "number", "growth_yoy_pct": "number", "margin_rate": "percent",
    "purchase_days": "integer", "usual_gap_days": "number", "top_channel_share": "percent",
    "satisfaction_mean_12m": "number", "open_warnings": "integer", "orders": "integer",
    "margin_share": "percent", "revenue_period": "currency", "revenue_prev_period": "currency",
    "revenue_same_period_ly": "currency", "revenue_total": "currency", "margin_total": "currency",
    "accounts": "integer", "key_accounts": "integer", "moved_up": "integer",
    "moved_down": "integer", "warnings": "integer", "targets": "integer", "controls": "integer",
    "used": "integer", "redemption_rate": "percent", "total_cost": "currency",
    "gross_profit": "currency", "return_on_cost": "number", "incremental_profit": "currency",
    "bought_again": "integer", "bought_again_share": "percent", "expected_share": "percent",
    "decile": "integer",
    "predicted": "percent", "actual": "percent", "gap": "percent",
    "repeat_customers": "integer", "repeat_rate": "percent", "churned": "integer",
    "churn_rate": "percent", "treated_rate": "percent", "control_rate": "percent",
    "uplift": "percent", "incremental_revenue": "currency", "roi": "number",
    "months_since": "integer", "active": "integer", "share": "percent",
    "purchase_likelihood": "percent", "mean_amount": "currency", "next_purchase_expected": "date",
    "value_increase": "currency", "tier_score": "number", "next_level_value": "number",
    "gap_to_next": "number", "reached": "percent",
    "buyers": "integer", "respondents": "integer", "response_rate": "percent",
    "answers": "integer", "csat_answers": "integer", "csat": "number", "satisfied": "percent",
    "taste": "number", "service": "number", "setting": "number",
    "nps_answers": "integer", "nps": "number", "items": "integer", "complaints": "integer",
    "open_complaints": "integer", "open_days": "integer", "comments": "integer",
    "days_left": "integer", "ended": "integer", "renewed": "integer", "ended_value": "currency",
    "renewed_value": "currency", "cost_to_serve": "currency", "margin_after_cost": "currency",
    "days_to_renewal": "integer",
}


@dataclass
class Table:
    """One titled table: ``frame`` keeps data column names; ``headers`` are what people read."""
    key: str
    title: str
    frame: pd.DataFrame
    headers: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)

    def header(self, column: str) -> str:
        return self.headers.get(column, str(column))

    def format(self, column: str) -> str:
        return self.formats.get(column, FORMATS.get(str(column), "auto"))


@dataclass
class Figure:
    key: str
    label: str
    value: Any
    format: str = "auto"


@dataclass
class Section:
    key: str
    title: str
    intro: str
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    message: str | None = None  # set when the section's data does not exist for the run

    @property
    def available(self) -> bool:
        return self.message is None

    def table(self, key: str) -> Table:
        for tab in self.tables:
            if tab.key == key:
                return tab
        raise KeyError(f"section {self.key!r} has no table {key!r}")

    def figure(self, key: str) -> Any:
        for fig in self.figures:
            if fig.key == key:
                return fig.value
        raise KeyError(f"section {self.key!r} has no figure {key!r}")


@dataclass
class Report:
    title: str
    language: str
    run_id: int
    period: str
    as_of: str
    currency: str | None
    sections: dict[str, Section]

    def __getitem__(self, key: str) -> Section:
        return self.sections[key]


def label_names(c: Any, kind: str) -> dict[str, str]:
    """Tier or activity-state keys to their names in the report's language (``c``: the
    builders' context, with ``lang`` and ``table(name)``)."""
    if kind == "tier":
        levels = c.table("pyramid")
        return {code: name_of("tier", code, c.lang) for code in levels["tier"]} \
            if levels is not None else {}
    policies = c.table("state_policies")
    column = "state_zh" if c.lang == "zh" else "state_en"
    return dict(zip(policies["state"], policies[column])) if policies is not None else {}

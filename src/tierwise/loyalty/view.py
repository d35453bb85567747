"""The one read model of loyalty levels and rewards that the CLI, the report and the web show.

:func:`levels_view` reads a run's ``snapshot_customers`` (any connection that holds them: the
store, or the web server's copy, scoped to a viewer by a SQL condition); :func:`rewards_view`
reads the reward campaigns of a store and evaluates them.
"""

from __future__ import annotations

import math
from typing import Any

from ..config import CampaignDefaultsConfig, LoyaltyConfig
from ..i18n import t
from .levels import LOYALTY_COLUMNS
from .rewards import reward_effects
from .words import level_name, level_sentences

#: Columns of the "closest to the next level" list.
NEAR_COLUMNS = ("customer_id", "name", "loyalty_level", "loyalty_spend", "loyalty_next_level",
                "loyalty_distance")


def _records(con: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def levels_view(con: Any, run_id: int, loyalty: LoyaltyConfig, lang: str, *,
                where: str = "run_id = ?", params: list[Any] | None = None, near: int = 20,
                customer_id: str | None = None) -> dict[str, Any]:
    """Levels of one run: customers per level (in grace, near the next), the customers
    closest to the next level with a sentence each, or one customer's row (``customer_id``).

    ``where`` / ``params`` select the run's rows a viewer may see (default: all of them).
    """
    params = list(params if params is not None else [run_id])
    out: dict[str, Any] = {"configured": bool(loyalty.level), "window": loyalty.window,
                           "levels": [], "near": [], "customer": None}
    if not loyalty.level:
        return out
    thresholds = {lv.code: lv.min_spend for lv in loyalty.level}
    rows = _records(con, f"""
        SELECT loyalty_level AS level, count(*) AS customers,
               round(sum(loyalty_spend), 2) AS spend_window,
               count(*) FILTER (WHERE loyalty_in_grace) AS in_grace
        FROM snapshot_customers WHERE {where} AND loyalty_level IS NOT NULL
        GROUP BY ALL""", params)
    by_level = {r["level"]: r for r in rows}
    near_rows = _records(con, f"""
        SELECT {', '.join(NEAR_COLUMNS)} FROM snapshot_customers
        WHERE {where} AND loyalty_distance IS NOT NULL""", params)
    share = loyalty.near_share
    for r in near_rows:
        r["near"] = r["loyalty_distance"] <= share * thresholds.get(r["loyalty_next_level"], 0)
    for rank, lv in enumerate(loyalty.level):
        got = by_level.get(lv.code, {})
        out["levels"].append({
            "level": lv.code, "level_name": level_name(lv.code, loyalty, lang), "rank": rank,
            "min_spend": lv.min_spend, "customers": int(got.get("customers") or 0),
            "spend_window": float(got.get("spend_window") or 0.0),
            "in_grace": int(got.get("in_grace") or 0),
            "near_next": sum(1 for r in near_rows if r["loyalty_level"] == lv.code and r["near"])})
    closest = sorted((r for r in near_rows if r["near"]),
                     key=lambda r: (r["loyalty_distance"], r["customer_id"]))[:near]
    for r in closest:
        r.pop("near")
        r["level_name"] = level_name(r["loyalty_level"], loyalty, lang)
        r["next_level_name"] = level_name(r["loyalty_next_level"], loyalty, lang)
        r["sentence"] = level_sentences(r, loyalty, lang)[1]
    out["near"] = closest
    if customer_id is not None:
        found = _records(con, f"""
            SELECT customer_id, {', '.join(LOYALTY_COLUMNS)} FROM snapshot_customers
            WHERE {where} AND customer_id = ?""", [*params, customer_id])
        if found:
            row = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                   for k, v in found[0].items()}
            row["level_name"] = level_name(row["loyalty_level"], loyalty, lang)
            row["sentences"] = level_sentences(row, loyalty, lang)
            out["customer"] = row
    return out


def rewards_view(store: Any, loyalty: LoyaltyConfig, lang: str,
                 settings: CampaignDefaultsConfig | None = None) -> list[dict[str, Any]]:
    """Per reward rule: months kept, issued, used, cost, return rates and the verdict."""
    out = []
    for effect in reward_effects(store, loyalty, settings):
        lift = effect.lift
        target, control = lift.target.reactivation_rate, lift.control.reactivation_rate
        item = effect.to_dict()
        item.update(reward_name=level_name(effect.code, loyalty, lang),
                    target_rate=target, control_rate=control,
                    uplift=None if lift.reactivation is None else lift.reactivation.estimate,
                    uplift_low=None if lift.reactivation is None else lift.reactivation.low,
                    uplift_high=None if lift.reactivation is None else lift.reactivation.high,
                    incremental_profit=lift.incremental_profit, status=lift.status,
                    verdict=_verdict(lift, lang))
        out.append(item)
    return out


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _verdict(lift: Any, lang: str) -> str:
    target, control = lift.target.reactivation_rate, lift.control.reactivation_rate
    if lift.status != "measured" or lift.reactivation is None:
        return t("loyalty.verdict_small", lang, target=_pct(target), control=_pct(control))
    if lift.reactivation.excludes_zero():
        key = "loyalty.verdict_up" if lift.reactivation.estimate > 0 else "loyalty.verdict_down"
        return t(key, lang, target=_pct(target), control=_pct(control),
                 points=f"{100 * abs(lift.reactivation.estimate):.1f}")
    return t("loyalty.verdict_none", lang, target=_pct(target), control=_pct(control))


__all__ = ["NEAR_COLUMNS", "levels_view", "rewards_view"]

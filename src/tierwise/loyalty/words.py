"""Loyalty levels in words, at display time: the user's level names and the catalogue's
sentences (:mod:`tierwise.i18n.loyalty_words`)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..config import LoyaltyConfig
from ..i18n import t


def run_loyalty(meta: dict[str, Any] | None) -> LoyaltyConfig:
    """The ``[loyalty]`` a run was made with (from its stored config; empty when none)."""
    config = (meta or {}).get("config") or {}
    return LoyaltyConfig.model_validate(config.get("loyalty") or {})


def level_name(code: Any, cfg: LoyaltyConfig, lang: str) -> Any:
    """The configured name of a level (or reward) code in ``lang``; the code when unknown.

    Examples
    --------
    >>> cfg = LoyaltyConfig(level=[{"code": "gold", "name": "Gold", "name_zh": "金卡会员",
    ...                             "min_spend": 0}])
    >>> level_name("gold", cfg, "zh"), level_name("gold", cfg, "en")
    ('金卡会员', 'Gold')
    """
    if code is None or (isinstance(code, float) and math.isnan(code)):
        return None
    for item in [*cfg.level, *cfg.reward]:
        if item.code == code:
            return item.name_zh or item.name if lang == "zh" else item.name
    return code


def _money(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def level_sentences(row: dict[str, Any], cfg: LoyaltyConfig, lang: str) -> list[str]:
    """What a customer's loyalty row says, one sentence each: the level, the spend to the next
    level (or the top), and, below their own level's threshold, the spend to keep it.

    Examples
    --------
    >>> cfg = LoyaltyConfig(level=[{"code": "member", "name": "Member", "min_spend": 0},
    ...     {"code": "gold", "name": "Gold", "name_zh": "金卡会员", "min_spend": 1000}])
    >>> level_sentences({"loyalty_level": "member", "loyalty_next_level": "gold",
    ...                  "loyalty_distance": 320.0}, cfg, "zh")
    ['会员等级：Member', '本季度再消费 320 即可升级为金卡会员']
    """
    level = row.get("loyalty_level")
    if _missing(level):
        return []
    out = [t("loyalty.level_is", lang, level=level_name(level, cfg, lang))]
    nxt = row.get("loyalty_next_level")
    if _missing(nxt):
        out.append(t("loyalty.at_top", lang))
    else:
        out.append(t("loyalty.to_next", lang, amount=_money(float(row["loyalty_distance"])),
                     window=t(f"loyalty_window.{cfg.window}", lang),
                     level=level_name(nxt, cfg, lang)))
    keep = row.get("loyalty_keep_distance")
    if not _missing(keep):
        end = row.get("loyalty_window_end")
        out.append(t("loyalty.to_keep", lang, amount=_money(float(keep)),
                     date=str(end)[:10] if not _missing(end) else "?",
                     level=level_name(level, cfg, lang)))
    since = row.get("loyalty_grace_since")
    if bool(row.get("loyalty_in_grace")) and not _missing(since):
        out.append(t("loyalty.in_grace", lang, date=str(since)[:10]))
    return out


__all__ = ["level_name", "level_sentences", "run_loyalty"]

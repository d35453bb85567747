"""Loyalty levels customers climb, and rule-based rewards: ``[loyalty]``.

A restaurant's membership card or a bank's VIP card: each level has a spend threshold over a
window (a calendar month, quarter or year); a customer reaches a level as soon as their spend in
the current window reaches its threshold, and keeps it for ``grace_periods`` whole windows
below it before dropping. Rewards (``[[loyalty.reward]]``) are issued by rule (one order of at
least an amount, or cumulative spend reaching an amount) and kept as campaign records with
their cost and a control group (see ``docs/loyalty.md``).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from ._base import _Section

CODE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
REWARD_KINDS = ("single_order", "cumulative")
LOYALTY_WINDOWS = ("month", "quarter", "year")


class LoyaltyLevelConfig(_Section):
    """One level (``[[loyalty.level]]``), lowest first."""

    code: str = Field(..., description="short code stored in the snapshot (e.g. 'gold'): "
                                       "lower-case letters, digits, '_'")
    name: str = Field(..., min_length=1, description="the level's name in English")
    name_zh: str | None = Field(None, description="the level's name in Chinese (default: name)")
    min_spend: float = Field(..., ge=0, description="net spend in one window that reaches "
                                                    "the level (the lowest level: 0)")

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        return _code_ok(value)


class LoyaltyRewardConfig(_Section):
    """One reward rule (``[[loyalty.reward]]``): who gets it, what one costs, who is held out."""

    code: str = Field(..., description="short code of the rule (e.g. 'big_meal')")
    name: str = Field(..., min_length=1, description="the reward's name in English")
    name_zh: str | None = Field(None, description="the reward's name in Chinese (default: name)")
    kind: Literal["single_order", "cumulative"] = Field(
        ..., description="single_order: one order of at least min_amount; cumulative: the "
                         "customer's total net spend reaches min_amount (once per customer)")
    min_amount: float = Field(..., gt=0, description="the amount that earns the reward")
    cost: float = Field(..., ge=0, description="what one reward costs when used (a coupon's "
                                               "face value), in the config's currency")
    control_share: float = Field(
        0.2, ge=0, lt=1, description="share of qualifying customers held out (no reward), "
                                     "chosen by a seeded hash of the customer id")
    seed: int = Field(19, description="seed of the hash that picks the control group")
    window_days: int = Field(30, ge=1, le=365, description="days after the issue month in which "
                                                           "a return visit counts")

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        return _code_ok(value)


class LoyaltyConfig(_Section):
    """Loyalty levels and rewards (``[loyalty]``); nothing is computed without levels/rewards."""

    window: Literal["month", "quarter", "year"] = Field(
        "quarter", description="the calendar window spend is counted over")
    grace_periods: int = Field(
        1, ge=0, le=8, description="whole windows a customer may spend below their level's "
                                   "threshold before dropping (0: drop at the first)")
    near_share: float = Field(
        0.2, gt=0, le=1, description="a customer is 'near' the next level when the spend "
                                     "missing is at most this share of its threshold")
    reward_months: int = Field(
        6, ge=1, le=36, description="rewards are issued for qualifying orders in this many "
                                    "months up to the run's as-of date")
    level: list[LoyaltyLevelConfig] = Field(default_factory=list,
                                            description="the levels, lowest first")
    reward: list[LoyaltyRewardConfig] = Field(default_factory=list,
                                              description="the reward rules")

    @field_validator("level")
    @classmethod
    def _levels_climb(cls, value: list[LoyaltyLevelConfig]) -> list[LoyaltyLevelConfig]:
        if not value:
            return value
        if value[0].min_spend != 0:
            raise ValueError(f"the first level ({value[0].code!r}) is where every customer "
                             f"starts: set its min_spend = 0 (got {value[0].min_spend:g})")
        for low, high in zip(value, value[1:]):
            if high.min_spend <= low.min_spend:
                raise ValueError(f"levels must be listed lowest first with rising min_spend: "
                                 f"{high.code!r} ({high.min_spend:g}) is not above "
                                 f"{low.code!r} ({low.min_spend:g})")
        _unique([lv.code for lv in value], "level")
        return value

    @field_validator("reward")
    @classmethod
    def _unique_rewards(cls, value: list[LoyaltyRewardConfig]) -> list[LoyaltyRewardConfig]:
        _unique([r.code for r in value], "reward")
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.level or self.reward)


def _code_ok(value: str) -> str:
    if not re.fullmatch(CODE_PATTERN, value):
        raise ValueError("a code is 1-32 lower-case letters, digits or '_', starting with a "
                         f"letter (e.g. {re.sub('[^a-z0-9_]', '_', value.lower())!r}); the "
                         "name shown to people goes in name / name_zh")
    return value


def _unique(codes: list[str], what: str) -> None:
    seen = [c for i, c in enumerate(codes) if c in codes[:i]]
    if seen:
        raise ValueError(f"{what} code(s) {sorted(set(seen))} appear more than once; give each "
                         f"[[loyalty.{what}]] its own code")


__all__ = ["LOYALTY_WINDOWS", "REWARD_KINDS", "LoyaltyConfig", "LoyaltyLevelConfig",
           "LoyaltyRewardConfig"]

"""B2B contracts and cost to serve: ``[contracts]`` and ``[cost_to_serve]``."""

from __future__ import annotations

from pydantic import Field, model_validator

from ._base import _Section

#: Kinds of cost to serve a costs row may carry (docs/contracts.md).
COST_TYPES: tuple[str, ...] = ("visits", "discounts", "service", "logistics", "other")


class ContractsConfig(_Section):
    """Contracts and their renewal (``[contracts]``; docs/contracts.md)."""

    reminder_days: int = Field(
        90, ge=1, le=730, description="a contract ending within this many days after the as-of "
                                      "date, not yet renewed, gets a reminder and a task")
    grace_days: int = Field(
        30, ge=0, le=365, description="a contract counts as renewed when the customer's next "
                                      "contract starts at most this many days after it ended")
    rate_window_days: int = Field(
        365, ge=30, le=3650, description="the renewal rate by tier counts the contracts that "
                                         "ended in this many days before the as-of date")
    task_due_days: int = Field(
        14, ge=0, description="a renewal task is due this many days after the as-of date (or on "
                              "the contract's last day, when that comes sooner)")


class CostToServeConfig(_Section):
    """Segment P&L and key accounts' margin after cost to serve (``[cost_to_serve]``).

    A key account's margin after cost to serve, as a share of its revenue, is checked against
    the pricing guidance of its kind: a strategic account may run near break-even (not below
    ``strategic_min_margin``), a core account must keep at least ``core_min_margin``.
    """

    window_days: int = Field(
        365, ge=28, le=3650, description="revenue, gross margin and costs are summed over this "
                                         "many days up to the as-of date")
    gross_margin_rate: float | None = Field(
        None, ge=0, le=1, description="gross margin as a share of revenue for orders that carry "
                                      "neither cost nor margin (not set: such orders add "
                                      "revenue but no gross margin)")
    core_min_margin: float = Field(
        0.05, ge=-1, le=1, description="a core key account's margin after cost to serve, as a "
                                       "share of revenue, must be at least this (else flagged)")
    strategic_min_margin: float = Field(
        -0.02, ge=-1, le=1, description="a strategic key account may run near break-even, but "
                                        "not below this share of revenue (else flagged)")
    break_even_band: float = Field(
        0.02, ge=0, le=1, description="a margin after cost within +/- this share of revenue is "
                                      "called near break-even")
    allocate_segment_costs: bool = Field(
        True, description="costs booked to a segment (not to a customer) are shared among its "
                          "customers by revenue in each key account's cost to serve")

    @model_validator(mode="after")
    def _floors(self) -> CostToServeConfig:
        if self.strategic_min_margin > self.core_min_margin:
            raise ValueError(f"strategic_min_margin ({self.strategic_min_margin}) is above "
                             f"core_min_margin ({self.core_min_margin}): strategic accounts may "
                             "run on lower margins than core ones, not higher")
        return self


__all__ = ["COST_TYPES", "ContractsConfig", "CostToServeConfig"]

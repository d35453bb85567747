"""Tasks from advice and who gets them: ``[tasks]``."""

from __future__ import annotations

from pydantic import Field, field_validator

from ._base import _Section


class TasksConfig(_Section):
    """Tasks each run makes from its advice (``[tasks]``; docs/tasks.md).

    A task goes to the customer's account manager, else the segment owner, else the assignee
    configured for the customer's region (``by_region``) or main store (``by_store``), else
    ``default_assignee``.
    """

    enabled: bool = Field(True, description="make tasks from each run's advice (the latest "
                                            "run only: a run for an earlier date makes none)")
    default_assignee: str = Field(
        "unassigned", description="assignee of a task when the customer has no account "
                                  "manager, no segment owner and no region or store assignee")
    by_region: dict[str, str] = Field(
        default_factory=dict, description="assignee per customer region, e.g. "
                                          "{ \"华东\" = \"张伟\" }")
    by_store: dict[str, str] = Field(
        default_factory=dict, description="assignee per store (the store of most of the "
                                          "customer's orders), e.g. { \"徐汇店\" = \"李娜\" }")
    occasion_horizon_days: int = Field(
        14, ge=0, le=366, description="birthdays and anniversaries (joined, first purchase) "
                                      "this many days after the as-of date become tasks")
    visit_every_days: int = Field(
        90, ge=0, description="a key account nobody has reached or visited (a recorded outcome) "
                              "for this many days gets a planned visit; 0: no planned visits")
    wake_ups_per_run: int = Field(
        30, ge=0, description="the most valuable customers to wake up (resting, dormant, shock) "
                              "that get a task each run, as the call list shows")
    occasions_per_run: int = Field(
        50, ge=0, description="at most this many birthday and anniversary tasks per run, the "
                              "most valuable customers first")
    warning_due_days: int = Field(3, ge=0, description="an early warning's task is due this "
                                                       "many days after the as-of date")
    call_due_days: int = Field(7, ge=0, description="calls and wake-ups are due this many days "
                                                    "after the as-of date (this week's calls)")
    will_come_back_days: int = Field(
        30, ge=1, description="'will come back' is checked against the orders: no order this "
                              "many days after the outcome makes a follow-up task")
    campaign_follow_up_days: int = Field(
        30, ge=0, description="target customers who used a campaign's coupon get a follow-up "
                              "task when its window ended at most this many days before the "
                              "as-of date")

    @field_validator("default_assignee")
    @classmethod
    def _named(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("give a name (the person who gets tasks nobody else owns)")
        return value

    @field_validator("by_region", "by_store")
    @classmethod
    def _named_pairs(cls, value: dict[str, str]) -> dict[str, str]:
        empty = sorted(k for k, v in value.items() if not str(k).strip() or not str(v).strip())
        if empty:
            raise ValueError(f"empty name or assignee for {empty}; write "
                             "{ \"region or store\" = \"assignee name\" }")
        return {str(k).strip(): str(v).strip() for k, v in value.items()}

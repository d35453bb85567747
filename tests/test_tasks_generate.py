"""Which tasks a run's advice asks for, and who gets them (tierwise.tasks.generate)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from tierwise.config import TasksConfig, parse_config
from tierwise.errors import ConfigError
from tierwise.tasks.generate import _next_occasions, assignee_of, next_occasion, plan_tasks
from tierwise.tasks.words import reason_text

AS_OF = dt.date(2026, 3, 31)


def _customers(**extra: list) -> pd.DataFrame:
    base = {
        "customer_key": [1, 2, 3, 4, 5],
        "customer_id": ["A", "B", "C", "D", "E"],
        "account_manager": ["王芳", None, None, None, "李强"],
        "segment_owner": [None, "Head of sales", None, None, None],
        "region": [None, None, "华东", "西北", None],
        "activity_state": ["dead", "dormant", "resting", "normal", "buried"],
        "activity_policy": ["call", "wake_up", "wake_up", "maintain", "archive"],
        "clv_predicted": [9000.0, 500.0, 800.0, 100.0, 50.0],
        "days_since_last": [120, 64, 30, 3, 400],
        "first_purchase": pd.to_datetime(["2020-04-05", "2024-01-01", "2023-06-01",
                                          "2025-04-02", "2019-04-01"]),
        "joined_at": [None] * 5,
        "birthday": [None] * 5,
    }
    base.update(extra)
    return pd.DataFrame(base)


def _warnings() -> pd.DataFrame:
    return pd.DataFrame([{"customer_key": 1, "kind": "yoy_drop", "period": "2026-Q1",
                          "current": 0.0, "reference": 3_302_030.0, "change_pct": -100.0,
                          "window": None, "severity": "high"}])


def test_a_warned_key_account_gets_a_high_priority_task_for_its_manager() -> None:
    plan = plan_tasks(_customers(), _warnings(), TasksConfig(), AS_OF)
    row = plan[plan["customer_id"] == "A"].set_index("reason").loc["warning"]
    assert (row["assignee"], row["assigned_by"], row["priority"]) == ("王芳", "account_manager", 1)
    assert row["due"] == AS_OF + dt.timedelta(days=3)
    # the warning's figures are kept, and worded at display time in either language
    args = json.loads(row["reason_args"])
    assert args["kind"] == "yoy_drop" and args["severity"] == "high"
    assert "-100 %" in reason_text("warning", args, "en")
    assert reason_text("warning", args, "zh").startswith("预警")
    # a warned customer does not also get a "call"
    assert "call" not in set(plan.loc[plan["customer_id"] == "A", "reason"])


def test_assignee_falls_back_from_manager_to_owner_to_store_region_and_default() -> None:
    cfg = TasksConfig(default_assignee="前台", by_region={"华东": "张伟"},
                      by_store={"徐汇店": "李娜"})
    assert assignee_of({"account_manager": "王芳", "segment_owner": "X"}, cfg) == \
        ("王芳", "account_manager")
    assert assignee_of({"account_manager": " ", "segment_owner": "X"}, cfg) == \
        ("X", "segment_owner")
    assert assignee_of({"main_store": "徐汇店", "region": "华东"}, cfg) == ("李娜", "store")
    assert assignee_of({"main_store": "别的店", "region": "华东"}, cfg) == ("张伟", "region")
    assert assignee_of({"region": "西北"}, cfg) == ("前台", "default")
    plan = plan_tasks(_customers(), None, cfg, AS_OF)
    assert plan.set_index("customer_id").loc["C", "assignee"] == "张伟"


def test_wake_ups_are_capped_by_value_and_silenced_customers_get_nothing() -> None:
    plan = plan_tasks(_customers(), None, TasksConfig(wake_ups_per_run=1), AS_OF)
    wake = plan[plan["reason"] == "wake_up"]
    assert list(wake["customer_id"]) == ["C"]  # 800 > 500: the more valuable one
    assert json.loads(wake.iloc[0]["reason_args"]) == {"state": "resting", "days": 30}
    assert "E" not in set(plan["customer_id"])  # archived: no task of any kind
    plan = plan_tasks(_customers(), None, TasksConfig(wake_ups_per_run=0), AS_OF)
    assert "wake_up" not in set(plan["reason"])


def test_occasions_within_the_horizon_become_tasks_due_on_the_day() -> None:
    frame = _customers(birthday=[None, pd.Timestamp("1980-04-09"), None, None, None])
    plan = plan_tasks(frame, None, TasksConfig(occasion_horizon_days=10), AS_OF)
    occasions = plan[plan["reason"].isin(["birthday", "joined", "first_purchase"])]
    got = {r.customer_id: (r.reason, r.due, json.loads(r.reason_args))
           for r in occasions.itertuples()}
    # A: first purchase 2020-04-05 -> 6 years on 2026-04-05; D: 2025-04-02 -> 1 year
    assert got["A"] == ("first_purchase", dt.date(2026, 4, 5), {"date": "2026-04-05", "years": 6})
    assert got["D"] == ("first_purchase", dt.date(2026, 4, 2), {"date": "2026-04-02", "years": 1})
    # B: a birthday on 9 April (no age shown); C's first purchase (1 June) is beyond 10 days
    assert got["B"] == ("birthday", dt.date(2026, 4, 9), {"date": "2026-04-09"})
    assert "C" not in got and "E" not in got
    assert reason_text("birthday", got["B"][2], "zh") == "2026-04-09 生日"
    capped = plan_tasks(frame, None, TasksConfig(occasion_horizon_days=10, occasions_per_run=1),
                        AS_OF)
    assert list(capped.loc[capped["reason"].isin(["birthday", "first_purchase"]),
                           "customer_id"]) == ["A"]  # the most valuable first


def test_next_occasion_rules() -> None:
    assert next_occasion(dt.date(2024, 2, 29), dt.date(2026, 2, 20), 14) == \
        (dt.date(2026, 2, 28), 2)
    assert next_occasion(dt.date(2025, 12, 30), dt.date(2026, 12, 20), 14) == \
        (dt.date(2026, 12, 30), 1)
    assert next_occasion(dt.date(2026, 1, 5), dt.date(2026, 1, 1), 14) is None  # not a year yet
    assert next_occasion(dt.date(2020, 12, 31), dt.date(2026, 12, 25), 14) == \
        (dt.date(2026, 12, 31), 6)
    assert next_occasion(dt.date(2021, 1, 2), dt.date(2026, 12, 25), 14) == \
        (dt.date(2027, 1, 2), 6)  # across the new year
    assert next_occasion(None, dt.date(2026, 1, 1), 14) is None


def test_next_occasions_of_a_column_follow_next_occasion_row_by_row() -> None:
    """The whole-column form the task planner uses gives what next_occasion gives each row:
    29 February, not yet a year, the year's turn, a day in the future, missing values, dates
    as timestamps, date objects and text."""
    days = [dt.date(2024, 2, 29), dt.date(2025, 12, 30), dt.date(2026, 1, 5),
            dt.date(2020, 12, 31), dt.date(2021, 1, 2), None, dt.date(2025, 12, 25),
            dt.date(2026, 12, 26), dt.date(2027, 1, 3), dt.date(2016, 2, 29),
            dt.date(2019, 3, 1), dt.date(2026, 12, 25)]
    for as_of in (dt.date(2026, 12, 25), dt.date(2026, 2, 20), dt.date(2028, 2, 28),
                  dt.date(2026, 1, 1)):
        for horizon in (0, 14, 400):
            expected = [next_occasion(d, as_of, horizon) for d in days]
            for column in (pd.Series(days, dtype=object), pd.to_datetime(pd.Series(days)),
                           pd.Series([d and d.isoformat() for d in days], dtype=object)):
                when, years = _next_occasions(column, as_of, horizon)
                got = [None if pd.isna(w) else (w.item(), int(y))
                       for w, y in zip(when, years, strict=True)]
                assert got == expected, (as_of, horizon, column.dtype)


def test_campaign_redeemers_get_a_follow_up() -> None:
    redeemers = pd.DataFrame({"customer_key": [2, 5], "campaign_id": [7, 7],
                              "campaign": ["win back", "win back"],
                              "window_end": [AS_OF, AS_OF]})
    plan = plan_tasks(_customers(), None, TasksConfig(), AS_OF, redeemers=redeemers)
    follow = plan[plan["reason"] == "campaign_follow_up"]
    assert list(follow["customer_id"]) == ["B"]  # E is archived
    assert "win back" in reason_text("campaign_follow_up", follow.iloc[0]["reason_args"], "en")


def test_the_tasks_section_is_validated_with_clear_errors() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"tasks": {"default_assignee": "  ", "by_region": {"华东": ""},
                                "occasion_horizon_days": -1, "colour": "red"}})
    text = str(err.value)
    assert "tasks.default_assignee" in text and "give a name" in text
    assert "tasks.by_region" in text and "华东" in text
    assert "tasks.occasion_horizon_days" in text
    assert "tasks.colour" in text and "not a tierwise setting" in text
    cfg = parse_config({"tasks": {"by_store": {" 徐汇店 ": " 李娜 "}}})
    assert cfg.tasks.by_store == {"徐汇店": "李娜"}
    # tasks do not change results: the config hash ignores them
    assert cfg.config_hash() == parse_config({}).config_hash()


def test_key_accounts_not_contacted_for_a_while_get_a_planned_visit() -> None:
    """有目的、有计划拜访: a key account nobody reached for visit_every_days gets a visit task,
    unless it already has a warning or call task; never contacted counts as due."""
    customers = _customers(
        key_account=[True, True, True, False, True],
        last_contact=pd.to_datetime([None, "2026-03-01", "2025-11-30", None, None]))
    plan = plan_tasks(customers, _warnings(), TasksConfig(visit_every_days=90), AS_OF)
    visits = plan[plan["reason"] == "visit"].set_index("customer_id")
    # A has a warning; B was reached 30 days ago; D is not a key account; E is archived
    assert list(visits.index) == ["C"]
    assert json.loads(visits.loc["C", "reason_args"]) == {"days": 121}
    assert visits.loc["C", "priority"] == 2
    assert visits.loc["C", "due"] == AS_OF + dt.timedelta(days=7)
    # the planned visit replaces C's wake-up: one call per customer
    assert set(plan.loc[plan["customer_id"] == "C", "reason"]) == {"visit"}
    never = plan_tasks(customers.assign(last_contact=pd.NaT), None,
                       TasksConfig(visit_every_days=90), AS_OF)
    assert set(never.loc[never["reason"] == "visit", "customer_id"]) == {"B", "C"}  # A: call
    assert reason_text("visit", {"days": None}, "zh") == "关键客户计划拜访：还没有联系记录"
    assert reason_text("visit", {"days": 121}, "en") == \
        "planned visit to a key account: no contact recorded for 121 days"
    off = plan_tasks(customers, None, TasksConfig(visit_every_days=0), AS_OF)
    assert "visit" not in set(off["reason"])
    assert "visit" not in set(plan_tasks(_customers(), None, TasksConfig(), AS_OF)["reason"])

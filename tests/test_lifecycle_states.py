"""Activity states, relative mode, early decline, B2B lifecycle stages and the policy table."""

from __future__ import annotations

import datetime as dt
import doctest
import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from tierwise.config import (
    ActivityConfig,
    AttendanceConfig,
    LifecycleConfig,
    MonitoringConfig,
    parse_config,
)
from tierwise.errors import ConfigError, DataContractError
from tierwise.lifecycle import (
    ACTIVITY_STATES,
    LIFECYCLE_STAGES,
    STAGE_NAMES,
    STATE_POLICIES,
    classify_activity,
    lifecycle_stage,
    state_policy,
    state_policy_table,
    window_visits,
)

AS_OF = dt.date(2026, 3, 31)


def _frame(visits, days, **extra) -> pd.DataFrame:
    n = len(visits)
    data = {"customer_key": np.arange(1, n + 1), "visits_30d": visits, "days_since_last": days,
            "T": [400] * n}
    data.update(extra)
    return pd.DataFrame(data)


def _orders(plan: dict[int, list[int]], as_of: dt.date = AS_OF, amount: float = 100.0
            ) -> pd.DataFrame:
    """Orders from {customer_key: [days before as_of, ...]}."""
    rows = [(k, pd.Timestamp(as_of) - pd.Timedelta(days=d), amount, False)
            for k, days in plan.items() for d in days]
    return pd.DataFrame(rows, columns=["customer_key", "ordered_at", "amount", "is_refund"])


# ---- absolute bands, every boundary ----------------------------------------------------------

@pytest.mark.parametrize(("visits", "days", "state", "zh", "policy"), [
    (0, 30, "dead", "死亡", "do_not_contact"),
    (1, 5, "shock", "休克", "wake_up"),
    (2, 5, "shock", "休克", "wake_up"),
    (3, 2, "dormant", "休眠", "wake_up"),
    (4, 2, "dormant", "休眠", "wake_up"),
    (5, 1, "resting", "休息", "wake_up"),
    (6, 1, "resting", "休息", "wake_up"),
    (7, 1, "normal", "正常", "maintain"),
    (15, 0, "normal", "正常", "maintain"),
    (0, 90, "dead", "死亡", "do_not_contact"),
    (0, 91, "buried", "埋葬", "archive"),
    (0, 400, "buried", "埋葬", "archive"),
])
def test_absolute_bands_at_every_boundary(visits, days, state, zh, policy):
    out = classify_activity(_frame([visits], [days]))
    assert out.loc[0, "activity_state"] == state
    assert out.loc[0, "activity_state_zh"] == zh
    assert out.loc[0, "activity_policy"] == policy


def test_never_bought_has_no_state():
    out = classify_activity(_frame([0], [np.nan], T=[np.nan]))
    assert pd.isna(out.loc[0, "activity_state"])
    assert pd.isna(out.loc[0, "activity_policy"])
    assert out.loc[0, "lifecycle_stage"] == "prospect"


def test_bands_follow_the_config():
    cfg = ActivityConfig(normal_min=10, resting_min=6, dormant_min=4, shock_min=2,
                         buried_after_days=60)
    out = classify_activity(_frame([9, 6, 5, 2, 1, 0, 0], [1, 1, 1, 1, 1, 60, 61]), cfg)
    assert out["activity_state"].tolist() == [
        "resting", "resting", "dormant", "shock", "dead", "dead", "buried"]


def test_bands_must_descend():
    with pytest.raises(ValidationError):
        ActivityConfig(normal_min=5, resting_min=5)
    with pytest.raises(ValidationError):
        LifecycleConfig(at_risk_gap_multiple=4, lost_gap_multiple=3)


def test_config_file_sections_are_checked():
    cfg = parse_config({"activity": {"normal_min": 10}, "lifecycle": {"lost_after_days": 200}})
    assert (cfg.activity.normal_min, cfg.lifecycle.lost_after_days) == (10, 200)
    assert classify_activity(_frame([9], [1]), cfg)["activity_state"].tolist() == ["resting"]
    with pytest.raises(ConfigError) as err:
        parse_config({"activity": {"relative_resting_min": 0.9}})
    assert "relative_normal_min" in str(err.value)
    with pytest.raises(ConfigError):
        parse_config({"activity": {"normal": 7}})  # unknown key


def test_missing_columns_name_the_fix():
    with pytest.raises(DataContractError, match="visits_30d"):
        classify_activity(pd.DataFrame({"customer_key": [1], "days_since_last": [3]}))


# ---- relative mode ---------------------------------------------------------------------------

def _relative_plan() -> dict[int, list[int]]:
    # per30 visits in each 30 days of the 180-day baseline (days 30..209 ago), and one visit
    # long before it so that the whole baseline counts as history
    baseline = lambda per30: [30 + b * 30 + i * (30 // per30) for b in range(6)  # noqa: E731
                              for i in range(per30)] + [300]
    return {
        1: [2, 17] + baseline(2),            # 2 in window, 2 per 30 days before: ratio 1.0
        2: [5] + baseline(2),                # 1 vs 2: ratio 0.5 -> dormant
        3: [1, 3, 5, 7, 9] + baseline(8),    # 5 vs 8: ratio 0.625 -> resting
        4: [1] + baseline(4),                # 1 vs 4: ratio 0.25 -> shock
        5: [3, 10],                          # no history before the window -> normal
        6: [40] + baseline(2)[2:],           # no visit in 30 days, last 40 days ago -> dead
        7: [100, 130, 160, 300],             # last visit 100 days ago -> buried
    }


def test_relative_mode_compares_with_the_own_baseline():
    orders = _orders(_relative_plan())
    frame = pd.DataFrame({"customer_key": list(range(1, 9)), "T": [400] * 8})
    cfg = ActivityConfig(mode="relative")
    out = classify_activity(frame, cfg, orders=orders, as_of=AS_OF).set_index("customer_key")
    assert out["activity_state"].iloc[:7].tolist() == [
        "normal", "dormant", "resting", "shock", "normal", "dead", "buried"]
    assert pd.isna(out.loc[8, "activity_state"])  # no orders at all
    assert out.loc[1, "activity_ratio"] == pytest.approx(1.0)
    assert out.loc[2, "activity_ratio"] == pytest.approx(0.5)
    assert out.loc[3, "activity_ratio"] == pytest.approx(0.625)
    assert np.isnan(out.loc[5, "activity_ratio"])
    # the same customers in absolute mode: a slow but steady customer looks like 'shock'
    absolute = classify_activity(
        frame.assign(visits_30d=out["activity_visits"].to_numpy(),
                     days_since_last=[2, 5, 1, 1, 3, 40, 100, np.nan]))
    assert absolute["activity_state"].iloc[0] == "shock"


def test_relative_baseline_scales_to_short_history():
    # first purchase 110 days ago: 81 days of history (30..110 days ago) before the window,
    # 6 visits in them: 6 x 30 / 81 = 2.2 per 30 days, not 6 x 30 / 180 = 1
    orders = _orders({1: [2, 12, 40, 50, 70, 80, 100, 110]})
    out = classify_activity(pd.DataFrame({"customer_key": [1], "T": [110]}),
                            ActivityConfig(mode="relative"), orders=orders, as_of=AS_OF)
    assert out.loc[0, "activity_ratio"] == pytest.approx(2 / (6 * 30 / 81))
    assert out.loc[0, "activity_state"] == "normal"


def test_relative_mode_needs_orders():
    with pytest.raises(DataContractError, match="orders"):
        classify_activity(_frame([3], [2]), ActivityConfig(mode="relative"))


def test_window_visits_counts_distinct_days_and_skips_refunds():
    orders = _orders({1: [0, 0, 29, 30], 2: [5]})
    orders.loc[len(orders)] = [2, pd.Timestamp(AS_OF), -50.0, True]
    orders.loc[len(orders)] = [3, pd.Timestamp(AS_OF) + pd.Timedelta(days=1), 10.0, False]
    assert window_visits(orders, AS_OF, 30).to_dict() == {1: 2, 2: 1}
    assert window_visits(orders, AS_OF, 30, offset=30).to_dict() == {1: 1}


# ---- early decline ---------------------------------------------------------------------------

def test_early_decline_against_the_previous_snapshot():
    curr = _frame([8, 8, 6, 0, 3, 10, 10], [1, 1, 1, 40, 2, 1, 1])
    prev = pd.DataFrame({"customer_key": [1, 2, 3, 4, 5, 7],
                         "visits_30d": [12, 9, 8, 3, 4, 12]})
    out = classify_activity(curr, previous=prev)
    # 12 -> 8 still 'normal' but flagged early; 9 -> 8 is noise; 8 -> 6 flagged;
    # 3 -> 0 is already dead (own policy); 4 -> 3 too small; no previous -> no flag;
    # 12 -> 10 is 2 visits but only 17 % (< 25 %)
    assert out["early_decline"].tolist() == [True, False, True, False, False, False, False]
    assert out["activity_state"].tolist()[:2] == ["normal", "normal"]
    assert out["early_decline"].dtype == bool


def test_early_decline_threshold_is_config():
    curr = _frame([8], [1])
    prev = pd.DataFrame({"customer_key": [1], "visits_30d": [9]})
    cfg = ActivityConfig(decline_min_visits=1, decline_min_share=0.1)
    assert classify_activity(curr, cfg, previous=prev)["early_decline"].tolist() == [True]


def test_early_decline_from_orders_previous_window():
    orders = _orders({1: [1, 5, 9, 33, 36, 39, 42, 45, 48],  # 3 now, 6 in the window before
                      2: [1, 5, 9, 33, 36, 39]})            # 3 now, 3 before
    curr = _frame([3, 3], [1, 1])
    out = classify_activity(curr, orders=orders, as_of=AS_OF)
    assert out["activity_visits_prev"].tolist() == [6, 3]
    assert out["early_decline"].tolist() == [True, False]


# ---- B2B lifecycle ---------------------------------------------------------------------------

@pytest.mark.parametrize(("row", "stage"), [
    ({"days_since_last": np.nan, "T": np.nan, "gap_median": np.nan}, "prospect"),
    ({"days_since_last": 5, "T": 5, "gap_median": np.nan, "n_orders": 0}, "prospect"),
    ({"days_since_last": 10, "T": 90, "gap_median": np.nan}, "new"),
    ({"days_since_last": 10, "T": 91, "gap_median": np.nan}, "active"),
    ({"days_since_last": 60, "T": 900, "gap_median": 30.0}, "active"),     # exactly 2 gaps
    ({"days_since_last": 61, "T": 900, "gap_median": 30.0}, "at_risk"),
    ({"days_since_last": 120, "T": 900, "gap_median": 30.0}, "at_risk"),   # exactly 4 gaps
    ({"days_since_last": 121, "T": 900, "gap_median": 30.0}, "lost"),
    ({"days_since_last": 15, "T": 900, "gap_median": 2.0}, "at_risk"),     # gap floored at 7
    ({"days_since_last": 180, "T": 900, "gap_median": np.nan}, "active"),
    ({"days_since_last": 181, "T": 900, "gap_median": np.nan}, "at_risk"),
    ({"days_since_last": 365, "T": 900, "gap_median": 200.0}, "active"),
    ({"days_since_last": 366, "T": 900, "gap_median": 200.0}, "lost"),
    ({"days_since_last": 10, "T": 900, "gap_median": 30.0, "value_period": 40.0,
      "value_same_period_ly": 100.0}, "at_risk"),                          # value falling
    ({"days_since_last": 10, "T": 900, "gap_median": 30.0, "value_period": 50.0,
      "value_same_period_ly": 100.0}, "active"),
])
def test_lifecycle_stages(row, stage):
    assert lifecycle_stage(pd.DataFrame([row])).tolist() == [stage]


def test_lifecycle_thresholds_are_config_and_first_purchase_works():
    frame = pd.DataFrame({"days_since_last": [10], "gap_median": [np.nan],
                          "first_purchase": [pd.Timestamp("2026-01-01")]})
    assert lifecycle_stage(frame, as_of=AS_OF).tolist() == ["new"]
    cfg = LifecycleConfig(new_within_days=30)
    assert lifecycle_stage(frame, cfg, as_of=AS_OF).tolist() == ["active"]
    with pytest.raises(DataContractError, match="as-of"):
        lifecycle_stage(frame)


def test_classify_activity_outputs_every_column():
    out = classify_activity(_frame([8, 0], [1, 200]))
    for col in ("activity_state", "activity_state_zh", "activity_policy", "lifecycle_stage",
                "lifecycle_stage_zh", "early_decline"):
        assert col in out.columns
    assert out["lifecycle_stage"].tolist() == ["active", "at_risk"]
    assert out["lifecycle_stage_zh"].tolist() == ["活跃客户", "有流失风险"]


# ---- the state-policy table ------------------------------------------------------------------

def test_policy_table_is_complete_for_every_state():
    table = state_policy_table()
    assert table["state"].tolist() == list(ACTIVITY_STATES)
    assert not table.isna().any().any()
    assert (table.map(lambda v: str(v).strip() != "")).all().all()
    expected = {"normal": ("maintain", "维护"), "resting": ("wake_up", "唤醒"),
                "dormant": ("wake_up", "唤醒"), "shock": ("wake_up", "唤醒"),
                "dead": ("do_not_contact", "不打扰"), "buried": ("archive", "归档")}
    for state, (policy, zh) in expected.items():
        row = state_policy(state)
        assert (row["policy"], row["policy_zh"]) == (policy, zh)
    assert "纪念日" in state_policy("dormant")["actions_zh"]
    assert "anniversary" in state_policy("shock")["actions_en"]
    assert len(STATE_POLICIES) == len(ACTIVITY_STATES)
    assert set(STAGE_NAMES) == set(LIFECYCLE_STAGES)
    with pytest.raises(KeyError, match="valid"):
        state_policy("asleep")


# ---- docs and public API ---------------------------------------------------------------------

@pytest.mark.parametrize("module", ["policies", "states", "attendance", "migration", "warnings"])
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"tierwise.lifecycle.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_every_lifecycle_config_key_is_in_the_docs():
    text = (Path(__file__).resolve().parents[1] / "docs" / "lifecycle.md").read_text("utf-8")
    for section in (ActivityConfig, LifecycleConfig, AttendanceConfig, MonitoringConfig):
        for key, field in section.model_fields.items():
            assert f"{key} = " in text, f"docs/lifecycle.md lacks {key}"
            assert field.description, f"{section.__name__}.{key} has no description"


def test_public_api_is_exported():
    import tierwise.lifecycle as lifecycle

    for name in lifecycle.__all__:
        assert getattr(lifecycle, name) is not None
    public = {n for n, v in vars(lifecycle).items() if not n.startswith("_")
              and not isinstance(v, type(lifecycle)) and n != "annotations"}
    assert public == set(lifecycle.__all__)


def test_lost_needs_a_low_chance_of_buying_again_when_one_is_known() -> None:
    from tierwise.lifecycle.states import lifecycle_stage

    f = pd.DataFrame({"days_since_last": [100, 100, 100, 20], "T": [900] * 4,
                      "gap_median": [10, 10, 10, 10],
                      "policy_probability": [0.27, 0.05, None, 0.9]})
    assert lifecycle_stage(f, floor=0.10).tolist() == ["at_risk", "lost", "lost", "active"]
    assert lifecycle_stage(f).tolist() == ["lost", "lost", "lost", "active"]  # no floor given

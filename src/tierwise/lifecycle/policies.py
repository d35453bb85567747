"""Activity states, lifecycle stages and their policies, as data (Chinese and English).

The tables here are plain tuples of dicts so reports can print them and tests can check they are
complete. The seeds' restaurant practice names each state's usual policy (below); the policy a
customer gets also rests on the probability that they buy again (:mod:`.advice`): "do not contact"
and "archive" only under the probability floor, and a key or major account gets a ``call``
instead. :data:`POLICIES` lists every policy code:

========  ======  ====================  ===========================================================
state     中文    policy                what to do
========  ======  ====================  ===========================================================
normal    正常    maintain 维护         keep up the usual service
resting   休息    wake up 唤醒          visit, call on an anniversary, targeted offer
dormant   休眠    wake up 唤醒          visit, call on an anniversary, targeted offer
shock     休克    wake up 唤醒          visit, call on an anniversary, targeted offer
dead      死亡    do not contact 不打扰 no more calls or messages
buried    埋葬    archive 归档          move out of the active lists
========  ======  ====================  ===========================================================
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: Activity states, best to worst.
ACTIVITY_STATES: tuple[str, ...] = ("normal", "resting", "dormant", "shock", "dead", "buried")

#: "Dormant or worse": ``dormant`` and every state after it in :data:`ACTIVITY_STATES`, in
#: either activity mode (rhythm: 2.5 expected gaps or more behind; docs/lifecycle.md). The summary's
#: ``dormant_or_worse`` counts these (:mod:`tierwise.runview`).
DORMANT_OR_WORSE: tuple[str, ...] = ACTIVITY_STATES[ACTIVITY_STATES.index("dormant"):]

#: B2B lifecycle stages, in the order a customer passes through them.
LIFECYCLE_STAGES: tuple[str, ...] = ("prospect", "new", "active", "at_risk", "lost")

#: Pyramid tiers, best to worst (``new`` and ``prospect`` are ungraded: they have no rank).
TIER_ORDER: tuple[str, ...] = ("key", "major", "ordinary", "long_tail")

_WAKE_UP_ZH = "登门拜访、纪念日电话问候、针对性优惠"
_WAKE_UP_EN = "visit in person, call on an anniversary, targeted offer"

#: One row per activity state: names, policy code and the actions behind it.
STATE_POLICIES: tuple[dict[str, Any], ...] = (
    {"state": "normal", "state_zh": "正常", "state_en": "normal",
     "policy": "maintain", "policy_zh": "维护", "policy_en": "maintain",
     "actions_zh": "正常维护，保持日常服务", "actions_en": "keep up the usual service"},
    {"state": "resting", "state_zh": "休息", "state_en": "resting",
     "policy": "wake_up", "policy_zh": "唤醒", "policy_en": "wake up",
     "actions_zh": _WAKE_UP_ZH, "actions_en": _WAKE_UP_EN},
    {"state": "dormant", "state_zh": "休眠", "state_en": "dormant",
     "policy": "wake_up", "policy_zh": "唤醒", "policy_en": "wake up",
     "actions_zh": _WAKE_UP_ZH, "actions_en": _WAKE_UP_EN},
    {"state": "shock", "state_zh": "休克", "state_en": "shock",
     "policy": "wake_up", "policy_zh": "唤醒", "policy_en": "wake up",
     "actions_zh": _WAKE_UP_ZH, "actions_en": _WAKE_UP_EN},
    {"state": "dead", "state_zh": "死亡", "state_en": "dead",
     "policy": "do_not_contact", "policy_zh": "不打扰", "policy_en": "do not contact",
     "actions_zh": "不再联系", "actions_en": "no more calls or messages"},
    {"state": "buried", "state_zh": "埋葬", "state_en": "buried",
     "policy": "archive", "policy_zh": "归档", "policy_en": "archive",
     "actions_zh": "归档，移出活跃名单", "actions_en": "move out of the active lists"},
)

#: Every policy code with its names and actions (the state table above gives each state's usual one).
POLICIES: tuple[dict[str, Any], ...] = (
    {"policy": "maintain", "policy_zh": "维护", "policy_en": "maintain",
     "actions_zh": "正常维护，保持日常服务", "actions_en": "keep up the usual service"},
    {"policy": "wake_up", "policy_zh": "唤醒", "policy_en": "wake up",
     "actions_zh": _WAKE_UP_ZH, "actions_en": _WAKE_UP_EN},
    {"policy": "call", "policy_zh": "客户经理致电", "policy_en": "account manager calls",
     "actions_zh": "重要/主要客户：客户经理亲自致电或拜访，了解原因",
     "actions_en": "key or major account: its manager calls or visits to find out why"},
    {"policy": "do_not_contact", "policy_zh": "不打扰", "policy_en": "do not contact",
     "actions_zh": "不再联系", "actions_en": "no more calls or messages"},
    {"policy": "archive", "policy_zh": "归档", "policy_en": "archive",
     "actions_zh": "归档，移出活跃名单", "actions_en": "move out of the active lists"},
)

#: The states whose usual policy is "wake up" (resting, dormant, shock): the call lists' pool.
WAKE_UP_STATES: tuple[str, ...] = tuple(r["state"] for r in STATE_POLICIES
                                        if r["policy"] == "wake_up")

#: Policy codes, most engaged first.
POLICY_CODES: tuple[str, ...] = tuple(row["policy"] for row in POLICIES)

#: How a policy's probability was obtained -> (Chinese, English).
POLICY_BASES: dict[str, tuple[str, str]] = {
    "model": ("购买模型", "purchase model"),
    "rhythm": ("消费节奏", "purchase rhythm"),
}

#: Lifecycle stage -> (Chinese, English) names.
STAGE_NAMES: dict[str, tuple[str, str]] = {
    "prospect": ("潜在客户", "prospect"),
    "new": ("新客户", "new"),
    "active": ("活跃客户", "active"),
    "at_risk": ("有流失风险", "at risk"),
    "lost": ("已流失", "lost"),
}

#: The three 10-day buckets of a month: number -> (Chinese, English, first day, last day or None
#: for the month's end).
BUCKETS: dict[int, tuple[str, str, int, int | None]] = {
    1: ("上旬", "days 1-10", 1, 10),
    2: ("中旬", "days 11-20", 11, 20),
    3: ("下旬", "days 21-end", 21, None),
}

#: Early-warning kinds -> (Chinese, English) names.
WARNING_KINDS: dict[str, tuple[str, str]] = {
    "yoy_drop": ("同比大幅下降", "down on the same period last year"),
    "trailing_drop": ("低于近期平均", "down on its trailing average"),
    "silence": ("长时间未下单", "silent for longer than usual"),
    "unlikely": ("再次下单可能性低", "unlikely to order again"),
}

#: Severity -> (Chinese, English) names.
SEVERITIES: dict[str, tuple[str, str]] = {"high": ("高", "high"), "medium": ("中", "medium")}


def state_policy(state: str) -> dict[str, Any]:
    """The policy row of one activity state.

    Parameters
    ----------
    state
        One of :data:`ACTIVITY_STATES`.

    Returns
    -------
    dict
        A copy of the row of :data:`STATE_POLICIES`.

    Raises
    ------
    KeyError
        For an unknown state; the message lists the valid ones.

    Examples
    --------
    >>> state_policy("dormant")["policy_zh"]
    '唤醒'
    """
    for row in STATE_POLICIES:
        if row["state"] == state:
            return dict(row)
    raise KeyError(f"unknown activity state {state!r}; valid: {', '.join(ACTIVITY_STATES)}")


def state_policy_table() -> pd.DataFrame:
    """The state-policy table as a DataFrame, one row per state, best to worst.

    Examples
    --------
    >>> state_policy_table()["policy"].tolist()
    ['maintain', 'wake_up', 'wake_up', 'wake_up', 'do_not_contact', 'archive']
    """
    return pd.DataFrame(list(STATE_POLICIES))


def policy_row(policy: str) -> dict[str, Any]:
    """The row of :data:`POLICIES` for a policy code (KeyError listing the valid ones).

    Examples
    --------
    >>> policy_row("call")["policy_en"]
    'account manager calls'
    """
    for row in POLICIES:
        if row["policy"] == policy:
            return dict(row)
    raise KeyError(f"unknown policy {policy!r}; valid: {', '.join(POLICY_CODES)}")


__all__ = [
    "POLICIES", "POLICY_CODES", "POLICY_BASES", "policy_row",
    "ACTIVITY_STATES", "LIFECYCLE_STAGES", "TIER_ORDER", "STATE_POLICIES", "STAGE_NAMES",
    "BUCKETS", "WARNING_KINDS", "SEVERITIES", "state_policy", "state_policy_table",
]

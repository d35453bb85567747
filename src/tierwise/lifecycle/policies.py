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

from ..i18n import pair, t

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

_STATE_POLICY = {"normal": "maintain", "resting": "wake_up", "dormant": "wake_up",
                 "shock": "wake_up", "dead": "do_not_contact", "buried": "archive"}


def _policy_words(policy: str) -> dict[str, str]:
    return {"policy": policy, "policy_zh": t(f"policy.{policy}", "zh"),
            "policy_en": t(f"policy.{policy}", "en"),
            "actions_zh": t(f"actions.{policy}", "zh"), "actions_en": t(f"actions.{policy}", "en")}


#: One row per activity state: names, policy code and the actions behind it (words from
#: :mod:`tierwise.i18n`).
STATE_POLICIES: tuple[dict[str, Any], ...] = tuple(
    {"state": state, "state_zh": t(f"state.{state}", "zh"), "state_en": t(f"state.{state}", "en"),
     **_policy_words(policy)} for state, policy in _STATE_POLICY.items())

#: Every policy a customer can get, most engaged first: ``call`` is the protected accounts' policy.
POLICIES: tuple[dict[str, Any], ...] = tuple(
    _policy_words(p) for p in ("maintain", "wake_up", "call", "do_not_contact", "archive"))

#: The states whose usual policy is "wake up" (resting, dormant, shock): the call lists' pool.
WAKE_UP_STATES: tuple[str, ...] = tuple(r["state"] for r in STATE_POLICIES
                                        if r["policy"] == "wake_up")

#: Policy codes, most engaged first.
POLICY_CODES: tuple[str, ...] = tuple(row["policy"] for row in POLICIES)

#: How a policy's probability was obtained -> (Chinese, English).
POLICY_BASES: dict[str, tuple[str, str]] = {b: pair("basis", b) for b in ("model", "rhythm")}

#: Lifecycle stage -> (Chinese, English) names.
STAGE_NAMES: dict[str, tuple[str, str]] = {s: pair("stage", s) for s in LIFECYCLE_STAGES}

#: The three 10-day buckets of a month: number -> (Chinese, English, first day, last day or None
#: for the month's end).
BUCKETS: dict[int, tuple[str, str, int, int | None]] = {
    n: (*pair("bucket", str(n)), first, last)
    for n, first, last in ((1, 1, 10), (2, 11, 20), (3, 21, None))}

#: Early-warning kinds -> (Chinese, English) names.
WARNING_KINDS: dict[str, tuple[str, str]] = {
    k: pair("warning_kind", k) for k in ("yoy_drop", "trailing_drop", "silence", "unlikely")}

#: Severity -> (Chinese, English) names.
SEVERITIES: dict[str, tuple[str, str]] = {k: pair("severity", k) for k in ("high", "medium")}


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

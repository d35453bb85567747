"""Activity states (normal ... buried), B2B lifecycle stages and the early-decline flag.

States say how far a customer is behind **their own rhythm**. In the default ``mode = "auto"`` a
run picks one of two measures (:func:`~tierwise.lifecycle.rhythm.choose_mode`, recorded with the
run): the **rhythm** mode counts how many of the customer's expected gaps (their own, shrunk toward
the population's, :class:`~tierwise.lifecycle.rhythm.Rhythm`) the current silence spans:

=======  ======  ================================================
state    中文    rule (defaults, expected gaps missed)
=======  ======  ================================================
normal   正常    at most 1.5
resting  休息    more than 1.5
dormant  休眠    more than 2.5
shock    休克    more than 4
dead     死亡    more than 6
buried   埋葬    more than 12
=======  ======  ================================================

The **absolute** mode keeps the seeds' restaurant practice, for a business whose regulars visit
several times a month: how many times each one came in the last 30 days. By visits (distinct
purchase days) in the last 30 days and days since the last purchase:

=======  ======  ================================================
state    中文    rule (defaults)
=======  ======  ================================================
normal   正常    visits >= 7  ("more than 6")
resting  休息    visits 5-6   ("about 6")
dormant  休眠    visits 3-4   ("about 4")
shock    休克    visits 1-2   ("about 2")
dead     死亡    no visit in the window, days since last <= 90
buried   埋葬    days since last > 90 (no purchase for 3 months)
=======  ======  ================================================

A customer who never bought has no state (missing). The policy a state leads to also rests on
the probability of a purchase (:mod:`tierwise.lifecycle.advice`). The relative mode replaces the visit bands by
the ratio of the window's visits to the customer's own rate over the trailing baseline, which suits
businesses with slower rhythms. See ``docs/lifecycle.md`` for worked examples.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from ..config import ActivityConfig, Config, LifecycleConfig
from ..errors import DataContractError
from ._frames import _num, _require, _section, _timestamp, in_engine
from .policies import ACTIVITY_STATES, STAGE_NAMES, STATE_POLICIES
from .rhythm import ModeChoice, Rhythm, choose_mode, rhythm_states

_ZH = {row["state"]: row["state_zh"] for row in STATE_POLICIES}
_POLICY = {row["state"]: row["policy"] for row in STATE_POLICIES}
_VISITING = ("normal", "resting", "dormant", "shock")


# ---- shared helpers (used by the other lifecycle modules too) -------------------------------

def prepare_orders(orders: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    """Orders up to ``as_of`` with ``customer_key``, ``day`` (Timestamp), ``amount``, ``is_refund``.

    A refund is ``is_refund`` true or, when that column is absent, a negative amount.
    """
    if orders is None:
        raise DataContractError("this calculation needs the orders table",
                                "pass orders= (customer_key, ordered_at, amount, is_refund)")
    _require(orders, ["customer_key", "ordered_at", "amount"], "the orders table")
    out = pd.DataFrame({
        "customer_key": orders["customer_key"].to_numpy(),
        "day": pd.to_datetime(orders["ordered_at"]).dt.normalize().to_numpy(),
        "amount": _num(orders, "amount").fillna(0.0).to_numpy(),
    })
    if "is_refund" in orders.columns:
        out["is_refund"] = orders["is_refund"].fillna(False).astype(bool).to_numpy()
    else:
        out["is_refund"] = out["amount"] < 0
    return out[out["day"] <= as_of]


def window_visits(orders: pd.DataFrame, as_of: dt.date, days: int, *, offset: int = 0,
                  ) -> pd.Series:
    """Visits (distinct purchase days, refunds excluded) per customer in a window of ``days``.

    The window ends ``offset`` days before ``as_of`` (inclusive) and starts ``days - 1`` days
    before its end: with ``days=30, offset=0`` it is ``as_of - 29 .. as_of``, the window of the
    ``visits_30d`` feature; ``offset=30`` gives the 30 days before that.

    Returns
    -------
    pandas.Series
        Visits indexed by ``customer_key``; customers without a visit are absent.

    Examples
    --------
    >>> o = pd.DataFrame({"customer_key": [1, 1, 1], "amount": [10.0, 5.0, 8.0],
    ...                   "ordered_at": pd.to_datetime(["2026-03-31", "2026-03-31", "2026-03-01"])})
    >>> window_visits(o, dt.date(2026, 3, 31), 30).to_dict()
    {1: 1}
    """
    ts = _timestamp(as_of, "window_visits")
    if in_engine(orders):
        return orders.visits(ts.date(), days, offset=offset)
    prepared = prepare_orders(orders, ts)
    end = ts - pd.Timedelta(days=offset)
    start = end - pd.Timedelta(days=days - 1)
    hits = prepared[~prepared["is_refund"] & (prepared["day"] >= start) & (prepared["day"] <= end)]
    return hits.groupby("customer_key")["day"].nunique().rename("visits")


# ---- activity states ------------------------------------------------------------------------

def _absolute_states(visits: pd.Series, silence: pd.Series, cfg: ActivityConfig) -> np.ndarray:
    conds = [silence > cfg.buried_after_days, visits >= cfg.normal_min,
             visits >= cfg.resting_min, visits >= cfg.dormant_min, visits >= cfg.shock_min,
             silence.notna()]
    return np.select(conds, ["buried", "normal", "resting", "dormant", "shock", "dead"],
                     default=None)


def _relative_states(visits: pd.Series, silence: pd.Series, ratio: pd.Series,
                     cfg: ActivityConfig) -> np.ndarray:
    visiting = visits > 0
    no_base = ratio.isna()
    conds = [silence > cfg.buried_after_days, ~visiting & silence.notna(),
             visiting & (no_base | (ratio >= cfg.relative_normal_min)),
             visiting & (ratio >= cfg.relative_resting_min),
             visiting & (ratio >= cfg.relative_dormant_min), visiting]
    return np.select(conds, ["buried", "dead", "normal", "resting", "dormant", "shock"],
                     default=None)


def _activity_counts(orders: pd.DataFrame, ts: pd.Timestamp, w: int, baseline: int
                     ) -> pd.DataFrame:
    """Per customer who bought: visits in the window, the window before and the baseline, and
    the fewest and most days ago of a purchase (the pandas twin of ``OrderTable``'s)."""
    prepared = prepare_orders(orders, ts)
    buys = prepared[~prepared["is_refund"]]
    ago = (ts - buys["day"]).dt.days
    per = buys.assign(ago=ago).groupby("customer_key")["ago"]
    days = buys["day"]
    return pd.DataFrame({
        "visits": days[ago < w].groupby(buys["customer_key"]).nunique(),
        "visits_prev": days[(ago >= w) & (ago < 2 * w)].groupby(buys["customer_key"]).nunique(),
        "base": days[(ago >= w) & (ago < w + baseline)].groupby(buys["customer_key"]).nunique(),
        "ago_min": per.min(), "ago_max": per.max()})


def _from_orders(keys: pd.Series, orders: pd.DataFrame, ts: pd.Timestamp,
                 cfg: ActivityConfig) -> pd.DataFrame:
    """Window visits, previous-window visits, days since last, baseline ratio per customer."""
    w = cfg.window_days
    counts = orders.activity_counts(ts.date(), w, cfg.baseline_days) if in_engine(orders) \
        else _activity_counts(orders, ts, w, cfg.baseline_days)
    frame = pd.DataFrame({
        "visits": counts["visits"], "visits_prev": counts["visits_prev"],
        "base": counts["base"], "days_since_last": counts["ago_min"],
        "history": counts["ago_max"] - w + 1,
    })
    for column in ("visits", "visits_prev", "base"):  # no visit: absent, as a pandas groupby
        frame[column] = frame[column].where(frame[column] > 0)
    frame = frame.reindex(keys.to_numpy())
    frame[["visits", "visits_prev", "base"]] = frame[["visits", "visits_prev", "base"]].fillna(0)
    history = frame["history"].clip(lower=0, upper=cfg.baseline_days)
    rate = frame["base"] * w / history.where(history >= cfg.min_history_days)
    frame["ratio"] = frame["visits"] / rate.where(rate > 0)
    frame["tenure"] = frame["history"] + w - 1
    return frame.set_axis(keys.index)


def _activity_inputs(frame: pd.DataFrame, cfg: ActivityConfig, previous: pd.DataFrame | None,
                     orders: pd.DataFrame | None, as_of: Any, mode: str) -> pd.DataFrame:
    """Visits, previous visits, days since last and ratio, aligned on ``frame``'s index."""
    use_orders = mode == "relative" or cfg.window_days != 30
    if use_orders:
        if orders is None or as_of is None:
            raise DataContractError(
                f"activity mode '{mode}' with window_days={cfg.window_days} counts visits "
                "from the orders table", "pass orders= and as_of= to classify_activity")
        _require(frame, ["customer_key"], "the customer frame")
        got = _from_orders(frame["customer_key"], orders, _timestamp(as_of, "activity"), cfg)
    else:
        _require(frame, ["days_since_last"], "the customer frame")
        visits = _num(frame, "visits_30d") if "visits_30d" in frame \
            else pd.Series(np.nan, index=frame.index)
        if mode == "absolute" and "visits_30d" not in frame:
            _require(frame, ["visits_30d"], "the customer frame")
        got = pd.DataFrame({"visits": visits.fillna(0.0),
                            "days_since_last": _num(frame, "days_since_last"),
                            "ratio": np.nan, "visits_prev": np.nan}, index=frame.index)
        if orders is not None and as_of is not None and previous is None:
            _require(frame, ["customer_key"], "the customer frame")
            prev = window_visits(orders, as_of, 30, offset=30)
            got["visits_prev"] = frame["customer_key"].map(prev).fillna(0).to_numpy(float)
    if previous is not None and cfg.window_days == 30:
        _require(frame, ["customer_key"], "the customer frame")
        _require(previous, ["customer_key", "visits_30d"], "the previous snapshot")
        prev = previous.drop_duplicates("customer_key").set_index("customer_key")["visits_30d"]
        got["visits_prev"] = pd.to_numeric(frame["customer_key"].map(prev), errors="coerce"
                                           ).to_numpy(dtype="float64", na_value=np.nan)
    return got


def early_decline_flags(visits: pd.Series, visits_prev: pd.Series, states: pd.Series,
                        cfg: ActivityConfig) -> pd.Series:
    """True where the window's visits fell period on period by the configured amount.

    The flag is raised for customers who still visit (normal, resting, dormant, shock): a fall by
    at least ``decline_min_visits`` visits and by at least ``decline_min_share`` of the previous
    window's count. Dead and buried customers have their own policies; a missing previous count
    never flags.
    """
    drop = visits_prev - visits
    flag = (visits_prev.notna() & (drop >= cfg.decline_min_visits)
            & (drop >= cfg.decline_min_share * visits_prev) & states.isin(_VISITING))
    return flag.astype(bool)


def activity_mode(frame: pd.DataFrame, config: Config | ActivityConfig | None = None
                  ) -> tuple[Rhythm | None, ModeChoice]:
    """The rhythm fitted on ``frame`` and the activity mode a run uses (with its reason).

    Returns
    -------
    tuple
        (:class:`~tierwise.lifecycle.rhythm.Rhythm` fitted, or None without ``frequency`` /
        ``recency`` columns; :class:`~tierwise.lifecycle.rhythm.ModeChoice`).
    """

    cfg = _section(config, "activity", ActivityConfig)
    if not {"frequency", "recency"} <= set(frame.columns):
        if cfg.mode == "rhythm":
            _require(frame, ["frequency", "recency"], f"activity mode '{cfg.mode}'")
        if cfg.mode == "auto":
            return None, ModeChoice("auto", "absolute", "no frequency/recency columns to find "
                                    "the customers' rhythm: the visit bands are used")
        return None, ModeChoice(cfg.mode, cfg.mode, f"[activity] mode = \"{cfg.mode}\"")
    buyers = frame[_num(frame, "days_since_last").notna()] if "days_since_last" in frame \
        else frame
    rhythm = Rhythm(cfg.rhythm_min_gap_days).fit(buyers)
    return rhythm, choose_mode(buyers, cfg, rhythm)


def classify_activity(frame: pd.DataFrame,
                      config: Config | ActivityConfig | None = None,
                      previous: pd.DataFrame | None = None, *,
                      orders: pd.DataFrame | None = None,
                      as_of: dt.date | None = None, mode: Any = None) -> pd.DataFrame:
    """Activity state, its usual policy, the B2B lifecycle stage and the early-decline flag.

    Parameters
    ----------
    frame
        Per-customer features: ``customer_key``, ``days_since_last``, ``frequency``,
        ``recency`` (rhythm), ``visits_30d`` (absolute mode), plus ``T`` or
        ``first_purchase``, ``value_period``, ``value_same_period_ly`` for the lifecycle stage.
    config
        The whole :class:`~tierwise.config.Config` (uses ``activity`` and ``lifecycle``), an
        :class:`~tierwise.config.ActivityConfig`, or None for the defaults.
    previous
        The previous snapshot (``customer_key``, ``visits_30d``) for the early-decline flag.
    orders, as_of
        The orders table and the as-of date: needed by the relative mode and by a window other
        than 30 days; without ``previous`` they give the previous window's visits.
    mode
        The :func:`activity_mode` result to use (default: computed here from ``frame``).

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with ``activity_visits``, ``activity_visits_prev``,
        ``activity_ratio`` (relative mode), ``expected_gap_days``, ``gaps_missed``,
        ``activity_state``, ``activity_state_zh``, ``activity_policy`` (the state's usual policy:
        :func:`~tierwise.lifecycle.advice.assign_policies` decides the final one),
        ``early_decline``, ``lifecycle_stage``, ``lifecycle_stage_zh``.

    Examples
    --------
    >>> f = pd.DataFrame({"customer_key": [1, 2, 3], "visits_30d": [8, 4, 0],
    ...                   "days_since_last": [1, 3, 120], "T": [400, 400, 400]})
    >>> classify_activity(f, ActivityConfig(mode="absolute"))["activity_state"].tolist()
    ['normal', 'dormant', 'buried']
    """

    cfg = _section(config, "activity", ActivityConfig)
    rhythm, choice = mode if mode is not None else activity_mode(frame, cfg)
    got = _activity_inputs(frame, cfg, previous, orders, as_of, choice.mode)
    gaps = rhythm.transform(frame) if rhythm is not None else pd.DataFrame(
        {"expected_gap_days": np.nan, "gaps_missed": np.nan}, index=frame.index)
    if choice.mode == "relative":
        states = _relative_states(got["visits"], got["days_since_last"], got["ratio"], cfg)
    elif choice.mode == "absolute":
        states = _absolute_states(got["visits"], got["days_since_last"], cfg)
    else:
        states = rhythm_states(gaps["gaps_missed"], cfg)
    states = pd.Series(states, index=frame.index, dtype="object")
    out = frame.copy()
    out["activity_visits"] = got["visits"].to_numpy()
    out["activity_visits_prev"] = got["visits_prev"].to_numpy()
    out["activity_ratio"] = got["ratio"].to_numpy()
    out["expected_gap_days"] = gaps["expected_gap_days"].to_numpy()
    out["gaps_missed"] = gaps["gaps_missed"].to_numpy()
    out["activity_state"] = states
    out["activity_state_zh"] = states.map(_ZH)
    out["activity_policy"] = states.map(_POLICY)
    out["early_decline"] = early_decline_flags(got["visits"], got["visits_prev"], states, cfg)
    lifecycle = _section(config, "lifecycle", LifecycleConfig)
    if "days_since_last" not in frame.columns:
        frame = frame.assign(days_since_last=got["days_since_last"])
    if not {"T", "first_purchase"} & set(frame.columns) and "tenure" in got.columns:
        frame = frame.assign(T=got["tenure"])
    if rhythm is not None:
        frame = frame.assign(expected_gap_days=out["expected_gap_days"])
    out["lifecycle_stage"] = lifecycle_stage(frame, lifecycle, as_of=as_of,
                                             floor=cfg.policy_floor)
    out["lifecycle_stage_zh"] = out["lifecycle_stage"].map(
        {k: v[0] for k, v in STAGE_NAMES.items()})
    return out


# ---- B2B lifecycle --------------------------------------------------------------------------

def _tenure(frame: pd.DataFrame, as_of: Any) -> pd.Series:
    if "T" in frame.columns:
        return _num(frame, "T")
    if "first_purchase" in frame.columns:
        ts = _timestamp(as_of, "the lifecycle stage (from first_purchase)")
        return (ts - pd.to_datetime(frame["first_purchase"])).dt.days.astype("float64")
    raise DataContractError("the customer frame lacks both T and first_purchase",
                            "the lifecycle stage needs the customer's tenure: add the T column")


def lifecycle_stage(frame: pd.DataFrame, config: Config | LifecycleConfig | None = None, *,
                    as_of: dt.date | None = None, floor: float | None = None) -> pd.Series:
    """B2B lifecycle stage per customer: prospect, new, active, at_risk or lost.

    Rules, first match wins (defaults of :class:`~tierwise.config.LifecycleConfig`):

    1. **prospect**: no purchase yet (``days_since_last`` missing or ``n_orders`` = 0);
    2. **lost**: silence > ``lost_after_days`` (365) or > ``lost_gap_multiple`` (4) x usual gap;
    3. **new**: first purchase within ``new_within_days`` (90) days (``T`` or ``first_purchase``);
    4. **at_risk**: silence > ``at_risk_gap_multiple`` (2) x usual gap (> ``at_risk_after_days``,
       180, when the gap is unknown), or value this period below (1 - ``value_drop_share``) x the
       same period last year;
    5. **active**: everyone else.

    The usual gap is the account's own rhythm, ``expected_gap_days`` (its own gaps shrunk toward
    the population's, :class:`~tierwise.lifecycle.rhythm.Rhythm`) when the frame has it, else
    ``gap_median``; taken as at least ``min_gap_days`` (7).

    With a ``floor`` and a ``policy_probability`` column (the chance of any purchase in the
    policy horizon, the basis of the policies), a long silence makes an account **lost** only
    when that chance is under the floor too; an account the purchase model still expects back
    (say 27 % after eight missed gaps) is **at_risk**, so the stage never contradicts the
    policy: "lost" and "archive" rest on the same probability.

    Examples
    --------
    >>> f = pd.DataFrame({"days_since_last": [None, 10, 100, 500], "T": [None, 30, 900, 900],
    ...                   "gap_median": [None, None, 30, 30]})
    >>> lifecycle_stage(f).tolist()
    ['prospect', 'new', 'at_risk', 'lost']
    """
    cfg = _section(config, "lifecycle", LifecycleConfig)
    _require(frame, ["days_since_last"], "the customer frame")
    silence = _num(frame, "days_since_last")
    prospect = silence.isna()
    if "n_orders" in frame.columns:
        prospect |= _num(frame, "n_orders").fillna(0) <= 0
    gap_column = "expected_gap_days" if "expected_gap_days" in frame.columns else "gap_median"
    gap = (_num(frame, gap_column).clip(lower=cfg.min_gap_days)
           if gap_column in frame.columns else pd.Series(np.nan, index=frame.index))
    silent = (silence > cfg.lost_after_days) | (silence > cfg.lost_gap_multiple * gap)
    lost = silent
    if floor is not None and "policy_probability" in frame.columns:
        chance = _num(frame, "policy_probability")
        lost = silent & ~(chance >= floor)  # a missing chance keeps the silence rule
    new = _tenure(frame, as_of) <= cfg.new_within_days
    risky = np.where(gap.notna(), silence > cfg.at_risk_gap_multiple * gap,
                     silence > cfg.at_risk_after_days)
    if {"value_period", "value_same_period_ly"} <= set(frame.columns):
        ly = _num(frame, "value_same_period_ly")
        now = _num(frame, "value_period").fillna(0.0)
        risky = risky | ((ly > 0) & (now < (1 - cfg.value_drop_share) * ly)).to_numpy()
    risky = risky | silent.to_numpy()
    stages = np.select([prospect.to_numpy(), lost.to_numpy(), new.to_numpy(), risky],
                       ["prospect", "lost", "new", "at_risk"], default="active")
    return pd.Series(stages, index=frame.index, name="lifecycle_stage", dtype="object")


__all__ = ["activity_mode", "classify_activity", "lifecycle_stage", "early_decline_flags", "window_visits",
           "prepare_orders", "ACTIVITY_STATES"]

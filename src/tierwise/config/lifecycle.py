"""Activity states, lifecycle stages, the backtest, attendance and monitoring: ``[activity]``, ``[lifecycle]``, ``[backtest]``, ``[attendance]``, ``[monitoring]``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ._base import _Section


# ---- activity states, attendance, monitoring ----
class ActivityConfig(_Section):
    """Activity states and the policies behind them (``[activity]``; see docs/lifecycle.md).

    ``mode = "rhythm"``: each customer's expected gap between purchases comes from their own
    gaps, shrunk toward the population's when they have few; the state is how many expected gaps
    the current silence spans (``rhythm_*`` bands). ``mode = "absolute"``: the seeds' restaurant
    bands, by visits (distinct purchase days) in the last ``window_days``: normal >=
    ``normal_min``; resting >= ``resting_min``; dormant >= ``dormant_min``; shock >= ``shock_min``;
    dead = none and ``days_since_last <= buried_after_days``; buried = longer. ``mode = "auto"``
    uses the absolute bands only when the regulars' typical gap is at most
    ``auto_max_regular_gap_days``, else the rhythm. ``mode = "relative"`` compares the window's
    visits with the customer's own rate over the ``baseline_days`` before it, by ratio bands.

    Policies rest on probability: "do not contact" and "archive" only when the chance of any
    purchase in ``policy_horizon_days`` is under ``policy_floor``.
    """

    mode: Literal["auto", "rhythm", "absolute", "relative"] = Field(
        "auto", description="auto (absolute bands only where regulars visit several times a "
                            "month, else rhythm), rhythm, absolute visit bands, or relative")
    auto_max_regular_gap_days: float = Field(
        10.0, gt=0, description="auto mode: the absolute bands apply when the regulars' median "
                                "gap is at most this many days")
    rhythm_resting: float = Field(
        1.5, gt=0, description="rhythm mode: silence of more than this many expected gaps: resting")
    rhythm_dormant: float = Field(
        2.5, gt=0, description="rhythm mode: ... more than this many expected gaps: dormant")
    rhythm_shock: float = Field(
        4.0, gt=0, description="rhythm mode: ... more than this many expected gaps: shock")
    rhythm_dead: float = Field(
        6.0, gt=0, description="rhythm mode: ... more than this many expected gaps: dead")
    rhythm_buried: float = Field(
        12.0, gt=0, description="rhythm mode: ... more than this many expected gaps: buried")
    rhythm_min_gap_days: float = Field(
        1.0, gt=0, description="rhythm mode: an expected gap is taken as at least this many days")
    policy_horizon_days: int = Field(
        90, gt=0, description="policies: the horizon of the purchase probability they rest on")
    policy_floor: float = Field(
        0.10, gt=0, lt=1, description="policies: 'do not contact' and 'archive' only when the "
                                      "probability of any purchase in the horizon is below this")
    protect_tiers: list[str] = Field(
        default_factory=lambda: ["key", "major"],
        description="tiers never told 'do not contact' or 'archive' by rule: they get a call")
    window_days: int = Field(30, ge=1, description="the recent window whose visits are counted")
    normal_min: int = Field(7, ge=1, description="visits in the window for 'normal' (more than 6)")
    resting_min: int = Field(5, ge=1, description="visits for 'resting' 休息 (about 6: 5-6)")
    dormant_min: int = Field(3, ge=1, description="visits for 'dormant' 休眠 (about 4: 3-4)")
    shock_min: int = Field(1, ge=1, description="visits for 'shock' 休克 (about 2: 1-2)")
    buried_after_days: int = Field(
        90, ge=1, description="absolute and relative modes: no purchase for more than this many "
                              "days: 'buried' 埋葬")
    baseline_days: int = Field(
        180, ge=1, description="relative mode: trailing days before the window used as baseline")
    min_history_days: int = Field(
        60, ge=1, description="relative mode: history before the window needed for a baseline")
    relative_normal_min: float = Field(0.8, gt=0, description="relative mode: ratio for 'normal'")
    relative_resting_min: float = Field(0.6, gt=0, description="relative mode: ratio for 'resting'")
    relative_dormant_min: float = Field(
        0.35, gt=0, description="relative mode: ratio for 'dormant' (below, with a visit: shock)")
    decline_min_visits: int = Field(
        2, ge=1, description="early decline: the window's visits fell by at least this many ...")
    decline_min_share: float = Field(
        0.25, ge=0, le=1, description="... and by at least this share of the previous window")

    @model_validator(mode="after")
    def _bands_descend(self) -> ActivityConfig:
        counts = [self.normal_min, self.resting_min, self.dormant_min, self.shock_min]
        if any(a <= b for a, b in zip(counts, counts[1:])):
            raise ValueError("need normal_min > resting_min > dormant_min > shock_min "
                             f"(got {counts})")
        ratios = [self.relative_normal_min, self.relative_resting_min, self.relative_dormant_min]
        if any(a <= b for a, b in zip(ratios, ratios[1:])):
            raise ValueError("need relative_normal_min > relative_resting_min > "
                             f"relative_dormant_min (got {ratios})")
        bands = [self.rhythm_resting, self.rhythm_dormant, self.rhythm_shock, self.rhythm_dead,
                 self.rhythm_buried]
        if any(a >= b for a, b in zip(bands, bands[1:])):
            raise ValueError("need rhythm_resting < rhythm_dormant < rhythm_shock < rhythm_dead "
                             f"< rhythm_buried (got {bands})")
        return self


class LifecycleConfig(_Section):
    """B2B lifecycle stages prospect -> new -> active -> at risk -> lost (``[lifecycle]``)."""

    new_within_days: int = Field(90, ge=0, description="first purchase within this many days: new")
    at_risk_gap_multiple: float = Field(
        2.0, gt=0, description="silence longer than this many usual gaps: at risk")
    lost_gap_multiple: float = Field(
        4.0, gt=0, description="silence longer than this many usual gaps: lost")
    lost_after_days: int = Field(365, ge=1, description="silence longer than this: lost")
    at_risk_after_days: int = Field(
        180, ge=1, description="silence longer than this: at risk, when the usual gap is unknown")
    min_gap_days: float = Field(
        7.0, ge=0, description="the usual gap is taken as at least this many days")
    value_drop_share: float = Field(
        0.5, gt=0, le=1, description="value this period below (1 - share) x same period last "
                                     "year: at risk")

    @model_validator(mode="after")
    def _lost_after_risk(self) -> LifecycleConfig:
        if self.lost_gap_multiple <= self.at_risk_gap_multiple:
            raise ValueError("lost_gap_multiple must be larger than at_risk_gap_multiple")
        return self


class BacktestConfig(_Section):
    """The backtest every run makes (``[backtest]``; see docs/lifecycle.md).

    The run is replayed one horizon back from the orders alone, and what it said then is compared
    with what the customers did in the horizon since.
    """

    enabled: bool = Field(True, description="replay the run one horizon back and compare")
    horizon_days: int | None = Field(
        None, gt=0, description="days between the replay and the as-of date (default: "
                                "activity.policy_horizon_days)")
    min_history_days: int | None = Field(
        None, gt=0, description="order history needed before the replay date (default: "
                                "activity.policy_horizon_days); less: no backtest, the run says so")


class AttendanceConfig(_Section):
    """The attendance sheet 客户考勤表 (``[attendance]``)."""

    top_n: int = Field(50, ge=1, description="customers on the sheet: the top N by spend")
    months: int = Field(
        3, ge=1, le=24, description="months on the sheet, ending with the as-of month")
    absence_buckets: int = Field(
        3, ge=1, description="this many consecutive 10-day buckets without a visit: long absence")
    absence_marker: str = Field("×", description="marker shown in the cells of a long absence")


class MonitoringConfig(_Section):
    """Early warnings on key and major accounts (``[monitoring]``)."""

    warn_tiers: list[str] = Field(
        default_factory=lambda: ["key", "major"], description="tiers whose accounts are watched")
    top_share: float = Field(
        0.2, gt=0, le=1, description="without a tier column: watch this share of accounts by value")
    value_column: str = Field("total_amount", description="value that ranks accounts (no tiers)")
    drop_share: float = Field(
        0.5, gt=0, le=1, description="warn when value this period fell by more than this share")
    trailing_periods: int = Field(
        4, ge=1, description="previous periods averaged as the trailing reference")
    silence_multiple: float = Field(
        3.0, gt=0, description="warn when days since the last order exceed this many usual gaps")
    high_drop_share: float = Field(0.8, gt=0, le=1, description="a drop this large: severity high")
    high_silence_multiple: float = Field(
        6.0, gt=0, description="silence this many usual gaps: severity high")
    min_reference_value: float = Field(
        0.0, ge=0, description="ignore value drops whose reference is not above this")

"""Value models: ``[rfm]``, ``[value]``, ``[pareto]``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from ._base import _Section


# ---- value models (issue: customer value) ----
class ProblemGroupsConfig(_Section):
    """The two RFM problem groups: frequent small tickets, and big rare tickets."""

    ticket_column: str = Field("mean_amount", description="spend per visit column")
    frequent_min_f: int = Field(
        4, ge=1, le=5, description="visit-rate score (1-5 among repeat buyers) from which a "
                                   "customer is frequent")
    small_max_ticket: int = Field(
        2, ge=1, le=5, description="ticket score (1-5 among repeat buyers) up to which a ticket "
                                   "is small")
    big_min_ticket: int = Field(
        4, ge=1, le=5, description="ticket score (1-5 among repeat buyers) from which a ticket "
                                   "is big")
    rare_max_f: int = Field(
        2, ge=1, le=5, description="visit-rate score (1-5 among repeat buyers) up to which a "
                                   "customer is rare; one-time buyers are never rare")


class RFMConfig(_Section):
    """RFM scores 1-5, the named segment map, the Chinese 8-class model and problem groups."""

    method: Literal["quintile", "thresholds", "cuts"] = Field(
        "quintile", description="quintile: by customer share; thresholds: fixed values; "
                                "cuts: your own customer-share cut points")
    cuts: list[float] | None = Field(None, description="customer-share cut points for method = 'cuts'")
    r_thresholds: list[float] | None = Field(
        None, description="days-since-last cut points for method = 'thresholds', e.g. [60]")
    f_thresholds: list[float] | None = Field(
        None, description="purchase-occasion cut points for method = 'thresholds', e.g. [5]")
    m_thresholds: list[float] | None = Field(
        None, description="monetary cut points for method = 'thresholds', e.g. [500]")
    monetary_column: str = Field("total_amount", description="the M of RFM")
    recency: Literal["rank", "rhythm"] = Field(
        "rank", description="rank: R by customer share (a run warns when R = 5 reaches customers "
                            "far behind the regulars' rhythm); rhythm: R by days since the last "
                            "purchase in typical gaps of the business's regulars")
    recency_gaps: list[float] = Field(
        [1.0, 2.0, 4.0, 8.0], description="for recency = 'rhythm': R = 5 under the first number "
                                          "of typical gaps, 4 under the second, ...")
    class_center: Literal["mean", "median"] = Field(
        "mean", description="what 'high' is measured against in the 8-class model")
    segment_map: list[dict[str, Any]] | None = Field(
        None, description="named segments as [{name_en, name_zh, r = [lo, hi], fm = [lo, hi]}]; "
                          "default: the common 11-segment map")
    problem_groups: ProblemGroupsConfig = Field(default_factory=ProblemGroupsConfig)

    @field_validator("segment_map")
    @classmethod
    def _valid_map(cls, value: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        if value is not None:
            from ..models.segment_maps import validate_segment_map
            validate_segment_map(value, source="rfm.segment_map")
        return value


class ValueConfig(_Section):
    """Historical and predictive customer lifetime value."""

    model: Literal["auto", "bgnbd", "pareto", "mbgnbd", "bgcnbd", "mbgcnbd"] = Field(
        "auto", description="purchase model: BG/NBD, Pareto/NBD, MBG/NBD, the rhythm models "
        "BG/CNBD-k and MBG/CNBD-k (docs/models.md), or auto (every model and, when two are close, "
        "their average, chosen by holdout error)")
    time_unit: Literal["days", "weeks"] = Field(
        "weeks", description="model time unit (weeks = days / 7, as in the papers)")
    horizon_days: int = Field(365, gt=0, description="CLV horizon in days")
    purchase_horizon_days: int = Field(
        90, gt=0, description="N of expected_purchases_<N>d and purchase_likelihood_<N>d")
    discount_rate: float = Field(0.10, ge=0, lt=1, description="annual discount rate of CLV")
    step_days: int = Field(30, gt=0, description="discounting step in days")
    gross_margin: float | None = Field(
        None, gt=0, le=1, description="gross margin rate when orders carry no cost or margin; "
                                      "not set: CLV is in revenue")
    penalizer: float = Field(0.0, ge=0, description="L2 penalty on the log-parameters")
    min_repeat_buyers: int = Field(
        200, ge=1, description="below this many repeat buyers, fall back to the historical rate")
    holdout_days: int | None = Field(
        None, gt=0, description="holdout length for model = 'auto' (default: a third of history)")
    fit_sample: int | None = Field(
        50_000, ge=1000, description="past this many customers, the purchase model is chosen and "
        "fitted on a seeded random sample of this many, and every customer is scored with it "
        "(not set: all customers)")
    calibrate_likelihood: bool = Field(
        True, description="map the model's purchase likelihood to the share who bought in the "
                          "last horizon (the same model fitted one horizon back; docs/models.md)")


class ParetoConfig(_Section):
    """The 80/20 curve."""

    top: float = Field(0.2, gt=0, lt=1, description="share of top customers whose value share is reported")
    points: int = Field(100, ge=2, le=1000, description="points on the value-share curve")

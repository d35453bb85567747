"""Prospects graded apart: ``[prospects]`` (docs/prospects.md).

Customers without a purchase (from the customers file or the ``[sources.leads]`` input) are not
graded in the pyramid; they get their own weighted scorecard (fit, size, source, engagement) and a
prospect grade A-D from its score.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from ._base import _Section
from .tiering import CriterionConfig, _check_criteria

#: Prospect grades, best first; a score at or above the n-th cut gets the n-th grade.
PROSPECT_GRADES = ("A", "B", "C", "D")

#: The company sizes of the demo and common exports, small to large, as 0-100.
SIZE_BAND_MAPPING: dict[str, float] = {
    "1-49": 20, "50-199": 40, "200-999": 60, "1000-4999": 80, "5000+": 100}
#: Where a lead came from, as 0-100 (a referral converts best, a cold list worst).
LEAD_SOURCE_MAPPING: dict[str, float] = {
    "referral": 100, "转介绍": 100, "trade_show": 75, "展会": 75, "inbound": 60, "来电": 60,
    "website": 50, "官网": 50, "cold_list": 20, "陌拜": 20}


def _default_prospect_criteria() -> list[CriterionConfig]:
    return [
        CriterionConfig(name="fit", source="fit", normalise="minmax", bounds=(1.0, 5.0),
                        weight=0.35, optional=True),
        CriterionConfig(name="engagement", source="engagement", weight=0.30, optional=True),
        CriterionConfig(name="size", source="size", normalise="mapping",
                        mapping=dict(SIZE_BAND_MAPPING), weight=0.20, optional=True),
        CriterionConfig(name="source", source="lead_source", normalise="mapping",
                        mapping=dict(LEAD_SOURCE_MAPPING), weight=0.15, optional=True),
    ]


class ProspectsConfig(_Section):
    """The prospect scorecard and grades (``[prospects]``).

    The criteria are scorecard criteria (``[[prospects.criteria]]``, the same keys as
    ``[[scorecard.criteria]]``); a criterion whose column no prospect has is dropped when it is
    ``optional`` and the other weights rescaled. Grades: a score at or above ``grade_cuts[0]``
    is A, ``[1]`` B, ``[2]`` C, the rest D.
    """

    enabled: bool = Field(True, description="grade customers without purchases and leads apart")
    criteria: list[CriterionConfig] = Field(
        default_factory=_default_prospect_criteria,
        description="the prospect scorecard ([[prospects.criteria]] tables), at most 8; "
                    "default: fit (1-5), engagement, size (band), source (lead source)")
    grade_cuts: list[float] = Field(
        default_factory=lambda: [65.0, 50.0, 35.0],
        description="lowest score (0-100) of grade A, B and C; below the last: D")
    followup_grades: list[str] = Field(
        default_factory=lambda: ["A"],
        description="prospects of these grades get a prospect_followup task each run")
    followups_per_run: int = Field(
        30, ge=0, description="at most this many prospect follow-up tasks per run, best "
                              "score first")
    followup_due_days: int = Field(
        7, ge=0, description="a prospect follow-up task is due this many days after the as-of "
                             "date")

    @field_validator("criteria")
    @classmethod
    def _criteria_ok(cls, value: list[CriterionConfig]) -> list[CriterionConfig]:
        return _check_criteria(value)

    @field_validator("followup_grades")
    @classmethod
    def _grades_ok(cls, value: list[str]) -> list[str]:
        unknown = [g for g in value if g not in PROSPECT_GRADES]
        if unknown:
            raise ValueError(f"unknown grades {unknown}; valid: {', '.join(PROSPECT_GRADES)}")
        return value

    @field_validator("grade_cuts")
    @classmethod
    def _cuts(cls, cuts: list[float]) -> list[float]:
        if len(cuts) != len(PROSPECT_GRADES) - 1:
            raise ValueError(f"grade_cuts needs {len(PROSPECT_GRADES) - 1} scores (lowest of "
                             f"A, B, C), got {len(cuts)}: {cuts}")
        if not all(0 <= c <= 100 for c in cuts) or any(a <= b for a, b in zip(cuts, cuts[1:])):
            raise ValueError(f"grade_cuts must lie in 0-100 and fall strictly (A > B > C), "
                             f"got {cuts}")
        return cuts

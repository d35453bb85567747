"""Satisfaction and feedback: ``[feedback]`` (docs/feedback.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ._base import _known_codes, _Section

#: Pyramid tiers whose open complaints can become tasks.
COMPLAINT_TIERS: tuple[str, ...] = ("key", "major", "ordinary", "long_tail")


class FeedbackConfig(_Section):
    """How survey answers and feedback rows are read into satisfaction and complaint tables.

    Survey scores: CSAT (1-5: the mean and the share satisfied, 4-5) or NPS (0-10: promoters
    9-10 minus detractors 0-6, in points). A feedback row is a complaint unless its category is
    one of ``comment_categories``; a complaint is open until its ``resolved`` column says so.
    """

    scale: Literal["auto", "csat", "nps"] = Field(
        "auto", description="survey scale: csat (1-5), nps (0-10); auto: nps for a source "
                            "with any score above 5, else csat")
    window_days: int = Field(
        365, ge=1, description="satisfaction and response rate count the answers (and the "
                               "customers who bought) in this many days up to the as-of date")
    trend_months: int = Field(12, ge=1, le=60, description="months in the satisfaction trend")
    comment_categories: list[str] = Field(
        default_factory=lambda: ["表扬", "建议", "咨询", "其他", "praise", "suggestion",
                                 "question", "other"],
        description="feedback categories that are comments, not complaints (case-insensitive)")
    task_tiers: list[str] = Field(
        default_factory=lambda: ["key", "major"],
        description="open complaints of customers in these tiers become tasks "
                    "(task code open_complaint)")
    keywords_per_group: int = Field(
        10, ge=1, le=100, description="keywords kept per group (everyone, tier, store, category)")
    min_mentions: int = Field(2, ge=1, description="a keyword needs this many comments to show")
    synonyms: dict[str, list[str]] = Field(
        default_factory=dict,
        description="keyword -> words counted as it, e.g. 上菜慢 = ['上菜', '出餐慢', 'slow "
                    "service']; the words also teach the Chinese segmenter")
    stopwords: list[str] = Field(
        default_factory=list, description="extra words never shown as keywords")

    @field_validator("task_tiers")
    @classmethod
    def _tiers(cls, value: list[str]) -> list[str]:
        return _known_codes(value, COMPLAINT_TIERS, "tier(s)")

    @field_validator("comment_categories", "stopwords")
    @classmethod
    def _trimmed(cls, value: list[str]) -> list[str]:
        return [v.strip() for v in value if v.strip()]

    @field_validator("synonyms")
    @classmethod
    def _named_words(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        out = {}
        for name, words in value.items():
            if not name.strip():
                raise ValueError("a keyword name is empty: give each synonym group a name")
            out[name.strip()] = [w.strip() for w in words if w.strip()]
        return out

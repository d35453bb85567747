"""Segment schemes and clustering: ``[segments]``, ``[clustering]``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..errors import ConfigError
from ._base import _Section


# ---- segment schemes and clustering ----
class PlaybookConfig(_Section):
    """What front-line staff do with a segment's customers, the same whatever the channel."""

    offer: str | None = Field(None, description="the offer, e.g. '满200减30 coupon, 14 days'")
    product: str | None = Field(None, description="the product or menu item to put forward")
    channel: str | None = Field(None, description="how to reach them: SMS, WeChat, call, visit")
    message: str | None = Field(None, description="what to tell them, in one sentence")


class SegmentConfig(_Section):
    """One segment of a scheme: a rule (or ``default = true``), an owner and a playbook."""

    name: str = Field(..., min_length=1, description="the segment's name, unique among siblings")
    name_zh: str | None = Field(None, description="Chinese name for reports (default: name)")
    rule: str | None = Field(
        None, description="condition, e.g. 'region in [\"华东\"] and total_amount >= 5000'")
    default: bool = Field(False, description="true: catches every customer no rule above matched")
    owner: str | None = Field(None, description="the senior manager answerable for its P&L")
    playbook: PlaybookConfig = Field(default_factory=PlaybookConfig)
    children: list[SegmentConfig] = Field(
        default_factory=list, description="a finer scheme inside this segment (same fields)")

    @field_validator("rule")
    @classmethod
    def _rule_reads(cls, value: str | None) -> str | None:
        if value is not None:
            from ..segments.rules import parse_rule  # the rule language lives with the segments

            try:
                parse_rule(value)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _rule_or_default(self) -> SegmentConfig:
        if (self.rule is None) == (not self.default):
            raise ValueError(f"segment {self.name!r}: give either a rule or default = true "
                             "(exactly one of them)")
        return self


class SegmentsConfig(_Section):
    """The segment scheme: ordered segments, first match wins, a default catches the rest."""

    name: str = Field("segments", description="the scheme's name in reports and messages")
    separator: str = Field("/", min_length=1, description="joins nested names: '华东/大客户'")
    other_name: str = Field("Other", min_length=1,
                            description="name of the automatic catch-all when no default is given")
    other_name_zh: str = Field("其他", min_length=1, description="its Chinese name")
    other_owner: str | None = Field(None, description="owner of the automatic catch-all")
    require_owner: bool = Field(False, description="true: every top-level segment needs an owner")
    pnl_revenue: Literal["total_amount", "value_period"] = Field(
        "total_amount", description="the revenue column of the segment P&L")
    segment: list[SegmentConfig] = Field(
        default_factory=list, description="the segments, in order ([[segments.segment]])")

    @model_validator(mode="after")
    def _well_formed(self) -> SegmentsConfig:
        problems = scheme_problems(self)
        if problems:
            raise ValueError("\n    ".join(problems))
        return self


class ClusteringConfig(_Section):
    """Behavioural clusters: k-means or a Gaussian mixture on standardised log features."""

    enabled: bool = Field(True, description="cluster customers in every run")
    method: Literal["kmeans", "gmm"] = Field("kmeans", description="kmeans | gmm")
    k_range: tuple[int, int] = Field((2, 8), description="smallest and largest k tried; the "
                                     "best silhouette wins")
    features: list[str] = Field(
        default_factory=lambda: ["frequency", "total_amount", "days_since_last", "mean_amount"],
        min_length=1, description="numeric feature columns to cluster on")
    random_state: int = Field(0, description="seed: same data and seed, same clusters")
    sample_size: int = Field(5_000, ge=50, description="at most this many customers score the "
                             "silhouette (its cost grows with the square)")
    n_init: int = Field(10, ge=1, description="restarts per k (k-means) or per mixture")
    fit_sample: int = Field(50_000, ge=50, description="the chosen k's model is fitted on at "
                            "most this many customers (a seeded sample), then every customer "
                            "is assigned with it")
    threshold: float = Field(0.5, gt=0, description="standard deviations from the population "
                             "mean before a profile word (high / low) is used")

    @field_validator("k_range")
    @classmethod
    def _k_range_ok(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if low < 2 or high < low:
            raise ValueError("k_range needs 2 <= low <= high, e.g. [2, 8]")
        return value


# ---- checks of a scheme's shape (the config's own, and tierwise.segments') ----------------

def _level_problems(segments: Sequence[SegmentConfig], cfg: SegmentsConfig, path: str = ""
                    ) -> list[str]:
    where = f"inside {path!r}" if path else "at the top level"
    problems: list[str] = []
    names = [s.name for s in segments]
    for name in dict.fromkeys(n for n in names if names.count(n) > 1):
        problems.append(f"segment name {name!r} appears {names.count(name)} times {where}: "
                        "names must be unique among siblings")
    for name in names:
        if cfg.separator in name:
            problems.append(f"segment name {name!r} {where} contains the separator "
                            f"{cfg.separator!r}: rename it or set segments.separator")
    defaults = [s.name for s in segments if s.default]
    if len(defaults) > 1:
        problems.append(f"there are {len(defaults)} default segments {where} "
                        f"({', '.join(defaults)}): keep one, the catch-all")
    elif defaults and not segments[-1].default:
        problems.append(f"default segment {defaults[0]!r} {where} must be the last one: the "
                        "segments after it could never match")
    elif not defaults and cfg.other_name in names:
        problems.append(f"segment {cfg.other_name!r} {where} clashes with the automatic "
                        "catch-all: mark it default = true or rename it")
    for seg in segments:
        if seg.children:
            inner = f"{path}{cfg.separator}{seg.name}" if path else seg.name
            problems += _level_problems(seg.children, cfg, inner)
    return problems


def scheme_problems(cfg: SegmentsConfig) -> list[str]:
    """Every structural problem of a scheme's config (names, defaults, owners), all at once.

    Used by the config's own validation, so ``tierwise validate`` reports them.
    """
    problems = _level_problems(cfg.segment, cfg)
    if cfg.require_owner:
        for seg in cfg.segment:
            if not seg.owner:
                problems.append(f"segment {seg.name!r} has no owner (segments.require_owner is "
                                "true): name the manager answerable for its P&L")
        if cfg.segment and not any(s.default for s in cfg.segment) and not cfg.other_owner:
            problems.append("the automatic catch-all has no owner: set segments.other_owner or "
                            "add a default segment with an owner")
    return problems

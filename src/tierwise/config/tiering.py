"""The pyramid, the scorecard and key accounts: ``[pyramid]``, ``[scorecard]``, ``[key_accounts]``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ._base import _Section, _known_keys


# ---- pyramid, scorecard, key accounts ----
#: The DOMAIN rule: at most 8 clearly defined criteria keep a scorecard explainable.
SCORECARD_MAX_CRITERIA = 8
#: The DOMAIN rule: key-account seats by company stage (a young company names fewer than 6).
KEY_ACCOUNT_CAPS: dict[str, int] = {"mature": 30, "young": 5}
#: The four pyramid levels, top to bottom; customers not graded are ``new`` or ``prospect``.
PYRAMID_LEVELS = ("key", "major", "ordinary", "long_tail")
PYRAMID_TIERS = (*PYRAMID_LEVELS, "new", "prospect")
KEY_ACCOUNT_TYPES = ("strategic", "core")
_WEIGHT_TOLERANCE = 1e-6


def criteria_problems(criteria: list[Any]) -> list[str]:
    """The list-level problems of scorecard criteria (count, unique names, weights summing to 1).

    Used by the config validators and by :class:`tierwise.tiering.Scorecard`, so a scorecard built
    in Python fails with the same words as one read from ``tierwise.toml``.
    """
    problems: list[str] = []
    names = [c.name for c in criteria]
    if not criteria:
        problems.append("a scorecard needs at least one criterion")
    if len(criteria) > SCORECARD_MAX_CRITERIA:
        problems.append(
            f"{len(criteria)} criteria given ({', '.join(names)}); at most "
            f"{SCORECARD_MAX_CRITERIA} clearly defined criteria keep a scorecard explainable: "
            f"merge or drop {len(criteria) - SCORECARD_MAX_CRITERIA}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"criterion names must be unique; repeated: {', '.join(dupes)}")
    total = sum(c.weight for c in criteria)
    if criteria and abs(total - 1.0) > _WEIGHT_TOLERANCE:
        shown = ", ".join(f"{c.name}={c.weight:g}" for c in criteria)
        problems.append(f"criterion weights must sum to 1 (got {total:.6g}: {shown})")
    return problems


class CriterionConfig(_Section):
    """One criterion of a weighted scorecard: a column, how it is normalised to 0-100, a weight."""

    name: str = Field(..., pattern=r"^\w+$",
                      description="short name (letters, digits, _); its contribution column is "
                                  "score_<name>")
    source: str = Field(..., min_length=1, description="the column holding the raw value")
    normalise: Literal["percentile", "minmax", "mapping"] = Field(
        "percentile", description="percentile rank, min-max scaling, or a mapping table")
    direction: Literal["higher_better", "lower_better"] = Field(
        "higher_better", description="lower_better turns the normalised value x into 100 - x")
    weight: float = Field(..., gt=0, le=1, description="share of the score; weights sum to 1")
    mapping: dict[str, float] | None = Field(
        None, description="normalise = 'mapping': category -> 0-100, e.g. {AAA = 100, B = 20}")
    bounds: tuple[float, float] | None = Field(
        None, description="minmax: fixed [low, high] (e.g. [1, 5] for a 1-5 rating) instead of "
                          "the fit period's min and max")
    optional: bool = Field(
        False, description="drop the criterion (rescaling the other weights) when its column is "
                           "absent or empty, instead of failing")

    @model_validator(mode="after")
    def _consistent(self) -> CriterionConfig:
        if self.name == "flags":
            raise ValueError("'flags' is reserved (score_flags holds the missing-value flags)")
        if (self.normalise == "mapping") != (self.mapping is not None):
            raise ValueError("give 'mapping' exactly when normalise = 'mapping'")
        bad = {k: v for k, v in (self.mapping or {}).items() if not 0 <= v <= 100}
        if bad:
            raise ValueError(f"mapping values must lie in 0-100 (got {bad})")
        if self.bounds is not None and not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"bounds must be [low, high] with low < high (got {list(self.bounds)})")
        return self


def _check_criteria(criteria: list[CriterionConfig]) -> list[CriterionConfig]:
    problems = criteria_problems(criteria)
    if problems:
        raise ValueError("; ".join(problems))
    return criteria


def _default_scorecard_criteria() -> list[CriterionConfig]:
    return [
        CriterionConfig(name="revenue", source="total_amount", weight=0.5),
        CriterionConfig(name="frequency", source="frequency", weight=0.3),
        CriterionConfig(name="recency", source="days_since_last", direction="lower_better",
                        weight=0.2),
    ]


CREDIT_RATING_MAPPING: dict[str, float] = {
    "AAA": 100, "AA": 84, "A": 68, "BBB": 52, "BB": 36, "B": 20}


class ScorecardConfig(_Section):
    """The weighted scorecard (``[scorecard]``): at most 8 criteria, weights summing to 1.

    Also the score behind the pyramid's ``scorecard`` method. The default uses columns every
    feature frame has; a B2B scorecard adds e.g. ``credit_rating`` (mapping) and 1-5 ratings.
    """

    criteria: list[CriterionConfig] = Field(
        default_factory=_default_scorecard_criteria,
        description="the criteria ([[scorecard.criteria]] tables), at most 8")

    @field_validator("criteria")
    @classmethod
    def _criteria_ok(cls, value: list[CriterionConfig]) -> list[CriterionConfig]:
        return _check_criteria(value)


class HysteresisConfig(_Section):
    """Hysteresis of the pyramid (``[pyramid.hysteresis]``): a level changes only past a margin."""

    margin: float = Field(
        0.0, ge=0, description="how far past a cut a customer must go to change level; "
                               "0 = no hysteresis")
    unit: Literal["relative", "percentile_points"] = Field(
        "relative", description="relative: a share of the cut value (0.1 = 10 %); "
                                "percentile_points: points of the fit period's distribution")


class ServicePolicyConfig(_Section):
    """One tier's service policy; a key left unset keeps the built-in text."""

    benefits_en: str | None = Field(None, description="benefits, in English")
    benefits_zh: str | None = Field(None, description="benefits, in Chinese")
    response_time_en: str | None = Field(None, description="response time, in English")
    response_time_zh: str | None = Field(None, description="response time, in Chinese")
    dedicated_manager: bool | None = Field(None, description="a dedicated account manager or not")
    payment_terms_en: str | None = Field(None, description="payment terms, in English")
    payment_terms_zh: str | None = Field(None, description="payment terms, in Chinese")


class PyramidConfig(_Section):
    """The customer pyramid 客户金字塔 (``[pyramid]``): key / major / ordinary / long-tail.

    Cuts are fitted on one period and applied to the next; see docs/tiering.md.
    """

    method: str = Field(
        "customer_share", description="customer_share, value_share, thresholds, scorecard, or a "
                                      "method registered with register_pyramid_method")
    ranking: str | None = Field(
        None, description="numeric column that ranks customers; default clv_predicted when "
                          "present, else total_amount")
    min_purchases: int = Field(
        2, ge=1, description="purchases (frequency + 1) needed to be graded; fewer: new, "
                             "none: prospect")
    customer_shares: list[float] = Field(
        default_factory=lambda: [5.0, 15.0, 30.0, 50.0],
        description="customer_share: % of graded customers in key, major, ordinary, long_tail "
                    "(sum 100)")
    value_shares: list[float] = Field(
        default_factory=lambda: [50.0, 80.0, 95.0, 100.0],
        description="value_share: cumulative % of value made by key, +major, +ordinary, +long_tail")
    thresholds: list[float] = Field(
        default_factory=lambda: [500_000.0, 100_000.0, 10_000.0],
        description="thresholds: lowest ranking value of key, major, ordinary")
    score_cuts: list[float] = Field(
        default_factory=lambda: [80.0, 60.0, 40.0],
        description="scorecard: lowest score (0-100) of key, major, ordinary")
    ties: Literal["higher", "lower"] = Field(
        "higher", description="a tie group straddling a relative cut goes to the higher or the "
                              "lower level")
    null_ranking: Literal["lowest", "exclude"] = Field(
        "lowest", description="graded customers without a ranking value: long_tail, or no tier")
    hysteresis: HysteresisConfig = Field(default_factory=HysteresisConfig)
    policies: dict[str, ServicePolicyConfig] = Field(
        default_factory=dict,
        description="per-tier changes to the built-in service policies "
                    "(tierwise.tiering.policies), e.g. [pyramid.policies.key]")

    @field_validator("policies")
    @classmethod
    def _policy_tiers(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _known_keys(value, PYRAMID_TIERS, "tiers")

    @model_validator(mode="after")
    def _cuts(self) -> PyramidConfig:
        problems = _pyramid_cut_problems(self)
        if problems:
            raise ValueError("\n    ".join(problems))
        return self


def _descending(values: list[float]) -> bool:
    return all(a >= b for a, b in zip(values, values[1:]))


def _pyramid_cut_problems(cfg: PyramidConfig) -> list[str]:
    problems = []
    shares, cum = cfg.customer_shares, cfg.value_shares
    if len(shares) != 4 or min(shares) < 0 or abs(sum(shares) - 100) > _WEIGHT_TOLERANCE:
        problems.append(f"customer_shares needs 4 shares >= 0 summing to 100 (got {shares})")
    if (len(cum) != 4 or cum[0] <= 0 or abs(cum[-1] - 100) > _WEIGHT_TOLERANCE
            or any(a >= b for a, b in zip(cum, cum[1:]))):
        problems.append(f"value_shares needs 4 increasing cumulative % ending at 100 (got {cum})")
    if len(cfg.thresholds) != 3 or not _descending(cfg.thresholds):
        problems.append(f"thresholds needs 3 values, key >= major >= ordinary "
                        f"(got {cfg.thresholds})")
    cuts = cfg.score_cuts
    if len(cuts) != 3 or not _descending(cuts) or not all(0 <= c <= 100 for c in cuts):
        problems.append(f"score_cuts needs 3 scores in 0-100, key >= major >= ordinary "
                        f"(got {cuts})")
    return problems


class GateConfig(_Section):
    """A gate of the key-account selection: a customer matching it is excluded (never eval'd)."""

    column: str = Field(..., min_length=1, description="the column tested")
    op: Literal["<", "<=", ">", ">=", "==", "!=", "in", "not in"] = Field(
        ..., description="comparison; the customer is excluded when 'column op value' holds")
    value: float | str | list[float | str] = Field(
        ..., description="the value compared with (a list for 'in' / 'not in')")
    if_null: Literal["exclude", "pass"] = Field(
        "exclude", description="customers with no value in the column: excluded or let through")
    if_column_absent: Literal["error", "skip"] = Field(
        "error", description="the column is not in the data: a config error, or skip the gate "
                             "(reported)")

    @model_validator(mode="after")
    def _list_for_membership(self) -> GateConfig:
        if (self.op in ("in", "not in")) != isinstance(self.value, list):
            raise ValueError(f"op '{self.op}' needs "
                             + ("a list value" if self.op in ("in", "not in") else "one value"))
        if self.op in ("<", "<=", ">", ">=") and not isinstance(self.value, float | int):
            raise ValueError(f"op '{self.op}' compares numbers; got {self.value!r} (use == or "
                             "in for categories)")
        return self


class PricingGuidanceConfig(_Section):
    """Pricing guidance for one kind of key account; a key left unset keeps the built-in text."""

    en: str | None = Field(None, description="guidance in English")
    zh: str | None = Field(None, description="guidance in Chinese")


def _rating(name: str, weight: float) -> CriterionConfig:
    return CriterionConfig(name=name, source=name, normalise="minmax", bounds=(1.0, 5.0),
                           weight=weight, optional=True)


def _default_key_account_criteria() -> list[CriterionConfig]:
    return [
        CriterionConfig(name="revenue", source="total_amount", weight=0.25, optional=True),
        CriterionConfig(name="margin", source="margin_total", weight=0.20, optional=True),
        _rating("growth_potential", 0.20), _rating("strategic_fit", 0.15),
        _rating("market_position", 0.10), _rating("mutual_trust", 0.10),
    ]


def _default_gates() -> list[GateConfig]:
    return [GateConfig(column="growth_potential", op="<", value=3, if_column_absent="skip")]


class KeyAccountsConfig(_Section):
    """Key accounts 关键客户 (``[key_accounts]``): a selection matrix, gates, a cap, two kinds."""

    criteria: list[CriterionConfig] = Field(
        default_factory=_default_key_account_criteria,
        description="selection matrix ([[key_accounts.criteria]]); default: revenue, margin, "
                    "growth_potential, strategic_fit, market_position, mutual_trust (those present)")
    gates: list[GateConfig] = Field(
        default_factory=_default_gates,
        description="exclusions applied whatever the score; default: growth_potential < 3")
    company_stage: Literal["mature", "young"] = Field(
        "mature", description="mature: at most 30 key accounts; young: at most 5 (fewer than 6)")
    max_accounts: int | None = Field(
        None, ge=0, description="overrides the cap that company_stage sets")
    max_share: float = Field(
        0.10, gt=0, le=1, description="the cap is also at most this share of graded customers "
                                      "(at least 1), so a small base does not name 30 of 60")
    type_column: str = Field(
        "growth_potential", description="column that splits key accounts into strategic / core")
    strategic_min: float = Field(
        4.0, description="type_column at or above this: strategic; below or missing: core")
    pricing: dict[str, PricingGuidanceConfig] = Field(
        default_factory=dict,
        description="changes to the built-in pricing guidance per kind "
                    "(tierwise.tiering.policies), e.g. [key_accounts.pricing.strategic]")

    @field_validator("criteria")
    @classmethod
    def _criteria_ok(cls, value: list[CriterionConfig]) -> list[CriterionConfig]:
        return _check_criteria(value)

    @field_validator("pricing")
    @classmethod
    def _pricing_kinds(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _known_keys(value, KEY_ACCOUNT_TYPES, "key-account kinds")

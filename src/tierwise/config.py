"""The config file (``tierwise.toml``), modelled with pydantic.

Every default of tierwise lives here and only here. :func:`load_config` reads a file, validates it
and reports every problem at once in a :class:`~tierwise.errors.ConfigError`, each problem naming
the file, the key, the bad value and the fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError

CANONICAL_CUSTOMER_COLUMNS = (
    "customer_id", "name", "kind", "region", "city", "industry", "size", "age", "gender", "tags",
    "credit_rating", "account_manager", "phone", "email", "joined_at",
)
CANONICAL_ORDER_COLUMNS = (
    "order_id", "customer_id", "ordered_at", "amount", "cost", "margin", "channel", "agent",
    "store", "status", "quantity", "unit_price", "line_amount", "product_id", "product_name",
    "category",
)
#: Order columns that make a file line-level (one row per product line of an order).
LINE_COLUMNS = ("quantity", "unit_price", "line_amount", "product_id", "product_name", "category")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SourceConfig(_Section):
    """Where one input comes from: a file (``path``) or a database (``url`` + ``table``/``query``)."""

    path: Path | None = Field(None, description="CSV, .xlsx or .parquet file, relative to the config file")
    url: str | None = Field(None, description="database URL: postgresql://, mysql://, duckdb:///file.duckdb")
    table: str | None = Field(None, description="table to read from the database")
    query: str | None = Field(None, description="SELECT statement to read from the database")
    format: Literal["auto", "csv", "xlsx", "parquet"] = Field(
        "auto", description="file format; auto: from the file name's extension")
    encoding: str = Field("auto", description="auto | utf-8 | utf-8-sig | gbk | gb18030 | ...")
    sheet: str | int = Field(0, description="Excel sheet by name or 0-based index")
    delimiter: str | None = Field(None, description="CSV delimiter; detected when not set")
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="canonical name -> header in this file, e.g. customer_id = '会员卡号'",
    )

    @model_validator(mode="after")
    def _one_origin(self) -> SourceConfig:
        if (self.path is None) == (self.url is None):
            raise ValueError("give exactly one of 'path' (a file) or 'url' (a database)")
        if self.url is not None and (self.table is None) == (self.query is None):
            raise ValueError("with 'url', give exactly one of 'table' or 'query'")
        return self


class SourcesConfig(_Section):
    """The inputs: orders (required by ingest), customers and a survey (both optional)."""

    orders: SourceConfig | None = Field(
        None, description="orders: customer_id, ordered_at, amount (+ cost, channel, agent ...)")
    customers: SourceConfig | None = Field(
        None, description="customers: customer_id and attributes (name, account_manager ...)")
    survey: SourceConfig | None = Field(
        None, description="optional survey answers: customer_id, answered_at, score (CSAT 1-5 "
                          "or NPS 0-10), comment; read with the same [intake] rules as orders")


class IntakeConfig(_Section):
    """Rules applied to every input row at the door."""

    decimal: Literal[".", ","] = Field(".", description="decimal mark in amounts")
    date_format: str | None = Field(
        None, description="strftime format that settles day/month ambiguity, e.g. '%d/%m/%Y'")
    on_missing_customer: Literal["create", "reject"] = Field(
        "create", description="orders whose customer is not in the customers file")
    refund_statuses: list[str] = Field(
        default_factory=lambda: ["refunded", "refund", "returned", "已退款", "退款", "退货"],
        description="status values that mark a refund (case-insensitive)")
    cancel_prefixes: list[str] = Field(
        default_factory=lambda: ["C"],
        description="order id prefixes that mark a cancellation (a refund), e.g. 'C536379' in "
                    "the UCI Online Retail export; only read so when followed by a digit and "
                    "when fewer than half of the rows carry the prefix; [] turns it off")
    future_tolerance_days: int = Field(
        0, ge=0, description="allowed days after as_of and after the day of ingest")
    earliest_date: dt.date = Field(
        dt.date(1980, 1, 1), description="rows dated before this day are rejected (a typo such as "
                                         "1920 for 2020, or a placeholder date)")
    max_amount: float = Field(
        1e10, gt=0, description="amounts (and costs, margins) larger than this in absolute value "
                                "are rejected: no real order is that big, a typo or 1e308 is")
    rejects_dir: Path = Field(Path("rejects"), description="folder for rejects files")
    aliases: dict[str, list[str]] = Field(
        default_factory=dict, description="extra header aliases: canonical = ['header', ...]")


class StoreConfig(_Section):
    path: Path = Field(Path("tierwise.duckdb"), description="the DuckDB store file")


class EngineConfig(_Section):
    """Where per-customer features are computed."""

    backend: Literal["duckdb", "spark", "postgres", "mysql"] = Field(
        "duckdb", description="duckdb (embedded, default), spark, or a postgres / mysql warehouse")
    url: str | None = Field(
        None, description="spark master (e.g. 'local[2]') or warehouse URL (postgresql://, mysql://)")
    orders_table: str = Field("tierwise_orders", description="warehouse table holding the orders")
    push_orders: bool = Field(
        True, description="postgres / mysql: load the store's orders into orders_table before "
                          "each run (false: the table is kept up to date by you)")
    staging_dir: Path | None = Field(
        None, description="spark: folder the store's orders are exported to as Parquet; must be "
                          "readable by every executor on a cluster (default: a local temp folder)")
    results_table: str = Field("tierwise_features", description="warehouse table for results")


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
            from .models.segment_maps import validate_segment_map
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
    calibrate_likelihood: bool = Field(
        True, description="map the model's purchase likelihood to the share who bought in the "
                          "last horizon (the same model fitted one horizon back; docs/models.md)")


class ParetoConfig(_Section):
    """The 80/20 curve."""

    top: float = Field(0.2, gt=0, lt=1, description="share of top customers whose value share is reported")
    points: int = Field(100, ge=2, le=1000, description="points on the value-share curve")


# <models-sections>

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


def _known_keys(value: dict[str, Any], valid: tuple[str, ...], what: str) -> dict[str, Any]:
    unknown = sorted(set(value) - set(valid))
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; valid: {list(valid)}")
    return value


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


# <tiering-sections>

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


# <lifecycle-sections>

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
            from .segments.rules import parse_rule  # the rule language lives with the segments

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
        from .segments.schemes import scheme_problems  # one set of checks for config and code

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
    threshold: float = Field(0.5, gt=0, description="standard deviations from the population "
                             "mean before a profile word (high / low) is used")

    @field_validator("k_range")
    @classmethod
    def _k_range_ok(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if low < 2 or high < low:
            raise ValueError("k_range needs 2 <= low <= high, e.g. [2, 8]")
        return value


# <segments-sections>


class CampaignDefaultsConfig(_Section):
    """Win-back campaigns (``[campaigns]``): defaults that 'tierwise campaign create' flags override."""

    face_value: float | None = Field(
        None, ge=0, description="coupon face value per target customer; not set: give "
                                "--face-value to 'campaign create' (0 = a message without coupon)")
    message_unit_cost: float = Field(
        0.1, ge=0, description="cost of one message (SMS) sent, in the config's currency")
    gross_margin: float = Field(
        0.6, ge=0, le=1, description="gross margin on campaign revenue, as a share (60 % = 0.6)")
    control_share: float = Field(
        0.1, ge=0, lt=1, description="share of the audience held out at random as a control "
                                     "group (never contacted, never exported)")
    seed: int | None = Field(
        None, description="seed of the control-group draw; not set: the campaign's id, so "
                          "campaigns draw different control groups (the seed used is recorded)")
    cooldown_days: int = Field(
        30, ge=0, description="exclude customers contacted by another campaign fewer than this "
                              "many days before (or after) the new campaign's start")
    exclude_policies: list[str] = Field(
        default_factory=lambda: ["do_not_contact", "archive"],
        description="activity policies never contacted (customers unlikely to buy again)")
    exclude_states: list[str] = Field(
        default_factory=list,
        description="activity states never contacted, besides the policies (this used to be "
                    "['dead']; set it to keep excluding by state)")
    window_days: int = Field(
        30, ge=1, description="campaign window length when no end date is given (start: the day "
                              "after the snapshot's as-of date)")
    follow_up_months: int = Field(
        3, ge=1, le=24, description="months after the window in which reactivated customers are "
                                    "followed up")
    regular_min_visits: float = Field(
        1.0, gt=0, description="a reactivated customer is a regular with at least this many "
                               "visits in every follow-up month")
    min_group_size: int = Field(
        30, ge=2, description="target or control smaller than this: the lift is reported as "
                              "too small to tell")
    confidence: float = Field(
        0.95, gt=0, lt=1, description="confidence level of the lift intervals")

    @field_validator("exclude_policies")
    @classmethod
    def _known_policies(cls, value: list[str]) -> list[str]:
        from .lifecycle.policies import POLICY_CODES  # data module; imported late

        unknown = [s for s in value if s not in POLICY_CODES]
        if unknown:
            raise ValueError(f"unknown activity policy(ies) {unknown}; valid: "
                             f"{', '.join(POLICY_CODES)}")
        return value

    @field_validator("exclude_states")
    @classmethod
    def _known_states(cls, value: list[str]) -> list[str]:
        from .lifecycle.policies import ACTIVITY_STATES  # data module; imported late

        unknown = [s for s in value if s not in ACTIVITY_STATES]
        if unknown:
            raise ValueError(f"unknown activity state(s) {unknown}; valid: "
                             f"{', '.join(ACTIVITY_STATES)}")
        return value


# ---- the web dashboard (tierwise serve) ----
#: Who can sign in to the dashboard: admin sees everything, a segment owner the customers of the
#: segments they own, an account manager the customers assigned to them.
WEB_ROLES = ("admin", "owner", "manager")


class WebConfig(_Section):
    """The web dashboard and its API (``tierwise serve``): sign-in, privacy, the snapshot cache."""

    host: str = Field("127.0.0.1", description="address 'tierwise serve' listens on (--host "
                                               "overrides); 0.0.0.0 opens it to the network")
    port: int = Field(8000, ge=1, le=65535, description="port 'tierwise serve' listens on "
                                                        "(--port overrides)")
    full_phone_roles: list[str] = Field(
        default_factory=lambda: ["admin"],
        description="roles that see full phone numbers and e-mails; the others see them "
                    "masked (138****1234)")
    secret_key_file: Path | None = Field(
        None, description="file holding the key that signs sign-in cookies, created on first "
                          "serve (default: next to the store, <store file>.web-secret); the "
                          "TIERWISE_SECRET_KEY environment variable takes precedence")
    session_hours: float = Field(12.0, gt=0, description="a sign-in lasts this many hours")
    cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto", description="the Secure flag of cookies: auto = when the page is served over "
                            "https (behind a proxy listed in trusted_proxies: when it sends "
                            "X-Forwarded-Proto: https)")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks (10.0.0.0/8) of reverse proxies in front of the "
                    "server: only a request from one of them may say, in X-Forwarded-For and "
                    "X-Forwarded-Proto, whom and over what it forwards; from anyone else these "
                    "headers are ignored, so the sign-in limit counts the real address. Empty "
                    "(the default): no proxy is trusted")
    login_max_failures: int = Field(
        5, ge=1, description="failed sign-ins per user name and address before sign-in is "
                             "refused for a while (HTTP 429)")
    login_window_minutes: float = Field(
        5.0, gt=0, description="failed sign-ins count within this many minutes")
    min_password_length: int = Field(8, ge=1, description="shortest password 'tierwise users' "
                                                          "accepts")
    page_size: int = Field(50, ge=1, le=500, description="customers per page in the list")
    refresh_seconds: float = Field(
        2.0, gt=0, description="how often the server looks whether the store changed (a new "
                               "run, a new user) and copies what changed")
    cache_dir: Path | None = Field(
        None, description="folder of the server's private copy of the snapshots (default: a "
                          "temporary folder, removed when the server stops)")
    threads: int = Field(
        8, ge=1, le=256, description="requests that read the copy (older runs, overview, key "
                                     "accounts, campaigns) served at the same time, the others "
                                     "wait; queries run outside Python's lock, so about two to "
                                     "four per CPU core. Requests answered from memory do not "
                                     "use a thread")
    call_list_size: int = Field(
        30, ge=1, description="wake-up candidates on 'this week's calls', per signed-in person")

    @field_validator("full_phone_roles")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        unknown = [r for r in value if r not in WEB_ROLES]
        if unknown:
            raise ValueError(f"unknown role(s) {unknown}; valid: {', '.join(WEB_ROLES)}")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        import ipaddress

        bad = []
        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                bad.append(item)
        if bad:
            raise ValueError(f"not an IP address or network: {bad}; write e.g. '127.0.0.1' or "
                             "'10.0.0.0/8'")
        return [item.strip() for item in value]


# <web-sections>


class Config(_Section):
    """The whole ``tierwise.toml``."""

    name: str = Field("tierwise", description="a label for reports")
    currency: str = Field("CNY", description="ISO 4217 code used in reports")
    timezone: str = Field("Asia/Shanghai", description="IANA time zone of the business")
    as_of: dt.date | None = Field(None, description="as-of date; default: the last order date")
    period: Literal["month", "quarter"] = Field("month", description="snapshot period")
    language: Literal["auto", "zh", "en"] = Field(
        "auto", description="report language; auto: zh when the data has Chinese headers")
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    intake: IntakeConfig = Field(default_factory=IntakeConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    campaigns: CampaignDefaultsConfig = Field(default_factory=CampaignDefaultsConfig)
    rfm: RFMConfig = Field(default_factory=RFMConfig)
    value: ValueConfig = Field(default_factory=ValueConfig)
    pareto: ParetoConfig = Field(default_factory=ParetoConfig)
    # <models-fields>
    pyramid: PyramidConfig = Field(default_factory=PyramidConfig)
    scorecard: ScorecardConfig = Field(default_factory=ScorecardConfig)
    key_accounts: KeyAccountsConfig = Field(default_factory=KeyAccountsConfig)
    # <tiering-fields>
    activity: ActivityConfig = Field(default_factory=ActivityConfig)
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)
    attendance: AttendanceConfig = Field(default_factory=AttendanceConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    # <lifecycle-fields>
    segments: SegmentsConfig = Field(default_factory=SegmentsConfig)
    clustering: ClusteringConfig = Field(default_factory=ClusteringConfig)
    # <segments-fields>
    web: WebConfig = Field(default_factory=WebConfig)
    # <web-fields>

    # Set by load_config: the folder relative paths are resolved against, and the file itself.
    base_dir: Annotated[Path, Field(exclude=True)] = Path(".")
    config_file: Annotated[Path | None, Field(exclude=True)] = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone; use an IANA name such as 'Asia/Shanghai'") from None
        return value

    def resolve(self, path: Path | str) -> Path:
        """A path from the config, made absolute against the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def store_path(self) -> Path:
        return self.resolve(self.store.path)

    @property
    def rejects_dir(self) -> Path:
        return self.resolve(self.intake.rejects_dir)

    def config_hash(self) -> str:
        """A short, stable hash of the settings that change results (not of paths)."""
        data = self.model_dump(mode="json", exclude={"sources", "store", "language", "as_of",
                                                     "campaigns", "web"})
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if not str(p).startswith("function-")) or "(top level)"


def _describe(err: dict[str, Any]) -> str:
    key = _location(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return f"key '{key}' is not a tierwise setting (remove it or check its spelling)"
    if err["type"] == "missing":
        return f"key '{key}' is required"
    value = err.get("input")
    shown = "" if isinstance(value, dict) else f" (got {value!r})"
    return f"key '{key}'{shown}: {msg}"


def parse_config(data: dict[str, Any], *, source: str = "<config>", base_dir: Path | None = None
                 ) -> Config:
    """Validate a config mapping; raise one ConfigError listing every problem."""
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        problems = [f"{source}: {_describe(e)}" for e in exc.errors()]
        raise ConfigError(
            f"{source} has {len(problems)} problem(s):\n  " + "\n  ".join(problems),
            problems=problems,
        ) from None
    cfg.base_dir = (base_dir or Path(".")).resolve()
    return cfg


def load_config(path: Path | str) -> Config:
    """Read and validate ``tierwise.toml``.

    Raises
    ------
    ConfigError
        When the file is missing, is not valid TOML, or has invalid settings (all listed).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found",
                          "create one with 'tierwise init' or pass --config PATH")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text", "save the config file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}",
                          "check quotes and brackets on that line") from None
    cfg = parse_config(data, source=str(path), base_dir=path.resolve().parent)
    cfg.config_file = path.resolve()
    return cfg


__all__ = [
    "Config", "SourceConfig", "SourcesConfig", "IntakeConfig", "StoreConfig", "EngineConfig",
    "WebConfig", "WEB_ROLES",
    "load_config", "parse_config", "CANONICAL_CUSTOMER_COLUMNS", "CANONICAL_ORDER_COLUMNS",
    "LINE_COLUMNS",
]

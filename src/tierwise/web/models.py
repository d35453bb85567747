"""The shapes of the API's requests and answers, so ``/openapi.json`` describes every route.

Field names are the snapshot's column names (docs/outputs.md explains each); codes such as
``tier`` or ``activity_state`` come with their Chinese name in a ``*_zh`` field where the
snapshot has one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any, Literal, get_type_hints

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from ..campaigns.repository import Campaign
from ..config import PYRAMID_TIERS, WEB_ROLES
from ..lifecycle.policies import ACTIVITY_STATES

#: The store records times in UTC without a zone; answers say so (RFC 3339, with the offset).
UtcTime = Annotated[dt.datetime, AfterValidator(
    lambda v: v if v.tzinfo is not None else v.replace(tzinfo=dt.UTC))]
Text = str | None
Number = float | None
Count = int | None
Tier = Literal[PYRAMID_TIERS]  # type: ignore[valid-type]
State = Literal[ACTIVITY_STATES]  # type: ignore[valid-type]


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


# -- errors, sign-in -------------------------------------------------------------------------------
class ErrorDetail(_Out):
    code: str = Field(description="machine-readable: not_found, forbidden, sign_in_required, "
                                  "invalid_request, too_many_attempts, store_busy, internal_error")
    message: str = Field(description="what went wrong and what to do, for people")


class ErrorOut(_Out):
    error: ErrorDetail


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class MeOut(_Out):
    name: str
    role: Literal[WEB_ROLES]  # type: ignore[valid-type]
    segments: list[str] = Field(description="owners: the segments they own (empty: those whose "
                                            "segment_owner is their name)")
    manager: Text = Field(description="managers: the account_manager value of their customers")
    full_contacts: bool = Field(description="whether phone numbers and e-mails are shown in full")
    csrf_token: str = Field(description="send it as the X-CSRF-Token header with every POST")


class HealthOut(_Out):
    status: Literal["ok", "loading"]
    version: int = Field(description="bumps each time the server copies a changed store")


# -- runs -----------------------------------------------------------------------------------------
class RunOut(_Out):
    run_id: int
    period: str
    as_of: dt.date
    created_at: UtcTime
    engine: str
    n_customers: int
    language: Text
    previous_run: Count


class RunsOut(_Out):
    runs: list[RunOut]
    can_download_reports: bool


# -- overview -------------------------------------------------------------------------------------
class Figures(_Out):
    customers: int
    repeat_customers: int
    revenue: Number
    active_30d: int
    key_tier: int
    key_accounts: int
    dormant_or_worse: int = Field(description="customers whose state is dormant or after it "
                                              "(shock, dead, buried)")
    policy_maintain: int
    policy_wake_up: int
    policy_call: int
    policy_do_not_contact: int
    policy_archive: int
    clv_predicted_total: Number


class TierRow(_Out):
    tier: str
    tier_zh: Text
    customers: int
    value: Number = Field(description="the tier's net revenue (sum of total_amount), as in the "
                                      "report and `tierwise pyramid`")
    customer_share: Number
    value_share: Number


class StateRow(_Out):
    state: str
    state_zh: Text
    customers: int
    customer_share: Number
    policy: Text
    policy_zh: Text
    policy_en: Text
    actions_zh: Text
    actions_en: Text


class ParetoPoint(_Out):
    customer_share: float
    value_share: Number


class Pareto(_Out):
    top: float
    top_share: Number = Field(description="share of spend from the top `top` of customers")
    points: list[ParetoPoint]


class QualityRow(_Out):
    source: str
    kind: str
    rows_in: int
    accepted: int
    rejected: int
    ingested_at: UtcTime


class BacktestGroup(_Out):
    group: str = Field(description="the policy, state, tier, RFM segment or warning kind code")
    group_zh: Text = None
    group_en: Text = None
    customers: int
    bought_again: int
    bought_again_share: Number
    expected_share: Number = Field(None, description="the group's mean policy probability at "
                                   "the replay: the share the product expected to buy again")
    revenue: Number
    revenue_share: Number


class BacktestDecile(_Out):
    decile: int
    customers: int
    predicted: Number
    actual: Number
    gap: Number = Field(description="predicted - actual")


class BacktestOut(_Out):
    """Did last period's advice hold? The run's stored backtest (docs/lifecycle.md)."""

    status: Literal["ran", "skipped", "none"] = Field(
        description="ran; skipped (too little history, or switched off: see reason_*); none "
                    "(a run made before backtests were stored)")
    as_of: Text
    replay_as_of: Text = Field(description="the date the advice was replayed at")
    horizon_days: Count
    policy_floor: Number
    policy_basis: Text
    activity_mode: Text
    headline_en: Text
    headline_zh: Text
    reason_en: Text
    reason_zh: Text
    silenced_customers: Count
    silenced_share: Number = Field(description="share of those told do not contact / archive "
                                               "who bought again")
    policies_ordered: bool | None
    calibration_max_gap: Number
    policy_calibration_max_gap: Number
    groups: dict[str, list[BacktestGroup]] = Field(
        description="by dimension: all, activity_state, activity_policy, tier, rfm_segment, "
                    "warning")
    calibration: dict[str, list[BacktestDecile]] = Field(
        description="by probability: purchase_likelihood, policy_probability")


class OverviewOut(_Out):
    run: RunOut
    figures: Figures
    pyramid: list[TierRow]
    activity: list[StateRow]
    pareto: Pareto
    quality: list[QualityRow]
    backtest: BacktestOut | None = Field(
        description="the whole business's backtest; null for a viewer who sees only some "
                    "customers")
    retention: dict[str, Any] | None = Field(
        None, description="cohorts (first-purchase month x months since: customers, active, "
                          "share), the retention curve, and repeat-purchase and churn rates by "
                          "tier, segment and store (docs/retention.md); null for a viewer who "
                          "sees only some customers, or a run made before retention existed")


# -- customers ------------------------------------------------------------------------------------
class CustomerRow(_Out):
    customer_id: str
    name: Text
    phone: Text = Field(description="masked (138****1234) unless the role may see it in full")
    account_manager: Text
    tier: Text
    tier_zh: Text
    segment: Text
    segment_zh: Text
    activity_state: Text
    activity_state_zh: Text
    key_account: bool | None
    key_account_type: Text
    total_amount: Number
    clv_predicted: Number
    days_since_last: Count
    last_purchase: dt.date | None
    score: Number


class FilterOptions(_Out):
    tiers: list[str]
    segments: list[str]
    states: list[str]


class CustomersOut(_Out):
    run: RunOut
    total: int
    page: int
    page_size: int
    pages: int
    sort: str
    order: Literal["asc", "desc"]
    items: list[CustomerRow]
    options: FilterOptions


class Contribution(_Out):
    criterion: str
    points: Number


class CustomerOut(_Out):
    """One customer in one run: every column of the per-customer export."""

    customer_key: int
    customer_id: str
    name: Text
    phone: Text
    email: Text
    account_manager: Text
    created_from_orders: bool | None
    kind: Text
    region: Text
    city: Text
    industry: Text
    size: Text
    credit_rating: Text
    tags: Text
    joined_at: dt.date | None
    attributes: dict[str, Any]
    first_purchase: dt.date | None
    last_purchase: dt.date | None
    frequency: Count
    recency: Number
    T: Number
    n_orders: Count
    total_amount: Number
    mean_amount: Number
    monetary_value: Number
    refund_count: Count
    refund_amount: Number
    margin_total: Number
    contract_end: dt.date | None = Field(None, description="the soonest end of a contract in "
                                                           "force, not renewed")
    days_to_renewal: Count = None
    cost_to_serve: Number = Field(None, description="costs to serve in the P&L window")
    margin_after_cost: Number = Field(None, description="gross margin minus cost to serve")
    favourite_products: Text = Field(None, description="most often bought products (order lines)")
    cross_sell: Text = Field(None, description="up to 3 products the customer's tier commonly "
                                               "buys and they never bought, with the share of "
                                               "the tier's buyers buying each")
    distinct_products: Count = Field(None, description="distinct products bought (order lines)")
    distinct_categories: Count = Field(None, description="distinct categories bought")
    distinct_channels: Count = Field(None, description="distinct channels bought through")
    days_since_last: Count
    visits_30d: Count
    visits_b1: Count
    visits_b2: Count
    visits_b3: Count
    spend_b1: Number
    spend_b2: Number
    spend_b3: Number
    value_period: Number
    value_prev_period: Number
    value_same_period_ly: Number
    gap_mean: Number
    gap_median: Number
    rfm_r: Count
    rfm_f: Count
    rfm_m: Count
    rfm_score: Text
    rfm_segment: Text
    rfm_segment_zh: Text
    rfm_class_cn: Text
    rfm_class_en: Text
    rfm_ticket: Count
    problem_group: Text
    problem_group_zh: Text
    clv_historical: Number
    clv_historical_basis: Text
    p_alive: Number
    expected_purchases: Number
    purchase_likelihood: Number
    expected_spend: Number
    clv_predicted: Number
    clv_confidence: Text
    clv_method: Text
    activity_state: Text
    activity_state_zh: Text
    activity_policy: Text
    expected_gap_days: Number
    gaps_missed: Number
    policy_probability: Number
    policy_basis: Text
    policy_reason: Text
    policy_reason_zh: Text
    lifecycle_stage: Text
    early_decline: bool | None
    tier: Text
    tier_zh: Text
    tier_score: Number
    tier_reason: Text
    score: Number
    score_contributions: list[Contribution]
    key_account: bool | None
    key_account_type: Text
    key_account_score: Number
    key_account_rank: Count
    key_account_reason: Text
    key_account_contributions: list[Contribution]
    segment: Text
    segment_level1: Text
    segment_zh: Text
    segment_owner: Text
    playbook: Text
    cluster: Text
    cluster_profile: Text
    cluster_profile_zh: Text


class HistoryRow(_Out):
    run_id: int
    period: str
    as_of: dt.date
    tier: Text
    tier_zh: Text
    activity_state: Text
    activity_state_zh: Text
    segment: Text
    total_amount: Number
    clv_predicted: Number
    score: Number
    key_account: bool | None
    days_since_last: Count


class ServicePolicy(_Out):
    benefits: Text
    response_time: Text
    dedicated_manager: bool | None
    payment_terms: Text


class NextAction(_Out):
    playbook: Text = Field(description="the segment's playbook: offer / product / channel / "
                                       "message")
    segment_owner: Text
    activity_policy: Text = Field(description="the run's policy: maintain, wake_up, call, "
                                              "do_not_contact or archive")
    activity_policy_zh: Text
    activity_policy_en: Text
    actions_zh: Text
    actions_en: Text
    policy_reason: Text = Field(description="the figures behind the policy (English)")
    policy_reason_zh: Text
    policy_probability: Number = Field(description="P(any purchase in the policy horizon)")
    policy_basis: Text = Field(description="model or rhythm: where the probability comes from")
    service_policy: ServicePolicy | None


class BucketRow(_Out):
    bucket: int = Field(description="1: days 1-10 (上旬), 2: days 11-20 (中旬), 3: day 21 on (下旬)")
    visits: Count
    mean_spend: Number = Field(description="mean spend per visit in the bucket")


class Outlook(_Out):
    purchase_likelihood: Number = Field(description="P(at least one purchase in the next "
                                                    "purchase_horizon_days)")
    purchase_horizon_days: Count
    next_purchase_expected: dt.date | None = Field(
        description="last purchase + the customer's own expected gap (rounded to days)")
    behind_rhythm: bool | None = Field(description="the expected date is before the as-of date")
    rfm_class_cn: Text
    problem_group: Text
    cluster_profile: Text
    cluster_profile_zh: Text
    buckets: list[BucketRow] = Field(description="the as-of month's 10-day buckets")
    pricing_zh: Text = Field(description="a key account's pricing guidance (strategic / core)")
    pricing_en: Text


class CustomerDetailOut(_Out):
    run: RunOut
    customer: CustomerOut
    history: list[HistoryRow]
    next_action: NextAction
    outlook: Outlook | None = None
    #: The loyalty level and the spend missing, in sentences (empty without [loyalty] levels).
    loyalty: list[str] = []


# -- loyalty ----------------------------------------------------------------------------------------
class LoyaltyLevelRow(_Out):
    level: str
    level_name: str
    rank: int
    min_spend: float
    customers: int
    spend_window: float
    in_grace: int
    near_next: int


class LoyaltyNearRow(_Out):
    customer_id: str
    name: Text = None
    loyalty_level: str
    level_name: str
    loyalty_spend: float | None = None
    loyalty_next_level: str
    next_level_name: str
    loyalty_distance: float
    sentence: str


class RewardRow(_Out):
    reward: str
    reward_name: str
    months: list[str]
    pending: list[str]
    issued: int
    used: int
    cost: float
    revenue: float
    target_rate: float | None = None
    control_rate: float | None = None
    uplift: float | None = None
    uplift_low: float | None = None
    uplift_high: float | None = None
    incremental_profit: float | None = None
    status: str
    verdict: str


class LoyaltyOut(_Out):
    run: RunOut
    configured: bool
    window: str
    levels: list[LoyaltyLevelRow]
    near: list[LoyaltyNearRow]
    rewards: list[RewardRow]


# -- key accounts, calls, migration ---------------------------------------------------------------
class KeyAccountRow(_Out):
    customer_id: str
    name: Text
    account_manager: Text
    tier: Text
    tier_zh: Text
    segment: Text
    key_account_type: Text
    key_account_score: Number
    key_account_rank: Count
    key_account_reason: Text
    contributions: dict[str, Number]


class KeyAccountsOut(_Out):
    run: RunOut
    criteria: list[str]
    by_type: dict[str, int]
    items: list[KeyAccountRow]


class ProspectRow(_Out):
    customer_id: str
    name: Text = None
    origin: str = Field(description="lead (from [sources.leads]) or customer (a customer of the "
                                    "customers file without purchases)")
    grade: Text = Field(None, description="A-D from the prospect scorecard's score")
    score: Number = None
    contributions: dict[str, Number] = Field(description="points per criterion (they add up to "
                                                         "the score)")
    explained: str = Field(description="the points per criterion in words")
    score_flags: Text = None
    captured_at: Text = None
    days_open: Number = None
    account_manager: Text = None
    lead_source: Text = None
    fit: Number = None
    engagement: Number = None
    size: Text = None


class ConversionRow(_Out):
    customer_id: str
    name: Text = None
    grade: Text = None
    score: Number = None
    captured_at: Text = None
    first_order: Text = None
    days_to_convert: Number = None
    first_revenue: Number = None


class GradeCheckRow(_Out):
    grade: str
    leads: int
    converted: int
    conversion_rate: Number = None
    median_days_to_convert: Number = None
    mean_first_revenue: Number = None


class ProspectsOut(_Out):
    run: RunOut
    grade: Text = None
    criteria: list[dict[str, Any]]
    grade_cuts: list[float]
    open_by_grade: dict[str, int]
    items: list[ProspectRow]
    conversions: list[ConversionRow]
    check: list[GradeCheckRow]
# -- contracts and cost to serve (docs/contracts.md) -----------------------------------------------
class ContractRow(_Out):
    customer_id: str
    name: Text
    account_manager: Text
    tier: Text
    tier_zh: Text
    tier_en: Text
    key_account_type: Text
    key_account_type_zh: Text
    key_account_type_en: Text
    contract_id: str
    product: Text
    starts_at: dt.date
    ends_at: dt.date
    value: Number
    days_left: int = Field(description="days from the as-of date to the contract's end "
                                       "(negative once ended)")
    status: str = Field(description="due, overdue, active, upcoming, renewed or lapsed")
    status_zh: Text
    status_en: Text
    renewed_by: Text = Field(description="the follow-on contract, when renewed")
    due: dt.date | None = Field(description="when the renewal task is due (due, overdue)")


class RenewalRateRow(_Out):
    tier: str = Field(description="a tier, or 'all'")
    tier_zh: Text
    tier_en: Text
    ended: int
    renewed: int
    renewal_rate: Number
    ended_value: Number
    renewed_value: Number
    renewal_rate_value: Number


class ContractsPart(_Out):
    available: bool = Field(description="false when the run has no contracts")
    reminder_days: Count
    counts: dict[str, int] = Field(description="the viewer's contracts by status")
    items: list[ContractRow]
    rates: list[RenewalRateRow] = Field(description="whole business only (admins)")


class SegmentPnlRow(_Out):
    segment: Text = Field(description="None on the total row")
    segment_zh: Text = Field(description="the segment's Chinese name, when configured")
    total: bool
    segment_owner: Text
    customers: int
    revenue: Number
    gross_margin: Number
    gross_margin_rate: Number
    cost_visits: Number
    cost_discounts: Number
    cost_service: Number
    cost_logistics: Number
    cost_other: Number
    costs: Number
    contribution: Number
    contribution_rate: Number
    break_even_revenue: Number
    break_even_gap: Number
    status: Text = Field(description="below_break_even, near_break_even or above_break_even")
    status_zh: Text
    status_en: Text


class KeyAccountMarginRow(_Out):
    customer_id: str
    name: Text
    account_manager: Text
    key_account_type: Text
    key_account_type_zh: Text
    key_account_type_en: Text
    segment: Text
    revenue: Number
    gross_margin: Number
    cost_to_serve: Number
    margin_after_cost: Number
    margin_rate: Number
    floor: Number = Field(description="the least margin rate the pricing guidance allows")
    check: str = Field(description="below_guidance, near_break_even, ok or no_revenue")
    check_zh: Text
    check_en: Text


class PnlWindow(_Out):
    start: Text
    days: Count
    core_min_margin: Number
    strategic_min_margin: Number


class PnlPart(_Out):
    available: bool = Field(description="false when the run has no costs to serve")
    window: PnlWindow
    segments: list[SegmentPnlRow] = Field(description="whole business only (admins)")
    key_accounts: list[KeyAccountMarginRow]


class ContractsOut(_Out):
    run: RunOut
    contracts: ContractsPart
    pnl: PnlPart


class WarningRow(_Out):
    customer_id: str
    name: Text = None
    account_manager: Text = None
    tier: Text = None
    kind: Text = None
    kind_zh: Text = None
    severity: Text = None
    severity_zh: Text = None
    message_en: Text = None
    message_zh: Text = None
    purchase_likelihood: Number = None
    next_purchase_expected: dt.date | None = None
    rfm_class_cn: Text = None
    problem_group: Text = None
    favourite_products: Text = None
    cross_sell: Text = None


class CallRow(_Out):
    customer_id: str
    name: Text
    account_manager: Text
    tier: Text
    tier_zh: Text
    activity_state: Text
    activity_state_zh: Text
    clv_predicted: Number
    last_purchase: dt.date | None
    days_since_last: Count
    segment_owner: Text
    playbook: Text
    purchase_likelihood: Number = None
    next_purchase_expected: dt.date | None = None
    rfm_class_cn: Text = None
    problem_group: Text = None
    favourite_products: Text = None
    cross_sell: Text = None


class FeedbackFigure(_Out):
    key: str
    label: str
    value: float | int | str | None
    format: str


class FeedbackColumn(_Out):
    key: str
    header: str
    format: str = Field(description="currency, percent, integer, number, date, text or auto")


class FeedbackTable(_Out):
    key: str = Field(description="satisfaction, trend, counts, open, keywords")
    title: str
    columns: list[FeedbackColumn]
    rows: list[list[float | int | str | bool | None]]


class FeedbackOut(_Out):
    run: RunOut
    title: str
    intro: str
    message: Text = Field(description="set when the run has no survey answers or feedback")
    figures: list[FeedbackFigure]
    tables: list[FeedbackTable]


class CallsOut(_Out):
    run: RunOut
    warnings: list[WarningRow]
    wake_up: list[CallRow]
    purchase_horizon_days: Count = None


class MoveRow(_Out):
    movement: str
    movement_zh: Text
    movement_en: Text
    customers: int
    value_prev: Number
    value_curr: Number
    value_change: Number


class MigrationOut(_Out):
    from_run: RunOut
    to_run: RunOut
    by: str
    summary: list[MoveRow]
    rows: list[str] = Field(description="labels before (the matrix rows), then '(new)'")
    columns: list[str] = Field(description="labels now (the matrix columns), then '(gone)'")
    counts: list[list[int]]


# -- campaigns ------------------------------------------------------------------------------------
def _model_of(cls: type, name: str, **types: Any) -> type[_Out]:
    """An answer model with the fields of a library dataclass (``types``: a field's type in the
    API where it differs), so the API cannot restate the dataclass and drift from it."""
    hints = get_type_hints(cls)
    fields: dict[str, Any] = {f.name: (types.get(f.name, hints[f.name]), ...)
                              for f in dataclasses.fields(cls)}
    return create_model(name, __base__=_Out, __module__=__name__, **fields)


#: A stored campaign (:class:`tierwise.campaigns.Campaign`, field for field).
CampaignOut = _model_of(Campaign, "CampaignOut", created_at=UtcTime)


class CampaignsOut(_Out):
    campaigns: list[CampaignOut]  # type: ignore[valid-type]
    can_create: bool


class CampaignDetailOut(_Out):
    campaign: CampaignOut  # type: ignore[valid-type]
    evaluation: dict[str, Any] = Field(description="figures, lift against the control group and "
                                                   "follow-up, as 'tierwise campaign evaluate "
                                                   "--json' prints them")
    series: dict[str, Any] | None = Field(
        None, description="a campaign with follow-up steps: each step and the total (treated vs "
                          "control, uplift, incremental revenue, ROI), as 'tierwise campaign "
                          "evaluate --json' prints them under 'series'")


class CampaignIn(BaseModel):
    """A campaign from a filter over the latest run (or ``run_id``); empty fields: config."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=200)
    run_id: int | None = Field(None, ge=1, le=2**62)
    min_days_since_last: int | None = Field(None, ge=0, le=100_000)
    max_days_since_last: int | None = Field(None, ge=0, le=100_000)
    states: list[State] | None = Field(None, max_length=len(ACTIVITY_STATES))
    tiers: list[Tier] | None = Field(None, max_length=len(PYRAMID_TIERS))
    segments: list[str] | None = Field(None, max_length=100)
    where: str | None = Field(None, max_length=1000, description="a rule in the segment rule "
                                                                 "language")
    face_value: float | None = Field(None, ge=0, le=1e9)
    message_unit_cost: float | None = Field(None, ge=0, le=1e6)
    gross_margin: float | None = Field(None, ge=0, le=1)
    control_share: float | None = Field(None, ge=0, lt=1)
    message: str | None = Field(None, max_length=1000, description="message text merged per "
                                "target, e.g. '{name}您好' (campaigns.message; 'playbook': each "
                                "segment's playbook message)")


class TargetRow(_Out):
    customer_id: str
    name: Text
    phone: Text
    face_value: Number
    valid_from: dt.date | None
    valid_until: dt.date | None
    campaign: Text
    purchase_likelihood: Number = Field(None, description="P(a purchase in the run's purchase "
                                                          "horizon), from the campaign's run")
    next_purchase_expected: dt.date | None = Field(
        None, description="last purchase + the customer's own expected gap")
    message: Text = Field(None, description="the campaign's message text merged for this "
                                            "target (campaigns with a message only)")


class TargetsOut(_Out):
    campaign_id: int
    total: int
    items: list[TargetRow]


# -- tasks and outcomes -------------------------------------------------------------------------
Outcome = Literal["reached", "no_answer", "visited", "will_come_back", "lost_to_competitor",
                  "moved_away", "complaint", "other"]


class TaskOut(_Out):
    task_id: int
    customer_id: str
    name: Text
    phone: Text = Field(description="masked unless the role may see phone numbers in full")
    reason: str = Field(description="the reason's code (warning, call, visit, wake_up, "
                                    "birthday, joined, first_purchase, campaign_follow_up, "
                                    "prospect_followup, open_complaint, contract_renewal, "
                                    "follow_up, complaint, promise_unkept)")
    reason_args: dict[str, Any] | None = Field(description="the reason's figures")
    reason_text: str = Field(description="the reason in words, in the page's language")
    kind: str
    assignee: str
    assigned_by: str = Field(description="account_manager, segment_owner, store, region or "
                                         "default")
    due: dt.date
    priority: int = Field(description="1 high, 2 medium, 3 low")
    priority_name: str
    status: Literal["open", "done", "closed"]
    status_name: str
    as_of: dt.date
    run_id: int | None
    close_note: Text
    close_text: Text


class TasksOut(_Out):
    assignee: Text = Field(description="whose tasks these are (none: an admin sees everyone's)")
    total: int
    items: list[TaskOut]


class OutcomeIn(BaseModel):
    """What happened on a task; ``next_contact`` makes a follow-up task due that day."""

    model_config = ConfigDict(extra="forbid")
    outcome: Outcome  # type: ignore[valid-type]
    note: str | None = Field(None, max_length=2000)
    next_contact: dt.date | None = None


class OutcomeOut(_Out):
    outcome_id: int
    task_id: int
    customer_id: str
    outcome: str
    follow_up_task_id: int | None


class TimelineEvent(_Out):
    model_config = ConfigDict(extra="allow")
    date: Text
    kind: Literal["order", "refund", "snapshot", "task", "task_closed", "outcome", "campaign",
                  "redeemed"]
    text: str = Field(description="the event in words, in the page's language")


class TimelineOut(_Out):
    customer_id: str
    events: list[TimelineEvent]


# -- the selection matrix that learns from the best ------------------------------------------------
class SelectionOut(_Out):
    """The newest (or a chosen) selection-matrix proposal: evidence per criterion, the
    comparison of configured and proposed weights, and the accounts it lists (scoped to yours).
    ``proposal`` is null while there is none (learn one: ``tierwise key-accounts learn``)."""

    proposal: dict[str, Any] | None
    history: list[dict[str, Any]]
    can_decide: bool
    periods: list[str] = Field(default_factory=list)
    accounts: Count = None
    growers_count: Count = None
    left_out_new: Count = None
    top_share: Number = None
    no_signal: bool = False
    config_changed: bool = False
    config_hash_now: Text = None
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    comparison: list[dict[str, Any]] = Field(default_factory=list)
    growers: list[dict[str, Any]] = Field(default_factory=list)
    lookalikes: list[dict[str, Any]] = Field(default_factory=list)
    toml: Text = None

"""Tiering: the customer pyramid, the weighted scorecard and key accounts.

* :class:`Pyramid` grades customers into key / major / ordinary / long-tail (重要 / 主要 / 普通 /
  长尾客户); cuts are fitted on one period and applied to the next, with optional hysteresis.
* :class:`Scorecard` scores customers 0-100 on at most 8 weighted criteria and keeps each
  criterion's contribution.
* :func:`select_key_accounts` picks key accounts 关键客户 with a selection matrix, gates, a cap by
  company stage, manual overrides, and the strategic / core split with pricing guidance.
* :func:`learn_selection` proposes selection-matrix weights from the accounts that grew most
  (the key-account article: study the most successful relationships); proposals are kept and
  decided in :mod:`tierwise.tiering.selection_proposals`.
* Big-account analyses 大客户分析 (:mod:`tierwise.tiering.big_accounts`):
  :func:`key_account_review`, :func:`channel_contribution` and :func:`manager_performance`
  (growth, value, behaviour, channel/agent contribution, satisfaction, account managers).
* Prospects 潜在客户 (:mod:`tierwise.tiering.prospects`): customers without purchases and leads,
  graded A-D by their own scorecard (:func:`grade_prospects`), conversions and the check of the
  grades (:func:`prospect_tables`).
* :mod:`tierwise.tiering.growth`: :func:`fastest_growers` and :func:`closest_to_next_level`
  (who grows best, who is nearest the level above).

Every default lives in :mod:`tierwise.config` (``[pyramid]``, ``[scorecard]``, ``[key_accounts]``);
the service-policy and pricing texts in :mod:`tierwise.tiering.policies`. See docs/tiering.md
and docs/key_accounts.md.
"""

from __future__ import annotations

from ..config import (
    CREDIT_RATING_MAPPING,
    KEY_ACCOUNT_CAPS,
    PYRAMID_LEVELS,
    PYRAMID_TIERS,
    SCORECARD_MAX_CRITERIA,
    CriterionConfig,
    GateConfig,
    HysteresisConfig,
    KeyAccountsConfig,
    PyramidConfig,
    ScorecardConfig,
    ServicePolicyConfig,
)
from .big_accounts import (
    CONTRIBUTION_COLUMNS,
    MANAGER_COLUMNS,
    REVIEW_COLUMNS,
    SATISFACTION_COLUMNS,
    big_account_tables,
    channel_contribution,
    growth_pct,
    key_account_review,
    manager_performance,
    satisfaction,
    tier_movement,
)
from .growth import closest_to_next_level, fastest_growers, level_floors
from .key_accounts import (
    OVERRIDE_COLUMNS,
    KeyAccountReport,
    KeyAccountResult,
    pricing_guidance,
    pricing_table,
    select_key_accounts,
)
from .policies import KEY_ACCOUNT_TYPE_NAMES, PRICING_GUIDANCE, SERVICE_POLICIES, TIER_NAMES
from .pyramid import (
    Pyramid,
    PyramidMethod,
    edges_from_counts,
    get_pyramid_method,
    pyramid_methods,
    pyramid_summary,
    register_pyramid_method,
    service_policy,
    service_policy_table,
)
from .prospects import grade_prospects, prospect_tables
from .scorecard import Scorecard
from .selection_learning import CriterionEvidence, SelectionProposal, account_growth, learn_selection

__all__ = [
    "CONTRIBUTION_COLUMNS",
    "CREDIT_RATING_MAPPING",
    "KEY_ACCOUNT_CAPS",
    "KEY_ACCOUNT_TYPE_NAMES",
    "MANAGER_COLUMNS",
    "OVERRIDE_COLUMNS",
    "PRICING_GUIDANCE",
    "PYRAMID_LEVELS",
    "PYRAMID_TIERS",
    "REVIEW_COLUMNS",
    "SATISFACTION_COLUMNS",
    "SCORECARD_MAX_CRITERIA",
    "SERVICE_POLICIES",
    "TIER_NAMES",
    "CriterionConfig",
    "CriterionEvidence",
    "GateConfig",
    "HysteresisConfig",
    "KeyAccountReport",
    "KeyAccountResult",
    "KeyAccountsConfig",
    "Pyramid",
    "PyramidConfig",
    "PyramidMethod",
    "Scorecard",
    "SelectionProposal",
    "ScorecardConfig",
    "ServicePolicyConfig",
    "account_growth",
    "big_account_tables",
    "channel_contribution",
    "closest_to_next_level",
    "edges_from_counts",
    "fastest_growers",
    "get_pyramid_method",
    "grade_prospects",
    "growth_pct",
    "key_account_review",
    "learn_selection",
    "level_floors",
    "manager_performance",
    "pricing_guidance",
    "pricing_table",
    "prospect_tables",
    "pyramid_methods",
    "pyramid_summary",
    "register_pyramid_method",
    "satisfaction",
    "select_key_accounts",
    "service_policy",
    "service_policy_table",
    "tier_movement",
]

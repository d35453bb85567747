"""Activity states, lifecycle stages, the attendance sheet, migrations and early warnings.

* :func:`classify_activity`: normal / resting 休息 / dormant 休眠 / shock 休克 / dead 死亡 /
  buried 埋葬 by expected gaps missed (:class:`Rhythm`, each customer's own rhythm) or, where the
  regulars visit several times a month, by visits in the last 30 days (:func:`activity_mode`
  decides and says why), the B2B :func:`lifecycle_stage` and the ``early_decline`` flag.
* :func:`assign_policies`: maintain / wake up / do not contact / archive on the probability of a
  purchase; :func:`protect_accounts` and :func:`call_on_warnings`: key and major accounts get a
  call instead of silence.
* :func:`attendance_sheet`: the 客户考勤表, top customers' visits and spend per 10-day bucket.
* :func:`migration_matrix`: who moved up, down, in and out between two snapshots.
* :func:`early_warnings`: key and major accounts whose orders fell off or who went silent.
* :func:`cohort_table`, :func:`retention_table`: cohorts by first-purchase month and the
  repeat-purchase and churn rates by tier, segment and store (:mod:`.retention`);
* :func:`contract_status`, :func:`renewal_rates`: B2B contracts due for renewal and the renewal
  rate by tier (:mod:`.renewals`, docs/contracts.md).

Every threshold lives in :mod:`tierwise.config` (sections ``activity``, ``lifecycle``,
``attendance``, ``monitoring``); ``docs/lifecycle.md`` has a worked example of each method.
"""

from __future__ import annotations

from .advice import (
    SILENCED,
    assign_policies,
    call_on_warnings,
    policy_basis,
    protect_accounts,
)
from .attendance import attendance_sheet, attendance_table
from .migration import MOVEMENTS, Migration, migration_matrix
from .policies import (
    ACTIVITY_STATES,
    BUCKETS,
    DORMANT_OR_WORSE,
    LIFECYCLE_STAGES,
    POLICIES,
    POLICY_BASES,
    POLICY_CODES,
    SEVERITIES,
    STAGE_NAMES,
    STATE_POLICIES,
    TIER_ORDER,
    WAKE_UP_STATES,
    WARNING_KINDS,
    policy_row,
    state_policy,
    state_policy_table,
)
from .renewals import CONTRACT_STATUSES, contract_status, renewal_rates
from .retention import CHURNED_STATES, cohort_table, retention_table
from .rhythm import ModeChoice, Rhythm, choose_mode, rhythm_probability, rhythm_states
from .rhythm_curve import RhythmCurve, fit_rhythm_curve, rhythm_curve_sample
from .states import activity_mode, classify_activity, early_decline_flags, lifecycle_stage, window_visits
from .warnings import early_warnings, period_windows

__all__ = [
    "CONTRACT_STATUSES",
    "contract_status",
    "renewal_rates",
    "ACTIVITY_STATES",
    "CHURNED_STATES",
    "cohort_table",
    "retention_table",
    "DORMANT_OR_WORSE",
    "WAKE_UP_STATES",
    "ModeChoice",
    "POLICIES",
    "POLICY_BASES",
    "POLICY_CODES",
    "Rhythm",
    "RhythmCurve",
    "SILENCED",
    "fit_rhythm_curve",
    "rhythm_curve_sample",
    "activity_mode",
    "assign_policies",
    "call_on_warnings",
    "choose_mode",
    "policy_basis",
    "policy_row",
    "protect_accounts",
    "rhythm_probability",
    "rhythm_states",
    "BUCKETS",
    "LIFECYCLE_STAGES",
    "MOVEMENTS",
    "Migration",
    "SEVERITIES",
    "STAGE_NAMES",
    "STATE_POLICIES",
    "TIER_ORDER",
    "WARNING_KINDS",
    "attendance_sheet",
    "attendance_table",
    "classify_activity",
    "early_decline_flags",
    "early_warnings",
    "lifecycle_stage",
    "migration_matrix",
    "period_windows",
    "state_policy",
    "state_policy_table",
    "window_visits",
]

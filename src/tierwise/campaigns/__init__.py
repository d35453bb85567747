"""Win-back campaigns 沉睡会员唤醒: audience, control group, target list, results, evaluation.

* :func:`create_campaign` draws an audience from a snapshot (:class:`AudienceFilter`), leaves out
  who must not be contacted (dead customers, a cooldown after another campaign, another
  campaign's running control group), holds out a random control group (share and seed recorded)
  and stores the campaign with its frozen audience.
* :func:`export_targets` writes the target list (never the control group) for an SMS tool, phone
  numbers masked unless asked for.
* :func:`import_results` reads sends and redemptions with the intake rules of orders (rejects
  file, ``rows_in == accepted + rejected``); :func:`derive_redemptions` derives them from the
  orders in the campaign window instead.
* :func:`add_follow_up` adds a follow-up step for the targets who did not respond, with its own
  control group; :func:`evaluate_series` evaluates each step and the total
  (:mod:`tierwise.campaigns.steps`).
* :func:`evaluate_campaign` gives the article's figures (:func:`campaign_figures`, also usable as a
  calculator), the lift against the control group with confidence intervals
  (:func:`incremental_lift`) and the follow-up of reactivated customers
  (:func:`follow_up`, :func:`project_yearly_revenue`).

See ``docs/campaigns.md`` for the worked example.
"""

from .audience import (
    TargetsWritten,
    EXPORT_FORMATS,
    Audience,
    AudienceFilter,
    build_audience,
    campaign_settings,
    create_campaign,
    export_targets,
    find_exclusions,
    match_audience,
    pick_run,
    split_control,
    target_list,
)
from .evaluation import (
    CampaignFigures,
    Evaluation,
    FollowUp,
    GroupOutcome,
    Interval,
    Lift,
    RegularGroup,
    campaign_figures,
    evaluate_campaign,
    follow_up,
    group_outcomes,
    incremental_lift,
    month_blocks,
    newcombe_difference,
    parse_regulars,
    project_yearly_revenue,
    welch_difference,
    wilson_interval,
)
from .repository import Campaign, get_campaign, list_campaigns, members
from .steps import (
    SeriesEvaluation,
    StepOutcome,
    add_follow_up,
    evaluate_series,
    non_responders,
    responders,
)
from .results import ResultsImport, derive_redemptions, derived_redemptions, import_results

__all__ = [
    "EXPORT_FORMATS",
    "Audience",
    "AudienceFilter",
    "Campaign",
    "CampaignFigures",
    "Evaluation",
    "FollowUp",
    "GroupOutcome",
    "Interval",
    "Lift",
    "RegularGroup",
    "ResultsImport",
    "SeriesEvaluation",
    "TargetsWritten",
    "StepOutcome",
    "add_follow_up",
    "build_audience",
    "campaign_figures",
    "campaign_settings",
    "create_campaign",
    "derive_redemptions",
    "derived_redemptions",
    "evaluate_campaign",
    "evaluate_series",
    "export_targets",
    "find_exclusions",
    "follow_up",
    "get_campaign",
    "group_outcomes",
    "import_results",
    "incremental_lift",
    "list_campaigns",
    "match_audience",
    "members",
    "month_blocks",
    "newcombe_difference",
    "non_responders",
    "responders",
    "parse_regulars",
    "pick_run",
    "project_yearly_revenue",
    "split_control",
    "target_list",
    "welch_difference",
    "wilson_interval",
]

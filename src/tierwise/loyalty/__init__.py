"""Loyalty levels customers climb, and rewards issued by rule (``[loyalty]``).

* :mod:`.levels`: each customer's level, the next one and the spend missing in the current
  window, upgrades at once and downgrades after a grace period, from the orders alone; the run
  stores them in the snapshot (``loyalty_*`` columns) and the ``loyalty_levels`` table.
* :mod:`.rewards`: rewards by rule (one big order, cumulative spend) kept as campaign records
  (``meta.kind = "reward"``) with their cost and a hashed control group, evaluated with the
  campaign evaluation.
* :mod:`.view`: the one read model the CLI, the report and the web show.
* :mod:`.words`: level names and sentences in Chinese and English.

See ``docs/loyalty.md`` for the worked example on the demo restaurant.
"""

from .levels import (
    LOYALTY_COLUMNS,
    compute_levels,
    level_counts,
    near_next,
    window_spend,
    window_start,
)
from .rewards import (
    REWARD_KIND,
    Issued,
    RewardEffect,
    in_control,
    issue_rewards,
    qualifying,
    reward_campaigns,
    reward_effects,
)
from .words import level_name, level_sentences, run_loyalty

__all__ = [
    "LOYALTY_COLUMNS",
    "REWARD_KIND",
    "Issued",
    "RewardEffect",
    "compute_levels",
    "in_control",
    "issue_rewards",
    "level_counts",
    "level_name",
    "level_sentences",
    "near_next",
    "qualifying",
    "reward_campaigns",
    "reward_effects",
    "run_loyalty",
    "window_spend",
    "window_start",
]

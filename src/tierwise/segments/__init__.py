"""Customer segments: exclusive rule-based schemes with owners and playbooks, and behavioural
clusters described in words.

* :func:`parse_rule` reads a rule such as ``region in ["华东", "华南"] and total_amount >= 5000``
  (a safe expression language, never ``eval``) into a :class:`Rule`.
* :class:`Scheme` puts every customer in exactly one segment (first match wins, a default catches
  the rest, nested schemes refine a segment); :func:`segment_pnl` gives each segment's P&L.
* :class:`BehaviourClusters` clusters customers on standardised log behaviour features, picks k by
  silhouette and describes each cluster in Chinese and English.
"""

from .clustering import BehaviourClusters, describe_profile
from .rules import Rule, column_kind, parse_rule
from .cost_to_serve import key_account_margins, segment_cost_pnl
from .schemes import Playbook, Scheme, Segment, SegmentNode, assign_segments, segment_pnl

__all__ = [
    "key_account_margins",
    "segment_cost_pnl",
    "BehaviourClusters",
    "Playbook",
    "Rule",
    "Scheme",
    "Segment",
    "SegmentNode",
    "assign_segments",
    "column_kind",
    "describe_profile",
    "parse_rule",
    "segment_pnl",
]

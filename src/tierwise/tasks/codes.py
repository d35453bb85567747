"""The codes of the people loop, as data: task reasons, outcomes, priorities, closing notes.

Tasks and outcomes are stored as these codes (and their figures); the words are in the one
catalogue (:mod:`tierwise.i18n.task_words`), worded at display time by :mod:`.words`.
"""

from __future__ import annotations

#: Reasons a run derives from its advice; an open task of one of these that the run no longer
#: finds closes itself (``reason_gone``).
RUN_REASONS: tuple[str, ...] = ("warning", "call", "visit", "wake_up", "birthday", "joined",
                                "first_purchase", "campaign_follow_up", "prospect_followup",
                                "open_complaint", "contract_renewal")
#: Reasons that come from recorded outcomes: they stay open until someone records what happened.
OUTCOME_REASONS: tuple[str, ...] = ("follow_up", "complaint", "promise_unkept")
#: Every task reason.
REASONS: tuple[str, ...] = RUN_REASONS + OUTCOME_REASONS
#: Occasions to call on: a birthday, the anniversary of joining, of the first purchase.
OCCASIONS: tuple[str, ...] = ("birthday", "joined", "first_purchase")

#: What staff record when a task is done.
OUTCOMES: tuple[str, ...] = ("reached", "no_answer", "visited", "will_come_back",
                             "lost_to_competitor", "moved_away", "complaint", "other")
#: Outcomes that archive the customer in the next run (unless they buy again).
ARCHIVING: tuple[str, ...] = ("lost_to_competitor", "moved_away")
#: Outcomes that mean the customer was really contacted (the backtest's "contacted").
CONTACTED: tuple[str, ...] = ("reached", "visited", "will_come_back", "lost_to_competitor",
                              "moved_away", "complaint")

#: Priorities, most urgent first.
PRIORITIES: tuple[int, ...] = (1, 2, 3)
STATUSES: tuple[str, ...] = ("open", "done", "closed")
#: Why a task closed without an outcome.
CLOSE_NOTES: tuple[str, ...] = ("reason_gone", "archived", "done")
#: Where a task's assignee came from, first that applies.
ASSIGNED_BY: tuple[str, ...] = ("account_manager", "segment_owner", "store", "region", "default")

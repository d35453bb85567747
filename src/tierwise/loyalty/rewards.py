"""Rewards issued by rule, kept as campaign records so their effect can be told from chance.

A rule (``[[loyalty.reward]]``) names who earns a reward: one order of at least an amount (a
coupon after a meal of 2,000 or more) or cumulative net spend reaching an amount (once per
customer). The till gives the reward at once; tierwise decides, for each qualifying customer,
whether they are in the rule's **control group**: a seeded hash of the customer id (the same
customer is always in or out, so the till can ask without a list, and the choice can be
repeated from the config alone).

:func:`issue_rewards` keeps each rule's qualifying customers of a calendar month as one campaign
(``meta.kind = "reward"``): the recipients are its targets, the held-out customers its control
group, ``face_value`` is the reward's cost and the window is the ``window_days`` after the
month. The existing campaign evaluation (:func:`tierwise.campaigns.evaluate_campaign`) then
gives the cost, the return rate of each group and the lift; :func:`reward_effects` pools a
rule's months for a verdict with more customers behind it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..campaigns import repository as repo
from ..campaigns.evaluation import GroupOutcome, Lift, evaluate_campaign, group_outcomes, \
    incremental_lift
from ..config import CampaignDefaultsConfig, Config, LoyaltyConfig, LoyaltyRewardConfig
from ..errors import ConfigError, StoreError
from ..store import Store

REWARD_KIND = "reward"


def in_control(customer_ids: Any, share: float, seed: int) -> np.ndarray:
    """True for the customers the rule holds out: a seeded hash of the id below ``share``.

    The same id, share and seed always give the same answer, whatever else is in the data.

    Examples
    --------
    >>> in_control(["880001", "880002"], 0.0, seed=19).tolist()
    [False, False]
    """
    out = []
    for cid in np.asarray(customer_ids, dtype=object):
        digest = hashlib.sha256(f"{seed}:{cid}".encode()).digest()
        out.append(int.from_bytes(digest[:8], "big") / 2**64 < share)
    return np.array(out, dtype=bool)


def qualifying(store: Store, rule: LoyaltyRewardConfig, since: dt.date, until: dt.date
               ) -> pd.DataFrame:
    """The rule's qualifying events dated ``since`` .. ``until``: ``customer_key``,
    ``customer_id``, ``qualified_on`` (one row per customer and calendar month, the first)."""
    if rule.kind == "single_order":
        events = """
            SELECT customer_key, ordered_at AS qualified_on FROM orders
            WHERE NOT is_refund AND amount >= ? AND ordered_at BETWEEN ? AND ?"""
        params: list[Any] = [rule.min_amount, since, until]
    else:  # cumulative: the day the running net spend first reaches the amount
        events = """
            SELECT customer_key, min(ordered_at) AS qualified_on FROM (
                SELECT customer_key, ordered_at, sum(amount) OVER (
                    PARTITION BY customer_key ORDER BY ordered_at, order_id
                    ROWS UNBOUNDED PRECEDING) AS running
                FROM orders WHERE ordered_at <= ?)
            WHERE running >= ? GROUP BY customer_key"""
        params = [until, rule.min_amount]
    frame = store.con.execute(f"""
        SELECT e.customer_key, c.customer_id, min(e.qualified_on) AS qualified_on
        FROM ({events}) e JOIN customers c USING (customer_key)
        WHERE e.qualified_on BETWEEN ? AND ?
        GROUP BY e.customer_key, c.customer_id, date_trunc('month', e.qualified_on)
        ORDER BY qualified_on, customer_key""", [*params, since, until]).df()
    frame["qualified_on"] = pd.to_datetime(frame["qualified_on"]).dt.date
    return frame


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(start: dt.date) -> dt.date:
    return _month_start(start, -1) - dt.timedelta(days=1)


def reward_campaigns(store: Store) -> list[repo.Campaign]:
    """Every stored reward campaign (oldest first); none on a store without campaigns."""
    try:
        campaigns = repo.list_campaigns(store)
    except StoreError:  # a read-only store from before campaigns: no rewards
        return []
    return [c for c in campaigns if c.meta.get("kind") == REWARD_KIND]


@dataclass
class Issued:
    """What :func:`issue_rewards` did: campaigns created, and months already kept."""

    created: list[repo.Campaign] = field(default_factory=list)
    kept: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"created": [c.to_dict() for c in self.created], "kept": self.kept}


def issue_rewards(store: Store, cfg: Config, *, run: int | str = "latest",
                  as_of: dt.date | None = None) -> Issued:
    """Keep each rule's qualifying customers per month as a reward campaign (idempotent).

    Months are the ``reward_months`` complete calendar months up to the run's as-of date; a
    month already kept for a rule is left as it is (its control group and results stay).
    """
    if not cfg.loyalty.reward:
        raise ConfigError(f"{cfg.config_file or 'config'}: no [[loyalty.reward]] rule",
                          "add one, e.g. [[loyalty.reward]] code = 'big_meal' kind = "
                          "'single_order' min_amount = 2000 cost = 100 (see docs/loyalty.md)")
    info = store.run_info(run)
    as_of = as_of or pd.Timestamp(info["as_of"]).date()
    last = _month_start(as_of + dt.timedelta(days=1), 1)  # the last complete month
    since = _month_start(last, cfg.loyalty.reward_months - 1)
    done = {(c.meta.get("reward"), c.meta.get("month")) for c in reward_campaigns(store)}
    result = Issued()
    for rule in cfg.loyalty.reward:
        events = qualifying(store, rule, since, _month_end(last))
        months = pd.Series([_month_start(d) for d in events["qualified_on"]], dtype=object)
        for month in sorted(set(months)):
            if (rule.code, f"{month:%Y-%m}") in done:
                result.kept += 1
                continue
            members = events[(months == month).to_numpy()]
            result.created.append(_keep(store, cfg, rule, month, members, int(info["run_id"])))
    return result


def _keep(store: Store, cfg: Config, rule: LoyaltyRewardConfig, month: dt.date,
          members: pd.DataFrame, run_id: int) -> repo.Campaign:
    held_out = in_control(members["customer_id"], rule.control_share, rule.seed)
    frame = members.assign(group=np.where(held_out, "control", "target"))
    end = _month_end(month)
    campaign_id = repo.next_campaign_id(store)
    campaign = repo.Campaign(
        campaign_id=campaign_id, name=f"{rule.name} {month:%Y-%m}", created_at=repo.utc_now(),
        run_id=run_id, as_of=end, window_start=end + dt.timedelta(days=1),
        window_end=end + dt.timedelta(days=rule.window_days), face_value=rule.cost,
        message_unit_cost=0.0, gross_margin=cfg.campaigns.gross_margin,
        control_share=rule.control_share, seed=rule.seed, cooldown_days=0,
        audience={"reward": rule.code, "kind": rule.kind, "min_amount": rule.min_amount},
        n_matched=len(frame), n_excluded=0, n_target=int((~held_out).sum()),
        n_control=int(held_out.sum()),
        meta={"kind": REWARD_KIND, "reward": rule.code, "month": f"{month:%Y-%m}",
              "reward_kind": rule.kind, "min_amount": rule.min_amount,
              "filter": f"{rule.kind} >= {rule.min_amount:g} in {month:%Y-%m}"},
        series_id=campaign_id, step=1)
    exclusions = pd.DataFrame(columns=["customer_key", "customer_id", "rule", "reason"])
    repo.insert_campaign(store, campaign, frame, exclusions)
    return campaign


@dataclass
class RewardEffect:
    """One rule's months pooled: issued, used, cost, and the lift against its control group."""

    code: str
    months: list[str]
    issued: int
    used: int
    cost: float
    revenue: float
    lift: Lift
    #: Months kept whose window the orders do not cover yet (not pooled).
    pending: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"reward": self.code, "months": self.months, "pending": self.pending,
                "issued": self.issued,
                "used": self.used, "cost": round(self.cost, 2), "revenue": round(self.revenue, 2),
                "lift": self.lift.to_dict()}


def reward_effects(store: Store, loyalty: LoyaltyConfig,
                   settings: CampaignDefaultsConfig | None = None) -> list[RewardEffect]:
    """Per rule, its reward campaigns pooled: the return rate of recipients against the
    held-out customers in the windows after each month, and the cost of the rewards used."""
    settings = settings or CampaignDefaultsConfig()
    out = []
    for rule in loyalty.reward:
        kept = [c for c in reward_campaigns(store) if c.meta.get("reward") == rule.code]
        if not kept:
            continue
        last = repo.last_order_date(store)
        # a month whose window the orders do not cover yet would count its returns as none
        pending = [c for c in kept if last is None or last < c.window_end]
        kept = [c for c in kept if c not in pending]
        outcomes: dict[str, list[GroupOutcome]] = {"target": [], "control": []}
        used = cost = revenue = 0.0
        for c in kept:
            ev = evaluate_campaign(store, c.campaign_id, settings)
            used += ev.figures.used
            cost += ev.figures.total_cost
            revenue += ev.figures.revenue
            window = repo.member_orders(store, c.campaign_id, c.window_start, c.window_end)
            for group, outcome in group_outcomes(repo.members(store, c.campaign_id), window,
                                                 c.gross_margin).items():
                outcomes[group].append(outcome)
        pooled = {g: _pool(g, items) for g, items in outcomes.items()}
        if kept:
            lift = incremental_lift(pooled["target"], pooled["control"], campaign_cost=cost,
                                    confidence=settings.confidence,
                                    min_group_size=settings.min_group_size)
        else:
            lift = Lift(pooled["target"], pooled["control"], None, None, "no_orders",
                        f"The orders (to {last}) do not cover any month's window yet.")
        out.append(RewardEffect(rule.code, [str(c.meta.get("month")) for c in kept],
                                pooled["target"].customers, int(used), cost, revenue, lift,
                                [str(c.meta.get("month")) for c in pending]))
    return out


def _pool(group: str, items: list[GroupOutcome]) -> GroupOutcome:
    return GroupOutcome(group, sum(i.customers for i in items),
                        sum(i.reactivated for i in items), sum(i.revenue for i in items),
                        tuple(m for i in items for m in i.margins))


__all__ = ["REWARD_KIND", "Issued", "RewardEffect", "in_control", "issue_rewards", "qualifying",
           "reward_campaigns", "reward_effects"]

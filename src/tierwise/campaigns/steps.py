"""Follow-up steps of a win-back campaign: a second (and further) touch for who did not respond.

The seeds describe win-back as "a series of follow-up campaigns": an SMS with a coupon, and some
days later another touch for the members who did not come back. Here each step is a campaign of
its own in the store (its window, its frozen audience, its own random control group, its own
sends and redemptions, its own target list), tied to the first step by ``series_id``:

* **audience of step k+1** = the *targets* of step k who did not respond: no purchase (a refund
  is not one) in step k's window, the definition the evaluation of step k uses; or, asked for,
  those who did respond (optionally with one order of at least ``min_order``: the seeds give
  another coupon to members whose meal came to 2,000 or more). Step k's control
  group is never contacted, so it stays out of later steps (it is the control of the series).
  Customers contacted by *another* campaign within the cooldown, or held out as its control, are
  left out as when a campaign is created;
* **when**: ``after_days`` after step k's start, at the earliest the day after step k's window
  ends (who did not respond is known only then), and only once the store's orders reach that day;
* **control group** of each step: ``control_share`` of its audience drawn with
  :func:`~tierwise.campaigns.audience.split_control` and a recorded seed (default: the new step's
  id), exactly as for a first step.

:func:`evaluate_series` evaluates every step as a campaign of its own (treated = the step's
targets, control = the step's control group, both over the step's window) and the **total**:
treated = the first step's targets (every one got the first touch, and the follow-ups if they
did not respond), control = the first step's control group, over the whole span from the first
step's start to the last step's end; costs are the sum of the steps' costs.

For each step and the total: response rate treated vs control, uplift (the difference, with
Newcombe's interval), incremental revenue = (mean net revenue per treated customer - mean per
control customer) x treated customers, and ROI = (incremental revenue x gross margin - cost) /
cost, cost = coupon cost + message cost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..config import CampaignDefaultsConfig
from ..errors import ConfigError
from ..store import Store
from . import repository as repo
from .audience import _contact_exclusions, split_control
from .evaluation import (
    Evaluation,
    GroupOutcome,
    Lift,
    _money,
    evaluate_campaign,
    group_outcomes,
    incremental_lift,
)
from .repository import Campaign


def non_responders(store: Store, campaign: Campaign) -> pd.DataFrame:
    """Targets of ``campaign`` without a purchase in its window: ``customer_key``, ``customer_id``.

    A purchase is an order that is not a refund, dated within the window (both ends included):
    the same definition :func:`~tierwise.campaigns.evaluation.group_outcomes` uses.
    """
    targets = repo.members(store, campaign.campaign_id, "target")
    window = repo.member_orders(store, campaign.campaign_id, campaign.window_start,
                                campaign.window_end)
    buyers = set(window.loc[~window["is_refund"].astype(bool), "customer_key"])
    out = targets[~targets["customer_key"].isin(buyers)]
    return out[["customer_key", "customer_id"]].reset_index(drop=True)


def responders(store: Store, campaign: Campaign, min_order: float | None = None
               ) -> pd.DataFrame:
    """Targets of ``campaign`` with a purchase in its window (``customer_key``, ``customer_id``);
    with ``min_order``, only those with one order of at least that amount (the seeds' "another
    coupon for a meal over 2,000": 当餐消费2000元以上的客户又发放48元代金券)."""
    targets = repo.members(store, campaign.campaign_id, "target")
    window = repo.member_orders(store, campaign.campaign_id, campaign.window_start,
                                campaign.window_end)
    bought = window[~window["is_refund"].astype(bool)]
    if min_order is not None:
        bought = bought[bought["amount"] >= float(min_order)]
    out = targets[targets["customer_key"].isin(set(bought["customer_key"]))]
    return out[["customer_key", "customer_id"]].reset_index(drop=True)


def _step_window(last: Campaign, after_days: int | None, window_days: int | None
                 ) -> tuple[int, dt.date, dt.date]:
    length = (last.window_end - last.window_start).days + 1
    after = length if after_days is None else int(after_days)
    if after < length:
        raise ConfigError(
            f"a follow-up {after} days after step {last.step} (campaign {last.campaign_id}) would "
            f"start inside its window ({last.window_start} .. {last.window_end}), before anyone "
            "can be told a non-responder", f"use --after-days {length} or more")
    start = last.window_start + dt.timedelta(days=after)
    days = length if window_days is None else int(window_days)
    if days < 1:
        raise ConfigError(f"--window-days {days}: a step lasts at least one day",
                          "e.g. --window-days 14")
    return after, start, start + dt.timedelta(days=days - 1)


def add_follow_up(store: Store, campaign_id: int, settings: CampaignDefaultsConfig | None = None,
                  *, after_days: int | None = None, window_days: int | None = None,
                  name: str | None = None, face_value: float | None = None,
                  message_unit_cost: float | None = None, control_share: float | None = None,
                  seed: int | None = None, for_responders: bool = False,
                  min_order: float | None = None) -> Campaign:
    """Add the next step to the campaign ``campaign_id`` belongs to, for its non-responders
    (or, ``for_responders``, for the targets who bought, e.g. another coupon for big spenders).

    Parameters
    ----------
    store
        A store opened for writing.
    campaign_id
        Any step of the campaign; the new step follows its last step.
    settings
        ``[campaigns]`` settings: ``cooldown_days`` (other campaigns' contacts) is read here.
    after_days
        Days from the last step's start to the new step's start (default: the last step's
        window length, i.e. the day after its window ends); never fewer than that.
    window_days
        The new step's window length (default: the last step's).
    face_value, message_unit_cost, control_share, seed
        The new step's settings; not given: the last step's (the seed: the new step's id).
    for_responders, min_order
        Follow up the last step's targets who bought in its window instead of those who did
        not; with ``min_order``, only those with an order of at least that amount.

    Raises
    ------
    ConfigError
        When the step would start inside the last step's window, the store's orders do not yet
        cover that window, or nobody is left to contact.
    """
    settings = settings or CampaignDefaultsConfig()
    steps = repo.series(store, campaign_id)
    first, last = steps[0], steps[-1]
    after, start, end = _step_window(last, after_days, window_days)
    data_end = repo.last_order_date(store)
    if data_end is None or data_end < last.window_end:
        raise ConfigError(
            f"the orders in {store.path} end on {data_end or 'no date'}, before step {last.step}'s "
            f"window ends ({last.window_end}): who did not respond is not known yet",
            f"ingest the orders up to {last.window_end}, then add the follow-up")
    if min_order is not None and not for_responders:
        raise ConfigError(f"--min-order {min_order}: non-responders have no order in the window",
                          "add --responders to follow up those who bought")
    if min_order is not None and not min_order > 0:
        raise ConfigError(f"--min-order {min_order}: not an amount above 0", "e.g. 2000")
    if for_responders:
        audience = responders(store, last, min_order)
        audience_text = (f"step {last.step} targets (campaign {last.campaign_id}) with a purchase"
                         + (f" of at least {min_order:g}" if min_order is not None else "")
                         + f" in {last.window_start} .. {last.window_end}")
    else:
        audience = non_responders(store, last)
        audience_text = (f"step {last.step} targets (campaign {last.campaign_id}) without a "
                         f"purchase in {last.window_start} .. {last.window_end}")
    ids = {s.campaign_id for s in steps}
    contacts = repo.contact_history(store)
    contacts = contacts[~contacts["campaign_id"].isin(ids)]
    found = _contact_exclusions(audience, contacts, start, settings.cooldown_days) \
        if len(contacts) else []
    columns = ["customer_key", "customer_id", "rule", "reason"]
    excluded = pd.concat([f[columns] for f in found if len(f)] or
                         [pd.DataFrame(columns=columns)], ignore_index=True) \
        .drop_duplicates("customer_key").reset_index(drop=True)
    kept = audience[~audience["customer_key"].isin(excluded["customer_key"])] \
        .sort_values("customer_key").reset_index(drop=True)
    new_id = repo.next_campaign_id(store)
    share = last.control_share if control_share is None else float(control_share)
    if not 0 <= share < 1:
        raise ConfigError(f"--control-share {share}: not a share in [0, 1)", "e.g. 0.2")
    seed = new_id if seed is None else int(seed)
    kept["group"] = split_control(kept["customer_key"].to_numpy(), share, seed)
    n_target = int((kept["group"] == "target").sum())
    if n_target == 0:
        did = "bought" + (f" at least {min_order:g} in one order" if min_order is not None
                          else "") if for_responders else "did not respond"
        raise ConfigError(
            f"no one left for step {last.step + 1}: {len(audience)} of step {last.step}'s targets "
            f"{did}, {len(excluded)} excluded", "nothing to follow up")
    warnings = []
    if share > 0 and not (kept["group"] == "control").any():
        warnings.append("the control group is empty (audience too small for the control share): "
                        "the lift cannot be measured")
    step = Campaign(
        campaign_id=new_id, name=name or f"{first.name} · step {last.step + 1}",
        created_at=repo.utc_now(), run_id=first.run_id, as_of=first.as_of, window_start=start,
        window_end=end, face_value=last.face_value if face_value is None else float(face_value),
        message_unit_cost=last.message_unit_cost if message_unit_cost is None
        else float(message_unit_cost), gross_margin=last.gross_margin, control_share=share,
        seed=seed, cooldown_days=settings.cooldown_days, audience=first.audience,
        n_matched=len(audience), n_excluded=len(excluded), n_target=n_target,
        n_control=int((kept["group"] == "control").sum()),
        meta={"filter": audience_text,
              "follows": last.campaign_id, "exclude_states": [], "exclude_policies": [],
              "exclusions": excluded["rule"].value_counts().to_dict(), "warnings": warnings,
              **{k: last.meta[k] for k in ("message", "message_by_segment") if k in last.meta}},
        series_id=first.campaign_id, step=last.step + 1, after_days=after)
    repo.insert_campaign(store, step, kept, excluded)
    return step


# ---- evaluation -----------------------------------------------------------------------------

@dataclass(frozen=True)
class StepOutcome:
    """One step (or the total): treated vs control, uplift, incremental revenue, ROI."""

    label: str  # "1", "2", ... or "total"
    start: dt.date
    end: dt.date
    lift: Lift
    cost: float
    gross_margin: float
    campaign_id: int | None = None

    @property
    def incremental_revenue(self) -> float | None:
        t, c = self.lift.target, self.lift.control
        if not t.customers or not c.customers:
            return None
        return (t.revenue / t.customers - c.revenue / c.customers) * t.customers

    @property
    def incremental_profit(self) -> float | None:
        rev = self.incremental_revenue
        return None if rev is None else rev * self.gross_margin - self.cost

    @property
    def roi(self) -> float | None:
        """(incremental revenue x gross margin - cost) / cost."""
        profit = self.incremental_profit
        return None if profit is None or not self.cost else profit / self.cost

    def to_dict(self) -> dict[str, Any]:
        t, c = self.lift.target, self.lift.control
        up = self.lift.reactivation
        roi = self.roi
        return {"step": self.label, "campaign_id": self.campaign_id,
                "start": self.start.isoformat(), "end": self.end.isoformat(),
                "treated": t.customers, "treated_responded": t.reactivated,
                "treated_rate": None if t.reactivation_rate is None
                else round(t.reactivation_rate, 4),
                "control": c.customers, "control_responded": c.reactivated,
                "control_rate": None if c.reactivation_rate is None
                else round(c.reactivation_rate, 4),
                "uplift": None if up is None else up.to_dict(), "status": self.lift.status,
                "message": self.lift.message,
                "treated_revenue": _money(t.revenue), "control_revenue": _money(c.revenue),
                "incremental_revenue": _money(self.incremental_revenue),
                "cost": _money(self.cost), "incremental_profit": _money(self.incremental_profit),
                "roi": None if roi is None else round(roi, 2)}


@dataclass
class SeriesEvaluation:
    """Every step of a campaign and the total (see the module docstring)."""

    campaigns: list[Campaign]
    steps: list[StepOutcome]
    total: StepOutcome
    evaluations: list[Evaluation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"series_id": self.campaigns[0].campaign_id,
                "steps": [s.to_dict() for s in self.steps], "total": self.total.to_dict(),
                "cost_basis": "coupon cost + message cost",
                "roi_formula": "(incremental revenue x gross margin - cost) / cost",
                "warnings": list(self.warnings)}


def _outcome(label: str, start: dt.date, end: dt.date, lift: Lift, cost: float,
             margin: float, campaign_id: int | None) -> StepOutcome:
    return StepOutcome(label, start, end, lift, cost, margin, campaign_id)


def evaluate_series(store: Store, campaign_id: int,
                    settings: CampaignDefaultsConfig | None = None) -> SeriesEvaluation:
    """Evaluate each step of the campaign ``campaign_id`` belongs to, and the whole series."""
    settings = settings or CampaignDefaultsConfig()
    steps = repo.series(store, campaign_id)
    outcomes, evaluations, warnings = [], [], []
    for camp in steps:
        ev = evaluate_campaign(store, camp.campaign_id, settings)
        evaluations.append(ev)
        warnings += [f"step {camp.step}: {w}" for w in ev.warnings]
        outcomes.append(_outcome(str(camp.step), camp.window_start, camp.window_end, ev.lift,
                                 ev.figures.total_cost, camp.gross_margin, camp.campaign_id))
    first = steps[0]
    start, end = first.window_start, max(s.window_end for s in steps)
    window = repo.member_orders(store, first.campaign_id, start, end)
    groups: dict[str, GroupOutcome] = group_outcomes(repo.members(store, first.campaign_id),
                                                     window, first.gross_margin)
    cost = sum(o.cost for o in outcomes)
    lift = incremental_lift(groups["target"], groups["control"], campaign_cost=cost,
                            confidence=settings.confidence, min_group_size=settings.min_group_size)
    last = repo.last_order_date(store)
    if last is None or last < end:
        warnings.append(f"orders in the store end on {last or 'no date'}, before the last step's "
                        f"end {end}: the total is partial")
    total = _outcome("total", start, end, lift, cost, first.gross_margin, None)
    return SeriesEvaluation(steps, outcomes, total, evaluations, warnings)


__all__ = ["SeriesEvaluation", "StepOutcome", "add_follow_up", "evaluate_series",
           "non_responders", "responders"]

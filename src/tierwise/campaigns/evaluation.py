"""What a win-back campaign earned: the article's figures, the lift against the control group,
and the follow-up of reactivated customers.

**Figures** (:func:`campaign_figures`, the seeds' worked example: 3,260 coupons of 48 sent by SMS
at 0.10 each, 752 used, 193,642 spent by the users, gross margin 60 %):

* redemption rate = used / issued = 752 / 3,260 = 23.1 %
* coupon cost = used x face value = 36,096; message cost = sent x unit cost = 326
* gross profit = revenue x margin - coupon cost - message cost = 79,763.2 (the article prints
  79,793: an arithmetic slip)
* return on cost = gross profit / (coupon cost + message cost) = 2.19; the article's "1:245"
  divides by the message cost alone, and is reported as such (``return_on_message_cost``).

**Incremental lift** (:func:`incremental_lift`): the users of a coupon include customers who would
have come back anyway. The control group, drawn at random and never contacted, shows how many.
Reactivation rate (a purchase in the window) and margin per customer are compared between target
and control, each difference with a confidence interval: Newcombe's hybrid score interval
(method 10, from two Wilson intervals) for the difference of proportions, and Welch's t interval
for the difference of means. Groups smaller than ``min_group_size`` are reported as too small to
tell.

**Follow-up** (:func:`follow_up`, :func:`project_yearly_revenue`): reactivated customers with at
least ``regular_min_visits`` visits in every one of the next N months are regulars; projected
yearly revenue = sum over groups of customers x mean spend x monthly visits x 12 (the article:
350 x 210 x 1 x 12 + 243 x 210 x 2 x 12 = 2,106,720).

References
----------
Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions:
comparison of eleven methods. *Statistics in Medicine* 17, 873-890.
Welch, B. L. (1947). The generalization of "Student's" problem when several different population
variances are involved. *Biometrika* 34, 28-35.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import CampaignDefaultsConfig
from ..errors import ConfigError
from ..store import Store
from . import repository as repo
from .repository import Campaign
from .results import derived_redemptions

COST_BASIS = "coupon cost + message cost"
MESSAGE_BASIS = "message cost only (the article's '1:245' basis)"


def _money(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


# ---- the article's figures ----------------------------------------------------------------------

@dataclass(frozen=True)
class CampaignFigures:
    """The campaign's own figures (no comparison with the control group)."""

    issued: int
    used: int
    sent: int
    face_value: float
    message_unit_cost: float
    revenue: float
    gross_margin: float

    @property
    def redemption_rate(self) -> float | None:
        return self.used / self.issued if self.issued else None

    @property
    def coupon_cost(self) -> float:
        return self.used * self.face_value

    @property
    def message_cost(self) -> float:
        return self.sent * self.message_unit_cost

    @property
    def total_cost(self) -> float:
        return self.coupon_cost + self.message_cost

    @property
    def gross_profit(self) -> float:
        return self.revenue * self.gross_margin - self.coupon_cost - self.message_cost

    @property
    def return_on_cost(self) -> float | None:
        """Gross profit per unit of cost, cost = coupon cost + message cost."""
        return self.gross_profit / self.total_cost if self.total_cost else None

    @property
    def return_on_message_cost(self) -> float | None:
        """Gross profit per unit of message cost alone (the article's '1:245')."""
        return self.gross_profit / self.message_cost if self.message_cost else None

    def to_dict(self) -> dict[str, Any]:
        rate = self.redemption_rate
        ratio = self.return_on_cost
        per_message = self.return_on_message_cost
        return {
            "issued": self.issued, "used": self.used, "sent": self.sent,
            "face_value": self.face_value, "message_unit_cost": self.message_unit_cost,
            "revenue": _money(self.revenue), "gross_margin": self.gross_margin,
            "redemption_rate": None if rate is None else round(rate, 4),
            "redemption_rate_pct": None if rate is None else round(100 * rate, 1),
            "coupon_cost": _money(self.coupon_cost), "message_cost": _money(self.message_cost),
            "total_cost": _money(self.total_cost), "gross_profit": _money(self.gross_profit),
            "return_on_cost": None if ratio is None else round(ratio, 2),
            "cost_basis": COST_BASIS,
            "return_on_message_cost": None if per_message is None else round(per_message, 1),
            "message_cost_basis": MESSAGE_BASIS,
        }


def campaign_figures(*, issued: int, used: int, face_value: float, message_unit_cost: float,
                     revenue: float, gross_margin: float, sent: int | None = None
                     ) -> CampaignFigures:
    """The figures of a campaign from plain numbers (the calculator).

    Examples
    --------
    >>> f = campaign_figures(issued=3260, used=752, face_value=48, message_unit_cost=0.1,
    ...                      revenue=193642, gross_margin=0.6)
    >>> round(100 * f.redemption_rate, 1), f.coupon_cost, round(f.message_cost, 2)
    (23.1, 36096.0, 326.0)
    >>> round(f.gross_profit, 2)
    79763.2
    """
    sent = issued if sent is None else sent
    problems = [f"{name} must not be negative (got {value})" for name, value in
                (("issued", issued), ("used", used), ("sent", sent), ("face value", face_value),
                 ("message cost", message_unit_cost), ("revenue", revenue)) if value < 0]
    if used > issued:
        problems.append(f"used ({used}) cannot exceed issued ({issued})")
    if not 0 <= gross_margin <= 1:
        problems.append(f"margin {gross_margin} is not a share between 0 and 1 (60 % is 0.6)")
    if problems:
        raise ConfigError("; ".join(problems), "check the figures given")
    return CampaignFigures(int(issued), int(used), int(sent), float(face_value),
                           float(message_unit_cost), float(revenue), float(gross_margin))


# ---- intervals ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Interval:
    """A difference (target - control) with its confidence interval."""

    estimate: float
    low: float
    high: float
    confidence: float
    method: str

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def to_dict(self, digits: int = 4) -> dict[str, Any]:
        return {"estimate": round(self.estimate, digits), "low": round(self.low, digits),
                "high": round(self.high, digits), "confidence": self.confidence,
                "method": self.method}


def _z(confidence: float) -> float:
    from scipy.special import ndtri  # the normal quantile (imported here: scipy is slow to load)

    return float(ndtri(1 - (1 - confidence) / 2))


def wilson_interval(x: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a proportion x / n."""
    if n <= 0:
        raise ValueError("a proportion needs n > 0")
    z, p = _z(confidence), x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_difference(x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95
                        ) -> Interval:
    """Newcombe's hybrid score interval for p1 - p2 (method 10 of Newcombe 1998).

    Examples
    --------
    >>> iv = newcombe_difference(56, 70, 48, 80)   # Newcombe (1998), example (b)
    >>> round(iv.low, 4), round(iv.high, 4)
    (0.0524, 0.3339)
    """
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p1 - p2
    return Interval(d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
                    d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), confidence,
                    "Newcombe hybrid score (Wilson)")


def welch_difference(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                     confidence: float = 0.95) -> Interval:
    """Welch's t interval for mean(a) - mean(b) (unequal variances); each needs 2+ values."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("Welch's interval needs at least 2 values in each group")
    d = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(d, d, d, confidence, "Welch t (no variance)")
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    from scipy.special import stdtrit  # Student's t quantile

    t = float(stdtrit(df, 1 - (1 - confidence) / 2))
    return Interval(d, d - t * se, d + t * se, confidence, "Welch t")


# ---- lift against the control group -------------------------------------------------------------

@dataclass(frozen=True)
class GroupOutcome:
    """One group's customers, how many bought in the window, and each one's margin."""

    group: str
    customers: int
    reactivated: int
    revenue: float
    margins: tuple[float, ...]  # one per customer of the group (0 for those who did not buy)

    @property
    def reactivation_rate(self) -> float | None:
        return self.reactivated / self.customers if self.customers else None

    @property
    def margin_per_customer(self) -> float | None:
        return float(np.mean(self.margins)) if self.customers else None

    def to_dict(self) -> dict[str, Any]:
        rate, mpc = self.reactivation_rate, self.margin_per_customer
        return {"customers": self.customers, "reactivated": self.reactivated,
                "reactivation_rate": None if rate is None else round(rate, 4),
                "revenue": _money(self.revenue), "margin_per_customer": _money(mpc)}


def group_outcomes(members: pd.DataFrame, orders: pd.DataFrame, gross_margin: float
                   ) -> dict[str, GroupOutcome]:
    """Target and control outcomes from the members and their orders in the window.

    A customer is reactivated with at least one purchase (not a refund) in the window; its
    margin is its net window amount x ``gross_margin``.
    """
    buyers = set(orders.loc[~orders["is_refund"].astype(bool), "customer_key"])
    net = orders.groupby("customer_key")["amount"].sum()
    out = {}
    for group in repo.GROUPS:
        keys = members.loc[members["group"] == group, "customer_key"]
        revenue = net.reindex(keys).fillna(0.0).to_numpy(float)
        out[group] = GroupOutcome(group, len(keys), int(keys.isin(buyers).sum()),
                                  float(revenue.sum()), tuple(revenue * gross_margin))
    return out


@dataclass(frozen=True)
class Lift:
    """Target vs control: the differences, their intervals, and a verdict in plain words."""

    target: GroupOutcome
    control: GroupOutcome
    reactivation: Interval | None
    margin: Interval | None
    status: str  # measured | too_small | no_control | no_orders
    message: str
    incremental_customers: float | None = None
    incremental_margin: float | None = None
    incremental_profit: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "message": self.message,
                "target": self.target.to_dict(), "control": self.control.to_dict(),
                "reactivation_difference": self.reactivation and self.reactivation.to_dict(),
                "margin_per_customer_difference": self.margin and self.margin.to_dict(2),
                "incremental_customers": None if self.incremental_customers is None
                else round(self.incremental_customers, 1),
                "incremental_margin": _money(self.incremental_margin),
                "incremental_profit": _money(self.incremental_profit)}


def _points(iv: Interval) -> str:
    pct = round(100 * iv.confidence)
    return (f"{100 * iv.estimate:+.1f} points ({pct} % CI {100 * iv.low:+.1f} to "
            f"{100 * iv.high:+.1f})")


def incremental_lift(target: GroupOutcome, control: GroupOutcome, *, campaign_cost: float = 0.0,
                     confidence: float = 0.95, min_group_size: int = 30) -> Lift:
    """Compare target with control; ``campaign_cost`` (coupons + messages) is deducted from the
    incremental margin to give the incremental profit."""
    if control.customers == 0 or target.customers == 0:
        return Lift(target, control, None, None, "no_control",
                    "No control group was held out, so the lift cannot be measured: every "
                    "return is counted as the campaign's, including those who would have come "
                    "back anyway.")
    rate = newcombe_difference(target.reactivated, target.customers, control.reactivated,
                               control.customers, confidence)
    margin = None
    if min(target.customers, control.customers) >= 2:
        margin = welch_difference(target.margins, control.margins, confidence)
    extra = rate.estimate * target.customers
    extra_margin = None if margin is None else margin.estimate * target.customers
    profit = None if extra_margin is None else extra_margin - campaign_cost
    rates = (f"{100 * target.reactivation_rate:.1f} % of the {target.customers} targets and "
             f"{100 * control.reactivation_rate:.1f} % of the {control.customers} control "
             "customers bought in the window")
    if min(target.customers, control.customers) < min_group_size:
        status = "too_small"
        message = (f"Too small to tell: {rates}; with fewer than {min_group_size} customers in "
                   f"a group the difference, {_points(rate)}, cannot be told from chance.")
    elif not rate.excludes_zero():
        status = "measured"
        message = (f"No lift that can be told from chance: {rates}; the difference "
                   f"{_points(rate)} includes 0.")
    else:
        status = "measured"
        word = "more" if rate.estimate > 0 else "fewer"
        message = (f"{rates}: {_points(rate)}, about {abs(extra):.0f} {word} customers came "
                   "back than would have without the campaign.")
    return Lift(target, control, rate, margin, status, message, extra, extra_margin, profit)


# ---- follow-up ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegularGroup:
    """Regulars with the same monthly visits: customers x mean spend x visits x 12 a year."""

    customers: int
    mean_spend: float
    monthly_visits: float

    @property
    def yearly_revenue(self) -> float:
        return self.customers * self.mean_spend * self.monthly_visits * 12

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "mean_spend": _money(self.mean_spend),
                "yearly_revenue": _money(self.yearly_revenue)}


def project_yearly_revenue(groups: Iterable[RegularGroup]) -> float:
    """Sum of customers x mean spend x monthly visits x 12.

    Examples
    --------
    >>> project_yearly_revenue([RegularGroup(350, 210, 1), RegularGroup(243, 210, 2)])
    2106720
    """
    return sum(g.yearly_revenue for g in groups)


def parse_regulars(text: str) -> RegularGroup:
    """``'350:210:1'`` (customers : mean spend : monthly visits) -> :class:`RegularGroup`."""
    parts = text.split(":")
    try:
        customers, spend, visits = int(parts[0]), float(parts[1]), float(parts[2])
        if len(parts) != 3 or customers < 0 or spend < 0 or visits < 0:
            raise ValueError
    except (ValueError, IndexError):
        raise ConfigError(f"--regulars {text!r} is not CUSTOMERS:MEAN_SPEND:MONTHLY_VISITS",
                          "write e.g. --regulars 350:210:1") from None
    return RegularGroup(customers, spend, visits)


@dataclass
class FollowUp:
    """How many reactivated customers became regulars, and their projected yearly revenue."""

    start: dt.date
    end: dt.date
    months: int
    min_visits: float
    reactivated: int
    complete: bool
    regulars: int = 0
    groups: list[RegularGroup] = field(default_factory=list)
    note: str = ""

    @property
    def projected_yearly_revenue(self) -> float:
        return project_yearly_revenue(self.groups)

    def to_dict(self) -> dict[str, Any]:
        share = self.regulars / self.reactivated if self.reactivated else None
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "months": self.months, "min_visits_per_month": self.min_visits,
                "complete": self.complete, "reactivated": self.reactivated,
                "regulars": self.regulars,
                "regular_share": None if share is None else round(share, 4),
                "groups": [g.to_dict() for g in self.groups],
                "projected_yearly_revenue": _money(self.projected_yearly_revenue)
                if self.complete else None, "note": self.note}


def month_blocks(after: dt.date, months: int) -> list[tuple[dt.date, dt.date]]:
    """``months`` consecutive months starting the day after ``after``."""
    first = pd.Timestamp(after) + pd.Timedelta(days=1)
    starts = [(first + pd.DateOffset(months=i)).date() for i in range(months + 1)]
    return [(a, b - dt.timedelta(days=1)) for a, b in itertools.pairwise(starts)]


def follow_up(orders: pd.DataFrame, reactivated: Iterable[int], *, after: dt.date, months: int,
              min_visits: float, data_end: dt.date | None) -> FollowUp:
    """Regulars among ``reactivated`` customers over the ``months`` after ``after``.

    ``orders`` are the customers' orders in the follow-up months (``customer_key``,
    ``ordered_at``, ``amount``, ``is_refund``). A visit is a day with a purchase. A regular has
    at least ``min_visits`` visits in every month; regulars are grouped by their mean monthly
    visits, rounded to whole visits, each group with its mean spend per visit.
    """
    keys = pd.Index(sorted(set(reactivated)))
    blocks = month_blocks(after, months)
    start, end = blocks[0][0], blocks[-1][1]
    result = FollowUp(start, end, months, min_visits, len(keys),
                      complete=data_end is not None and data_end >= end)
    if not result.complete:
        result.note = (f"the follow-up runs to {end} but orders in the store end on "
                       f"{data_end or 'no date'}: ingest the later orders and evaluate again")
        return result
    orders = orders[orders["customer_key"].isin(keys)]
    day = pd.to_datetime(orders["ordered_at"]).dt.date
    visits = orders[~orders["is_refund"].astype(bool)].assign(day=day)
    counts = pd.DataFrame(0, index=keys, columns=range(months), dtype=float)
    for i, (a, b) in enumerate(blocks):
        inside = visits[(visits["day"] >= a) & (visits["day"] <= b)]
        counts[i] = inside.groupby("customer_key")["day"].nunique().reindex(keys).fillna(0)
    regular = (counts >= min_visits).all(axis=1) if len(keys) else pd.Series(dtype=bool)
    regs = counts.index[regular]
    total_visits = counts.loc[regs].sum(axis=1)
    spend = orders.groupby("customer_key")["amount"].sum().reindex(regs).fillna(0.0)
    level = np.floor(total_visits / months + 0.5)
    table = pd.DataFrame({"level": level, "visits": total_visits, "spend": spend})
    for lvl, g in table.groupby("level"):
        result.groups.append(RegularGroup(len(g), float(g["spend"].sum() / g["visits"].sum()),
                                          float(lvl)))
    result.regulars = len(regs)
    return result


# ---- the whole evaluation -----------------------------------------------------------------------

@dataclass
class Evaluation:
    """Everything ``tierwise campaign evaluate`` shows for one stored campaign."""

    campaign: Campaign
    basis: str
    figures: CampaignFigures
    lift: Lift
    follow_up: FollowUp
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"campaign": self.campaign.to_dict(), "basis": self.basis,
                "figures": self.figures.to_dict(), "lift": self.lift.to_dict(),
                "follow_up": self.follow_up.to_dict(), "warnings": list(self.warnings)}


def _sent(store: Store, campaign: Campaign) -> tuple[int, int, str]:
    sends = repo.sends(store, campaign.campaign_id)
    if len(sends):
        return (int(sends["customer_key"].nunique()), len(sends),
                "sends: imported; ")
    return campaign.n_target, campaign.n_target, "sends: every target (none imported); "


def evaluate_campaign(store: Store, campaign_id: int,
                      settings: CampaignDefaultsConfig | None = None) -> Evaluation:
    """Evaluate a stored campaign from its results and the store's orders.

    Redemptions come from an import when there is one, else from the orders in the window
    (see :func:`tierwise.campaigns.results.derive_redemptions`). The lift always compares
    target and control on the orders in the window, which both groups have.
    """
    settings = settings or CampaignDefaultsConfig()
    campaign = repo.get_campaign(store, campaign_id)
    issued, sent, basis = _sent(store, campaign)
    redeemed = repo.redemptions(store, campaign.campaign_id)
    if len(redeemed):
        derived = redeemed["source"].str.startswith(repo.DERIVED_PREFIX).all()
        basis += "redemptions: " + ("derived from the orders in the window" if derived
                                    else "imported")
    else:
        redeemed = derived_redemptions(store, campaign)
        basis += "redemptions: derived from the orders in the window (none imported)"
    figures = campaign_figures(issued=issued, used=min(len(redeemed), issued),
                               sent=sent, face_value=campaign.face_value,
                               message_unit_cost=campaign.message_unit_cost,
                               revenue=float(redeemed["amount"].sum()),
                               gross_margin=campaign.gross_margin)
    warnings = []
    if len(redeemed) > issued:
        warnings.append(f"{len(redeemed)} redemptions for {issued} coupons issued: more than one "
                        "use per coupon; 'used' is capped at the coupons issued")
    last = repo.last_order_date(store)
    members = repo.members(store, campaign.campaign_id)
    window = repo.member_orders(store, campaign.campaign_id, campaign.window_start,
                                campaign.window_end)
    outcomes = group_outcomes(members, window, campaign.gross_margin)
    lift = incremental_lift(outcomes["target"], outcomes["control"],
                            campaign_cost=figures.total_cost, confidence=settings.confidence,
                            min_group_size=settings.min_group_size)
    if last is None or last < campaign.window_start:
        lift = Lift(lift.target, lift.control, None, None, "no_orders",
                    f"The store has no orders in the window yet (orders end on {last}): ingest "
                    "the orders from the campaign window to measure the lift.")
    elif last < campaign.window_end:
        warnings.append(f"orders in the store end on {last}, before the window's end "
                        f"{campaign.window_end}: the figures are partial")
    reactivated = window.loc[(window["group"] == "target") & ~window["is_refund"].astype(bool),
                             "customer_key"].unique()
    blocks = month_blocks(campaign.window_end, settings.follow_up_months)
    later = repo.member_orders(store, campaign.campaign_id, blocks[0][0], blocks[-1][1])
    follow = follow_up(later, reactivated, after=campaign.window_end,
                       months=settings.follow_up_months, min_visits=settings.regular_min_visits,
                       data_end=last)
    return Evaluation(campaign, basis, figures, lift, follow, warnings)


__all__ = ["COST_BASIS", "CampaignFigures", "Evaluation", "FollowUp", "GroupOutcome", "Interval",
           "Lift", "RegularGroup", "campaign_figures", "evaluate_campaign", "follow_up",
           "group_outcomes", "incremental_lift", "month_blocks", "newcombe_difference",
           "parse_regulars", "project_yearly_revenue", "welch_difference", "wilson_interval"]

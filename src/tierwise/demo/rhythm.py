"""Seeded order histories of businesses whose customers come back on a rhythm.

Three kinds of business, each with the habits of its real counterpart:

=================  ==========  ==========  =================================================
kind               usual gap   regularity  who
=================  ==========  ==========  =================================================
weekly_diners      ~7 days     k ~ 3       restaurant members: a table every week or so
monthly_shoppers   ~30 days    k ~ 2       grocery / retail members: a basket every month
quarterly_b2b      ~91 days    k ~ 2.5     a supplier's accounts: an order every quarter
=================  ==========  ==========  =================================================

The story of one customer, the same for every kind (the parameters differ):

1. **Acquisition.** The customer's first purchase falls uniformly in the first ``acquire_share``
   of the history (a business keeps winning customers, so tenures differ).
2. **Trial.** A share of customers (``one_and_done``) never come back after the first purchase.
3. **Rhythm.** The others buy again after gaps drawn from a gamma distribution with the customer's
   own mean gap (lognormal around the business's usual gap) and shape ``k`` (the regularity: 1 is
   memoryless like a Poisson process, larger is more clock-like). Each customer's ``k`` varies a
   little around the business's.
4. **Breaks.** Now and then (``break_prob`` per gap) a gap is stretched by a holiday or a busy spell
   (two to four usual gaps): real rhythms are not perfect clocks.
5. **Leaving.** Each customer leaves at a random moment: an exponential lifetime whose rate is
   gamma-distributed across customers (some stay for years, some leave within months). No purchase
   happens after leaving.
6. **Spend.** Each customer has a mean ticket (lognormal around the business's); each purchase
   varies around it (gamma noise, coefficient of variation ``ticket_cv``).

This process is none of the fitted purchase models' own generative story (BG/NBD drops customers
at purchases, Pareto/NBD buys at Poisson times, CNBD-k has no breaks or trial-only share), so a
model that does well on it does so because it captures the rhythm, not because the data was drawn
from it. ``truth`` in the result records each customer's true parameters and the moment they left,
for tests that check P(alive) against what really happened.

Examples
--------
>>> from datetime import date
>>> data = generate_rhythm_business("weekly_diners", customers=200, start=date(2024, 1, 1),
...                                 end=date(2024, 12, 31), seed=7)
>>> sorted(data.orders.columns)
['amount', 'customer_id', 'order_id', 'ordered_at']
>>> bool((data.orders["ordered_at"] <= "2024-12-31 23:59:59").all())
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class BusinessKind:
    """The parameters of one kind of business (see the module notes for their meaning)."""

    name: str
    gap_days: float          # the usual gap between purchases
    gap_spread: float        # sd of the log of customers' mean gaps
    k: float                 # regularity: gamma shape of the gaps
    k_spread: float          # sd of the log of customers' k
    one_and_done: float      # share of customers who never come back
    break_prob: float        # chance that a gap is stretched by a break
    life_shape: float        # gamma shape of the leaving rate across customers
    life_mean_days: float    # mean lifetime in days (of the leaving rate's mean)
    ticket: float            # mean ticket of the business
    ticket_spread: float     # sd of the log of customers' mean tickets
    ticket_cv: float         # coefficient of variation of one customer's tickets
    prefix: str              # customer id prefix


BUSINESS_KINDS: dict[str, BusinessKind] = {
    "weekly_diners": BusinessKind(
        "weekly_diners", gap_days=7.0, gap_spread=0.45, k=3.0, k_spread=0.25, one_and_done=0.35,
        break_prob=0.04, life_shape=1.2, life_mean_days=420.0, ticket=85.0, ticket_spread=0.45,
        ticket_cv=0.35, prefix="W"),
    "monthly_shoppers": BusinessKind(
        "monthly_shoppers", gap_days=30.0, gap_spread=0.5, k=2.0, k_spread=0.25,
        one_and_done=0.30, break_prob=0.05, life_shape=1.0, life_mean_days=600.0, ticket=260.0,
        ticket_spread=0.6, ticket_cv=0.5, prefix="M"),
    "quarterly_b2b": BusinessKind(
        "quarterly_b2b", gap_days=91.0, gap_spread=0.35, k=2.5, k_spread=0.2, one_and_done=0.15,
        break_prob=0.05, life_shape=1.5, life_mean_days=1400.0, ticket=24000.0,
        ticket_spread=0.9, ticket_cv=0.4, prefix="B"),
}


@dataclass
class RhythmData:
    """A generated business: its orders, each customer's true parameters, and the settings."""

    orders: pd.DataFrame
    truth: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)


def _kind(kind: str | BusinessKind) -> BusinessKind:
    if isinstance(kind, BusinessKind):
        return kind
    try:
        return BUSINESS_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown business kind {kind!r}; valid: "
                         f"{', '.join(BUSINESS_KINDS)}") from None


def _customer_days(rng: np.random.Generator, b: BusinessKind, first: float, leave: float,
                   mean_gap: float, k: float, horizon: float) -> list[float]:
    """Purchase moments (days from the start of the history) of one customer."""
    days = [first]
    t = first
    end = min(leave, horizon)
    while True:
        gap = rng.gamma(k, mean_gap / k)
        if rng.random() < b.break_prob:
            gap += mean_gap * rng.uniform(2.0, 4.0)
        t += max(gap, 0.5)
        if t >= end:
            return days
        days.append(t)


def generate_rhythm_business(kind: str | BusinessKind = "weekly_diners", *,
                             customers: int = 5000, start: date = date(2023, 1, 1),
                             end: date = date(2024, 12, 31), acquire_share: float = 0.75,
                             seed: int = 0) -> RhythmData:
    """Order history of a business whose customers come back on a rhythm (see the module notes).

    Parameters
    ----------
    kind
        ``weekly_diners``, ``monthly_shoppers`` or ``quarterly_b2b`` (or a :class:`BusinessKind`).
    customers
        Number of customers (at least 1); every one makes at least its first purchase.
    start, end
        First and last day of the history (inclusive).
    acquire_share
        Share of the history (from ``start``) in which first purchases fall, in (0, 1].
    seed
        Seed of the numpy random generator: the same seed gives the same data.

    Returns
    -------
    RhythmData
        ``orders``: ``order_id``, ``customer_id``, ``ordered_at`` (datetime64, with a time of
        day), ``amount`` (2 decimals), sorted by time. ``truth``: one row per customer with
        ``customer_id``, ``first_day``, ``leave_day`` (days from ``start``; may lie beyond
        ``end``; a trial-only customer leaves at the first purchase), ``alive_at_end``, ``one_and_done``, ``mean_gap_days``, ``k``,
        ``mean_ticket``, ``n_purchases``.
    """
    b = _kind(kind)
    if customers < 1:
        raise ValueError(f"customers must be at least 1, got {customers}")
    if not 0 < acquire_share <= 1:
        raise ValueError(f"acquire_share must be in (0, 1], got {acquire_share}")
    if end <= start:
        raise ValueError(f"end {end} must be after start {start}")
    rng = np.random.default_rng(seed)
    horizon = float((end - start).days + 1)
    first = rng.uniform(0.0, horizon * acquire_share, customers)
    trial_only = rng.random(customers) < b.one_and_done
    mean_gap = b.gap_days * np.exp(rng.normal(0.0, b.gap_spread, customers))
    k = np.clip(b.k * np.exp(rng.normal(0.0, b.k_spread, customers)), 1.0, None)
    rate = rng.gamma(b.life_shape, 1.0 / (b.life_shape * b.life_mean_days), customers)
    leave = np.where(trial_only, first, first + rng.exponential(1.0, customers) / rate)
    ticket = b.ticket * np.exp(rng.normal(-0.5 * b.ticket_spread ** 2, b.ticket_spread,
                                          customers))
    ids = [f"{b.prefix}{i + 1:06d}" for i in range(customers)]
    rows_customer: list[str] = []
    rows_day: list[float] = []
    counts = np.zeros(customers, dtype=int)
    for i in range(customers):
        days = ([first[i]] if trial_only[i] else
                _customer_days(rng, b, first[i], leave[i], mean_gap[i], k[i], horizon))
        counts[i] = len(days)
        rows_customer.extend([ids[i]] * len(days))
        rows_day.extend(days)
    day = np.asarray(rows_day)
    owner = pd.Index(ids).get_indexer(rows_customer)
    shape = 1.0 / b.ticket_cv ** 2
    amount = np.round(rng.gamma(shape, ticket[owner] / shape), 2).clip(min=0.01)
    when = pd.Timestamp(start) + pd.to_timedelta(np.floor(day * 86400.0), unit="s")
    orders = pd.DataFrame({"customer_id": rows_customer, "ordered_at": when, "amount": amount})
    orders = orders.sort_values(["ordered_at", "customer_id"], kind="stable").reset_index(drop=True)
    orders.insert(0, "order_id", [f"{b.prefix}O{i + 1:08d}" for i in range(len(orders))])
    truth = pd.DataFrame({
        "customer_id": ids, "first_day": first, "leave_day": leave,
        "alive_at_end": leave >= horizon, "one_and_done": trial_only, "mean_gap_days": mean_gap,
        "k": k, "mean_ticket": ticket, "n_purchases": counts})
    settings = {"kind": b.name, "customers": customers, "start": start.isoformat(),
                "end": end.isoformat(), "acquire_share": acquire_share, "seed": seed,
                "parameters": {k_: v for k_, v in vars(b).items() if k_ != "name"}}
    return RhythmData(orders, truth, settings)


def write_rhythm_business(out_dir: str | Path, kind: str | BusinessKind = "weekly_diners", *,
                          customers: int = 5000, start: date = date(2023, 1, 1),
                          end: date = date(2024, 12, 31), seed: int = 0) -> Path:
    """Write ``orders.csv`` (UTF-8, English headers), ``truth.csv`` and ``tierwise.toml``.

    The config reads ``orders.csv`` with its canonical headers into ``tierwise.duckdb`` beside it,
    so ``tierwise ingest -c DIR/tierwise.toml`` and ``tierwise run`` work as they are.

    Returns
    -------
    pathlib.Path
        The config file written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = generate_rhythm_business(kind, customers=customers, start=start, end=end, seed=seed)
    orders = data.orders.assign(ordered_at=data.orders["ordered_at"].dt.strftime("%Y-%m-%d %H:%M"))
    orders.to_csv(out / "orders.csv", index=False, encoding="utf-8")
    data.truth.to_csv(out / "truth.csv", index=False, encoding="utf-8")
    (out / "settings.json").write_text(json.dumps(data.settings, indent=2), encoding="utf-8")
    config = out / "tierwise.toml"
    config.write_text(
        f"# {data.settings['kind']}: seeded rhythm business (tierwise.demo.rhythm, seed {seed})\n"
        "[sources.orders]\npath = \"orders.csv\"\n\n[store]\npath = \"tierwise.duckdb\"\n",
        encoding="utf-8")
    return config


def holdout_split(orders: pd.DataFrame, cutoff: date | str, end: date | str
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders up to ``cutoff`` (calibration) and those after it up to ``end`` (holdout).

    Examples
    --------
    >>> o = pd.DataFrame({"ordered_at": pd.to_datetime(["2024-01-01 09:00", "2024-02-01 10:00"])})
    >>> [len(x) for x in holdout_split(o, "2024-01-31", "2024-12-31")]
    [1, 1]
    """
    cut = pd.Timestamp(cutoff) + timedelta(days=1)
    stop = pd.Timestamp(end) + timedelta(days=1)
    at = orders["ordered_at"]
    return orders[at < cut], orders[(at >= cut) & (at < stop)]


__all__ = ["BUSINESS_KINDS", "BusinessKind", "RhythmData", "generate_rhythm_business",
           "write_rhythm_business", "holdout_split"]

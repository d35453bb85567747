"""The B2B demo's leads (``leads.csv``): prospects with a planted conversion pattern.

Drawn from a generator of their own (``seed + 2027``), so the accounts, orders and survey of
:func:`tierwise.demo.generate_b2b` stay byte for byte what they were. Two kinds of lead:

* **converted**: the accounts that started buying after the history's first quarter were leads
  first; each lead row carries the account's id, size and industry, captured 14-150 days before
  its first order (so no order has to be added: their orders are the account's own);
* **open**: companies that never bought (ids ``L20001`` ...), captured over the whole history.

Planted: conversion depends on fit and engagement. Converted leads were rated a better fit
(about 3.8 of 5) and engaged more (about 7 touches) than open ones (about 2.7 and 3), and came
more often by referral or trade show; so grade A converts far more than grade D (the
distributions overlap: some grade-D leads convert, some grade-A ones do not).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import _names as N

LEAD_COLUMNS = ["lead_id", "captured_at", "name", "lead_source", "fit", "engagement", "industry",
                "size", "region", "city", "account_manager"]
LEAD_SOURCES = ("referral", "trade_show", "website", "cold_list")
#: Lead-source weights of leads that convert and of leads that do not (the planted pattern).
_SOURCE_P = {True: [0.4, 0.3, 0.2, 0.1], False: [0.1, 0.2, 0.35, 0.35]}
#: A lead that converts had at least this many days of history before its first order.
_LATE_DAYS = 90


def write_leads(out: Path, orders: pd.DataFrame, days: np.ndarray, *, seed: int
                ) -> dict[str, list]:
    """Write ``out/leads.csv`` from the written ``accounts.csv`` and the demo's orders.

    Returns the manifest entries: ``leads_converted`` (lead ids that became accounts) and
    ``leads_open`` (lead ids that never bought).
    """
    rng = np.random.default_rng(seed + 2027)  # not 1009: the willingness column draws from that
    accounts = pd.read_csv(out / "accounts.csv", encoding="utf-8", dtype=str)
    first = orders.groupby("customer_id")["order_date"].min()
    late = first[first >= days[0] + np.timedelta64(_LATE_DAYS, "D")]
    won = accounts.set_index("customer_id").loc[sorted(late.index)]
    n_won = len(won)
    n_open = max(10, round(len(accounts) * 0.8))
    lead_days = (late.reindex(won.index).to_numpy().astype("datetime64[D]")
                 - rng.integers(14, 151, n_won).astype("timedelta64[D]"))
    open_days = days[rng.integers(0, len(days), n_open)].astype("datetime64[D]")
    regions = list(N.REGIONS)
    region = np.array(regions)[rng.integers(0, len(regions), n_open)]
    city = [N.REGIONS[r][int(u * len(N.REGIONS[r]))] for r, u in zip(region, rng.random(n_open))]
    industry = np.array(N.INDUSTRIES)[rng.integers(0, len(N.INDUSTRIES), n_open)]
    names = [f"{c}{N.COMPANY_WORDS[rng.integers(0, len(N.COMPANY_WORDS))]}"
             f"{i + 1:03d}有限公司" for i, c in enumerate(city)]
    converted = pd.DataFrame({
        "lead_id": won.index, "captured_at": lead_days, "name": won["name"].to_numpy(),
        "lead_source": rng.choice(LEAD_SOURCES, n_won, p=_SOURCE_P[True]),
        "fit": np.clip(np.round(rng.normal(3.8, 0.9, n_won)), 1, 5).astype(int),
        "engagement": rng.poisson(7.0, n_won),
        "industry": won["industry"].to_numpy(), "size": won["size"].to_numpy(),
        "region": won["region"].to_numpy(), "city": won["city"].to_numpy(),
        "account_manager": won["account_manager"].to_numpy()})
    opened = pd.DataFrame({
        "lead_id": [f"L{20001 + i}" for i in range(n_open)], "captured_at": open_days,
        "name": names, "lead_source": rng.choice(LEAD_SOURCES, n_open, p=_SOURCE_P[False]),
        "fit": np.clip(np.round(rng.normal(2.7, 1.0, n_open)), 1, 5).astype(int),
        "engagement": rng.poisson(3.0, n_open), "industry": industry,
        "size": np.array(N.SIZE_BANDS)[rng.choice(5, n_open, p=[0.35, 0.3, 0.2, 0.1, 0.05])],
        "region": region, "city": city,
        "account_manager": np.array(N.ACCOUNT_MANAGERS)[
            rng.integers(0, len(N.ACCOUNT_MANAGERS), n_open)]})
    leads = pd.concat([converted, opened], ignore_index=True).sort_values(
        ["captured_at", "lead_id"], kind="stable")
    leads["captured_at"] = np.datetime_as_string(leads["captured_at"].to_numpy(
        dtype="datetime64[D]"), unit="D")
    leads[LEAD_COLUMNS].to_csv(out / "leads.csv", index=False, encoding="utf-8",
                               lineterminator="\n")
    return {"leads_converted": sorted(converted["lead_id"].tolist()),
            "leads_open": sorted(opened["lead_id"].tolist())}


"""Contract renewals: when each B2B contract ends, who must be reminded, and how often each tier
renews (docs/contracts.md).

A contract is **renewed** when the same customer's next contract for the same product (or any
product, when neither names one) starts before this one ended plus ``grace_days``. As of a date,
each contract has one status:

=============  ==================================================================================
``upcoming``   starts after the as-of date
``renewed``    a follow-on contract exists
``due``        in force, ends within ``reminder_days``, not renewed: remind (a task is made)
``active``     in force, ends later
``overdue``    ended at most ``grace_days`` ago, not renewed: renewal is still open (a task too)
``lapsed``     ended longer ago and not renewed
=============  ==================================================================================

The **renewal rate** of a tier is the share of its contracts that ended in the ``rate_window_days``
before the as-of date, and are decided (renewed, or lapsed), that were renewed; by count and by
value. The tier is the customer's tier in the run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ..config import ContractsConfig

#: Contract statuses, in the order lists show them.
CONTRACT_STATUSES: tuple[str, ...] = ("due", "overdue", "active", "upcoming", "renewed", "lapsed")
#: Statuses that call for a reminder (and a ``contract_renewal`` task).
REMIND_STATUSES: tuple[str, ...] = ("due", "overdue")
#: Columns of the run's ``contracts`` table.
CONTRACT_COLUMNS = ["customer_key", "customer_id", "contract_id", "product", "starts_at",
                    "ends_at", "value", "days_left", "status", "renewed_by", "due"]


def _product(frame: pd.DataFrame) -> pd.Series:
    return frame["product"].astype("object").where(frame["product"].notna(), "")


def contract_status(contracts: pd.DataFrame, as_of: dt.date, cfg: ContractsConfig
                    ) -> pd.DataFrame:
    """Every contract with its status as of ``as_of`` (module notes).

    Parameters
    ----------
    contracts
        ``customer_key``, ``customer_id``, ``contract_id``, ``starts_at``, ``ends_at``,
        ``value``, ``product``.
    as_of
        The day the statuses are judged on.
    cfg
        ``[contracts]``: ``reminder_days``, ``grace_days``, ``task_due_days``.

    Returns
    -------
    pandas.DataFrame
        :data:`CONTRACT_COLUMNS`: ``days_left`` (days from ``as_of`` to the end; negative once
        ended), ``renewed_by`` (the follow-on contract's id) and ``due`` (when a reminder's task
        is due: ``task_due_days`` after ``as_of``, or the last day when sooner).

    Examples
    --------
    >>> c = pd.DataFrame({"customer_key": [1, 1], "customer_id": ["A", "A"],
    ...                   "contract_id": ["k1", "k2"], "product": ["x", "x"],
    ...                   "starts_at": pd.to_datetime(["2025-01-01", "2026-01-01"]),
    ...                   "ends_at": pd.to_datetime(["2025-12-31", "2026-10-31"]),
    ...                   "value": [100.0, 120.0]})
    >>> contract_status(c, dt.date(2026, 9, 30), ContractsConfig())["status"].tolist()
    ['due', 'renewed']
    """
    frame = contracts.reset_index(drop=True).copy()
    for col in ("starts_at", "ends_at"):
        frame[col] = pd.to_datetime(frame[col]).dt.normalize()
    frame["_product"] = _product(frame)
    day = pd.Timestamp(as_of)
    grace = pd.Timedelta(days=cfg.grace_days)
    # the follow-on of each contract: the same customer's (and product's) next contract by start
    pairs = frame[["customer_key", "_product", "contract_id", "starts_at", "ends_at"]].merge(
        frame[["customer_key", "_product", "contract_id", "starts_at"]].rename(
            columns={"contract_id": "next_id", "starts_at": "next_start"}),
        on=["customer_key", "_product"])
    pairs = pairs[(pairs["next_start"] > pairs["starts_at"])
                  & (pairs["next_start"] <= pairs["ends_at"] + grace)]
    follow = pairs.sort_values(["next_start", "next_id"]).drop_duplicates("contract_id") \
        .set_index("contract_id")["next_id"]
    frame["renewed_by"] = frame["contract_id"].map(follow)
    days_left = (frame["ends_at"] - day).dt.days
    renewed = frame["renewed_by"].notna()
    status = np.select(
        [frame["starts_at"] > day, renewed, (days_left >= 0) & (days_left <= cfg.reminder_days),
         days_left >= 0, days_left >= -cfg.grace_days],
        ["upcoming", "renewed", "due", "active", "overdue"], default="lapsed")
    frame["status"] = status
    frame["days_left"] = days_left.astype("int64")
    soon = day + pd.Timedelta(days=cfg.task_due_days)
    frame["due"] = frame["ends_at"].where(frame["ends_at"].between(day, soon), soon) \
        .where(frame["status"].isin(REMIND_STATUSES))
    order = {s: i for i, s in enumerate(CONTRACT_STATUSES)}
    frame = frame.assign(_o=frame["status"].map(order)).sort_values(
        ["_o", "days_left", "customer_id", "contract_id"])
    for col in ("starts_at", "ends_at", "due"):  # days as YYYY-MM-DD in the run's table
        frame[col] = frame[col].dt.strftime("%Y-%m-%d").astype("object") \
            .where(frame[col].notna(), None)
    return frame[CONTRACT_COLUMNS].reset_index(drop=True)


def renewal_rates(status: pd.DataFrame, tiers: pd.DataFrame, as_of: dt.date,
                  cfg: ContractsConfig) -> pd.DataFrame:
    """The renewal rate overall and by tier (module notes).

    ``status`` is :func:`contract_status`'s frame; ``tiers`` maps ``customer_key`` to ``tier``.
    Returns one row per tier that had a decided contract, after the ``all`` row: ``tier``,
    ``ended`` (contracts decided in the window), ``renewed``, ``renewal_rate``, ``ended_value``,
    ``renewed_value``, ``renewal_rate_value``.
    """
    day = pd.Timestamp(as_of)
    ends = pd.to_datetime(status["ends_at"])
    window = (ends <= day) & (ends > day - pd.Timedelta(days=cfg.rate_window_days))
    decided = status[window & status["status"].isin(("renewed", "lapsed"))]
    decided = decided.merge(tiers[["customer_key", "tier"]], on="customer_key", how="left")
    decided["tier"] = decided["tier"].fillna("unknown")
    decided["is_renewed"] = decided["status"] == "renewed"
    rows = []
    groups = [("all", decided)] + [(t, g) for t, g in decided.groupby("tier", sort=False)]
    for tier, g in groups:
        value = float(g["value"].sum())
        done = float(g.loc[g["is_renewed"], "value"].sum())
        rows.append({"tier": tier, "ended": len(g), "renewed": int(g["is_renewed"].sum()),
                     "renewal_rate": float(g["is_renewed"].mean()) if len(g) else None,
                     "ended_value": round(value, 2), "renewed_value": round(done, 2),
                     "renewal_rate_value": done / value if value else None})
    from ..config import PYRAMID_TIERS

    order = {t: i for i, t in enumerate(("all", *PYRAMID_TIERS))}
    rows.sort(key=lambda r: order.get(r["tier"], len(order)))
    return pd.DataFrame(rows, columns=["tier", "ended", "renewed", "renewal_rate",
                                       "ended_value", "renewed_value", "renewal_rate_value"])


def next_contract_end(status: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Per customer with a contract in force and not renewed: ``contract_end`` (the soonest
    end) and ``days_to_renewal`` (days from ``as_of`` to it)."""
    open_ = status[status["status"].isin(("due", "active"))]
    if not len(open_):
        return pd.DataFrame(columns=["customer_key", "contract_end", "days_to_renewal"])
    first = open_.sort_values("ends_at").drop_duplicates("customer_key")
    return pd.DataFrame({"customer_key": first["customer_key"].to_numpy(),
                         "contract_end": pd.to_datetime(first["ends_at"]).dt.date.to_numpy(),
                         "days_to_renewal": first["days_left"].astype("int64").to_numpy()})


def renewal_step(con: duckdb.DuckDBPyConnection, snap: Any, as_of: dt.date,
                 cfg: ContractsConfig) -> None:
    """The run's renewals: per customer ``contract_end`` and ``days_to_renewal``, the run
    tables ``contracts`` (:func:`contract_status`) and ``renewal_rates``, and ``meta
    ["contracts"]`` (counts by status); nothing when the store holds no contracts."""
    from ..store.contracts import contracts_frame, has_rows

    if not has_rows(con, "contracts"):
        return
    status = contract_status(contracts_frame(con), as_of, cfg)
    customers = snap.customers
    ends = next_contract_end(status, as_of)
    snap.customers = customers.drop(columns=[c for c in ("contract_end", "days_to_renewal")
                                             if c in customers]).merge(
        ends, on="customer_key", how="left")
    snap.tables["contracts"] = status
    snap.tables["renewal_rates"] = renewal_rates(status, customers, as_of, cfg)
    counts = status["status"].value_counts()
    snap.meta["contracts"] = {"reminder_days": cfg.reminder_days, "grace_days": cfg.grace_days,
                              **{s: int(counts.get(s, 0)) for s in CONTRACT_STATUSES}}


__all__ = ["CONTRACT_COLUMNS", "CONTRACT_STATUSES", "REMIND_STATUSES", "contract_status",
           "next_contract_end", "renewal_rates", "renewal_step"]

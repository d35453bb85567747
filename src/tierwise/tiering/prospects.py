"""Prospects graded apart: their own scorecard and grades A-D, followed when they convert.

A prospect is a customer without a purchase by the as-of date: a lead (``[sources.leads]``) or a
customer of the customers file who never bought. The pyramid does not grade them (it needs
purchases); :func:`grade_prospects` scores them with the ``[prospects]`` scorecard (by default
fit 1-5, engagement, company size, lead source; the same :class:`~tierwise.tiering.Scorecard` as
``[scorecard]``, every contribution kept) and cuts the score into grades A-D.

A lead **converts** when it buys: its first purchase on or after the day it was captured.
:func:`prospect_tables` returns the run's three tables:

``prospects``
    the open prospects, best score first: grade, score, one ``score_<criterion>`` column per
    criterion (they add up to the score), the flags of missing values and the raw inputs;
``prospect_conversions``
    the leads that have bought: their grade as a lead, first order day, days to convert and the
    first day's revenue;
``prospect_check``
    per grade, the leads captured by the as-of date, how many converted and the conversion
    rate: the check that the grades mean something (A should convert more than D).

Leads and customers are graded together (one fit, on every lead captured by the as-of date and
every customer without a purchase), so a converted lead's grade is the one it had as a lead:
its inputs are the lead's, not what it bought since.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from ..config import PROSPECT_GRADES, ProspectsConfig
from .scorecard import Scorecard

#: Where a prospect comes from: a lead, or a customer of the customers file without purchases.
PROSPECT_ORIGINS = ("lead", "customer")
#: The inputs a prospect row carries besides its score (what the default criteria read).
INPUT_COLUMNS = ("lead_source", "fit", "engagement", "size", "industry", "region")
_PEOPLE = ("name", "account_manager")


def grade_of(score: pd.Series, cuts: list[float]) -> pd.Series:
    """Grade A-D of each score: at or above ``cuts[0]`` A, ``cuts[1]`` B, ``cuts[2]`` C, else D.

    Examples
    --------
    >>> grade_of(pd.Series([80.0, 50.0, 10.0, None]), [65, 50, 35]).tolist()
    ['A', 'B', 'D', None]
    """
    values = pd.to_numeric(score, errors="coerce").to_numpy(dtype=float)
    conditions = [values >= cut for cut in cuts]
    graded = np.select(conditions, list(PROSPECT_GRADES[:-1]), default=PROSPECT_GRADES[-1])
    return pd.Series(np.where(np.isnan(values), None, graded), index=score.index, dtype=object)


def prospect_population(customers: pd.DataFrame, leads: pd.DataFrame,
                        firsts: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Every lead captured by ``as_of`` and every customer without a purchase, one row each.

    Parameters
    ----------
    customers
        The run's per-customer frame (``customer_key``, ``customer_id``, ``frequency``: NULL
        for a customer without purchases, and the customers' attributes).
    leads
        Stored leads captured by ``as_of`` (:meth:`tierwise.store.Store.leads_frame`).
    firsts
        First purchase day and revenue per customer key up to ``as_of``.

    Returns
    -------
    pandas.DataFrame
        ``customer_key``, ``customer_id``, ``origin`` (lead / customer), ``status`` (``open``,
        ``converted``, ``bought_before``: a lead captured after its first purchase, left out of
        the grades' check), ``captured_at``, ``first_order``, ``first_revenue`` and the inputs.
    """
    first = firsts.set_index("customer_key")
    lead_rows = leads.assign(origin="lead")
    no_purchase = customers[customers["frequency"].isna()] if "frequency" in customers \
        else customers.iloc[0:0]
    others = no_purchase[~no_purchase["customer_key"].isin(lead_rows["customer_key"])]
    keep = [c for c in ("customer_key", "customer_id", *_PEOPLE, *INPUT_COLUMNS, "joined_at")
            if c in others]
    cust_rows = others[keep].rename(columns={"joined_at": "captured_at"}).assign(
        origin="customer")
    frame = pd.concat([lead_rows, cust_rows], ignore_index=True)
    for column in ("customer_key", "customer_id", "captured_at", *_PEOPLE, *INPUT_COLUMNS):
        if column not in frame:
            frame[column] = None
    frame["customer_key"] = frame["customer_key"].astype("int64")
    frame["first_order"] = frame["customer_key"].map(first["first_order"]) if len(first) \
        else None
    frame["first_revenue"] = frame["customer_key"].map(first["first_revenue"]) if len(first) \
        else np.nan
    captured = pd.to_datetime(frame["captured_at"], errors="coerce")
    bought = pd.to_datetime(frame["first_order"], errors="coerce")
    status = np.where(bought.isna(), "open",
                      np.where(captured.notna() & (bought < captured), "bought_before",
                               "converted"))
    frame["status"] = status
    frame["days_to_convert"] = np.where(status == "converted", (bought - captured).dt.days,
                                        np.nan)
    frame["days_open"] = np.where(status == "open",
                                  (pd.Timestamp(as_of) - captured).dt.days, np.nan)
    for column, day in (("captured_at", captured), ("first_order", bought)):
        frame[column] = day.dt.strftime("%Y-%m-%d").where(day.notna(), None)
    cols = ["customer_key", "customer_id", "name", "origin", "status", "captured_at",
            "account_manager", *INPUT_COLUMNS, "first_order", "first_revenue",
            "days_to_convert", "days_open"]
    return frame[cols]


def grade_prospects(population: pd.DataFrame, cfg: ProspectsConfig
                    ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Score and grade ``population`` with the ``[prospects]`` scorecard.

    The scorecard is fitted on the leads and customers that did not buy before they were
    captured; every row is then scored. Returns the frame with ``score``, ``score_<name>``,
    ``score_flags`` and ``grade``, and what the fit used (criteria with their weights, dropped
    criteria, the cuts); without any usable criterion nobody is graded and ``note`` says why.
    """
    out = population.copy()
    info: dict[str, Any] = {"grade_cuts": list(cfg.grade_cuts), "criteria": [], "dropped": []}
    fit_on = out[out["status"] != "bought_before"]
    usable = [c for c in cfg.criteria if not c.optional
              or (c.source in fit_on and fit_on[c.source].notna().any())]
    if not len(fit_on) or not usable:
        out["score"], out["score_flags"], out["grade"] = np.nan, "", None
        info["note"] = "no_inputs" if len(fit_on) else "no_prospects"
        return out, info
    card = Scorecard(cfg.criteria).fit(fit_on)
    scored = card.transform(out)
    out = pd.concat([out, scored], axis=1)
    out["score"] = out["score"].round(2)
    out["grade"] = grade_of(out["score"], cfg.grade_cuts)
    info["criteria"] = [{"name": c.name, "source": c.source, "weight": round(c.weight, 4)}
                        for c in card.criteria_]
    info["dropped"] = list(card.dropped_)
    return out, info


def conversion_check(graded: pd.DataFrame) -> pd.DataFrame:
    """Per grade A-D: leads, converted, conversion rate, median days to convert, mean first
    revenue (leads only; a lead that bought before it was captured is left out)."""
    leads = graded[(graded["origin"] == "lead") & (graded["status"] != "bought_before")]
    rows = []
    for grade in PROSPECT_GRADES:
        part = leads[leads["grade"] == grade]
        won = part[part["status"] == "converted"]
        rows.append({"grade": grade, "leads": len(part), "converted": len(won),
                     "conversion_rate": len(won) / len(part) if len(part) else np.nan,
                     "median_days_to_convert": float(won["days_to_convert"].median())
                     if len(won) else np.nan,
                     "mean_first_revenue": float(won["first_revenue"].mean())
                     if len(won) else np.nan})
    return pd.DataFrame(rows)


def prospect_tables(customers: pd.DataFrame, leads: pd.DataFrame, firsts: pd.DataFrame,
                    cfg: ProspectsConfig, as_of: dt.date
                    ) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The run's ``prospects``, ``prospect_conversions`` and ``prospect_check`` tables and the
    meta that goes with them (criteria, cuts, counts per grade; see the module notes)."""
    population = prospect_population(customers, leads, firsts, as_of)
    graded, info = grade_prospects(population, cfg)
    contrib = [c for c in graded.columns if c.startswith("score_") and c != "score_flags"]
    open_ = graded[graded["status"] == "open"].sort_values(
        ["score", "customer_id"], ascending=[False, True], na_position="last")
    prospects = open_[["customer_key", "customer_id", "name", "origin", "grade", "score",
                       *contrib, "score_flags", "captured_at", "days_open",
                       "account_manager", *INPUT_COLUMNS]].reset_index(drop=True)
    won = graded[graded["status"] == "converted"].sort_values(["first_order", "customer_id"])
    conversions = won[["customer_key", "customer_id", "name", "grade", "score", "captured_at",
                       "first_order", "days_to_convert", "first_revenue", "lead_source",
                       "account_manager"]].reset_index(drop=True)
    check = conversion_check(graded)
    info.update({
        "open": len(prospects),
        "open_by_grade": {g: int((prospects["grade"] == g).sum()) for g in PROSPECT_GRADES},
        "open_by_origin": {o: int((prospects["origin"] == o).sum()) for o in PROSPECT_ORIGINS},
        "converted": len(conversions),
        "bought_before": int((graded["status"] == "bought_before").sum()),
        "leads": int((graded["origin"] == "lead").sum()),
    })
    return ({"prospects": prospects, "prospect_conversions": conversions,
             "prospect_check": check}, info)


__all__ = ["INPUT_COLUMNS", "PROSPECT_ORIGINS", "conversion_check", "grade_of",
           "grade_prospects", "prospect_population", "prospect_tables"]

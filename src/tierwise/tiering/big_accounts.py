"""Big-account analyses 大客户分析: growth, value, behaviour, channels, satisfaction, managers.

Pure functions on one run's inputs, each returning a tidy DataFrame:

* :func:`key_account_review`: one row per key account: growth against the previous period and the
  same period last year, value (revenue, margin, margin rate, predicted CLV), behaviour (purchase
  days, usual gap, days since the last order, activity and lifecycle), top channel and top agent
  with their shares, satisfaction (latest score, mean of the last 12 months, trend), tier movement
  since the previous snapshot and open warnings.
* :func:`channel_contribution`: revenue and margin by channel and by agent, for all customers and
  for key accounts, with shares, this period and to date.
* :func:`manager_performance`: per account manager: accounts, key accounts, revenue this period
  against the previous period and the same period last year, accounts that moved up / down /
  stayed in tier, warnings on their accounts, mean satisfaction.

Inputs (canonical columns, see docs/architecture.md):

* ``frame``: the run's per-customer frame (``customer_key``, ``customer_id``, ``name``,
  ``account_manager``, ``tier``, ``key_account``, ``key_account_type``, ``total_amount``,
  ``value_period``, ``value_prev_period``, ``value_same_period_ly``, ``margin_total``,
  ``clv_predicted``, ``frequency``, ``gap_median``, ``days_since_last``, ``activity_state``,
  ``lifecycle_stage``); absent optional columns give empty cells.
* ``orders``: ``customer_key``, ``ordered_at``, ``amount`` (refunds negative), ``is_refund``,
  ``channel``, ``agent`` and optionally ``cost`` / ``margin``, up to the as-of date.
* ``surveys``: ``customer_key``, ``answered_at``, ``score`` (CSAT 1-5 or NPS 0-10; one scale per
  store, since scores are averaged as given).
* ``previous``: the previous snapshot (``customer_key``, ``tier``) or None.
* ``warnings``: the run's early warnings (one row per warning, ``customer_key``) or None.

The plain-word definitions, in Chinese and English, are in docs/key_accounts.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from ..config import PYRAMID_LEVELS
from ..errors import ConfigError, DataContractError
from ._common import purchases, require_columns

#: Label of an order without a channel or agent, and of a customer without an account manager.
NONE_LABEL = "(none)"
#: Satisfaction is averaged over this many months before the as-of date (and the same before).
SATISFACTION_MONTHS = 12
#: Tier movement codes (ordered key > major > ordinary > long_tail; a change to or from a label
#: outside that order, such as new or prospect, is "moved"; absent before: "new").
TIER_MOVEMENTS = ("up", "down", "stayed", "moved", "new")
SATISFACTION_COLUMNS = ["survey_answers", "satisfaction_latest", "satisfaction_latest_at",
                        "satisfaction_mean_12m", "satisfaction_mean_prev_12m",
                        "satisfaction_change", "satisfaction_trend", "satisfaction_trend_basis"]
REVIEW_COLUMNS = [
    "customer_key", "customer_id", "name", "account_manager", "key_account_type", "tier",
    "value_period", "value_prev_period", "value_same_period_ly", "growth_prev_pct",
    "growth_yoy_pct", "revenue", "margin", "margin_rate", "clv_predicted", "purchase_days",
    "usual_gap_days", "days_since_last", "activity_state", "lifecycle_stage", "top_channel",
    "top_channel_share", "top_agent", "top_agent_share", *SATISFACTION_COLUMNS, "tier_prev",
    "tier_movement", "open_warnings"]
#: The order columns the key-account review reads (of the reviewed accounts only).
REVIEW_ORDER_COLUMNS = ("customer_key", "ordered_at", "amount", "is_refund", "cost", "margin",
                        "channel", "agent")

CONTRIBUTION_COLUMNS = ["window", "scope", "dimension", "value", "orders", "customers", "revenue",
                        "revenue_share", "margin", "margin_share"]
MANAGER_COLUMNS = [
    "account_manager", "accounts", "key_accounts", "revenue_period", "revenue_prev_period",
    "revenue_same_period_ly", "growth_prev_pct", "growth_yoy_pct", "revenue_total",
    "margin_total", "moved_up", "moved_down", "stayed", "moved_other", "new_accounts",
    "warnings", "accounts_warned", "satisfaction_mean_12m", "survey_answers_12m"]
_PERIOD_FREQ = {"month": "M", "quarter": "Q"}


# ------------------------------------------------------------------------------------ helpers


def growth_pct(current: Any, reference: Any) -> np.ndarray:
    """Growth in percent: ``(current - reference) / reference x 100``.

    Empty (NaN) when the reference is missing or not above 0: growth from nothing is not a
    percentage.

    Examples
    --------
    >>> growth_pct([50.0, 120.0, 10.0], [200.0, 100.0, 0.0]).tolist()
    [-75.0, 20.0, nan]
    """
    cur = pd.to_numeric(pd.Series(np.asarray(current, dtype=object)), errors="coerce")
    ref = pd.to_numeric(pd.Series(np.asarray(reference, dtype=object)), errors="coerce")
    cur, ref = cur.to_numpy(float, na_value=np.nan), ref.to_numpy(float, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ref > 0, (cur - ref) / ref * 100.0, np.nan)


def _col(frame: pd.DataFrame, name: str, numeric: bool = False) -> pd.Series:
    """A column, or an empty one when the frame lacks it."""
    if name not in frame.columns:
        return pd.Series(np.nan if numeric else None, index=frame.index,
                         dtype=float if numeric else object)
    return pd.to_numeric(frame[name], errors="coerce").astype(float) if numeric else frame[name]


def _flag(frame: pd.DataFrame, name: str) -> pd.Series:
    """A boolean column (missing -> False)."""
    if name not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame[name].astype("object").where(frame[name].notna(), False).astype(bool)


def _label(values: pd.Series) -> pd.Series:
    """Text labels with missing or blank values shown as :data:`NONE_LABEL`."""
    # each distinct value worded once (a million orders hold a handful of channels)
    codes, uniques = pd.factorize(values.astype("object"), use_na_sentinel=True)
    words = np.array([str(v).strip() or NONE_LABEL for v in uniques] + [NONE_LABEL],
                     dtype=object)
    return pd.Series(words[codes], index=values.index, dtype=object)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (num / den).where(den > 0)


def period_start(as_of: dt.date, period: str) -> dt.date:
    """The first day of the month or quarter holding ``as_of``.

    Examples
    --------
    >>> period_start(dt.date(2026, 2, 15), "quarter")
    datetime.date(2026, 1, 1)
    """
    if period not in _PERIOD_FREQ:
        raise ConfigError(f"unknown period {period!r}", "use 'month' or 'quarter'")
    return pd.Timestamp(as_of).to_period(_PERIOD_FREQ[period]).start_time.date()


def _orders(orders: pd.DataFrame, as_of: dt.date | None) -> pd.DataFrame:
    """Orders up to ``as_of``: ``day``, ``purchase``, ``line_margin``, ``channel``, ``agent``."""
    require_columns(orders, ["customer_key", "ordered_at", "amount"], "the orders table",
                    "pass store.orders_frame(as_of, columns=[..., 'channel', 'agent'])")
    amount = _col(orders, "amount", numeric=True).fillna(0.0)
    refund = _flag(orders, "is_refund") if "is_refund" in orders else amount < 0
    margin = _col(orders, "margin", numeric=True).fillna(amount - _col(orders, "cost", True))
    out = pd.DataFrame({"customer_key": orders["customer_key"].to_numpy(),
                        "day": pd.to_datetime(orders["ordered_at"]).dt.normalize().to_numpy(),
                        "amount": amount.to_numpy(), "purchase": (~refund).to_numpy(),
                        "line_margin": margin.to_numpy(),
                        "channel": _label(_col(orders, "channel")).to_numpy(),
                        "agent": _label(_col(orders, "agent")).to_numpy()})
    return out if as_of is None else out[out["day"] <= pd.Timestamp(as_of)]


# ------------------------------------------------------------------- per-customer building blocks


def tier_movement(frame: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Each customer's tier in the previous snapshot and how it moved since.

    Parameters
    ----------
    frame
        The current snapshot: ``customer_key``, ``tier``.
    previous
        The previous snapshot (``customer_key``, ``tier``) or None.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``frame``: ``tier_prev`` and ``tier_movement`` (:data:`TIER_MOVEMENTS`:
        up, down, stayed, moved, new); both empty when there is no previous snapshot.

    Examples
    --------
    >>> prev = pd.DataFrame({"customer_key": [1, 2, 3], "tier": ["major", "key", "key"]})
    >>> curr = pd.DataFrame({"customer_key": [1, 2, 3, 4],
    ...                      "tier": ["key", "major", "key", "ordinary"]})
    >>> tier_movement(curr, prev)["tier_movement"].tolist()
    ['up', 'down', 'stayed', 'new']
    """
    out = pd.DataFrame({"tier_prev": pd.Series(None, index=frame.index, dtype=object),
                        "tier_movement": pd.Series(None, index=frame.index, dtype=object)})
    if previous is None or "tier" not in previous.columns or "tier" not in frame.columns:
        return out
    require_columns(previous, ["customer_key"], "tier movement (the previous snapshot)")
    before = previous.drop_duplicates("customer_key").set_index("customer_key")["tier"]
    was_there = frame["customer_key"].isin(before.index).to_numpy()
    prev = _label(frame["customer_key"].map(before))
    curr = _label(frame["tier"])
    rank = {name: i for i, name in enumerate(PYRAMID_LEVELS)}
    ra, rb = prev.map(rank), curr.map(rank)
    ranked = (ra.notna() & rb.notna()).to_numpy()
    out["tier_prev"] = prev.where(was_there, None).where(prev != NONE_LABEL, None)
    out["tier_movement"] = np.select(
        [~was_there, (prev == curr).to_numpy(), ranked & (rb < ra).to_numpy(),
         ranked & (rb > ra).to_numpy()], ["new", "stayed", "up", "down"], default="moved")
    return out


def satisfaction(surveys: pd.DataFrame | None, as_of: dt.date) -> pd.DataFrame:
    """Per customer: latest score, mean of the last 12 months, and the trend.

    The trend compares the mean of the last 12 months (``(as_of - 12 months, as_of]``) with the
    mean of the 12 months before (basis ``12m_vs_prev_12m``). When the customer answered in the
    last 12 months but not in the 12 before, the latest answer is compared with the mean of all
    the customer's earlier answers instead (basis ``latest_vs_earlier``), so a first low score
    after good ones still shows. ``satisfaction_change`` is that difference in score points;
    ``satisfaction_trend`` is falling (< 0), rising (> 0) or steady (0).

    Parameters
    ----------
    surveys
        Answers: ``customer_key``, ``answered_at``, ``score``; None or empty: no rows.
    as_of
        Answers after this date are ignored.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_key`` with :data:`SATISFACTION_COLUMNS`.

    Examples
    --------
    >>> s = pd.DataFrame({"customer_key": [1, 1, 1], "score": [4, 5, 2],
    ...                   "answered_at": pd.to_datetime(["2024-06-01", "2024-12-01",
    ...                                                  "2025-11-20"])})
    >>> row = satisfaction(s, dt.date(2026, 3, 31)).loc[1]
    >>> row["satisfaction_mean_12m"], row["satisfaction_mean_prev_12m"], row["satisfaction_trend"]
    (2.0, 4.5, 'falling')
    """
    empty = pd.DataFrame(columns=SATISFACTION_COLUMNS, index=pd.Index([], name="customer_key"))
    if surveys is None or not len(surveys):
        return empty
    require_columns(surveys, ["customer_key", "answered_at", "score"], "satisfaction")
    end = pd.Timestamp(as_of)
    start = end - pd.DateOffset(months=SATISFACTION_MONTHS)
    before = start - pd.DateOffset(months=SATISFACTION_MONTHS)
    s = pd.DataFrame({"customer_key": surveys["customer_key"].to_numpy(),
                      "day": pd.to_datetime(surveys["answered_at"]).dt.normalize().to_numpy(),
                      "score": _col(surveys, "score", numeric=True).to_numpy()})
    s = s[s["score"].notna() & (s["day"] <= end)].sort_values(["customer_key", "day"],
                                                               kind="stable")
    if not len(s):
        return empty
    g = s.groupby("customer_key")
    latest = g.tail(1).set_index("customer_key")
    out = pd.DataFrame({"survey_answers": g.size(), "satisfaction_latest": latest["score"],
                        "satisfaction_latest_at": latest["day"].dt.date})
    out["satisfaction_mean_12m"] = s[s["day"] > start].groupby("customer_key")["score"].mean()
    out["satisfaction_mean_prev_12m"] = s[(s["day"] > before) & (s["day"] <= start)] \
        .groupby("customer_key")["score"].mean()
    earlier = s.drop(index=g.tail(1).index).groupby("customer_key")["score"].mean()
    out = _trend(out, earlier.reindex(out.index))
    out.index.name = "customer_key"
    return out[SATISFACTION_COLUMNS]


def _trend(out: pd.DataFrame, earlier: pd.Series) -> pd.DataFrame:
    """Change, trend and basis: 12 months vs the 12 before, else the latest vs earlier answers."""
    by_window = out["satisfaction_mean_12m"] - out["satisfaction_mean_prev_12m"]
    fallback = (out["satisfaction_latest"] - earlier).where(out["satisfaction_mean_12m"].notna())
    change = by_window.fillna(fallback).round(6)
    out["satisfaction_change"] = change
    out["satisfaction_trend"] = np.select([change < 0, change > 0, change == 0],
                                          ["falling", "rising", "steady"], default=None)
    out["satisfaction_trend_basis"] = np.select(
        [by_window.notna(), fallback.notna()], ["12m_vs_prev_12m", "latest_vs_earlier"],
        default=None)
    return out


def _top(orders: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per customer: the channel (or agent) with the most revenue and its share of the revenue."""
    from ..engine.orders import group_sums

    total = group_sums(orders["amount"], orders["customer_key"])
    rows = orders[orders[column] != NONE_LABEL] if column == "agent" else orders
    per = group_sums(rows["amount"], [rows["customer_key"], rows[column]]).reset_index()
    per = per[per["amount"] > 0].sort_values(["customer_key", "amount", column],
                                             ascending=[True, False, True], kind="stable")
    top = per.drop_duplicates("customer_key").set_index("customer_key")
    share = _ratio(top["amount"], total.reindex(top.index))
    return pd.DataFrame({f"top_{column}": top[column], f"top_{column}_share": share})


def _warning_counts(warnings: pd.DataFrame | None) -> pd.Series | None:
    if warnings is None:
        return None
    if not len(warnings):
        return pd.Series(dtype="int64")
    require_columns(warnings, ["customer_key"], "counting warnings")
    return warnings["customer_key"].value_counts()


# ---------------------------------------------------------------------------------- the tables


def _review_base(keys: pd.DataFrame) -> pd.DataFrame:
    """Identity, growth, value and behaviour columns of the key accounts."""
    revenue, margin = _col(keys, "total_amount", True), _col(keys, "margin_total", True)
    out = pd.DataFrame({c: _col(keys, c) for c in ("customer_key", "customer_id", "name",
                                                   "account_manager", "key_account_type",
                                                   "tier")})
    for c in ("value_period", "value_prev_period", "value_same_period_ly"):
        out[c] = _col(keys, c, numeric=True)
    out["growth_prev_pct"] = growth_pct(out["value_period"], out["value_prev_period"])
    out["growth_yoy_pct"] = growth_pct(out["value_period"], out["value_same_period_ly"])
    out["revenue"], out["margin"] = revenue, margin
    out["margin_rate"] = _ratio(margin, revenue)
    out["clv_predicted"] = _col(keys, "clv_predicted", numeric=True)
    out["purchase_days"] = purchases(keys).astype("int64") if "frequency" in keys else 0
    out["usual_gap_days"] = _col(keys, "gap_median", numeric=True)
    out["days_since_last"] = _col(keys, "days_since_last", numeric=True)
    out["activity_state"] = _col(keys, "activity_state")
    out["lifecycle_stage"] = _col(keys, "lifecycle_stage")
    return out


def key_account_review(frame: pd.DataFrame, orders: pd.DataFrame | None = None,
                       surveys: pd.DataFrame | None = None,
                       previous: pd.DataFrame | None = None, *, as_of: dt.date,
                       warnings: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per key account: growth, value, behaviour, channels, satisfaction, movement.

    Parameters
    ----------
    frame
        The run's per-customer frame; key accounts are the rows with ``key_account`` true.
    orders
        Orders up to ``as_of`` with ``channel`` and ``agent`` (None: channel columns empty).
        The top channel is the one with the most revenue (net of refunds) up to ``as_of``; its
        share is of the account's revenue. The top agent is chosen among orders placed through
        an agent, its share is also of the account's whole revenue.
    surveys
        Survey answers (None: satisfaction columns empty); see :func:`satisfaction`.
    previous
        The previous snapshot (None: ``tier_prev`` and ``tier_movement`` empty).
    as_of
        The run's as-of date.
    warnings
        The run's early warnings; ``open_warnings`` counts them per account (empty when None).

    Returns
    -------
    pandas.DataFrame
        :data:`REVIEW_COLUMNS`, in key-account rank order (else by revenue). Growth is in
        percent (:func:`growth_pct`); ``revenue`` is ``total_amount`` and ``margin`` is
        ``margin_total`` (both up to ``as_of``); ``purchase_days`` is ``frequency + 1``.

    Examples
    --------
    >>> f = pd.DataFrame({"customer_key": [1, 2], "key_account": [True, False],
    ...                   "value_period": [50.0, 9.0], "value_same_period_ly": [200.0, 9.0]})
    >>> key_account_review(f, as_of=dt.date(2026, 3, 31))["growth_yoy_pct"].tolist()
    [-75.0]
    """
    require_columns(frame, ["customer_key", "key_account"], "the key-account review",
                    "run the key-account selection first (select_key_accounts)")
    keys = frame[_flag(frame, "key_account")]
    if "key_account_rank" in keys:
        keys = keys.sort_values("key_account_rank", kind="stable", na_position="last")
    else:
        keys = keys.sort_values("total_amount", ascending=False, kind="stable") \
            if "total_amount" in keys else keys
    out = _review_extras(_review_base(keys).reset_index(drop=True), orders, surveys, as_of)
    out = pd.concat([out, tier_movement(out, previous)], axis=1)
    counts = _warning_counts(warnings)
    out["open_warnings"] = pd.array([pd.NA] * len(out), dtype="Int64") if counts is None \
        else out["customer_key"].map(counts).fillna(0).astype("int64")
    return out.reindex(columns=REVIEW_COLUMNS)


def _review_extras(out: pd.DataFrame, orders: pd.DataFrame | None,
                   surveys: pd.DataFrame | None, as_of: dt.date) -> pd.DataFrame:
    """Top channel and agent (from the orders) and satisfaction (from the survey) per account."""
    key = out["customer_key"]
    if orders is not None:  # the reviewed accounts' orders only (the figures are per account)
        mine = orders.frame(as_of, REVIEW_ORDER_COLUMNS, customers=key) if _in_engine(orders) \
            else orders[orders["customer_key"].isin(key)]
        prepared = _orders(mine, as_of)
        for column in ("channel", "agent"):
            top = _top(prepared, column)
            out[f"top_{column}"] = key.map(top[f"top_{column}"])
            out[f"top_{column}_share"] = key.map(top[f"top_{column}_share"]).astype(float)
    sat = satisfaction(surveys, as_of)
    for column in SATISFACTION_COLUMNS:
        out[column] = key.map(sat[column]) if len(sat) else None
    out["survey_answers"] = out["survey_answers"].fillna(0).astype("int64")
    return out


def _contribution(rows: pd.DataFrame, dimension: str) -> pd.DataFrame:
    from ..engine.orders import group_sums

    g = rows.groupby(dimension)
    by = rows[dimension]
    return _shares(pd.DataFrame({"orders": g["purchase"].sum().astype("int64"),
                                 "customers": g["customer_key"].nunique().astype("int64"),
                                 "revenue": group_sums(rows["amount"], by),
                                 "margin": group_sums(rows["line_margin"], by, min_count=1)}))


def _shares(out: pd.DataFrame) -> pd.DataFrame:
    """Revenue and margin shares of one window, scope and dimension; biggest revenue first."""
    total, margin_total = out["revenue"].sum(), out["margin"].sum(min_count=1)
    out["revenue_share"] = out["revenue"] / total if total else np.nan
    out["margin_share"] = out["margin"] / margin_total if margin_total else np.nan
    out = out.rename_axis("value").reset_index()
    return out.sort_values(["revenue", "value"], ascending=[False, True], kind="stable")


def channel_contribution(frame: pd.DataFrame, orders: pd.DataFrame, *, as_of: dt.date,
                         period: str | None = None) -> pd.DataFrame:
    """Revenue and margin by channel and by agent, overall and for key accounts, with shares.

    Parameters
    ----------
    frame
        The run's per-customer frame (``customer_key``; ``key_account`` marks key accounts).
    orders
        Orders with ``customer_key``, ``ordered_at``, ``amount``, ``is_refund`` and ``channel``
        and/or ``agent``; ``margin`` or ``cost`` give the margin (an order's margin is
        ``margin`` when known, else ``amount - cost``, as in the features).
    as_of
        Orders after this date are ignored.
    period
        ``month`` or ``quarter``: adds the window ``period`` (from the period's first day to
        ``as_of``) to the window ``to_date`` (every order up to ``as_of``).

    Returns
    -------
    pandas.DataFrame
        :data:`CONTRIBUTION_COLUMNS`: one row per ``window`` x ``scope`` (``all`` /
        ``key_accounts``) x ``dimension`` (``channel`` / ``agent``) x ``value`` (the channel or
        agent; :data:`NONE_LABEL` for orders without one). Revenue is net of refunds; ``orders``
        counts purchases (refunds excluded). Within each window, scope and dimension the shares
        sum to 1 (``margin_share`` is empty when no margin is known).

    Examples
    --------
    >>> o = pd.DataFrame({"customer_key": [1, 1, 2], "amount": [300.0, 100.0, 600.0],
    ...                   "ordered_at": pd.to_datetime(["2026-01-05"] * 3),
    ...                   "channel": ["direct", "online", "direct"]})
    >>> t = channel_contribution(pd.DataFrame({"customer_key": [1, 2]}), o,
    ...                          as_of=dt.date(2026, 3, 31))
    >>> t[["value", "revenue_share"]].values.tolist()
    [['direct', 0.9], ['online', 0.1]]
    """
    dimensions = [d for d in ("channel", "agent") if d in orders.columns]
    if not dimensions:
        raise DataContractError("channel contribution needs a channel or agent column in the "
                                f"orders; they have {sorted(map(str, orders.columns))}",
                                "map a channel or agent column in [sources.orders.columns]")
    if _in_engine(orders):
        return _contributions_in_engine(frame, orders, dimensions, as_of=as_of, period=period)
    prepared = _orders(orders, as_of)
    windows = {"to_date": prepared}
    if period is not None:
        start = pd.Timestamp(period_start(as_of, period))
        windows = {"period": prepared[prepared["day"] >= start], **windows}
    key_set = frame.loc[_flag(frame, "key_account"), "customer_key"]
    parts = []
    for window, rows in windows.items():
        keyed = rows[rows["customer_key"].isin(key_set)]
        for scope, sub in (("all", rows), ("key_accounts", keyed)):
            for dimension in dimensions:
                if len(sub):
                    parts.append(_contribution(sub, dimension).assign(
                        window=window, scope=scope, dimension=dimension))
    if not parts:
        return pd.DataFrame(columns=CONTRIBUTION_COLUMNS)
    return pd.concat(parts, ignore_index=True)[CONTRIBUTION_COLUMNS]


def _contributions_in_engine(frame: pd.DataFrame, orders: Any, dimensions: list[str], *,
                             as_of: dt.date, period: str | None) -> pd.DataFrame:
    """:func:`channel_contribution` with each group's sums run in the engine."""
    windows: dict[str, dt.date | None] = {"to_date": None}
    if period is not None:
        windows = {"period": period_start(as_of, period), **windows}
    key_set = frame.loc[_flag(frame, "key_account"), "customer_key"]
    parts = []
    for window, since in windows.items():
        for scope, keys in (("all", None), ("key_accounts", key_set)):
            if keys is not None and not len(keys):
                continue
            for dimension in dimensions:
                got = orders.contributions(as_of, dimension, since=since, customers=keys)
                if len(got):
                    parts.append(_shares(got.rename_axis("value")).assign(
                        window=window, scope=scope, dimension=dimension))
    if not parts:
        return pd.DataFrame(columns=CONTRIBUTION_COLUMNS)
    return pd.concat(parts, ignore_index=True)[CONTRIBUTION_COLUMNS]


def _in_engine(orders: object) -> bool:
    """Whether ``orders`` is the engine's OrderTable (not a DataFrame)."""
    from ..engine.orders import OrderTable

    return isinstance(orders, OrderTable)


def _manager_movement(frame: pd.DataFrame, manager: pd.Series,
                      previous: pd.DataFrame | None) -> pd.DataFrame:
    """Per manager: accounts that moved up / down / stayed / moved otherwise / are new."""
    names = {"up": "moved_up", "down": "moved_down", "stayed": "stayed", "moved": "moved_other",
             "new": "new_accounts"}
    movement = tier_movement(frame, previous)["tier_movement"]
    if movement.isna().all():
        return pd.DataFrame(columns=list(names.values()), index=manager.unique(), dtype="Int64")
    table = pd.crosstab(manager, movement).reindex(columns=list(names), fill_value=0)
    return table.rename(columns=names).astype("Int64")


def _manager_satisfaction(frame: pd.DataFrame, manager: pd.Series,
                          surveys: pd.DataFrame | None, as_of: dt.date) -> pd.DataFrame:
    """Per manager: mean score and number of answers of their accounts in the last 12 months."""
    cols = ["satisfaction_mean_12m", "survey_answers_12m"]
    if surveys is None or not len(surveys):
        return pd.DataFrame(columns=cols)
    require_columns(surveys, ["customer_key", "answered_at", "score"], "manager satisfaction")
    end = pd.Timestamp(as_of)
    day = pd.to_datetime(surveys["answered_at"]).dt.normalize()
    recent = surveys[(day > end - pd.DateOffset(months=SATISFACTION_MONTHS)) & (day <= end)]
    owner = recent["customer_key"].map(pd.Series(manager.to_numpy(),
                                                 index=frame["customer_key"].to_numpy()))
    scores = _col(recent, "score", numeric=True)
    g = scores[owner.notna()].groupby(owner[owner.notna()])
    return pd.DataFrame({"satisfaction_mean_12m": g.mean(),
                         "survey_answers_12m": g.count().astype("int64")})


def _manager_sums(frame: pd.DataFrame, manager: pd.Series) -> pd.DataFrame:
    """Per manager: account counts and the sums of their accounts' revenue and margin."""
    g = pd.DataFrame({
        "accounts": 1, "key_accounts": _flag(frame, "key_account").astype("int64"),
        **{f"revenue_{c}": _col(frame, f"value_{c}", True)
           for c in ("period", "prev_period", "same_period_ly")},
        "revenue_total": _col(frame, "total_amount", True),
        "margin_total": _col(frame, "margin_total", True)}).groupby(manager)
    out = g[["accounts", "key_accounts"]].sum().astype("int64")
    return out.join(g[["revenue_period", "revenue_prev_period", "revenue_same_period_ly",
                       "revenue_total", "margin_total"]].sum(min_count=1))


def manager_performance(frame: pd.DataFrame, surveys: pd.DataFrame | None = None,
                        previous: pd.DataFrame | None = None, *, as_of: dt.date,
                        warnings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per account manager: value and movement of the accounts each manages.

    Parameters
    ----------
    frame
        The run's per-customer frame with ``account_manager`` (customers without one are
        grouped under :data:`NONE_LABEL`); each account counts for its current manager.
    surveys
        Survey answers (None: satisfaction columns empty).
    previous
        The previous snapshot (None: movement columns empty).
    as_of
        The run's as-of date.
    warnings
        The run's early warnings (None: warning columns empty).

    Returns
    -------
    pandas.DataFrame
        :data:`MANAGER_COLUMNS`, biggest revenue this period first: ``accounts``,
        ``key_accounts``; revenue this period, the previous period and the same period last year
        (sums of ``value_period`` ...) with ``growth_prev_pct`` / ``growth_yoy_pct``;
        ``revenue_total`` and ``margin_total`` up to ``as_of``; ``moved_up``, ``moved_down``,
        ``stayed``, ``moved_other`` (to or from new / prospect) and ``new_accounts`` (not in
        the previous snapshot), which add up to ``accounts``; ``warnings`` and
        ``accounts_warned``; ``satisfaction_mean_12m`` (mean of every answer of their accounts
        in the last 12 months) and ``survey_answers_12m``.

    Examples
    --------
    >>> f = pd.DataFrame({"customer_key": [1, 2, 3], "account_manager": ["A", "A", "B"],
    ...                   "tier": ["key", "ordinary", "major"], "value_period": [5.0, 5.0, 3.0]})
    >>> p = pd.DataFrame({"customer_key": [1, 2], "tier": ["major", "ordinary"]})
    >>> m = manager_performance(f, previous=p, as_of=dt.date(2026, 3, 31))
    >>> m[["account_manager", "moved_up", "stayed", "new_accounts"]].values.tolist()
    [['A', 1, 1, 0], ['B', 0, 0, 1]]
    """
    require_columns(frame, ["customer_key", "account_manager"], "manager performance")
    manager = _label(frame["account_manager"]).rename("account_manager")
    out = _manager_sums(frame, manager)
    out["growth_prev_pct"] = growth_pct(out["revenue_period"], out["revenue_prev_period"])
    out["growth_yoy_pct"] = growth_pct(out["revenue_period"], out["revenue_same_period_ly"])
    out = out.join(_manager_movement(frame, manager, previous))
    counts = _warning_counts(warnings)
    if counts is not None:
        per_account = frame["customer_key"].map(counts).fillna(0).astype("int64")
        out["warnings"] = per_account.groupby(manager).sum()
        out["accounts_warned"] = (per_account > 0).groupby(manager).sum().astype("int64")
    out = out.join(_manager_satisfaction(frame, manager, surveys, as_of))
    out = out.rename_axis("account_manager").reset_index()
    out = out.sort_values(["revenue_period", "account_manager"], ascending=[False, True],
                          kind="stable", na_position="last")
    return out.reindex(columns=MANAGER_COLUMNS).reset_index(drop=True)


def big_account_tables(frame: pd.DataFrame, orders: pd.DataFrame | None,
                       surveys: pd.DataFrame | None, previous: pd.DataFrame | None, *,
                       as_of: dt.date, period: str,
                       warnings: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The big-account tables a run keeps, each when its inputs exist.

    ``key_account_review`` when the frame has ``key_account``; ``channel_contribution`` when the
    orders carry a channel or an agent; ``manager_performance`` when some customer has an
    ``account_manager``.
    """
    tables: dict[str, pd.DataFrame] = {}
    if "key_account" in frame.columns:
        tables["key_account_review"] = key_account_review(
            frame, orders, surveys, previous, as_of=as_of, warnings=warnings)
    dims = [c for c in ("channel", "agent") if orders is not None and c in orders.columns]
    carried = (orders.has_labels(dims) if _in_engine(orders)
               else orders[dims].notna().any().any()) if dims else False
    if carried:
        tables["channel_contribution"] = channel_contribution(frame, orders, as_of=as_of,
                                                              period=period)
    if "account_manager" in frame.columns and frame["account_manager"].notna().any():
        tables["manager_performance"] = manager_performance(
            frame, surveys, previous, as_of=as_of, warnings=warnings)
    return tables


__all__ = [
    "CONTRIBUTION_COLUMNS",
    "MANAGER_COLUMNS",
    "NONE_LABEL",
    "REVIEW_COLUMNS",
    "SATISFACTION_COLUMNS",
    "SATISFACTION_MONTHS",
    "TIER_MOVEMENTS",
    "big_account_tables",
    "channel_contribution",
    "growth_pct",
    "key_account_review",
    "manager_performance",
    "period_start",
    "satisfaction",
    "tier_movement",
]

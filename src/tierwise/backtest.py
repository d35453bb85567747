"""Did last period's advice hold? Replay the product one horizon back and compare with what happened.

Every run (``[backtest] enabled``), where the history allows, takes the date one horizon before
the as-of date, computes what the product would have said then from the orders up to that date
alone (the real pipeline: features on the engine, then :func:`tierwise.snapshot.build_snapshot`;
see :func:`tierwise.pipeline.compute_snapshot`, passed in as ``snapshot_at``), and joins it with the purchases made in the
horizon since:

* ``backtest``: per activity state, policy, tier, RFM segment and early-warning kind (and all
  customers): customers, how many bought again and their share, their revenue and its share;
* ``backtest_contact`` (where staff recorded outcomes on tasks made since the replay date):
  customers contacted against not contacted, and the share who bought again
  (:mod:`tierwise.tasks.effect`; an observation, not an experiment);
* ``backtest_calibration``: customers in ten equal groups by the purchase likelihood they were
  given (for the horizon), the mean predicted likelihood beside the share who really bought;
  when the policies rested on the rhythm (no trusted purchase model) and the horizon is the
  policy horizon, the same for the probability the policy used (``probability`` column).

``meta`` carries the headline checks: the share of the silenced policies (do not contact,
archive) who bought again, whether the policies are ordered by that share (maintain >= wake up
>= do not contact), and the largest calibration gap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .config import Config
from .errors import ConfigError
from .i18n import t
from .store import Store

if TYPE_CHECKING:
    from .engine.orders import OrderTable

#: The dimensions of the ``backtest`` table, in order.
DIMENSIONS = ("all", "activity_state", "activity_policy", "tier", "rfm_segment", "warning")
GROUP_COLUMNS = ["dimension", "group", "customers", "bought_again", "bought_again_share",
                 "expected_share", "revenue", "revenue_share"]
CALIBRATION_COLUMNS = ["probability", "decile", "customers", "predicted", "actual", "gap"]
#: The probabilities the calibration checks: the purchase likelihood shown in the lists, and the
#: probability the policy rested on (when it came from the rhythm, not from the model).
PROBABILITIES = ("purchase_likelihood", "policy_probability")
#: Policies expected to come back most, first (the order the backtest checks).
POLICY_ORDER = ("maintain", "wake_up", "do_not_contact")
#: What :func:`compare` reads of a replayed snapshot's customers; besides, the backtest reads
#: its ``warnings`` table and its ``activity`` meta. The replay computes these only
#: (``build_snapshot(replay=True)``).
REPLAYED_COLUMNS = ("customer_key", *DIMENSIONS[1:-1], *PROBABILITIES)


@dataclass
class Backtest:
    """One backtest: the replay date, the horizon, the two tables and the headline checks."""

    as_of: dt.date | None
    replay_as_of: dt.date | None
    horizon_days: int
    groups: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=GROUP_COLUMNS))
    calibration: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=CALIBRATION_COLUMNS))
    meta: dict[str, Any] = field(default_factory=dict)
    #: Contacted against not contacted, where staff recorded outcomes on the period's tasks
    #: (:func:`tierwise.tasks.effect.contact_comparison`; empty without outcomes).
    contact: pd.DataFrame = field(default_factory=pd.DataFrame)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The run tables to store (none when the backtest did not run)."""
        if self.meta.get("status") != "ran":
            return {}
        tables = {"backtest": self.groups, "backtest_calibration": self.calibration}
        if len(self.contact):
            tables["backtest_contact"] = self.contact
        return tables

    def to_dict(self) -> dict[str, Any]:
        return {"meta": self.meta, "headline_en": headline(self.meta, "en"),
                "headline_zh": headline(self.meta, "zh"),
                "groups": _records(self.groups), "calibration": _records(self.calibration),
                "contact": _records(self.contact)}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v)
             for k, v in row.items()} for row in frame.to_dict(orient="records")]


# ---- the comparison (pure: a replayed snapshot and the orders after it) ------------------------

def outcomes(orders: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Per customer who bought in ``(start, end]``: ``bought`` (True) and net ``revenue``
    (exactly rounded, as :meth:`tierwise.engine.orders.OrderTable.outcomes` sums it on an
    engine)."""
    from .engine.orders import group_sums

    day = pd.to_datetime(orders["ordered_at"])
    hit = orders[(day > pd.Timestamp(start)) & (day <= pd.Timestamp(end))]
    refund = hit["is_refund"].fillna(False).astype(bool) if "is_refund" in hit \
        else hit["amount"] < 0
    bought = hit[~refund].groupby("customer_key").size().gt(0)
    revenue = group_sums(hit["amount"], hit["customer_key"])
    return pd.DataFrame({"bought": bought, "revenue": revenue}).fillna(
        {"bought": False, "revenue": 0.0})


def compare(replayed: pd.DataFrame, after: pd.DataFrame,
            warnings: pd.DataFrame | None = None, *, policy_calibration: bool = False
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``backtest`` and ``backtest_calibration`` tables (see the module notes).

    Parameters
    ----------
    replayed
        What the product said at the replay date, one row per customer: ``customer_key`` and the
        columns of :data:`DIMENSIONS` it has, plus ``purchase_likelihood``.
    after
        :func:`outcomes` of the horizon since.
    warnings
        The replay's early warnings (``customer_key``, ``kind``), or None.
    policy_calibration
        Also calibrate ``policy_probability`` (when it is not the model's likelihood).
    """
    frame = replayed.assign(
        bought=replayed["customer_key"].map(after["bought"]).fillna(False).astype(bool),
        revenue=replayed["customer_key"].map(after["revenue"]).fillna(0.0).astype(float))
    total = float(frame["revenue"].sum())
    parts = [_grouped(frame.assign(all="all"), "all", total)]
    for column in DIMENSIONS[1:-1]:
        if column in frame and frame[column].notna().any():
            parts.append(_grouped(frame, column, total))
    if warnings is not None and len(warnings):
        keep = [c for c in ("customer_key", "bought", "revenue", "policy_probability") if c in frame]
        warned = warnings[["customer_key", "kind"]].drop_duplicates().merge(
            frame[keep], on="customer_key")
        parts.append(_grouped(warned, "kind", total).assign(dimension="warning"))
    scores = PROBABILITIES if policy_calibration else PROBABILITIES[:1]
    calibration = pd.concat([_calibration(frame, score) for score in scores], ignore_index=True)
    return pd.concat(parts, ignore_index=True)[GROUP_COLUMNS], calibration


def _grouped(frame: pd.DataFrame, column: str, total: float) -> pd.DataFrame:
    """Customers, who bought again and their revenue per group, beside what was expected.

    ``expected_share`` is the group's mean ``policy_probability`` at the replay (the chance of a
    purchase in the horizon that the policies rested on), so a small group's share who bought
    can be read against what the product expected of it (1 of 9 is 11 %, but so is noise).
    """
    if "policy_probability" not in frame:
        frame = frame.assign(policy_probability=np.nan)
    g = frame.dropna(subset=[column]).groupby(column, sort=False).agg(
        customers=("bought", "size"), bought_again=("bought", "sum"), revenue=("revenue", "sum"),
        expected_share=("policy_probability", "mean"))
    g = g.reset_index().rename(columns={column: "group"}).assign(dimension=column)
    g["bought_again_share"] = g["bought_again"] / g["customers"]
    g["revenue_share"] = g["revenue"] / total if total else np.nan
    g["customers"] = g["customers"].astype(int)
    g["bought_again"] = g["bought_again"].astype(int)
    g["group"] = g["group"].astype(str)
    return g.sort_values("customers", ascending=False, kind="stable")


def _calibration(frame: pd.DataFrame, score: str = "purchase_likelihood") -> pd.DataFrame:
    if score not in frame:
        return pd.DataFrame(columns=CALIBRATION_COLUMNS)
    scored = frame[frame[score].notna()]
    if len(scored) < 10:
        return pd.DataFrame(columns=CALIBRATION_COLUMNS)
    rank = scored[score].rank(method="first")
    decile = pd.qcut(rank, 10, labels=False) + 1
    g = scored.groupby(decile).agg(customers=("bought", "size"),
                                   predicted=(score, "mean"),
                                   actual=("bought", "mean"))
    g = g.reset_index(names="decile").assign(probability=score)
    g["gap"] = g["predicted"] - g["actual"]
    g["decile"] = g["decile"].astype(int)
    g["customers"] = g["customers"].astype(int)
    return g[CALIBRATION_COLUMNS]


def checks(groups: pd.DataFrame, calibration: pd.DataFrame) -> dict[str, Any]:
    """The headline figures: silenced policies' share who bought again, ordering, calibration."""
    pol = groups[groups["dimension"] == "activity_policy"].set_index("group")
    share = pol["bought_again_share"].to_dict()
    silenced = pol.loc[[p for p in ("do_not_contact", "archive") if p in pol.index]]
    present = [share[p] for p in POLICY_ORDER if p in share]
    return {
        "policy_share": {k: float(v) for k, v in share.items()},
        "policy_customers": {k: int(v) for k, v in pol["customers"].to_dict().items()},
        "silenced_customers": int(silenced["customers"].sum()),
        "silenced_share": float(silenced["bought_again"].sum() / silenced["customers"].sum())
        if silenced["customers"].sum() else None,
        "policies_ordered": bool(all(a >= b for a, b in zip(present, present[1:])))
        if len(present) > 1 else None,
        "calibration_max_gap": _max_gap(calibration, "purchase_likelihood"),
        "policy_calibration_max_gap": _max_gap(calibration, "policy_probability"),
    }


def _max_gap(calibration: pd.DataFrame, score: str) -> float | None:
    gaps = calibration.loc[calibration["probability"] == score, "gap"]
    return float(gaps.abs().max()) if len(gaps) else None


def headline(meta: dict[str, Any], lang: str = "en") -> str:
    """The backtest's one-line headline in ``lang``, worded from its stored figures.

    A skipped backtest names its reason (``reason_code`` and ``reason_args``; runs stored before
    the codes kept ``reason_en`` / ``reason_zh``, which are used as they are).
    """
    if meta.get("status") != "ran":
        return t("bt_headline.skipped", lang, why=skip_reason(meta, lang) or "")
    c = meta["checks"]
    share = c["silenced_share"]
    silenced = t("bt_headline.none_silenced", lang) if share is None else \
        t("bt_headline.silenced", lang, share=f"{100 * share:.0f}",
          n=f"{c['silenced_customers']:,}")
    calibration = ""
    for key, gap in (("bt_headline.calibration", c.get("calibration_max_gap")),
                     ("bt_headline.policy_calibration", c.get("policy_calibration_max_gap"))):
        if gap is not None:
            calibration += t(key, lang, gap=f"{100 * gap:.0f}")
    return t("bt_headline.ran", lang, start=meta["replay_as_of"], horizon=meta["horizon_days"],
             silenced=silenced, calibration=calibration)


def skip_reason(meta: dict[str, Any], lang: str = "en") -> str | None:
    """Why a backtest was skipped, in ``lang`` (None when it ran)."""
    if meta.get("status") == "ran":
        return None
    if meta.get("reason_code"):
        return t(f"bt_skip.{meta['reason_code']}", lang, **(meta.get("reason_args") or {}))
    return meta.get(f"reason_{lang}") or meta.get("reason_en")


# ---- the stored backtest, as reports and pages read it ---------------------------------------------

def stored_backtest(meta: dict[str, Any] | None, groups: pd.DataFrame | None,
                    calibration: pd.DataFrame | None) -> dict[str, Any]:
    """A run's backtest as the reports and the web overview show it (one read model).

    Parameters
    ----------
    meta
        The run meta's ``backtest`` (None for a run made before backtests were stored).
    groups, calibration
        The run tables ``backtest`` and ``backtest_calibration`` (None when absent).

    Returns
    -------
    dict
        ``status`` (``ran``, ``skipped`` or ``none``), the dates, horizon, headlines (zh/en), the
        reason when skipped, the headline checks, ``groups`` per dimension (lists of records in
        the stored order) and ``calibration`` per probability (records by decile).
    """
    meta = meta or {}
    checks_ = meta.get("checks") or {}
    out: dict[str, Any] = {
        "status": meta.get("status") or "none",
        **{k: meta.get(k) for k in ("as_of", "replay_as_of", "horizon_days", "policy_floor",
                                     "policy_basis", "activity_mode")},
        **({f"headline_{lang}": headline(meta, lang) for lang in ("en", "zh")} if meta else
           {"headline_en": None, "headline_zh": None}),
        **{f"reason_{lang}": skip_reason(meta, lang) if meta else None for lang in ("en", "zh")},
        **{k: checks_.get(k) for k in ("silenced_customers", "silenced_share",
                                        "policies_ordered", "calibration_max_gap",
                                        "policy_calibration_max_gap")},
        "groups": {}, "calibration": {}}
    if out["status"] != "ran":
        return out
    if groups is not None and len(groups):
        for dim in DIMENSIONS:
            rows = groups[groups["dimension"] == dim]
            if len(rows):
                out["groups"][dim] = _records(rows.drop(columns="dimension"))
    if calibration is not None and len(calibration):
        if "probability" not in calibration:  # stored before the column existed
            calibration = calibration.assign(probability=PROBABILITIES[0])
        for score in PROBABILITIES:
            rows = calibration[calibration["probability"] == score]
            if len(rows):
                out["calibration"][score] = _records(rows.drop(columns="probability"))
    return out


# ---- the replay ----------------------------------------------------------------------------------

def _skipped(as_of: dt.date | None, replay: dt.date | None, horizon: int, code: str,
             **args: Any) -> Backtest:
    meta = {"status": "skipped", "as_of": as_of and as_of.isoformat(),
            "replay_as_of": replay and replay.isoformat(), "horizon_days": horizon,
            "reason_code": code, "reason_args": args}
    return Backtest(as_of, replay, horizon, meta=meta)


#: The order columns the outcomes need.
OUTCOME_COLUMNS = ("customer_key", "ordered_at", "amount", "is_refund")


def backtest_in_store(cfg: Config, store: Store, as_of: dt.date, *,
                      snapshot_at: Callable[[Config, dt.date], Any],
                      horizon_days: int | None = None, progress: Any = lambda _: None,
                      force: bool = False, orders: OrderTable | None = None) -> Backtest:
    """Replay the product ``horizon_days`` before ``as_of`` and compare (see the module notes).

    Parameters
    ----------
    cfg
        The config; ``[backtest]`` gives the horizon (default: the policy horizon) and the
        history needed; ``enabled = false`` skips it unless ``force``.
    store
        An open store with the orders.
    as_of
        The end of the comparison; the replay date is ``as_of - horizon_days``.
    snapshot_at
        ``(config, date) -> snapshot``: what the product says at a date from the orders up to
        it (:func:`tierwise.pipeline.compute_snapshot` on this store with ``replay=True``:
        without keeping its features, and computing only what the backtest reads,
        :data:`REPLAYED_COLUMNS`, the ``warnings`` table and the ``activity`` meta); the
        backtest calls it with the replay date.
    orders
        The orders on the run's engine (:class:`~tierwise.engine.orders.OrderTable`): the
        first purchase and the outcomes of the horizon are aggregates run there. None: the
        store's own ``orders`` table, through DuckDB.
    """
    if orders is None:
        from .engine import DuckDBEngine
        from .engine.orders import OrderTable

        with DuckDBEngine(store.con) as engine:
            return backtest_in_store(cfg, store, as_of, snapshot_at=snapshot_at,
                                     horizon_days=horizon_days, progress=progress, force=force,
                                     orders=OrderTable.of(engine))
    b = cfg.backtest
    horizon = int(horizon_days or b.horizon_days or cfg.activity.policy_horizon_days)
    if horizon <= 0:
        raise ConfigError(f"backtest horizon {horizon} days", "give a positive number of days")
    start = as_of - dt.timedelta(days=horizon)
    if not (b.enabled or force):
        return _skipped(as_of, start, horizon, "disabled")
    first = orders.first_purchase()
    need = b.min_history_days or cfg.activity.policy_horizon_days
    if first is None or (start - first).days < need:
        have = 0 if first is None else max((start - first).days, 0)
        return _skipped(as_of, start, horizon, "short_history", have=have,
                        start=start.isoformat(), need=need)
    progress(f"replaying the advice as of {start}")
    replay_cfg = cfg.model_copy(update={"value": cfg.value.model_copy(
        update={"purchase_horizon_days": horizon})})
    snap = snapshot_at(replay_cfg, start)
    # what compare reads, and no more: the replay's whole frame is freed before the outcomes
    replayed = snap.customers[[c for c in REPLAYED_COLUMNS if c in snap.customers]]
    warned, activity = snap.tables.get("warnings"), snap.meta.get("activity") or {}
    del snap
    after = orders.outcomes(start, as_of)
    groups, calibration = compare(
        replayed, after, warned,
        policy_calibration=activity.get("policy_basis") == "rhythm"
        and horizon == cfg.activity.policy_horizon_days)
    meta = {"status": "ran", "as_of": as_of.isoformat(), "replay_as_of": start.isoformat(),
            "horizon_days": horizon,
            "policy_horizon_days": cfg.activity.policy_horizon_days,
            "policy_floor": cfg.activity.policy_floor,
            "activity_mode": activity.get("mode"),
            "policy_basis": activity.get("policy_basis"),
            "checks": checks(groups, calibration)}
    from .tasks.effect import contact_comparison

    contact = contact_comparison(store, start, as_of, orders)
    if len(contact):  # figures only: an observation, not a randomised comparison (docs/tasks.md)
        meta["contact"] = {r["group"]: {k: r[k] for k in ("customers", "bought_again",
                                                          "bought_again_share")}
                           for r in contact.to_dict("records")}
    return Backtest(as_of, start, horizon, groups, calibration, meta, contact)


__all__ = ["Backtest", "OUTCOME_COLUMNS", "REPLAYED_COLUMNS", "backtest_in_store", "headline", "skip_reason", "checks", "compare", "outcomes",
           "stored_backtest", "DIMENSIONS", "PROBABILITIES"]

"""One run's results: every per-customer column and the run-level tables, from features.

The steps run in the order values flow: customer attributes, value (RFM, CLV), activity,
tiers and scorecard, key accounts, segments and clusters, then the run-level tables that compare
with the previous snapshot (migrations, early warnings) and summarise (attendance sheet, P&L,
Pareto). Each step calls the library module that owns the concept; nothing is computed here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._json import json_figures
from .config import Config
from .i18n import t

_CJK = re.compile(r"[\u4e00-\u9fff]")
CUSTOMER_COLUMNS = ["customer_key", "customer_id", "name", "phone", "email", "account_manager",
                    "kind", "region", "city", "industry", "size", "credit_rating", "tags",
                    "joined_at", "created_from_orders", "attributes",
                    # demographics for segment rules (`gender == "女" and age >= 30`); the
                    # snapshot does not keep them (they stay in the customers table)
                    "age", "gender"]


@dataclass
class Snapshot:
    """The per-customer frame (every column, including working ones) and run-level tables."""

    customers: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


def report_language(cfg: Config, frame: pd.DataFrame,
                    headers: list[str] | None = None) -> str:
    """``zh`` or ``en``: the config's choice, or (``auto``) zh when the inputs speak Chinese.

    Chinese when most of the source headers the ingest recorded (``headers``, e.g. 会员卡号,
    消费时间) are Chinese, or, failing headers, when most customer names are.
    """
    if cfg.language != "auto":
        return cfg.language
    texts = [h for h in (headers or []) if str(h).strip()]
    if not texts:
        names = frame.get("name")
        if names is None or names.dropna().empty:
            return "en"
        texts = names.dropna().astype(str).head(500).tolist()
    share = sum(bool(_CJK.search(str(t))) for t in texts) / len(texts)
    return "zh" if share >= 0.5 else "en"


#: Feature columns a customer without purchases has as 0 (counts and money); the others are NULL.
PROSPECT_ZERO_COLUMNS = ("n_orders", "total_amount", "refund_count", "refund_amount",
                         "visits_30d", "visits_b1", "visits_b2", "visits_b3", "spend_b1",
                         "spend_b2", "spend_b3", "value_period", "value_prev_period",
                         "value_same_period_ly", "clv_historical")
PROSPECT_NOTE = {lang: t("clv_note.prospect", lang) for lang in ("en", "zh")}
#: The prospect's note as the store keeps it (catalogue parts).
PROSPECT_NOTE_ARGS = json.dumps([["clv_note.prospect", {}]])


def with_attributes(features: pd.DataFrame, customers: pd.DataFrame,
                    as_of: dt.date | None = None) -> pd.DataFrame:
    """Features joined to the customers' columns, user attributes expanded into columns.

    Every known customer is kept: one without purchases by ``as_of`` (from the customers file
    or leads, joined by ``as_of`` when ``joined_at`` is known) is a prospect, with NULL
    features. Customers created from orders only appear once they have bought.
    """
    base = customers[[c for c in CUSTOMER_COLUMNS if c in customers]]
    frame = base.merge(features, on="customer_key", how="left", indicator="_bought")
    bought = (frame.pop("_bought") == "both").to_numpy()
    keep = bought | ~_created_from_orders(frame)
    if as_of is not None and "joined_at" in frame:
        joined = pd.to_datetime(frame["joined_at"], errors="coerce")
        keep &= bought | ~(joined > pd.Timestamp(as_of)).to_numpy()
    frame = frame[keep].reset_index(drop=True)
    attrs = frame["attributes"].map(lambda s: json.loads(s) if isinstance(s, str) else {})
    extra = pd.DataFrame(attrs.tolist(), index=frame.index)
    extra = extra[[c for c in extra.columns if c not in frame.columns]]
    for col in extra.columns:
        numeric = pd.to_numeric(extra[col], errors="coerce")
        if numeric.notna().sum() == extra[col].notna().sum():
            extra[col] = numeric
    return pd.concat([frame, extra], axis=1)


def _created_from_orders(frame: pd.DataFrame) -> np.ndarray:
    if "created_from_orders" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame["created_from_orders"].fillna(False).astype(bool).to_numpy()


def is_prospect(frame: pd.DataFrame) -> pd.Series:
    """True for customers without any purchase by the as-of date (NULL ``frequency``)."""
    return frame["frequency"].isna()


def with_prospects(buyers: pd.DataFrame, prospects: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Buyers (valued, with activity) and prospects in one frame, prospects' metrics filled.

    Prospects get 0 for counts and money (:data:`PROSPECT_ZERO_COLUMNS`), NULL for every
    per-purchase metric, score and state, ``lifecycle_stage`` ``prospect`` and a ``clv_note``.
    """
    if prospects.empty:
        return buyers
    prospects = prospects.copy()
    for column in PROSPECT_ZERO_COLUMNS:
        if column in buyers:
            prospects[column] = 0.0
    if "lifecycle_stage" in buyers:
        prospects["lifecycle_stage"] = "prospect"
    if "clv_note" in buyers:
        prospects["clv_note"] = PROSPECT_NOTE["zh" if lang == "zh" else "en"]
        prospects["clv_note_args"] = PROSPECT_NOTE_ARGS
    out = pd.concat([buyers, prospects], ignore_index=True)
    for column in buyers.columns:  # keep integer and boolean columns nullable, not float
        if pd.api.types.is_integer_dtype(buyers[column]) and out[column].isna().any():
            out[column] = out[column].astype("Int64")
    return out


def add_value(frame: pd.DataFrame, cfg: Config, orders: pd.DataFrame, lang: str = "en",
              history: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """RFM scores and segments, historical and predicted CLV; returns the model info.

    ``history`` (the purchase summary one policy horizon back) calibrates the purchase
    likelihood on what customers did since (:mod:`tierwise.models.calibration`).

    The info carries ``rfm`` (the learned bin edges, the typical gap and any warning) and
    ``rfm_bins`` (a table: per dimension and score, the rule and the customers in it).
    """
    from .models import fit_value_models
    from .models.historical import historical_clv
    from .models.rfm import ProblemGroups, RFMEightClass, RFMScorer, rfm_table

    r = cfg.rfm
    scorer = RFMScorer(r.method, cuts=r.cuts, r_thresholds=r.r_thresholds,
                       f_thresholds=r.f_thresholds, m_thresholds=r.m_thresholds,
                       monetary_column=r.monetary_column, recency=r.recency,
                       recency_gaps=r.recency_gaps)
    pg = r.problem_groups
    groups = ProblemGroups(ticket_column=pg.ticket_column, frequent_min_f=pg.frequent_min_f,
                           small_max_ticket=pg.small_max_ticket, big_min_ticket=pg.big_min_ticket,
                           rare_max_f=pg.rare_max_f)
    rfm = rfm_table(frame, scorer=scorer, segment_map=r.segment_map,
                    eight_class=RFMEightClass(r.class_center, monetary_column=r.monetary_column),
                    problem_groups=groups)
    hist = historical_clv(frame, gross_margin=cfg.value.gross_margin)
    v = cfg.value
    result = fit_value_models(
        frame[[c for c in ("frequency", "recency", "T", "monetary_value", "litt")
               if c in frame.columns]], v.model,
        horizon_days=v.horizon_days, purchase_horizon_days=v.purchase_horizon_days,
        discount_rate_annual=v.discount_rate, step_days=v.step_days,
        margin=_margin_rate(frame, v.gross_margin), penalizer=v.penalizer,
        time_unit=v.time_unit, min_repeat_buyers=v.min_repeat_buyers,
        orders=_model_orders(orders, frame, cfg),
        holdout_days=v.holdout_days, lang=lang, fit_sample=v.fit_sample,
        customer_ids=frame["customer_key"])
    n = v.purchase_horizon_days
    predicted = result.customers.rename(columns={f"expected_purchases_{n}d": "expected_purchases",
                                                 f"purchase_likelihood_{n}d": "purchase_likelihood"})
    out = pd.concat([frame, rfm, hist[["clv_historical", "clv_historical_basis"]], predicted],
                    axis=1)
    out["policy_probability"] = _policy_probability(result, frame, predicted, cfg)
    calibration = _calibrate(out, result, frame, cfg, history)
    info = {**result.info, "margin_basis": _margin_basis(frame, v.gross_margin),
            "likelihood_calibration": calibration,
            "rfm": {"edges": scorer.edges_table(), "typical_gap_days": scorer.typical_gap_,
                    "recency": scorer.recency, "warnings": scorer.warnings_},
            "rfm_bins": scorer.bins_table(frame)}
    return out, info


def _model_orders(orders: Any, frame: pd.DataFrame, cfg: Config) -> pd.DataFrame | None:
    """The orders the purchase model's selection reads (``customer_id`` = the key).

    From the engine (:class:`~tierwise.engine.orders.OrderTable`) only what the model reads is
    fetched: nothing unless ``value.model = 'auto'``, and then the fit sample's customers'
    orders when the base is larger than ``value.fit_sample`` (the rows
    :func:`~tierwise.models.clv.fit_value_models` would keep).
    """
    from .lifecycle._frames import in_engine
    from .models._summary import fit_sample_rows

    columns = ["customer_key", "ordered_at", "amount", "is_refund"]
    if in_engine(orders):
        if cfg.value.model != "auto":
            return None  # a named model is fitted on the summary alone
        size = cfg.value.fit_sample
        keys = None if size is None or len(frame) <= size else \
            frame["customer_key"].to_numpy()[fit_sample_rows(len(frame), size)]
        orders = orders.frame(None, columns, customers=keys)
    return orders[[c for c in columns if c in orders]].rename(
        columns={"customer_key": "customer_id"})


def _calibrate(out: pd.DataFrame, result: Any, frame: pd.DataFrame, cfg: Config,
               history: pd.DataFrame | None) -> dict[str, Any]:
    """Map the policy probability (and the likelihood, same horizon) on the last horizon."""
    from .models.calibration import calibrate_on_history

    horizon = cfg.activity.policy_horizon_days
    if not cfg.value.calibrate_likelihood:
        return {"status": "off (value.calibrate_likelihood = false)"}
    bought = frame.set_index("customer_key")["days_since_last"] < horizon
    cal, how = calibrate_on_history(result.transaction_model, history, bought, horizon,
                                    fit_sample=cfg.value.fit_sample)
    if cal is None:
        return {"status": f"not calibrated: {how}", "horizon_days": horizon}
    out["policy_probability"] = cal.transform(out["policy_probability"])
    columns = ["policy_probability"]
    if horizon == cfg.value.purchase_horizon_days:
        out["purchase_likelihood"] = cal.transform(out["purchase_likelihood"])
        columns.append("purchase_likelihood")
    return {"status": "calibrated", "horizon_days": horizon, "columns": columns, **cal.info()}


def _policy_probability(result: Any, frame: pd.DataFrame, predicted: pd.DataFrame,
                        cfg: Config) -> pd.Series:
    """The fitted purchase model's P(any purchase in the policy horizon); NaN without a model."""
    horizon = cfg.activity.policy_horizon_days
    model = result.transaction_model
    if model is None:
        return pd.Series(np.nan, index=frame.index)
    if horizon == cfg.value.purchase_horizon_days:
        return predicted["purchase_likelihood"]
    summary = frame[["frequency", "recency", "T"]]
    return model.purchase_probability(summary, horizon)


def _margin_rate(frame: pd.DataFrame, gross_margin: float | None) -> pd.Series:
    """Each customer's margin share of revenue where costs are known, else the configured rate."""
    fallback = 1.0 if gross_margin is None else gross_margin
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = frame["margin_total"] / frame["total_amount"]
    rate = rate.where(np.isfinite(rate) & (frame["total_amount"] > 0))
    return rate.clip(lower=0, upper=1).fillna(fallback)


def _margin_basis(frame: pd.DataFrame, gross_margin: float | None) -> str:
    if frame["margin_total"].notna().any():
        return "order margins or costs where known, else value.gross_margin"
    if gross_margin is not None:
        return f"configured gross margin {gross_margin:.0%}"
    return "revenue (no cost, margin or value.gross_margin given)"


def add_activity(frame: pd.DataFrame, cfg: Config, orders: pd.DataFrame, as_of: dt.date,
                 previous: pd.DataFrame | None, value_info: dict[str, Any],
                 history: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Activity states on the mode the data call for, then policies on probability.

    ``history``: the RFM summary one policy horizon back, to learn the rhythm's curve from when
    no purchase model can be trusted (:func:`~tierwise.lifecycle.rhythm_curve.fit_rhythm_curve`).
    """
    from .lifecycle import activity_mode, assign_policies, classify_activity, policy_basis
    from .lifecycle.rhythm_curve import fit_rhythm_curve

    rhythm, choice = activity_mode(frame, cfg)
    frame = classify_activity(frame, cfg, previous=previous, orders=orders, as_of=as_of,
                              mode=(rhythm, choice))
    basis, why = policy_basis(value_info)
    curve, curve_info = None, None
    if basis == "rhythm" and rhythm is not None:
        curve, how = fit_rhythm_curve(history, frame, cfg.activity.policy_horizon_days,
                                      min_gap_days=cfg.activity.rhythm_min_gap_days)
        why += f"; {how}" if curve is not None else \
            f"; not enough history for a curve ({how}): the rhythm formula"
        curve_info = curve.info_ if curve is not None else None
    frame = assign_policies(frame, cfg, basis=basis, curve=curve)
    if curve is not None and cfg.activity.policy_horizon_days == cfg.value.purchase_horizon_days:
        # no model is trusted: the lists show the chance learnt from the business's own
        # history, not the fallback's (on seeded monthly shoppers it was off by 0.45 a decile)
        frame["purchase_likelihood"] = frame["policy_probability"]
        why += "; the purchase likelihood shown is the rhythm curve's"
    info = {**choice.to_dict(), "rhythm": rhythm.params_ if rhythm is not None else None,
            "policy_basis": basis, "policy_basis_reason": why, "rhythm_curve": curve_info,
            "policy_horizon_days": cfg.activity.policy_horizon_days,
            "policy_floor": cfg.activity.policy_floor}
    return frame, _jsonable(info)


def add_tiers(frame: pd.DataFrame, cfg: Config, previous: pd.DataFrame | None, lang: str,
              *, replay: bool = False) -> pd.DataFrame:
    """Pyramid level and the general scorecard with its per-criterion contributions.

    ``replay``: without the contributions' JSON (the backtest reads the tier only).
    """
    from .tiering import Pyramid, Scorecard

    pyramid = Pyramid(cfg.pyramid, scorecard=cfg.scorecard.criteria).fit(frame)
    prev = previous[["customer_id", "tier"]] if previous is not None and "tier" in previous \
        else None
    tiered = pyramid.transform(frame, previous=prev, lang=lang, words=False)
    if "score" not in tiered:
        tiered = pd.concat([tiered, Scorecard(cfg.scorecard.criteria).fit_transform(frame)],
                           axis=1)
    if not replay:
        tiered["score_contributions"] = _contributions(tiered, "score_",
                                                       exclude={"score_flags"})
    return tiered


def add_key_accounts(frame: pd.DataFrame, cfg: Config, overrides: pd.DataFrame, lang: str,
                     *, replay: bool = False) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Key accounts (``replay``: without the contributions' JSON; the backtest's replay needs
    ``key_account`` only, because a key account is never silenced)."""
    from .tiering import select_key_accounts

    result = select_key_accounts(frame, cfg.key_accounts, overrides, lang=lang)
    out = result.frame
    if not replay:
        out["key_account_contributions"] = _contributions(
            out, "key_account_score_", exclude={"key_account_score_flags"})
    return out, _jsonable(vars(result.report))


def add_segments(frame: pd.DataFrame, cfg: Config) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Segment scheme (when configured) and behavioural clusters (when enabled)."""
    from .segments import BehaviourClusters, Scheme, segment_pnl

    pnl = None
    if cfg.segments.segment:
        scheme = Scheme.from_config(cfg.segments)
        frame = scheme.assign(frame)
        pnl = segment_pnl(frame, scheme=scheme)
    buyers = ~is_prospect(frame)  # prospects have no behaviour to cluster on
    if cfg.clustering.enabled and buyers.sum() >= 2 * cfg.clustering.k_range[0]:
        clusters = BehaviourClusters.from_config(cfg.clustering)
        # the clusters read their features only: the buyers' rows of those, not of the whole
        # frame (twice); a missing feature still gets the error naming the frame's columns
        wanted = list(clusters.features)
        rows = frame.loc[buyers, wanted] if all(c in frame for c in wanted) else frame[buyers]
        assigned = clusters.fit(rows).assign(rows)
        del rows
        for column in ("cluster", "cluster_profile", "cluster_profile_zh"):
            frame[column] = assigned[column].astype(str if column == "cluster" else object)
        frame["cluster"] = frame["cluster"].astype(object)
    return frame, pnl


def _contributions(frame: pd.DataFrame, prefix: str, exclude: set[str]) -> pd.Series:
    cols = [c for c in frame.columns if c.startswith(prefix) and c not in exclude
            and pd.api.types.is_numeric_dtype(frame[c])]
    if not cols:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    # The JSON ``{"name": points, ...}`` of each row, as json.dumps writes it, built a column
    # at a time: one template, the numbers formatted by C-level map (no dict per row).
    template = "{" + ", ".join(f"{json.dumps(c.removeprefix(prefix))}: %s" for c in cols) + "}"
    texts = [json_figures(frame[c].to_numpy(dtype=float)) for c in cols]
    return pd.Series([template % row for row in zip(*texts, strict=True)],
                     index=frame.index, dtype=object)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def run_tables(frame: pd.DataFrame, cfg: Config, orders: pd.DataFrame, as_of: dt.date,
               previous: pd.DataFrame | None, lang: str,
               surveys: pd.DataFrame | None = None, *,
               replay: bool = False) -> dict[str, pd.DataFrame]:
    """The run-level tables reports and the CLI show next to the per-customer results.

    The big-account tables (``key_account_review``, ``channel_contribution``,
    ``manager_performance``) are added when their inputs exist. ``replay``: the early
    ``warnings`` only (the one the backtest reads).
    """
    from .lifecycle import attendance_sheet, early_warnings, migration_matrix, state_policy_table
    from .models.pareto import pareto_curve
    from .tiering import big_account_tables, pyramid_summary, service_policy_table

    if replay:
        return {"warnings": early_warnings(frame, orders, as_of, cfg, prev=previous,
                                           period=cfg.period)}
    value = cfg.pyramid.ranking or ("clv_predicted" if "clv_predicted" in frame else "total_amount")
    tables = {
        "pyramid": pyramid_summary(frame, value="total_amount", lang=lang),
        "service_policies": service_policy_table(lang, cfg.pyramid),
        "state_policies": state_policy_table(),
        "pareto_curve": pareto_curve(frame["total_amount"], points=cfg.pareto.points),
        "attendance": attendance_sheet(orders, frame, as_of, config=cfg),
        "warnings": early_warnings(frame, orders, as_of, cfg, prev=previous, period=cfg.period),
    }
    if previous is not None:
        for column in ("tier", "activity_state", "segment"):
            if column in previous and column in frame and previous[column].notna().any():
                moved = migration_matrix(previous, frame, column=column, value="total_amount")
                tables[f"migration_{column}"] = moved.summary
                tables[f"migration_{column}_counts"] = moved.counts.reset_index()
    tables.update(big_account_tables(frame, orders, surveys, previous, as_of=as_of,
                                     period=cfg.period, warnings=tables["warnings"]))
    tables["ranking"] = pd.DataFrame({"ranking_value": [value]})
    return tables


def build_snapshot(cfg: Config, *, features: pd.DataFrame, customers: pd.DataFrame,
                   orders: pd.DataFrame, as_of: dt.date, previous: pd.DataFrame | None,
                   overrides: pd.DataFrame, progress: Any = lambda _: None,
                   surveys: pd.DataFrame | None = None,
                   headers: list[str] | None = None,
                   history: pd.DataFrame | None = None,
                   outcomes: pd.DataFrame | None = None, replay: bool = False) -> Snapshot:
    """Every result of one run, from the features the engine computed.

    ``orders`` holds ``customer_key``, ``ordered_at``, ``amount``, ``is_refund`` (and, for the
    big-account tables, ``channel``, ``agent``, ``cost``, ``margin``) up to ``as_of``;
    ``previous`` is the previous snapshot (or None); ``overrides`` the manual key-account changes;
    ``surveys`` the survey answers up to ``as_of`` (or None); ``headers`` the source headers
    the ingests recorded (they decide ``language = "auto"``); ``history`` the RFM summary one
    policy horizon back (or None), for the rhythm's curve (:func:`add_activity`); ``outcomes``
    the customers staff recorded as lost or moved away
    (:func:`tierwise.tasks.loop.archived_by_outcome`), archived before key accounts are chosen.

    ``replay`` (the backtest's snapshot one horizon back, :mod:`tierwise.backtest`): only what
    the backtest reads (:data:`tierwise.backtest.REPLAYED_COLUMNS`, the ``warnings`` table, the
    ``activity`` meta),
    with the same values: value, activity, tiers, key accounts (a key account is never
    silenced), the early warnings and the policies they change. No segments or clusters, no
    contributions' JSON, no summary tables (pyramid, Pareto, attendance, migrations, the
    big-account tables, RFM bins).
    """
    from .lifecycle import call_on_warnings, protect_accounts
    from .models.pareto import top_share

    frame = with_attributes(features, customers, as_of)
    # the engine's features and the customers are in ``frame`` now: not held to the end of the
    # run (the caller passes them without keeping a reference, pipeline.compute_snapshot)
    del features, customers
    lang = report_language(cfg, frame, headers)
    prospects = is_prospect(frame)
    # buyers and prospects apart, the whole frame not kept beside them while the models run
    buyers, frame = frame[~prospects].reset_index(drop=True), frame[prospects]
    progress("value: RFM and CLV models")
    buyers, value_info = add_value(buyers, cfg, orders, lang, history)
    rfm_bins = value_info.pop("rfm_bins")
    progress("activity states and policies")
    buyers, activity_info = add_activity(buyers, cfg, orders, as_of, previous, value_info,
                                         history)
    frame = with_prospects(buyers, frame, lang)
    del buyers
    if outcomes is not None and len(outcomes):
        from .tasks.loop import apply_outcomes

        frame = apply_outcomes(frame, outcomes)
    progress("pyramid and scorecard")
    frame = add_tiers(frame, cfg, previous, lang, replay=replay)
    progress("key accounts")
    frame, key_report = add_key_accounts(frame, cfg, overrides, lang, replay=replay)
    frame = protect_accounts(frame, cfg)
    pnl = None
    if not replay:  # nothing the backtest reads depends on segments or clusters
        progress("segments and clusters")
        frame, pnl = add_segments(frame, cfg)
    progress("migrations, warnings, attendance")
    tables = run_tables(frame, cfg, orders, as_of, previous, lang, surveys=surveys,
                        replay=replay)
    frame = call_on_warnings(frame, tables["warnings"], cfg)
    meta = {"language": lang, "value_model": _jsonable(value_info), "activity": activity_info,
            "key_accounts": key_report}
    if replay:
        return Snapshot(frame, tables, meta)
    tables["rfm_bins"] = rfm_bins
    if pnl is not None:
        tables["segment_pnl"] = pnl
    meta.update({"pareto_top_share": top_share(frame["total_amount"], cfg.pareto.top),
                 "pareto_top": cfg.pareto.top})
    return Snapshot(frame, tables, meta)

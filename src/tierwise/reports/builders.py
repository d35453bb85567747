"""Build a report's data from one run in the store: sections of titled tables and key figures.

Builders only gather and shape data (every label from the catalogue); renderers (``excel``)
decide how it looks.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..i18n import name_of
from ..lifecycle.policies import ACTIVITY_STATES, WAKE_UP_STATES
from ..runview import RunView
from ..store import Store
from ..tiering.growth import closest_to_next_level, fastest_growers
from ..tiering.policies import TIER_NAMES
from .backtest import backtest_section
from .selection import selection_section
from .feedback import feedback_section
from .contracts import contracts_section, pnl_section
from .catalogue import LANGUAGES, t
from .structure import Figure, Report, Section, Table, label_names

#: The report's sections in reading order: the overview, then who to call and why, then detail.
SECTION_KEYS = ("summary", "call", "pyramid", "rfm", "clv", "pareto", "key", "selection", "big",
                "prospects", "activity", "retention", "feedback", "backtest", "attendance",
                "segments", "contracts", "pnl", "migration", "warnings", "campaigns", "loyalty")


def build_report(store: Store, run: int | str = "latest", lang: str | None = None) -> Report:
    """Gather every section of the report for one run (``lang`` default: the run's language)."""
    info = store.run_info(run)
    meta = info.get("meta") or {}
    lang = lang or meta.get("language") or "en"
    if lang not in LANGUAGES:
        raise ConfigError(f"report language {lang!r} is not supported",
                          f"use one of: {', '.join(LANGUAGES)}")
    ctx = _Context(store, info, lang)
    builders = {"summary": _summary, "pyramid": _pyramid, "rfm": _rfm, "clv": _clv,
                "pareto": _pareto, "key": _key_accounts, "activity": _activity,
                "attendance": _attendance, "segments": _segments, "migration": _migration,
                "warnings": _warnings, "call": _call_list, "big": _big_accounts,
                "campaigns": _campaigns, "backtest": backtest_section,
                "retention": _retention, "loyalty": _loyalty, "selection": selection_section,
                "prospects": _prospects, "feedback": feedback_section,
                "contracts": contracts_section, "pnl": pnl_section}
    sections = {key: builders[key](ctx) for key in SECTION_KEYS}
    config = meta.get("config") or {}
    return Report(title=t("report.title", lang, name=config.get("name") or store.path.stem),
                  language=lang, run_id=int(info["run_id"]), period=str(info["period"]),
                  as_of=str(info["as_of"])[:10], currency=config.get("currency"),
                  sections=sections)


class _Context:
    def __init__(self, store: Store, info: dict[str, Any], lang: str) -> None:
        self.store, self.info, self.lang = store, info, lang
        self.meta = info.get("meta") or {}
        self.run_id = info["run_id"]
        self.view = RunView(store.con, self.run_id)
        self._snapshot: pd.DataFrame | None = None

    @property
    def snapshot(self) -> pd.DataFrame:
        if self._snapshot is None:
            self._snapshot = self.store.snapshot(self.run_id)
        return self._snapshot

    def table(self, name: str) -> pd.DataFrame | None:
        return self.store.run_table(self.run_id, name)

    def t(self, key: str, **fields: Any) -> str:
        return t(key, self.lang, **fields)

    def section(self, key: str, **fields: Any) -> Section:
        return Section(key, self.t(f"{key}.title"), self.t(f"{key}.intro", **fields))

    def missing(self, key: str, why: str | None = None, **fields: Any) -> Section:
        section = self.section(key, **fields)
        section.message = (self.t("report.not_available_because", why=self.t(why)) if why
                           else self.t("report.not_available"))
        return section

    def make(self, key: str, title_key: str, frame: pd.DataFrame,
             headers: dict[str, str] | None = None) -> Table:
        """A table whose headers come from ``col.<column>`` (or ``headers``)."""
        heads = {c: self.t(f"col.{c}") for c in frame.columns if f"col.{c}" in _KNOWN}
        heads.update(headers or {})
        return Table(key, self.t(title_key), frame.reset_index(drop=True), heads)

    def pick(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en


def _known() -> set[str]:
    from .catalogue import MESSAGES
    return set(MESSAGES)


_KNOWN = _known()


# -- sections -------------------------------------------------------------------------------
def _summary(c: _Context) -> Section:
    info, summary = c.info, c.view.summary()
    s = c.section("summary", run=info["run_id"], period=info["period"],
                  as_of=str(info["as_of"])[:10])
    s.figures += [Figure("run", c.t("fig.run"), int(info["run_id"]), "integer"),
                  Figure("period", c.t("fig.period"), str(info["period"]), "text"),
                  Figure("as_of", c.t("fig.as_of"), str(info["as_of"])[:10], "text")]
    for key, fmt in (("customers", "integer"), ("repeat_customers", "integer"),
                     ("revenue", "currency"), ("active_30d", "integer"), ("key_tier", "integer"),
                     ("key_accounts", "integer"), ("dormant_or_worse", "integer"),
                     ("clv_predicted_total", "currency")):
        if summary.get(key) is not None:
            s.figures.append(Figure(key, c.t(f"fig.{key}"), summary[key], fmt))
    top = float(c.meta.get("pareto_top", 0.2))
    share = c.view.pareto(top)["top_share"]
    if share is not None:
        s.figures.append(Figure("pareto_top_share", c.t("fig.pareto_top_share", top=f"{top:.0%}"),
                                share, "percent"))
    _margin_share(c, s, top)
    quality = _ingests(c)
    if len(quality):
        for key in ("rows_in", "accepted", "rejected"):
            s.figures.append(Figure(key, c.t(f"fig.{key}"), int(quality[key].sum()), "integer"))
        kinds = {k: c.t(f"val.{k}") for k in ("orders", "customers", "survey", "feedback",
                                               "contracts", "costs")}
        quality = quality.assign(kind=quality["kind"].map(lambda k: kinds.get(k, k)))
        s.tables.append(c.make("quality", "summary.quality", quality))
    return s


def _ingests(c: _Context) -> pd.DataFrame:
    """The latest read-in of each input before the run was made (the run's data)."""
    frame = c.view.inputs()
    for col in ("rows_in", "accepted", "rejected"):
        frame[col] = frame[col].astype("int64")
    frame["ingested_at"] = frame["ingested_at"].astype(str).str[:19]
    return frame


def _pyramid(c: _Context) -> Section:
    if c.table("pyramid") is None:
        return c.missing("pyramid", "why.no_table")
    s = c.section("pyramid")
    frame = pd.DataFrame(c.view.pyramid())
    frame.insert(1, "name", [TIER_NAMES[t][c.lang] for t in frame["tier"]])
    frame = frame[["tier", "name", "customers", "customer_share", "value", "value_share"]]
    policies = c.table("service_policies")
    if policies is not None:
        keep = [col for col in ("benefits", "response_time", "dedicated_manager", "payment_terms")
                if col in policies.columns]
        frame = frame.merge(policies[["tier", *keep]], on="tier", how="left")
        if "dedicated_manager" in frame:
            frame["dedicated_manager"] = frame["dedicated_manager"].map(
                lambda v: "" if v is None or v != v else c.t("val.yes" if v else "val.no"))
    frame["customers"] = frame["customers"].astype("int64")
    s.tables.append(c.make("levels", "pyramid.title", frame))
    s.figures.append(Figure("customers", c.t("fig.customers"), int(frame["customers"].sum()),
                            "integer"))
    how = _pyramid_rule(c)
    if how:
        s.figures.append(Figure("method", c.t("fig.pyramid_rule"), how, "text"))
    s.tables += _growth_tables(c)
    return s


def _growth_tables(c: _Context, n: int = 20) -> list[Table]:
    """Who grows fastest, and who is nearest the level above (:mod:`tierwise.tiering.growth`)."""
    tables = []
    growers = fastest_growers(c.snapshot, n)
    if len(growers):
        tables.append(c.make("growers", "pyramid.growers", _localised(c, growers, True)))
    closest = closest_to_next_level(c.snapshot, n)
    if len(closest):
        frame = _localised(c, closest, True)
        frame["next_tier"] = closest["next_tier"].map(lambda v: TIER_NAMES[v][c.lang])
        ranking = c.table("ranking")
        column = str(ranking["ranking_value"].iloc[0]) if ranking is not None and len(ranking) \
            else None
        by = c.t(f"col.{column}") if column and f"col.{column}" in _KNOWN else column
        tables.append(c.make("next_level", "pyramid.next_level", frame,
                             {"tier_score": by} if by else None))
    return tables


def _pyramid_rule(c: _Context) -> str | None:
    """How the run set the levels, in one sentence (from the run's own config)."""
    cfg = (c.meta.get("config") or {}).get("pyramid") or {}
    method = cfg.get("method")
    if not method:
        return None
    ranking = c.table("ranking")
    column = str(ranking["ranking_value"].iloc[0]) if ranking is not None and len(ranking) \
        else (cfg.get("ranking") or "total_amount")
    shown = c.t(f"col.{column}") if f"col.{column}" in _KNOWN else column
    shown = shown if c.lang == "zh" else shown[:1].lower() + shown[1:]
    cuts = {"customer_share": "customer_shares", "value_share": "value_shares",
            "thresholds": "thresholds", "scorecard": "score_cuts"}.get(method)
    if cuts is None:
        rule = c.t("pyramid.rule.custom", method=method)
    else:
        a, b, d = (f"{float(v):,.4g}" for v in list(cfg.get(cuts) or [])[:3])
        rule = c.t(f"pyramid.rule.{method}", ranking=shown, a=a, b=b, c=d)
    return rule + " " + c.t("pyramid.rule.graded", n=int(cfg.get("min_purchases") or 2))


def _rfm(c: _Context) -> Section:
    snap = c.snapshot
    scored = snap.dropna(subset=["rfm_r", "rfm_f"]) if {"rfm_r", "rfm_f"} <= set(snap) else snap[:0]
    if not len(scored):
        return c.missing("rfm")
    s = c.section("rfm")
    grid = pd.crosstab(scored["rfm_r"].astype(int), scored["rfm_f"].astype(int))
    grid = grid.reindex(index=[5, 4, 3, 2, 1], columns=[1, 2, 3, 4, 5], fill_value=0)
    grid.columns = [f"f{f}" for f in grid.columns]
    grid = grid.rename_axis("r").reset_index()
    headers = {"r": c.t("col.r"), **{f"f{f}": c.t("col.f", f=f) for f in range(1, 6)}}
    s.tables.append(Table("grid", c.t("rfm.grid"), grid.astype("int64"), headers,
                          {col: "integer" for col in grid.columns}))
    seg_col = "rfm_segment_zh" if c.lang == "zh" and "rfm_segment_zh" in scored else "rfm_segment"
    segs = (scored.groupby(scored[seg_col].fillna(c.t("val.none")))
            .agg(customers=("customer_key", "size"), revenue=("total_amount", "sum"),
                 clv_mean=("clv_predicted", "mean"))
            .rename_axis("rfm_segment").reset_index()
            .sort_values("customers", ascending=False))
    segs["customer_share"] = segs["customers"] / segs["customers"].sum()
    segs = segs[["rfm_segment", "customers", "customer_share", "revenue", "clv_mean"]]
    s.tables.append(c.make("segments", "rfm.segments", segs))
    for key, column, family in (("classes", "rfm_class_cn", "rfm_class"),
                                ("problem_groups", "problem_group", "problem_group")):
        table = _groups(c, scored, column, family, key)
        if table is not None:
            s.tables.append(table)
    return s


#: The order of the Chinese 8-class model (R, F, M high/low) and of the problem groups.
_GROUP_ORDER = {"rfm_class_cn": ("重要价值客户", "重要发展客户", "重要保持客户", "重要挽留客户",
                                 "一般价值客户", "一般发展客户", "一般保持客户", "一般挽留客户"),
                "problem_group": ("frequent_small", "big_rare")}


def _groups(c: _Context, scored: pd.DataFrame, column: str, family: str, key: str
            ) -> Table | None:
    """Customers, share, revenue, mean order and mean purchase likelihood per value of a
    stored class code (named in the report's language); None when the run has none."""
    if column not in scored or not scored[column].notna().any():
        return None
    share_of = len(scored)
    order = _GROUP_ORDER[column]
    base = scored.dropna(subset=[column])
    agg = {"customers": ("customer_key", "size"), "revenue": ("total_amount", "sum"),
           "mean_amount": ("mean_amount", "mean")}
    if "purchase_likelihood" in base:
        agg["purchase_likelihood"] = ("purchase_likelihood", "mean")
    frame = base.groupby(column).agg(**agg).reset_index()
    frame["rank"] = frame[column].map(lambda v: order.index(v) if v in order else len(order))
    frame = frame.sort_values(["rank", column]).drop(columns="rank")
    frame.insert(0, "class", frame.pop(column).map(lambda v: name_of(family, v, c.lang)))
    frame.insert(2, "customer_share", frame["customers"] / share_of if share_of else None)
    frame["customers"] = frame["customers"].astype("int64")
    headers = {"class": c.t(f"col.{'rfm_class' if family == 'rfm_class' else 'problem_group'}")}
    _likelihood_header(c, headers)
    return c.make(key, f"rfm.{key}", frame, headers)


def _likelihood_header(c: _Context, headers: dict[str, str]) -> None:
    """The purchase likelihood's header with the run's horizon (``90 天内购买概率``)."""
    n = c.view.purchase_horizon_days()
    if n is not None:
        headers["purchase_likelihood"] = c.t("col.purchase_likelihood_n", n=n)


def _with_outlook(c: _Context, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """``frame`` (one row per ``customer_id``) with the read model's outlook of each customer
    (:meth:`tierwise.runview.RunView.outlook`): purchase likelihood, expected next purchase,
    RFM class and problem group, named in the report's language; and the headers they need."""
    outlook = c.view.outlook(frame["customer_id"].astype(str).tolist()).set_index("customer_id")
    ids = frame["customer_id"].astype(str)
    out = frame.copy()
    out["purchase_likelihood"] = ids.map(outlook["purchase_likelihood"]).to_numpy()
    out["next_purchase_expected"] = ids.map(
        outlook["next_purchase_expected"].dt.strftime("%Y-%m-%d")).to_numpy()
    out["rfm_class"] = ids.map(outlook["rfm_class_cn"]).map(
        lambda v: name_of("rfm_class", v, c.lang)).to_numpy()
    out["problem_group"] = ids.map(outlook["problem_group"]).map(
        lambda v: name_of("problem_group", v, c.lang)).to_numpy()
    # from order lines: what to ask about on the call, and what to offer (what the customer's
    # tier buys and they never did)
    for column in ("favourite_products", "cross_sell"):
        if column in c.snapshot:
            items = c.snapshot.set_index(c.snapshot["customer_id"].astype(str))[column]
            items = ids.map(items[~items.index.duplicated()])
            if items.notna().any():
                out[column] = items.to_numpy()
    headers: dict[str, str] = {}
    _likelihood_header(c, headers)
    return out, headers


def _clv(c: _Context) -> Section:
    snap = c.snapshot
    clv = snap["clv_predicted"] if "clv_predicted" in snap else pd.Series(dtype=float)
    if not clv.notna().any():
        return c.missing("clv", "why.no_value_model")
    s = c.section("clv")
    model = c.meta.get("value_model") or {}
    for key, value in (("model", model.get("model")), ("method", model.get("method")),
                       ("log_likelihood", model.get("log_likelihood")),
                       ("confidence", model.get("confidence")),
                       ("confidence_reasons", "; ".join(model.get("reasons") or [])),
                       ("selection", (model.get("selection") or {}).get("reason")),
                       ("clv_predicted_total", float(clv.sum()))):
        if value not in (None, ""):
            s.figures.append(Figure(key, c.t(f"fig.{key}"), value,
                                    "currency" if key == "clv_predicted_total" else "auto"))
    values = clv.dropna()
    edges = _nice_edges(float(values.max()))
    cut = pd.cut(values, bins=edges, right=False, include_lowest=True)
    buckets = (values.groupby(cut, observed=False).agg(["size", "sum"])
               .rename(columns={"size": "customers", "sum": "clv_total"}).reset_index(drop=True))
    buckets.insert(0, "bucket", [_range_label(lo, hi) for lo, hi in zip(edges[:-1], edges[1:],
                                                                          strict=True)])
    buckets["customers"] = buckets["customers"].astype("int64")
    s.tables.append(c.make("buckets", "clv.buckets", buckets))
    top = snap.dropna(subset=["clv_predicted"]).nlargest(20, "clv_predicted")
    top = _localised(c, top)[["customer_id", "name", "account_manager", "tier",
                              "activity_state", "clv_predicted", "p_alive", "clv_confidence",
                              "total_amount"]]
    s.tables.append(c.make("top", "clv.top", top))
    rows = []
    for part, block in (("purchases", model), ("spend", model.get("spend") or {})):
        errors = block.get("standard_errors") or {}
        for name, value in (block.get("params") or {}).items():
            rows.append({"submodel": c.t(f"val.{part}"), "parameter": name,
                         "estimate": value, "standard_error": errors.get(name)})
    if rows:
        s.tables.append(c.make("fit", "clv.fit", pd.DataFrame(rows)))
    return s


def _nice_edges(top: float) -> list[float]:
    """0, then 1-2-5 steps up to just above ``top`` (the last bucket open-ended)."""
    edges = [0.0]
    step = 10.0
    while edges[-1] <= top and len(edges) < 14:
        for m in (1, 2, 5):
            if edges[-1] <= top:
                edges.append(step * m)
        step *= 10
    if edges[-1] <= top:
        edges.append(math.inf)
    # merge the small buckets at the bottom so that at most 10 remain
    while len(edges) > 11:
        del edges[1]
    return edges


def _range_label(lo: float, hi: float) -> str:
    return f"{lo:,.0f}+" if math.isinf(hi) else f"{lo:,.0f} - {hi:,.0f}"


def _pareto(c: _Context) -> Section:
    curve = c.table("pareto_curve")
    if curve is None or not len(curve):
        return c.missing("pareto", "why.no_table")
    s = c.section("pareto")
    frame = curve.rename(columns={"customer_share": "pareto_customer_share",
                                  "value_share": "pareto_value_share"})
    s.tables.append(c.make("curve", "pareto.curve", frame))
    top = float(c.meta.get("pareto_top", 0.2))
    share = c.view.pareto(top)["top_share"]
    if share is not None:
        s.figures.append(Figure("pareto_top_share", c.t("fig.pareto_top_share",
                                                        top=f"{top:.0%}"), share, "percent"))
    _margin_share(c, s, top)
    return s


def _margin_share(c: _Context, s: Section, top: float) -> None:
    """The top customers' share of margin (profit), when the orders carry a cost or margin."""
    share = c.view.margin_share(top)
    if share is not None:
        s.figures.append(Figure("pareto_top_margin_share",
                                c.t("fig.pareto_top_margin_share", top=f"{top:.0%}"), share,
                                "percent"))


def _key_accounts(c: _Context) -> Section:
    snap = c.snapshot
    keys = snap[snap["key_account"].fillna(False).astype(bool)] if "key_account" in snap else snap[:0]
    if not len(keys):
        return c.missing("key", "why.no_key_accounts")
    s = c.section("key")
    report = c.meta.get("key_accounts") or {}
    s.figures.append(Figure("key_accounts", c.t("fig.key_accounts"), len(keys), "integer"))
    for key in ("cap", "manual_adds", "manual_removes", "company_stage"):
        if report.get(key) is not None:
            s.figures.append(Figure(key, c.t(f"fig.{key}"), report[key]))
    notes = [*(report.get("warnings") or []), *(report.get("dropped_criteria") or [])]
    if notes:
        s.figures.append(Figure("notes", c.t("fig.notes"), "; ".join(notes), "text"))
    keys = keys.sort_values(["key_account_rank", "key_account_score"],
                            ascending=[True, False], na_position="last")
    frame = keys[["customer_id", "name", "account_manager", "key_account_type",
                  "key_account_score", "key_account_rank", "key_account_reason"]].copy()
    frame["key_account_type"] = frame["key_account_type"].map(
        lambda v: c.t(f"val.{v}") if v in ("strategic", "core") else v)
    frame, headers = _with_outlook(c, frame)
    frame = frame.drop(columns=["rfm_class", "problem_group"])
    contributions = [json.loads(v) if isinstance(v, str) and v else {}
                     for v in keys["key_account_contributions"]]
    criteria: list[str] = []
    for item in contributions:
        criteria += [k for k in item if k not in criteria]
    for name in criteria:
        col = f"criterion_{name}"
        frame[col] = [item.get(name) for item in contributions]
        headers[col] = c.t("col.criterion", name=name)
    table = c.make("list", "key.list", frame, headers)
    table.formats.update({f"criterion_{n}": "number" for n in criteria})
    s.tables.append(table)
    overrides = c.store.key_account_overrides()
    overrides = overrides[pd.to_datetime(overrides["at"]) <= pd.Timestamp(c.info["created_at"])]
    if len(overrides):
        overrides = overrides.assign(
            action=overrides["action"].map(lambda a: c.t(f"val.override_{a}")
                                           if f"val.override_{a}" in _KNOWN else a),
            at=overrides["at"].astype(str).str[:16])
        s.tables.append(c.make("overrides", "key.overrides",
                               overrides[["customer_id", "action", "reason", "by", "at"]]))
    s.tables.append(_pricing(c, keys))
    return s


def _pricing(c: _Context, keys: pd.DataFrame) -> Table:
    """Each kind of key account, how many there are and its pricing guidance (the built-in
    text unless the run's config changed it: ``[key_accounts.pricing.<kind>]``)."""
    from ..tiering.key_accounts import pricing_guidance
    from ..tiering.policies import PRICING_GUIDANCE

    cfg = c.view.key_accounts_config()
    counts = keys["key_account_type"].value_counts()
    frame = pd.DataFrame([{"key_account_type": c.t(f"val.{kind}"),
                           "key_accounts": int(counts.get(kind, 0)),
                           "pricing": pricing_guidance(kind, c.lang, cfg)}  # type: ignore[arg-type]
                          for kind in PRICING_GUIDANCE])
    return c.make("pricing", "key.pricing", frame)


#: The key-account review columns the report shows (the export keeps them all).
_REVIEW_SHOWN = ("customer_id", "name", "account_manager", "key_account_type", "tier",
                 "value_period", "value_prev_period", "growth_prev_pct", "growth_yoy_pct",
                 "revenue", "margin_rate", "clv_predicted", "days_since_last", "usual_gap_days",
                 "activity_state", "top_channel", "top_channel_share", "satisfaction_mean_12m",
                 "satisfaction_trend", "tier_movement", "open_warnings")
_MANAGER_SHOWN = ("account_manager", "accounts", "key_accounts", "revenue_period",
                  "revenue_prev_period", "growth_prev_pct", "growth_yoy_pct", "margin_total",
                  "moved_up", "moved_down", "warnings", "accounts_warned", "satisfaction_mean_12m")


def _big_accounts(c: _Context) -> Section:
    """Big-account analyses: the key-account review, channels and agents, account managers."""
    s = c.section("big")
    review = c.table("key_account_review")
    if review is not None and len(review):
        frame = review[[col for col in _REVIEW_SHOWN if col in review]].copy()
        frame["key_account_type"] = frame["key_account_type"].map(
            lambda v: c.t(f"val.{v}") if v in ("strategic", "core") else v)
        if "tier_movement" in frame:
            frame["tier_movement"] = frame["tier_movement"].map(
                lambda v: c.t(f"val.move_{v}") if f"val.move_{v}" in _KNOWN else v)
        s.tables.append(c.make("review", "big.review", _localised(c, frame, tier_only=True)))
    channels = c.table("channel_contribution")
    if channels is not None and len(channels):
        window = "period" if (channels["window"] == "period").any() else "to_date"
        frame = channels[channels["window"] == window]
        frame = frame.assign(
            scope=frame["scope"].map(lambda v: c.t(f"val.scope_{v}")),
            dimension=frame["dimension"].map(lambda v: c.t(f"col.{v}")))
        s.tables.append(c.make("channels", "big.channels",
                               frame[["scope", "dimension", "value", "orders", "customers",
                                      "revenue", "revenue_share", "margin", "margin_share"]]))
    managers = c.table("manager_performance")
    if managers is not None and len(managers):
        s.tables.append(c.make("managers", "big.managers",
                               managers[[col for col in _MANAGER_SHOWN if col in managers]]))
    if not s.tables:
        return c.missing("big", "why.no_key_accounts")
    return s


def _campaigns(c: _Context) -> Section:
    """The win-back campaigns made from this run or an earlier one, with their evaluation."""
    from ..campaigns import evaluate_campaign, list_campaigns
    from ..errors import TierwiseError
    try:
        campaigns = [cp for cp in list_campaigns(c.store) if cp.run_id <= c.run_id
                     and cp.meta.get("kind") != "reward"]  # rewards: the loyalty section
    except TierwiseError:
        campaigns = []
    if not campaigns:
        return c.missing("campaigns", "why.no_campaigns")
    s = c.section("campaigns")
    rows = []
    for campaign in campaigns:
        row: dict[str, Any] = {"campaign_id": campaign.campaign_id, "campaign": campaign.name,
                               "step": campaign.step,
                               "window": f"{campaign.window_start} - {campaign.window_end}",
                               "targets": campaign.n_target, "controls": campaign.n_control}
        try:
            ev = evaluate_campaign(c.store, campaign.campaign_id)
        except TierwiseError:
            ev = None
        if ev is not None:
            fig, lift = ev.figures, ev.lift
            row.update(used=fig.used, redemption_rate=fig.redemption_rate, revenue=fig.revenue,
                       total_cost=fig.total_cost, gross_profit=fig.gross_profit,
                       return_on_cost=fig.return_on_cost,
                       lift=c.t(f"val.lift_{lift.status}"),
                       incremental_profit=lift.incremental_profit)
        rows.append(row)
    s.tables.append(c.make("list", "campaigns.title", pd.DataFrame(rows)))
    steps = _campaign_steps(c, campaigns)
    if steps is not None:
        s.tables.append(c.make("steps", "campaigns.steps_title", steps))
    s.figures.append(Figure("cost_basis", c.t("fig.cost_basis"), c.t("campaigns.cost_basis"),
                            "text"))
    return s


def _loyalty(c: _Context) -> Section:
    """Customers per loyalty level, those closest to the next level, and the rewards' effect
    (:mod:`tierwise.loyalty.view`, the read model the CLI and the web show)."""
    from ..loyalty import run_loyalty
    from ..loyalty.view import levels_view, rewards_view

    loyalty = run_loyalty(c.meta)
    if not loyalty.level:
        return c.missing("loyalty", "why.no_loyalty", window=c.t(f"loyalty_window.{loyalty.window}"))
    s = c.section("loyalty", window=c.t(f"loyalty_window.{loyalty.window}"))
    view = levels_view(c.store.con, int(c.run_id), loyalty, c.lang)
    levels = pd.DataFrame(view["levels"])[["level_name", "min_spend", "customers",
                                           "spend_window", "in_grace", "near_next"]]
    table = c.make("levels", "loyalty.levels_title", levels, {"level_name": c.t("col.level")})
    table.formats.update(min_spend="currency", spend_window="currency", in_grace="integer",
                         near_next="integer")
    s.tables.append(table)
    if view["near"]:
        near = pd.DataFrame(view["near"])[["customer_id", "name", "level_name",
                                           "loyalty_distance", "next_level_name", "sentence"]]
        table = c.make("near", "loyalty.near_title", near, {
            "level_name": c.t("col.level"), "loyalty_distance": c.t("col.distance"),
            "next_level_name": c.t("col.next_level"), "sentence": c.t("col.sentence")})
        table.formats.update(loyalty_distance="currency")
        s.tables.append(table)
    rewards = rewards_view(c.store, loyalty, c.lang) if loyalty.reward else []
    if rewards:
        frame = pd.DataFrame(rewards).assign(months=lambda f: f["months"].str.join(" "))
        table = c.make("rewards", "loyalty.rewards_title", frame[[
            "reward_name", "months", "issued", "used", "cost", "target_rate", "control_rate",
            "uplift", "incremental_profit", "verdict"]], {"reward_name": c.t("col.reward"),
                                                          "target_rate": c.t("col.treated_rate")})
        table.formats.update(issued="integer", cost="currency")
        s.tables.append(table)
        s.figures.append(Figure("reward_note", c.t("fig.cost_basis"), c.t("loyalty.reward_note"),
                                "text"))
    elif loyalty.reward:
        s.figures.append(Figure("reward_note", c.t("col.reward"), c.t("loyalty.no_rewards"),
                                "text"))
    return s


def _campaign_steps(c: _Context, campaigns: list[Any]) -> pd.DataFrame | None:
    """Each step and the total of every campaign with follow-up steps (None: there is none)."""
    from ..campaigns import evaluate_series
    from ..errors import TierwiseError

    rows = []
    for first in [cp for cp in campaigns if cp.step == 1]:
        if not any(cp.series == first.campaign_id and cp.step > 1 for cp in campaigns):
            continue
        try:
            series = evaluate_series(c.store, first.campaign_id).to_dict()
        except TierwiseError:
            continue
        for step in [*series["steps"], series["total"]]:
            up = step["uplift"]
            rows.append({"campaign_id": first.campaign_id,
                         "step": c.t("campaigns.total_row") if step["step"] == "total"
                         else step["step"],
                         "window": f"{step['start']} - {step['end']}",
                         "targets": step["treated"], "treated_rate": step["treated_rate"],
                         "controls": step["control"], "control_rate": step["control_rate"],
                         "uplift": None if up is None else up["estimate"],
                         "incremental_revenue": step["incremental_revenue"],
                         "total_cost": step["cost"], "roi": step["roi"]})
    return pd.DataFrame(rows) if rows else None


def _retention(c: _Context) -> Section:
    """Cohorts, the retention curve, and repeat-purchase and churn rates by tier, segment, store."""
    from ..lifecycle.retention import cohort_matrix, retention_curve

    as_of = str(c.info["as_of"])[:10]
    cohorts, rates = c.view.cohorts(), c.view.retention()
    if cohorts is None or rates is None:
        return c.missing("retention", "why.no_retention", as_of=as_of)
    s = c.section("retention", as_of=as_of)
    segments = {}
    if c.lang == "zh" and "segment_zh" in c.snapshot:
        segments = c.snapshot.dropna(subset=["segment"]).drop_duplicates("segment") \
            .set_index("segment")["segment_zh"].to_dict()

    def name(by: str, group: Any) -> Any:
        if by == "all":
            return c.t("retention.everyone")
        if by == "tier":
            return name_of("tier", group, c.lang)
        return segments.get(group) or group if by == "segment" else group

    frame = rates.assign(grouping=[c.t(f"retention.by_{b}") for b in rates["by"]],
                         group_name=[name(b, g) for b, g in zip(rates["by"], rates["group"])])
    s.tables.append(c.make("rates", "retention.rates", frame[[
        "grouping", "group_name", "customers", "repeat_customers", "repeat_rate", "churned",
        "churn_rate"]]))
    curve = retention_curve(cohorts)
    s.tables.append(c.make("curve", "retention.curve", curve))
    wide = cohort_matrix(cohorts)
    table = c.make("cohorts", "retention.cohorts", wide)
    table.formats.update({col: "percent" for col in wide.columns[2:]})
    s.tables.append(table)
    everyone = rates[rates["by"] == "all"]
    if len(everyone):
        row = everyone.iloc[0]
        s.figures += [Figure("repeat_rate", c.t("col.repeat_rate"), float(row["repeat_rate"]),
                             "percent"),
                      Figure("churn_rate", c.t("col.churn_rate"), float(row["churn_rate"]),
                             "percent")]
    return s


def _prospects(c: _Context) -> Section:
    """Prospects graded apart: open prospects, the conversion rate per grade, conversions."""
    from ..history import run_prospects

    as_of = str(c.info["as_of"])[:10]
    view = run_prospects(c.store, c.run_id, lang=c.lang)
    if not len(view.check):
        return c.missing("prospects", "why.no_prospects", as_of=as_of)
    s = c.section("prospects", as_of=as_of)
    if view.meta.get("note") == "no_inputs":
        s.message = c.t("prospects.no_inputs")
    criteria = pd.DataFrame(view.meta.get("criteria") or [], columns=["name", "weight"])
    criteria["name"] = [c.t(f"prospect_criterion.{n}") if f"prospect_criterion.{n}" in _KNOWN
                        else n for n in criteria["name"]]
    s.tables.append(c.make("criteria", "prospects.criteria",
                           criteria.rename(columns={"name": "prospect_criterion"}),
                           {"weight": c.t("col.weight")}))
    s.tables[-1].formats["weight"] = "percent"
    prospects = view.prospects
    if len(prospects):
        frame = prospects[["customer_id", "name", "origin", "grade", "score", "explained",
                           "captured_at", "account_manager"]].copy()
        frame["origin"] = frame["origin"].map(lambda o: c.t(f"prospect_origin.{o}"))
        frame["captured_at"] = frame["captured_at"].map(lambda d: str(d)[:10] if d else "")
        s.tables.append(c.make("open", "prospects.open", frame))
    s.tables.append(c.make("check", "prospects.check", view.check))
    s.tables[-1].formats["conversion_rate"] = "percent"
    if len(view.conversions):
        won = view.conversions[["customer_id", "name", "grade", "captured_at", "first_order",
                                "days_to_convert", "first_revenue"]].copy()
        for column in ("captured_at", "first_order"):
            won[column] = won[column].map(lambda d: str(d)[:10] if d else "")
        s.tables.append(c.make("conversions", "prospects.conversions", won))
        s.tables[-1].formats["first_revenue"] = "currency"
    rates = view.check.set_index("grade")["conversion_rate"]
    s.figures += [Figure("prospects_open", c.t("fig.prospects_open"), len(prospects), "integer"),
                  Figure("prospects_converted", c.t("fig.prospects_converted"),
                         len(view.conversions), "integer")]
    for grade, key in (("A", "conversion_a"), ("D", "conversion_d")):
        if grade in rates and pd.notna(rates[grade]):
            s.figures.append(Figure(key, c.t(f"fig.{key}"), float(rates[grade]), "percent"))
    return s


def _activity(c: _Context) -> Section:
    snap = c.snapshot
    if "activity_state" not in snap or not snap["activity_state"].notna().any():
        return c.missing("activity")
    s = c.section("activity")
    counts = snap["activity_state"].value_counts()
    order = [st for st in ACTIVITY_STATES if st in counts.index] + \
            [st for st in counts.index if st not in ACTIVITY_STATES]
    frame = pd.DataFrame({"state_key": order,
                          "customers": [int(counts[st]) for st in order]})
    policies = c.table("state_policies")
    names = {}
    if policies is not None:
        suffix = "zh" if c.lang == "zh" else "en"
        pol = policies.set_index("state")
        names = pol[f"state_{suffix}"].to_dict()
        frame["policy"] = frame["state_key"].map(pol[f"policy_{suffix}"])
        frame["actions"] = frame["state_key"].map(pol[f"actions_{suffix}"])
    frame.insert(0, "state", frame["state_key"].map(lambda st: names.get(st, st)))
    frame["customer_share"] = frame["customers"] / frame["customers"].sum()
    frame = frame.drop(columns="state_key")
    cols = ["state", "customers", "customer_share",
            *[col for col in ("policy", "actions") if col in frame]]
    s.tables.append(c.make("states", "activity.title", frame[cols]))
    return s


def _attendance(c: _Context) -> Section:
    sheet = c.table("attendance")
    if sheet is None or not len(sheet):
        return c.missing("attendance", "why.no_table")
    s = c.section("attendance")
    bucket = "bucket_zh" if c.lang == "zh" else "bucket_en"
    sheet = sheet.assign(column=sheet["month"].astype(str) + " " + sheet[bucket].astype(str))
    order = sheet.drop_duplicates("column").sort_values("seq")["column"].tolist()
    people = (sheet.drop_duplicates("customer_key")
              [["customer_key", "rank", "customer_id", "name", "account_manager",
                "total_visits", "total_spend"]])
    visits = sheet.pivot_table(index="customer_key", columns="column", values="visits",
                               aggfunc="sum").reindex(columns=order)
    wide = people.merge(visits, left_on="customer_key", right_index=True, how="left") \
        .sort_values("rank").drop(columns="customer_key")
    wide.columns = [str(col) for col in wide.columns]
    table = c.make("sheet", "attendance.title", wide)
    table.formats.update({col: "integer" for col in order})
    table.formats["total_spend"] = "currency"
    s.tables.append(table)
    if "mean_spend" in sheet:
        spend = sheet.pivot_table(index="customer_key", columns="column", values="mean_spend",
                                  aggfunc="first").reindex(columns=order)
        wide = people.merge(spend, left_on="customer_key", right_index=True, how="left") \
            .sort_values("rank").drop(columns=["customer_key", "total_visits", "total_spend"])
        wide.columns = [str(col) for col in wide.columns]
        table = c.make("spend", "attendance.spend", wide)
        table.formats.update({col: "currency" for col in order})
        s.tables.append(table)
    return s


def _segments(c: _Context) -> Section:
    pnl = c.table("segment_pnl")
    clusters = _clusters(c)
    if (pnl is None or not len(pnl)) and clusters is None:
        return c.missing("segments", "why.no_table")
    s = c.section("segments")
    if pnl is not None and len(pnl):
        frame = pnl.copy()
        if c.lang == "zh" and "segment_zh" in frame:
            frame["segment"] = frame["segment_zh"].fillna(frame["segment"])
        cols = [col for col in ("segment", "owner", "playbook", "customers", "customer_share",
                                "revenue", "revenue_share", "margin") if col in frame]
        s.tables.append(c.make("pnl", "segments.title", frame[cols]))
    if clusters is not None:
        s.tables.append(clusters)
    return s


def _clusters(c: _Context) -> Table | None:
    """The behavioural clusters with their readable profile (in the report's language),
    customers, revenue and mean predicted value; None when the run did not cluster."""
    snap = c.snapshot
    if "cluster" not in snap or not snap["cluster"].notna().any():
        return None
    base = snap.dropna(subset=["cluster"])
    profile = "cluster_profile_zh" if c.lang == "zh" and "cluster_profile_zh" in base \
        else "cluster_profile"
    frame = (base.groupby("cluster")
             .agg(cluster_profile=(profile, "first"), customers=("customer_key", "size"),
                  revenue=("total_amount", "sum"), clv_mean=("clv_predicted", "mean"))
             .reset_index())
    frame["cluster"] = frame["cluster"].astype(str)
    frame = frame.sort_values("cluster", key=lambda k: pd.to_numeric(k, errors="coerce"))
    frame.insert(3, "customer_share", frame["customers"] / len(base))
    frame["customers"] = frame["customers"].astype("int64")
    return c.make("clusters", "segments.clusters", frame)


def _migration(c: _Context) -> Section:
    prev = c.meta.get("previous_run")
    tier = c.table("migration_tier")
    if tier is None or prev is None:
        return c.missing("migration", "why.first_run", prev=prev or "-")
    s = c.section("migration", prev=prev)
    s.figures.append(Figure("previous_run", c.t("fig.previous_run"), prev, "integer"))
    move = "movement_zh" if c.lang == "zh" else "movement_en"
    for name, key in (("migration_tier", "tier"), ("migration_activity_state", "state")):
        table = c.table(name)
        if table is not None:
            frame = table.assign(movement=table[move])[["movement", "customers", "value_prev",
                                                        "value_curr", "value_change"]]
            s.tables.append(c.make(key, f"migration.{key}", frame))
        counts = c.table(f"{name}_counts")
        if counts is not None:
            names = label_names(c, key)
            counts = counts.copy()
            counts["from"] = counts["from"].replace(names)
            counts.columns = ["from", *(str(names.get(col, col)) for col in counts.columns[1:])]
            tab = c.make(f"{key}_counts", f"migration.{key}_counts", counts)
            tab.formats.update({col: "integer" for col in counts.columns if col != "from"})
            s.tables.append(tab)
    return s


def _warning_frame(c: _Context) -> pd.DataFrame | None:
    table = c.table("warnings")
    if table is None or not len(table):
        return None
    msg = "message_zh" if c.lang == "zh" else "message_en"
    frame = table.assign(
        message=table[msg],
        severity=table["severity_zh"] if c.lang == "zh" and "severity_zh" in table
        else table["severity"],
        warning_kind=table["kind_zh"] if c.lang == "zh" and "kind_zh" in table else table["kind"])
    frame = _localised(c, frame, tier_only=True)
    return frame[["customer_id", "name", "account_manager", "tier", "severity", "warning_kind",
                  "message"]]


def _warnings(c: _Context) -> Section:
    frame = _warning_frame(c)
    if frame is None:
        return c.missing("warnings", "why.no_warnings")
    s = c.section("warnings")
    s.figures += [Figure("warnings", c.t("fig.warnings"), len(frame), "integer"),
                  Figure("warned_customers", c.t("fig.warned_customers"),
                         int(frame["customer_id"].nunique()), "integer")]
    s.tables.append(c.make("list", "warnings.title", frame))
    return s


def _call_list(c: _Context, n_calls: int = 50, n_wake_up: int = 30) -> Section:
    """Who to call this week, and why: warned accounts first, then valuable ones to wake up.

    One row per customer; a warned customer's row gathers all of its warnings (most severe
    first, as the run ordered them). The lists are capped so they fit a week's calls; the
    Warnings section keeps every warning.
    """
    s = c.section("call")
    warned = _warning_frame(c)
    if warned is not None:
        calls = (warned.groupby("customer_id", sort=False)
                 .agg(name=("name", "first"), account_manager=("account_manager", "first"),
                      tier=("tier", "first"), severity=("severity", "first"),
                      why=("message", lambda m: "; ".join(dict.fromkeys(m))))
                 .reset_index())
        s.figures.append(Figure("warned_customers", c.t("fig.warned_customers"), len(calls),
                                "integer"))
        if len(calls) > n_calls:
            s.figures.append(Figure("calls_shown", c.t("fig.calls_shown"),
                                    c.t("call.capped", shown=n_calls, total=len(calls)), "text"))
        calls, heads = _with_outlook(c, calls.head(n_calls))
        s.tables.append(c.make("warnings", "call.warnings", calls, heads))
    snap = c.snapshot
    if "activity_state" in snap and "clv_predicted" in snap:
        pool = snap[snap["activity_state"].isin(WAKE_UP_STATES) & snap["clv_predicted"].notna()]
        if warned is not None:
            pool = pool[~pool["customer_id"].isin(warned["customer_id"])]
        pool = pool.nlargest(n_wake_up, "clv_predicted")
        if len(pool):
            frame = _localised(c, pool)
            frame["last_purchase"] = frame["last_purchase"].astype(str).str[:10]
            names = label_names(c, "state")
            visits = pool["visits_30d"] if "visits_30d" in pool else [None] * len(pool)
            frame["why"] = [c.t("call.why_wake_up", state=names.get(state, state),
                                visits=_days(n), days=_days(days))
                            for state, n, days in zip(pool["activity_state"], visits,
                                                      pool["days_since_last"])]
            policies = c.table("state_policies")
            if policies is not None:
                actions = policies.set_index("state")["actions_zh" if c.lang == "zh"
                                                       else "actions_en"]
                frame["actions"] = pool["activity_state"].map(actions).to_numpy()
            frame, heads = _with_outlook(c, frame)
            cols = ["customer_id", "name", "account_manager", "tier", "activity_state",
                    "clv_predicted", "purchase_likelihood", "last_purchase",
                    "next_purchase_expected", "rfm_class", "problem_group",
                    "favourite_products", "cross_sell", "why", "actions", "segment_owner",
                    "playbook"]
            s.tables.append(c.make("wake_up", "call.wake_up",
                                   frame[[col for col in cols if col in frame]], heads))
            s.figures.append(Figure("wake_up", c.t("fig.wake_up"), len(frame), "integer"))
    if not s.tables:
        s.message = c.t("report.not_available")
    return s


def _days(value: Any) -> str:
    return "-" if value is None or value != value else f"{int(value):,}"


def _localised(c: _Context, frame: pd.DataFrame, tier_only: bool = False) -> pd.DataFrame:
    """Tier and activity state in the report's language."""
    frame = frame.copy()
    if c.lang == "zh":
        if "tier" in frame:
            names = dict(zip(c.snapshot["tier"], c.snapshot["tier_zh"], strict=True)) \
                if "tier_zh" in c.snapshot else {}
            frame["tier"] = frame["tier"].map(lambda v: names.get(v, v))
        if not tier_only and "activity_state_zh" in frame:
            frame["activity_state"] = frame["activity_state_zh"].fillna(frame["activity_state"])
    return frame

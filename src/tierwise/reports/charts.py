"""Chart specifications for the HTML report, drawn from the report's own tables.

Each function takes a built :class:`~tierwise.reports.builders.Report` and returns a plotly.js
figure (``{"data": [...], "layout": {...}}``, plain JSON-ready dicts) or None when the section has
no data. Every number comes from a section table, so the HTML charts show the same figures as
the workbook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ..config import PYRAMID_LEVELS
from .structure import Report, Section
from .catalogue import t

Chart = dict[str, Any]
PALETTE = ["#1f4e79", "#2e75b6", "#9dc3e6", "#c9d9ea", "#f4b183", "#c55a11", "#7f7f7f",
           "#a9d18e", "#548235", "#ffd966"]
STATE_COLOURS = ["#548235", "#a9d18e", "#ffd966", "#f4b183", "#c00000", "#595959"]


def _layout(**extra: Any) -> dict[str, Any]:
    base = {"margin": {"l": 60, "r": 20, "t": 30, "b": 50}, "height": 360,
            "font": {"family": "system-ui, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', "
                               "sans-serif", "size": 12},
            "paper_bgcolor": "white", "plot_bgcolor": "white", "showlegend": False}
    base.update(extra)
    return base


def _table(section: Section, key: str) -> pd.DataFrame | None:
    if not section.available:
        return None
    try:
        frame = section.table(key).frame
    except KeyError:
        return None
    return frame if len(frame) else None


def pyramid(report: Report) -> Chart | None:
    """A pyramid: key at the top, long-tail at the bottom; bar width = customers.

    Only the four graded levels; new customers and prospects stay in the table below it.
    """
    frame = _table(report["pyramid"], "levels")
    if frame is None:
        return None
    frame = frame[frame["tier"].isin(PYRAMID_LEVELS)]
    if not len(frame):
        return None
    table = report["pyramid"].table("levels")
    labels = frame["name"].astype(str).tolist()
    shares = [f"{v:.1%}" for v in frame["value_share"].fillna(0)]
    return {"data": [{
        "type": "funnel", "y": labels, "x": frame["customers"].tolist(),
        "text": [t("chart.value_share", report.language, share=s) for s in shares],
        "textinfo": "value+percent total+text", "textposition": "inside",
        "marker": {"color": PALETTE[:len(labels)]},
        "connector": {"fillcolor": "#eef3f8", "line": {"width": 0}},
        "hovertemplate": "%{y}: %{x:,} " + table.header("customers") + "<extra></extra>"}],
        "layout": _layout(margin={"l": 110, "r": 20, "t": 20, "b": 20})}


def pareto(report: Report) -> Chart | None:
    """The cumulative share of value against the share of customers, with the diagonal."""
    frame = _table(report["pareto"], "curve")
    if frame is None:
        return None
    table = report["pareto"].table("curve")
    x = [0.0, *frame["pareto_customer_share"].tolist()]
    y = [0.0, *frame["pareto_value_share"].tolist()]
    return {"data": [
        {"type": "scatter", "mode": "lines", "x": x, "y": y, "line": {"color": PALETTE[0],
                                                                      "width": 3},
         "name": table.header("pareto_value_share"),
         "hovertemplate": "%{x:.0%} → %{y:.1%}<extra></extra>"},
        {"type": "scatter", "mode": "lines", "x": [0, 1], "y": [0, 1], "hoverinfo": "skip",
         "line": {"color": "#bfbfbf", "dash": "dot"}, "name": ""}],
        "layout": _layout(xaxis={"title": {"text": table.header("pareto_customer_share")},
                                 "tickformat": ".0%", "range": [0, 1], "gridcolor": "#eee"},
                          yaxis={"title": {"text": table.header("pareto_value_share")},
                                 "tickformat": ".0%", "range": [0, 1.02], "gridcolor": "#eee"})}


def rfm(report: Report) -> Chart | None:
    """The R x F grid as a heat map, each cell labelled with its customer count."""
    frame = _table(report["rfm"], "grid")
    if frame is None:
        return None
    table = report["rfm"].table("grid")
    f_cols = [c for c in frame.columns if c != "r"]
    z = frame[f_cols].to_numpy().tolist()
    return {"data": [{
        "type": "heatmap", "z": z, "x": [table.header(c) for c in f_cols],
        "y": [f"R = {r}" for r in frame["r"]], "colorscale": [[0, "#f8f8f8"], [0.5, "#ffd966"],
                                                             [1, "#c00000"]],
        "text": z, "texttemplate": "%{text:,}", "hovertemplate": "%{y}, %{x}: %{z:,}<extra></extra>",
        "showscale": False}],
        "layout": _layout(yaxis={"autorange": "reversed"}, margin={"l": 60, "r": 20, "t": 20,
                                                                     "b": 40})}


def _bars(frame: pd.DataFrame, label: str, value: str, hover: str,
          colours: list[str] | None = None) -> Chart:
    return {"data": [{"type": "bar", "x": frame[label].astype(str).tolist(),
                      "y": frame[value].tolist(), "text": frame[value].tolist(),
                      "texttemplate": "%{text:,}", "textposition": "outside",
                      "marker": {"color": colours or PALETTE[1]},
                      "hovertemplate": "%{x}: %{y:,} " + hover + "<extra></extra>"}],
            "layout": _layout(yaxis={"title": {"text": hover}, "gridcolor": "#eee"})}


def activity(report: Report) -> Chart | None:
    frame = _table(report["activity"], "states")
    if frame is None:
        return None
    header = report["activity"].table("states").header("customers")
    return _bars(frame, "state", "customers", header, STATE_COLOURS[:len(frame)])


def clv(report: Report) -> Chart | None:
    frame = _table(report["clv"], "buckets")
    if frame is None:
        return None
    table = report["clv"].table("buckets")
    chart = _bars(frame, "bucket", "customers", table.header("customers"))
    chart["layout"]["xaxis"] = {"title": {"text": table.header("bucket")}}
    return chart


def migration(report: Report) -> Chart | None:
    """A Sankey of tier movements: before (left) to now (right), link width = customers.

    The rows include ``(new)`` (not in the previous snapshot) and the columns ``(gone)``.
    """
    frame = _table(report["migration"], "tier_counts")
    if frame is None:
        return None
    before_label = t("chart.before", report.language)
    now_label = t("chart.now", report.language)
    targets = [c for c in frame.columns if c != "from"]
    sources = frame["from"].astype(str).tolist()
    labels = [f"{before_label}: {s}" for s in sources] + [f"{now_label}: {c}" for c in targets]
    links: dict[str, list[Any]] = {"source": [], "target": [], "value": []}
    counts = frame[targets].to_numpy()
    for i, j in zip(*counts.nonzero()):
        links["source"].append(int(i))
        links["target"].append(len(sources) + int(j))
        links["value"].append(int(counts[i, j]))
    if not links["value"]:
        return None
    # one colour per level, the same on both sides
    levels = list(dict.fromkeys([*sources, *map(str, targets)]))
    colours = [PALETTE[levels.index(str(v)) % len(PALETTE)] for v in [*sources, *targets]]
    return {"data": [{"type": "sankey", "arrangement": "snap",
                      "node": {"label": labels, "pad": 14, "thickness": 16, "color": colours},
                      "link": {**links, "color": "rgba(46,117,182,0.25)"}}],
            "layout": _layout(height=420, margin={"l": 10, "r": 10, "t": 20, "b": 20})}


def key_matrix(report: Report, limit: int = 30) -> Chart | None:
    """Each key account's score, stacked by criterion: why it is a key account."""
    frame = _table(report["key"], "list")
    if frame is None:
        return None
    table = report["key"].table("list")
    criteria = [c for c in frame.columns if str(c).startswith("criterion_")]
    if not criteria:
        return None
    top = frame.head(limit).iloc[::-1]  # the first rank at the top of a horizontal bar chart
    names = [f"{cid} {name}" if pd.notna(name) and str(name) else str(cid)
             for cid, name in zip(top["customer_id"], top["name"])]
    data = [{"type": "bar", "orientation": "h", "name": table.header(col), "y": names,
             "x": top[col].fillna(0).round(2).tolist(),
             "marker": {"color": PALETTE[k % len(PALETTE)]},
             "hovertemplate": "%{y}<br>" + table.header(col) + ": %{x:.1f}<extra></extra>"}
            for k, col in enumerate(criteria)]
    return {"data": data,
            "layout": _layout(barmode="stack", showlegend=True, height=max(300, 26 * len(top) + 120),
                              legend={"orientation": "h", "y": -0.12},
                              xaxis={"title": {"text": table.header("key_account_score")},
                                     "gridcolor": "#eee"},
                              yaxis={"automargin": True},
                              margin={"l": 20, "r": 20, "t": 20, "b": 60})}


def warnings(report: Report) -> Chart | None:
    """Warnings by kind and severity."""
    frame = _table(report["warnings"], "list")
    if frame is None:
        return None
    table = report["warnings"].table("list")
    counts = frame.groupby(["warning_kind", "severity"]).size().unstack(fill_value=0)
    data = [{"type": "bar", "name": str(sev), "x": [str(k) for k in counts.index],
             "y": counts[sev].tolist(), "marker": {"color": PALETTE[k % len(PALETTE)]},
             "hovertemplate": "%{x}: %{y:,}<extra>" + str(sev) + "</extra>"}
            for k, sev in enumerate(counts.columns)]
    return {"data": data,
            "layout": _layout(barmode="stack", showlegend=True, legend={"orientation": "h"},
                              yaxis={"title": {"text": table.header("warning_kind")},
                                     "gridcolor": "#eee"})}


def backtest(report: Report) -> Chart | None:
    """Predicted probability and the share who really bought, per decile (one line pair per
    probability the backtest checked): the closer the pairs, the better calibrated."""
    section = report["backtest"]
    lang = report.language
    data = []
    for n, key in enumerate(("calibration", "policy_calibration")):
        frame = _table(section, key)
        if frame is None:
            continue
        title = section.table(key).title
        colour = PALETTE[0] if n == 0 else PALETTE[5]
        for what, dash in (("predicted", "dot"), ("actual", "solid")):
            data.append({"type": "scatter", "mode": "lines+markers",
                         "x": frame["decile"].tolist(), "y": frame[what].tolist(),
                         "name": f"{title}: {t(f'chart.{what}', lang)}",
                         "line": {"color": colour, "dash": dash},
                         "hovertemplate": "%{x}: %{y:.1%}<extra></extra>"})
    if not data:
        return None
    table = section.table("calibration" if _table(section, "calibration") is not None
                          else "policy_calibration")
    return {"data": data,
            "layout": _layout(showlegend=True, legend={"orientation": "h", "y": -0.2},
                              xaxis={"title": {"text": table.header("decile")}, "dtick": 1},
                              yaxis={"title": {"text": table.header("actual")},
                                     "tickformat": ".0%", "range": [0, 1.02],
                                     "gridcolor": "#eee"},
                              height=400)}


def cohort_heatmap(cohorts: pd.DataFrame, lang: str) -> Chart | None:
    """Cohorts as a heat map: first-purchase month (rows, oldest at the top) x months since
    (columns), colour = share of the cohort that bought; from the long cohort table
    (:func:`tierwise.lifecycle.retention.cohort_table`). The dashboard draws the same chart."""
    if cohorts is None or not len(cohorts):
        return None
    wide = cohorts.pivot(index="cohort", columns="months_since", values="share").sort_index()
    sizes = cohorts.drop_duplicates("cohort").set_index("cohort")["customers"] \
        .reindex(wide.index)
    z = [[None if pd.isna(v) else round(float(v), 4) for v in row] for row in wide.to_numpy()]
    rows = [f"{c} ({int(n):,})" for c, n in zip(wide.index, sizes, strict=True)]
    share = t("chart.share_bought", lang)
    return {"data": [{
        "type": "heatmap", "z": z, "x": [int(c) for c in wide.columns], "y": rows,
        "zmin": 0, "zmax": 1, "colorscale": [[0, "#f7fbff"], [0.5, "#6baed6"], [1, "#08306b"]],
        "colorbar": {"tickformat": ".0%", "title": {"text": share}},
        "hovertemplate": "%{y}, +%{x}: %{z:.1%}<extra></extra>", "hoverongaps": False}],
        "layout": _layout(height=max(320, 16 * len(rows) + 90),
                          margin={"l": 130, "r": 20, "t": 20, "b": 50},
                          xaxis={"title": {"text": t("chart.months_since", lang)},
                                 "dtick": 3 if len(wide.columns) > 12 else 1},
                          yaxis={"title": {"text": t("chart.cohort", lang)},
                                 "autorange": "reversed", "type": "category"})}


def retention(report: Report) -> Chart | None:
    """The cohort heat map of the retention section (its cohort table, in long form again)."""
    frame = _table(report["retention"], "cohorts")
    if frame is None:
        return None
    months = [c for c in frame.columns if c not in ("cohort", "customers")]
    long = frame.melt(id_vars=["cohort", "customers"], value_vars=months,
                      var_name="months_since", value_name="share")
    long["months_since"] = long["months_since"].astype(int)
    return cohort_heatmap(long, report.language)


#: Which chart goes with which section (in the order they are drawn).
CHARTS: dict[str, Callable[[Report], Chart | None]] = {
    "pyramid": pyramid, "rfm": rfm, "clv": clv, "pareto": pareto, "key": key_matrix,
    "activity": activity, "retention": retention, "backtest": backtest, "migration": migration,
    "warnings": warnings}


def report_charts(report: Report) -> dict[str, Chart]:
    """Every chart the report has data for, by section key."""
    out = {}
    for key, make in CHARTS.items():
        if key in report.sections:
            chart = make(report)
            if chart is not None:
                out[key] = chart
    return out

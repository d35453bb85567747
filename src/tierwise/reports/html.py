"""Render a ``Report`` as one self-contained HTML file: plotly.js inlined, no network needed.

The same builders feed the workbook and this page; the charts are drawn from the section tables
(see :mod:`tierwise.reports.charts`). The page prints one section per sheet of paper.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from .structure import Report, Table
from .catalogue import t
from .charts import report_charts
from .excel import CURRENCY_SYMBOLS

#: Tables longer than this show their first rows and say so (the workbook keeps every row).
MAX_ROWS = 300
#: The chart library, inlined in every page: plotly.js 4.1.1, the single minified file of the npm
#: package ``plotly.js-dist-min`` (MIT licence, Copyright 2012-2026 Plotly, Inc.; the licence is
#: ``static/plotly.js-LICENSE.txt`` beside it). Shipped in the package instead of the plotly
#: Python wheel (63 MB installed), which was only used for this file. To update:
#: ``npm pack plotly.js-dist-min@VERSION`` and copy ``package/plotly.min.js`` and
#: ``package/LICENSE`` here.
PLOTLY_JS = "static/plotly.min.js"
PLOTLY_JS_VERSION = "4.1.1"


@cache
def plotly_js() -> str:
    """The text of plotly.js (read once per process)."""
    return resources.files("tierwise.reports").joinpath(PLOTLY_JS).read_text("utf-8")


def render_html(report: Report, path: Path | str) -> Path:
    """Write the report to ``path`` (through a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(html_text(report), encoding="utf-8")
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def html_text(report: Report) -> str:
    """The whole page as text."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("tierwise.reports", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             trim_blocks=True, lstrip_blocks=True)
    charts = report_charts(report)
    fmt = _Formatter(report.currency)
    sections = []
    for key, section in report.sections.items():
        sections.append({
            "key": key, "title": section.title, "intro": section.intro,
            "message": section.message, "chart": key in charts,
            "figures": [{"key": f.key, "label": f.label, "value": fmt(f.value, f.format)}
                        for f in section.figures],
            "tables": [_table(table, fmt, report.language) for table in section.tables]})
    return env.get_template("report.html.j2").render(
        report=report, sections=sections, lang=report.language,
        html_lang="zh-CN" if report.language == "zh" else "en",
        text=lambda key, **fields: t(key, report.language, **fields),
        plotly_js=jinja2.filters.Markup(plotly_js()),
        chart_json=jinja2.filters.Markup(_script_json(charts)),
        generated=dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"))


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no '</' that could close it)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=_plain)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def _table(table: Table, fmt: _Formatter, lang: str) -> dict[str, Any]:
    frame = table.frame
    shown = frame.head(MAX_ROWS)
    kinds = [table.format(col) for col in frame.columns]
    rows = [[(fmt(value, kind), _numeric(value, kind)) for value, kind in zip(record, kinds)]
            for record in shown.itertuples(index=False)]
    note = t("report.rows_shown", lang, shown=len(shown), total=len(frame)) \
        if len(frame) > len(shown) else None
    return {"key": table.key, "title": table.title,
            "headers": [(table.header(col), kinds[j] not in ("text", "auto"))
                        for j, col in enumerate(frame.columns)],
            "rows": rows, "note": note}


def _numeric(value: Any, kind: str) -> bool:
    return kind not in ("text",) and isinstance(value, (int, float)) and not isinstance(value, bool)


class _Formatter:
    """Cell text by format kind: currency with its symbol, percent, integer, number."""

    def __init__(self, currency: str | None) -> None:
        self.symbol = CURRENCY_SYMBOLS.get((currency or "").upper(), "")

    def __call__(self, value: Any, kind: str) -> str:
        if value is None or value is pd.NA or value is pd.NaT:
            return ""
        if hasattr(value, "item") and not isinstance(value, str):
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return ""
        if isinstance(value, bool):
            return "✓" if value else "✗"
        if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
            return str(value)[:10]
        if not isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, float) and math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if kind == "currency":
            return f"{self.symbol}{value:,.2f}"
        if kind == "percent":
            return f"{value:.1%}"
        if kind == "integer" or (kind == "auto" and isinstance(value, int)):
            return f"{value:,.0f}"
        if kind == "number" or isinstance(value, float):
            return f"{value:,.2f}"
        return str(value)

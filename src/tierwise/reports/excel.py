"""Render a ``Report`` as an Excel workbook (XlsxWriter): one sheet per section, native charts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import xlsxwriter

from ..io.sheets import WORKBOOK_OPTIONS, display_width, write_cell
from .structure import Report, Section, Table
from .catalogue import t

CURRENCY_SYMBOLS = {"CNY": "¥", "RMB": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥",
                    "HKD": "HK$"}
#: Sections whose sheet gets a native chart, and of which table.
CHARTS = {"pyramid": ("levels", "column"), "pareto": ("curve", "line"),
          "activity": ("states", "column"), "clv": ("buckets", "column"),
          "backtest": ("calibration", "line"), "retention": ("curve", "line")}


def render_xlsx(report: Report, path: Path | str) -> Path:
    """Write the report to ``path`` (through a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        _write(report, tmp)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _write(report: Report, path: Path) -> None:
    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True,
                                           "default_date_format": "yyyy-mm-dd",
                                           **WORKBOOK_OPTIONS})
    fmt = _Formats(book, report.currency)
    book.set_properties({"title": report.title, "subject": f"run {report.run_id}"})
    used: set[str] = set()
    for section in report.sections.values():
        sheet = book.add_worksheet(_sheet_name(section.title, used))
        _section(book, sheet, section, report, fmt)
    book.close()


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook, currency: str | None) -> None:
        symbol = CURRENCY_SYMBOLS.get((currency or "").upper())
        money = f'"{symbol}"#,##0.00' if symbol else "#,##0.00"
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.subtitle = book.add_format({"bold": True, "font_size": 11})
        self.intro = book.add_format({"italic": True, "font_color": "#555555"})
        self.message = book.add_format({"italic": True, "font_color": "#9C0006"})
        self.header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                       "text_wrap": True, "valign": "top"})
        self.label = book.add_format({"bold": True})
        self.by_kind = {"currency": book.add_format({"num_format": money}),
                        "percent": book.add_format({"num_format": "0.0%"}),
                        "integer": book.add_format({"num_format": "#,##0"}),
                        "number": book.add_format({"num_format": "#,##0.00"}),
                        "text": None, "auto": None}


def _sheet_name(title: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "sheet"
    base, i = name, 2
    while name.lower() in used:
        name = f"{base[:28]} {i}"
        i += 1
    used.add(name.lower())
    return name


def _section(book: xlsxwriter.Workbook, sheet: Any, section: Section, report: Report,
             fmt: _Formats) -> None:
    widths: dict[int, int] = {}
    sheet.write(0, 0, section.title, fmt.title)
    sheet.write(1, 0, section.intro, fmt.intro)
    row = 3
    if not section.available:
        sheet.write(row, 0, section.message, fmt.message)
        sheet.freeze_panes(3, 0)
        sheet.set_column(0, 0, 60)
        return
    if section.figures:
        sheet.write(row, 0, t("report.key_figures", report.language), fmt.subtitle)
        row += 1
        for fig in section.figures:
            sheet.write(row, 0, fig.label, fmt.label)
            write_cell(sheet, row, 1, fig.value, fmt.by_kind.get(fig.format))
            _grow(widths, 0, fig.label)
            if not isinstance(fig.value, str) or len(fig.value) < 60:
                _grow(widths, 1, _shown(fig.value))
            row += 1
        row += 1
    first_header: int | None = None
    placed: dict[str, tuple[int, int, int]] = {}  # table key -> header row, first, last data row
    for table in section.tables:
        sheet.write(row, 0, table.title, fmt.subtitle)
        row += 1
        header = row
        frame = table.frame
        for j, col in enumerate(frame.columns):
            sheet.write(header, j, table.header(col), fmt.header)
            _grow(widths, j, table.header(col))
        for i, record in enumerate(frame.itertuples(index=False), start=header + 1):
            for j, value in enumerate(record):
                write_cell(sheet, i, j, value, fmt.by_kind.get(table.format(frame.columns[j])))
                if i - header <= 200:
                    _grow(widths, j, _shown(value))
        last = header + len(frame)
        if first_header is None:
            first_header = header
            sheet.autofilter(header, 0, max(last, header), max(len(frame.columns) - 1, 0))
        placed[table.key] = (header, header + 1, last)
        if section.key == "rfm" and table.key == "grid" and len(frame):
            sheet.conditional_format(header + 1, 1, last, len(frame.columns) - 1,
                                     {"type": "3_color_scale", "min_color": "#F8F8F8",
                                      "mid_color": "#FFD966", "max_color": "#C00000"})
        row = last + 2
    # Freeze the first table's header, unless many key figures sit above it (then the title).
    frozen = first_header + 1 if first_header is not None and first_header < 15 else 3
    sheet.freeze_panes(frozen, 0)
    for j, width in widths.items():
        sheet.set_column(j, j, min(max(width + 2, 8), 50))
    if section.key in CHARTS:
        key, kind = CHARTS[section.key]
        if key in placed:
            _chart(book, sheet, section, section.table(key), placed[key], kind,
                   len(widths) + 1)


def _chart(book: xlsxwriter.Workbook, sheet: Any, section: Section, table: Table,
           rows: tuple[int, int, int], kind: str, at_col: int) -> None:
    header, first, last = rows
    if last < first:
        return
    cols = list(table.frame.columns)
    name = sheet.get_name()

    def ref(col: str) -> list[Any]:
        j = cols.index(col)
        return [name, first, j, last, j]

    if section.key == "pareto":
        chart = book.add_chart({"type": "scatter", "subtype": "straight"})
        chart.add_series({"name": table.header("pareto_value_share"),
                          "categories": ref("pareto_customer_share"),
                          "values": ref("pareto_value_share")})
        chart.set_x_axis({"name": table.header("pareto_customer_share"),
                          "num_format": "0%", "min": 0, "max": 1})
        chart.set_y_axis({"name": table.header("pareto_value_share"), "num_format": "0%",
                          "min": 0, "max": 1})
    elif section.key == "retention":
        chart = book.add_chart({"type": "line"})
        chart.add_series({"name": table.header("share"), "categories": ref("months_since"),
                          "values": ref("share"), "marker": {"type": "circle"}})
        chart.set_x_axis({"name": table.header("months_since")})
        chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
    elif section.key == "backtest":
        chart = book.add_chart({"type": "line"})
        for col in ("predicted", "actual"):
            chart.add_series({"name": table.header(col), "categories": ref("decile"),
                              "values": ref(col), "marker": {"type": "circle"}})
        chart.set_x_axis({"name": table.header("decile")})
        chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
    else:
        label = {"pyramid": "name", "activity": "state", "clv": "bucket"}[section.key]
        chart = book.add_chart({"type": kind})
        chart.add_series({"name": table.header("customers"), "categories": ref(label),
                          "values": ref("customers"), "data_labels": {"value": True}})
        if section.key == "pyramid" and "value_share" in cols:
            line = book.add_chart({"type": "line"})
            line.add_series({"name": table.header("value_share"), "categories": ref(label),
                             "values": ref("value_share"), "y2_axis": True,
                             "marker": {"type": "circle"}})
            line.set_y2_axis({"num_format": "0%"})
            chart.combine(line)
        chart.set_y_axis({"name": table.header("customers")})
    chart.set_title({"name": table.title})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 340})
    sheet.insert_chart(header, at_col, chart)


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return "" if value is None else str(value)


def _grow(widths: dict[int, int], col: int, text: Any) -> None:
    widths[col] = max(widths.get(col, 0), display_width(str(text)))

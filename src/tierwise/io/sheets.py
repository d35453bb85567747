"""Writing tables that people open in a spreadsheet, without formula injection.

A text cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is a
formula to Excel and LibreOffice: a customer named ``=HYPERLINK("http://evil", "click")`` or
``=cmd|' /C calc'!A0`` would run when someone opens the export. Every file tierwise hands out
for a spreadsheet (the customer export, a campaign's target list, the web's ``targets.csv``, the
report workbook) therefore goes through :func:`neutralise`, which puts an apostrophe before such
text (the OWASP advice for CSV), and writes xlsx text as text cells, never as formulas.

Numbers are never touched: ``-12.5`` in a numeric column is a number, and a text that is a plain
number (``"-12.5"``, ``"+8613800000000"``) is read as a number, not run as a formula, so it stays
as it is.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

#: What makes a spreadsheet read a text cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
#: XlsxWriter options for every workbook tierwise writes: text stays text.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False,
                    "strings_to_numbers": False}


def formula_like(value: Any) -> bool:
    """True for text a spreadsheet would run as a formula (never for numbers)."""
    return (isinstance(value, str) and value.startswith(FORMULA_STARTS)
            and not _PLAIN_NUMBER.fullmatch(value.strip()))


def neutralise(value: Any) -> Any:
    """``value``, with an apostrophe in front when it is formula-like text.

    Examples
    --------
    >>> neutralise("=1+2"), neutralise("-12.5"), neutralise(-3), neutralise("王芳")
    ("'=1+2", '-12.5', -3, '王芳')
    """
    return "'" + value if formula_like(value) else value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text columns are neutralised (numeric columns as they were)."""
    text_columns = [c for c in frame.columns
                    if not pd.api.types.is_numeric_dtype(frame[c])
                    and not pd.api.types.is_datetime64_any_dtype(frame[c])]
    if not text_columns:
        return frame
    out = frame.copy()
    for column in text_columns:
        values = out[column]
        if values.map(formula_like, na_action="ignore").fillna(False).astype(bool).any():
            out[column] = values.map(neutralise, na_action="ignore")
    return out


def write_cell(sheet: Any, row: int, col: int, value: Any, cell_format: Any = None) -> None:
    """Write one value to an XlsxWriter sheet: numbers as numbers, everything else as text
    (neutralised), never as a formula; dates as ``YYYY-MM-DD`` text."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA \
            or value is pd.NaT:
        sheet.write_blank(row, col, None, cell_format)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and math.isinf(value):
            sheet.write_string(row, col, str(value))
        else:
            sheet.write_number(row, col, value, cell_format)
    elif hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        write_cell(sheet, row, col, value.item(), cell_format)
    elif isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        sheet.write_string(row, col, str(value)[:10])
    else:
        sheet.write_string(row, col, neutralise(str(value)))


def write_frame_xlsx(frame: pd.DataFrame, path: Path, *, sheet_name: str,
                     title: str | None = None) -> None:
    """``frame`` as one sheet with a frozen, filterable header and columns wide enough to read.

    Text is neutralised and written as text; dates keep pandas' date cells.
    """
    safe = neutralise_frame(frame)
    with pd.ExcelWriter(path, engine="xlsxwriter",
                        engine_kwargs={"options": WORKBOOK_OPTIONS}) as writer:
        safe.to_excel(writer, sheet_name=sheet_name, index=False)
        sheet = writer.sheets[sheet_name]
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, len(safe), max(len(safe.columns) - 1, 0))
        for i, col in enumerate(safe.columns):
            sample = safe[col].astype(str).head(200)
            width = max([display_width(col)] + [display_width(v) for v in sample])
            sheet.set_column(i, i, min(max(width + 2, 8), 40))
        if title:
            writer.book.set_properties({"title": title})


def display_width(text: Any) -> int:
    """Columns ``text`` takes in Excel (CJK characters take two)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))


__all__ = ["FORMULA_STARTS", "WORKBOOK_OPTIONS", "display_width", "formula_like", "neutralise",
           "neutralise_frame", "write_cell", "write_frame_xlsx"]

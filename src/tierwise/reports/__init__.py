"""Reports people read: ``build_report`` gathers a run's data, ``render_xlsx`` writes a workbook,
``render_html`` a self-contained web page."""

from .builders import build_report
from .structure import Figure, Report, Section, Table
from .catalogue import LANGUAGES, MESSAGES, t
from .excel import render_xlsx
from .html import render_html

__all__ = ["LANGUAGES", "MESSAGES", "Figure", "Report", "Section", "Table", "build_report",
           "render_html", "render_xlsx", "t"]

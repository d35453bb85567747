"""Reports people read: ``build_report`` gathers a run's data, ``render_xlsx`` writes a workbook."""

from .builders import Figure, Report, Section, Table, build_report
from .catalogue import LANGUAGES, MESSAGES, t
from .excel import render_xlsx

__all__ = ["LANGUAGES", "MESSAGES", "Figure", "Report", "Section", "Table", "build_report",
           "render_xlsx", "t"]

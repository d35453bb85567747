"""The Excel report: sheets in both languages, charts, frozen headers, heat map, the CLI."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tierwise.config import load_config
from tierwise.reports import MESSAGES, build_report, render_xlsx
from tierwise.reports.builders import SECTION_KEYS
from tierwise.store import Store

from _reports_store import build_store
from conftest import run_cli

CHART_SECTIONS = ("pyramid", "pareto", "activity", "clv", "backtest", "retention")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("reports-xlsx"))


@pytest.fixture(scope="module")
def store(project: Path):
    with Store(load_config(project / "tierwise.toml").store_path, read_only=True) as opened:
        yield opened


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workbook_has_a_sheet_per_section_with_charts(store: Store, tmp_path: Path,
                                                      lang: str) -> None:
    report = build_report(store, lang=lang)
    path = render_xlsx(report, tmp_path / "report.xlsx")
    assert path.exists() and not (tmp_path / "report.xlsx.part").exists()
    book = openpyxl.load_workbook(path)
    titles = [MESSAGES[f"{key}.title"][lang] for key in SECTION_KEYS]
    assert book.sheetnames == titles
    for key, title in zip(SECTION_KEYS, titles, strict=True):
        sheet = book[title]
        assert sheet["A1"].value == title
        assert sheet.freeze_panes is not None, title
        assert (len(sheet._charts) == 1) == (key in CHART_SECTIONS), title
    rfm = book[MESSAGES["rfm.title"][lang]]
    assert len(rfm.conditional_formatting) == 1
    pyramid = book[MESSAGES["pyramid.title"][lang]]
    # the frozen row is the pyramid table's header: the row just above holds the headers
    header_row = int(pyramid.freeze_panes[1:]) - 1
    headers = [c.value for c in pyramid[header_row]]
    assert MESSAGES["col.customers"][lang] in headers
    assert pyramid.auto_filter.ref is not None


def test_numbers_are_numbers_with_formats(store: Store, tmp_path: Path) -> None:
    report = build_report(store, lang="en")
    book = openpyxl.load_workbook(render_xlsx(report, tmp_path / "r.xlsx"))
    sheet = book["Pyramid"]
    header_row = int(sheet.freeze_panes[1:]) - 1
    headers = [c.value for c in sheet[header_row]]
    share = sheet.cell(header_row + 1, headers.index("Customer share") + 1)
    assert isinstance(share.value, float) and "%" in share.number_format
    value = sheet.cell(header_row + 1, headers.index("Value") + 1)
    assert "¥" in value.number_format
    levels = report["pyramid"].table("levels").frame
    column = headers.index("Customers") + 1
    total = sum(sheet.cell(header_row + 1 + i, column).value for i in range(len(levels)))
    assert total == levels["customers"].sum()


def test_missing_section_is_one_line_not_an_empty_table(store: Store, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(render_xlsx(build_report(store, run=1, lang="en"),
                                              tmp_path / "first.xlsx"))
    sheet = book["Migration"]
    assert sheet["A4"].value.startswith("Not available for this run")
    assert sheet.max_row == 4


def test_cli_report(project: Path) -> None:
    result = run_cli("report", "--lang", "en", "--out", "out/report.xlsx", cwd=project)
    assert result.code == 0, result.stderr
    assert "Summary" in openpyxl.load_workbook(project / "out" / "report.xlsx").sheetnames
    default = run_cli("report", "--run", "1", cwd=project)
    assert default.code == 0, default.stderr
    assert openpyxl.load_workbook(project / "report-run1.xlsx").sheetnames[0] == "概览"
    html = run_cli("report", "--format", "html", cwd=project)
    assert html.code == 0, html.stderr
    assert (project / "report-run2.html").read_text(encoding="utf-8").startswith("<!doctype")

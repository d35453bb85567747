"""The report section "did last period's advice hold?": its figures are the run's stored backtest,
in both languages, in the workbook and on the page."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tierwise.config import load_config
from tierwise.lifecycle.policies import POLICIES
from tierwise.reports import MESSAGES, build_report, render_xlsx, t
from tierwise.reports.backtest import CALIBRATION_TABLES, GROUP_TABLES
from tierwise.reports.charts import report_charts
from tierwise.reports.html import html_text
from tierwise.store import Store

from _reports_store import build_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    directory = build_store(tmp_path_factory.mktemp("reports-backtest"))
    with Store(load_config(directory / "tierwise.toml").store_path, read_only=True) as opened:
        yield opened


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_section_figures_are_the_stored_backtest(store: Store, lang: str) -> None:
    report = build_report(store, lang=lang)
    section = report["backtest"]
    assert section.available and section.title == MESSAGES["backtest.title"][lang]
    meta = store.run_info("latest")["meta"]["backtest"]
    assert meta["status"] == "ran"
    stored = store.run_table("latest", "backtest")
    for dimension, (key, _) in GROUP_TABLES.items():
        rows = stored[stored["dimension"] == dimension].reset_index(drop=True)
        if not len(rows):
            continue
        shown = section.table(key).frame
        for column in ("customers", "bought_again", "bought_again_share", "revenue",
                       "revenue_share"):
            assert shown[column].tolist() == pytest.approx(rows[column].tolist()), (key, column)
    calibration = store.run_table("latest", "backtest_calibration")
    for probability, (key, _) in CALIBRATION_TABLES.items():
        rows = calibration[calibration["probability"] == probability].reset_index(drop=True)
        if not len(rows):
            continue
        shown = section.table(key).frame
        for column in ("decile", "customers", "predicted", "actual", "gap"):
            assert shown[column].tolist() == pytest.approx(rows[column].tolist()), column
    checks = meta["checks"]
    assert section.figure("replay_as_of") == meta["replay_as_of"]
    assert section.figure("horizon_days") == meta["horizon_days"]
    assert section.figure("calibration_max_gap") == pytest.approx(checks["calibration_max_gap"])
    if checks["silenced_share"] is not None:
        assert section.figure("silenced_share") == pytest.approx(checks["silenced_share"])
    from tierwise.backtest import headline

    assert "headline_en" not in meta  # the store keeps the figures; words come when read
    words = headline(meta, lang)
    assert section.figure("headline") == words
    share = checks["silenced_share"]
    if share is not None:
        assert f"{100 * share:.0f}" in words and f"{checks['silenced_customers']:,}" in words


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_groups_and_headers_are_in_the_reports_language(store: Store, lang: str) -> None:
    section = build_report(store, lang=lang)["backtest"]
    policies = section.table("policies")
    names = {p[f"policy_{lang}"] for p in POLICIES}
    assert set(policies.frame["group"]) <= names
    assert policies.header("bought_again_share") == MESSAGES["col.bought_again_share"][lang]
    meta = store.run_info("latest")["meta"]["backtest"]
    assert section.intro == t("backtest.intro", lang, replay=meta["replay_as_of"],
                              horizon=meta["horizon_days"])


def test_chart_workbook_and_page_show_the_same_deciles(store: Store, tmp_path: Path) -> None:
    report = build_report(store, lang="en")
    table = report["backtest"].table("calibration")
    chart = report_charts(report)["backtest"]
    predicted, actual = chart["data"][0], chart["data"][1]
    assert predicted["y"] == pytest.approx(table.frame["predicted"].tolist())
    assert actual["y"] == pytest.approx(table.frame["actual"].tolist())
    assert predicted["x"] == table.frame["decile"].tolist()
    book = openpyxl.load_workbook(render_xlsx(report, tmp_path / "r.xlsx"))
    sheet = book[MESSAGES["backtest.title"]["en"]]
    assert len(sheet._charts) == 1
    cells = [c.value for row in sheet.iter_rows() for c in row]
    assert table.title in cells and report["backtest"].table("policies").title in cells
    page = html_text(report)
    assert 'id="chart-backtest"' in page and "Did last period&#39;s advice hold" in page


def test_a_run_without_a_backtest_says_why(store: Store, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "store.duckdb"
    shutil.copy(store.path, copy)
    with Store(copy) as writable:
        writable.con.execute("DELETE FROM run_tables WHERE name LIKE 'backtest%'")
        writable.con.execute("UPDATE runs SET meta = json_merge_patch(meta, "
                             "'{\"backtest\": null}')")
    with Store(copy, read_only=True) as old:
        for lang in ("zh", "en"):
            section = build_report(old, lang=lang)["backtest"]
            assert not section.available
            assert MESSAGES["why.no_backtest"][lang] in section.message

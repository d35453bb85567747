"""The HTML report on the demo stores: self-contained, the builders' figures, and a real browser.

The browser test opens the page in headless Chromium (Debian's package, driven by Playwright),
waits for every chart, checks the console and that nothing was fetched from the network, prints
the page to PDF, and keeps a screenshot in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tierwise.config import PYRAMID_LEVELS
from tierwise.reports import build_report, render_html, render_xlsx
from tierwise.reports.builders import SECTION_KEYS
from tierwise.reports.charts import CHARTS
from tierwise.reports.html import html_text
from tierwise.store import Store

from _browser import artifact, browser_page
from conftest import run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both demo businesses, plus one win-back campaign on the restaurant's first run."""
    root = tmp_path_factory.mktemp("report-demo")
    made = run_cli("demo", "--dir", str(root), "--members", "300", "--accounts", "60", "--json",
                   cwd=root, timeout=600)
    assert made.code == 0, made.stderr
    campaign = run_cli("campaign", "create", "--as-of", "2026-08-31", "--min-days-since-last",
                       "40", "--face-value", "48", "--json", cwd=root / "restaurant")
    assert campaign.code == 0, campaign.stderr
    return root


def _store(demo: Path, name: str) -> Store:
    return Store(demo / name / "tierwise.duckdb", read_only=True)


class _Tables(HTMLParser):
    """Cell texts of every ``<table data-table=...>`` and the ids of the chart elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.charts: list[str] = []
        self.unavailable: list[str] = []
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "table" and attr.get("data-table"):
            self._table = self.tables.setdefault(attr["data-table"] or "", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "div" and attr.get("data-chart"):
            self.charts.append(attr["data-chart"] or "")
        elif tag == "section" and "unavailable" in (attr.get("class") or ""):
            self.unavailable.append(attr.get("data-section") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parse(text: str) -> _Tables:
    parsed = _Tables()
    parsed.feed(text)
    return parsed


def _chart_specs(text: str) -> dict:
    match = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', text,
                      re.S)
    assert match, "the page has no chart data"
    return json.loads(match.group(1))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_is_self_contained_with_every_section(demo: Path, lang: str) -> None:
    with _store(demo, "b2b") as store:
        report = build_report(store, lang=lang)
    text = html_text(report)
    # no stylesheet, script or image fetched from elsewhere: plotly.js is inlined
    assert not re.search(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=", text, re.I)
    assert "plotly.js v" in text[:20_000]
    parsed = _parse(text)
    sections = re.findall(r'<section class="report-section[^"]*" id="section-(\w+)"', text)
    assert sections == list(SECTION_KEYS)
    assert set(parsed.charts) == set(CHARTS)  # the B2B demo has data for every chart
    html_lang = "zh-CN" if lang == "zh" else "en"
    assert f'<html lang="{html_lang}">' in text
    assert report["pyramid"].title in text


def test_charts_show_the_builders_figures(demo: Path) -> None:
    with _store(demo, "restaurant") as store:
        report = build_report(store, lang="en")
    specs = _chart_specs(html_text(report))
    levels = report["pyramid"].table("levels").frame
    graded = levels[levels["tier"].isin(PYRAMID_LEVELS)]
    assert specs["pyramid"]["data"][0]["x"] == graded["customers"].tolist()
    curve = report["pareto"].table("curve").frame
    assert specs["pareto"]["data"][0]["y"][1:] == pytest.approx(
        curve["pareto_value_share"].tolist())
    grid = report["rfm"].table("grid").frame
    assert specs["rfm"]["data"][0]["z"] == grid.drop(columns="r").to_numpy().tolist()
    counts = report["migration"].table("tier_counts").frame
    assert sum(specs["migration"]["data"][0]["link"]["value"]) == \
        counts.drop(columns="from").to_numpy().sum()
    keys = report["key"].table("list").frame
    stacked = [sum(bar["x"][i] for bar in specs["key"]["data"])
               for i in range(len(specs["key"]["data"][0]["x"]))]
    # the top of the chart is rank 1; each bar adds up to the account's score
    assert stacked[::-1] == pytest.approx(keys["key_account_score"].head(30).tolist(), abs=0.05)
    buckets = report["clv"].table("buckets").frame
    assert specs["clv"]["data"][0]["y"] == buckets["customers"].tolist()


def test_tables_match_the_workbook_data(demo: Path, tmp_path: Path) -> None:
    with _store(demo, "restaurant") as store:
        report = build_report(store, lang="zh")
    parsed = _parse(render_html(report, tmp_path / "r.html").read_text(encoding="utf-8"))
    assert not (tmp_path / "r.html.part").exists()
    levels = report["pyramid"].table("levels")
    rows = parsed.tables["pyramid.levels"]
    assert rows[0] == [levels.header(c) for c in levels.frame.columns]
    customers = rows[0].index(levels.header("customers"))
    assert [int(r[customers].replace(",", "")) for r in rows[1:]] == \
        levels.frame["customers"].tolist()
    value = rows[0].index(levels.header("value"))
    assert rows[1][value].startswith("¥")
    share = rows[0].index(levels.header("customer_share"))
    assert rows[1][share].endswith("%")
    # the same builder feeds the workbook: its pyramid sheet has the same customer counts
    import openpyxl
    book = openpyxl.load_workbook(render_xlsx(report, tmp_path / "r.xlsx"))
    sheet = book[levels.title]
    column = [c.value for c in sheet[int(sheet.freeze_panes[1:]) - 1]].index(
        levels.header("customers")) + 1
    first = int(sheet.freeze_panes[1:])
    assert [sheet.cell(first + i, column).value for i in range(len(levels.frame))] == \
        levels.frame["customers"].tolist()


def test_first_run_marks_what_it_does_not_have(demo: Path) -> None:
    with _store(demo, "restaurant") as store:
        report = build_report(store, run=1, lang="en")
    parsed = _parse(html_text(report))
    assert "migration" in parsed.unavailable
    assert "migration" not in parsed.charts


def test_call_list_says_who_and_why(demo: Path) -> None:
    with _store(demo, "b2b") as store:
        report = build_report(store, lang="en")
        warnings = store.run_table(report.run_id, "warnings")
    call = report["call"]
    warned = call.table("warnings").frame
    assert warned["customer_id"].is_unique and len(warned) <= 50
    assert warned["why"].str.len().gt(0).all()
    assert set(warned["customer_id"]) <= set(warnings["customer_id"])
    assert call.figure("warned_customers") == warnings["customer_id"].nunique()
    wake = call.table("wake_up").frame
    assert not set(wake["customer_id"]) & set(warned["customer_id"])
    assert wake["why"].str.contains("wake up").all()
    assert wake["actions"].notna().all()


def test_big_accounts_and_campaigns_sections(demo: Path) -> None:
    with _store(demo, "b2b") as store:
        b2b = build_report(store, lang="en")
        snapshot = store.snapshot()
    big = b2b["big"]
    review = big.table("review").frame
    assert set(review["customer_id"]) == set(
        snapshot.loc[snapshot["key_account"].fillna(False).astype(bool), "customer_id"])
    managers = big.table("managers").frame
    assert managers["accounts"].sum() == len(snapshot)
    channels = big.table("channels").frame
    for _, group in channels.groupby(["scope", "dimension"]):
        assert group["revenue_share"].sum() == pytest.approx(1.0)
    with _store(demo, "restaurant") as store:
        restaurant = build_report(store, lang="en")
        from tierwise.campaigns import evaluate_campaign
        evaluated = evaluate_campaign(store, 1)
    campaigns = restaurant["campaigns"].table("list").frame
    assert campaigns["campaign_id"].tolist() == [1]
    assert campaigns["used"].iloc[0] == evaluated.figures.used
    assert campaigns["gross_profit"].iloc[0] == pytest.approx(evaluated.figures.gross_profit)
    assert "coupon cost + message cost" in restaurant["campaigns"].figure("cost_basis")
    assert not b2b["campaigns"].available


def test_cli_writes_html_and_refuses_unknown_formats(demo: Path) -> None:
    folder = demo / "restaurant"
    done = run_cli("report", "--format", "html", "--lang", "en", "-o", "out/report.html",
                   cwd=folder)
    assert done.code == 0, done.stderr
    assert (folder / "out" / "report.html").stat().st_size > 1_000_000
    refused = run_cli("report", "--format", "pdf", cwd=folder)
    assert refused.code == 2
    assert "xlsx, html" in refused.stderr and "Traceback" not in refused.stderr


def test_demo_writes_both_reports(demo: Path) -> None:
    for name in ("restaurant", "b2b"):
        assert (demo / name / "report.xlsx").stat().st_size > 10_000
        text = (demo / name / "report.html").read_text(encoding="utf-8")
        assert "Plotly.newPlot" in text


@pytest.mark.parametrize("name", ["restaurant", "b2b"])
def test_every_chart_renders_in_chromium(demo: Path, name: str) -> None:
    page_file = demo / name / "report.html"
    requests: list[str] = []
    with browser_page(viewport={"width": 1280, "height": 900}) as (page, errors):
        page.on("request", lambda req: requests.append(req.url))
        page.goto(page_file.as_uri())
        page.wait_for_function(
            "() => [...document.querySelectorAll('.chart')]"
            ".every(el => el.dataset.rendered === 'true')", timeout=60_000)
        charts = page.eval_on_selector_all(
            ".chart", "els => els.map(el => [el.dataset.chart, "
                      "el.querySelectorAll('.main-svg').length, el.getBoundingClientRect().height])")
        page.screenshot(path=str(artifact(f"report-{name}.png")), full_page=True)
        page.emulate_media(media="print")
        nav_hidden = page.eval_on_selector("nav.toc", "el => getComputedStyle(el).display")
        pdf = page.pdf(path=str(artifact(f"report-{name}.pdf")), landscape=True)
    assert len(charts) >= 7, charts
    for key, svgs, height in charts:
        assert svgs > 0 and height > 100, (key, svgs, height)
    assert errors == []
    assert [url for url in requests if not url.startswith(("file:", "data:", "blob:"))] == []
    assert nav_hidden == "none"
    assert pdf[:4] == b"%PDF" and len(pdf) > 50_000

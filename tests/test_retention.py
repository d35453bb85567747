"""Retention on the demo restaurant (the store the real pipeline builds): the cohort table and the
repeat / churn rates equal a direct pandas computation on the demo's orders, and they reach the
report (both languages, workbook and HTML) and the dashboard (table, JSON twin, chart data)."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from test_campaigns_flow import campaign_cli, small_demo
from tierwise.runview import RunView, Scope
from tierwise.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_demo(tmp_path_factory.mktemp("retention"))


@pytest.fixture(scope="module")
def stored(demo: Path) -> dict:
    """The latest run's stored tables, its snapshot and the store's orders (read once)."""
    with Store(demo / "tierwise.duckdb", read_only=True) as store:
        info = store.run_info("latest")
        view = RunView(store.con, info["run_id"])
        return {"as_of": pd.Timestamp(info["as_of"]), "cohorts": view.cohorts(),
                "retention": view.retention(),
                "scoped": RunView(store.con, info["run_id"], Scope("TRUE", (), whole=False))
                .cohorts(),
                "snapshot": store.snapshot(info["run_id"], words=False),
                "orders": store.con.execute("SELECT * FROM orders").df()}


def _purchases(stored: dict) -> pd.DataFrame:
    orders = stored["orders"]
    orders = orders[~orders["is_refund"].astype(bool)].copy()
    orders["day"] = pd.to_datetime(orders["ordered_at"])
    return orders[orders["day"] <= stored["as_of"]]


def test_cohorts_equal_a_direct_pandas_computation(stored: dict) -> None:
    p = _purchases(stored)
    p["month"] = p["day"].dt.to_period("M")
    first = p.groupby("customer_key")["month"].min().rename("cohort")
    p = p.join(first, on="customer_key")
    p["months_since"] = (p["month"] - p["cohort"]).map(lambda d: d.n)
    active = p.groupby(["cohort", "months_since"])["customer_key"].nunique()
    sizes = first.value_counts()
    last = stored["as_of"].to_period("M")
    rows = []
    for cohort in sorted(sizes.index):
        for m in range((last - cohort).n + 1):
            n = int(active.get((cohort, m), 0))
            rows.append({"cohort": str(cohort), "months_since": m,
                         "customers": int(sizes[cohort]), "active": n,
                         "share": n / int(sizes[cohort])})
    expected = pd.DataFrame(rows)
    got = stored["cohorts"]
    assert len(expected) > 100 and expected["cohort"].nunique() > 24  # years of demo orders
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)
    assert (got.loc[got["months_since"] == 0, "share"] == 1).all()
    assert stored["scoped"] is None  # a scoped viewer does not get whole-business cohorts


def test_repeat_and_churn_rates_equal_a_direct_pandas_computation(stored: dict) -> None:
    p = _purchases(stored)
    days = p.groupby("customer_key")["day"].nunique()
    per_store = (p.dropna(subset=["store"]).groupby(["customer_key", "store"])["day"].nunique()
                 .rename("n").reset_index().sort_values(["customer_key", "n", "store"],
                                                        ascending=[True, False, True]))
    home = per_store.drop_duplicates("customer_key").set_index("customer_key")["store"]
    people = pd.DataFrame({"repeat": days >= 2}).join(
        stored["snapshot"].set_index("customer_key")[["tier", "segment", "activity_state"]])
    people["churned"] = people["activity_state"].isin(["dead", "buried"])
    people["store"] = home
    rows = []
    for by in ("all", "tier", "segment", "store"):
        keys = pd.Series("all", index=people.index) if by == "all" else people[by]
        for group, g in people.groupby(keys):
            rows.append({"by": by, "group": group, "customers": len(g),
                         "repeat_customers": int(g["repeat"].sum()),
                         "repeat_rate": g["repeat"].mean(), "churned": int(g["churned"].sum()),
                         "churn_rate": g["churned"].mean()})
    expected = pd.DataFrame(rows)
    got = stored["retention"]
    assert set(got["by"]) == {"all", "tier", "segment", "store"}
    assert got["group"][got["by"] == "store"].nunique() == 8  # the demo's eight restaurants
    key = ["by", "group"]
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True),
                                  expected.sort_values(key).reset_index(drop=True),
                                  check_dtype=False)


def test_the_report_shows_retention_in_both_languages(demo: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    for lang, title, header in (("zh", "留存与流失", "复购率"),
                                ("en", "Retention and churn", "Repeat-purchase rate")):
        for fmt in ("html", "xlsx"):
            out = tmp_path / f"report-{lang}.{fmt}"
            done = campaign_cli("report", "-f", fmt, "--lang", lang, "-o", str(out), cwd=demo)
            assert done.returncode == 0, done.stderr
        page = (tmp_path / f"report-{lang}.html").read_text(encoding="utf-8")
        assert title in page and header in page and '"type": "heatmap"' in page
        book = load_workbook(tmp_path / f"report-{lang}.xlsx")
        assert title in book.sheetnames
        sheet = book[title]
        cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
        assert header in cells and len(sheet._charts) == 1  # the retention curve


def test_the_dashboard_shows_retention_with_a_chart(demo: Path, stored: dict,
                                                    tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from _web_store import add_users, client, client_class
    from tierwise import load_config
    from tierwise.web import create_app

    shutil.copytree(demo, tmp_path / "web")
    config = tmp_path / "web" / "tierwise.toml"
    add_users(config)
    app = create_app(load_config(config))
    with client_class()(app):
        admin = client(app, "admin")
        api = admin.get("/api/overview").json()["retention"]
        expected = stored["retention"]
        assert [(r["by"], r["group"], r["customers"]) for r in api["rates"]] == \
            list(expected[["by", "group", "customers"]].itertuples(index=False, name=None))
        page = admin.get("/?lang=zh").text
        rows = re.findall(r'<tr data-by="([^"]+)" data-group="([^"]+)">', page)
        assert len(rows) == len(expected) and "留存与流失" in page
        chart = json.loads(html.unescape(re.search(r'id="cohort-chart"[^>]*data-figure="([^"]*)"',
                                                   page).group(1)))
        trace = chart["data"][0]
        assert trace["type"] == "heatmap"
        assert len(trace["y"]) == stored["cohorts"]["cohort"].nunique()
        assert "首次消费后第几个月" in json.dumps(chart, ensure_ascii=False)
        assert "Retention and churn" in admin.get("/?lang=en").text
        js = admin.get("/static/plotly.min.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        assert admin.get("/static/plotly.css").status_code == 200
        # a viewer who sees only some customers gets no whole-business retention
        manager = client(app, "sunli")
        assert manager.get("/api/overview").json()["retention"] is None
        assert 'id="retention"' not in manager.get("/").text

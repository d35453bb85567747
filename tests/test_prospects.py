"""Prospects graded apart (issue 19 item 5): leads intake, the prospect scorecard and grades,
conversions and the grades' check, follow-up tasks, and the CLI / report / web doors.

The planted pattern of the B2B demo's leads (:mod:`tierwise.demo.b2b_leads`): leads that became
accounts were a better fit and engaged more, so grade A must convert far more than grade D.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from tierwise import load_config
from tierwise.config import parse_config
from tierwise.errors import ConfigError
from tierwise.history import run_prospects
from tierwise.pipeline import ingest, run
from tierwise.store import Store

from conftest import run_cli

END = dt.date(2026, 9, 30)


# --- a small hand-made business: every number checkable by hand ----------------------------------

SMALL_CONFIG = """\
name = "small"
as_of = "2026-06-30"
language = "zh"
[sources.orders]
path = "orders.csv"
[sources.customers]
path = "customers.csv"
[sources.leads]
path = "leads.csv"
encoding = "gbk"
columns = { customer_id = "线索编号" }
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small-prospects")
    (folder / "customers.csv").write_text(
        "customer_id,name,size,fit\nK1,老客户,200-999,4\nK2,只注册,50-199,5\nK3,也买过,1-49,2\n",
        encoding="utf-8")
    (folder / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n"
        "o1,K1,2026-01-10,100\no2,K1,2026-03-10,120\no3,K3,2026-02-01,80\no4,K3,2026-05-01,90\n"
        "o5,L1,2026-04-20,300\no6,L1,2026-04-20,50\no7,L1,2026-06-01,70\n",
        encoding="utf-8")
    rows = ["线索编号,获取日期,公司,线索来源,匹配度,互动次数,规模",
            "L1,2026-03-01,甲公司,referral,5,9,200-999",     # converts 50 days later
            "L2,2026-03-05,乙公司,cold_list,1,0,1-49",       # a poor lead, open
            "L3,2026-02-30,丙公司,website,3,2,50-199",       # no such day: rejected
            "L4,2026-04-01,丁公司,website,7,2,50-199",       # fit outside 1-5: rejected
            "L2,2026-04-02,乙公司二,website,3,1,1-49",       # repeated id: rejected
            "K1,2026-02-01,老客户,trade_show,4,5,200-999",   # bought before it was a lead
            "L5,2026-05-01,戊公司,trade_show,4,6,1000-4999"]  # a good lead, open
    (folder / "leads.csv").write_bytes(("\n".join(rows) + "\n").encode("gbk"))
    (folder / "tierwise.toml").write_text(SMALL_CONFIG, encoding="utf-8")
    return folder / "tierwise.toml"


def test_every_lead_row_is_accepted_or_rejected_with_its_line_and_reason(small: Path) -> None:
    cfg = load_config(small)
    result = ingest(cfg)
    leads = next(r for r in result.reports if r.kind == "leads")
    assert (leads.rows_in, leads.accepted, leads.rejected) == (7, 4, 3)
    assert leads.encoding == "gbk" and leads.columns["线索编号"] == "customer_id"
    assert leads.columns["匹配度"] == "fit" and leads.columns["互动次数"] == "engagement"
    rejects = pd.read_csv(leads.rejects_file, encoding="utf-8-sig")
    assert rejects["line"].tolist() == [4, 5, 6]
    assert "no such day" in rejects.loc[0, "reason"]
    assert "outside 1-5" in rejects.loc[1, "reason"] and "fit" in rejects.loc[1, "reason"]
    assert "duplicate customer_id 'L2'" in rejects.loc[2, "reason"]
    stored = result.stored[f"leads:{leads.source}"]
    # L1 was created from its orders already, K1 is an account: only L2 and L5 are new customers
    assert stored["customers_created"] == 2 and stored["inserted"] == 4
    with Store(cfg.store_path, read_only=True) as store:
        assert "0095_leads" in store.applied_migrations()
        k1 = store.customer_frame().set_index("customer_id").loc["K1"]
        assert k1["name"] == "老客户" and k1["size"] == "200-999"  # the account's row stays


def test_small_business_grades_converts_and_checks(small: Path) -> None:
    cfg = load_config(small)
    result = run(cfg)
    with Store(cfg.store_path, read_only=True) as store:
        view = run_prospects(store, result.run_id)
        snap = store.snapshot(result.run_id)
    open_ = view.prospects.set_index("customer_id")
    # open: the leads without purchases and the customers-file customer who never bought
    assert set(open_.index) == {"L2", "L5", "K2"}
    assert open_.loc["K2", "origin"] == "customer" and open_.loc["L5", "origin"] == "lead"
    assert set(snap.loc[snap["customer_id"].isin(["L2", "L5", "K2"]), "tier"]) == {"prospect"}
    points = [c for c in open_.columns if c.startswith("score_") and c != "score_flags"]
    assert points == ["score_fit", "score_engagement", "score_size", "score_source"]
    assert (open_[points].sum(axis=1) - open_["score"]).abs().max() < 0.01
    assert open_.loc["L5", "score"] > open_.loc["L2", "score"]
    assert open_.loc["L2", "grade"] == "D" and open_.loc["L2", "score_fit"] == 0.0
    assert "engagement: missing" in open_.loc["K2", "score_flags"]  # the customers file has none
    assert open_.loc["L5", "explained"].startswith("匹配度 ")
    won = view.conversions.set_index("customer_id")
    assert list(won.index) == ["L1"]  # K1 bought before it became a lead: not a conversion
    assert won.loc["L1", "first_order"] == "2026-04-20"
    assert won.loc["L1", "days_to_convert"] == 50 and won.loc["L1", "first_revenue"] == 350.0
    assert view.meta["bought_before"] == 1 and view.meta["converted"] == 1
    check = view.check.set_index("grade")
    assert check["leads"].sum() == 3 and check["converted"].sum() == 1


def test_bad_prospect_settings_name_the_key_and_the_fix() -> None:
    with pytest.raises(ConfigError) as bad:
        parse_config({"prospects": {"grade_cuts": [30, 50, 70], "followup_grades": ["E"]}})
    text = str(bad.value)
    assert "prospects.grade_cuts" in text and "fall strictly" in text
    assert "prospects.followup_grades" in text and "valid: A, B, C, D" in text
    with pytest.raises(ConfigError, match="weights must sum to 1"):
        parse_config({"prospects": {"criteria": [{"name": "fit", "source": "fit",
                                                  "weight": 0.5}]}})


# --- the B2B demo with its leads ----------------------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from tierwise.demo import generate_b2b
    from tierwise.demo.walkthrough import B2B_CONFIG

    folder = tmp_path_factory.mktemp("b2b-leads")
    manifest = generate_b2b(folder, accounts=150, end=END)
    config = folder / "tierwise.toml"
    config.write_text(B2B_CONFIG.format(end=END) + '\n[sources.leads]\npath = "leads.csv"\n',
                      encoding="utf-8")
    cfg = load_config(config)
    ingest(cfg)
    run(cfg, as_of=dt.date(2026, 6, 30))
    run(cfg, as_of=END)
    return config, manifest


def test_demo_leads_do_not_change_the_other_files(demo, tmp_path: Path) -> None:
    _, manifest = demo
    assert manifest["files"][:4] == ["accounts.csv", "orders.xlsx", "survey.csv", "leads.csv"]
    assert manifest["files"][-1] == "manifest.json"
    leads = pd.read_csv(Path(manifest["paths"][3]), dtype=str)
    assert set(leads["lead_id"]) == set(manifest["leads_converted"]) | set(manifest["leads_open"])
    accounts = pd.read_csv(Path(manifest["paths"][0]), dtype=str)
    assert set(manifest["leads_converted"]) <= set(accounts["customer_id"])
    assert not set(manifest["leads_open"]) & set(accounts["customer_id"])


def test_the_planted_pattern_is_found_grade_a_converts_far_more_than_d(demo) -> None:
    config, manifest = demo
    with Store(load_config(config).store_path, read_only=True) as store:
        view = run_prospects(store)
    check = view.check.set_index("grade")
    assert check.loc["A", "leads"] >= 15 and check.loc["D", "leads"] >= 15
    assert check.loc["A", "conversion_rate"] >= 0.6
    assert check.loc["D", "conversion_rate"] <= 0.1
    rates = check["conversion_rate"].tolist()
    assert rates == sorted(rates, reverse=True)  # A >= B >= C >= D
    assert set(view.conversions["customer_id"]) <= set(manifest["leads_converted"])
    leads_open = set(view.prospects.loc[view.prospects["origin"] == "lead", "customer_id"])
    assert leads_open <= set(manifest["leads_open"])
    assert (view.conversions["days_to_convert"] >= 14).all()


def test_grade_a_prospects_get_a_follow_up_task_for_their_manager(demo) -> None:
    config, _ = demo
    with Store(load_config(config).store_path, read_only=True) as store:
        view = run_prospects(store, grade="A")
        tasks = store.con.execute("SELECT customer_id, assignee, assigned_by, reason_args "
                                  "FROM tasks WHERE reason = 'prospect_followup'").df()
    assert len(view.prospects) and set(view.prospects["grade"]) == {"A"}
    assert set(tasks["customer_id"]) == set(view.prospects["customer_id"])
    manager = view.prospects.set_index("customer_id")["account_manager"]
    assert (tasks.set_index("customer_id")["assignee"] == manager.reindex(
        tasks["customer_id"]).to_numpy()).all()
    assert {json.loads(a)["grade"] for a in tasks["reason_args"]} == {"A"}


def test_cli_lists_prospects_by_grade_and_the_conversion_check(demo) -> None:
    config, _ = demo
    listed = run_cli("prospects", "--grade", "A", "--json", "--config", str(config),
                     cwd=config.parent)
    assert listed.code == 0, listed.stderr
    data = listed.json()
    assert data["total"] > 0 and {r["grade"] for r in data["prospects"]} == {"A"}
    assert data["criteria"][0]["name"] == "fit"
    conversion = run_cli("prospects", "conversion", "--lang", "zh", "--config", str(config),
                         cwd=config.parent)
    assert conversion.code == 0, conversion.stderr
    assert "各级别转化率" in conversion.stdout and "转化率" in conversion.stdout
    text = run_cli("prospects", "--config", str(config), cwd=config.parent)
    assert text.code == 0 and "Open prospects" in text.stdout and "fit " in text.stdout
    bad = run_cli("prospects", "--grade", "E", "--config", str(config), cwd=config.parent)
    assert bad.code == 2 and "Traceback" not in bad.stderr


def test_report_section_in_both_languages(demo, tmp_path: Path) -> None:
    from tierwise.reports import build_report, render_html, render_xlsx

    config, _ = demo
    with Store(load_config(config).store_path, read_only=True) as store:
        zh, en = build_report(store, lang="zh"), build_report(store, lang="en")
    assert zh["prospects"].title == "潜在客户分级" and en["prospects"].title == "Prospects"
    check = en["prospects"].table("check").frame.set_index("grade")
    assert check.loc["A", "conversion_rate"] > check.loc["D", "conversion_rate"]
    assert en["prospects"].figure("conversion_a") >= 0.6
    assert zh["prospects"].table("open").headers["explained"] == "评分构成"
    html = render_html(zh, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "潜在客户分级" in html and "各级别转化率" in html
    assert render_xlsx(en, tmp_path / "r.xlsx").stat().st_size > 0


def test_web_page_and_api_scoped_to_the_viewer(demo) -> None:
    pytest.importorskip("fastapi")
    from tierwise.web import create_app
    from tierwise.web.accounts import add_user

    from _web_store import PASSWORD, client, client_class

    config, _ = demo
    cfg = load_config(config)
    with Store(cfg.store_path) as store:
        add_user(store, "admin", "admin", PASSWORD)
        add_user(store, "zhangwei", "manager", PASSWORD, manager="张伟")
    app = create_app(cfg)
    with client_class()(app):
        admin, manager = client(app, "admin"), client(app, "zhangwei")
        every = admin.get("/api/prospects").json()
        mine = manager.get("/api/prospects").json()
        page = manager.get("/prospects?lang=zh&grade=A")
        english = admin.get("/prospects?lang=en")
    assert every["items"] and {r["account_manager"] for r in mine["items"]} == {"张伟"}
    assert len(mine["items"]) < len(every["items"])
    assert every["check"][0]["grade"] == "A" and every["check"][0]["conversion_rate"] >= 0.6
    row = every["items"][0]
    assert abs(sum(row["contributions"].values()) - row["score"]) < 0.01
    assert page.status_code == 200 and "潜在客户分级" in page.text
    assert 'id="nav-prospects"' in page.text
    shown = re.findall(r'<tr data-customer-id="([^"]+)" data-grade="([A-D])"', page.text)
    mine_a = [r["customer_id"] for r in mine["items"] if r["grade"] == "A"]
    assert [c for c, _ in shown] == mine_a and {g for _, g in shown} <= {"A"}
    assert sum(mine["open_by_grade"].values()) == len(mine["items"])
    assert english.status_code == 200 and "Conversion rate by grade" in english.text


def test_validate_checks_the_leads_file(small: Path) -> None:
    done = run_cli("validate", "--json", "--config", str(small), cwd=small.parent)
    data = done.json()
    assert data["rows"]["leads"] == {"rows_in": 7, "rejected": 3}
    assert any("leads.csv" in p and "outside 1-5" in p for p in data["row_problems"])


def test_a_manager_opens_the_prospects_page_in_a_browser(demo, tmp_path: Path) -> None:
    """Chromium: the nav entry, the grade filter and the check table, on a real server."""
    pytest.importorskip("fastapi")
    from _browser import artifact, browser_page
    from _serve import serving
    from _web_store import PASSWORD, copy_store

    config, _ = demo
    served = copy_store(config, tmp_path)
    from tierwise.web.accounts import add_user

    with Store(load_config(served).store_path) as store:
        add_user(store, "boss", "admin", PASSWORD)
    with serving("--config", str(served)) as (base, _), \
            browser_page(viewport={"width": 390, "height": 844}, is_mobile=True) as (page, errors):
        page.goto(f"{base}/login?lang=zh")
        page.fill("input[name=username]", "boss")
        page.fill("input[name=password]", PASSWORD)
        page.click("#login-submit")
        page.wait_for_load_state("networkidle")
        page.click("#nav-prospects")
        page.wait_for_load_state("networkidle")
        page.click("#prospect-grades a[data-grade=A]")
        page.wait_for_load_state("networkidle")
        grades = [r.get_attribute("data-grade")
                  for r in page.query_selector_all("#prospects-table tbody tr")]
        rate_a = page.get_attribute("#prospect-check tr[data-grade=A]", "data-rate")
        heading = page.inner_text("h1")
        page.screenshot(path=str(artifact("prospects-phone.png")), full_page=True)
    assert errors == []
    assert heading == "潜在客户分级"
    assert grades and set(grades) == {"A"}
    assert float(rate_a) >= 0.6


def test_a_leads_file_dropped_into_the_inbox_is_read_as_leads(small: Path) -> None:
    from tierwise.watch import file_kind

    cfg = load_config(small)
    assert file_kind(cfg, "leads-2026-10.csv") == "leads"
    assert file_kind(cfg, "线索导出.xlsx") == "leads"
    assert file_kind(cfg, "members.csv") == "customers"
    assert file_kind(cfg, "pos-2026-10.csv") == "orders"


def test_the_default_prospect_settings_keep_the_config_hash_of_older_stores() -> None:
    """A run of the same period after an upgrade replaces the old one (same hash), it does not
    add a second snapshot; changing the prospect scorecard makes a new configuration."""
    plain = parse_config({})
    old = plain.model_dump(mode="json", exclude={"sources", "store", "language", "as_of",
                                                 "campaigns", "web", "tasks", "alerts", "watch",
                                                 "loyalty", "prospects", "feedback",
                                                 "contracts", "cost_to_serve"})
    blob = json.dumps(old, sort_keys=True, ensure_ascii=False).encode()
    assert plain.config_hash() == hashlib.sha256(blob).hexdigest()[:12]
    assert parse_config({"prospects": {"grade_cuts": [70, 50, 30]}}).config_hash() \
        != plain.config_hash()
    # so does changing the renewal reminders (contracts' defaults hash as before too)
    assert parse_config({"contracts": {"reminder_days": 60}}).config_hash() \
        != plain.config_hash()

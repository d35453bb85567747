"""Contracts and costs to serve (docs/contracts.md): intake at the door, renewals and the segment
P&L as computed, and the B2B demo's planted patterns found through the CLI, the report and the
web, in both languages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from tierwise.config import ContractsConfig, CostToServeConfig, IntakeConfig, SourceConfig, \
    parse_config
from tierwise.errors import ConfigError, DataContractError
from tierwise.io import read_source
from tierwise.lifecycle.renewals import contract_status, renewal_rates
from tierwise.segments.cost_to_serve import TOTAL, customer_costs, key_account_margins, \
    segment_cost_pnl

from conftest import run_cli

AS_OF = dt.date(2026, 9, 30)


def _read(tmp_path: Path, kind: str, text: str, **columns: str):
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    return read_source(SourceConfig(path=path, columns=columns), kind=kind, intake=IntakeConfig(),
                       timezone="Asia/Shanghai", as_of=AS_OF, base_dir=tmp_path,
                       rejects_dir=tmp_path / "rejects", today=AS_OF)


# -- intake ---------------------------------------------------------------------------------------
def test_contracts_are_read_with_chinese_headers_and_bad_rows_rejected_with_a_reason(tmp_path):
    res = _read(tmp_path, "contracts",
                "合同编号,客户编号,产品,开始日期,结束日期,合同金额\n"
                "HT-1,C1,供货,2025-11-01,2026-10-31,120000\n"     # ends after as_of: fine
                "HT-2,C2,供货,2026-03-01,2025-03-01,50000\n"      # ends before it starts
                "HT-3,C3,服务,2025-01-01,2025-12-31,-10\n"        # negative value
                "HT-1,C4,供货,2025-01-01,2025-12-31,1000\n"       # repeated contract id
                ",C5,,2025-02-01,2026-01-31,3000\n")              # no id: one is made
    assert (res.report.rows_in, res.report.accepted, res.report.rejected) == (5, 2, 3)
    assert res.frame["contract_id"].tolist() == ["HT-1", "C5:2025-02-01:"]
    assert str(res.frame.loc[0, "ends_at"]) == "2026-10-31"
    rejects = pd.read_csv(res.report.rejects_file, encoding="utf-8-sig")
    reasons = dict(zip(rejects["line"], rejects["reason"], strict=True))
    assert "is before column '开始日期' (starts_at) 2026-03-01" in reasons[3]
    assert "negative" in reasons[4]
    assert "duplicate contract_id 'HT-1'" in reasons[5] and "first on line 2" in reasons[5]


def test_costs_read_months_and_cost_type_words_and_reject_what_they_cannot_use(tmp_path):
    res = _read(tmp_path, "costs",
                "客户编号,细分,月份,费用类型,金额\n"
                "C1,,2026-07,拜访,800\n"
                ",Manufacturing,2026年8月,物流,1500.5\n"
                "C1,,2026/09,折扣,-20\n"                         # a correction: allowed
                "C2,,2026-08,招待,300\n"                          # not a cost type
                ",,2026-08,服务,100\n"                            # nobody to charge
                "C1,,2027-01,服务,100\n")                         # after as_of
    assert (res.report.rows_in, res.report.accepted, res.report.rejected) == (6, 3, 3)
    assert res.frame["cost_type"].tolist() == ["visits", "logistics", "discounts"]
    assert [str(d) for d in res.frame["period"]] == ["2026-07-01", "2026-08-01", "2026-09-01"]
    assert res.frame["segment"].tolist()[1] == "Manufacturing"
    rejects = pd.read_csv(res.report.rejects_file, encoding="utf-8-sig")
    reasons = dict(zip(rejects["line"], rejects["reason"], strict=True))
    assert "'招待' is not a cost type: use one of visits, discounts" in reasons[5]
    assert "neither customer_id nor segment" in reasons[6]
    assert "after as_of 2026-09-30" in reasons[7]


def test_a_costs_file_without_customer_or_segment_is_refused_with_the_fix(tmp_path):
    with pytest.raises(DataContractError, match=r"customer_id or a segment column.*"
                                                r"\[sources.costs.columns\]"):
        _read(tmp_path, "costs", "month,type,amount\n2026-07,visits,10\n")


def test_config_refuses_a_strategic_floor_above_the_core_floor():
    with pytest.raises(ConfigError, match="cost_to_serve.*strategic_min_margin"):
        parse_config({"cost_to_serve": {"strategic_min_margin": 0.1, "core_min_margin": 0.05}})
    with pytest.raises(ConfigError, match="contracts.reminder_days"):
        parse_config({"contracts": {"reminder_days": 0}})


# -- renewals -------------------------------------------------------------------------------------
def _contracts(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_key", "contract_id", "product", "starts_at",
                                        "ends_at", "value"])
    frame["customer_id"] = "C" + frame["customer_key"].astype(str)
    return frame


def test_contract_statuses_and_renewal_rate_by_tier():
    c = _contracts([
        (1, "a1", "x", "2024-10-05", "2025-10-04", 100.0),   # renewed by a2 (starts 5 days on)
        (1, "a2", "x", "2025-10-05", "2026-10-20", 110.0),   # ends in 20 days: due
        (2, "b1", "x", "2025-01-01", "2025-12-31", 50.0),    # ended 9 months ago: lapsed
        (3, "c1", None, "2025-10-01", "2026-09-20", 30.0),   # ended 10 days ago: overdue
        (4, "d1", "x", "2026-01-01", "2027-06-30", 70.0),    # ends in 9 months: active
        (4, "d2", "y", "2026-11-01", "2027-10-31", 20.0),    # not started
        (5, "e1", "x", "2024-06-01", "2025-10-31", 40.0),    # renewed 60 days late: lapsed
        (5, "e2", "x", "2025-12-30", "2027-01-31", 40.0),
    ])
    status = contract_status(c, AS_OF, ContractsConfig(reminder_days=90, grace_days=30))
    by_id = status.set_index("contract_id")
    assert by_id["status"].to_dict() == {
        "a2": "due", "c1": "overdue", "d1": "active", "e2": "active", "d2": "upcoming",
        "a1": "renewed", "b1": "lapsed", "e1": "lapsed"}
    assert by_id.loc["a1", "renewed_by"] == "a2"
    assert by_id.loc["a2", "days_left"] == 20 and by_id.loc["c1", "days_left"] == -10
    assert by_id.loc["a2", "due"] == "2026-10-14" and pd.isna(by_id.loc["d1", "due"])
    tiers = pd.DataFrame({"customer_key": [1, 2, 3, 4, 5],
                          "tier": ["key", "ordinary", "key", "key", "ordinary"]})
    rates = renewal_rates(status, tiers, AS_OF, ContractsConfig()).set_index("tier")
    # decided in the past year: a1 (renewed), b1 and e1 (lapsed); c1 is still open
    assert rates.loc["all", ["ended", "renewed"]].tolist() == [3, 1]
    assert rates.loc["key", "renewal_rate"] == 1.0 and rates.loc["ordinary", "renewal_rate"] == 0
    assert rates.loc["all", "renewal_rate_value"] == pytest.approx(100 / 190)


# -- cost to serve ----------------------------------------------------------------------------------
def test_segment_cost_pnl_break_even_and_key_accounts_against_pricing_guidance():
    customers = pd.DataFrame({
        "customer_key": [1, 2, 3, 4], "customer_id": ["A", "B", "C", "D"],
        "name": list("ABCD"), "account_manager": "m", "segment": ["S", "S", "T", "T"],
        "segment_owner": ["o1", "o1", "o2", "o2"], "key_account": [True, True, True, False],
        "key_account_type": ["core", "strategic", "core", None]})
    revenue = pd.DataFrame({"customer_key": [1, 2, 3, 4], "revenue": [1000.0, 3000.0, 500.0,
                                                                       500.0],
                            "gross_margin": [200.0, 600.0, 150.0, 100.0]})
    costs = pd.DataFrame({"customer_key": [1, 2, 3, None], "customer_id": ["A", "B", "C", None],
                          "segment": [None, None, None, "S"],
                          "cost_type": ["visits", "discounts", "service", "logistics"],
                          "amount": [150.0, 560.0, 20.0, 100.0]})
    cfg = CostToServeConfig()
    served = customer_costs(customers, revenue, costs, cfg).set_index("customer_key")
    # segment S's 100 of logistics shared 1000 : 3000 by revenue
    assert served.loc[1, "cost_logistics"] == pytest.approx(25.0)
    assert served.loc[2, "cost_to_serve"] == pytest.approx(635.0)
    assert served.loc[1, "margin_after_cost"] == pytest.approx(200 - 175)
    pnl = segment_cost_pnl(customers, revenue, costs, cfg).set_index("segment")
    assert pnl.loc["S", "costs"] == pytest.approx(810.0)
    assert pnl.loc["S", "contribution"] == pytest.approx(-10.0)
    assert pnl.loc["S", "break_even_revenue"] == pytest.approx(810 / 0.2)
    assert pnl.loc["S", "status"] == "near_break_even"            # -10 / 4000 within 2 %
    assert pnl.loc["T", "status"] == "above_break_even"
    assert pnl.loc[TOTAL, "costs"] == pytest.approx(830.0)
    assert pnl.loc[TOTAL, "contribution"] == pytest.approx(1050 - 830)
    margins = key_account_margins(customers, served.reset_index(), cfg).set_index("customer_id")
    assert margins.loc["A", "check"] == "below_guidance"          # core: 25 / 1000 < 5 %
    assert margins.loc["A", "floor"] == 0.05
    assert margins.loc["B", "check"] == "near_break_even"         # strategic: -35 / 3000, allowed
    assert margins.loc["B", "floor"] == -0.02
    assert margins.loc["C", "check"] == "ok"                      # core: 130 / 500
    assert list(margins.index) == ["A", "B", "C"]                 # flagged first


# -- the B2B demo's planted patterns ----------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The B2B demo (300 accounts) ingested and run at its last quarter end through the CLI."""
    from tierwise.demo import generate_b2b
    from tierwise.demo.walkthrough import B2B_CONFIG, B2B_END

    folder = tmp_path_factory.mktemp("b2b-contracts")
    manifest = generate_b2b(folder, end=B2B_END)
    config = folder / "tierwise.toml"
    config.write_text(B2B_CONFIG.format(end=B2B_END), encoding="utf-8")
    for args in (("ingest", "--json"), ("run", "--as-of", B2B_END.isoformat())):
        done = run_cli(*args, "--config", str(config), cwd=folder)
        assert done.code == 0, done.stderr
        if args[0] == "ingest":
            ingested = {Path(i["source"]).name: i for i in done.json()}
    return folder, config, manifest, ingested


def test_demo_writes_contracts_and_costs_beside_the_other_files(demo):
    folder, _, manifest, ingested = demo
    assert manifest["files"] == ["accounts.csv", "orders.xlsx", "survey.csv", "leads.csv",
                                 "contracts.csv", "costs.csv", "manifest.json"]
    for name, bad in (("contracts.csv", 1), ("costs.csv", 2)):
        item = ingested[name]
        assert item["rows_in"] == item["accepted"] + item["rejected"]
        assert item["rejected"] == bad, name
    contracts = pd.read_csv(folder / "rejects" / "contracts.contracts.rejects.csv",
                            encoding="utf-8-sig")
    assert contracts["合同编号"].tolist() == manifest["contracts_bad"]
    assert "before column '开始日期'" in contracts["reason"].iloc[0]
    costs = pd.read_csv(folder / "rejects" / "costs.costs.rejects.csv", encoding="utf-8-sig")
    assert costs["line"].tolist() == manifest["costs_bad"]
    assert "not a cost type" in costs["reason"].iloc[0]
    assert "not a known customer" in costs["reason"].iloc[1]


def test_demo_contracts_due_are_found_reminded_and_tasked(demo):
    folder, config, manifest, _ = demo
    done = run_cli("contracts", "--json", "--config", str(config), cwd=folder)
    assert done.code == 0, done.stderr
    data = done.json()
    due = {r["customer_id"]: r for r in data["items"]}
    assert set(manifest["renewal_due"]) <= set(due)
    for cid, days in zip(manifest["renewal_due"], (20, 45, 75), strict=True):
        assert due[cid]["status"] == "due" and due[cid]["days_left"] == days
        assert due[cid]["key_account_type"] in ("strategic", "core")   # key accounts
        assert due[cid]["status_zh"] == "即将到期"
    rates = {r["tier"]: r["renewal_rate"] for r in data["rates"]}
    assert rates["key"] > rates["ordinary"]     # planted: bigger accounts renew more often
    done = run_cli("tasks", "list", "--json", "--config", str(config), cwd=folder)
    tasks = [t for t in done.json()["tasks"] if t["reason"] == "contract_renewal"]
    assert {t["customer_id"] for t in tasks} >= set(manifest["renewal_due"])
    first = next(t for t in tasks if t["customer_id"] == manifest["renewal_due"][0])
    assert first["priority"] == 1 and first["due"] == "2026-10-14"
    text = run_cli("contracts", "--config", str(config), cwd=folder)
    assert manifest["renewal_due"][0] in text.stdout and "due for renewal" in text.stdout
    text = run_cli("contracts", "--lang", "zh", "--config", str(config), cwd=folder)
    assert "续约提醒" in text.stdout and "即将到期" in text.stdout
    text = run_cli("pnl", "--lang", "zh", "--config", str(config), cwd=folder)
    assert "低于定价指引" in text.stdout and "制造业" in text.stdout  # name_zh of the segment


def test_demo_core_account_below_cost_is_flagged_and_strategic_near_break_even_is_not(demo):
    folder, config, manifest, _ = demo
    done = run_cli("pnl", "--json", "--config", str(config), cwd=folder)
    assert done.code == 0, done.stderr
    data = done.json()
    keys = {r["customer_id"]: r for r in data["key_accounts"]}
    core = keys[manifest["core_below_cost"][0]]
    assert core["key_account_type"] == "core" and core["margin_after_cost"] < 0
    assert core["check"] == "below_guidance" and core["check_en"] == "below pricing guidance"
    strategic = keys[manifest["strategic_break_even"][0]]
    assert strategic["key_account_type"] == "strategic"
    assert abs(strategic["margin_rate"]) <= 0.02 and strategic["check"] == "near_break_even"
    flagged = [cid for cid, r in keys.items() if r["check"] == "below_guidance"]
    assert flagged == manifest["core_below_cost"]
    # the segment P&L adds up: the total is every accepted cost of the window
    costs = pd.read_csv(folder / "costs.csv", encoding="utf-8")
    costs = costs[(costs["月份"] >= "2025-10") & costs["费用类型"].isin(["拜访", "折扣", "服务",
                                                                    "物流"])
                  & costs["客户编号"].fillna("").ne("C99999")]
    total = next(r for r in data["segments"] if r["total"])
    assert total["costs"] == pytest.approx(costs["金额"].sum(), abs=0.05)
    for row in data["segments"]:
        assert row["contribution"] == pytest.approx(row["gross_margin"] - row["costs"], abs=0.02)
        assert row["break_even_revenue"] == pytest.approx(
            row["costs"] / row["gross_margin_rate"], rel=1e-6)


def test_demo_report_sections_in_both_languages(demo):
    from tierwise import load_config
    from tierwise.reports import build_report, render_html
    from tierwise.store import Store

    folder, config, manifest, _ = demo
    with Store(load_config(config).store_path, read_only=True) as store:
        reports = {lang: build_report(store, lang=lang) for lang in ("zh", "en")}
    core = manifest["core_below_cost"][0]
    for lang, check in (("zh", "低于定价指引"), ("en", "below pricing guidance")):
        report = reports[lang]
        assert report["contracts"].available and report["pnl"].available
        reminders = report["contracts"].table("reminders").frame
        assert set(manifest["renewal_due"]) <= set(reminders["customer_id"])
        margins = report["pnl"].table("key_accounts").frame.set_index("customer_id")
        assert margins.loc[core, "margin_check"] == check
        assert report["pnl"].figure("below_guidance") == 1
    assert reports["zh"]["pnl"].title == "细分损益与服务成本"
    assert "制造业" in set(reports["zh"]["pnl"].table("segments").frame["segment"])
    html = render_html(reports["zh"], folder / "report.html").read_text(encoding="utf-8")
    assert "合同与续约" in html and core in html


def test_demo_web_page_and_api_scoped_to_the_viewer(demo):
    pytest.importorskip("fastapi")
    from _web_store import add_users, client, client_class
    from tierwise import load_config
    from tierwise.web import create_app

    folder, config, manifest, _ = demo
    add_users(config)
    app = create_app(load_config(config))
    core = manifest["core_below_cost"][0]
    with client_class()(app):
        admin, sunli = client(app, "admin"), client(app, "sunli")
        whole = admin.get("/api/contracts").json()
        assert whole["pnl"]["segments"] and whole["contracts"]["rates"]
        assert {r["customer_id"] for r in whole["contracts"]["items"]} >= \
            set(manifest["renewal_due"])
        mine = sunli.get("/api/contracts").json()
        assert mine["pnl"]["segments"] == [] and mine["contracts"]["rates"] == []
        managers = {r["account_manager"] for r in mine["pnl"]["key_accounts"]}
        assert managers == {"孙丽"}
        assert core in {r["customer_id"] for r in mine["pnl"]["key_accounts"]}
        page = admin.get("/contracts", params={"lang": "zh"})
        assert page.status_code == 200
        assert 'id="segment-pnl"' in page.text and "低于定价指引" in page.text
        assert f'data-customer-id="{core}" data-check="below_guidance"' in page.text
        page = sunli.get("/contracts", params={"lang": "en"})
        assert 'id="pnl-admins-only"' in page.text and "Contracts &amp; costs" in page.text
        detail = admin.get(f"/api/customers/{core}").json()["customer"]
        assert detail["margin_after_cost"] < 0 and detail["days_to_renewal"] == 75
        page = admin.get(f"/customers/{core}", params={"lang": "zh"})
        assert 'id="contract-end"' in page.text and "扣除服务成本后利润" in page.text
        every = admin.get("/api/contracts", params={"status": "all"}).json()["contracts"]
        assert len(every["items"]) == sum(every["counts"].values())


def test_reingesting_contracts_and_costs_replaces_them(demo):
    import duckdb
    from tierwise import load_config

    folder, config, _, _ = demo
    path = load_config(config).store_path
    before = duckdb.connect(str(path), read_only=True)
    counts = [before.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("contracts", "costs")]
    before.close()
    done = run_cli("ingest", "--json", "--config", str(config), cwd=folder)
    assert done.code == 0, done.stderr
    stored = {Path(i["source"]).name: i for i in done.json()}
    assert stored["contracts.csv"]["replaced"] == counts[0]
    after = duckdb.connect(str(path), read_only=True)
    assert [after.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("contracts", "costs")] == counts
    after.close()


def test_validate_reads_contracts_and_costs_as_ingest_would(tmp_path):
    from tierwise.config import load_config
    from tierwise.validation import validate_config

    (tmp_path / "orders.csv").write_text("customer_id,ordered_at,amount\nC1,2026-09-01,10\n",
                                         encoding="utf-8")
    (tmp_path / "contracts.csv").write_text(
        "customer_id,start,end,value\nC1,2026-01-01,2025-12-31,100\nC1,2026-01-01,2026-12-31,"
        "100\n", encoding="utf-8")
    (tmp_path / "costs.csv").write_text("segment,month,type,amount\nS,2026-08,lunch,5\n",
                                        encoding="utf-8")
    (tmp_path / "tierwise.toml").write_text(
        'as_of = "2026-09-30"\n[sources.orders]\npath = "orders.csv"\n'
        '[sources.contracts]\npath = "contracts.csv"\n[sources.costs]\npath = "costs.csv"\n',
        encoding="utf-8")
    found = validate_config(load_config(tmp_path / "tierwise.toml"))
    assert found.ok
    assert found.rows["contracts"] == {"rows_in": 2, "rejected": 1}
    assert found.rows["costs"] == {"rows_in": 1, "rejected": 1}
    assert any("end before they start" in p for p in found.row_problems)
    assert any("unknown cost type" in p for p in found.row_problems)


def test_a_renewal_task_reads_in_both_languages():
    from tierwise.tasks.words import reason_text

    due = {"contract_id": "HT-1", "ends_at": "2026-10-20", "days": 20}
    assert reason_text("contract_renewal", due, "zh") == \
        "合同 HT-1 将于 2026-10-20 到期（还有 20 天）：商谈续约"
    assert reason_text("contract_renewal", {**due, "ends_at": "2026-09-20", "days": -10},
                       "en") == ("contract HT-1 ended on 2026-09-20 and is not renewed: talk "
                                 "renewal now")


def test_without_contracts_or_costs_the_commands_say_how_to_add_them(tmp_path):
    (tmp_path / "orders.csv").write_text("customer_id,ordered_at,amount\nC1,2026-09-01,10\n"
                                         "C1,2026-09-10,12\n", encoding="utf-8")
    config = tmp_path / "tierwise.toml"
    config.write_text('[sources.orders]\npath = "orders.csv"\n', encoding="utf-8")
    for args in (("ingest",), ("run",)):
        assert run_cli(*args, "--config", str(config), cwd=tmp_path).code == 0
    done = run_cli("contracts", "--config", str(config), cwd=tmp_path)
    assert done.code == 0 and "add [sources.contracts] to the config" in done.stderr
    done = run_cli("pnl", "--json", "--config", str(config), cwd=tmp_path)
    assert done.json()["available"] is False

"""The HTML pages: each role gets every page, scoped like its JSON twin, in Chinese or English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tierwise.i18n.render import render_reason

from _web_store import PASSWORD, USERS, client, client_class, copy_store, shared_web_store

pytest.importorskip("fastapi")

PAGES = {"/": "key-figures", "/customers": "customer-table", "/customers/C10029": None,
         "/key-accounts": "key-types", "/calls": "calls-page", "/prospects": "prospects-section",
         "/migration": "migration-matrix", "/contracts": "contracts-page",
         "/campaigns": "campaign-table", "/campaigns/1": "campaign-detail", "/runs": "runs-table",
         "/loyalty": "no-loyalty",  # the demo B2B supplier has no [loyalty] levels
         "/key-accounts/selection": "no-selection-proposal"}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shared store: a test here creates a campaign."""
    return copy_store(shared_web_store(tmp_path_factory), tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def clients(config: Path):
    from tierwise import load_config
    from tierwise.web import create_app

    app = create_app(load_config(config))
    with client_class()(app):
        yield {name: client(app, name) for name in USERS}


def _rows(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-customer-id="([^"]+)"', body)


@pytest.mark.parametrize("name", list(USERS))
def test_every_page_renders_for_every_role(clients, name: str) -> None:
    browser = clients[name]
    api = browser.get("/api/customers").json()["items"]
    for path, element in PAGES.items():
        if path == "/customers/C10029":
            path = f"/customers/{api[0]['customer_id']}"
            element = "customer-detail"
        page = browser.get(path)
        assert page.status_code == 200, path
        assert f'id="{element}"' in page.text, path
        assert f'data-role="{USERS[name][0]}"' in page.text, path
        assert 'name="csrf_token"' in page.text, path  # the sign-out form


@pytest.mark.parametrize("name", list(USERS))
def test_customer_table_shows_the_same_rows_as_the_api(clients, name: str) -> None:
    browser = clients[name]
    api = browser.get("/api/customers", params={"sort": "total_amount"}).json()
    page = browser.get("/customers", params={"sort": "total_amount"})
    assert _rows(page.text, "customer-table") == [i["customer_id"] for i in api["items"]]
    assert f'data-total="{api["total"]}"' in page.text
    phones = re.findall(r'<td class="phone">([^<]*)</td>', page.text)
    assert phones and all(("****" in p) == (name != "admin") for p in phones if p)


def test_search_filters_sort_and_pages(clients) -> None:
    admin = clients["admin"]
    page = admin.get("/customers", params={"q": "C1000", "sort": "customer_id", "order": "asc"})
    assert _rows(page.text, "customer-table") == [f"C1000{i}" for i in range(1, 10)]
    keys = admin.get("/customers", params={"key_account": "yes"}).text
    api_keys = admin.get("/api/customers", params={"key_account": True}).json()["items"]
    assert sorted(_rows(keys, "customer-table")) == sorted(i["customer_id"] for i in api_keys)
    first = admin.get("/customers", params={"sort": "customer_id", "order": "asc"}).text
    assert 'id="pager-next"' in first and 'id="pager-previous"' not in first
    second = admin.get("/customers", params={"sort": "customer_id", "order": "asc",
                                             "page": 2}).text
    assert set(_rows(first, "customer-table")).isdisjoint(_rows(second, "customer-table"))
    assert 'id="no-customers"' in admin.get("/customers", params={"q": "no such name"}).text
    assert admin.get("/customers", params={"sort": "not-a-column"}).status_code == 200


def test_out_of_scope_customer_page_is_a_friendly_404(clients) -> None:
    outside = [i["customer_id"] for i in clients["admin"].get(
        "/api/customers", params={"page_size": 500}).json()["items"]
        if i["account_manager"] != "孙丽"][0]
    page = clients["sunli"].get(f"/customers/{outside}")
    assert page.status_code == 404
    assert 'id="error-page" data-status="404"' in page.text and "Traceback" not in page.text
    assert clients["admin"].get("/no/such/page").status_code == 404


def test_language_switch_is_remembered(config: Path) -> None:
    from tierwise import load_config
    from tierwise.web import create_app

    browser = client(create_app(load_config(config)), "admin")
    assert "Overview" in browser.get("/").text  # the run's language: the B2B demo is English
    chinese = browser.get("/?lang=zh")
    assert '<html lang="zh-CN">' in chinese.text and "概览" in chinese.text
    assert "概览" in browser.get("/customers").text  # remembered in a cookie
    assert "Customers" in browser.get("/customers?lang=en").text


def test_sign_in_page_has_stable_fields(clients) -> None:
    page = client_class()(clients["admin"].app).get("/login")
    for marker in ('id="login-form"', 'name="username"', 'name="password"',
                   'name="csrf_token"', 'type="password"'):
        assert marker in page.text


def test_pages_load_nothing_from_elsewhere(clients) -> None:
    admin = clients["admin"]
    for path in PAGES:
        html = admin.get(path).text
        assert not re.search(r'(src|href)="(https?:)?//', html), path
    css = admin.get("/static/style.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_admin_creates_a_campaign_with_the_form(clients) -> None:
    admin = clients["admin"]
    page = admin.get("/campaigns")
    token = re.search(r'id="campaign-form".*?name="csrf_token" value="([^"]+)"', page.text,
                      re.S).group(1)
    made = admin.post("/campaigns", data={"csrf_token": token, "name": "tail again",
                                          "tiers": ["key", "major"], "face_value": "20",
                                          "control_share": "0.3"}, follow_redirects=False)
    assert made.status_code == 303, re.findall(r'id="error-message">([^<]*)', made.text)
    detail = admin.get(made.headers["location"])
    assert detail.status_code == 200 and "tail again" in detail.text
    assert "tail again" in admin.get("/campaigns").text
    bad = admin.post("/campaigns", data={"csrf_token": token, "tiers": ["long_tail"],
                                         "face_value": "twenty"})
    assert bad.status_code == 400 and "face_value" in bad.text
    assert 'id="campaign-form"' not in clients["sunli"].get("/campaigns").text


def test_admin_downloads_reports(clients) -> None:
    admin = clients["admin"]
    runs = admin.get("/runs").text
    assert 'data-format="xlsx"' in runs and 'data-format="html"' in runs
    excel = admin.get("/runs/2/report.xlsx")
    assert excel.status_code == 200 and excel.content[:2] == b"PK"
    assert "attachment" in excel.headers["content-disposition"]
    html = admin.get("/runs/2/report.html")
    assert html.status_code in (200, 404)  # 404 until the HTML renderer ships
    if html.status_code == 200:
        assert "<html" in html.text
    assert admin.get("/runs/99/report.xlsx").status_code == 404
    assert 'id="reports-admin-only"' in clients["wanghy"].get("/runs").text


def test_password_in_form_is_not_echoed(clients) -> None:
    browser = client_class()(clients["admin"].app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text).group(1)
    wrong = browser.post("/login", data={"username": "admin", "password": PASSWORD + "-oops",
                                         "csrf_token": token})
    assert wrong.status_code == 401 and PASSWORD not in wrong.text


@pytest.fixture(scope="module")
def stored(config: Path) -> dict:
    """The latest run's stored backtest and each customer's stored policy, straight from the store."""
    import json

    import duckdb

    con = duckdb.connect(str(config.parent / "tierwise.duckdb"), read_only=True)
    try:
        run = con.execute("SELECT run_id, meta FROM runs ORDER BY as_of DESC LIMIT 1").fetchone()
        tables = {name: json.loads(data) for name, data in con.execute(
            "SELECT name, data FROM run_tables WHERE run_id = ? AND name LIKE 'backtest%'",
            [run[0]]).fetchall()}
        policies = con.execute(
            "SELECT customer_id, activity_state, activity_policy, tier, key_account, "
            "policy_reason_args FROM snapshot_customers WHERE run_id = ?", [run[0]]).fetchall()
    finally:
        con.close()
    rows = {name: [dict(zip(t["columns"], r, strict=True)) for r in t["data"]]
            for name, t in tables.items()}
    return {"meta": json.loads(run[1])["backtest"], "tables": rows, "policies": policies}


def test_overview_backtest_is_the_stored_one(clients, stored: dict) -> None:
    admin = clients["admin"]
    data = admin.get("/api/overview").json()["backtest"]
    meta = stored["meta"]
    assert data["status"] == meta["status"] == "ran"
    from tierwise.backtest import headline

    assert "headline_en" not in meta
    assert data["headline_en"] == headline(meta, "en") and data["headline_zh"] == \
        headline(meta, "zh")
    assert data["silenced_share"] == meta["checks"]["silenced_share"]
    groups = stored["tables"]["backtest"]
    for dimension, rows in data["groups"].items():
        want = [r for r in groups if r["dimension"] == dimension]
        assert [(r["group"], r["customers"], r["bought_again"]) for r in rows] == \
            [(r["group"], r["customers"], r["bought_again"]) for r in want], dimension
    deciles = stored["tables"]["backtest_calibration"]
    for probability, rows in data["calibration"].items():
        want = [r for r in deciles if r["probability"] == probability]
        assert [r["actual"] for r in rows] == pytest.approx([r["actual"] for r in want])
    page = admin.get("/").text
    shown = re.findall(r'<tr data-policy="([^"]+)">\s*<td>[^<]*</td>\s*<td class="num">([^<]*)'
                       r'</td>\s*<td class="num">([^<]*)</td>', page)
    assert [(p, int(n.replace(",", "")), int(b.replace(",", ""))) for p, n, b in shown] == \
        [(r["group"], r["customers"], r["bought_again"])
         for r in data["groups"]["activity_policy"]]
    assert headline(meta, "en").replace("'", "&#39;") in page


def test_overview_backtest_is_for_viewers_who_see_everyone(clients) -> None:
    for name in ("sunli", "mfg-owner"):
        assert clients[name].get("/api/overview").json()["backtest"] is None
        assert 'id="backtest"' not in clients[name].get("/").text


def test_next_action_is_the_stored_policy(clients, stored: dict) -> None:
    admin = clients["admin"]
    calls = [(cid, state, reason) for cid, state, policy, tier, key, reason in stored["policies"]
             if policy == "call"]
    assert calls, "the B2B demo has key or major accounts to call"
    for customer_id, state, reason in calls:
        action = admin.get(f"/api/customers/{customer_id}").json()["next_action"]
        assert action["activity_policy"] == "call", (customer_id, state)
        assert action["activity_policy_en"] == "account manager calls"
        assert action["policy_reason"] == render_reason(reason, "en")  # the store holds codes
        assert action["policy_reason_zh"] == render_reason(reason, "zh")
        assert action["policy_reason"].startswith(("key or major account: ", "early warning: "))
        page = admin.get(f"/customers/{customer_id}").text
        assert 'data-policy="call"' in page and "do not contact" not in page
    silenced = [cid for cid, _, policy, tier, key, _ in stored["policies"]
                if policy in ("do_not_contact", "archive")]
    for customer_id in silenced[:3]:
        action = admin.get(f"/api/customers/{customer_id}").json()["next_action"]
        assert action["activity_policy"] in ("do_not_contact", "archive")
        assert action["policy_probability"] < 0.10

"""The dashboard in a real browser: ``tierwise serve`` on a real store, Debian's Chromium via
Playwright, signed in as each role through the login form.

What each role sees is checked against the store itself (an admin every customer, a segment owner
the customers of the segments they own, an account manager only their own), along with the 404
for someone else's customer, the language switch, a phone-sized screen, sign-out, and a console
without errors. Screenshots are kept in ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tierwise import load_config
from tierwise.store import Store

from _browser import artifact, browser_page
from _serve import serving
from _web_store import PASSWORD, USERS, copy_store, shared_web_store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``tierwise serve`` on a copy of the web test store; yields its address and config."""
    config = copy_store(shared_web_store(tmp_path_factory), tmp_path_factory.mktemp("served"))
    with serving("--config", str(config)) as (base, _):
        yield base, config


@pytest.fixture(scope="module")
def snapshot(server: tuple[str, Path]):
    _, config = server
    with Store(load_config(config).store_path, read_only=True) as store:
        return store.snapshot()


def _sign_in(page, base: str, name: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")


def _all_rows(page, base: str) -> list[dict[str, str]]:
    """Every row of the customer list, following the pager."""
    rows: list[dict[str, str]] = []
    page.goto(f"{base}/customers?sort=customer_id&order=asc")
    while True:
        rows += page.eval_on_selector_all(
            "#customer-table tbody tr[data-customer-id]",
            "trs => trs.map(tr => ({id: tr.dataset.customerId, manager: tr.dataset.manager,"
            " segment: tr.dataset.segment, text: tr.innerText}))")
        following = page.query_selector("#pager-next")
        if following is None:
            return rows
        following.click()
        page.wait_for_load_state("networkidle")


def _expected(snapshot, name: str):
    role, segments, manager = USERS[name]
    if role == "admin":
        return snapshot
    if role == "manager":
        return snapshot[snapshot["account_manager"] == manager]
    owned = list(segments) or snapshot.loc[snapshot["segment_owner"] == name, "segment"].unique()
    return snapshot[snapshot["segment"].isin(owned)]


@pytest.mark.parametrize("name", ["admin", "mfg-owner", "sunli"])
def test_each_role_sees_its_own_customers(server, snapshot, name: str) -> None:
    base, _ = server
    expected = _expected(snapshot, name)
    assert 0 < len(expected) <= len(snapshot)
    with browser_page(viewport={"width": 1280, "height": 900}) as (page, errors):
        _sign_in(page, base, name)
        assert page.get_attribute("#signed-in-as", "data-role") == USERS[name][0]
        assert page.query_selector("#pyramid-table") is not None  # the overview
        page.screenshot(path=str(artifact(f"web-overview-{name}.png")), full_page=True)
        rows = _all_rows(page, base)
        total = int(page.get_attribute("#result-count", "data-total") or -1)
        page.screenshot(path=str(artifact(f"web-customers-{name}.png")), full_page=True)
        first = expected.sort_values("customer_id")["customer_id"].iloc[0]
        page.goto(f"{base}/customers/{first}")
        detail = page.get_attribute("#customer-detail", "data-customer-id")
        action = page.inner_text("#next-action")
        page.goto(f"{base}/calls")
        calls = page.eval_on_selector_all("#calls-page tr[data-customer-id]",
                                          "trs => trs.map(tr => tr.dataset.customerId)")
    assert errors == []
    assert total == len(expected)
    assert sorted(r["id"] for r in rows) == sorted(expected["customer_id"])
    if USERS[name][0] == "manager":
        assert {r["manager"] for r in rows} == {USERS[name][2]}
    assert detail == first and action.strip()
    assert set(calls) <= set(expected["customer_id"])


def test_phones_show_in_full_only_for_allowed_roles(server, snapshot) -> None:
    base, _ = server
    mine = _expected(snapshot, "sunli").dropna(subset=["phone"])
    assert len(mine)
    row = mine.iloc[0]
    shown = {}
    for name in ("admin", "sunli"):
        with browser_page() as (page, errors):
            _sign_in(page, base, name)
            page.goto(f"{base}/customers/{row['customer_id']}")
            shown[name] = page.inner_text("#identity")
        assert errors == []
    assert str(row["phone"]) in shown["admin"]
    assert str(row["phone"]) not in shown["sunli"]
    assert re.search(r"\d{3}\*{4}\d{4}", shown["sunli"])


def test_someone_elses_customer_is_not_found(server, snapshot) -> None:
    base, _ = server
    others = snapshot[snapshot["account_manager"] != USERS["sunli"][2]]
    with browser_page() as (page, _errors):
        _sign_in(page, base, "sunli")
        answer = page.goto(f"{base}/customers/{others['customer_id'].iloc[0]}")
        body = page.inner_text("body")
        api = page.request.get(f"{base}/api/customers/{others['customer_id'].iloc[0]}")
        api_status, api_body = api.status, api.json()
        page.screenshot(path=str(artifact("web-404.png")))
    assert answer is not None and answer.status == 404
    assert "Traceback" not in body and "SELECT" not in body
    assert api_status == 404 and api_body["error"]["code"]


def test_wrong_password_then_language_switch_phone_screen_and_sign_out(server) -> None:
    base, _ = server
    with browser_page(viewport={"width": 390, "height": 844}) as (page, errors):
        _sign_in(page, base, "admin", password="not the password")
        assert page.query_selector("#login-error") is not None
        _sign_in(page, base, "admin")
        page.click("#lang-switch a[hreflang=en]")
        page.wait_for_load_state("networkidle")
        english = page.get_attribute("html", "lang")
        page.click("#lang-switch a[hreflang=zh]")
        page.wait_for_load_state("networkidle")
        chinese = page.get_attribute("html", "lang")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        page.screenshot(path=str(artifact("web-overview-phone.png")), full_page=True)
        page.click("#logout-form button")
        page.wait_for_load_state("networkidle")
        after = page.url
        page.goto(f"{base}/customers")
        again = page.url
    # the failed sign-in answers 401, which the browser logs as a failed resource
    assert [e for e in errors if "401" not in e] == []
    assert english == "en" and chinese == "zh-CN"
    assert overflow <= 1, f"the page is {overflow}px wider than a phone screen"
    assert "/login" in after and "/login" in again


def test_the_overview_draws_the_cohort_chart_with_the_shipped_plotly(server) -> None:
    base, _ = server
    with browser_page() as (page, errors):
        _sign_in(page, base, "admin")
        page.goto(f"{base}/?lang=en")
        page.wait_for_selector("#cohort-chart[data-drawn=true]", timeout=30_000)
        cells = page.eval_on_selector("#cohort-chart", "e => e.querySelectorAll("
                                      "'svg.main-svg .heatmaplayer image').length")
        rows = page.eval_on_selector_all("#retention-table tbody tr", "trs => trs.length")
        page.screenshot(path=str(artifact("web-overview-retention.png")), full_page=True)
    # plotly.js draws under the strict content security policy: no console error, no request
    # outside the site (its style rules come from static/plotly.css)
    assert errors == []
    assert cells == 1 and rows >= 2

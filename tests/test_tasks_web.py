"""Tasks on the dashboard: the API (scoping, CSRF, outcomes, timeline) on a test client, and a
manager on a 390 px phone screen in real Chromium who opens their tasks, records an outcome and
finds it on the customer's timeline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tierwise import load_config
from tierwise.store import Store
from tierwise.web.accounts import add_user
from tierwise.web.app import create_app

from _serve import serving
from _browser import artifact, browser_page
from _web_store import PASSWORD, client, copy_store, shared_web_store

pytestmark = pytest.mark.slow
MANAGER = "busy-manager"


@pytest.fixture(scope="module")
def store_config(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A copy of the web test store with a manager user for the account manager with the most
    open tasks (the runs that built the store made them)."""
    config = copy_store(shared_web_store(tmp_path_factory), tmp_path_factory.mktemp("tasks-web"))
    with Store(load_config(config).store_path) as store:
        name = store.con.execute(
            "SELECT assignee FROM tasks WHERE status = 'open' AND assigned_by = 'account_manager'"
            " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchall()[0][0]
        add_user(store, MANAGER, "manager", PASSWORD, manager=name)
    return config, name


def test_the_api_lists_only_your_tasks_and_records_outcomes_with_csrf(store_config) -> None:
    config, person = store_config
    app = create_app(load_config(config))
    with client(app, MANAGER) as mine, client(app, "admin") as admin, client(app) as nobody:
        assert nobody.get("/api/tasks").status_code == 401
        listed = mine.get("/api/tasks", params={"lang": "en"}).json()
        assert listed["assignee"] == person and listed["total"] > 0
        assert {t["assignee"] for t in listed["items"]} == {person}
        assert all("*" in (t["phone"] or "*") for t in listed["items"])  # masked for a manager
        everyone = admin.get("/api/tasks").json()
        assert everyone["assignee"] is None and everyone["total"] > listed["total"]
        other = next(t for t in everyone["items"] if t["assignee"] != person)
        task = listed["items"][0]
        body = {"outcome": "will_come_back", "note": "back after the holidays",
                "next_contact": "2030-01-15"}
        # someone else's task is not found; without the CSRF header nothing is written
        assert mine.post(f"/api/tasks/{other['task_id']}/outcome",
                         json=body).status_code == 404
        token = mine.headers.pop("X-CSRF-Token")
        assert mine.post(f"/api/tasks/{task['task_id']}/outcome", json=body).status_code == 403
        mine.headers["X-CSRF-Token"] = token
        bad = mine.post(f"/api/tasks/{task['task_id']}/outcome", json={"outcome": "maybe"})
        assert bad.status_code == 422
        done = mine.post(f"/api/tasks/{task['task_id']}/outcome", json=body)
        assert done.status_code == 201, done.text
        assert done.json()["follow_up_task_id"]
        again = mine.post(f"/api/tasks/{task['task_id']}/outcome", json=body)
        assert again.status_code == 400
        events = mine.get(f"/api/customers/{task['customer_id']}/timeline",
                          params={"lang": "zh"}).json()["events"]
        outcome = next(e for e in events if e["kind"] == "outcome")
        assert outcome["outcome"] == "will_come_back" and "会再来" in outcome["text"]
        assert outcome["note"] == "back after the holidays"
        assert any(e["kind"] == "task" and e.get("reason") == "follow_up"
                   and e["due"] == "2030-01-15" for e in events)
        # a customer outside the manager's scope has no timeline for them
        assert mine.get(f"/api/customers/{other['customer_id']}/timeline").status_code in (404,) \
            or other["customer_id"] == task["customer_id"]


@pytest.fixture(scope="module")
def server(store_config, tmp_path_factory) -> Iterator[str]:
    config, _ = store_config
    served = copy_store(config, tmp_path_factory.mktemp("tasks-served"))
    with serving("--config", str(served)) as (base, _):
        yield base


def test_a_manager_on_a_phone_records_an_outcome_and_sees_it_on_the_timeline(server) -> None:
    base = server
    with browser_page(viewport={"width": 390, "height": 844}, is_mobile=True) as (page, errors):
        page.goto(f"{base}/login?lang=en")
        page.fill("input[name=username]", MANAGER)
        page.fill("input[name=password]", PASSWORD)
        page.click("#login-submit")
        page.wait_for_load_state("networkidle")
        page.click("#nav-tasks")
        page.wait_for_load_state("networkidle")
        tasks = page.query_selector_all("#task-list li.task")
        assert tasks, "the manager has no tasks on the page"
        overflow_tasks = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        page.screenshot(path=str(artifact("tasks-phone.png")), full_page=True)
        first = tasks[0]
        task_id, customer = first.get_attribute("data-task-id"), \
            first.get_attribute("data-customer-id")
        first.query_selector("select[name=outcome]").select_option("visited")
        first.query_selector("input[name=note]").fill("visited the plant, orders resume in May")
        first.query_selector("button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        landed = page.url
        outcome = page.query_selector(f"#timeline-list li[data-kind=outcome][data-task-id="
                                      f"'{task_id}']")
        text = outcome.inner_text() if outcome else ""
        overflow_customer = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth")
        page.screenshot(path=str(artifact("timeline-phone.png")), full_page=True)
        page.click("#nav-tasks")
        page.wait_for_load_state("networkidle")
        still_listed = page.query_selector(f"#task-{task_id}") is not None
    assert errors == []
    assert f"/customers/{customer}" in landed
    assert "visited" in text and "orders resume in May" in text and MANAGER in text
    assert not still_listed  # done: off the list of open tasks
    assert overflow_tasks <= 1, f"the task list is {overflow_tasks}px wider than the phone"
    assert overflow_customer <= 1, f"the customer page is {overflow_customer}px wider"

"""Who sees what: every API route, for each role, against what the store says each may see.

Roles (tests/_web_store.py): an admin; an owner with a listed segment (Manufacturing); an owner
whose segments come from the snapshot's segment_owner (Head of sales); two account managers.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from _web_store import USERS, client, shared_web_store, client_class

pytest.importorskip("fastapi")

SCOPES = {
    "admin": "TRUE",
    "mfg-owner": "(segment = 'Manufacturing' OR segment_level1 = 'Manufacturing')",
    "Head of sales": "segment_owner = 'Head of sales'",
    "sunli": "account_manager = '孙丽'",
    "wanghy": "account_manager = '王海燕'",
}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_web_store(tmp_path_factory)


@pytest.fixture(scope="module")
def truth(config: Path):
    """Per user: the customer ids they may see in each run, straight from the store."""
    con = duckdb.connect(str(config.parent / "tierwise.duckdb"), read_only=True)
    try:
        runs = [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY as_of").fetchall()]
        seen = {name: {run: {r[0] for r in con.execute(
            f"SELECT customer_id FROM snapshot_customers WHERE run_id = ? AND {where}",
            [run]).fetchall()} for run in runs} for name, where in SCOPES.items()}
        keys = {r[0] for r in con.execute(
            "SELECT customer_id FROM snapshot_customers WHERE run_id = ? AND key_account",
            [runs[-1]]).fetchall()}
    finally:
        con.close()
    return {"runs": runs, "seen": seen, "key": keys}


@pytest.fixture(scope="module")
def clients(config: Path):
    from tierwise import load_config
    from tierwise.web import create_app

    app = create_app(load_config(config))
    with client_class()(app):  # runs start-up once: the copy of the store
        yield {name: client(app, name) for name in USERS}


def test_every_role_sees_someone_and_not_everyone(truth) -> None:
    latest = truth["runs"][-1]
    everyone = truth["seen"]["admin"][latest]
    for name in SCOPES:
        mine = truth["seen"][name][latest]
        assert mine, name
        assert name == "admin" or mine < everyone, name


@pytest.mark.parametrize("name", list(USERS))
def test_customer_list_is_exactly_the_scope(clients, truth, name: str) -> None:
    answer = clients[name].get("/api/customers", params={"page_size": 500})
    assert answer.status_code == 200
    data = answer.json()
    ids = {item["customer_id"] for item in data["items"]}
    assert ids == truth["seen"][name][truth["runs"][-1]]
    assert data["total"] == len(ids)
    for item in data["items"]:
        if item["phone"]:
            assert ("****" in item["phone"]) == (name != "admin")


@pytest.mark.parametrize("name", list(USERS))
def test_older_run_is_scoped_by_that_run(clients, truth, name: str) -> None:
    first = truth["runs"][0]
    answer = clients[name].get("/api/customers", params={"page_size": 500, "run": first})
    assert {i["customer_id"] for i in answer.json()["items"]} == truth["seen"][name][first]


@pytest.mark.parametrize("name", list(USERS))
def test_filters_and_search_stay_inside_the_scope(clients, truth, name: str) -> None:
    mine = truth["seen"][name][truth["runs"][-1]]
    for params in ({"q": "有限公司"}, {"key_account": "true"}, {"state": "dead"},
                   {"tier": ["key", "major"]}, {"segment": "Other accounts"}, {"q": "C100"}):
        answer = clients[name].get("/api/customers", params={**params, "page_size": 500})
        assert answer.status_code == 200, params
        assert {i["customer_id"] for i in answer.json()["items"]} <= mine, params


@pytest.mark.parametrize("name", list(USERS))
def test_customer_detail_in_scope_and_404_outside(clients, truth, name: str) -> None:
    latest = truth["runs"][-1]
    mine = truth["seen"][name][latest]
    others = truth["seen"]["admin"][latest] - mine
    inside = sorted(mine)[0]
    answer = clients[name].get(f"/api/customers/{inside}")
    assert answer.status_code == 200
    detail = answer.json()
    assert detail["customer"]["customer_id"] == inside
    assert [h["run_id"] for h in detail["history"]] == truth["runs"]
    if others:
        outside = clients[name].get(f"/api/customers/{sorted(others)[0]}")
        unknown = clients[name].get("/api/customers/NO-SUCH-CUSTOMER")
        assert outside.status_code == unknown.status_code == 404
        assert outside.json()["error"]["code"] == unknown.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("name", list(USERS))
def test_overview_counts_only_the_scope(clients, truth, name: str) -> None:
    data = clients[name].get("/api/overview").json()
    mine = truth["seen"][name][truth["runs"][-1]]
    assert data["figures"]["customers"] == len(mine)
    assert sum(row["customers"] for row in data["pyramid"]) == len(mine)
    assert sum(row["customers"] for row in data["activity"]) == len(mine)
    assert data["figures"]["key_accounts"] == len(mine & truth["key"])
    assert data["quality"] and all(q["rows_in"] == q["accepted"] + q["rejected"]
                                   for q in data["quality"])


@pytest.mark.parametrize("name", list(USERS))
def test_key_accounts_are_the_scoped_key_accounts(clients, truth, name: str) -> None:
    data = clients[name].get("/api/key-accounts").json()
    mine = truth["seen"][name][truth["runs"][-1]]
    assert {i["customer_id"] for i in data["items"]} == mine & truth["key"]
    assert sum(data["by_type"].values()) == len(data["items"])


@pytest.mark.parametrize("name", list(USERS))
def test_calls_are_for_the_signed_in_person(clients, truth, name: str) -> None:
    data = clients[name].get("/api/calls").json()
    mine = truth["seen"][name][truth["runs"][-1]]
    assert {w["customer_id"] for w in data["warnings"]} <= mine
    assert {w["customer_id"] for w in data["wake_up"]} <= mine
    assert not {w["customer_id"] for w in data["warnings"]} & {
        w["customer_id"] for w in data["wake_up"]}


def test_admin_calls_include_every_warning(clients, config: Path, truth) -> None:
    from tierwise.store import Store

    with Store(config.parent / "tierwise.duckdb", read_only=True) as store:
        warned = set(store.run_table("latest", "warnings")["customer_id"])
    assert warned
    assert {w["customer_id"] for w in clients["admin"].get("/api/calls").json()["warnings"]} \
        == warned


@pytest.mark.parametrize("name", list(USERS))
def test_migration_counts_the_scope_of_each_run(clients, truth, name: str) -> None:
    first, last = truth["runs"][0], truth["runs"][-1]
    data = clients[name].get("/api/migration", params={"by": "tier"}).json()
    assert (data["from_run"]["run_id"], data["to_run"]["run_id"]) == (first, last)
    both = truth["seen"][name][first] | truth["seen"][name][last]
    assert sum(m["customers"] for m in data["summary"]) == len(both)
    assert sum(map(sum, data["counts"])) == len(both)


@pytest.mark.parametrize("name", list(USERS))
def test_runs_and_campaigns_are_listed_for_everyone_but_only_admin_acts(
        clients, truth, name: str) -> None:
    runs = clients[name].get("/api/runs").json()
    assert [r["run_id"] for r in runs["runs"]] == truth["runs"][::-1]
    assert runs["can_download_reports"] == (name == "admin")
    campaigns = clients[name].get("/api/campaigns").json()
    assert [c["name"] for c in campaigns["campaigns"]] == ["win back the tail"]
    assert campaigns["can_create"] == (name == "admin")
    assert clients[name].get("/api/campaigns/1").status_code == 200
    report = clients[name].get(f"/runs/{truth['runs'][-1]}/report.xlsx")
    assert report.status_code == (200 if name == "admin" else 403)


@pytest.mark.parametrize("name", list(USERS))
def test_campaign_targets_are_scoped_and_masked(clients, config: Path, truth, name: str) -> None:
    con = duckdb.connect(str(config.parent / "tierwise.duckdb"), read_only=True)
    try:
        run_id, = con.execute("SELECT run_id FROM campaigns WHERE campaign_id = 1").fetchone()
        targets = {r[0] for r in con.execute(
            "SELECT customer_id FROM campaign_members WHERE campaign_id = 1 "
            "AND \"group\" = 'target'").fetchall()}
    finally:
        con.close()
    answer = clients[name].get("/api/campaigns/1/targets")
    assert answer.status_code == 200
    items = answer.json()["items"]
    assert {i["customer_id"] for i in items} == targets & truth["seen"][name][run_id]
    assert all(("****" in i["phone"]) == (name != "admin") for i in items if i["phone"])
    csv = clients[name].get("/campaigns/1/targets.csv")
    assert csv.status_code == 200
    assert len(csv.content.decode("utf-8-sig").strip().splitlines()) == len(items) + 1


@pytest.mark.parametrize("name", [n for n in USERS if n != "admin"])
def test_only_admin_creates_campaigns(clients, name: str) -> None:
    answer = clients[name].post("/api/campaigns", json={"tiers": ["long_tail"],
                                                        "face_value": 10})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("name", list(USERS))
def test_me_says_who_and_what_scope(clients, name: str) -> None:
    role, segments, manager = USERS[name]
    data = clients[name].get("/api/me").json()
    assert (data["name"], data["role"], data["segments"]) == (name, role, list(segments))
    assert data["manager"] == (manager if role == "manager" else None)
    assert data["full_contacts"] == (role == "admin")


def test_scoping_lives_in_the_query_layer(config: Path, truth) -> None:
    """The library functions scope by themselves: no web server needed."""
    from tierwise.store import Store
    from tierwise.web.access import Viewer
    from tierwise.web.errors import NotFound
    from tierwise.web.queries import CustomerQuery, customer_detail, customer_page, run_info

    viewer = Viewer("sunli", "manager", manager="孙丽")
    mine = truth["seen"]["sunli"][truth["runs"][-1]]
    with Store(config.parent / "tierwise.duckdb", read_only=True) as store:
        run = run_info(store.con, None)
        page = customer_page(store.con, viewer, run, CustomerQuery(page_size=500))
        assert {i["customer_id"] for i in page["items"]} == mine
        outside = sorted(truth["seen"]["admin"][run.run_id] - mine)[0]
        with pytest.raises(NotFound):
            customer_detail(store.con, viewer, run, outside)

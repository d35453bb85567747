"""Follow-up steps of a campaign on the demo restaurant (the real pipeline's store): the second step
goes only to the first step's non-responders, each step has its own control group, and the
evaluation reports every step and the total; a store from before steps migrates unchanged."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_campaigns_flow import campaign_cli, small_demo
from tierwise.campaigns import evaluate_series, get_campaign, split_control
from tierwise.errors import ConfigError
from tierwise.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_demo(tmp_path_factory.mktemp("steps"))


@pytest.fixture(scope="module")
def two_steps(demo: Path) -> dict:
    made = campaign_cli("campaign", "create", "--as-of", "2026-08-31", "--min-days-since-last",
                        "40", "--face-value", "48", "--control-share", "0.3", "--json", cwd=demo)
    assert made.returncode == 0, made.stderr
    first = json.loads(made.stdout)
    step = campaign_cli("campaign", "follow-up", str(first["campaign_id"]), "--after-days", "30",
                        "--face-value", "20", "--control-share", "0.25", "--json", cwd=demo)
    assert step.returncode == 0, step.stderr
    return {"first": first, "second": json.loads(step.stdout)}


def _orders(store: Store) -> pd.DataFrame:
    return store.con.execute("SELECT customer_key, ordered_at, amount, is_refund FROM orders").df()


def _members(store: Store, cid: int) -> pd.DataFrame:
    return store.con.execute('SELECT customer_key, "group" FROM campaign_members '
                             "WHERE campaign_id = ?", [cid]).df()


def test_the_second_step_goes_only_to_non_responders_with_its_own_control(
        demo: Path, two_steps: dict) -> None:
    first, second = two_steps["first"], two_steps["second"]
    assert second["step"] == 2 and second["series_id"] == first["campaign_id"]
    assert second["window_start"] == "2026-10-01" and second["face_value"] == 20
    with Store(demo / "tierwise.duckdb", read_only=True) as store:
        orders, m1 = _orders(store), _members(store, first["campaign_id"])
        m2 = _members(store, second["campaign_id"])
    day = pd.to_datetime(orders["ordered_at"]).dt.date.astype(str)
    in_window = (day >= first["window_start"]) & (day <= first["window_end"])
    bought = set(orders.loc[in_window & ~orders["is_refund"], "customer_key"])
    targets = set(m1.loc[m1["group"] == "target", "customer_key"])
    expected = targets - bought
    assert bought & targets and expected  # some responded, some did not
    assert set(m2["customer_key"]) == expected  # exactly the non-responders
    assert not set(m2["customer_key"]) & set(m1.loc[m1["group"] == "control", "customer_key"])
    # its own control group: the seeded draw over its own audience, a quarter of it
    keys = np.array(sorted(expected))
    groups = split_control(keys, 0.25, second["seed"])
    drawn = dict(zip(keys, groups, strict=True))
    assert dict(zip(m2["customer_key"], m2["group"], strict=True)) == drawn
    # a quarter, halves rounded up (split_control's rule; Python's round() would round 14.5 down)
    assert second["n_control"] == int(np.floor(0.25 * len(expected) + 0.5)) > 0
    assert second["n_target"] + second["n_control"] == len(expected)


def _direct(orders: pd.DataFrame, members: pd.DataFrame, start: str, end: str) -> dict:
    """Response and revenue per group, straight from the orders (pandas, not the library)."""
    day = pd.to_datetime(orders["ordered_at"]).dt.date.astype(str)
    window = orders[(day >= start) & (day <= end)]
    buyers = set(window.loc[~window["is_refund"], "customer_key"])
    net = window.groupby("customer_key")["amount"].sum()
    out = {}
    for group in ("target", "control"):
        keys = members.loc[members["group"] == group, "customer_key"]
        out[group] = (len(keys), int(keys.isin(buyers).sum()), float(net.reindex(keys).sum()))
    return out


def test_the_evaluation_reports_each_step_and_the_total(demo: Path, two_steps: dict) -> None:
    first, second = two_steps["first"], two_steps["second"]
    ev = campaign_cli("campaign", "evaluate", str(second["campaign_id"]), "--json", cwd=demo)
    assert ev.returncode == 0, ev.stderr
    series = json.loads(ev.stdout)["series"]
    assert [s["step"] for s in series["steps"]] == ["1", "2"]
    with Store(demo / "tierwise.duckdb", read_only=True) as store:
        orders = _orders(store)
        members = {c: _members(store, c) for c in (first["campaign_id"], second["campaign_id"])}
    cases = [(series["steps"][0], first, first["window_start"], first["window_end"]),
             (series["steps"][1], second, second["window_start"], second["window_end"]),
             (series["total"], first, first["window_start"], second["window_end"])]
    for shown, camp, start, end in cases:
        d = _direct(orders, members[camp["campaign_id"]], start, end)
        (nt, rt, revt), (nc, rc, revc) = d["target"], d["control"]
        assert (shown["treated"], shown["treated_responded"]) == (nt, rt)
        assert (shown["control"], shown["control_responded"]) == (nc, rc)
        assert shown["uplift"]["estimate"] == pytest.approx(rt / nt - rc / nc, abs=1e-4)
        incremental = (revt / nt - revc / nc) * nt
        assert shown["incremental_revenue"] == pytest.approx(incremental, abs=0.01)
        assert shown["roi"] == pytest.approx((incremental * 0.6 - shown["cost"]) / shown["cost"],
                                             abs=0.01)
    # costs: used coupons x face value + messages x 0.10, per step; the total adds them up
    assert series["steps"][0]["cost"] == pytest.approx(
        48 * series["steps"][0]["treated_responded"] + 0.1 * first["n_target"])
    assert series["steps"][1]["cost"] == pytest.approx(
        20 * series["steps"][1]["treated_responded"] + 0.1 * second["n_target"])
    assert series["total"]["cost"] == pytest.approx(series["steps"][0]["cost"]
                                                    + series["steps"][1]["cost"])
    table = campaign_cli("campaign", "evaluate", str(first["campaign_id"]), cwd=demo)
    assert table.returncode == 0 and "Steps: bought in the window" in table.stdout
    listed = campaign_cli("campaign", "list", cwd=demo)
    assert f"2 of {first['campaign_id']}" in listed.stdout


def test_a_follow_up_inside_the_window_or_before_the_orders_is_refused(
        demo: Path, two_steps: dict, tmp_path: Path) -> None:
    demo = Path(shutil.copytree(demo, tmp_path / "copy"))
    early = campaign_cli("campaign", "follow-up", str(two_steps["first"]["campaign_id"]),
                         "--after-days", "10", cwd=demo)
    # the follow-up follows the last step (step 2, window of 30 days)
    assert early.returncode != 0 and "--after-days 30 or more" in " ".join(early.stderr.split())
    assert "Traceback" not in early.stderr
    late = campaign_cli("campaign", "follow-up", str(two_steps["second"]["campaign_id"]),
                        "--after-days", "200", "--json", cwd=demo)
    assert late.returncode == 0, late.stderr  # step 2's window is covered by the orders
    again = campaign_cli("campaign", "follow-up", str(two_steps["second"]["campaign_id"]),
                         cwd=demo)
    assert again.returncode != 0
    assert "who did not respond is not known yet" in " ".join(again.stderr.split())


def test_a_follow_up_for_big_spenders_among_the_responders(demo: Path, two_steps: dict,
                                                           tmp_path: Path) -> None:
    """当餐消费2000元以上的客户又发放48元代金券: a step for the previous step's targets who bought,
    only those with one order of at least --min-order; refused without --responders."""
    from tierwise.campaigns import responders

    demo = Path(shutil.copytree(demo, tmp_path / "copy"))
    with Store(demo / "tierwise.duckdb", read_only=True) as store:
        orders = _orders(store)
        members = {n: _members(store, two_steps[n]["campaign_id"]) for n in ("first", "second")}
        steps = {n: get_campaign(store, two_steps[n]["campaign_id"]) for n in ("first", "second")}
        day = pd.to_datetime(orders["ordered_at"]).dt.date.astype(str)

        def bought(name: str, cut: float) -> set:
            step, m = two_steps[name], members[name]
            hit = (day >= step["window_start"]) & (day <= step["window_end"]) \
                & ~orders["is_refund"] & (orders["amount"] >= cut)
            return set(orders.loc[hit, "customer_key"]) & \
                set(m.loc[m["group"] == "target", "customer_key"])

        # the audience on the first step: its targets with one order of at least the cut
        cut = float(orders.loc[orders["customer_key"].isin(bought("first", 0.0)), "amount"]
                    .median())
        assert bought("first", cut) and bought("first", cut) < bought("first", 0.0)
        found = responders(store, steps["first"], cut)
        assert set(found["customer_key"]) == bought("first", cut)
        assert set(responders(store, steps["first"])["customer_key"]) == bought("first", 0.0)
    refused = campaign_cli("campaign", "follow-up", str(two_steps["first"]["campaign_id"]),
                           "--min-order", "2000", cwd=demo)
    assert refused.returncode != 0 and "--responders" in refused.stderr
    # through the CLI, a step 3 after step 2 (a step follows the last one)
    expected = bought("second", 0.0)
    made = campaign_cli("campaign", "follow-up", str(two_steps["second"]["campaign_id"]),
                        "--after-days", "60", "--responders", "--face-value", "48",
                        "--control-share", "0", "--json", cwd=demo)
    if not expected:
        assert made.returncode != 0 and "bought" in " ".join(made.stderr.split())
        return
    assert made.returncode == 0, made.stderr
    step = json.loads(made.stdout)
    assert step["step"] == 3 and "with a purchase in" in step["meta"]["filter"]
    with Store(demo / "tierwise.duckdb", read_only=True) as store:
        m3 = _members(store, step["campaign_id"])
    assert set(m3["customer_key"]) == expected and set(m3["group"]) == {"target"}


def test_a_store_from_before_steps_migrates_and_evaluates_as_before(
        demo: Path, two_steps: dict, tmp_path: Path) -> None:
    shutil.copytree(demo, tmp_path / "old")
    path = tmp_path / "old" / "tierwise.duckdb"
    cid = two_steps["first"]["campaign_id"]
    before = campaign_cli("campaign", "evaluate", str(cid), "--json", cwd=tmp_path / "old")
    with Store(path) as store:  # undo migration 0075: a store written before steps
        store.con.execute("DELETE FROM campaigns WHERE campaign_id <> ?", [cid])
        for column in ("series_id", "step", "after_days"):
            store.con.execute(f"ALTER TABLE campaigns DROP COLUMN {column}")
        store.con.execute("DELETE FROM schema_migrations WHERE name = '0075_retention_and_steps'")
    with Store(path, read_only=True) as store:  # read as it is
        assert get_campaign(store, cid).step == 1
        assert len(evaluate_series(store, cid).steps) == 1
    with Store(path) as store:  # opening for writing migrates it
        assert "0075_retention_and_steps" in store.applied_migrations()
        migrated = get_campaign(store, cid)
    assert (migrated.step, migrated.series_id) == (1, cid)
    after = campaign_cli("campaign", "evaluate", str(cid), "--json", cwd=tmp_path / "old")
    old, new = json.loads(before.stdout), json.loads(after.stdout)
    assert "series" not in new  # one step: the evaluation reads as it always did
    assert new["figures"] == old["figures"] and new["lift"] == old["lift"]


def test_the_web_shows_the_steps_and_an_admin_adds_one(demo: Path, two_steps: dict,
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
        admin, manager = client(app, "admin"), client(app, "sunli")
        cid = two_steps["first"]["campaign_id"]
        api = admin.get(f"/api/campaigns/{cid}").json()
        assert [s["step"] for s in api["series"]["steps"]] == ["1", "2"]
        page = admin.get(f"/campaigns/{cid}?lang=zh")
        assert 'id="campaign-steps"' in page.text and "各步骤与合计" in page.text
        body = page.text.split('id="campaign-steps"', 1)[1]
        assert 'data-step="2"' in body and 'data-step="total"' in body
        assert "Steps and total" in admin.get(f"/campaigns/{cid}?lang=en").text
        token = re.search(r'id="follow-up-form".*?name="csrf_token" value="([^"]+)"', page.text,
                          re.S).group(1)
        bad = admin.post(f"/campaigns/{cid}/follow-up", data={"csrf_token": token,
                                                              "after_days": "5"})
        assert bad.status_code == 400 and "or more" in bad.text
        made = admin.post(f"/campaigns/{cid}/follow-up", data={"csrf_token": token,
                                                               "after_days": "300"},
                          follow_redirects=False)
        assert made.status_code == 303, re.findall(r'id="error-message">([^<]*)', made.text)
        third = admin.get(made.headers["location"])
        assert third.status_code == 200 and 'data-step="3"' in third.text
        assert 'id="follow-up-form"' not in manager.get(f"/campaigns/{cid}").text
        with pytest.raises(ConfigError):  # the library refuses what the form refused
            from tierwise.campaigns import add_follow_up
            with Store(tmp_path / "web" / "tierwise.duckdb") as store:
                add_follow_up(store, cid, after_days=1)

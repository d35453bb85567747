"""A campaign from the command line on the store the real pipeline builds (``tierwise demo``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from test_campaigns_flow import PHONE, campaign_cli
from tierwise.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def restaurant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    done = campaign_cli("demo", "--dir", str(root), "--members", "300", "--accounts", "30",
                        "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "restaurant"


def reactivated(store: Store, campaign_id: int, group: str) -> int:
    """Members of ``group`` with a purchase in the window, counted straight from the orders."""
    return store.con.execute("""
        SELECT count(DISTINCT m.customer_key)
        FROM campaign_members m JOIN campaigns c USING (campaign_id)
        JOIN orders o ON o.customer_key = m.customer_key
             AND o.ordered_at BETWEEN c.window_start AND c.window_end AND NOT o.is_refund
        WHERE m.campaign_id = ? AND m."group" = ?""", [campaign_id, group]).fetchall()[0][0]


def test_campaign_on_the_demo_restaurant(restaurant: Path) -> None:
    made = campaign_cli("campaign", "create", "--as-of", "2026-08-31", "--min-days-since-last",
                        "40", "--face-value", "48", "--control-share", "0.3", "--json",
                        cwd=restaurant)
    assert made.returncode == 0, made.stderr
    c = json.loads(made.stdout)
    cid = c["campaign_id"]
    assert c["as_of"] == "2026-08-31" and c["window_end"] == "2026-09-30"
    assert c["n_target"] + c["n_control"] + c["n_excluded"] == c["n_matched"]
    # by default the policies do not contact / archive are left out (the demo plants members
    # who stopped coming: under the 10 % floor of a purchase in 90 days)
    assert c["meta"]["exclusions"].get("policy", 0) > 0

    shown = campaign_cli("campaign", "export", str(cid), "-o", "targets.csv", cwd=restaurant)
    assert shown.returncode == 0, shown.stderr
    exported = pd.read_csv(restaurant / "targets.csv", dtype=str, encoding="utf-8-sig")
    with Store(restaurant / "tierwise.duckdb", read_only=True) as store:
        groups = store.con.execute('SELECT customer_id, "group" FROM campaign_members '
                                   "WHERE campaign_id = ?", [cid]).df()
        back = {g: reactivated(store, cid, g) for g in ("target", "control")}
    assert set(exported["customer_id"]) == set(groups.loc[groups["group"] == "target",
                                                          "customer_id"])
    assert not PHONE.search((restaurant / "targets.csv").read_text(encoding="utf-8-sig"))

    derived = campaign_cli("campaign", "results", str(cid), "--json", cwd=restaurant)
    assert derived.returncode == 0, derived.stderr
    assert json.loads(derived.stdout)["accepted"] == back["target"]

    ev = campaign_cli("campaign", "evaluate", str(cid), "--follow-up-months", "1", "--json",
                      cwd=restaurant)
    assert ev.returncode == 0, ev.stderr
    data = json.loads(ev.stdout)
    figures, lift = data["figures"], data["lift"]
    assert (figures["issued"], figures["used"]) == (c["n_target"], back["target"])
    assert figures["coupon_cost"] == 48 * back["target"]
    assert lift["target"]["reactivated"] == back["target"]
    assert lift["control"]["reactivated"] == back["control"]
    rate = back["target"] / c["n_target"] - back["control"] / c["n_control"]
    diff = lift["reactivation_difference"]
    assert diff["estimate"] == pytest.approx(rate, abs=1e-4)
    assert diff["low"] <= diff["estimate"] <= diff["high"]
    assert lift["status"] in ("measured", "too_small") and "control" in lift["message"]
    assert data["follow_up"]["complete"] and data["follow_up"]["end"] == "2026-10-31"

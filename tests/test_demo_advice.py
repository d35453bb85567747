"""Issue 12's acceptance on the demo businesses (``tierwise demo``, planted ids in the manifests).

* the restaurant members planted to drift into dormancy land in wake-up states, told to wake up;
* the three B2B accounts planted quiet in Q1 raise warnings and get a call in the run at the end of
  that quarter (2026-03-31: the demo's runs are the last four quarter ends to 2026-09-30);
* no key or major account (nor a key account) is told "do not contact" or "archive" in any run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tierwise.demo.walkthrough import run_demo
from tierwise.store import Store

pytestmark = pytest.mark.slow
WAKE_UP_STATES = ("resting", "dormant", "shock")
SILENCED = ("do_not_contact", "archive")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo-advice")
    run_demo(root)
    return root


def _runs(store: Store) -> list[int]:
    return store.runs()["run_id"].tolist()


def _manifest(demo: Path, business: str) -> dict:
    return json.loads((demo / business / "manifest.json").read_text(encoding="utf-8"))


def test_drifting_members_land_in_wake_up_states(demo: Path) -> None:
    manifest = _manifest(demo, "restaurant")
    with Store(demo / "restaurant" / "tierwise.duckdb", read_only=True) as store:
        snap = store.snapshot(store.run_info("latest")["run_id"]).set_index("customer_id")
    drifting = [m for g in ("drift_resting", "drift_dormant", "drift_shock") for m in manifest[g]]
    assert drifting
    rows = snap.loc[drifting]
    assert rows["activity_state"].isin(WAKE_UP_STATES).all(), rows["activity_state"]
    assert rows["activity_policy"].isin(["wake_up", "call"]).all(), rows["activity_policy"]


def test_q1_quiet_accounts_are_warned_and_called_at_the_end_of_q1(demo: Path) -> None:
    quiet = _manifest(demo, "b2b")["q1_quiet"]
    assert len(quiet) == 3
    with Store(demo / "b2b" / "tierwise.duckdb", read_only=True) as store:
        runs = store.runs()
        q1 = int(runs.loc[runs["as_of"].astype(str).str[:10] == "2026-03-31", "run_id"].item())
        warned = set(store.run_table(q1, "warnings")["customer_id"])
        snap = store.snapshot(q1).set_index("customer_id")
    assert set(quiet) <= warned
    assert (snap.loc[quiet, "activity_policy"] == "call").all(), snap.loc[quiet, "activity_policy"]
    assert snap.loc[quiet, "policy_reason"].str.contains("early warning").all()


@pytest.mark.parametrize("business", ["restaurant", "b2b"])
def test_no_key_or_major_account_is_silenced_in_any_run(demo: Path, business: str) -> None:
    with Store(demo / business / "tierwise.duckdb", read_only=True) as store:
        for run_id in _runs(store):
            snap = store.snapshot(run_id)
            protected = snap["tier"].isin(["key", "major"]) | snap["key_account"].fillna(False)
            told = snap.loc[protected, "activity_policy"]
            assert not told.isin(SILENCED).any(), (business, run_id, told.value_counts())
            assert snap["activity_policy"].isin(SILENCED).any() or business == "b2b", run_id


def test_b2b_demo_uses_the_default_mode_and_says_why(demo: Path) -> None:
    with Store(demo / "b2b" / "tierwise.duckdb", read_only=True) as store:
        meta = store.run_info("latest")["meta"]
    activity = meta["activity"]
    assert activity["requested"] == "auto" and activity["mode"] == "rhythm"
    assert "rhythm" in activity["reason"]
    assert meta["backtest"]["status"] == "ran"

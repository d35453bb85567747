"""Win-back campaigns on a real store: audience, exclusions, control group, export, evaluation.

The store is built with ``Store.upsert_customers / upsert_orders / commit_run`` from a small
seeded restaurant history (active, dead and buried members); the snapshot's features are computed
here with the documented definitions, and ``activity_state`` is added the way the lifecycle
migration adds it. Later orders are planted per group (targets come back more often than the
control group) so the lift, the figures and the follow-up have known true values.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tierwise.campaigns import (
    AudienceFilter,
    campaign_settings,
    create_campaign,
    derive_redemptions,
    evaluate_campaign,
    export_targets,
    get_campaign,
    group_outcomes,
    incremental_lift,
    list_campaigns,
    members,
    split_control,
    target_list,
)
from tierwise.errors import ConfigError, DataContractError, StoreError
from tierwise.store import Store

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 8, 31)
WINDOW_START = dt.date(2026, 9, 1)
WINDOW_END = dt.date(2026, 9, 30)
DATA_END = dt.date(2026, 12, 31)
PHONE = re.compile(r"1[3-9]\d{9}")


# ---- building the store -------------------------------------------------------------------------

def history(n_active: int = 120, n_dead: int = 50, n_buried: int = 300, seed: int = 0
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Members and visits up to AS_OF: active (normal), dead (40-85 days silent), buried (95+)."""
    rng = np.random.default_rng(seed)
    kinds = ["active"] * n_active + ["dead"] * n_dead + ["buried"] * n_buried
    ids = [f"M{i:04d}" for i in range(1, len(kinds) + 1)]
    customers = pd.DataFrame({
        "customer_id": ids, "name": [f"会员{i}" for i in range(len(ids))],
        "phone": [f"138{i:08d}" for i in range(1, len(ids) + 1)]})
    rows = []
    for cid, kind in zip(ids, kinds):
        if kind == "active":
            last = AS_OF - dt.timedelta(days=int(rng.integers(0, 3)))
            days = [last - dt.timedelta(days=3 * k) for k in range(25)]
        else:
            silent = int(rng.integers(45, 86) if kind == "dead" else rng.integers(95, 170))
            last = AS_OF - dt.timedelta(days=silent)
            days = [last - dt.timedelta(days=7 * k) for k in range(int(rng.integers(2, 8)))]
        rows += [(f"{cid}-{d.isoformat()}", cid, d, float(rng.integers(80, 400))) for d in days]
    orders = pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "amount"])
    return customers, orders.assign(is_refund=False)


def snapshot_frame(store: Store, as_of: dt.date) -> pd.DataFrame:
    """The documented features needed here, and the activity state with the default bands."""
    frame = store.con.execute("""
        WITH d AS (SELECT customer_key, ordered_at AS day, amount, is_refund FROM orders
                   WHERE ordered_at <= ?)
        SELECT c.customer_key, c.customer_id, c.name, c.phone,
               min(day) FILTER (WHERE NOT is_refund) AS first_purchase,
               max(day) FILTER (WHERE NOT is_refund) AS last_purchase,
               count(DISTINCT day) FILTER (WHERE NOT is_refund) - 1 AS frequency,
               count(*) AS n_orders, sum(amount) AS total_amount,
               date_diff('day', max(day) FILTER (WHERE NOT is_refund), ?::DATE)
                   AS days_since_last,
               count(DISTINCT day) FILTER (WHERE NOT is_refund AND day > ?::DATE - 30)
                   AS visits_30d
        FROM d JOIN customers c USING (customer_key)
        GROUP BY ALL ORDER BY customer_key""", [as_of, as_of, as_of]).df()
    v, silent = frame["visits_30d"], frame["days_since_last"]
    frame["activity_state"] = np.select(
        [silent > 90, v >= 7, v >= 5, v >= 3, v >= 1],
        ["buried", "normal", "resting", "dormant", "shock"], "dead")
    return frame


def commit_snapshot(store: Store, as_of: dt.date) -> int:
    if "activity_state" not in store.snapshot_columns():  # what the lifecycle migration adds
        store.con.execute("ALTER TABLE snapshot_customers ADD COLUMN activity_state VARCHAR")
    return store.commit_run(period=f"{as_of:%Y-%m}", as_of=as_of, config_hash="test",
                            engine="duckdb", results=snapshot_frame(store, as_of), meta={})


def build_store(path: Path) -> Path:
    customers, orders = history()
    with Store(path) as store:
        store.upsert_customers(customers, source="members.csv")
        store.upsert_orders(orders, source="visits.csv")
        commit_snapshot(store, AS_OF)
    return path


def plant_outcomes(store: Store, campaign_id: int, *, target_rate: float = 0.45,
                   control_rate: float = 0.10, seed: int = 1) -> dict[str, object]:
    """Window orders (200 each) for a share of each group; follow-up visits for some targets.

    Of the reactivated targets, 40 visit once a month in the 3 following months (spend 210),
    30 visit twice a month, 20 only in the first month. One active member orders on DATA_END.
    """
    rng = np.random.default_rng(seed)
    frame = members(store, campaign_id)
    back: dict[str, list[str]] = {}
    rows = []
    for group, rate in (("target", target_rate), ("control", control_rate)):
        ids = frame.loc[frame["group"] == group, "customer_id"].to_numpy()
        chosen = sorted(rng.choice(ids, round(rate * len(ids)), replace=False))
        back[group] = chosen
        for cid in chosen:
            day = WINDOW_START + dt.timedelta(days=int(rng.integers(0, 29)))
            rows.append((f"{cid}-w", cid, day, 200.0))
    once, twice, fade = back["target"][:40], back["target"][40:70], back["target"][70:90]
    months = [dt.date(2026, m, 1) for m in (10, 11, 12)]
    for cid in once + twice:
        for m in months:
            days = [m.replace(day=5)] + ([m.replace(day=20)] if cid in twice else [])
            rows += [(f"{cid}-f{d}", cid, d, 210.0) for d in days]
    rows += [(f"{cid}-f", cid, dt.date(2026, 10, 9), 150.0) for cid in fade]
    rows.append(("M0001-end", "M0001", DATA_END, 99.0))
    orders = pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "amount"])
    store.upsert_orders(orders.assign(is_refund=False), source="later.csv")
    return {"back": back, "once": len(once), "twice": len(twice)}


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return build_store(tmp_path / "tierwise.duckdb")


# the planted "dead" group is excluded by state here (the default now excludes by policy)
SETTINGS = campaign_settings(face_value=48, control_share=0.2, exclude_states=["dead"])


# ---- audience -----------------------------------------------------------------------------------

def test_filter_exclusions_and_control_group_are_stored(store_path: Path) -> None:
    with Store(store_path) as store:
        c = create_campaign(store, AudienceFilter(min_days_since_last=40), SETTINGS)
        snap = store.snapshot()
        frame = members(store, c.campaign_id)
        excluded = store.con.execute(
            "SELECT customer_id, rule, reason FROM campaign_exclusions").df()
    quiet = snap[snap["days_since_last"] >= 40]
    assert c.n_matched == len(quiet) == 350
    dead = set(quiet.loc[quiet["activity_state"] == "dead", "customer_id"])
    assert set(excluded["customer_id"]) == dead and len(dead) == 50
    assert set(excluded["rule"]) == {"state"} and c.meta["exclusions"] == {"state": 50}
    assert excluded["reason"].str.contains("activity state dead").all()
    assert set(frame["customer_id"]) == set(quiet["customer_id"]) - dead
    assert (c.n_target, c.n_control) == (240, 60)
    assert c.window_start == WINDOW_START and c.window_end == WINDOW_END
    assert c.seed == c.campaign_id and c.as_of == AS_OF


def test_control_draw_is_reproducible_from_the_recorded_seed(store_path: Path) -> None:
    with Store(store_path) as store:
        c = create_campaign(store, AudienceFilter(states=["buried"]),
                            campaign_settings(SETTINGS, seed=42))
        frame = members(store, c.campaign_id)
    keys = frame["customer_key"].to_numpy()
    shuffled = keys[::-1]
    again = split_control(shuffled, c.control_share, c.seed)
    assert dict(zip(shuffled, again)) == dict(zip(keys, frame["group"]))
    assert list(split_control(keys, c.control_share, seed=43)) != frame["group"].tolist()
    assert (frame["group"] == "control").sum() == round(0.2 * len(frame))


def test_a_filter_on_a_missing_column_lists_the_available_ones(tmp_path: Path) -> None:
    customers, orders = history(10, 5, 5)
    with Store(tmp_path / "t.duckdb") as store:
        if "activity_state" in store.snapshot_columns():  # a store from before the lifecycle
            store.con.execute("ALTER TABLE snapshot_customers DROP COLUMN activity_state")
        store.upsert_customers(customers, source="m")
        store.upsert_orders(orders, source="o")
        store.commit_run(period="2026-08", as_of=AS_OF, config_hash="h", engine="duckdb",
                         results=snapshot_frame(store, AS_OF).drop(columns="activity_state"),
                         meta={})
        with pytest.raises(DataContractError) as err:
            create_campaign(store, AudienceFilter(states=["dormant"]), SETTINGS)
        assert "activity_state" in err.value.message and "--state" in err.value.message
        assert "days_since_last" in err.value.hint and "visits_30d" in err.value.hint
        with pytest.raises(ConfigError, match="valid: normal, resting"):
            create_campaign(store, AudienceFilter(states=["sleepy"]), SETTINGS)
        # Without the state column the 'dead' exclusion cannot run: said, not hidden.
        c = create_campaign(store, AudienceFilter(min_days_since_last=40), SETTINGS)
        assert any("could not be excluded" in w for w in c.meta["warnings"])
        assert c.n_excluded == 0 and c.n_matched == 10


def test_where_rule_is_parsed_never_evaluated_as_python(store_path: Path) -> None:
    pytest.importorskip("tierwise.segments.rules")
    with Store(store_path) as store:
        c = create_campaign(store, AudienceFilter(where="days_since_last >= 100 and "
                                                        "total_amount > 0"), SETTINGS)
        snap = store.snapshot()
        assert c.n_matched == int((snap["days_since_last"] >= 100).sum())
        with pytest.raises(ConfigError):
            create_campaign(store, AudienceFilter(where="__import__('os').system('x')"),
                            SETTINGS)


def test_cooldown_and_running_control_groups_are_excluded(store_path: Path) -> None:
    with Store(store_path) as store:
        first = create_campaign(store, AudienceFilter(states=["buried"]),
                                campaign_settings(SETTINGS, control_share=0.5))
        second = create_campaign(store, AudienceFilter(min_days_since_last=1),
                                 campaign_settings(SETTINGS, exclude_states=[]),
                                 start=dt.date(2026, 9, 10))
        excluded = store.con.execute(
            "SELECT customer_id, rule, reason FROM campaign_exclusions WHERE campaign_id = ?",
            [second.campaign_id]).df().set_index("customer_id")
        one = members(store, first.campaign_id).set_index("customer_id")["group"]
    assert second.meta["exclusions"] == {"cooldown": first.n_target,
                                         "control_hold": first.n_control}
    assert (excluded.loc[one[one == "target"].index, "rule"] == "cooldown").all()
    assert excluded.loc[one[one == "control"].index, "reason"].str.contains(
        f"held out as control by campaign {first.campaign_id} until 2026-09-30").all()
    with Store(store_path) as store:  # after the window and the cooldown: contactable again
        third = create_campaign(store, AudienceFilter(states=["buried"]), SETTINGS,
                                start=dt.date(2026, 11, 1))
    assert third.n_excluded == 0


def test_bad_settings_and_windows_are_refused(store_path: Path) -> None:
    with pytest.raises(ConfigError, match="control_share"):
        campaign_settings(control_share=1.5)
    with pytest.raises(ConfigError, match="valid: normal, resting"):
        campaign_settings(exclude_states=["asleep"])
    with Store(store_path) as store:
        with pytest.raises(ConfigError, match="face value"):
            create_campaign(store, AudienceFilter(min_days_since_last=40), campaign_settings())
        with pytest.raises(ConfigError, match="not after the snapshot"):
            create_campaign(store, AudienceFilter(min_days_since_last=40), SETTINGS, start=AS_OF)
        with pytest.raises(ConfigError, match="no snapshot as of 2026-01-31"):
            create_campaign(store, AudienceFilter(min_days_since_last=40), SETTINGS,
                            as_of=dt.date(2026, 1, 31))
        with pytest.raises(ConfigError, match="no customer left"):
            create_campaign(store, AudienceFilter(min_days_since_last=9999), SETTINGS)
        with pytest.raises(StoreError, match="campaign 99 not found"):
            get_campaign(store, 99)


def test_campaigns_are_listed(store_path: Path) -> None:
    with Store(store_path) as store:
        create_campaign(store, AudienceFilter(states=["buried"]), SETTINGS, name="a")
        create_campaign(store, AudienceFilter(states=["normal"]), SETTINGS, name="b",
                        start=dt.date(2026, 12, 1))
        assert [c.name for c in list_campaigns(store)] == ["a", "b"]


# ---- export -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_never_reveals_control_members_or_phones(store_path: Path, tmp_path: Path,
                                                        fmt: str) -> None:
    with Store(store_path) as store:
        c = create_campaign(store, AudienceFilter(min_days_since_last=40), SETTINGS)
        frame = members(store, c.campaign_id)
        phones = dict(store.con.execute("SELECT customer_id, phone FROM customers").fetchall())
        masked = export_targets(store, c.campaign_id, fmt=fmt, out=tmp_path / f"m.{fmt}")
        full = export_targets(store, c.campaign_id, fmt=fmt, out=tmp_path / f"f.{fmt}",
                              with_contacts=True)
    control = set(frame.loc[frame["group"] == "control", "customer_id"])
    target = set(frame.loc[frame["group"] == "target", "customer_id"])

    def read(path: Path) -> pd.DataFrame:
        if fmt == "csv":
            assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel shows Chinese
            return pd.read_csv(path, dtype=str, encoding="utf-8-sig")
        return pd.read_excel(path, dtype=str)

    out, out_full = read(masked.path), read(full.path)
    assert masked.rows == len(out) == len(target) == c.n_target
    assert set(out["customer_id"]) == target and not control & set(out["customer_id"])
    assert "group" not in out.columns and "customer_key" not in out.columns
    assert out["phone"].str.fullmatch(r"138\*{4}\d{4}").all()
    cells = " ".join(out.fillna("").astype(str).to_numpy().ravel())
    assert not PHONE.search(cells)
    assert not any(cid in cells for cid in control)
    assert dict(zip(out_full["customer_id"], out_full["phone"])) == {
        cid: phones[cid] for cid in target}
    assert not control & set(out_full["customer_id"])


def test_target_list_carries_the_offer(store_path: Path) -> None:
    with Store(store_path) as store:
        c = create_campaign(store, AudienceFilter(min_days_since_last=40), SETTINGS,
                            name="秋季唤醒")
        frame = target_list(store, c.campaign_id)
        snap = store.snapshot(c.run_id).set_index("customer_id")
    assert frame.columns.tolist() == ["customer_id", "name", "phone", "face_value", "valid_from",
                                      "valid_until", "campaign", "purchase_likelihood",
                                      "next_purchase_expected"]
    assert (frame["face_value"] == 48).all() and (frame["campaign"] == "秋季唤醒").all()
    # what every sales list carries, from the campaign's run
    likely = snap.loc[frame["customer_id"], "purchase_likelihood"].to_numpy()
    assert np.allclose(frame["purchase_likelihood"].to_numpy(dtype=float), likely,
                       atol=5e-5, equal_nan=True)


# ---- evaluation ---------------------------------------------------------------------------------

def test_evaluation_measures_the_planted_lift_and_follow_up(store_path: Path) -> None:
    with Store(store_path) as store:
        c = create_campaign(store, AudienceFilter(min_days_since_last=40), SETTINGS)
        planted = plant_outcomes(store, c.campaign_id)
        early = evaluate_campaign(store, c.campaign_id)  # derived on the fly
        derived = derive_redemptions(store, c.campaign_id)
        ev = evaluate_campaign(store, c.campaign_id, campaign_settings(SETTINGS))
    back = planted["back"]
    used = len(back["target"])
    assert derived.report.accepted == derived.report.rows_in == used == round(0.45 * 240)
    f = ev.figures
    assert (f.issued, f.sent, f.used) == (240, 240, used)
    assert f.revenue == 200 * used and f.coupon_cost == 48 * used
    assert f.gross_profit == pytest.approx(200 * used * 0.6 - 48 * used - 240 * 0.1)
    assert "derived" in ev.basis and "every target" in ev.basis
    assert early.figures == ev.figures
    lift = ev.lift
    assert lift.status == "measured"
    assert (lift.target.reactivated, lift.control.reactivated) == (used, len(back["control"]))
    assert lift.reactivation.estimate == pytest.approx(used / 240 - len(back["control"]) / 60)
    assert 0 < lift.reactivation.low < 0.35 < lift.reactivation.high
    assert lift.margin.low > 0
    assert "more customers came back" in lift.message
    fu = ev.follow_up
    assert fu.complete and fu.reactivated == used
    assert fu.start == dt.date(2026, 10, 1) and fu.end == DATA_END
    assert fu.regulars == planted["once"] + planted["twice"] == 70
    assert [(g.customers, g.mean_spend, g.monthly_visits) for g in fu.groups] == [
        (40, 210.0, 1.0), (30, 210.0, 2.0)]
    assert fu.projected_yearly_revenue == 40 * 210 * 12 + 30 * 210 * 2 * 12
    json.dumps(ev.to_dict())  # JSON-ready


def test_lift_says_plainly_when_it_cannot_tell() -> None:
    def outcome(n_t: int, x_t: int, n_c: int, x_c: int):
        keys = np.arange(n_t + n_c)
        members_ = pd.DataFrame({"customer_key": keys,
                                 "group": ["target"] * n_t + ["control"] * n_c})
        buyers = list(keys[:x_t]) + list(keys[n_t:n_t + x_c])
        orders = pd.DataFrame({"customer_key": buyers, "amount": 100.0, "is_refund": False})
        got = group_outcomes(members_, orders, 0.6)
        return incremental_lift(got["target"], got["control"], min_group_size=30)

    same = outcome(500, 100, 100, 20)
    assert same.status == "measured" and same.reactivation.low < 0 < same.reactivation.high
    assert same.message.startswith("No lift that can be told from chance")
    small = outcome(40, 20, 5, 1)
    assert small.status == "too_small" and small.message.startswith("Too small to tell")
    none = outcome(40, 20, 0, 0)
    assert none.status == "no_control" and none.reactivation is None


def test_evaluation_before_the_window_has_orders(store_path: Path) -> None:
    with Store(store_path) as store:
        c = create_campaign(store, AudienceFilter(min_days_since_last=40), SETTINGS)
        ev = evaluate_campaign(store, c.campaign_id)
    assert ev.figures.used == 0 and ev.lift.status == "no_orders"
    assert "ingest the orders" in ev.lift.message
    assert not ev.follow_up.complete and "ingest the later orders" in ev.follow_up.note
    assert ev.to_dict()["follow_up"]["projected_yearly_revenue"] is None


# ---- the command line, end to end ---------------------------------------------------------------

def campaign_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``tierwise ARGS``; mounts the campaign commands when the front door does not yet."""
    code = ("import sys\nfrom tierwise import cli\n"
            "if not any(g.name == 'campaign' for g in cli.app.registered_groups):\n"
            "    from tierwise.cli_campaigns import campaign_app\n"
            "    cli.app.add_typer(campaign_app, name='campaign')\n"
            "sys.exit(cli.main(sys.argv[1:]))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-c", code, *args], check=False, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def small_demo(root: Path) -> Path:
    """``tierwise demo`` with 300 members and 30 accounts in ``root``; its restaurant folder."""
    done = campaign_cli("demo", "--dir", str(root), "--members", "300", "--accounts", "30",
                        "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "restaurant"


@pytest.mark.slow
def test_end_to_end_from_the_command_line(tmp_path: Path) -> None:
    store_file = build_store(tmp_path / "tierwise.duckdb")
    (tmp_path / "tierwise.toml").write_text(
        '[store]\npath = "tierwise.duckdb"\n\n[campaigns]\nface_value = 48\n'
        'message_unit_cost = 0.1\ngross_margin = 0.6\ncontrol_share = 0.2\n', encoding="utf-8")
    with Store(store_file) as store:  # an earlier snapshot too: --as-of picks the right one
        commit_snapshot(store, dt.date(2026, 7, 31))
    made = campaign_cli("campaign", "create", "--as-of", "2026-08-31", "--min-days-since-last",
                        "40", "--exclude-state", "dead", "--name", "沉睡会员唤醒", "--json",
                        cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    c = json.loads(made.stdout)
    assert (c["n_target"], c["n_control"], c["as_of"]) == (240, 60, "2026-08-31")
    assert (c["window_start"], c["window_end"]) == ("2026-09-01", "2026-09-30")

    shown = campaign_cli("campaign", "export", str(c["campaign_id"]), "-o", "targets.csv",
                         cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    exported = pd.read_csv(tmp_path / "targets.csv", dtype=str, encoding="utf-8-sig")
    with Store(store_file) as store:  # the campaign runs; later orders arrive; a new snapshot
        frame = members(store, c["campaign_id"])
        planted = plant_outcomes(store, c["campaign_id"])
        commit_snapshot(store, DATA_END)
    assert set(exported["customer_id"]) == set(frame.loc[frame["group"] == "target",
                                                         "customer_id"])
    assert not PHONE.search((tmp_path / "targets.csv").read_text(encoding="utf-8-sig"))

    derived = campaign_cli("campaign", "results", str(c["campaign_id"]), "--json", cwd=tmp_path)
    assert derived.returncode == 0, derived.stderr
    used = len(planted["back"]["target"])
    assert json.loads(derived.stdout)["accepted"] == used

    ev = campaign_cli("campaign", "evaluate", str(c["campaign_id"]), "--json", cwd=tmp_path)
    assert ev.returncode == 0, ev.stderr
    data = json.loads(ev.stdout)
    assert (data["figures"]["issued"], data["figures"]["used"]) == (240, used)
    assert data["figures"]["redemption_rate_pct"] == round(100 * used / 240, 1)
    lift = data["lift"]
    assert lift["target"]["reactivation_rate"] == round(used / 240, 4)
    assert lift["control"]["reactivated"] == len(planted["back"]["control"])
    assert lift["reactivation_difference"]["low"] > 0
    assert data["follow_up"]["regulars"] == 70
    assert data["follow_up"]["projected_yearly_revenue"] == 252_000

    text = campaign_cli("campaign", "evaluate", str(c["campaign_id"]), cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "control" in text.stdout and "more customers came back" in text.stdout

    listed = campaign_cli("campaign", "list", "--json", cwd=tmp_path)
    assert [x["campaign_id"] for x in json.loads(listed.stdout)] == [c["campaign_id"]]

    again = campaign_cli("campaign", "create", "--as-of", "2026-08-31", "--min-days-since-last",
                         "40", "--exclude-state", "dead", cwd=tmp_path)
    assert again.returncode == 2 and "no customer left" in again.stderr
    assert "cooldown" in again.stderr and "control_hold" in again.stderr

    missing = campaign_cli("campaign", "export", "77", cwd=tmp_path)
    assert missing.returncode == 5 and "campaign 77 not found" in missing.stderr


def test_an_empty_state_column_is_reported_not_ignored(tmp_path: Path) -> None:
    customers, orders = history(10, 5, 5)
    with Store(tmp_path / "t.duckdb") as store:
        store.upsert_customers(customers, source="m")
        store.upsert_orders(orders, source="o")
        if "activity_state" not in store.snapshot_columns():
            store.con.execute("ALTER TABLE snapshot_customers ADD COLUMN activity_state VARCHAR")
        store.commit_run(period="2026-08", as_of=AS_OF, config_hash="h", engine="duckdb",
                         results=snapshot_frame(store, AS_OF).assign(activity_state=None),
                         meta={})
        c = create_campaign(store, AudienceFilter(min_days_since_last=40), SETTINGS)
    assert c.n_excluded == 0
    assert any("activity_state is empty" in w for w in c.meta["warnings"])

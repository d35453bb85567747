"""Loyalty levels and rule-based rewards (issue 19 item 2): the rules on small hand-made data,
then the planted patterns of the demo restaurant found through the CLI, the report and the web."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import run_cli
from tierwise.config import LoyaltyConfig, parse_config
from tierwise.errors import ConfigError
from tierwise.loyalty import compute_levels, in_control, level_sentences

LEVELS = [{"code": "member", "name": "Member", "name_zh": "普通会员", "min_spend": 0},
          {"code": "silver", "name": "Silver", "name_zh": "银卡会员", "min_spend": 1000},
          {"code": "gold", "name": "Gold", "name_zh": "金卡会员", "min_spend": 3000}]


def _cfg(**changes: object) -> LoyaltyConfig:
    return LoyaltyConfig(level=LEVELS, **changes)


def _spend(rows: list[tuple[int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"customer_key": k, "window_start": dt.date.fromisoformat(w),
                          "spend": s} for k, w, s in rows])


# -- the rules --------------------------------------------------------------------------------------
def test_upgrade_at_once_grace_then_drop() -> None:
    spend = _spend([
        (1, "2026-04-01", 3500), (1, "2026-07-01", 500), (1, "2026-10-01", 200),   # in grace
        (2, "2026-01-01", 3500), (2, "2026-04-01", 500), (2, "2026-07-01", 1200),  # dropped
        (3, "2026-07-01", 200), (3, "2026-10-01", 3100),                           # upgraded
        (4, "2026-10-01", 2680),                                                   # near gold
    ])
    got = compute_levels(spend, dt.date(2026, 10, 31), _cfg()).set_index("customer_key")
    assert got.loc[1, "loyalty_level"] == "gold" and bool(got.loc[1, "loyalty_in_grace"])
    assert got.loc[1, "loyalty_grace_since"] == dt.date(2026, 10, 1)
    assert got.loc[1, "loyalty_keep_distance"] == 2800
    # two windows in a row below gold: dropped to what the last window earned (silver)
    assert got.loc[2, "loyalty_level"] == "silver" and not got.loc[2, "loyalty_in_grace"]
    assert got.loc[3, "loyalty_level"] == "gold" and pd.isna(got.loc[3, "loyalty_next_level"])
    assert (got.loc[4, "loyalty_level"], got.loc[4, "loyalty_next_level"]) == ("silver", "gold")
    assert got.loc[4, "loyalty_distance"] == 320
    assert (got["loyalty_window_end"] == dt.date(2026, 12, 31)).all()


def test_no_grace_drops_at_the_first_short_window() -> None:
    spend = _spend([(1, "2026-04-01", 3500), (1, "2026-07-01", 500)])
    got = compute_levels(spend, dt.date(2026, 10, 31), _cfg(grace_periods=0)).iloc[0]
    assert got["loyalty_level"] == "member" and got["loyalty_distance"] == 1000


def test_the_distance_in_both_languages() -> None:
    row = {"loyalty_level": "silver", "loyalty_next_level": "gold", "loyalty_distance": 320.0}
    assert level_sentences(row, _cfg(), "zh")[1] == "本季度再消费 320 即可升级为金卡会员"
    assert level_sentences(row, _cfg(), "en")[1] == "spend 320 more this quarter to become Gold"


@pytest.mark.parametrize(("levels", "message"), [
    ([{**LEVELS[0], "min_spend": 100}], "set its min_spend = 0"),
    ([LEVELS[0], {**LEVELS[1], "min_spend": 0}], "rising min_spend"),
    ([LEVELS[0], {**LEVELS[1], "code": "member"}], "appear more than once"),
])
def test_bad_levels_are_named_with_the_fix(levels: list, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"loyalty": {"level": levels}}, source="shop.toml")
    assert "shop.toml" in str(caught.value) and "loyalty.level" in str(caught.value)
    assert message in str(caught.value)


def test_the_control_group_is_a_seeded_hash() -> None:
    ids = [f"C{i:05d}" for i in range(4000)]
    held = in_control(ids, 0.25, seed=19)
    assert abs(held.mean() - 0.25) < 0.03
    assert (in_control(ids[::-1], 0.25, seed=19)[::-1] == held).all()  # order does not matter
    assert (in_control(ids, 0.25, seed=20) != held).any()


# -- rewards on a small store ----------------------------------------------------------------------
SHOP = """[sources.orders]
path = "orders.csv"
[store]
path = "t.duckdb"
[loyalty]
reward_months = 3
[[loyalty.level]]
code = "member"
name = "Member"
min_spend = 0
[[loyalty.reward]]
code = "big"
name = "Big meal"
kind = "single_order"
min_amount = 2000
cost = 50
control_share = 0
[[loyalty.reward]]
code = "club"
name = "10k club"
kind = "cumulative"
min_amount = 10000
cost = 88
control_share = 0
"""


def test_rewards_by_rule_are_kept_once_per_month(tmp_path: Path) -> None:
    from tierwise.config import load_config
    from tierwise.loyalty import issue_rewards, qualifying
    from tierwise.pipeline import ingest, run
    from tierwise.store import Store

    orders = [("A", "2026-08-03", 2500), ("A", "2026-08-20", 2100),   # one reward in August
              ("B", "2026-07-01", 4000), ("B", "2026-08-01", 4000),
              ("B", "2026-09-12", 1999), ("B", "2026-09-13", 500),    # crosses 10,000 on 9-13
              ("C", "2026-09-01", 1999.99), ("C", "2026-05-01", 3000),  # too small; too early
              ("D", "2026-07-15", 100)]
    pd.DataFrame(orders, columns=["customer_id", "ordered_at", "amount"]).to_csv(
        tmp_path / "orders.csv", index=False)
    (tmp_path / "tierwise.toml").write_text(SHOP, encoding="utf-8")
    cfg = load_config(tmp_path / "tierwise.toml")
    ingest(cfg)
    run(cfg, as_of=dt.date(2026, 9, 30))
    with Store(cfg.store_path) as store:
        big = qualifying(store, cfg.loyalty.reward[0], dt.date(2026, 7, 1), dt.date(2026, 9, 30))
        club = qualifying(store, cfg.loyalty.reward[1], dt.date(2026, 7, 1),
                          dt.date(2026, 9, 30))
        first = issue_rewards(store, cfg)
        again = issue_rewards(store, cfg)
    # one row per customer and month, the first qualifying order of the month
    assert sorted(zip(big["customer_id"], big["qualified_on"])) == \
        [("A", dt.date(2026, 8, 3)), ("B", dt.date(2026, 7, 1)), ("B", dt.date(2026, 8, 1))]
    assert list(zip(club["customer_id"], club["qualified_on"])) == [("B", dt.date(2026, 9, 13))]
    kept = {(c.meta["reward"], c.meta["month"]): c for c in first.created}
    assert set(kept) == {("big", "2026-07"), ("big", "2026-08"), ("club", "2026-09")}
    assert kept[("big", "2026-08")].n_target == 2 and kept[("big", "2026-08")].n_control == 0
    assert kept[("club", "2026-09")].window_start == dt.date(2026, 10, 1)
    assert again.created == [] and again.kept == 3


# -- the demo restaurant, through the CLI -----------------------------------------------------------
@pytest.fixture(scope="module")
def restaurant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("loyalty-demo")
    done = run_cli("demo", "--dir", str(root), "--members", "300", "--accounts", "20",
                   "--json", cwd=root, timeout=600)
    assert done.code == 0, done.stderr
    return root / "restaurant"


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "loyalty_manifest.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_planted_near_gold_and_grace_members_are_found(restaurant: Path) -> None:
    manifest = _manifest(restaurant)
    done = run_cli("loyalty", "--top", "1000", "--json", cwd=restaurant)
    assert done.code == 0, done.stderr
    data = done.json()
    near = {r["customer_id"]: r for r in data["near"]}
    for member, distance in zip(manifest["near_gold"], manifest["near_gold_distance"]):
        assert (near[member]["loyalty_level"], near[member]["loyalty_next_level"]) == \
            ("silver", "gold")
        assert near[member]["loyalty_distance"] == pytest.approx(distance)
    gold = next(r for r in data["levels"] if r["level"] == "gold")
    assert gold["in_grace"] >= len(manifest["grace_gold"])
    for member in manifest["grace_gold"]:
        one = run_cli("loyalty", "--customer", member, "--json", cwd=restaurant).json()
        row = one["customer"]
        assert row["loyalty_level"] == "gold" and row["loyalty_in_grace"]
        assert row["loyalty_grace_since"][:10] == manifest["grace_since"][0]
        assert row["loyalty_keep_distance"] > 0
    first = manifest["near_gold"][0]
    said = run_cli("loyalty", "--customer", first, "--lang", "zh", cwd=restaurant)
    distance = f"{manifest['near_gold_distance'][0]:,.0f}"
    assert f"本季度再消费 {distance} 即可升级为金卡会员" in said.stdout
    said = run_cli("loyalty", "--customer", first, "--lang", "en", cwd=restaurant)
    assert f"spend {distance} more this quarter to become Gold" in said.stdout


@pytest.mark.slow
def test_planted_reward_response_is_measured_against_the_control_group(restaurant: Path) -> None:
    from tierwise.store import Store

    manifest = _manifest(restaurant)
    done = run_cli("loyalty", "rewards", "--json", cwd=restaurant)
    assert done.code == 0, done.stderr
    data = done.json()
    assert data["issued"]["created"]
    big = next(r for r in data["rewards"] if r["reward"] == "big_meal")
    assert big["months"] == ["2026-07", "2026-08", "2026-09"]   # October's window is not over
    assert big["status"] == "measured" and big["uplift_low"] > 0   # recipients 60 %, held 20 %
    assert 0.2 < big["uplift"] < 0.55
    assert big["cost"] == pytest.approx(100 * big["used"])
    with Store(restaurant / "tierwise.duckdb", read_only=True) as store:
        members = store.con.execute("""
            SELECT m.customer_id, m."group" FROM campaign_members m JOIN campaigns c
            USING (campaign_id) WHERE c.meta LIKE '%"reward": "big_meal"%'""").df()
    planted = [m for m, month in zip(manifest["big_meal"], manifest["big_meal_month"])]
    groups = members.set_index("customer_id")["group"]
    assert set(planted) <= set(groups.index)
    assert set(groups[groups == "control"].index) & set(planted) == \
        set(manifest["big_meal_control"])
    again = run_cli("loyalty", "rewards", "--json", cwd=restaurant).json()
    assert again["issued"]["created"] == [] and again["issued"]["kept"] == \
        len(data["issued"]["created"])
    assert again["rewards"] == data["rewards"]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_section_in_both_languages(restaurant: Path, lang: str) -> None:
    from tierwise.i18n import t
    from tierwise.reports import build_report
    from tierwise.store import Store

    with Store(restaurant / "tierwise.duckdb", read_only=True) as store:
        section = build_report(store, lang=lang)["loyalty"]
    assert section.available and section.title == t("loyalty.title", lang)
    levels = section.table("levels").frame
    assert levels["customers"].sum() > 300
    near = section.table("near").frame
    assert set(_manifest(restaurant)["near_gold"][:5]) & set(near["customer_id"])


@pytest.mark.slow
def test_web_page_and_customer_page(restaurant: Path) -> None:
    pytest.importorskip("fastapi")
    from _web_store import PASSWORD, client
    from tierwise import load_config
    from tierwise.store import Store
    from tierwise.web import create_app
    from tierwise.web.accounts import add_user

    cfg = load_config(restaurant / "tierwise.toml")
    with Store(cfg.store_path) as store:
        add_user(store, "boss", "admin", PASSWORD)
    manifest = _manifest(restaurant)
    first, distance = manifest["near_gold"][0], manifest["near_gold_distance"][0]
    with client(create_app(cfg), "boss") as web:
        api = web.get("/api/loyalty")
        assert api.status_code == 200, api.text
        assert first in {r["customer_id"] for r in api.json()["near"]}
        overview = web.get("/?lang=en")
        assert 'id="loyalty-overview"' in overview.text and "Diamond" in overview.text
        page = web.get("/loyalty?lang=en")
        assert page.status_code == 200 and 'id="loyalty-levels"' in page.text
        assert "Gold" in page.text
        zh = web.get(f"/customers/{first}?lang=zh")
        assert f"本季度再消费 {distance:,.0f} 即可升级为金卡会员" in zh.text
        en = web.get(f"/api/customers/{first}").json()
        assert any("金卡会员" in line for line in en["loyalty"])  # the run's language: zh

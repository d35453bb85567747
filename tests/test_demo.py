"""The demo generators: determinism, file formats, and that what the manifest says was planted is
really in the files (read back the way a user's tool would read them, not through the generator)."""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tierwise.demo import generate_b2b, generate_restaurant
from tierwise.demo.b2b import MIN_ACCOUNTS
from tierwise.demo.restaurant import MIN_MEMBERS

REPO = Path(__file__).resolve().parents[1]
R_END = date(2026, 10, 31)
B_END = date(2026, 9, 30)
MEMBER_HEADERS = ["会员卡号", "姓名", "手机号", "性别", "年龄", "城市", "注册日期", "会员等级", "标签"]
VISIT_HEADERS = ["订单号", "会员卡号", "消费时间", "门店", "渠道", "消费金额", "状态"]
MESSY = ("empty_member", "bad_amount", "bad_date", "duplicate", "unknown_member", "future_date")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _read_gbk(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="gbk", dtype=str, keep_default_na=False)


def _amount(text: str) -> float:
    try:
        return float(text.replace("￥", "").replace(",", "").replace("元", ""))
    except ValueError:
        return float("nan")


@pytest.fixture(scope="module")
def restaurant(tmp_path_factory):
    out = tmp_path_factory.mktemp("restaurant")
    manifest = generate_restaurant(out)
    return out, manifest


@pytest.fixture(scope="module")
def visits(restaurant):
    out, _ = restaurant
    frame = _read_gbk(out / "visits.csv")
    frame["line"] = frame.index + 2
    frame["amount"] = frame["消费金额"].map(_amount)
    frame["ts"] = pd.to_datetime(frame["消费时间"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    return frame


@pytest.fixture(scope="module")
def clean_visits(visits):
    """Paid visits with a member, an amount and a date; duplicates dropped."""
    ok = (visits["状态"] == "已支付") & visits["amount"].notna() & visits["ts"].notna()
    ok &= visits["会员卡号"] != ""
    return visits[ok].drop_duplicates(subset=VISIT_HEADERS)


# --- restaurant ----------------------------------------------------------------------------------

def test_restaurant_is_deterministic(restaurant, tmp_path):
    out, manifest = restaurant
    again = generate_restaurant(tmp_path)
    assert _files(out) == _files(tmp_path)
    assert {k: v for k, v in again.items() if k != "paths"} == {
        k: v for k, v in manifest.items() if k != "paths"}
    assert again["paths"] == [str((tmp_path / f).resolve()) for f in again["files"]]


def test_restaurant_seed_changes_the_data(tmp_path):
    a = generate_restaurant(tmp_path / "a", members=100, years=1, seed=7)
    b = generate_restaurant(tmp_path / "b", members=100, years=1, seed=8)
    visits_a, visits_b = (tmp_path / d / "visits.csv" for d in "ab")
    assert visits_a.read_bytes() != visits_b.read_bytes()
    assert a["champions"] != b["champions"]


def test_restaurant_files_are_gbk_with_chinese_headers(restaurant):
    out, manifest = restaurant
    assert manifest["files"] == ["members.csv", "visits.csv", "survey.csv", "feedback.csv",
                                 "manifest.json"]
    for name, headers in [("members.csv", MEMBER_HEADERS), ("visits.csv", VISIT_HEADERS)]:
        raw = (out / name).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        text = raw.decode("gbk")
        assert text.split("\r\n", 1)[0] == ",".join(headers)
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["as_of"] == [
        R_END.isoformat()]


def test_members_file(restaurant):
    out, manifest = restaurant
    members = _read_gbk(out / "members.csv")
    assert len(members) == 2000
    assert members["会员卡号"].is_unique
    assert members["手机号"].str.fullmatch(r"1[358]\d0000\d{4}").all()
    assert set(members["性别"]) <= {"男", "女", ""}
    assert members["姓名"].str.fullmatch(r"[\u4e00-\u9fff]{2,4}").all()
    assert pd.to_datetime(members["注册日期"], format="%Y-%m-%d").max() <= pd.Timestamp(R_END)
    assert members["标签"].str.contains("商务宴请").any()
    big = members[members["会员卡号"].isin(manifest["big_rare_tickets"])]
    assert big["标签"].str.contains("商务宴请").all()


def test_visit_rows_and_formats(visits):
    assert 60_000 < len(visits) < 130_000
    amounts = visits["消费金额"]
    assert amounts.str.fullmatch(r"-?\d+\.\d{2}").mean() > 0.5
    assert amounts.str.fullmatch(r"-?￥\d{1,3}(,\d{3})*\.\d{2}").any()
    assert amounts.str.fullmatch(r"-?\d+(\.\d)?元").any()
    assert amounts.str.contains(r"￥\d,\d{3}\.\d{2}").any()  # thousands separator in use
    assert set(visits["渠道"]) == {"堂食", "外卖", "小程序"}
    assert set(visits["状态"]) == {"已支付", "已退款"}
    paid = visits[(visits["状态"] == "已支付") & visits["amount"].notna()]
    assert 150 <= paid["amount"].mean() <= 250


def test_seasonality(clean_visits):
    ts = clean_visits["ts"]
    weekend = ts.dt.day_of_week >= 5
    per_day = clean_visits.groupby(ts.dt.date).size()
    weekend_days = pd.to_datetime(pd.Series(per_day.index)).dt.day_of_week.to_numpy() >= 5
    assert per_day[weekend_days].mean() > 1.3 * per_day[~weekend_days].mean()
    assert weekend.mean() > 2 / 7
    # the ten days before the 2025 Spring Festival (29 January) are busier than the same
    # weekdays three weeks earlier
    before = clean_visits[(ts >= "2025-01-19") & (ts < "2025-01-29")]
    earlier = clean_visits[(ts >= "2024-12-29") & (ts < "2025-01-08")]
    assert len(before) > 1.2 * len(earlier)


def test_refunds(visits, restaurant):
    _, manifest = restaurant
    refunds = visits[visits["状态"] == "已退款"]
    assert sorted(refunds["订单号"]) == sorted(manifest["refunds"])
    assert (refunds["amount"] < 0).any() and (refunds["amount"] > 0).any()
    originals = set(visits["订单号"])
    assert all(oid.removesuffix("R") in originals for oid in manifest["refunds"])


def test_messy_rows_are_where_the_manifest_says(visits, restaurant):
    out, manifest = restaurant
    known = set(_read_gbk(out / "members.csv")["会员卡号"])
    total = 0
    for kind in MESSY:
        oids, lines = manifest[f"messy_{kind}"], manifest[f"messy_{kind}_lines"]
        assert len(oids) == len(lines) >= 2
        total += len(lines)
        rows = visits.set_index("line").loc[lines]
        assert sorted(rows["订单号"]) == sorted(oids)
        if kind == "empty_member":
            assert (rows["会员卡号"] == "").all()
        elif kind == "bad_amount":
            assert rows["amount"].isna().all() and (rows["消费金额"] == "abc").all()
        elif kind == "bad_date":
            assert rows["ts"].isna().all()
        elif kind == "duplicate":
            previous = visits.set_index("line").loc[[n - 1 for n in lines]]
            assert (previous[VISIT_HEADERS].to_numpy() == rows[VISIT_HEADERS].to_numpy()).all()
        elif kind == "unknown_member":
            assert not set(rows["会员卡号"]) & known and (rows["会员卡号"] != "").all()
        elif kind == "future_date":
            assert (rows["ts"] > pd.Timestamp(R_END) + pd.Timedelta(days=1)).all()
    # nothing else is messy
    assert visits["amount"].isna().sum() == len(manifest["messy_bad_amount"])
    assert visits["ts"].isna().sum() == len(manifest["messy_bad_date"])
    assert visits.duplicated(subset=VISIT_HEADERS).sum() == len(manifest["messy_duplicate"])
    assert visits["订单号"].duplicated().sum() == len(manifest["messy_duplicate"])
    assert (visits["会员卡号"] == "").sum() == len(manifest["messy_empty_member"])
    assert (visits["ts"] > pd.Timestamp(R_END) + pd.Timedelta(days=1)).sum() == len(
        manifest["messy_future_date"])
    assert 0.003 <= total / len(visits) <= 0.008


def _visits_last(frame: pd.DataFrame, days: int) -> pd.Series:
    end = pd.Timestamp(R_END) + pd.Timedelta(days=1)
    recent = frame[(frame["ts"] >= end - pd.Timedelta(days=days)) & (frame["ts"] < end)]
    return recent.groupby("会员卡号").size()


@pytest.mark.parametrize("window", [29, 30, 31])
def test_planted_drift_lands_in_its_band(clean_visits, restaurant, window):
    _, manifest = restaurant
    last = _visits_last(clean_visits, window)
    bands = {"drift_resting": (5, 6), "drift_dormant": (3, 4), "drift_shock": (1, 2),
             "drift_dead": (0, 0), "drift_buried": (0, 0)}
    for group, (low, high) in bands.items():
        ids = manifest[group]
        assert len(ids) >= 10
        counts = last.reindex(ids, fill_value=0)
        assert counts.between(low, high).all(), (group, counts.tolist())
    assert (last.reindex(manifest["drift_resting"]) == 6).all()
    assert (last.reindex(manifest["drift_dormant"]) == 4).all()
    assert (last.reindex(manifest["drift_shock"]) == 2).all()
    assert (last.reindex(manifest["champions"]) > 6).all()


def test_planted_drift_history(clean_visits, restaurant):
    _, manifest = restaurant
    end = pd.Timestamp(R_END)
    drift = [m for g in ("resting", "dormant", "shock", "dead", "buried")
             for m in manifest[f"drift_{g}"]]
    # 30-day blocks counted back from end (block 0 = end-29 .. end): 8+ visits in each block
    # 6..14, well before the drift starts
    block = (end - clean_visits["ts"].dt.normalize()).dt.days // 30
    history = clean_visits[block.between(6, 14) & clean_visits["会员卡号"].isin(drift)]
    per_block = history.groupby(["会员卡号", block[history.index]]).size()
    assert len(per_block) == 9 * len(drift) and (per_block >= 8).all()
    last_visit = clean_visits.groupby("会员卡号")["ts"].max()
    days_since = (end + pd.Timedelta(days=1) - last_visit).dt.days
    assert (days_since.reindex(manifest["drift_buried"]) > 90).all()
    assert (days_since.reindex(manifest["drift_dead"]) <= 90).all()
    # visits in the three months before the last one decline for the dead group
    for group in ("drift_dead", "drift_shock"):
        ids = manifest[group]
        m3 = _visits_last(clean_visits, 90).reindex(ids, fill_value=0)
        m1 = _visits_last(clean_visits, 30).reindex(ids, fill_value=0)
        assert (m3 - m1 > 2 * m1).all()


def test_value_problem_groups(clean_visits, restaurant):
    _, manifest = restaurant
    per_member = clean_visits.groupby("会员卡号").agg(
        visits=("amount", "size"), ticket=("amount", "mean"))
    mean_visits, mean_ticket = per_member["visits"].mean(), per_member["ticket"].mean()
    small = per_member.loc[manifest["small_tickets"]]
    big = per_member.loc[manifest["big_rare_tickets"]]
    champions = per_member.loc[manifest["champions"]]
    assert (small["visits"] > 2 * mean_visits).all() and (small["ticket"] < 0.5 * mean_ticket).all()
    assert (big["visits"] < mean_visits).all() and (big["ticket"] > 5 * mean_ticket).all()
    assert (champions["visits"] > 3 * mean_visits).all()
    assert (champions["ticket"] > 1.2 * per_member["ticket"].median()).all()
    totals = clean_visits.groupby("会员卡号")["amount"].sum()
    assert (totals.reindex(manifest["champions"]) > totals.quantile(0.9)).all()
    assert not set(manifest["never_visited"]) & set(per_member.index)


def test_restaurant_rejects_too_few_members(tmp_path):
    with pytest.raises(ValueError, match="members=10"):
        generate_restaurant(tmp_path, members=10)
    with pytest.raises(ValueError, match=f"members={MIN_MEMBERS - 1}"):
        generate_restaurant(tmp_path, members=MIN_MEMBERS - 1)


# --- B2B -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def b2b(tmp_path_factory):
    out = tmp_path_factory.mktemp("b2b")
    manifest = generate_b2b(out)
    accounts = pd.read_csv(out / "accounts.csv", encoding="utf-8", dtype={"customer_id": str})
    orders = pd.read_excel(out / "orders.xlsx", sheet_name="orders")
    return out, manifest, accounts, orders


def _revenue(orders: pd.DataFrame, start: str, stop: str) -> pd.Series:
    paid = orders[(orders["status"] == "paid") & (orders["order_date"] >= start)
                  & (orders["order_date"] < stop)]
    return paid.groupby("customer_id")["amount"].sum()


def test_b2b_is_deterministic(b2b, tmp_path):
    out, manifest, _, _ = b2b
    generate_b2b(tmp_path)
    assert _files(out) == _files(tmp_path)
    assert manifest["files"] == ["accounts.csv", "orders.xlsx", "survey.csv", "leads.csv",
                                 "contracts.csv", "costs.csv", "manifest.json"]


def test_b2b_files(b2b):
    out, manifest, accounts, orders = b2b
    assert list(accounts.columns) == [
        "customer_id", "name", "kind", "industry", "size", "region", "city", "credit_rating",
        "account_manager", "growth_potential", "strategic_fit", "market_position",
        "mutual_trust", "phone", "email", "joined_at", "willingness_to_partner"]
    assert len(accounts) == 300 and accounts["customer_id"].is_unique
    assert accounts["name"].is_unique
    assert set(accounts["kind"]) == {"company", "government"}
    assert set(accounts["credit_rating"]) <= {"AAA", "AA", "A", "BBB", "BB", "B"}
    assert 8 <= accounts["account_manager"].nunique() <= 10
    for col in ("growth_potential", "strategic_fit", "market_position", "mutual_trust"):
        assert accounts[col].between(1, 5).all()
    assert list(orders.columns) == ["order_id", "customer_id", "order_date", "amount", "cost",
                                    "channel", "agent", "status"]
    assert pd.api.types.is_datetime64_any_dtype(orders["order_date"])
    assert orders["order_id"].is_unique
    assert set(orders["customer_id"]) <= set(accounts["customer_id"])
    assert set(orders["channel"]) == {"direct", "distributor", "online"}
    assert orders.loc[orders["channel"] == "distributor", "agent"].notna().all()
    assert orders.loc[orders["channel"] != "distributor", "agent"].isna().all()
    assert orders["order_date"].max() <= pd.Timestamp(B_END)
    assert orders["order_date"].min() >= pd.Timestamp("2023-10-01")
    refunds = orders[orders["status"] == "refunded"]
    assert sorted(refunds["order_id"]) == sorted(manifest["refunds"])
    assert set(orders["status"]) == {"paid", "refunded"}
    survey = pd.read_csv(out / "survey.csv", encoding="utf-8", keep_default_na=False)
    assert list(survey.columns) == ["customer_id", "answered_at", "score", "comment"]
    assert survey["score"].between(1, 5).all()
    assert set(survey["customer_id"]) <= set(accounts["customer_id"])


def test_b2b_heavy_tail(b2b):
    _, _, _, orders = b2b
    revenue = _revenue(orders, "2025-01-01", "2026-01-01").sort_values(ascending=False)
    top = revenue.head(len(revenue) // 5).sum() / revenue.sum()
    assert top > 0.7


def test_b2b_q1_quiet(b2b):
    _, manifest, accounts, orders = b2b
    quiet = manifest["q1_quiet"]
    assert len(quiet) == 3 and set(quiet) <= set(accounts["customer_id"])
    year = _revenue(orders, "2025-01-01", "2026-01-01")
    assert 0.4 <= year.reindex(quiet).sum() / year.sum() <= 0.6  # about half of a year
    q1_2025 = _revenue(orders, "2025-01-01", "2025-04-01").reindex(quiet, fill_value=0)
    q1_2026 = _revenue(orders, "2026-01-01", "2026-04-01").reindex(quiet, fill_value=0)
    assert (q1_2026 < 0.1 * q1_2025).all(), (q1_2025.tolist(), q1_2026.tolist())
    assert q1_2026.sum() > 0  # near zero, not zero
    q4_2025 = _revenue(orders, "2025-10-01", "2026-01-01").reindex(quiet, fill_value=0)
    assert (q4_2025 > 0.5 * q1_2025).all()  # they were still busy the quarter before


def test_b2b_profitable_low_growth(b2b):
    _, manifest, accounts, orders = b2b
    (pid,) = manifest["profitable_low_growth"]
    row = accounts.set_index("customer_id").loc[pid]
    assert row["growth_potential"] == 1
    paid = orders[orders["status"] == "paid"]
    margin = 1 - paid.groupby("customer_id")["cost"].sum() / paid.groupby("customer_id")[
        "amount"].sum()
    assert margin[pid] > 0.45 and margin[pid] > margin.drop(pid).max() - 0.01
    revenue = _revenue(orders, "2025-01-01", "2026-01-01").sort_values(ascending=False)
    assert pid in revenue.index[:10]


def test_b2b_fast_growing(b2b):
    _, manifest, accounts, orders = b2b
    fast = manifest["fast_growing"]
    assert len(fast) >= 3
    assert (accounts.set_index("customer_id").loc[fast, "growth_potential"] == 5).all()
    r2024 = _revenue(orders, "2024-01-01", "2025-01-01").reindex(fast)
    r2025 = _revenue(orders, "2025-01-01", "2026-01-01")
    assert (r2025.reindex(fast) > 1.4 * r2024).all()
    assert not set(fast) & set(r2025.sort_values(ascending=False).index[:10])  # mid-size


def test_b2b_needs_two_years(tmp_path):
    with pytest.raises(ValueError, match="years=1"):
        generate_b2b(tmp_path, years=1)


# --- committed examples ---------------------------------------------------------------------------

def test_committed_examples_match_the_generators(tmp_path):
    spec = importlib.util.spec_from_file_location("make_examples",
                                                  REPO / "examples" / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    manifests = module.make_examples(tmp_path)
    size = 0
    for folder in module.EXAMPLES:
        committed = _files(REPO / "examples" / folder)
        assert committed == _files(tmp_path / folder), (
            f"examples/{folder} is stale: run python examples/make_examples.py")
        size += sum(len(b) for b in committed.values())
        assert set(manifests[folder]["files"]) == set(committed)
    assert size < 300_000


@pytest.mark.parametrize("members", [MIN_MEMBERS, 150])
def test_small_restaurant_keeps_planted_bands(tmp_path, members):
    manifest = generate_restaurant(tmp_path, members=members, years=1)
    frame = _read_gbk(tmp_path / "visits.csv")
    frame = frame[frame["状态"] == "已支付"]
    frame["ts"] = pd.to_datetime(frame["消费时间"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    last = _visits_last(frame, 30)
    for group, expected in [("drift_resting", 6), ("drift_dormant", 4), ("drift_shock", 2),
                            ("drift_dead", 0), ("drift_buried", 0)]:
        assert (last.reindex(manifest[group], fill_value=0) == expected).all()
    assert np.all([len(manifest[f"messy_{k}"]) >= 2 for k in MESSY])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", manifest["as_of"][0])


def test_b2b_at_its_minimum_keeps_planted_groups(tmp_path):
    manifest = generate_b2b(tmp_path, accounts=MIN_ACCOUNTS)
    accounts = pd.read_csv(tmp_path / "accounts.csv", encoding="utf-8", dtype={"customer_id": str})
    orders = pd.read_excel(tmp_path / "orders.xlsx", sheet_name="orders")
    assert len(accounts) == MIN_ACCOUNTS
    quiet = manifest["q1_quiet"]
    assert len(quiet) == 3 and len(manifest["fast_growing"]) >= 3
    q1_2025 = _revenue(orders, "2025-01-01", "2025-04-01").reindex(quiet, fill_value=0)
    q1_2026 = _revenue(orders, "2026-01-01", "2026-04-01").reindex(quiet, fill_value=0)
    assert (q1_2026 < 0.1 * q1_2025).all()
    with pytest.raises(ValueError, match=f"accounts={MIN_ACCOUNTS - 1}"):
        generate_b2b(tmp_path / "fewer", accounts=MIN_ACCOUNTS - 1)


def test_demo_command_runs_at_the_documented_minimums(tmp_path):
    """``tierwise demo --members 50 --accounts 20`` (the minimums its --help states) completes."""
    from conftest import run_cli

    done = run_cli("demo", "--dir", str(tmp_path / "demo"), "--members", str(MIN_MEMBERS),
                   "--accounts", str(MIN_ACCOUNTS), "--json", cwd=tmp_path)
    assert done.code == 0, done.stderr
    runs = {name: item["runs"] for name, item in done.json()["businesses"].items()}
    assert runs["restaurant"][-1]["customers"] >= MIN_MEMBERS - 5  # a few never visited
    assert runs["b2b"][-1]["customers"] == MIN_ACCOUNTS
    too_few = run_cli("demo", "--dir", str(tmp_path / "x"), "--accounts",
                      str(MIN_ACCOUNTS - 1), cwd=tmp_path)
    assert too_few.code == 2 and "Traceback" not in too_few.stderr


def test_the_loyalty_sources_are_found_from_a_relative_demo_folder(tmp_path, monkeypatch) -> None:
    """`tierwise demo` in the current folder passes a relative folder; a relative source path is
    read relative to the config file, so the loyalty files must be given absolute (they were
    looked for at tierwise-demo/restaurant/tierwise-demo/restaurant/ and the demo stopped)."""
    from tierwise.demo.walkthrough import _extra_sources

    folder = tmp_path / "tierwise-demo" / "restaurant"
    folder.mkdir(parents=True)
    for name in ("loyalty_visits.csv", "loyalty_members.csv"):
        (folder / name).write_text("x\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    sources = _extra_sources(Path("tierwise-demo") / "restaurant")
    assert sources is not None
    for source in (sources.orders, sources.customers):
        assert Path(source.path).is_absolute() and Path(source.path).is_file()
    assert _extra_sources(Path("elsewhere")) is None

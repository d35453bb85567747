"""Migration between snapshots and early warnings on key and major accounts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tierwise.config import MonitoringConfig
from tierwise.errors import DataContractError
from tierwise.lifecycle import early_warnings, migration_matrix, period_windows

# ---- migration -------------------------------------------------------------------------------

PREV = pd.DataFrame({
    "customer_key": [1, 2, 3, 4, 5, 6],
    "tier": ["key", "major", "ordinary", "long_tail", "major", "ordinary"],
    "segment": ["华东", "华东", "华南", "华南", "华北", "华北"],
    "activity_state": ["normal", "resting", "dormant", "dead", "normal", "shock"],
    "total_amount": [1000.0, 500.0, 200.0, 50.0, 400.0, 150.0],
})
CURR = pd.DataFrame({
    "customer_key": [1, 2, 3, 4, 5, 7, 8],
    "tier": ["major", "key", "ordinary", "ordinary", "major", "long_tail", "new"],
    "segment": ["华东", "华南", "华南", "华南", "华北", "华东", "华东"],
    "activity_state": ["dormant", "normal", "dormant", "buried", "resting", "normal", "normal"],
    "total_amount": [700.0, 900.0, 210.0, 80.0, 450.0, 30.0, 5.0],
})


def test_tier_migration_counts_and_values():
    m = migration_matrix(PREV, CURR)
    summary = m.summary.set_index("movement")
    assert summary["customers"].to_dict() == {"up": 2, "down": 1, "stayed": 2, "moved": 0,
                                              "new": 2, "gone": 1}
    assert summary.loc["up", "value_prev"] == 500.0 + 50.0
    assert summary.loc["up", "value_curr"] == 900.0 + 80.0
    assert summary.loc["down", "value_change"] == -300.0
    assert summary.loc["new", "value_curr"] == 35.0 and summary.loc["new", "value_prev"] == 0
    assert summary.loc["gone", "value_prev"] == 150.0 and summary.loc["gone", "value_curr"] == 0
    assert summary.loc["up", "movement_zh"] == "上升"
    counts = m.counts
    assert list(counts.index) == ["key", "major", "ordinary", "long_tail", "new", "(new)"]
    assert list(counts.columns) == ["key", "major", "ordinary", "long_tail", "new", "(gone)"]
    assert counts.loc["key", "major"] == 1 and counts.loc["major", "key"] == 1
    assert counts.loc["major", "major"] == 1 and counts.loc["ordinary", "(gone)"] == 1
    assert counts.loc["(new)", "long_tail"] == 1 and counts.loc["(new)", "new"] == 1
    assert counts.to_numpy().sum() == 8
    assert m.value_curr.loc["major", "key"] == 900.0
    assert m.value_prev.loc["ordinary", "(gone)"] == 150.0
    assert m.value_curr.to_numpy().sum() == CURR["total_amount"].sum()
    assert m.value_prev.to_numpy().sum() == PREV["total_amount"].sum()


def test_unranked_labels_move_without_direction():
    prev = pd.DataFrame({"customer_key": [1, 2], "tier": ["new", None], "total_amount": [1, 2]})
    curr = pd.DataFrame({"customer_key": [1, 2], "tier": ["major", "key"], "total_amount": [3, 4]})
    m = migration_matrix(prev, curr)
    assert m.detail["movement"].tolist() == ["moved", "moved"]
    assert m.counts.loc["(none)", "key"] == 1


def test_segment_migration_has_no_direction():
    m = migration_matrix(PREV, CURR, column="segment")
    assert m.order is None
    summary = m.summary.set_index("movement")["customers"].to_dict()
    assert summary == {"moved": 1, "stayed": 4, "new": 2, "gone": 1}
    assert m.counts.loc["华东", "华南"] == 1
    assert m.value_curr.loc["华东", "华南"] == 900.0


def test_activity_state_migration_is_ordered_best_to_worst():
    m = migration_matrix(PREV, CURR, column="activity_state", value=None)
    detail = m.detail.set_index("customer_key")["movement"].to_dict()
    assert detail == {1: "down", 2: "up", 3: "stayed", 4: "down", 5: "down", 6: "gone",
                      7: "new", 8: "new"}
    assert list(m.counts.index)[:4] == ["normal", "resting", "dormant", "shock"]
    assert m.summary["value_prev"].sum() == 0


def test_custom_order_and_bad_snapshots():
    m = migration_matrix(PREV, CURR, order=["long_tail", "ordinary", "major", "key"])
    assert m.summary.set_index("movement").loc[["up", "down"], "customers"].tolist() == [1, 2]
    with pytest.raises(DataContractError, match="more than once"):
        migration_matrix(pd.concat([PREV, PREV.head(1)]), CURR)
    with pytest.raises(DataContractError, match="tier"):
        migration_matrix(PREV.drop(columns="tier"), CURR)


# ---- period windows --------------------------------------------------------------------------

def test_period_windows_full_and_to_date():
    full = period_windows(dt.date(2026, 3, 31), "quarter", 4)
    assert full["current"] == [(pd.Timestamp("2026-01-01"), pd.Timestamp("2026-03-31"))]
    assert full["last_year"] == [(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-31"))]
    assert full["trailing"][0] == (pd.Timestamp("2025-10-01"), pd.Timestamp("2025-12-31"))
    assert full["trailing"][3] == (pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-31"))
    half = period_windows(dt.date(2026, 3, 15), "month", 2)   # to date: the first 15 days
    assert half["current"] == [(pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-15"))]
    assert half["trailing"] == [(pd.Timestamp("2026-02-01"), pd.Timestamp("2026-02-15")),
                                (pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-15"))]
    assert half["last_year"] == [(pd.Timestamp("2025-03-01"), pd.Timestamp("2025-03-15"))]
    late = period_windows(dt.date(2026, 3, 30), "month", 1)  # clipped at February's end
    assert late["trailing"][0] == (pd.Timestamp("2026-02-01"), pd.Timestamp("2026-02-28"))
    feb = period_windows(dt.date(2026, 2, 28), "month", 1)  # last day: whole January
    assert feb["trailing"][0] == (pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-31"))
    assert feb["last_year"][0] == (pd.Timestamp("2025-02-01"), pd.Timestamp("2025-02-28"))


# ---- early warnings --------------------------------------------------------------------------

AS_OF = dt.date(2026, 3, 31)


def _snapshot(**cols) -> pd.DataFrame:
    n = len(cols["customer_key"])
    base = {"customer_id": [f"C{k:02d}" for k in cols["customer_key"]],
            "name": [f"客户{k}" for k in cols["customer_key"]],
            "account_manager": ["王经理"] * n, "days_since_last": [10] * n,
            "gap_median": [30.0] * n}
    base.update(cols)
    return pd.DataFrame(base)


def test_yoy_drop_warns_with_figures_and_message():
    curr = _snapshot(customer_key=[1, 2], tier=["key", "major"],
                     value_period=[12000.0, 95000.0], value_same_period_ly=[310000.0, 100000.0])
    out = early_warnings(curr, None, AS_OF, MonitoringConfig(), period="quarter")
    assert len(out) == 1
    row = out.iloc[0]
    assert (row["customer_id"], row["kind"], row["severity"]) == ("C01", "yoy_drop", "high")
    assert row["account_manager"] == "王经理" and row["period"] == "2026-Q1"
    assert (row["current"], row["reference"]) == (12000.0, 310000.0)
    assert row["change_pct"] == pytest.approx(-96.13, abs=0.01)
    assert row["message_en"] == ("orders this quarter 12,000 vs 310,000 same quarter last year "
                                 "(-96 %)")
    assert row["message_zh"] == "本季度订单额 12,000，去年同季度 310,000（-96%）"


def test_drop_share_boundary_and_severity():
    curr = _snapshot(customer_key=[1, 2, 3], tier=["key"] * 3,
                     value_period=[50.0, 49.0, 30.0], value_same_period_ly=[100.0] * 3)
    out = early_warnings(curr, None, AS_OF, MonitoringConfig(), period="month")
    assert out["customer_key"].tolist() == [2, 3]        # exactly -50 % is not "more than"
    assert out.set_index("customer_key")["severity"].to_dict() == {2: "medium", 3: "medium"}
    assert out["message_en"].iloc[0].startswith("orders this month 49 vs 100 same month")
    stricter = early_warnings(curr, None, AS_OF, MonitoringConfig(drop_share=0.6),
                              period="month")
    assert stricter["customer_key"].tolist() == [3]


def _orders(rows) -> pd.DataFrame:
    return pd.DataFrame([(k, pd.Timestamp(d), a, a < 0) for k, d, a in rows],
                        columns=["customer_key", "ordered_at", "amount", "is_refund"])


def test_trailing_drop_from_orders():
    # account 1 started in spring 2025: no value a year ago, 40,000 a quarter since, 5,000 now
    rows = [(1, f"2025-{m:02d}-15", 40000.0) for m in (4, 7, 10)]
    rows += [(1, "2025-05-15", 40000.0), (1, "2026-02-10", 5000.0)]
    # account 2: steady 30,000 every quarter, this one too (refund netted in)
    rows += [(2, f"{y}-{m:02d}-05", 30000.0) for y in (2025, 2026) for m in (1, 4, 7, 10)
             if (y, m) <= (2026, 1)]
    rows += [(2, "2026-02-01", 1000.0), (2, "2026-02-02", -1000.0)]
    orders = _orders(rows)
    curr = _snapshot(customer_key=[1, 2], tier=["key", "key"])
    out = early_warnings(curr, orders, AS_OF, MonitoringConfig(), period="quarter")
    assert out["kind"].tolist() == ["trailing_drop"]
    row = out.iloc[0]
    assert row["customer_key"] == 1
    assert row["reference"] == pytest.approx((0 + 80000 + 40000 + 40000) / 4)
    assert row["current"] == 5000.0 and row["severity"] == "high"
    assert "previous 4 quarters" in row["message_en"] and "前 4 个季度平均" in row["message_zh"]


def test_silence_against_the_usual_gap():
    curr = _snapshot(customer_key=[1, 2, 3, 4], tier=["key", "major", "key", "key"],
                     days_since_last=[30, 31, 60, 400], gap_median=[10.0, 10.0, 10.0, np.nan],
                     value_period=[1.0] * 4, value_same_period_ly=[1.0] * 4)
    out = early_warnings(curr, None, AS_OF, MonitoringConfig(), period="quarter")
    assert out["kind"].unique().tolist() == ["silence"]
    got = out.set_index("customer_key")
    assert sorted(got.index) == [2, 3]                   # exactly 3 gaps is not a warning
    assert got.loc[3, "severity"] == "high" and got.loc[2, "severity"] == "medium"
    assert got.loc[2, "unit"] == "days" and got.loc[2, "current"] == 31
    assert got.loc[3, "message_en"] == ("no order for 60 days, usually one every 10 days "
                                        "(6.0 x the usual gap)")
    assert "已 60 天未下单" in got.loc[3, "message_zh"]
    assert out["customer_key"].iloc[0] == 3              # high severity first


def test_steady_accounts_and_other_tiers_get_no_warning():
    curr = _snapshot(customer_key=[1, 2, 3], tier=["key", "major", "ordinary"],
                     value_period=[100000.0, 50000.0, 0.0],
                     value_same_period_ly=[98000.0, 52000.0, 500000.0],
                     days_since_last=[12, 20, 300], gap_median=[30.0, 30.0, 30.0])
    out = early_warnings(curr, None, AS_OF, MonitoringConfig(), period="quarter")
    assert out.empty
    assert list(out.columns)[:6] == ["customer_key", "customer_id", "name", "account_manager",
                                     "tier", "kind"]
    watch_all = MonitoringConfig(warn_tiers=["key", "major", "ordinary"])
    assert early_warnings(curr, None, AS_OF, watch_all, period="quarter")["customer_key"].tolist(
    ) == [3, 3]


def test_an_account_that_already_fell_a_tier_is_still_watched():
    curr = _snapshot(customer_key=[1], tier=["ordinary"], value_period=[0.0],
                     value_same_period_ly=[500000.0])
    prev = pd.DataFrame({"customer_key": [1], "tier": ["key"]})
    assert early_warnings(curr, None, AS_OF, period="quarter").empty
    out = early_warnings(curr, None, AS_OF, prev=prev, period="quarter")
    assert out["kind"].tolist() == ["yoy_drop"] and out["tier"].tolist() == ["ordinary"]


def test_missing_columns():
    with pytest.raises(DataContractError, match="gap_median"):
        early_warnings(pd.DataFrame({"customer_key": [1], "days_since_last": [3]}), None, AS_OF)
    curr = _snapshot(customer_key=[1], tier=["key"])
    with pytest.raises(DataContractError, match="orders"):
        early_warnings(curr, None, AS_OF)


# ---- the seeds' story: three big accounts, half of yearly orders, quiet in Q1 ----------------

def _story_orders() -> pd.DataFrame:
    rows = []
    for year in (2023, 2024, 2025):                    # big accounts order every first quarter
        for key in (1, 2, 3):
            rows.append((key, f"{year}-02-{10 + key}", 1_300_000.0))
            rows.append((key, f"{year}-08-{10 + key}", 100_000.0))
    rows.append((1, "2026-03-20", 130_000.0))          # in 2026 only one orders, and far less
    for key in range(4, 21):                           # 17 steady accounts, monthly orders
        for month in pd.period_range("2023-01", "2026-03", freq="M"):
            rows.append((key, f"{month}-{5 + key % 20:02d}", 18_000.0 + 1000 * (key % 5)))
    return _orders(rows)


def _story_snapshot(orders: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Per-account features as the features step defines them, computed by hand here."""
    ts = pd.Timestamp(as_of)
    o = orders[orders["ordered_at"] <= ts]
    g = o.groupby("customer_key")

    def between(start, end):
        hit = o[(o["ordered_at"] >= start) & (o["ordered_at"] <= end)]
        return hit.groupby("customer_key")["amount"].sum()

    last = g["ordered_at"].max()
    gaps = g["ordered_at"].apply(lambda s: s.sort_values().diff().dt.days.median())
    snap = pd.DataFrame({
        "total_amount": g["amount"].sum(),
        "days_since_last": (ts - last).dt.days,
        "gap_median": gaps,
        "value_period": between(pd.Timestamp("2026-01-01"), ts),
        "value_same_period_ly": between(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-31")),
        "value_year_2025": between(pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-31")),
    }).fillna({"value_period": 0.0, "value_same_period_ly": 0.0}).rename_axis("customer_key")
    snap = snap.reset_index()
    snap["customer_id"] = [f"B{k:03d}" for k in snap["customer_key"]]
    snap["name"] = [f"客户{k}" for k in snap["customer_key"]]
    snap["account_manager"] = "徐先生"
    return snap


def test_the_three_big_accounts_going_quiet_in_q1_are_caught():
    orders = _story_orders()
    snap = _story_snapshot(orders, AS_OF)
    big = snap[snap["customer_key"].isin([1, 2, 3])]["value_year_2025"].sum()
    assert big / snap["value_year_2025"].sum() > 0.5       # half of yearly orders
    # the pyramid as it stood: the three big accounts key, the next three major
    ranked = snap.sort_values("value_year_2025", ascending=False)["customer_key"].tolist()
    snap["tier"] = "ordinary"
    snap.loc[snap["customer_key"].isin(ranked[:3]), "tier"] = "key"
    snap.loc[snap["customer_key"].isin(ranked[3:6]), "tier"] = "major"

    out = early_warnings(snap, orders, AS_OF, MonitoringConfig(), period="quarter")
    yoy = out[out["kind"] == "yoy_drop"].set_index("customer_key")
    assert sorted(yoy.index) == [1, 2, 3]
    assert set(out["customer_key"]) == {1, 2, 3}            # no noise from steady accounts
    assert (yoy["severity"] == "high").all()
    assert yoy.loc[1, "change_pct"] == pytest.approx(-90.0)
    assert yoy.loc[2, "message_en"] == ("orders this quarter 0 vs 1,300,000 same quarter last "
                                        "year (-100 %)")
    assert yoy.loc[2, "account_manager"] == "徐先生"

    # without a tier column the top 20 % of accounts by value are watched: same three
    no_tier = early_warnings(snap.drop(columns="tier"), orders, AS_OF, period="quarter")
    assert sorted(no_tier[no_tier["kind"] == "yoy_drop"]["customer_key"]) == [1, 2, 3]

    # a month into the quarter (to-date comparison) the two silent ones already show
    early = dt.date(2026, 2, 28)
    snap_feb = _story_snapshot(orders, early).assign(tier=snap["tier"].to_numpy())
    snap_feb["value_same_period_ly"] = snap_feb["customer_key"].map(
        orders[(orders["ordered_at"] >= "2025-01-01") & (orders["ordered_at"] <= "2025-02-28")]
        .groupby("customer_key")["amount"].sum()).fillna(0.0)
    feb = early_warnings(snap_feb, orders, early, period="quarter")
    assert sorted(feb[feb["kind"] == "yoy_drop"]["customer_key"]) == [1, 2, 3]


def _finish_before(rows: pd.DataFrame, as_of, per: str) -> pd.DataFrame:
    """The warnings' last step as it was: a record of every column per warning (the reference
    for the one that reads only the message's figures, issue 16)."""
    from tierwise.i18n.render import warning_message
    from tierwise.lifecycle.policies import SEVERITIES, WARNING_KINDS
    from tierwise.lifecycle.warnings import _FREQ, COLUMNS

    label = pd.Timestamp(as_of).to_period(_FREQ[per])
    rows["period"] = str(label).replace("Q", "-Q") if per == "quarter" else str(label)
    rows["kind_zh"] = rows["kind"].map(lambda k: WARNING_KINDS[k][0])
    rows["severity_zh"] = rows["severity"].map(lambda k: SEVERITIES[k][0])
    records = rows.to_dict("records")
    rows["message_zh"] = [warning_message(r, "zh") for r in records]
    rows["message_en"] = [warning_message(r, "en") for r in records]
    kind_rank = rows["kind"].map({"yoy_drop": 0, "trailing_drop": 1, "silence": 2,
                                  "unlikely": 3})
    rows = rows.assign(_s=(rows["severity"] != "high").astype(int), _k=kind_rank)
    rows = rows.sort_values(["_s", "_size", "customer_key", "_k"],
                            ascending=[True, False, True, True], kind="stable")
    return rows[COLUMNS].reset_index(drop=True)


@pytest.mark.parametrize("per", ["quarter", "month"])
def test_the_messages_are_those_of_every_column_records(per):
    from tierwise.lifecycle.warnings import _finish

    rng = np.random.default_rng(3)
    n = 3000
    kind = rng.choice(["yoy_drop", "trailing_drop", "silence", "unlikely"], n)
    rows = pd.DataFrame({
        "customer_key": rng.integers(0, 500, n), "customer_id": [f"c{i}" for i in range(n)],
        "name": rng.choice(["甲", None, "b"], n), "account_manager": None,
        "tier": rng.choice(["key", "major"], n), "kind": kind,
        "current": np.where(kind == "unlikely", rng.random(n), rng.lognormal(8, 2, n)),
        "reference": np.where(kind == "unlikely", 0.1, rng.lognormal(8, 2, n) + 1),
        "unit": "amount", "severity": rng.choice(["high", "medium"], n),
        "_size": rng.choice([1.0, 2.0, np.nan], n),
        "window": np.where(kind == "trailing_drop", 4, np.where(kind == "unlikely", 90, None)),
        # other snapshot columns a watched account carries
        "visits": pd.array(rng.integers(0, 9, n), dtype="Int64"),
        "segment": pd.Categorical(rng.choice(["a", "b"], n)),
        "first_order": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D"),
        "flag": rng.random(n) < 0.5,
    })
    rows["change_pct"] = (rows["current"] - rows["reference"]) / rows["reference"] * 100
    as_of = dt.date(2026, 3, 31) if per == "quarter" else dt.date(2026, 2, 14)
    pd.testing.assert_frame_equal(_finish(rows.copy(), as_of, per),
                                  _finish_before(rows.copy(), as_of, per))

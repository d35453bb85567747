"""Big-account analyses: each table on a small hand-made run with known answers, then the demo."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import run_cli
from tierwise.tiering import (
    big_account_tables,
    channel_contribution,
    growth_pct,
    key_account_review,
    manager_performance,
    satisfaction,
    tier_movement,
)

AS_OF = dt.date(2026, 3, 31)
NAN = float("nan")


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_key": [1, 2, 3, 4],
        "customer_id": ["K1", "K2", "C3", "C4"],
        "name": ["Alpha", "Beta", "Gamma", "Delta"],
        "account_manager": ["Ann", "Ann", "Bob", None],
        "tier": ["key", "major", "ordinary", "new"],
        "key_account": [True, True, False, False],
        "key_account_rank": [2, 1, None, None],
        "key_account_type": ["core", "strategic", None, None],
        "total_amount": [1000.0, 400.0, 100.0, 60.0],
        "value_period": [50.0, 120.0, 30.0, 60.0],
        "value_prev_period": [40.0, 100.0, 10.0, 0.0],
        "value_same_period_ly": [200.0, 0.0, 20.0, 0.0],
        "margin_total": [250.0, NAN, 10.0, NAN],
        "clv_predicted": [900.0, 300.0, 50.0, 20.0],
        "frequency": [9, 0, 1, 0],
        "gap_median": [10.0, NAN, 30.0, NAN],
        "days_since_last": [30, 5, 30, 120],
        "activity_state": ["shock", "normal", "dormant", "dead"],
        "lifecycle_stage": ["at_risk", "new", "active", "new"],
    })


def _orders() -> pd.DataFrame:
    rows = [  # customer_key, ordered_at, amount, is_refund, channel, agent, cost, margin
        (1, "2025-06-01", 300.0, False, "direct", None, 200.0, NAN),
        (1, "2025-07-01", 100.0, False, "distributor", "AgentX", NAN, 30.0),
        (1, "2026-02-01", 200.0, False, "direct", None, 150.0, NAN),
        (1, "2026-02-10", -100.0, True, "direct", None, NAN, -20.0),
        (1, "2026-04-05", 999.0, False, "online", None, NAN, NAN),  # after as_of: ignored
        (2, "2026-01-15", 400.0, False, "online", "", 300.0, NAN),
        (3, "2026-03-01", 100.0, False, "distributor", "AgentY", NAN, 10.0),
        (4, "2025-12-01", 60.0, False, None, None, NAN, NAN),
    ]
    frame = pd.DataFrame(rows, columns=["customer_key", "ordered_at", "amount", "is_refund",
                                        "channel", "agent", "cost", "margin"])
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"])
    return frame


def _surveys() -> pd.DataFrame:
    rows = [(1, "2024-06-01", 4), (1, "2024-12-01", 5), (1, "2025-11-20", 2),
            (2, "2023-05-01", 5), (2, "2026-01-10", 3), (2, "2026-05-01", 1),
            (3, "2025-01-10", 3), (3, "2025-06-10", 4), (4, "2026-02-01", 5)]
    frame = pd.DataFrame(rows, columns=["customer_key", "answered_at", "score"])
    frame["answered_at"] = pd.to_datetime(frame["answered_at"])
    return frame


PREVIOUS = pd.DataFrame({"customer_key": [1, 2, 3], "tier": ["major", "major", "key"]})
WARNINGS = pd.DataFrame({"customer_key": [1, 1, 3], "kind": ["yoy_drop", "silence", "silence"]})


def test_growth_pct() -> None:
    out = growth_pct([50.0, 120.0, 10.0, 5.0, None], [200.0, 100.0, 0.0, None, 10.0])
    assert out[:2].tolist() == [-75.0, 20.0]
    assert np.isnan(out[2:]).all()


def test_key_account_review_known_answers() -> None:
    review = key_account_review(_frame(), _orders(), _surveys(), PREVIOUS, as_of=AS_OF,
                                warnings=WARNINGS)
    assert review["customer_id"].tolist() == ["K2", "K1"]  # key accounts only, rank order
    k1 = review.set_index("customer_id").loc["K1"]
    k2 = review.set_index("customer_id").loc["K2"]
    assert (k1["growth_yoy_pct"], k1["growth_prev_pct"]) == (-75.0, 25.0)
    assert math.isnan(k2["growth_yoy_pct"]) and k2["growth_prev_pct"] == pytest.approx(20.0)
    assert (k1["revenue"], k1["margin"], k1["margin_rate"]) == (1000.0, 250.0, 0.25)
    assert math.isnan(k2["margin_rate"])
    assert (k1["purchase_days"], k2["purchase_days"]) == (10, 1)
    assert (k1["usual_gap_days"], k1["days_since_last"]) == (10.0, 30)
    assert k1["activity_state"] == "shock"
    # net of the refund: direct 300 + 200 - 100 = 400 of 500; AgentX 100 of 500
    assert (k1["top_channel"], k1["top_channel_share"]) == ("direct", pytest.approx(0.8))
    assert (k1["top_agent"], k1["top_agent_share"]) == ("AgentX", pytest.approx(0.2))
    assert (k2["top_channel"], k2["top_channel_share"]) == ("online", 1.0)
    assert pd.isna(k2["top_agent"]) and math.isnan(k2["top_agent_share"])
    assert (k1["satisfaction_latest"], k1["satisfaction_mean_12m"],
            k1["satisfaction_mean_prev_12m"]) == (2.0, 2.0, 4.5)
    assert (k1["satisfaction_trend"], k1["satisfaction_trend_basis"]) == ("falling",
                                                                          "12m_vs_prev_12m")
    assert k1["satisfaction_latest_at"] == dt.date(2025, 11, 20)
    assert (k2["survey_answers"], k2["satisfaction_change"], k2["satisfaction_trend_basis"]) \
        == (2, -2.0, "latest_vs_earlier")  # the answer after as_of is ignored
    assert (k1["tier_prev"], k1["tier_movement"]) == ("major", "up")
    assert (k2["tier_prev"], k2["tier_movement"]) == ("major", "stayed")
    assert (k1["open_warnings"], k2["open_warnings"]) == (2, 0)


def test_key_account_review_without_optional_inputs() -> None:
    review = key_account_review(_frame(), as_of=AS_OF)
    assert len(review) == 2
    assert review["top_channel"].isna().all() and review["satisfaction_trend"].isna().all()
    assert review["tier_movement"].isna().all() and review["open_warnings"].isna().all()
    assert (review["survey_answers"] == 0).all()


def test_satisfaction_trend_rules() -> None:
    rows = [(1, "2025-01-10", 3), (1, "2025-06-10", 4),          # rising, by window
            (2, "2024-06-01", 4), (2, "2025-06-01", 4),          # steady
            (3, "2023-01-01", 5), (3, "2026-03-01", 2),          # falling, latest vs earlier
            (4, "2026-02-01", 5),                                # one answer: no trend
            (5, "2024-01-01", 1), (5, "2024-06-01", 2)]          # nothing in 12 months: none
    s = pd.DataFrame(rows, columns=["customer_key", "answered_at", "score"])
    out = satisfaction(s, AS_OF)
    assert out["satisfaction_trend"].fillna("-").to_dict() == {
        1: "rising", 2: "steady", 3: "falling", 4: "-", 5: "-"}
    assert out.loc[3, "satisfaction_change"] == -3.0
    assert out.loc[5, "satisfaction_latest"] == 2.0 and math.isnan(
        out.loc[5, "satisfaction_mean_12m"])
    assert satisfaction(None, AS_OF).empty


def test_tier_movement_order_and_unranked_labels() -> None:
    curr = pd.DataFrame({"customer_key": [1, 2, 3, 4, 5],
                         "tier": ["key", "long_tail", "major", "new", "ordinary"]})
    prev = pd.DataFrame({"customer_key": [1, 2, 3, 4],
                         "tier": ["ordinary", "major", "major", "ordinary"]})
    assert tier_movement(curr, prev)["tier_movement"].tolist() == ["up", "down", "stayed",
                                                                    "moved", "new"]
    assert tier_movement(curr, None)["tier_movement"].isna().all()


def test_channel_contribution_known_answers_and_shares() -> None:
    table = channel_contribution(_frame(), _orders(), as_of=AS_OF, period="quarter")
    sums = table.groupby(["window", "scope", "dimension"])["revenue_share"].sum()
    assert len(sums) == 8 and np.allclose(sums, 1.0)
    msums = table.groupby(["window", "scope", "dimension"])["margin_share"].sum()
    assert np.allclose(msums, 1.0)

    def rows(window: str, scope: str, dimension: str) -> dict:
        sub = table[(table["window"] == window) & (table["scope"] == scope)
                    & (table["dimension"] == dimension)]
        return sub.set_index("value")[["orders", "customers", "revenue", "margin"]] \
            .to_dict("index")

    all_channels = rows("to_date", "all", "channel")
    assert list(all_channels) == ["direct", "online", "distributor", "(none)"]
    assert all_channels["direct"] == {"orders": 2, "customers": 1, "revenue": 400.0,
                                      "margin": 130.0}
    assert all_channels["distributor"] == {"orders": 2, "customers": 2, "revenue": 200.0,
                                           "margin": 40.0}
    assert math.isnan(all_channels["(none)"]["margin"])
    shares = table.set_index(["window", "scope", "dimension", "value"])["revenue_share"]
    assert shares[("to_date", "all", "channel", "direct")] == pytest.approx(400 / 1060)
    assert shares[("period", "all", "channel", "online")] == pytest.approx(400 / 600)
    assert shares[("to_date", "key_accounts", "channel", "online")] == pytest.approx(400 / 900)
    agents = rows("to_date", "all", "agent")
    assert {k: v["revenue"] for k, v in agents.items()} == {"(none)": 860.0, "AgentX": 100.0,
                                                            "AgentY": 100.0}
    assert "AgentY" not in rows("to_date", "key_accounts", "agent")


def test_channel_contribution_needs_a_channel_or_agent() -> None:
    from tierwise.errors import DataContractError

    with pytest.raises(DataContractError, match="channel or agent"):
        channel_contribution(_frame(), _orders().drop(columns=["channel", "agent"]), as_of=AS_OF)


def test_manager_performance_known_answers() -> None:
    table = manager_performance(_frame(), _surveys(), PREVIOUS, as_of=AS_OF, warnings=WARNINGS)
    assert table["account_manager"].tolist() == ["Ann", "(none)", "Bob"]
    t = table.set_index("account_manager")
    moves = ["moved_up", "moved_down", "stayed", "moved_other", "new_accounts"]
    assert t.loc["Ann", moves].tolist() == [1, 0, 1, 0, 0]
    assert t.loc["Bob", moves].tolist() == [0, 1, 0, 0, 0]
    assert t.loc["(none)", moves].tolist() == [0, 0, 0, 0, 1]
    assert (t[moves].sum(axis=1) == t["accounts"]).all()
    assert t.loc["Ann", ["accounts", "key_accounts"]].tolist() == [2, 2]
    assert t.loc["Ann", ["revenue_period", "revenue_prev_period", "revenue_same_period_ly"]] \
        .tolist() == [170.0, 140.0, 200.0]
    assert t.loc["Ann", "growth_prev_pct"] == pytest.approx(30 / 140 * 100)
    assert t.loc["Ann", "growth_yoy_pct"] == pytest.approx(-15.0)
    assert math.isnan(t.loc["(none)", "growth_yoy_pct"])
    assert (t.loc["Ann", "revenue_total"], t.loc["Ann", "margin_total"]) == (1400.0, 250.0)
    assert t.loc["Ann", ["warnings", "accounts_warned"]].tolist() == [2, 1]
    assert t.loc["Bob", ["warnings", "accounts_warned"]].tolist() == [1, 1]
    assert (t.loc["Ann", "satisfaction_mean_12m"], t.loc["Ann", "survey_answers_12m"]) == (2.5, 2)
    assert t.loc["Bob", "satisfaction_mean_12m"] == 4.0


def test_manager_performance_without_previous_or_warnings() -> None:
    table = manager_performance(_frame(), as_of=AS_OF)
    assert table[["moved_up", "stayed", "new_accounts", "warnings"]].isna().all().all()
    assert table["accounts"].sum() == 4


def test_big_account_tables_only_when_inputs_exist() -> None:
    frame, orders = _frame(), _orders()
    full = big_account_tables(frame, orders, _surveys(), PREVIOUS, as_of=AS_OF,
                              period="quarter", warnings=WARNINGS)
    assert set(full) == {"key_account_review", "channel_contribution", "manager_performance"}
    bare = big_account_tables(frame.assign(account_manager=None),
                              orders.assign(channel=None, agent=None), None, None,
                              as_of=AS_OF, period="quarter")
    assert set(bare) == {"key_account_review"}


# ------------------------------------------------------------------------- the B2B demo, end to end


@pytest.fixture(scope="module")
def b2b(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from tierwise.config import load_config
    from tierwise.demo import generate_b2b
    from tierwise.demo.walkthrough import B2B_CONFIG, B2B_END
    from tierwise.pipeline import ingest, run
    from tierwise.store import Store

    folder = tmp_path_factory.mktemp("b2b")
    manifest = generate_b2b(folder, end=B2B_END)
    (folder / "tierwise.toml").write_text(B2B_CONFIG.format(end=B2B_END), encoding="utf-8")
    cfg = load_config(folder / "tierwise.toml")
    reports = ingest(cfg).to_dicts()
    result = run(cfg, as_of=dt.date(2026, 3, 31))
    with Store(cfg.store_path, read_only=True) as store:
        tables = {name: store.run_table(result.run_id, name)
                  for name in ("key_account_review", "manager_performance",
                               "channel_contribution")}
    return {"folder": folder, "manifest": manifest, "reports": reports, "run": result,
            "tables": tables}


def test_demo_survey_is_ingested(b2b: dict) -> None:
    survey = next(r for r in b2b["reports"] if r["kind"] == "survey")
    assert survey["rows_in"] == survey["accepted"] + survey["rejected"]
    assert survey["accepted"] > 100 and survey["rejected"] == 0


def test_demo_q1_quiet_accounts_show_in_the_review(b2b: dict) -> None:
    assert b2b["run"].period == "2026-Q1"
    review = b2b["tables"]["key_account_review"].set_index("customer_id")
    quiet = b2b["manifest"]["q1_quiet"]
    assert len(quiet) == 3 and set(quiet) <= set(review.index)  # they are key accounts here
    rows = review.loc[quiet]
    assert (rows["growth_yoy_pct"] < -90).all(), rows["growth_yoy_pct"]
    assert (rows["satisfaction_latest"] == 2).all()
    assert (rows["satisfaction_trend"] == "falling").all(), rows["satisfaction_trend_basis"]
    latest = pd.to_datetime(rows["satisfaction_latest_at"])
    assert latest.between("2025-11-01", "2025-12-31").all()
    assert (rows["open_warnings"] >= 1).all()


def test_demo_manager_and_channel_tables(b2b: dict) -> None:
    managers = b2b["tables"]["manager_performance"]
    review = b2b["tables"]["key_account_review"]
    assert managers["accounts"].sum() == b2b["run"].n_customers
    assert managers["key_accounts"].sum() == len(review)
    channels = b2b["tables"]["channel_contribution"]
    sums = channels.groupby(["window", "scope", "dimension"])["revenue_share"].sum()
    assert np.allclose(sums, 1.0)
    assert set(channels["value"]) >= {"direct", "online", "distributor"}


def test_cli_key_accounts_review(b2b: dict) -> None:
    folder: Path = b2b["folder"]
    result = run_cli("key-accounts", "review", "--json", cwd=folder)
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["period"] == "2026-Q1"
    assert {r["customer_id"] for r in data["key_account_review"]} >= set(
        b2b["manifest"]["q1_quiet"])
    assert data["manager_performance"] and data["channel_contribution"]
    text = run_cli("key-accounts", "review", "--run", str(b2b["run"].run_id), cwd=folder)
    assert text.code == 0, text.stderr
    assert "Key-account review" in text.stdout and "Account managers" in text.stdout

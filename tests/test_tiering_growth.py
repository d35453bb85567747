"""Fastest growers, closest to the next level, and the top customers' share of margin.

The seeds ask which customers grow best (哪些客户的成长性最好), whether small ones can move up
(仔细分析有无升级可能) and how much of the profit the top 20 % make (80% 的利润来源于 20% 的客户).
Unit checks on hand-made frames, then the report of a real B2B demo run (orders with margins).
"""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from tierwise.runview import RunView
from tierwise.tiering import closest_to_next_level, fastest_growers, level_floors


def test_fastest_growers_rank_by_increase_and_skip_new_and_falling() -> None:
    frame = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e"],
        "tier": ["key", "major", "ordinary", "new", "major"],
        "value_period": [300.0, 500.0, 90.0, 400.0, 10.0],
        "value_prev_period": [100.0, 450.0, 100.0, 0.0, 5.0],
        "value_same_period_ly": [150.0, None, 50.0, None, 0.0],
    })
    out = fastest_growers(frame)
    # d grew from nothing (a new customer, not a grower); c fell
    assert out["customer_id"].tolist() == ["a", "b", "e"]
    assert out["value_increase"].tolist() == [200.0, 50.0, 5.0]
    assert out["growth_prev_pct"].tolist() == pytest.approx([200.0, 100 / 9, 100.0])
    assert out.loc[0, "growth_yoy_pct"] == pytest.approx(100.0)
    assert math.isnan(out.loc[1, "growth_yoy_pct"]) and math.isnan(out.loc[2, "growth_yoy_pct"])
    assert len(fastest_growers(frame, n=1)) == 1


def test_fastest_growers_without_period_values_is_empty() -> None:
    out = fastest_growers(pd.DataFrame({"customer_id": ["a"], "tier": ["key"]}))
    assert out.empty and "value_increase" in out.columns


def test_closest_to_next_level_measures_against_the_lowest_value_above() -> None:
    frame = pd.DataFrame({
        "customer_id": ["k1", "k2", "m1", "m2", "o1", "o2", "l1", "n1", "p1"],
        "tier": ["key", "key", "major", "major", "ordinary", "ordinary", "long_tail", "new",
                 "prospect"],
        "tier_score": [120.0, 100.0, 80.0, 60.0, 55.0, 20.0, 19.0, 500.0, None],
    })
    assert level_floors(frame) == {"key": 100.0, "major": 60.0, "ordinary": 20.0,
                                   "long_tail": 19.0}
    out = closest_to_next_level(frame).set_index("customer_id")
    # new and prospect customers are not graded; key has no level above
    assert set(out.index) == {"m1", "m2", "o1", "o2", "l1"}
    assert out.loc["m1", "next_tier"] == "key" and out.loc["m1", "gap_to_next"] == 20.0
    assert out.loc["o1", "next_tier"] == "major" and out.loc["o1", "gap_to_next"] == 5.0
    assert out.loc["l1", "next_level_value"] == 20.0 and out.loc["l1", "reached"] == 0.95
    ordered = closest_to_next_level(frame)["reached"].tolist()
    assert ordered == sorted(ordered, reverse=True)


def test_closest_skips_empty_levels_and_hysteresis_keeps() -> None:
    frame = pd.DataFrame({
        "customer_id": ["k", "o_kept", "o", "l"],
        "tier": ["key", "ordinary", "ordinary", "long_tail"],
        # no major customer: ordinary's next level is key; o_kept stays ordinary by hysteresis
        # with a value above key's lowest, so it has no gap and is not listed
        "tier_score": [100.0, 101.0, 50.0, 10.0],
    })
    out = closest_to_next_level(frame).set_index("customer_id")
    assert "o_kept" not in out.index
    assert out.loc["o", "next_tier"] == "key" and out.loc["o", "gap_to_next"] == 50.0
    assert out.loc["l", "next_tier"] == "ordinary"
    assert closest_to_next_level(frame.drop(columns="tier_score")).empty


def _top_share_by_hand(values: list[float], top: float) -> float:
    v = np.sort(np.clip(np.array(values, dtype=float), 0, None))[::-1]
    cum = np.concatenate([[0.0], np.cumsum(v)]) / v.sum()
    return float(np.interp(top, np.arange(v.size + 1) / v.size, cum))


def test_margin_share_of_the_top_customers() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE snapshot_customers (run_id INTEGER, customer_id VARCHAR, "
                "margin_total DOUBLE)")
    margins = [500.0, 300.0, 100.0, 50.0, 30.0, 10.0, 10.0, 5.0, 0.0, -20.0]
    con.executemany("INSERT INTO snapshot_customers VALUES (1, ?, ?)",
                    [[f"c{i}", m] for i, m in enumerate(margins)] + [["none", None]])
    con.execute("INSERT INTO snapshot_customers VALUES (2, 'x', NULL)")
    share = RunView(con, 1).margin_share(0.2)
    # the top 2 of 10 customers (the customer without a margin is left out; a loss counts as 0)
    assert share == pytest.approx(800 / 1005)
    assert share == pytest.approx(_top_share_by_hand(margins, 0.2))
    assert RunView(con, 2).margin_share(0.2) is None  # no margins: no figure


@pytest.fixture(scope="module")
def b2b(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo B2B supplier (orders with margins), two quarterly runs."""
    from tierwise.config import load_config
    from tierwise.demo import generate_b2b
    from tierwise.demo.walkthrough import B2B_CONFIG, B2B_END
    from tierwise.pipeline import ingest, run

    folder = tmp_path_factory.mktemp("b2b_growth")
    generate_b2b(folder, end=B2B_END)
    (folder / "tierwise.toml").write_text(B2B_CONFIG.format(end=B2B_END), encoding="utf-8")
    cfg = load_config(folder / "tierwise.toml")
    ingest(cfg)
    run(cfg, as_of=dt.date(2026, 3, 31))
    result = run(cfg, as_of=dt.date(2026, 6, 30))
    return {"cfg": cfg, "run_id": result.run_id}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_pyramid_lists_growers_and_the_closest(b2b: dict, lang: str) -> None:
    from tierwise.reports import build_report
    from tierwise.store import Store

    with Store(b2b["cfg"].store_path, read_only=True) as store:
        report = build_report(store, run=b2b["run_id"], lang=lang)
        snap = store.snapshot(b2b["run_id"])
    pyramid = report["pyramid"]
    growers = pyramid.table("growers").frame
    assert len(growers) == 20
    expected = fastest_growers(snap, 20)
    assert growers["customer_id"].tolist() == expected["customer_id"].tolist()
    by_id = snap.set_index("customer_id")
    rows = by_id.loc[growers["customer_id"]]
    assert np.allclose(growers["value_increase"], rows["value_period"] - rows["value_prev_period"])
    assert (growers["value_increase"] > 0).all()
    assert growers["value_increase"].is_monotonic_decreasing
    # nobody outside the list grew more than the last one listed
    rest = snap[~snap["customer_id"].isin(growers["customer_id"])
                & (snap["value_prev_period"] > 0)]
    assert ((rest["value_period"] - rest["value_prev_period"]) <= growers["value_increase"].min()).all()

    closest = pyramid.table("next_level").frame
    assert len(closest) == 20
    floors = snap.groupby("tier")["tier_score"].min()
    tiers = by_id.loc[closest["customer_id"], "tier"]
    above = {"major": "key", "ordinary": "major", "long_tail": "ordinary"}
    assert np.allclose(closest["next_level_value"], [floors[above[t]] for t in tiers])
    assert np.allclose(closest["gap_to_next"],
                       closest["next_level_value"] - by_id.loc[closest["customer_id"],
                                                               "tier_score"].to_numpy())
    assert (closest["gap_to_next"] > 0).all() and closest["reached"].is_monotonic_decreasing
    heads = pyramid.table("next_level").headers
    assert heads["tier_score"] == ("预测价值" if lang == "zh" else "Predicted value")
    names = {"zh": {"重要客户", "主要客户", "普通客户"}, "en": {"key", "major", "ordinary"}}
    assert set(closest["next_tier"]) <= names[lang]


def test_report_shows_the_top_customers_share_of_margin(b2b: dict) -> None:
    from tierwise.reports import build_report
    from tierwise.store import Store

    with Store(b2b["cfg"].store_path, read_only=True) as store:
        report = build_report(store, run=b2b["run_id"], lang="en")
        snap = store.snapshot(b2b["run_id"])
    margins = snap["margin_total"].dropna().tolist()
    assert len(margins) > 200
    expected = _top_share_by_hand(margins, 0.2)
    for key in ("pareto", "summary"):
        figure = next(f for f in report[key].figures if f.key == "pareto_top_margin_share")
        assert figure.value == pytest.approx(expected)
        assert figure.label == "Margin (profit) from the top 20% of customers"
    assert 0.5 < expected < 1.0

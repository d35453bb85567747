"""The report builders: data values taken from one run, in the run's language or another."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tierwise.config import load_config
from tierwise.errors import ConfigError
from tierwise.reports import LANGUAGES, MESSAGES, build_report, t
from tierwise.reports.builders import SECTION_KEYS
from tierwise.store import Store

from _reports_store import build_store


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = build_store(tmp_path_factory.mktemp("reports"))
    return load_config(directory / "tierwise.toml").store_path


@pytest.fixture(scope="module")
def store(store_path: Path):
    with Store(store_path, read_only=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def report(store: Store):
    return build_report(store)


def test_every_message_has_both_languages() -> None:
    for key, entry in MESSAGES.items():
        assert set(entry) == set(LANGUAGES), key
        assert all(entry[lang].strip() for lang in LANGUAGES), key


def test_unknown_message_key_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="not in the catalogue"):
        t("no.such.key", "en")


def test_language_defaults_to_the_runs_and_can_be_chosen(store: Store, report) -> None:
    assert report.language == "zh"
    assert list(report.sections) == list(SECTION_KEYS)
    assert report["pyramid"].title == MESSAGES["pyramid.title"]["zh"]
    english = build_report(store, lang="en")
    assert english["pyramid"].title == "Pyramid"
    assert english["call"].title == "Who to call this week"
    with pytest.raises(ConfigError):
        build_report(store, lang="fr")


def test_summary_data_quality_adds_up(store: Store, report) -> None:
    summary = report["summary"]
    assert summary.figure("run") == report.run_id == 2
    assert summary.figure("as_of") == "2026-10-31"
    quality = summary.table("quality").frame
    assert (quality["rows_in"] == quality["accepted"] + quality["rejected"]).all()
    assert summary.figure("rows_in") == summary.figure("accepted") + summary.figure("rejected")
    ingests = store.con.execute("SELECT sum(rows_in), sum(rejected) FROM ingests").fetchone()
    assert (summary.figure("rows_in"), summary.figure("rejected")) == tuple(ingests)
    assert summary.figure("customers") == len(store.snapshot(report.run_id))


def test_pyramid_sums_to_the_tiered_customers(store: Store, report) -> None:
    levels = report["pyramid"].table("levels").frame
    snapshot = store.snapshot(report.run_id)
    assert levels["customers"].sum() == snapshot["tier"].notna().sum()
    assert levels["customer_share"].sum() == pytest.approx(1.0)
    assert levels["benefits"].notna().all()  # the service policy per level
    key = levels.set_index("tier").loc["key", "customers"]
    assert key == (snapshot["tier"] == "key").sum()


def test_rfm_grid_counts_every_scored_customer(store: Store, report) -> None:
    snapshot = store.snapshot(report.run_id)
    grid = report["rfm"].table("grid").frame
    assert grid["r"].tolist() == [5, 4, 3, 2, 1]
    counts = grid.drop(columns="r")
    assert counts.to_numpy().sum() == snapshot["rfm_r"].notna().sum()
    top_right = ((snapshot["rfm_r"] == 5) & (snapshot["rfm_f"] == 5)).sum()
    assert grid.loc[grid["r"] == 5, "f5"].item() == top_right
    assert report["rfm"].table("segments").frame["customers"].sum() == counts.to_numpy().sum()


def test_clv_buckets_top_and_fit(store: Store, report) -> None:
    snapshot = store.snapshot(report.run_id)
    clv = report["clv"]
    assert clv.table("buckets").frame["customers"].sum() == snapshot["clv_predicted"].notna().sum()
    top = clv.table("top").frame
    assert len(top) == 20
    assert top["clv_predicted"].tolist() == sorted(snapshot["clv_predicted"].nlargest(20),
                                                   reverse=True)
    meta = store.run_info(report.run_id)["meta"]["value_model"]
    assert clv.figure("confidence") == meta["confidence"]
    fit = clv.table("fit").frame
    assert set(meta["params"]) <= set(fit["parameter"])


def test_pareto_curve_endpoints_and_top_share(store: Store, report) -> None:
    pareto = report["pareto"]
    curve = pareto.table("curve").frame
    assert curve["pareto_customer_share"].iloc[0] == 0 and curve["pareto_value_share"].iloc[0] == 0
    assert curve["pareto_customer_share"].iloc[-1] == pytest.approx(1.0)
    assert curve["pareto_value_share"].iloc[-1] == pytest.approx(1.0)
    assert curve["pareto_value_share"].is_monotonic_increasing
    meta = store.run_info(report.run_id)["meta"]
    assert pareto.figure("pareto_top_share") == pytest.approx(meta["pareto_top_share"])


def test_key_accounts_carry_their_contributions(store: Store, report) -> None:
    snapshot = store.snapshot(report.run_id)
    keys = snapshot[snapshot["key_account"].fillna(False).astype(bool)]
    frame = report["key"].table("list").frame
    assert len(frame) == len(keys) > 0
    criteria = [c for c in frame.columns if c.startswith("criterion_")]
    assert criteria
    first = keys.set_index("customer_id").loc[frame["customer_id"].iloc[0]]
    expected = json.loads(first["key_account_contributions"])
    for name, points in expected.items():
        assert frame[f"criterion_{name}"].iloc[0] == pytest.approx(points)


def test_activity_and_call_list(store: Store, report) -> None:
    snapshot = store.snapshot(report.run_id)
    states = report["activity"].table("states").frame
    assert states["customers"].sum() == snapshot["activity_state"].notna().sum()
    assert states["policy"].notna().all()
    call = report["call"]
    wake = call.table("wake_up").frame
    pool = snapshot[snapshot["activity_state"].isin(["resting", "dormant", "shock"])]
    assert set(wake["customer_id"]) <= set(pool["customer_id"])
    assert wake["clv_predicted"].is_monotonic_decreasing
    assert {"account_manager", "playbook"} <= set(wake.columns)


def test_migration_against_the_previous_run(report) -> None:
    migration = report["migration"]
    assert migration.available
    assert migration.figure("previous_run") == 1
    tier = migration.table("tier").frame
    assert tier["customers"].sum() > 0


def test_first_run_says_migration_is_not_available(store: Store) -> None:
    first = build_report(store, run=1, lang="en")
    migration = first["migration"]
    assert not migration.available and not migration.tables
    assert migration.message.startswith("Not available for this run")
    zh = build_report(store, run=1, lang="zh")["migration"]
    assert zh.message.startswith("本期没有这部分数据")

"""The backtest's replay computes only what the backtest reads, with the same values (issue 16).

On both demo businesses (ingested, no run), the backtest through the light replay
(``compute_snapshot(replay=True)``, what ``tierwise run`` uses) is compared with the backtest of
the whole snapshot one horizon back: every table and figure must be equal. Each column of
:data:`tierwise.backtest.REPLAYED_COLUMNS` is shown to matter (dropping it changes the tables),
so the replay cannot lose one unnoticed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from tierwise.backtest import OUTCOME_COLUMNS, REPLAYED_COLUMNS, backtest_in_store, compare, \
    outcomes
from tierwise.config import load_config
from tierwise.demo import generate_b2b, generate_restaurant
from tierwise.demo.loyalty import REWARD_SEED, REWARD_SHARE
from tierwise.demo.walkthrough import B2B_CONFIG, B2B_END, RESTAURANT_CONFIG, RESTAURANT_END
from tierwise.pipeline import _replay, compute_snapshot, ingest
from tierwise.store import Store


def _config(folder: Path, business: str):
    if business == "restaurant":
        generate_restaurant(folder, members=800, end=RESTAURANT_END)
        text = RESTAURANT_CONFIG.format(end=RESTAURANT_END, share=REWARD_SHARE,
                                       seed=REWARD_SEED)
        end = RESTAURANT_END
    else:
        generate_b2b(folder, accounts=300, end=B2B_END)
        text, end = B2B_CONFIG.format(end=B2B_END), B2B_END
    (folder / "tierwise.toml").write_text(text, encoding="utf-8")
    cfg = load_config(folder / "tierwise.toml")
    ingest(cfg)
    return cfg, end


@pytest.fixture(scope="module", params=["restaurant", "b2b"])
def business(request, tmp_path_factory):
    return _config(tmp_path_factory.mktemp(request.param), request.param)


def _whole(store: Store):
    """The replay as it was: the whole snapshot one horizon back."""
    def snapshot_at(cfg, date: dt.date):
        return compute_snapshot(cfg, store, date, previous=None, keep_features=False)
    return snapshot_at


def test_the_light_replay_gives_the_same_backtest(business) -> None:
    cfg, end = business
    with Store(cfg.store_path) as store:
        light = backtest_in_store(cfg, store, end, snapshot_at=_replay(store))
        whole = backtest_in_store(cfg, store, end, snapshot_at=_whole(store))
    assert light.meta["status"] == "ran"
    assert light.meta == whole.meta
    for a, b in ((light.groups, whole.groups), (light.calibration, whole.calibration),
                 (light.contact, whole.contact)):
        pd.testing.assert_frame_equal(a, b)
    # the dimensions the backtest reports are all there
    assert {"activity_state", "activity_policy", "tier", "rfm_segment"} <= \
        set(light.groups["dimension"])


def test_the_replay_skips_what_the_backtest_does_not_read(business) -> None:
    cfg, end = business
    start = end - dt.timedelta(days=cfg.activity.policy_horizon_days)
    with Store(cfg.store_path) as store:
        light = compute_snapshot(cfg, store, start, previous=None, keep_features=False,
                                 replay=True)
        whole = _whole(store)(cfg, start)
    # what the backtest reads: the same values
    pd.testing.assert_frame_equal(light.customers[list(REPLAYED_COLUMNS)],
                                  whole.customers[list(REPLAYED_COLUMNS)])
    pd.testing.assert_frame_equal(light.tables["warnings"], whole.tables["warnings"])
    assert light.meta["activity"] == whole.meta["activity"]
    # and not the rest: no segments, clusters, contributions or summary tables
    assert set(light.tables) == {"warnings"}
    skipped = {"segment", "cluster", "score_contributions", "key_account_contributions"}
    assert skipped & set(whole.customers.columns)
    assert not skipped & set(light.customers.columns)


def test_every_replayed_column_counts(business) -> None:
    """Dropping any of REPLAYED_COLUMNS changes the backtest's tables: none is spare, and a
    replay that lost one would be caught by the test above."""
    cfg, end = business
    start = end - dt.timedelta(days=cfg.activity.policy_horizon_days)
    with Store(cfg.store_path) as store:
        snap = compute_snapshot(cfg, store, start, previous=None, keep_features=False,
                                replay=True)
        after = outcomes(store.orders_frame(end, columns=OUTCOME_COLUMNS, after=start), start,
                         end)
    frame, warned = snap.customers[list(REPLAYED_COLUMNS)], snap.tables["warnings"]
    groups, calibration = compare(frame, after, warned, policy_calibration=True)
    for column in REPLAYED_COLUMNS[1:]:
        g, c = compare(frame.drop(columns=column), after, warned, policy_calibration=True)
        assert not (g.equals(groups) and c.equals(calibration)), column

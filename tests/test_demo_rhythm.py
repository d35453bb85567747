"""The seeded rhythm businesses: reproducible, with the rhythm they claim, usable by the CLI."""

from __future__ import annotations

import doctest
from datetime import date

import numpy as np
import pandas as pd
import pytest

from tierwise.demo import rhythm
from tierwise.demo.rhythm import BUSINESS_KINDS, generate_rhythm_business, write_rhythm_business


def test_doctests() -> None:
    assert doctest.testmod(rhythm).failed == 0


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = generate_rhythm_business("monthly_shoppers", customers=300, seed=3)
    b = generate_rhythm_business("monthly_shoppers", customers=300, seed=3)
    c = generate_rhythm_business("monthly_shoppers", customers=300, seed=4)
    pd.testing.assert_frame_equal(a.orders, b.orders)
    assert not a.orders["amount"].equals(c.orders["amount"])


@pytest.mark.parametrize("kind", list(BUSINESS_KINDS))
def test_each_kind_has_its_rhythm(kind: str) -> None:
    data = generate_rhythm_business(kind, customers=3000, seed=11)
    spec = BUSINESS_KINDS[kind]
    o = data.orders.sort_values(["customer_id", "ordered_at"])
    gaps = o.groupby("customer_id")["ordered_at"].diff().dt.total_seconds().dropna() / 86400
    per_customer = gaps.groupby(o.loc[gaps.index, "customer_id"])
    enough = per_customer.size() >= 3
    # the typical customer's mean gap is the business's usual gap (breaks stretch it a little)
    assert 0.8 * spec.gap_days < per_customer.mean()[enough].median() < 1.4 * spec.gap_days
    # within a customer, gaps are more regular than Poisson timing (coefficient of variation < 1)
    cv = per_customer.agg(lambda g: g.std() / g.mean())
    assert cv[per_customer.size() >= 6].median() < 0.9
    share_once = (o.groupby("customer_id").size() == 1).mean()
    assert share_once >= spec.one_and_done * 0.9


def test_nobody_buys_after_leaving_and_truth_matches_orders() -> None:
    start = date(2023, 1, 1)
    data = generate_rhythm_business("weekly_diners", customers=500, start=start, seed=5)
    days = (data.orders["ordered_at"] - pd.Timestamp(start)).dt.total_seconds() / 86400
    leave = data.orders["customer_id"].map(data.truth.set_index("customer_id")["leave_day"])
    first = data.orders["customer_id"].map(data.truth.set_index("customer_id")["first_day"])
    assert bool(((days <= leave + 1e-6) | np.isclose(days, first, atol=1e-4)).all())
    counts = data.orders.groupby("customer_id").size()
    assert (data.truth.set_index("customer_id")["n_purchases"] == counts).all()
    assert not data.truth.loc[data.truth["one_and_done"], "alive_at_end"].any()


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="valid: weekly_diners"):
        generate_rhythm_business("hourly")
    with pytest.raises(ValueError, match="customers"):
        generate_rhythm_business(customers=0)


def test_written_business_runs_through_the_cli(tmp_path, cli) -> None:
    config = write_rhythm_business(tmp_path / "b2b", "quarterly_b2b", customers=150, seed=2)
    ingest = cli("ingest", "--json", "-c", str(config), cwd=tmp_path)
    assert ingest.code == 0, ingest.stderr
    report = ingest.json()[0]
    assert report["rows_in"] == report["accepted"] == len(pd.read_csv(config.parent / "orders.csv"))
    done = cli("run", "-c", str(config), cwd=tmp_path)
    assert done.code == 0, done.stderr

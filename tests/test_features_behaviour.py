"""Feature values: hand-computed cases for every column, and lifetimes on CDNOW for the RFM ones.

The helpers at the top (a store-shaped DuckDB database, the CDNOW orders, lifetimes' summary and
the comparisons) are imported by the engine tests, which check the same numbers on Spark,
PostgreSQL and MySQL.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from typing import Any

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest

from tierwise.engine import DuckDBEngine
from tierwise.errors import ConfigError, DataContractError
from tierwise.features import (
    FEATURE_COLUMNS,
    ORDERS_SCHEMA,
    RFM_COLUMNS,
    feature_expr,
    rfm_expr,
)

D = dt.date

STORE_ORDERS_DDL = """
CREATE TABLE orders (
    order_id VARCHAR NOT NULL, customer_key BIGINT NOT NULL, ordered_at DATE NOT NULL,
    amount DOUBLE NOT NULL, cost DOUBLE, margin DOUBLE, channel VARCHAR, agent VARCHAR,
    store VARCHAR, status VARCHAR, is_refund BOOLEAN NOT NULL, source VARCHAR)
"""
"""The store's ``orders`` table (docs/architecture.md, "Store tables")."""


# --------------------------------------------------------------------------------------------
# helpers shared with the engine tests


def make_store(rows: list[tuple] | pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB database with the store's ``orders`` table holding ``rows``.

    ``rows`` are ``(customer_key, ordered_at, amount, cost, margin)`` tuples (a negative amount
    is a refund) or a frame with those columns plus ``is_refund``.
    """
    con = duckdb.connect()
    con.execute(STORE_ORDERS_DDL)
    if isinstance(rows, pd.DataFrame):
        frame = rows
    else:
        frame = pd.DataFrame(rows, columns=["customer_key", "ordered_at", "amount", "cost",
                                            "margin"])
        frame["is_refund"] = frame["amount"] < 0
    frame = frame.assign(order_id=[f"o{i}" for i in range(len(frame))])
    con.register("incoming", frame)
    con.execute("INSERT INTO orders (order_id, customer_key, ordered_at, amount, cost, margin, "
                "is_refund) SELECT order_id, customer_key, ordered_at, amount, cost, margin, "
                "is_refund FROM incoming")
    con.unregister("incoming")
    return con


@functools.cache
def cdnow_transactions() -> pd.DataFrame:
    """CDNOW_master.txt from the lifetimes wheel: customer_id, date, number_of_cds, dollar_value."""
    datasets = pytest.importorskip("lifetimes.datasets")
    frame = datasets.load_dataset(
        "CDNOW_master.txt", header=0, sep=r"\s+",
        names=["customer_id", "date", "number_of_cds", "dollar_value"],
        dtype={"customer_id": "int64", "date": "str"})
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def cdnow_store() -> duckdb.DuckDBPyConnection:
    tx = cdnow_transactions()
    return make_store(pd.DataFrame({
        "customer_key": tx["customer_id"], "ordered_at": tx["date"].dt.date,
        "amount": tx["dollar_value"].astype("float64"), "cost": np.nan, "margin": np.nan,
        "is_refund": False}))


@functools.cache
def lifetimes_summary(as_of: dt.date) -> pd.DataFrame:
    utils = pytest.importorskip("lifetimes.utils")
    return utils.summary_data_from_transaction_data(
        cdnow_transactions(), "customer_id", "date", monetary_value_col="dollar_value",
        observation_period_end=pd.Timestamp(as_of), freq="D")


def assert_matches_lifetimes(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Integers exactly, monetary_value to 1e-9 relative, the same customers."""
    got = got.set_index("customer_key").sort_index()
    expected = expected.sort_index()
    assert len(got) == len(expected)
    np.testing.assert_array_equal(got.index.to_numpy(), expected.index.to_numpy())
    for col in ("frequency", "recency", "T"):
        want = expected[col].to_numpy()
        assert np.all(want == np.round(want)), col
        np.testing.assert_array_equal(got[col].to_numpy(dtype="int64"), want.astype("int64"),
                                      err_msg=col)
    np.testing.assert_allclose(got["monetary_value"].to_numpy(dtype="float64"),
                               expected["monetary_value"].to_numpy(), rtol=1e-9, atol=0)


def normalized(frame: pd.DataFrame) -> pd.DataFrame:
    """Comparable across engines: sorted by customer, dates as ISO text, numbers as float64."""
    out = frame.sort_values("customer_key").reset_index(drop=True).copy()
    for col in out.columns:
        if col in ("first_purchase", "last_purchase"):
            out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
        else:
            out[col] = pd.to_numeric(out[col]).astype("float64")
    return out


def assert_same_features(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(normalized(got), normalized(want), check_exact=False,
                                  rtol=1e-9, atol=1e-9)


def duckdb_features(con: duckdb.DuckDBPyConnection, as_of: dt.date,
                    period: str = "month") -> pd.DataFrame:
    engine = DuckDBEngine(con)
    try:
        return engine.to_pandas(feature_expr(engine.orders(), as_of, period=period))
    finally:
        engine.close()


def portable_features(con: duckdb.DuckDBPyConnection, as_of: dt.date, period: str = "month",
                      *, rfm: bool = False) -> pd.DataFrame:
    """The expression built on an unbound table (as the MySQL engine does), run as SQL."""
    orders = ibis.table(ORDERS_SCHEMA, name="orders")
    expr = rfm_expr(orders, as_of) if rfm else feature_expr(orders, as_of, period=period)
    return con.sql(ibis.to_sql(expr, dialect="duckdb")).df()


def by_customer(frame: pd.DataFrame) -> dict[int, dict[str, Any]]:
    return {int(r["customer_key"]): r for r in frame.to_dict("records")}


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def assert_row(row: dict[str, Any], **expected: Any) -> None:
    for key, want in expected.items():
        got = row[key]
        if want is None:
            assert _is_null(got), f"{key}: expected NULL, got {got!r}"
        elif isinstance(want, dt.date):
            assert pd.Timestamp(got).date() == want, f"{key}: {got!r} != {want!r}"
        elif isinstance(want, float):
            assert got == pytest.approx(want, rel=1e-12), f"{key}: {got!r} != {want!r}"
        else:
            assert got == want and float(got).is_integer(), f"{key}: {got!r} != {want!r}"


# --------------------------------------------------------------------------------------------
# the hand-computed case

AS_OF = D(2024, 3, 15)  # month: 2024-03-01..15; previous: Feb 2024; last year: Mar 2023

HAND_ROWS: list[tuple] = [
    # customer 1: four purchase days, two orders on one day, a refund, margins, a late order
    (1, D(2023, 3, 5), 100.0, 60.0, None),     # margin from cost: 40; same month last year
    (1, D(2024, 2, 10), 50.0, 45.0, 20.0),     # margin known wins over cost: 20
    (1, D(2024, 2, 10), 30.0, None, None),     # same day: one purchase day of 80
    (1, D(2024, 3, 1), 40.0, 10.0, None),      # 上旬; margin 30
    (1, D(2024, 3, 12), 25.0, None, None),     # 中旬
    (1, D(2024, 3, 13), -15.0, None, -5.0),    # refund: not a visit, nets value and margin
    (1, D(2024, 3, 20), 999.0, 1.0, None),     # after as_of: ignored
    # customer 2: only a refund -> no row
    (2, D(2024, 3, 2), -10.0, None, None),
    # customer 3: one purchase exactly 30 days before as_of -> outside (as_of - 30, as_of]
    (3, D(2024, 2, 14), 70.0, None, None),
    # customer 4: refund before the first purchase, first purchase 29 days before as_of,
    # a purchase and a refund on as_of itself, no cost or margin anywhere
    (4, D(2024, 1, 5), -3.0, None, None),
    (4, D(2024, 2, 15), 10.0, None, None),
    (4, D(2024, 3, 15), 20.0, None, None),
    (4, D(2024, 3, 15), -5.0, None, None),
    # customer 5: only orders after as_of -> no row
    (5, D(2024, 4, 1), 10.0, None, None),
    # customer 6: an even number of gaps (median between the middle two), a free purchase
    (6, D(2024, 1, 1), 12.0, None, None),
    (6, D(2024, 1, 2), 0.0, None, None),
    (6, D(2024, 1, 5), 8.0, None, None),
    (6, D(2024, 1, 15), 4.0, None, None),
    (6, D(2024, 1, 16), 6.0, None, None),
]


def _days(a: dt.date, b: dt.date) -> int:
    return (a - b).days


HAND_EXPECTED: dict[int, dict[str, Any]] = {
    1: dict(
        first_purchase=D(2023, 3, 5), last_purchase=D(2024, 3, 12), frequency=3,
        recency=_days(D(2024, 3, 12), D(2023, 3, 5)), T=_days(AS_OF, D(2023, 3, 5)),
        n_orders=5, total_amount=230.0, mean_amount=49.0, monetary_value=(80 + 40 + 25) / 3,
        refund_count=1, refund_amount=15.0, margin_total=85.0, days_since_last=3,
        visits_30d=2, visits_b1=1, visits_b2=1, visits_b3=0, spend_b1=40.0, spend_b2=25.0,
        spend_b3=None, value_period=50.0, value_prev_period=80.0, value_same_period_ly=100.0,
        gap_mean=_days(D(2024, 3, 12), D(2023, 3, 5)) / 3,
        gap_median=float(_days(D(2024, 3, 1), D(2024, 2, 10))),  # gaps 342, 20, 11
        litt=math.log(342) + math.log(20) + math.log(11), gap_last=11.0, gap_prev=20.0,
    ),
    3: dict(
        first_purchase=D(2024, 2, 14), last_purchase=D(2024, 2, 14), frequency=0, recency=0,
        T=30, n_orders=1, total_amount=70.0, mean_amount=70.0, monetary_value=0.0,
        refund_count=0, refund_amount=0.0, margin_total=None, days_since_last=30,
        visits_30d=0, visits_b1=0, visits_b2=0, visits_b3=0, spend_b1=None, spend_b2=None,
        spend_b3=None, value_period=0.0, value_prev_period=70.0, value_same_period_ly=0.0,
        gap_mean=None, gap_median=None, litt=0.0, gap_last=None, gap_prev=None,
    ),
    4: dict(
        first_purchase=D(2024, 2, 15), last_purchase=D(2024, 3, 15), frequency=1, recency=29,
        T=29, n_orders=2, total_amount=22.0, mean_amount=15.0, monetary_value=20.0,
        refund_count=2, refund_amount=8.0, margin_total=None, days_since_last=0,
        visits_30d=2, visits_b1=0, visits_b2=1, visits_b3=0, spend_b1=None, spend_b2=20.0,
        spend_b3=None, value_period=15.0, value_prev_period=10.0, value_same_period_ly=0.0,
        gap_mean=29.0, gap_median=29.0, litt=math.log(29), gap_last=29.0, gap_prev=None,
    ),
    2: dict(  # only a refund: kept, with its negative value and no purchase
        first_purchase=None, last_purchase=None, frequency=0, recency=0,
        T=_days(AS_OF, D(2024, 3, 2)), n_orders=0, total_amount=-10.0, mean_amount=None,
        monetary_value=0.0, refund_count=1, refund_amount=10.0, margin_total=None,
        days_since_last=None, visits_30d=0, visits_b1=0, visits_b2=0, visits_b3=0,
        spend_b1=None, spend_b2=None, spend_b3=None, value_period=-10.0,
        value_prev_period=0.0, value_same_period_ly=0.0, gap_mean=None, gap_median=None,
    ),
    6: dict(
        first_purchase=D(2024, 1, 1), last_purchase=D(2024, 1, 16), frequency=4, recency=15,
        T=_days(AS_OF, D(2024, 1, 1)), n_orders=5, total_amount=30.0, mean_amount=6.0,
        monetary_value=(0 + 8 + 4 + 6) / 4, refund_count=0, refund_amount=0.0,
        margin_total=None, days_since_last=_days(AS_OF, D(2024, 1, 16)), visits_30d=0,
        visits_b1=0, visits_b2=0, visits_b3=0, value_period=0.0, value_prev_period=0.0,
        value_same_period_ly=0.0, gap_mean=15 / 4, gap_median=2.0,  # gaps 1, 3, 10, 1
        litt=math.log(3) + math.log(10), gap_last=1.0, gap_prev=10.0,
    ),
}


@pytest.fixture(scope="module")
def hand_store():
    con = make_store(HAND_ROWS)
    yield con
    con.close()


@pytest.mark.parametrize("path", ["bound", "portable"])
def test_hand_case_every_column(hand_store, path):
    frame = (duckdb_features(hand_store, AS_OF) if path == "bound"
             else portable_features(hand_store, AS_OF))
    assert list(frame.columns) == list(FEATURE_COLUMNS)
    rows = by_customer(frame)
    assert sorted(rows) == [1, 2, 3, 4, 6]  # 2: only refunds; 5: only orders after as_of
    for key, expected in HAND_EXPECTED.items():
        assert_row(rows[key], **expected)


def test_feature_types(hand_store):
    engine = DuckDBEngine(hand_store)
    schema = feature_expr(engine.orders(), AS_OF).schema()
    assert tuple(schema.names) == FEATURE_COLUMNS
    ints = {"customer_key", "frequency", "recency", "T", "n_orders", "refund_count",
            "days_since_last", "visits_30d", "visits_b1", "visits_b2", "visits_b3"}
    for name, dtype in schema.items():
        if name in ints:
            assert dtype.is_int64(), name
        elif name in ("first_purchase", "last_purchase"):
            assert dtype.is_date(), name
        else:
            assert dtype.is_float64(), name


def test_quarter_periods():
    as_of = D(2024, 5, 15)  # Q2 2024 to date; previous Q1 2024; last year Q2 2023 (whole)
    con = make_store([
        (1, D(2023, 3, 31), 1.0, None, None),     # Q1 2023: none of the three
        (1, D(2023, 4, 1), 2.0, None, None),      # last year
        (1, D(2023, 6, 30), 4.0, None, None),     # last year (whole quarter)
        (1, D(2023, 7, 1), 8.0, None, None),      # Q3 2023: none
        (1, D(2024, 1, 1), 16.0, None, None),     # previous
        (1, D(2024, 3, 31), 32.0, None, None),    # previous
        (1, D(2024, 3, 31), -2.0, None, None),    # previous, refund netted
        (1, D(2024, 4, 1), 64.0, None, None),     # current
        (1, D(2024, 5, 15), 128.0, None, None),   # current (as_of)
        (1, D(2024, 5, 16), 256.0, None, None),   # after as_of: ignored
    ])
    for path in (duckdb_features, portable_features):
        row = by_customer(path(con, as_of, "quarter"))[1]
        assert_row(row, value_period=192.0, value_prev_period=46.0, value_same_period_ly=6.0,
                   visits_b1=0, visits_b2=1, visits_b3=0, spend_b2=128.0, n_orders=8,
                   total_amount=253.0)
        month = by_customer(path(con, as_of, "month"))[1]
        assert_row(month, value_period=128.0, value_prev_period=64.0,
                   value_same_period_ly=0.0)


def test_buckets_on_the_last_day_of_a_leap_february():
    as_of = D(2024, 2, 29)
    con = make_store([
        (9, D(2024, 1, 31), 1.0, None, None),    # previous month, yet within the last 30 days
        (9, D(2024, 2, 10), 10.0, None, None),   # 上旬 (day 10)
        (9, D(2024, 2, 11), 20.0, None, None),   # 中旬 (day 11)
        (9, D(2024, 2, 20), 40.0, None, None),   # 中旬 (day 20)
        (9, D(2024, 2, 21), 5.0, None, None),    # 下旬 (day 21)
        (9, D(2024, 2, 29), 5.0, None, None),    # 下旬, two orders on one day
        (9, D(2024, 2, 29), 7.0, None, None),
        (9, D(2024, 2, 29), -6.0, None, None),   # a refund: not in spend, nets value
    ])
    for path in (duckdb_features, portable_features):
        row = by_customer(path(con, as_of))[9]
        assert_row(row, visits_b1=1, visits_b2=2, visits_b3=2, spend_b1=10.0, spend_b2=30.0,
                   spend_b3=8.5, visits_30d=6, value_period=81.0, value_prev_period=1.0,
                   n_orders=7, frequency=5)


def test_orders_after_as_of_change_nothing(hand_store):
    before = duckdb_features(hand_store, AS_OF)
    rows = [r for r in HAND_ROWS if r[1] <= AS_OF]
    assert_same_features(duckdb_features(make_store(rows), AS_OF), before)


def test_rfm_expr_matches_feature_expr(hand_store):
    engine = DuckDBEngine(hand_store)
    rfm = engine.to_pandas(rfm_expr(engine.orders(), AS_OF))
    assert list(rfm.columns) == list(RFM_COLUMNS)
    full = duckdb_features(hand_store, AS_OF)
    full = full[full["n_orders"] > 0][list(RFM_COLUMNS)]  # rfm_expr: buyers only
    assert_same_features(rfm, full)
    assert_same_features(portable_features(hand_store, AS_OF, rfm=True), full)


def test_rfm_monetary_value_with_a_dominant_first_day():
    """rfm_expr's one-pass formula (total - first day) stays within 1e-9 of the direct mean
    while the first day outweighs the repeat days 10,000-fold (see rfm_expr's Notes)."""
    rows = [(1, D(2024, 1, 1), 123456.78, None, None)]
    rows += [(1, D(2024, 1, 2 + i), 0.01 * (i + 1) + 0.003, None, None) for i in range(5)]
    con = make_store(rows)
    want = sum(0.01 * (i + 1) + 0.003 for i in range(5)) / 5
    engine = DuckDBEngine(con)
    for frame in (engine.to_pandas(rfm_expr(engine.orders(), AS_OF)),
                  portable_features(con, AS_OF, rfm=True), duckdb_features(con, AS_OF)):
        assert frame["monetary_value"].iloc[0] == pytest.approx(want, rel=1e-9, abs=0)


def test_contract_errors(hand_store):
    engine = DuckDBEngine(hand_store)
    orders = engine.orders()
    with pytest.raises(DataContractError, match="lacks column.*is_refund"):
        feature_expr(orders.drop("is_refund"), AS_OF)
    with pytest.raises(DataContractError, match="not a date"):
        rfm_expr(orders.mutate(ordered_at=orders.ordered_at.cast("timestamp")), AS_OF)
    with pytest.raises(TypeError, match="datetime.date"):
        rfm_expr(orders, "2024-03-15")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="period"):
        feature_expr(orders, AS_OF, period="week")  # type: ignore[arg-type]


def test_only_refunds_give_a_negative_row_but_no_rfm_row():
    con = make_store([(1, D(2024, 1, 1), -5.0, None, None)])
    rows = duckdb_features(con, AS_OF)
    assert rows["total_amount"].tolist() == [-5.0] and rows["n_orders"].tolist() == [0]
    assert len(portable_features(con, AS_OF, rfm=True)) == 0


# --------------------------------------------------------------------------------------------
# lifetimes on CDNOW

CDNOW_DATES = [D(1998, 6, 30), D(1997, 9, 30)]


@pytest.fixture(scope="module")
def cdnow():
    con = cdnow_store()
    yield con
    con.close()


@pytest.mark.parametrize("as_of", CDNOW_DATES, ids=str)
def test_rfm_matches_lifetimes_on_cdnow(cdnow, as_of):
    engine = DuckDBEngine(cdnow)
    expected = lifetimes_summary(as_of)
    assert_matches_lifetimes(engine.to_pandas(rfm_expr(engine.orders(), as_of)), expected)
    assert_matches_lifetimes(duckdb_features(cdnow, as_of), expected)
    assert_matches_lifetimes(portable_features(cdnow, as_of, rfm=True), expected)


def test_cdnow_other_columns_against_pandas(cdnow):
    """The non-RFM columns on real data, against a direct pandas computation."""
    as_of = D(1997, 9, 30)
    tx = cdnow_transactions()
    tx = tx[tx["date"] <= pd.Timestamp(as_of)]
    days = tx.groupby(["customer_id", "date"])["dollar_value"].sum().reset_index()
    gaps = days.groupby("customer_id")["date"].diff().dt.days
    want = pd.DataFrame({
        "n_orders": tx.groupby("customer_id").size(),
        "total_amount": tx.groupby("customer_id")["dollar_value"].sum(),
        "gap_median": gaps.groupby(days["customer_id"]).median(),
        "litt": np.log(gaps).groupby(days["customer_id"]).sum(),
        "gap_last": gaps.groupby(days["customer_id"]).nth(-1).set_axis(
            days.loc[gaps.groupby(days["customer_id"]).nth(-1).index, "customer_id"]),
        "gap_prev": gaps.groupby(days["customer_id"]).nth(-2).set_axis(
            days.loc[gaps.groupby(days["customer_id"]).nth(-2).index, "customer_id"]),
        "visits_30d": days[days["date"] > pd.Timestamp(as_of - dt.timedelta(days=30))]
        .groupby("customer_id").size(),
        "value_period": tx[tx["date"] >= pd.Timestamp(1997, 9, 1)]
        .groupby("customer_id")["dollar_value"].sum(),
        "value_prev_period": tx[(tx["date"] >= pd.Timestamp(1997, 8, 1))
                                & (tx["date"] <= pd.Timestamp(1997, 8, 31))]
        .groupby("customer_id")["dollar_value"].sum(),
    })
    want[["visits_30d", "value_period", "value_prev_period"]] = (
        want[["visits_30d", "value_period", "value_prev_period"]].fillna(0))
    for frame in (duckdb_features(cdnow, as_of), portable_features(cdnow, as_of)):
        got = frame.set_index("customer_key").sort_index()[list(want.columns)]
        pd.testing.assert_frame_equal(got.astype("float64"), want.sort_index().astype("float64"),
                                      check_names=False, rtol=1e-9)

"""Purchase-day totals (issue 16 item 3): the ``purchase_days`` table stays in step with the orders
after every store write, migration 0120 builds it for existing stores, and the features read
from it equal those read from the orders (on the demos, CDNOW and random order sets).

The reference the table is checked against is computed here in pandas from the stored orders,
not by the SQL that writes the table.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwise.engine import DuckDBEngine
from tierwise.features import feature_expr, rfm_expr
from tierwise.store import MIGRATIONS, Store
from tierwise.store import purchase_days as pdays

D = dt.date
DAY_COLUMNS = ["customer_key", "ordered_at", "n_orders", "amount", "margin", "n_refunds",
               "refund_amount", "refund_margin", "gap"]


# --------------------------------------------------------------------------------------------
# helpers


def expected_days(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The purchase-day totals of the stored orders, computed in pandas."""
    o = con.execute("SELECT customer_key, ordered_at, amount, cost, margin, is_refund "
                    "FROM orders").df()
    o["ordered_at"] = pd.to_datetime(o["ordered_at"])
    o["line_margin"] = o["margin"].fillna(o["amount"] - o["cost"])
    rows = []
    for (key, day), g in o.groupby(["customer_key", "ordered_at"]):
        p, r = g[~g["is_refund"]], g[g["is_refund"]]
        rows.append({
            "customer_key": key, "ordered_at": day,
            "n_orders": len(p), "amount": p["amount"].sum(),
            "margin": p["line_margin"].sum() if p["line_margin"].notna().any() else np.nan,
            "n_refunds": len(r), "refund_amount": r["amount"].sum(),
            "refund_margin": r["line_margin"].sum() if r["line_margin"].notna().any() else np.nan,
        })
    days = pd.DataFrame(rows, columns=DAY_COLUMNS[:-1])
    days = days.sort_values(["customer_key", "ordered_at"]).reset_index(drop=True)
    gaps = pd.Series(np.nan, index=days.index)
    buying = days[days["n_orders"] > 0]
    gaps[buying.index] = buying.groupby("customer_key")["ordered_at"].diff().dt.days
    days["gap"] = gaps
    return days


def stored_days(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    days = con.execute(f"SELECT {', '.join(DAY_COLUMNS)} FROM purchase_days "
                       "ORDER BY customer_key, ordered_at").df()
    days["ordered_at"] = pd.to_datetime(days["ordered_at"])
    days["gap"] = days["gap"].astype("float64")  # NULL -> NaN, as in expected_days
    return days


def assert_in_step(con: duckdb.DuckDBPyConnection) -> None:
    expected, stored = expected_days(con), stored_days(con)
    assert len(stored) == len(expected)
    for column in DAY_COLUMNS:
        a, b = stored[column], expected[column]
        if column in ("amount", "margin", "refund_amount", "refund_margin"):
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=1e-12, atol=1e-9,
                                       err_msg=column)
        else:
            assert a.equals(b.astype(a.dtype)), column
    assert pdays.in_step(con)


def assert_same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same customers and values: integers and dates exactly, floats to 1e-12 relative."""
    a = a.sort_values("customer_key").reset_index(drop=True)
    b = b.sort_values("customer_key").reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for column in a.columns:
        if pd.api.types.is_float_dtype(a[column]):
            np.testing.assert_allclose(a[column], b[column], rtol=1e-12, atol=1e-9,
                                       err_msg=column)
        else:
            assert a[column].equals(b[column]), column


def assert_engine_reads_days_alike(con: duckdb.DuckDBPyConnection, as_ofs: list[dt.date],
                                   *, features: bool = True) -> None:
    """The engine reads ``purchase_days``; its RFM summary and features equal those read from
    the orders at each as-of date."""
    with DuckDBEngine(con) as engine:
        assert engine.purchase_days() is not None
        for as_of in as_ofs:
            assert_same_frames(engine.to_pandas(engine.rfm(as_of)),
                               engine.to_pandas(rfm_expr(engine.orders(), as_of)))
            if features:
                assert_same_frames(engine.to_pandas(engine.features(as_of)),
                                   engine.to_pandas(feature_expr(engine.orders(), as_of)))


def orders_frame(rows: list[tuple], **extra: list) -> pd.DataFrame:
    """``(order_id, customer_id, day, amount, is_refund)`` rows as intake hands them over."""
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "amount",
                                        "is_refund"])
    for name, values in extra.items():
        frame[name] = values
    return frame


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "tierwise.duckdb") as s:
        s.upsert_customers(pd.DataFrame({"customer_id": ["a", "b", "c"]}), source="m.csv")
        yield s


# --------------------------------------------------------------------------------------------
# every write path


def test_ingest_writes_the_days_with_the_orders(store):
    store.upsert_orders(orders_frame([
        ("1", "a", D(2024, 1, 1), 10.0, False), ("2", "a", D(2024, 1, 1), 5.0, False),
        ("3", "a", D(2024, 1, 4), -3.0, True), ("4", "b", D(2024, 1, 2), 7.5, False),
        ("5", "a", D(2024, 1, 9), 2.0, False)], cost=[6.0, None, None, 1.0, None],
        margin=[None, None, -1.0, None, None]), source="o.csv")
    days = stored_days(store.con)
    a = days[days.customer_key == 1].to_dict("records")
    assert [(r["n_orders"], r["amount"], r["n_refunds"], r["refund_amount"]) for r in a] == [
        (2, 15.0, 0, 0.0), (0, 0.0, 1, -3.0), (1, 2.0, 0, 0.0)]
    # margins: 10 - 6 (the other purchase knows neither) ; the refund's own margin
    assert a[0]["margin"] == 4.0 and a[1]["refund_margin"] == -1.0 and np.isnan(a[2]["margin"])
    # gaps between purchase days only (the refund-only day is no purchase occasion)
    assert np.isnan(a[0]["gap"]) and np.isnan(a[1]["gap"]) and a[2]["gap"] == 8
    assert_in_step(store.con)


def test_replacing_orders_moves_their_days(store):
    store.upsert_orders(orders_frame([
        ("1", "a", D(2024, 1, 1), 10.0, False), ("2", "a", D(2024, 1, 3), 5.0, False),
        ("3", "b", D(2024, 1, 3), 4.0, False)]), source="o.csv")
    # order 1 moves to customer b and another day, order 2 becomes a refund, order 3 grows
    store.upsert_orders(orders_frame([
        ("1", "b", D(2024, 1, 5), 10.0, False), ("2", "a", D(2024, 1, 3), -5.0, True),
        ("3", "b", D(2024, 1, 3), 40.0, False)]), source="o2.csv")
    assert_in_step(store.con)
    days = stored_days(store.con)
    assert days[days.customer_key == 1]["n_orders"].tolist() == [0]  # a: the refund only
    assert days[days.customer_key == 2]["gap"].tolist()[1] == 2      # b: 3rd then 5th


def test_order_lines_are_summed_per_order_then_per_day(store):
    lines = orders_frame([
        ("A1", "a", D(2024, 2, 1), 3.0, False), ("A1", "a", D(2024, 2, 1), 4.0, False),
        ("A2", "a", D(2024, 2, 1), 5.0, False), ("CA1", "a", D(2024, 2, 2), -3.0, True),
        ("B1", "b", D(2024, 2, 1), 2.0, False)],
        product_id=["p1", "p2", "p3", "p1", "p1"], quantity=[1.0, 2.0, 1.0, -1.0, 1.0],
        unit_price=[3.0, 2.0, 5.0, 3.0, 2.0])
    counts = store.upsert_orders(lines, source="lines.csv")
    assert counts["lines"] == 5
    days = stored_days(store.con)
    assert days[days.customer_key == 1][["n_orders", "amount", "n_refunds"]].values.tolist() == [
        [2, 12.0, 0], [0, 0.0, 1]]
    assert_in_step(store.con)


def test_batched_ingest_keeps_the_days(store):
    store.upsert_orders(orders_frame([("1", "a", D(2024, 1, 1), 10.0, False)]), source="x.csv")
    with store.transaction(), store.incoming_orders(source="big.csv") as incoming:
        incoming.add(orders_frame([("1", "c", D(2024, 1, 2), 1.0, False),
                                   ("2", "a", D(2024, 1, 3), 2.0, False)]))
        incoming.add(orders_frame([("3", "b", D(2024, 1, 3), 3.0, False)]))
        incoming.write()
    assert_in_step(store.con)
    assert set(stored_days(store.con)["customer_key"]) == {1, 2, 3}


def test_legacy_ids_dropped_take_their_days(store):
    # an older release's ids for orders without one: <file stem>:<line>
    store.upsert_orders(orders_frame([("visits:2", "a", D(2024, 1, 1), 10.0, False),
                                      ("visits:3", "b", D(2024, 1, 7), 5.0, False)]),
                        source="visits.csv")
    counts = store.upsert_orders(orders_frame([("~h1", "a", D(2024, 1, 2), 10.0, False)]),
                                 source="visits.csv")
    assert counts["legacy_replaced"] == 2
    assert_in_step(store.con)
    assert stored_days(store.con)["customer_key"].tolist() == [1]  # b's day went with its order


def test_a_failed_ingest_leaves_orders_and_days_as_they_were(store):
    store.upsert_orders(orders_frame([("1", "a", D(2024, 1, 1), 10.0, False)]), source="x.csv")
    before = stored_days(store.con)
    with pytest.raises(RuntimeError), store.transaction():
        store.upsert_orders(orders_frame([("1", "b", D(2024, 1, 9), 99.0, False)]),
                            source="x.csv")
        raise RuntimeError("a later input fails")
    pd.testing.assert_frame_equal(stored_days(store.con), before)
    assert_in_step(store.con)


def test_orders_written_past_the_store_make_the_engine_read_the_orders(store):
    store.upsert_orders(orders_frame([("1", "a", D(2024, 1, 1), 10.0, False),
                                      ("2", "a", D(2024, 1, 5), 4.0, False)]), source="x.csv")
    store.con.execute("INSERT INTO orders (order_id, customer_key, ordered_at, amount, "
                      "is_refund) VALUES ('raw', 1, DATE '2024-01-09', 6.0, false)")
    assert not pdays.in_step(store.con)
    with DuckDBEngine(store.con) as engine:
        assert engine.purchase_days() is None
        rfm = engine.to_pandas(engine.rfm(D(2024, 1, 31)))
    assert rfm[["frequency", "monetary_value"]].values.tolist() == [[2, 5.0]]
    pdays.rebuild(store.con)
    assert_in_step(store.con)


def test_an_engine_over_a_bare_orders_table_reads_the_orders():
    con = duckdb.connect()
    con.execute("CREATE TABLE orders AS SELECT 1::BIGINT AS customer_key, DATE '2024-01-05' AS "
                "ordered_at, 20.0 AS amount, NULL::DOUBLE AS cost, NULL::DOUBLE AS margin, "
                "false AS is_refund")
    with DuckDBEngine(con) as engine:
        assert engine.purchase_days() is None
        assert engine.to_pandas(engine.rfm(D(2024, 1, 31)))["T"].tolist() == [26]


# --------------------------------------------------------------------------------------------
# migration 0120 on a store written before it


def test_migration_builds_the_days_of_an_existing_store(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (name VARCHAR PRIMARY KEY, "
                "applied_at TIMESTAMP NOT NULL)")
    before = [m for m in MIGRATIONS if m[0] < "0120"]
    assert len(before) == len(MIGRATIONS) - 1 and MIGRATIONS[-1][0] == "0120_purchase_days"
    for name, step in before:
        step(con) if callable(step) else con.execute(step)
        con.execute("INSERT INTO schema_migrations VALUES (?, now())", [name])
    con.execute("INSERT INTO customers (customer_key, customer_id) VALUES (1, 'a'), (2, 'b')")
    con.execute("""INSERT INTO orders (order_id, customer_key, ordered_at, amount, cost, margin,
                                       is_refund) VALUES
        ('1', 1, DATE '2024-01-01', 10, 4, NULL, false), ('2', 1, DATE '2024-01-01', 5, NULL,
        NULL, false), ('3', 1, DATE '2024-01-06', -2, NULL, NULL, true),
        ('4', 2, DATE '2024-01-03', 8, NULL, 3, false), ('5', 1, DATE '2024-01-10', 1, NULL,
        NULL, false)""")
    con.close()
    with Store(path) as store:
        assert "0120_purchase_days" in store.applied_migrations()
        assert_in_step(store.con)
        assert len(stored_days(store.con)) == 4


# --------------------------------------------------------------------------------------------
# the same features from the days as from the orders


@pytest.fixture(scope="module")
def restaurant_store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("restaurant")
    for name in ("members.csv", "visits.csv"):
        shutil.copy(ROOT / "examples" / "restaurant" / name, folder / name)
    (folder / "tierwise.toml").write_text(
        '[sources.orders]\npath = "visits.csv"\n[sources.customers]\npath = "members.csv"\n',
        encoding="utf-8")
    result = run_cli("ingest", cwd=folder)
    assert result.code == 0, result.stderr
    return folder / "tierwise.duckdb"


def test_restaurant_demo_features_from_days_equal_those_from_orders(restaurant_store):
    with Store(restaurant_store) as store:
        assert_in_step(store.con)
        last = store.last_order_date()
        assert_engine_reads_days_alike(
            store.con, [last, D(2026, 9, 30), D(2026, 2, 14), D(2025, 12, 31)])
        n_days, n_orders = store.con.execute(
            "SELECT count(*), sum(n_orders + n_refunds) FROM purchase_days").fetchall()[0]
        assert n_days < n_orders


def test_retail_lines_demo_features_from_days_equal_those_from_orders(tmp_path):
    from tierwise.demo.retail_lines import generate_retail_lines

    generate_retail_lines(tmp_path, customers=120, days=200, seed=11)
    assert run_cli("init", "--from", "online_retail.csv", cwd=tmp_path).code == 0
    result = run_cli("ingest", cwd=tmp_path)
    assert result.code == 0, result.stderr
    with Store(tmp_path / "tierwise.duckdb") as store:
        assert_in_step(store.con)
        last = store.last_order_date()
        assert_engine_reads_days_alike(store.con, [last, last - dt.timedelta(days=45)])


def test_b2b_demo_and_a_full_run_read_the_days(tmp_path):
    folder = tmp_path
    for name in ("accounts.csv", "orders.xlsx"):
        shutil.copy(ROOT / "examples" / "b2b" / name, folder / name)
    init = run_cli("init", "--from", "orders.xlsx", cwd=folder)
    assert init.code == 0, init.stdout + init.stderr
    assert run_cli("ingest", cwd=folder).code == 0
    with Store(folder / "tierwise.duckdb") as store:
        assert_in_step(store.con)
        last = store.last_order_date()
        assert_engine_reads_days_alike(store.con, [last, D(2025, 6, 30)])


def test_seeded_cdnow_rfm_from_days_equals_lifetimes(tmp_path):
    """CDNOW (the seeded data the RFM summary is checked on against lifetimes) through the
    store: the days' RFM summary equals the orders' and lifetimes' own."""
    from test_features_behaviour import (
        assert_matches_lifetimes,
        cdnow_transactions,
        lifetimes_summary,
    )

    tx = cdnow_transactions()
    frame = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(len(tx))],
        "customer_id": tx["customer_id"].astype(str), "ordered_at": tx["date"].dt.date,
        "amount": tx["dollar_value"], "is_refund": False})
    with Store(tmp_path / "cdnow.duckdb") as store:
        store.upsert_customers(pd.DataFrame({"customer_id": frame["customer_id"].unique()}),
                               source="cdnow")
        store.upsert_orders(frame, source="cdnow")
        assert_in_step(store.con)
        assert_engine_reads_days_alike(store.con, [D(1998, 6, 30), D(1997, 9, 30)])
        keys = store.con.execute("SELECT customer_key, customer_id FROM customers").df()
        with DuckDBEngine(store.con) as engine:
            rfm = engine.to_pandas(engine.rfm(D(1998, 6, 30)))
    rfm = rfm.merge(keys, on="customer_key")
    rfm["customer_key"] = rfm.pop("customer_id").astype("int64")
    assert_matches_lifetimes(rfm, lifetimes_summary(D(1998, 6, 30)))


# --------------------------------------------------------------------------------------------
# property: random order sets, re-ingested, replaced and moved, in one or several batches

_ORDER = st.tuples(
    st.sampled_from([f"o{i}" for i in range(12)]),          # few ids: replacements happen
    st.sampled_from(["a", "b", "c", "d"]),
    st.integers(0, 20),                                     # day offset
    st.one_of(st.floats(0.01, 500, allow_nan=False).map(lambda x: round(x, 2)),
              st.floats(-200, -0.01).map(lambda x: round(x, 2))),
    st.booleans(),                                          # flagged a refund
    st.one_of(st.none(), st.floats(0, 300).map(lambda x: round(x, 2))),   # cost
    st.one_of(st.none(), st.floats(-50, 100).map(lambda x: round(x, 2))),  # margin
)
_WRITE = st.tuples(st.lists(_ORDER, min_size=1, max_size=15), st.booleans(),
                   st.sampled_from(["one", "batched", "lines"]), st.sampled_from(["s1", "s2"]))


def _write(store: Store, rows: list[tuple], legacy_source: bool, how: str, source: str) -> None:
    frame = pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "amount",
                                        "is_refund", "cost", "margin"])
    frame["ordered_at"] = [D(2024, 3, 1) + dt.timedelta(days=d) for d in frame["ordered_at"]]
    frame["is_refund"] = frame["is_refund"] & (frame["amount"] < 0) | (frame["amount"] < 0)
    if legacy_source:  # ids as the older release derived them; a later content id drops them
        frame["order_id"] = [f"{source}:{i + 2}" if i % 2 else f"~{oid}"
                             for i, oid in enumerate(frame["order_id"])]
    name = f"{source}.csv"
    with store.transaction():
        if how == "one":
            frame = frame.drop_duplicates("order_id", keep="last")
            store.upsert_orders(frame, source=name)
        elif how == "batched":
            frame = frame.drop_duplicates("order_id", keep="last")
            with store.incoming_orders(source=name) as incoming:
                half = (len(frame) + 1) // 2  # two batches (np.array_split gives arrays now)
                for part in (frame.iloc[:half], frame.iloc[half:]):
                    if len(part):
                        incoming.add(part)
                incoming.write()
        else:  # order lines: rows sharing an id are one order's lines
            frame["product_id"] = [f"p{i % 3}" for i in range(len(frame))]
            frame["quantity"] = np.where(frame["amount"] < 0, -1.0, 1.0)
            frame["unit_price"] = frame["amount"].abs()
            store.upsert_orders(frame, source=name)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(writes=st.lists(_WRITE, min_size=1, max_size=4), as_of_offset=st.integers(-1, 21))
def test_days_stay_in_step_through_any_sequence_of_writes(writes, as_of_offset):
    with tempfile.TemporaryDirectory() as folder:
        with Store(Path(folder) / "t.duckdb") as store:
            store.upsert_customers(pd.DataFrame({"customer_id": list("abcd")}), source="m")
            for rows, legacy, how, source in writes:
                _write(store, rows, legacy, how, source)
                assert_in_step(store.con)
            as_of = D(2024, 3, 1) + dt.timedelta(days=as_of_offset)
            assert_engine_reads_days_alike(store.con, [as_of], features=as_of_offset % 3 == 0)



@pytest.mark.parametrize("slice_customers", [1, 2, 3, 1_000])
def test_days_summed_a_slice_of_customers_at_a_time_are_those_summed_at_once(tmp_path,
                                                                             slice_customers):
    """A large refresh sums its customers a slice at a time (bounded memory): the same table."""
    rng = np.random.default_rng(11)
    n = 400
    frame = orders_frame([(str(i), f"c{rng.integers(0, 7)}",
                           D(2024, 1, 1) + dt.timedelta(days=int(rng.integers(0, 40))),
                           float(rng.integers(-20, 90)), False) for i in range(n)])
    frame["is_refund"] = frame["amount"] < 0
    with Store(tmp_path / "s.duckdb") as store:
        store.upsert_customers(pd.DataFrame({"customer_id": [f"c{i}" for i in range(7)]}),
                               source="m.csv")
        store.upsert_orders(frame, source="o.csv")
        con = store.con
        pdays.mark_orders(con, "SELECT DISTINCT customer_key FROM orders")
        con.execute(f"DELETE FROM {pdays.TABLE}")
        assert pdays.refresh(con, slice_customers=slice_customers) == 7
        assert_in_step(con)
        assert_same_frames(stored_days(con), expected_days(con))

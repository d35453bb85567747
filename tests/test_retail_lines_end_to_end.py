"""An Online Retail-style line export through the real CLI, and properties of line intake.

The export comes from :mod:`tierwise.demo.retail_lines` (invoices of several lines, US dates,
``C`` cancellations mirroring earlier lines, guest invoices without a customer id, a few lines
exported twice); its manifest holds the figures computed from the generated values.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwise.config import IntakeConfig, SourceConfig
from tierwise.demo.retail_lines import generate_retail_lines
from tierwise.io import read_rejects, read_source, reconcile_customers
from tierwise.config import load_config
from tierwise.store import Store

CONFIG = """
name = "Online retail"
[sources.orders]
path = "{path}"
[sources.orders.columns]
order_id = "InvoiceNo"
customer_id = "CustomerID"
ordered_at = "InvoiceDate"
quantity = "Quantity"
unit_price = "UnitPrice"
product_id = "StockCode"
product_name = "Description"
[intake]
date_format = "%m/%d/%Y %H:%M"
"""


@pytest.fixture(scope="module")
def retail(tmp_path_factory) -> tuple[Path, dict]:
    """A generated export and the config `tierwise init --from` writes for it, unedited."""
    from conftest import run_cli

    folder = tmp_path_factory.mktemp("retail")
    manifest = generate_retail_lines(folder, customers=250, days=240, seed=7)
    init = run_cli("init", "--from", "online_retail.csv", cwd=folder)
    assert init.code == 0, init.stdout + init.stderr
    assert "order lines" in init.stdout
    return folder, manifest


@pytest.fixture(scope="module")
def ingested(retail, tmp_path_factory):
    from conftest import run_cli

    folder, manifest = retail
    result = run_cli("ingest", "--json", cwd=folder)
    assert result.code == 0, result.stderr
    run = run_cli("run", "--json", cwd=folder)  # the default as-of: the data's last day
    assert run.code == 0, run.stderr
    return result.json()[0], run.json()


def test_init_from_writes_what_a_hand_written_config_would(retail):
    folder, _ = retail
    config = load_config(folder / "tierwise.toml")
    by_hand = tomllib.loads(CONFIG.format(path="online_retail.csv"))
    assert config.intake.date_format == by_hand["intake"]["date_format"]
    assert config.intake.cancel_prefixes == ["C"]
    assert config.sources.orders.path == Path("online_retail.csv")


def test_generator_looks_like_online_retail(retail):
    folder, manifest = retail
    frame = pd.read_csv(folder / "online_retail.csv", dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["InvoiceNo", "StockCode", "Description", "Quantity",
                                   "InvoiceDate", "UnitPrice", "CustomerID", "Country"]
    assert 0.18 <= (frame["CustomerID"] == "").mean() <= 0.27
    cancels = frame[frame["InvoiceNo"].str.startswith("C")]
    assert len(cancels) and (cancels["Quantity"].astype(int) < 0).all()
    assert frame.groupby("InvoiceNo").size().median() > 3  # invoices of several lines
    sold = frame["StockCode"].value_counts()
    assert sold.iloc[:10].sum() > 5 * sold.iloc[-10:].sum()  # skewed popularity
    again = generate_retail_lines(folder / "again", customers=250, days=240, seed=7)
    assert (folder / "again" / "online_retail.csv").read_bytes() == \
        (folder / "online_retail.csv").read_bytes() and again == manifest


def test_revenue_occasions_and_rejects(retail, ingested):
    folder, manifest = retail
    report, run = ingested
    assert report["rows_in"] == manifest["lines"] == report["accepted"] + report["rejected"]
    assert run["revenue"] == pytest.approx(manifest["revenue"], abs=0.01)
    rejects = read_rejects(Path(report["rejects_file"]))
    assert (rejects["reason"] != "").all()
    expected = set(manifest["missing_customer_lines"]) | set(manifest["duplicate_lines"])
    assert set(rejects["line"].astype(int)) == expected
    dup = rejects[rejects["reason"].str.contains("duplicate")]
    assert set(dup["line"].astype(int)) <= set(manifest["duplicate_lines"]) | \
        set(manifest["duplicate_guest_lines"])
    missing = rejects[rejects["line"].astype(int).isin(manifest["missing_customer_lines"])]
    assert missing["reason"].str.contains("CustomerID").all()
    with Store(folder / "tierwise.duckdb", read_only=True) as store:
        snap = store.snapshot()
        purchases = store.con.execute(
            "SELECT count(*) FROM orders WHERE NOT is_refund").fetchall()[0][0]
        refunds = store.con.execute("SELECT count(*) FROM orders WHERE is_refund").fetchall()[0][0]
    assert purchases == manifest["purchase_invoices"] == snap["n_orders"].sum()
    assert refunds == manifest["cancellation_invoices"]
    totals = snap.set_index("customer_id")["total_amount"]
    want = pd.Series(manifest["customer_revenue"])
    pd.testing.assert_series_equal(totals.sort_index(), want.sort_index(), check_names=False,
                                   atol=1e-6)
    only = totals[manifest["cancel_only_customers"]]
    assert len(only) == 3 and (only < 0).all()


def test_cancellations_link_to_the_invoices_they_mirror(retail, ingested):
    folder, manifest = retail
    report, _ = ingested
    assert report["refunds"] == manifest["cancellation_invoices"]
    with Store(folder / "tierwise.duckdb", read_only=True) as store:
        links = dict(store.con.execute(
            "SELECT order_id, refund_of FROM orders WHERE is_refund").fetchall())
    planted = manifest["cancellation_links"]
    right = sum(links.get(c) == o for c, o in planted.items())
    assert right >= 0.9 * len(planted)
    unlinked = {c for c, o in links.items() if o is None}
    assert len(unlinked) == report["refunds_unlinked"] >= len(manifest["cancel_only_customers"])


def test_favourites_and_top_products(retail, ingested):
    folder, _ = retail
    with Store(folder / "tierwise.duckdb", read_only=True) as store:
        snap = store.snapshot()
        top = store.run_table("latest", "top_products")
        lines = store.con.execute(
            "SELECT c.customer_id, l.product_name, count(DISTINCT l.order_id) AS n "
            "FROM order_lines l JOIN customers c USING (customer_key) WHERE NOT l.is_refund "
            "GROUP BY ALL").df()
    buyers = snap[snap["n_orders"] > 0]
    assert buyers["favourite_products"].notna().all()
    # each customer's first favourite is one of their most often bought products
    best = lines.groupby("customer_id")["n"].transform("max") == lines["n"]
    most = lines[best].groupby("customer_id")["product_name"].agg(set)
    first = buyers.set_index("customer_id")["favourite_products"].str.split("; ").str[0]
    assert all(first[c] in most[c] for c in first.index)
    assert set(top["grouping"]) >= {"tier", "activity_state"}
    assert (top.groupby(["grouping", "group"]).size() <= 5).all()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_call_list_carries_each_customers_favourite_products(retail, ingested, lang):
    """What to ask about on the call (seed 000: 上次的南瓜盅您觉得怎么样): the report's call lists
    carry the snapshot's favourite products of each customer."""
    from tierwise.reports import build_report

    folder, _ = retail
    with Store(folder / "tierwise.duckdb", read_only=True) as store:
        report = build_report(store, lang=lang)
        favourites = store.snapshot().set_index("customer_id")["favourite_products"]
        hints = store.snapshot().set_index("customer_id")["cross_sell"]
    tables = report["call"].tables
    assert tables
    for table in tables:
        frame = table.frame
        assert frame["favourite_products"].tolist() == \
            favourites.loc[frame["customer_id"].astype(str)].tolist()
        assert frame["favourite_products"].notna().all()
        assert table.header("favourite_products") == ("常点 / 常买" if lang == "zh"
                                                      else "Favourite products")
        # what to offer: the tier's common products the customer never bought
        assert "cross_sell" in frame
        assert frame["cross_sell"].tolist() == \
            hints.loc[frame["customer_id"].astype(str)].tolist()
        assert table.header("cross_sell") == ("可推荐（同层级常买、本人未买过）" if lang == "zh"
                                              else "Cross-sell (tier buys, never bought)")


def test_cross_sell_hints_and_breadth_on_the_demo(retail, ingested):
    """Each hint is a product of the customer's tier they never bought, with its share of the
    tier's buyers; the breadth is the distinct products of the customer's purchase lines."""
    folder, _ = retail
    with Store(folder / "tierwise.duckdb", read_only=True) as store:
        snap = store.snapshot()
        as_of = store.con.execute("SELECT max(as_of) FROM runs").fetchone()[0]
        lines = store.con.execute(
            "SELECT c.customer_id, coalesce(l.product_name, l.product_id) AS product "
            "FROM order_lines l JOIN customers c USING (customer_key) "
            "WHERE NOT l.is_refund AND l.ordered_at <= ?", [as_of]).df()
    bought = lines.groupby("customer_id")["product"].agg(set)
    snap = snap.set_index("customer_id")
    breadth = snap["distinct_products"].dropna().astype(int)
    assert breadth.to_dict() == bought.map(len).to_dict()
    members = snap["tier"].dropna()
    members = members[members.index.isin(bought.index)]
    shares = {t: pd.Series([p for c in members.index[members == t] for p in bought[c]])
              .value_counts() / (members == t).sum() for t in members.unique()}
    with_hints = snap["cross_sell"].dropna()
    assert len(with_hints) >= 0.9 * len(members)
    for cid, text in with_hints.items():
        hints = [h.rsplit(" (", 1) for h in text.split("; ")]
        assert 1 <= len(hints) <= 3
        share = shares[members[cid]]
        for product, pct in hints:
            assert product not in bought[cid]
            assert int(pct.rstrip("%)")) == round(100 * share[product])
        # nothing the customer never bought is more common in the tier than the hints
        missed = share[~share.index.isin(bought[cid])]
        assert share[hints[0][0]] == missed.max()


def test_web_calls_carry_favourites_and_hints(retail, ingested):
    pytest.importorskip("fastapi")
    from _web_store import PASSWORD, client, client_class
    from tierwise.web import create_app
    from tierwise.web.accounts import add_user

    folder, _ = retail
    cfg = load_config(folder / "tierwise.toml")
    with Store(cfg.store_path) as store:
        if not store.con.execute("SELECT count(*) FROM web_users").fetchone()[0]:
            add_user(store, "admin", "admin", PASSWORD)
        snap = store.snapshot().set_index("customer_id")
    app = create_app(cfg)
    with client_class()(app):
        admin = client(app, "admin")
        calls = admin.get("/api/calls").json()
        rows = calls["warnings"] + calls["wake_up"]
        assert rows and any(r["cross_sell"] for r in rows)
        for row in rows:
            for column in ("favourite_products", "cross_sell"):
                want = snap.loc[row["customer_id"], column]
                assert row[column] == (None if pd.isna(want) else want)
        shown = next(r for r in rows if r["cross_sell"])
        for lang, header in (("zh", "可推荐（同层级常买、本人未买过）"),
                             ("en", "Cross-sell (tier buys, never bought)")):
            page = admin.get("/calls", params={"lang": lang}).text
            assert header in page
            assert f'<td class="cross-sell">{shown["cross_sell"]}</td>' in page


def test_the_same_rows_under_another_name_are_recognised(retail, ingested, tmp_path):
    from conftest import run_cli

    folder, _ = retail
    report, _ = ingested
    copy = tmp_path / "retail"
    copy.mkdir()
    (copy / "online_retail.csv").write_bytes((folder / "online_retail.csv").read_bytes())
    (copy / "export-renamed.csv").write_bytes((folder / "online_retail.csv").read_bytes())
    for name in ("online_retail.csv", "export-renamed.csv"):
        (copy / "tierwise.toml").write_text(CONFIG.format(path=name), encoding="utf-8")
        out = run_cli("ingest", "--json", cwd=copy)
        assert out.code == 0, out.stderr
    second = out.json()[0]
    assert second["inserted"] == 0 and second["overlap"] == second["replaced"] > 0
    assert any(f"{second['overlap']} order(s) were already in the store" in w
               for w in second["warnings"])
    with Store(copy / "tierwise.duckdb", read_only=True) as store:
        assert store.counts()["orders"] == second["replaced"]
        assert store.con.execute("SELECT count(*) FROM order_lines").fetchall()[0][0] == \
            report["accepted"]


# ------------------------------------------------------------------------------- properties

_line = st.tuples(
    st.sampled_from(["1001", "1002", "C1003", "1004", ""]),           # order id
    st.sampled_from(["A", "B", "", "C"]),                              # customer
    st.sampled_from(["2024-05-01", "2024-05-02 10:00", "bad", ""]),    # date
    st.sampled_from(["p1", "p2", "p3", ""]),                           # product
    st.sampled_from(["1", "2", "-1", "x", "", "3.5"]),                 # quantity
    st.sampled_from(["2.5", "0", "10", "", "1,5"]),                    # unit price
)


def _csv(rows) -> str:
    return "InvoiceNo,CustomerID,InvoiceDate,StockCode,Quantity,UnitPrice\n" + \
        "".join(",".join(f'"{v}"' if "," in v else v for v in r) + "\n" for r in rows)


def _read(folder: Path, name: str):
    return read_source(SourceConfig(path=Path(name)), kind="orders", intake=IntakeConfig(),
                       timezone="UTC", as_of=None, base_dir=folder, rejects_dir=folder / "rej")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_line, min_size=1, max_size=25))
def test_every_line_is_accepted_or_rejected(tmp_path, rows):
    (tmp_path / "l.csv").write_text(_csv(rows), encoding="utf-8")
    res = _read(tmp_path, "l.csv")
    rep = res.report
    assert rep.rows_in == rep.accepted + rep.rejected == len(rows)
    assert len(res.frame) == rep.accepted
    if rep.rejected:
        assert len(read_rejects(rep.rejects_file)) == rep.rejected


def _store_rows(folder: Path, names: list[str], text: str) -> pd.DataFrame:
    path = folder / f"{'-'.join(names)}.duckdb"
    with Store(path) as store:
        for name in names:
            (folder / name).write_text(text, encoding="utf-8")
            res = _read(folder, name)
            customers, res = reconcile_customers(None, res, policy="create",
                                                 rejects_dir=folder / "rej")
            store.upsert_customers(customers, source=name)
            store.upsert_orders(res.frame, source=name)
            store.link_refunds(["C"])
        return store.con.execute(
            "SELECT o.order_id, c.customer_id, ordered_at, round(amount, 6) AS amount, "
            "is_refund, refund_of FROM orders o JOIN customers c USING (customer_key) "
            "ORDER BY ALL").df()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_line, min_size=1, max_size=20), order_level=st.booleans())
def test_the_same_rows_under_two_names_give_the_same_store(tmp_path, rows, order_level):
    text = _csv(rows)
    if order_level:  # no order ids and no product: identity from customer, date and amount
        frame = pd.DataFrame(rows).iloc[:, [1, 2, 4]]
        text = "CustomerID,InvoiceDate,Amount\n" + "".join(",".join(r) + "\n"
                                                           for r in frame.itertuples(index=False))
    one = _store_rows(tmp_path, ["a.csv"], text)
    both = _store_rows(tmp_path, ["b.csv", "c.csv"], text)
    pd.testing.assert_frame_equal(one, both)

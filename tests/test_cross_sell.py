"""Cross-sell hints and the breadth of a relationship (issue 19; docs/lines.md).

A small hand-made store where the hints are known exactly, then the same through the real CLI
run, the customer's web page and the campaign export, and a scorecard criterion naming a breadth
metric. The call lists (report and web) are checked on the retail-lines demo, which has customers
to call (tests/test_retail_lines_end_to_end.py).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from tierwise.config import IntakeConfig, SourceConfig
from tierwise.engine import DuckDBEngine
from tierwise.engine.orders import OrderTable
from tierwise.features.breadth import relationship_breadth
from tierwise.io import read_source
from tierwise.store import Store

AS_OF = dt.date(2024, 6, 30)
# tier key: A..F (p4 bought and returned by C; D buys p3 only after the as-of date);
# tier major: G..J (x and y bought by two each: a tie, broken by name); K has no tier
ROWS = """order_id,customer_id,date,product_name,category,quantity,unit_price,channel
a1,A,2024-05-01,p1,drinks,1,10,shop
a1,A,2024-05-01,p2,drinks,1,10,shop
a2,A,2024-05-08,p3,food,1,10,app
a2,A,2024-05-08,p4,food,1,10,app
b1,B,2024-05-02,p1,drinks,1,10,shop
b1,B,2024-05-02,p2,drinks,1,10,shop
b1,B,2024-05-02,p3,food,1,10,shop
b1,B,2024-05-02,p4,food,1,10,shop
c1,C,2024-05-03,p1,drinks,1,10,app
c1,C,2024-05-03,p2,drinks,1,10,app
c1,C,2024-05-03,p3,food,1,10,app
c1,C,2024-05-03,p4,food,1,10,app
Cc1,C,2024-05-04,p4,food,-1,10,app
d1,D,2024-05-04,p1,drinks,1,10,shop
d1,D,2024-05-04,p2,drinks,2,10,shop
d2,D,2024-07-04,p3,food,1,10,shop
e1,E,2024-05-05,p1,drinks,1,10,
f1,F,2024-05-06,p5,toys,1,10,phone
g1,G,2024-05-01,x,,1,5,shop
h1,H,2024-05-01,x,,1,5,shop
h1,H,2024-05-01,y,,1,5,shop
i1,I,2024-05-01,y,,1,5,shop
j1,J,2024-05-01,z,,1,5,shop
k1,K,2024-05-01,p1,drinks,1,5,shop
"""
TIERS = {**dict.fromkeys("ABCDEF", "key"), **dict.fromkeys("GHIJ", "major"), "K": None}
EXPECTED = {
    "D": "p3 (50%); p4 (50%)",            # p3 after the as-of date is not bought yet
    "E": "p2 (67%); p3 (50%); p4 (50%)",  # 6 key buyers: p2 by 4, p3 and p4 by 3 each
    "F": "p1 (83%); p2 (67%); p3 (50%)",  # top 3: p4 ties p3 and loses on the name
    "G": "y (50%)", "I": "x (50%)", "J": "x (50%); y (50%)",
}  # A, B, C (p4 returned is still bought) and H miss only products one customer bought


def _store(tmp_path: Path, text: str = ROWS) -> Store:
    (tmp_path / "lines.csv").write_text(text, encoding="utf-8")
    res = read_source(SourceConfig(path=Path("lines.csv"), columns={"ordered_at": "date"}),
                      kind="orders", intake=IntakeConfig(), timezone="UTC", as_of=None,
                      base_dir=tmp_path, rejects_dir=tmp_path / "rejects")
    store = Store(tmp_path / "s.duckdb")
    store.upsert_customers(res.frame[["customer_id"]].drop_duplicates(), source="c")
    store.upsert_orders(res.frame, source="lines.csv")
    store.link_refunds(["C"])
    return store


def _keys(store: Store) -> dict[str, int]:
    return dict(store.con.execute("SELECT customer_id, customer_key FROM customers").fetchall())


def test_hints_are_what_the_tier_buys_and_the_customer_never_did(tmp_path):
    with _store(tmp_path) as store:
        keys = _keys(store)
        groups = pd.DataFrame({"customer_key": [keys[c] for c in TIERS],
                               "tier": list(TIERS.values())})
        hints = store.cross_sell_hints(AS_OF, groups)
        got = dict(zip(hints["customer_key"].map({v: k for k, v in keys.items()}),
                       hints["cross_sell"], strict=True))
        assert got == EXPECTED
        # a later date sees D's p3: D's hint is p4 alone
        later = store.cross_sell_hints(dt.date(2024, 7, 31), groups).set_index("customer_key")
        assert later.loc[keys["D"], "cross_sell"] == "p4 (50%)"
        # grouped by another column: one group of everyone with a tier
        one = groups.assign(segment=groups["tier"].notna().map({True: "all", False: None}))
        by_segment = store.cross_sell_hints(AS_OF, one, by="segment", top=1)
        assert by_segment.set_index("customer_key").loc[keys["J"], "cross_sell"] == "p1 (50%)"
        assert store.cross_sell_hints(AS_OF, groups, by="segment").empty  # no such column


def test_breadth_counts_products_categories_and_channels(tmp_path):
    with _store(tmp_path) as store:
        keys = _keys(store)
        with DuckDBEngine(store.con) as engine:
            breadth = relationship_breadth(store, OrderTable.of(engine), AS_OF)
    breadth.index = breadth.index.map({v: k for k, v in keys.items()})
    assert breadth.loc["A"].tolist() == [4, 2, 2]   # p1-p4, drinks + food, shop + app
    assert breadth.loc["C"].tolist() == [4, 2, 1]   # the returned p4 was bought
    assert breadth.loc["D"].tolist() == [2, 1, 1]   # p3 comes after the as-of date
    assert breadth.loc["E", "distinct_products"] == 1
    assert pd.isna(breadth.loc["E", "distinct_channels"])  # no channel named
    assert pd.isna(breadth.loc["G", "distinct_categories"])  # no category on its lines


def test_breadth_without_categories_or_channels_leaves_those_out(tmp_path):
    text = "\n".join(line.rsplit(",", 1)[0] for line in ROWS.splitlines()) + "\n"
    text = text.replace(",drinks,", ",,").replace(",food,", ",,").replace(",toys,", ",,")
    with _store(tmp_path, text) as store:
        with DuckDBEngine(store.con) as engine:
            breadth = relationship_breadth(store, OrderTable.of(engine), AS_OF)
    assert list(breadth.columns) == ["distinct_products"]


CONFIG = """
name = "Cross-sell"
language = "{lang}"
[sources.orders]
path = "lines.csv"
[sources.orders.columns]
ordered_at = "date"
[[scorecard.criteria]]
name = "revenue"
source = "total_amount"
weight = 0.6
[[scorecard.criteria]]
name = "breadth"
source = "distinct_products"
weight = 0.4
"""


def _repeat(rows: str) -> str:
    """Every purchase again a month later (new order ids), so each customer is graded."""
    lines = rows.strip().splitlines()
    again = []
    for line in lines[1:]:
        cells = line.split(",")
        if cells[0].startswith("C") or cells[2] > "2024-06-30":
            continue
        cells[0] = "r" + cells[0]
        cells[2] = cells[2].replace("2024-05-", "2024-06-")
        again.append(",".join(cells))
    return "\n".join([*lines, *again]) + "\n"


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    from conftest import run_cli

    folder = tmp_path_factory.mktemp("cross_sell")
    (folder / "lines.csv").write_text(_repeat(ROWS), encoding="utf-8")
    (folder / "tierwise.toml").write_text(CONFIG.format(lang="en"), encoding="utf-8")
    for args in (("ingest",), ("run", "--as-of", AS_OF.isoformat())):
        done = run_cli(*args, cwd=folder)
        assert done.code == 0, done.stderr
    return folder


def _recomputed(store: Store, snap: pd.DataFrame) -> dict[str, str]:
    """The hints from the snapshot's tiers, in pandas (the rule written out again)."""
    lines = store.con.execute(
        "SELECT c.customer_id, l.product_name FROM order_lines l JOIN customers c "
        "USING (customer_key) WHERE NOT l.is_refund AND l.ordered_at <= ?", [AS_OF]).df()
    bought = lines.groupby("customer_id")["product_name"].agg(set)
    tier = snap.set_index("customer_id")["tier"].dropna()
    members = tier[tier.index.isin(bought.index)]
    out = {}
    for cid, t in members.items():
        group = members.index[members == t]
        counts = pd.Series([p for c in group for p in bought[c]]).value_counts()
        counts = counts[(counts >= 2) & ~counts.index.isin(bought[cid])]
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        if ranked:
            out[cid] = "; ".join(f"{p} ({round(100 * n / len(group))}%)" for p, n in ranked)
    return out


def test_the_run_stores_hints_and_breadth_and_scores_with_it(ran):
    with Store(ran / "tierwise.duckdb", read_only=True) as store:
        snap = store.snapshot()
        expected = _recomputed(store, snap)
    got = snap.set_index("customer_id")["cross_sell"].dropna().to_dict()
    assert got == expected and got
    breadth = snap.set_index("customer_id")[["distinct_products", "distinct_categories",
                                             "distinct_channels"]]
    assert breadth.loc["A"].tolist() == [4, 2, 2]
    assert breadth.loc["F"].tolist() == [1, 1, 1]
    # the scorecard criterion reads the metric: equal spend, broader customer, higher points
    points = snap.set_index("customer_id")["score_contributions"].map(
        lambda v: (json.loads(v) if isinstance(v, str) else v)["breadth"])
    assert points["A"] > points["D"] > points["E"]


def test_web_customer_page_shows_hints_and_breadth(ran):
    pytest.importorskip("fastapi")
    from _web_store import PASSWORD, client, client_class
    from tierwise import load_config
    from tierwise.web import create_app
    from tierwise.web.accounts import add_user

    cfg = load_config(ran / "tierwise.toml")
    with Store(cfg.store_path) as store:
        if not store.con.execute("SELECT count(*) FROM web_users").fetchone()[0]:
            add_user(store, "admin", "admin", PASSWORD)
        hints = store.snapshot().set_index("customer_id")["cross_sell"]
    app = create_app(cfg)
    with client_class()(app):
        admin = client(app, "admin")
        detail = admin.get("/api/customers/F").json()["customer"]
        assert detail["cross_sell"] == hints["F"]
        assert [detail[c] for c in ("distinct_products", "distinct_categories",
                                    "distinct_channels")] == [1, 1, 1]
        page = admin.get("/customers/F", params={"lang": "zh"}).text
        assert 'id="cross-sell"' in page and hints["F"] in page
        assert "购买过的商品种数" in page and 'id="distinct-channels"' in page
        page = admin.get("/customers/F", params={"lang": "en"}).text
        assert "Distinct products bought" in page


def test_campaign_targets_carry_the_hints(ran, tmp_path):
    from conftest import run_cli

    done = run_cli("campaign", "create", "--name", "more", "--tier", "key,major,ordinary,long_tail",
                   "--exclude-state", "none",
                   "--face-value", "10", "--control-share", "0", cwd=ran)
    assert done.code == 0, done.stderr
    with Store(ran / "tierwise.duckdb") as store:
        from tierwise.campaigns import target_list

        campaign_id = store.con.execute("SELECT max(campaign_id) FROM campaigns").fetchone()[0]
        targets = target_list(store, campaign_id)
        hints = store.snapshot().set_index("customer_id")["cross_sell"]
    assert "cross_sell" in targets
    assert targets["cross_sell"].tolist() == hints.loc[targets["customer_id"]].tolist()


def test_web_target_list_csv_carries_cross_sell_like_the_cli_export() -> None:
    """The web's targets.csv has the cross-sell column when the run has hints, as
    ``tierwise campaign export`` does, and leaves it out when none has one."""
    import csv
    import io

    from tierwise.web.downloads import targets_csv

    base = {"customer_id": "C1", "name": "王", "phone": "138****0000", "face_value": 20}
    with_hint = targets_csv([{**base, "cross_sell": "p4 (50%)"}, {**base, "customer_id": "C2",
                                                                   "cross_sell": None}])
    rows = list(csv.DictReader(io.StringIO(with_hint.decode("utf-8-sig"))))
    assert [r["cross_sell"] for r in rows] == ["p4 (50%)", ""]
    without = targets_csv([{**base, "cross_sell": None}])
    assert "cross_sell" not in without.decode("utf-8-sig").splitlines()[0]

"""The in-memory customer list gives the same answers as the SQL of the query layer, and its
search finds what the documented rule says."""

from __future__ import annotations

import itertools
from pathlib import Path

import pyarrow as pa
import pytest

from _web_store import USERS, shared_web_store

pytest.importorskip("fastapi")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    from tierwise.store import Store

    config = shared_web_store(tmp_path_factory)
    with Store(Path(config).parent / "tierwise.duckdb", read_only=True) as opened:
        yield opened


def _viewers():
    from tierwise.web.access import Viewer

    return [Viewer(name, role, segments, manager if role == "manager" else None,
                   role == "admin") for name, (role, segments, manager) in USERS.items()]


QUERIES = [
    {}, {"sort": "total_amount"}, {"sort": "name", "order": "asc"}, {"sort": "tier"},
    {"sort": "days_since_last", "order": "asc"}, {"sort": "last_purchase"},
    {"sort": "customer_id", "order": "desc"}, {"page": 2, "page_size": 7},
    {"q": "上海"}, {"q": "有限公司"}, {"q": "c1001"}, {"q": "C10"}, {"q": "0001"},
    {"q": "155"}, {"q": "1550000"}, {"q": "no such thing"}, {"q": "  "},
    {"tiers": ("key", "major")}, {"states": ("dead",)}, {"segments": ("Manufacturing",)},
    {"key_account": True}, {"key_account": False, "sort": "score", "order": "asc"},
    {"q": "公司", "tiers": ("long_tail",), "page": 2, "page_size": 5},
]


@pytest.mark.parametrize("run_id", [1, 2])
def test_memory_and_sql_agree(store, run_id: int) -> None:
    from tierwise.web.listing import CustomerIndex
    from tierwise.web.queries import CustomerQuery, customer_page, run_info

    run = run_info(store.con, run_id)
    index = CustomerIndex.build(store.con, run)
    for viewer, params in itertools.product(_viewers(), QUERIES):
        query = CustomerQuery(**params)
        expected = customer_page(store.con, viewer, run, query)
        got = index.page(viewer, query)
        assert got == expected, (viewer.name, params)


def test_search_rule() -> None:
    from tierwise.web.listing import SearchIndex

    ids = pa.array(["A-100", "B-200", "c-1234", "XY"])
    names = pa.array(["上海精工能源", "Zhang San", None, "上海"])
    phones = pa.array(["13812345678", "", "", "02188887777"])
    index = SearchIndex(ids, names, phones)

    def found(text: str) -> list[int]:
        return [int(i) for i in index.matches(text, 4).nonzero()[0]]

    assert found("上海") == [0, 3]
    assert found("精工能") == [0] and found("工能源") == [0] and found("精能") == []
    assert found("ZHANG") == [1] and found("g s") == [1]
    assert found("-12") == [2] and found("b-2") == [1] and found("xy") == [3]
    assert found("x") == [] and found("Y") == []  # a short text must be the whole id
    assert found("2345") == [0] and found("888 777") == [3] and found("(021) 8888") == [3]
    assert found("12") == [] and found("") == []
    assert found("A-100 x") == []


@pytest.mark.parametrize("run_id", [1, 2])
def test_rows_from_memory_and_sql_agree(store, run_id: int) -> None:
    """Every customer's row, for every viewer: the same dict, or the same 404."""
    from tierwise.web.errors import NotFound
    from tierwise.web.listing import CustomerIndex
    from tierwise.web.queries import customer_row, run_info

    run = run_info(store.con, run_id)
    index = CustomerIndex.build(store.con, run)
    assert index.finds_rows
    ids = [r[0] for r in store.con.execute(
        "SELECT customer_id FROM snapshot_customers WHERE run_id = ?", [run_id]).fetchall()]
    asked = [*ids, "", "no such id", "C0", ids[0] + " ", ids[-1] + "0", "\uffff"]
    found = 0
    for viewer in _viewers():
        for customer_id in asked:
            try:
                expected = customer_row(store.con, viewer, run, customer_id)
            except NotFound as exc:
                with pytest.raises(NotFound) as raised:
                    index.row(viewer, customer_id)
                assert str(raised.value) == str(exc)
                continue
            assert index.row(viewer, customer_id) == expected, (viewer.name, customer_id)
            found += 1
    assert found > len(ids)  # the admin sees every row, the others some


def test_rows_in_an_order_python_does_not_search_fall_back() -> None:
    """Ids that are not unique and rising (as Python compares them) are not looked up in
    memory: the server then asks the SQL."""
    from tierwise.web.access import Viewer
    from tierwise.web.listing import CustomerIndex
    from tierwise.web.queries import RunInfo

    def index_of(ids: list[str]) -> CustomerIndex:
        n = len(ids)
        table = pa.table({"customer_id": ids, "name": ["n"] * n, "phone": [None] * n,
                          "phone_digits": [""] * n, "account_manager": ["m"] * n,
                          **{c: [None] * n for c in ("tier", "tier_zh", "segment", "segment_zh",
                                                     "activity_state", "activity_state_zh",
                                                     "key_account_type", "last_purchase",
                                                     "segment_level1", "segment_owner")},
                          "key_account": [False] * n,
                          **{c: [1.0] * n for c in ("total_amount", "clv_predicted",
                                                    "days_since_last", "score", "p_alive",
                                                    "frequency")}})
        import datetime as dt
        run = RunInfo(1, "p", dt.date(2026, 1, 1), dt.datetime(2026, 1, 1), "duckdb", n,
                      None, None)
        return CustomerIndex(run, table)

    assert index_of(["a", "b", "c"]).finds_rows
    assert not index_of(["b", "a", "c"]).finds_rows
    assert not index_of(["a", "a", "c"]).finds_rows
    with pytest.raises(RuntimeError):
        index_of(["b", "a"]).row(Viewer("x", "admin"), "a")


def test_search_without_any_phone_number() -> None:
    """A run where nobody has a phone (or every name is empty) still gets its index."""
    from tierwise.web.listing import SearchIndex

    index = SearchIndex(pa.array(["c1", "c2"]), pa.array(["", None]), pa.array(["", ""]))
    assert not index.matches("13800", 2).any()
    assert index.matches("c1", 2).tolist() == [True, False]


@pytest.mark.parametrize("seed", range(12))
def test_a_page_of_any_selection_is_the_sorted_selection_cut(store, seed: int) -> None:
    """Small selections are sorted, large ones walked block by block: both give the page a
    plain filter of the full order gives, on every page."""
    import numpy as np

    from tierwise.web import listing
    from tierwise.web.queries import run_info

    index = listing.CustomerIndex.build(store.con, run_info(store.con, 2))
    rng = np.random.default_rng(seed)
    share = [0.005, 0.05, 0.5, 1.0][seed % 4]
    kept = np.flatnonzero(rng.random(index.size) < share).astype(np.int32)
    sort = sorted(listing.SORTS)[seed % len(listing.SORTS)]
    direction = "asc" if seed % 2 else "desc"
    expected = [int(p) for p in index._order(sort, direction) if p in set(kept.tolist())]
    original = listing._BLOCK
    listing._BLOCK = 7  # several blocks even on a small store
    try:
        for size in (1, 7, 50):
            for offset in range(0, len(expected) + size, size):
                got = index._slice(sort, direction, kept, None, offset, size)
                assert got.tolist() == expected[offset:offset + size], (sort, offset, size)
    finally:
        listing._BLOCK = original


@pytest.mark.parametrize("run_id", [1, 2])
def test_an_index_from_files_answers_like_the_one_in_memory(store, run_id: int,
                                                             tmp_path: Path) -> None:
    """The run's rows written beside the store, arranged into files and memory-mapped back:
    every page and every row the same as the index built in memory (and so as the SQL)."""
    import duckdb

    from tierwise.i18n.render import NAMES_TABLE
    from tierwise.web.errors import NotFound
    from tierwise.web.listing import CustomerIndex
    from tierwise.web.queries import CustomerQuery, run_info, run_table
    from tierwise.web.runfiles import RunFiles

    run = run_info(store.con, run_id)
    built = CustomerIndex.build(store.con, run)
    files = RunFiles(tmp_path)
    con = duckdb.connect()  # as the server's copy: the store attached read-only
    con.execute(f"ATTACH '{store.path}' AS src (READ_ONLY)")
    assert files.export(con, "src.snapshot_customers", run_id, "k")
    assert not files.export(con, "src.snapshot_customers", run_id, "k")  # once per run
    files.attach(con, run_id, "k")
    folder = files.arranged(con, run, "k")
    opened = CustomerIndex.open(folder, run,
                                run_table(store.con, run_id, NAMES_TABLE, words=False))
    assert opened.size == built.size and opened.finds_rows
    for viewer, params in itertools.product(_viewers(), QUERIES):
        query = CustomerQuery(**params)
        assert opened.page(viewer, query) == built.page(viewer, query), (viewer.name, params)
    ids = [r[0] for r in store.con.execute(
        "SELECT customer_id FROM snapshot_customers WHERE run_id = ?", [run_id]).fetchall()]
    for viewer in _viewers():
        for customer_id in [*ids, "no such id"]:
            try:
                expected = built.row(viewer, customer_id)
            except NotFound:
                with pytest.raises(NotFound):
                    opened.row(viewer, customer_id)
                continue
            assert opened.row(viewer, customer_id) == expected
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")] == []


@pytest.mark.parametrize("run_id", [1, 2])
def test_the_outlook_from_a_row_is_the_read_models(store, run_id: int) -> None:
    """The customer page reads the outlook from the customer's row (no query): for every
    customer, the same figures as the read model's SQL (RunView.outlook), dates included."""
    from tierwise.runview import OUTLOOK_COLUMNS, RunView
    from tierwise.web.access import Viewer
    from tierwise.web.listing import CustomerIndex
    from tierwise.web.queries import clean, customer_row, outlook_of_row, run_info

    run = run_info(store.con, run_id)
    index = CustomerIndex.build(store.con, run)
    admin = Viewer("admin", "admin", (), None, True)
    sql = RunView(store.con, run_id).outlook().to_dict("records")
    dated = 0
    for expected in sql:
        expected = {k: clean(v) for k, v in expected.items()}
        nxt = expected["next_purchase_expected"]
        expected["next_purchase_expected"] = nxt.date() if nxt is not None else None
        dated += nxt is not None
        for row in (customer_row(store.con, admin, run, expected["customer_id"]),
                    index.row(admin, expected["customer_id"])):
            got = outlook_of_row(row)
            assert got == {c: expected[c] for c in OUTLOOK_COLUMNS}, expected["customer_id"]
    assert len(sql) > 10 and dated > 10


@pytest.mark.parametrize("shuffled", [False, True])
def test_a_runs_file_holds_its_rows_in_id_order(tmp_path: Path, shuffled: bool) -> None:
    """Rows stored in id order are copied as they are, others sorted: either way the run's
    file holds them in customer_id order (what the arranged list and its look-ups rely on)."""
    import duckdb

    from tierwise.web.runfiles import RunFiles, in_id_order

    con = duckdb.connect()
    ids = [f"C{i:05d}" for i in range(3000)]
    stored = list(reversed(ids)) if shuffled else ids
    con.execute("CREATE TABLE snap AS SELECT unnest(?) AS customer_id, 7 AS run_id, "
                "range AS x FROM range(1)", [stored])
    con.execute("INSERT INTO snap SELECT customer_id, 8, x FROM snap")  # another run
    assert in_id_order(con, "snap", 7) is (not shuffled)
    files = RunFiles(tmp_path)
    assert files.export(con, "snap", 7, "k")
    alias = files.attach(con, 7, "k")
    got = [r[0] for r in con.execute(f"SELECT customer_id FROM {alias}.snapshot_customers"
                                     ).fetchall()]
    assert got == ids

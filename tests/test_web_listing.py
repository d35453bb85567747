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

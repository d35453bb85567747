"""The latest run's customer list in memory: scoped filters, sorting, pages and search in
milliseconds, whatever the number of customers.

A list request must not scan a million rows: twenty people paging and searching at once on a
small server would queue behind each other. So, once per new run, the server arranges the run's
list columns in memory (:class:`CustomerIndex`): filter columns as integer codes, one
precomputed order per sort key, and a search index (:class:`SearchIndex`). A page is then a few
array operations and a ``take`` of fifty rows. Results are the same as the SQL of
:func:`tierwise.web.queries.customer_page`, which serves the other runs (a test compares them).

Search (the same rule in SQL and here): the text matches a customer whose name contains it,
whose id contains it (three characters or more; a shorter text must be the whole id), or, for a
text that looks like a phone number (digits, spaces, ``+-()``, at least three digits), whose
phone digits contain its digits; letters are compared in lower case.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..config import PYRAMID_TIERS
from .access import Viewer
from .queries import (
    LIST_COLUMNS,
    PHONE_DIGITS_SQL,
    SORTS,
    CustomerQuery,
    RunInfo,
    clean,
    phone_digits,
    phone_like,
)

#: Columns held as integer codes, for the viewer's scope and the filters.
CODED = ("account_manager", "segment", "segment_level1", "segment_owner", "tier",
         "activity_state")
_LOAD = tuple(dict.fromkeys((*LIST_COLUMNS, *CODED, "key_account", "p_alive", "frequency")))
_NO_ROWS = np.empty(0, dtype=np.int32)


class SearchIndex:
    """Where a search text occurs: n-gram indexes of names (single characters and pairs), of
    ids and of phone digits (runs of three).

    A text is looked up by its n-grams, the rarest first, and the candidates are checked for the
    whole text, so a search reads a few short lists instead of every customer.
    """

    def __init__(self, ids: pa.Array, names: pa.Array, phones: pa.Array) -> None:
        """``phones``: the digits of each phone number ('' when there is none)."""
        self._names = _Grams(pc.utf8_lower(names.fill_null("")), (1, 2))
        self._ids = _Grams(pc.utf8_lower(ids), (3,))
        self._phones = _Grams(phones.fill_null(""), (3,))

    def matches(self, text: str, size: int) -> np.ndarray:
        """Which of the ``size`` customers the text matches, as a mask (see the module doc)."""
        found = np.zeros(size, dtype=bool)
        q = text.strip().lower()
        if not q:
            return found
        found[self._names.find(q)] = True
        found[self._ids.find(q) if len(q) >= 3 else self._ids.equal(q)] = True
        digits = phone_digits(q)
        if len(digits) >= 3 and phone_like(q):
            found[self._phones.find(digits)] = True
        return found


class _Grams:
    """Which strings of a column contain which n-grams (the sizes given), in CSR form."""

    def __init__(self, values: pa.Array, sizes: tuple[int, ...]) -> None:
        self.values, self.sizes = values, sizes
        self._keys, self._starts, self._rows = _grams(values, sizes)

    def find(self, q: str) -> np.ndarray:
        """Positions (rising) of the strings containing ``q``."""
        n = max((s for s in self.sizes if s <= len(q)), default=0)
        if not n:
            return _NO_ROWS
        lists = sorted((self._postings(q[i:i + n]) for i in range(len(q) - n + 1)), key=len)
        candidates = lists[0]
        for other in lists[1:]:
            if len(candidates) <= 256:
                break
            candidates = np.intersect1d(candidates, other, assume_unique=True)
        if len(q) == n or not len(candidates):
            return candidates
        hits = pc.match_substring(self.values.take(pa.array(candidates)), q)
        return candidates[hits.to_numpy(zero_copy_only=False)]

    def equal(self, q: str) -> np.ndarray:
        """Positions of the strings equal to ``q`` (for texts too short to have n-grams)."""
        return np.flatnonzero(pc.equal(self.values, q).to_numpy(zero_copy_only=False)
                              ).astype(np.int32)

    def _postings(self, gram: str) -> np.ndarray:
        key = _key([ord(ch) for ch in gram])
        i = int(np.searchsorted(self._keys, key))
        if i < len(self._keys) and self._keys[i] == key:
            return self._rows[self._starts[i]:self._starts[i + 1]]
        return _NO_ROWS


def _key(codes: Any) -> Any:
    """The key of an n-gram from its code points: 21 bits each; pairs sit above 2**62 so that
    they never meet single characters (an index holds sizes (1, 2) or (3,))."""
    key = codes[0]
    for code in codes[1:]:
        key = (key << 21) | code
    return key + (1 << 62) if len(codes) == 2 else key


def _grams(values: pa.Array, sizes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """Keys, start offsets and positions (CSR) of every n-gram of every string."""
    values = values.cast(pa.large_string())
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[
        values.offset:values.offset + len(values) + 1]
    data = values.buffers()[2]
    text = bytes(data)[offsets[0]:offsets[-1]] if data is not None else b""
    chars = np.frombuffer(text.decode("utf-8").encode("utf-32-le"), dtype=np.uint32
                          ).astype(np.int64)
    lengths = pc.utf8_length(values).to_numpy(zero_copy_only=False)
    rows = np.repeat(np.arange(len(values), dtype=np.int32), lengths)
    keys, owners = [], []
    for n in sizes:
        if len(chars) < n:
            continue
        same = rows[:len(rows) - n + 1] == rows[n - 1:]
        keys.append(_key([chars[j:len(chars) - n + 1 + j] for j in range(n)])[same])
        owners.append(rows[:len(rows) - n + 1][same])
    if not keys:
        return np.empty(0, np.int64), np.zeros(1, np.int64), _NO_ROWS
    key, row = np.concatenate(keys), np.concatenate(owners)
    order = np.argsort(key, kind="stable")  # equal keys keep their rows' (rising) order
    key, row = key[order], row[order]
    keep = np.ones(len(key), dtype=bool)
    keep[1:] = (key[1:] != key[:-1]) | (row[1:] != row[:-1])
    key, row = key[keep], row[keep]
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(key)) + 1, [len(key)]])
    return key[cuts[:-1]], cuts, row


class CustomerIndex:
    """One run's customer list in memory (see the module doc)."""

    def __init__(self, run: RunInfo, table: pa.Table) -> None:
        self.run = run
        self.size = table.num_rows
        self._rows = table.select(list(LIST_COLUMNS)).combine_chunks()
        self._codes = {c: _encode(table.column(c)) for c in CODED}
        self._key = np.asarray(table.column("key_account").fill_null(False).to_numpy(
            zero_copy_only=False), dtype=bool)
        self._sort_keys = {name: _sort_key(name, table) for name in SORTS}
        self._orders: dict[tuple[str, ...], np.ndarray] = {}
        self._masks: OrderedDict[Any, np.ndarray | None] = OrderedDict()
        self._lock = threading.Lock()
        for name in SORTS:  # every order now, not while people wait for a page
            for direction in ("asc", "desc"):
                self._order(name, direction)
        self.search = SearchIndex(*(table.column(c).combine_chunks()
                                    for c in ("customer_id", "name", "phone_digits")))

    @classmethod
    def build(cls, con: duckdb.DuckDBPyConnection, run: RunInfo) -> CustomerIndex:
        """Read the run's list columns (in ``customer_id`` order) and arrange them."""
        table = con.sql(f"SELECT {', '.join(_LOAD)}, {PHONE_DIGITS_SQL} AS phone_digits "
                        "FROM snapshot_customers WHERE run_id = ? ORDER BY customer_id",
                        params=[run.run_id]).to_arrow_table()
        return cls(run, table)

    def page(self, viewer: Viewer, query: CustomerQuery) -> dict[str, Any]:
        """What :func:`tierwise.web.queries.customer_page` returns, for this run."""
        query.order_by()  # the same check of the sort key as the SQL path
        mask = self._mask(viewer, query)
        chosen = self._chosen(query.sort, query.order, mask)
        offset = (query.page - 1) * query.page_size
        picked = chosen[offset:offset + query.page_size]
        rows = self._rows.take(pa.array(picked, type=pa.int64())).to_pylist()
        items = [viewer.contacts({k: clean(v) for k, v in row.items()}) for row in rows]
        total = len(chosen)
        return {"run": self.run.to_dict(), "total": total, "page": query.page,
                "page_size": query.page_size,
                "pages": max(1, -(-total // query.page_size)), "sort": query.sort,
                "order": query.order, "items": items}

    def _chosen(self, sort: str, direction: str, mask: np.ndarray | None) -> np.ndarray:
        """The positions ``mask`` keeps, in the order of ``sort``.

        Few kept (a manager's book, a narrow search): sort them by their place in the full
        order; many: walk the full order and keep the masked ones.
        """
        order = self._order(sort, direction)
        if mask is None:
            return order
        kept = np.flatnonzero(mask)
        if len(kept) > self.size // 8:
            return order[mask[order]]
        places = self._places(sort, direction)[kept]
        return kept[np.argsort(places, kind="stable")].astype(np.int32)

    def _places(self, sort: str, direction: str) -> np.ndarray:
        """Each position's place in the order of ``sort`` (the inverse of :meth:`_order`)."""
        key = (sort, direction, "places")
        order = self._order(sort, direction)
        with self._lock:
            if key not in self._orders:
                places = np.empty(self.size, dtype=np.int32)
                places[order] = np.arange(self.size, dtype=np.int32)
                self._orders[key] = places
            return self._orders[key]

    def _order(self, sort: str, direction: str) -> np.ndarray:
        """Every position, sorted by ``sort`` (NULLs last) and then by id, like the SQL."""
        key = (sort, direction)
        with self._lock:
            if key not in self._orders:
                values = self._sort_keys[sort]
                ranked = -values if direction == "desc" else values
                ranked = np.where(np.isnan(ranked), np.inf, ranked)
                self._orders[key] = np.argsort(ranked, kind="stable").astype(np.int32)
            return self._orders[key]

    def _mask(self, viewer: Viewer, query: CustomerQuery) -> np.ndarray | None:
        mask = self._scope(viewer)
        for column, values in (("tier", query.tiers), ("activity_state", query.states)):
            if values:
                mask = _and(mask, self._isin(column, values))
        if query.segments:
            mask = _and(mask, self._isin("segment", query.segments)
                        | self._isin("segment_level1", query.segments))
        if query.key_account is not None:
            mask = _and(mask, self._key == query.key_account)
        if query.q and query.q.strip():
            mask = _and(mask, self.search.matches(query.q, self.size))
        return mask

    def _scope(self, viewer: Viewer) -> np.ndarray | None:
        key = viewer.scope_key()
        with self._lock:
            if key in self._masks:
                self._masks.move_to_end(key)
                return self._masks[key]
        terms = viewer.scope_terms()
        mask = None if terms is None else np.zeros(self.size, dtype=bool)
        for column, values in terms or ():
            mask |= self._isin(column, values)
        with self._lock:
            self._masks[key] = mask
            while len(self._masks) > 256:  # one small mask per distinct scope
                self._masks.popitem(last=False)
        return mask

    def _isin(self, column: str, values: tuple[str, ...]) -> np.ndarray:
        codes, lookup = self._codes[column]
        wanted = [lookup[v] for v in values if v in lookup]
        if not wanted:
            return np.zeros(self.size, dtype=bool)
        return codes == wanted[0] if len(wanted) == 1 else np.isin(codes, wanted)


def _and(mask: np.ndarray | None, other: np.ndarray) -> np.ndarray:
    return other if mask is None else mask & other


def _encode(column: pa.ChunkedArray) -> tuple[np.ndarray, dict[str, int]]:
    """Integer codes of a text column (-1 for NULL) and the code of each value."""
    encoded = column.combine_chunks().dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    return codes, {v: i for i, v in enumerate(encoded.dictionary.to_pylist())}


def _sort_key(name: str, table: pa.Table) -> np.ndarray:
    """Numbers that sort like the column in SQL (NaN for NULL; equal values equal numbers)."""
    if name == "tier":
        codes, lookup = _encode(table.column(name))
        rank = np.full(len(lookup) + 1, np.nan)
        for value, code in lookup.items():
            rank[code] = PYRAMID_TIERS.index(value) if value in PYRAMID_TIERS \
                else len(PYRAMID_TIERS)
        return rank[codes]  # code -1 (NULL) takes the last slot: NaN
    column = table.column(name).combine_chunks()
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        ranks = pc.rank(column, sort_keys="ascending", tiebreaker="min").to_numpy().astype(float)
        ranks[column.is_null().to_numpy(zero_copy_only=False)] = np.nan
        return ranks
    if pa.types.is_date(column.type):
        column = column.cast(pa.int32())
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=float)


class IndexShelf:
    """The index of the latest run, built once per new run and replaced when a newer comes."""

    def __init__(self) -> None:
        self._index: CustomerIndex | None = None
        self._lock = threading.Lock()

    def get(self, run_id: int) -> CustomerIndex | None:
        index = self._index
        return index if index is not None and index.run.run_id == run_id else None

    def update(self, con: duckdb.DuckDBPyConnection, latest: RunInfo | None) -> None:
        """Build the index of ``latest`` unless it is already there (None: drop it)."""
        with self._lock:
            if latest is not None and self.get(latest.run_id) is not None:
                return
            self._index = None  # let the old one go first: one index in memory at a time
            if latest is not None:
                self._index = CustomerIndex.build(con, latest)


__all__ = ["CODED", "CustomerIndex", "IndexShelf", "SearchIndex"]

"""The latest run's customers in memory: scoped filters, sorting, pages, search and one
customer's row in milliseconds, whatever the number of customers.

A list request must not scan a million rows: twenty people paging and searching at once on a
small server would queue behind each other. So, once per new run, the server arranges the run's
rows in memory (:class:`CustomerIndex`): filter columns as integer codes, one precomputed order
per sort key, and a search index (:class:`SearchIndex`). A page is then a few array operations
and a ``take`` of fifty rows. Results are the same as the SQL of
:func:`tierwise.web.queries.customer_page`, which serves the other runs (a test compares them).

The customer page needs every column of one row. DuckDB answers that in several milliseconds
of CPU (each of the ninety-odd columns of a result costs about 50 microseconds), so the index
also keeps the run's whole rows, in ``customer_id`` order: a look-up is a binary search and a
one-row slice (:meth:`CustomerIndex.row`, the same answer as
:func:`tierwise.web.queries.customer_row`). Text columns that repeat (tiers, segments,
playbooks, reasons) are held dictionary-encoded, once per distinct value.

Search (the same rule in SQL and here): the text matches a customer whose name contains it,
whose id contains it (three characters or more; a shorter text must be the whole id), or, for a
text that looks like a phone number (digits, spaces, ``+-()``, at least three digits), whose
phone digits contain its digits; letters are compared in lower case.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..config import PYRAMID_TIERS
from ..i18n.render import NAMES_TABLE, add_words_to_rows
from .access import Viewer
from .columns import Columns, load_array, load_arrow, save_array, save_arrow
from .queries import (
    LIST_COLUMNS,
    PHONE_DIGITS_SQL,
    SORTS,
    CustomerQuery,
    RunInfo,
    customer_not_found,
    phone_digits,
    phone_like,
    run_table,
)

#: Columns held as integer codes, for the viewer's scope and the filters.
CODED = ("account_manager", "segment", "segment_level1", "segment_owner", "tier",
         "activity_state")
#: What the list reads, filters and sorts on.
_LOAD = tuple(dict.fromkeys((*LIST_COLUMNS, *CODED, "key_account", "p_alive", "frequency")))
_NO_ROWS = np.empty(0, dtype=np.int32)
#: The file of an index folder written last (a folder without it is unfinished).
INDEX_MANIFEST = "index.json"
#: Positions of the sort order read at a time when a page is picked from a large selection.
_BLOCK = 1 << 16


class SearchIndex:
    """Where a search text occurs: n-gram indexes of names (single characters and pairs), of
    ids and of phone digits (runs of three).

    A text is looked up by its n-grams, the rarest first, and the candidates are checked for the
    whole text, so a search reads a few short lists instead of every customer.
    """

    def __init__(self, ids: pa.Array, names: pa.Array, phones: pa.Array) -> None:
        """``phones``: the digits of each phone number ('' when there is none)."""
        self._size = len(ids)
        self._names = _Grams(pc.utf8_lower(names.fill_null("")), (1, 2))
        self._ids = _Grams(pc.utf8_lower(ids), (3,))
        self._phones = _Grams(phones.fill_null(""), (3,))

    def save(self, folder: Path) -> None:
        for name, grams in self._parts():
            grams.save(folder / f"search-{name}")

    @classmethod
    def load(cls, folder: Path) -> SearchIndex:
        """The index :meth:`save` wrote into ``folder``, memory-mapped."""
        out = cls.__new__(cls)
        out._names = _Grams.load(folder / "search-names", (1, 2))
        out._ids = _Grams.load(folder / "search-ids", (3,))
        out._phones = _Grams.load(folder / "search-phones", (3,))
        out._size = len(out._ids.values)
        return out

    def _parts(self) -> tuple[tuple[str, _Grams], ...]:
        return (("names", self._names), ("ids", self._ids), ("phones", self._phones))

    def find(self, text: str) -> np.ndarray:
        """The positions (rising) of the customers the text matches (see the module doc)."""
        q = text.strip().lower()
        if not q:
            return _NO_ROWS
        found = [self._names.find(q), self._ids.find(q) if len(q) >= 3 else self._ids.equal(q)]
        digits = phone_digits(q)
        if len(digits) >= 3 and phone_like(q):
            found.append(self._phones.find(digits))
        return _union(found, self._size)

    def matches(self, text: str, size: int) -> np.ndarray:
        """Which of the ``size`` customers the text matches, as a mask."""
        found = np.zeros(size, dtype=bool)
        found[self.find(text)] = True
        return found


class _Grams:
    """Which strings of a column contain which n-grams (the sizes given), in CSR form."""

    def __init__(self, values: pa.Array, sizes: tuple[int, ...],
                 grams: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        """``grams``: keys, starts and rows saved by :meth:`save` (default: computed)."""
        self.values, self.sizes = values, sizes
        self._keys, self._starts, self._rows = grams if grams is not None else \
            _grams(values, sizes)
        #: The strings too short to have n-grams, and their positions.
        self._short: dict[str, list[int]] = {}
        short = np.flatnonzero(pc.less(pc.utf8_length(values), min(sizes))
                               .to_numpy(zero_copy_only=False))
        for at, value in zip(short.tolist(), values.take(pa.array(short)).to_pylist(),
                             strict=True):
            self._short.setdefault(value, []).append(at)

    def save(self, path: Path) -> None:
        save_arrow(path, self.values)
        for part, array in zip(("keys", "starts", "rows"),
                               (self._keys, self._starts, self._rows), strict=True):
            save_array(path.with_name(f"{path.name}-{part}"), array)

    @classmethod
    def load(cls, path: Path, sizes: tuple[int, ...]) -> _Grams:
        return cls(load_arrow(path), sizes, tuple(  # type: ignore[arg-type]
            load_array(path.with_name(f"{path.name}-{part}"))
            for part in ("keys", "starts", "rows")))

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
            candidates = _within(candidates, other)
        if len(q) == n or not len(candidates):
            return candidates
        hits = pc.match_substring(self.values.take(pa.array(candidates)), q)
        return candidates[hits.to_numpy(zero_copy_only=False)]

    def equal(self, q: str) -> np.ndarray:
        """Positions of the strings equal to ``q`` (for texts too short to have n-grams)."""
        return np.asarray(self._short.get(q, ()), dtype=np.int32)

    def _postings(self, gram: str) -> np.ndarray:
        key = _key([ord(ch) for ch in gram])
        i = int(np.searchsorted(self._keys, key))
        if i < len(self._keys) and self._keys[i] == key:
            return self._rows[self._starts[i]:self._starts[i + 1]]
        return _NO_ROWS


def _union(lists: list[np.ndarray], size: int) -> np.ndarray:
    """The positions in any of ``lists`` (each rising, no repeats), rising."""
    lists = [x for x in lists if len(x)]
    if len(lists) <= 1:
        return lists[0].astype(np.int32) if lists else _NO_ROWS
    if sum(len(x) for x in lists) > size // 64:  # many: a mask beats sorting them
        mask = np.zeros(size, dtype=bool)
        for x in lists:
            mask[x] = True
        return np.flatnonzero(mask).astype(np.int32)
    return np.unique(np.concatenate(lists)).astype(np.int32)


def _within(small: np.ndarray, big: np.ndarray) -> np.ndarray:
    """The values of ``small`` that ``big`` holds too (both rising, no repeats): a binary search
    of each, not a sort of both (``np.intersect1d``)."""
    if not len(big):
        return _NO_ROWS
    at = np.searchsorted(big, small)
    at[at == len(big)] = 0
    return small[big[at] == small]


def _key(codes: Any) -> Any:
    """The key of an n-gram from its code points: 21 bits each; pairs sit above 2**62 so that
    they never meet single characters (an index holds sizes (1, 2) or (3,))."""
    key = codes[0]
    for code in codes[1:]:
        key = (key << 21) | code
    return key + (1 << 62) if len(codes) == 2 else key


def _grams(values: pa.Array, sizes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """Keys, start offsets and positions (CSR) of every n-gram of every string.

    Each n-gram and its position are packed into one 64-bit number (the characters as codes of
    the column's own alphabet, the position below them) and sorted in place: the same order as
    sorting the keys and keeping each key's positions rising, without an index array or a copy
    of the keys per sort. Sizes are taken in rising order, whose keys come in rising order
    (:func:`_key`). An alphabet too large to pack falls back to :func:`_grams_unpacked`.
    """
    values = values.cast(pa.large_string())
    chars = _code_points(values)
    lengths = pc.utf8_length(values).to_numpy(zero_copy_only=False)
    rows = np.repeat(np.arange(len(values), dtype=np.int32), lengths)
    if not len(chars):
        return np.empty(0, np.int64), np.zeros(1, np.int64), _NO_ROWS
    present = np.zeros(int(chars.max()) + 1, dtype=bool)
    present[chars] = True
    alphabet = np.flatnonzero(present).astype(np.int64)
    char_bits = max(1, (len(alphabet) - 1).bit_length())
    row_bits = max(1, (len(values) - 1).bit_length())
    if max(sizes) * char_bits + row_bits > 63:
        return _grams_unpacked(chars.astype(np.int64), rows, sizes)
    # Memory (a million names hold some ten million characters): codes and positions stay
    # 32-bit until packed, and each size's arrays are let go before the next size's are made.
    dense = (np.cumsum(present, dtype=np.int64) - 1).astype(np.uint32)[chars]
    del chars, present
    positions = rows.view(np.uint32)  # rows are not negative: the same bits
    keys, starts, owners, done = [], [np.zeros(1, np.int64)], [], 0
    for n in sorted(sizes):
        m = len(dense) - n + 1
        if m <= 0:
            continue
        packed = dense[:m].astype(np.uint64)
        for j in range(1, n):
            np.left_shift(packed, np.uint64(char_bits), out=packed)
            np.bitwise_or(packed, dense[j:j + m], out=packed)
        np.left_shift(packed, np.uint64(row_bits), out=packed)
        np.bitwise_or(packed, positions[:m], out=packed)
        packed = packed[rows[:m] == rows[n - 1:]]  # the n characters of one string
        if not len(packed):
            continue
        packed.sort()
        if len(packed) > 1:
            packed = packed[np.concatenate([[True], packed[1:] != packed[:-1]])]
        owner = packed.astype(np.uint32)  # the low bits hold the position (row_bits <= 31)
        np.bitwise_and(owner, np.uint32((1 << row_bits) - 1), out=owner)
        owners.append(owner.view(np.int32))
        del owner
        gram = np.right_shift(packed, np.uint64(row_bits), out=packed)
        del packed
        cuts = np.flatnonzero(np.diff(gram)) + 1
        first = np.concatenate([[0], cuts]).astype(np.int64)
        codes = [alphabet[((gram[first] >> np.uint64(char_bits * (n - 1 - j)))
                           & np.uint64((1 << char_bits) - 1)).astype(np.int64)]
                 for j in range(n)]
        keys.append(np.asarray(_key(codes), dtype=np.int64))
        starts.append(np.concatenate([cuts, [len(gram)]]).astype(np.int64) + done)
        done += len(gram)
        del gram, cuts, first
    if not keys:  # no text long enough (a run without phone numbers, say)
        return np.empty(0, np.int64), np.zeros(1, np.int64), _NO_ROWS
    return np.concatenate(keys), np.concatenate(starts), np.concatenate(owners)


def _code_points(values: pa.Array) -> np.ndarray:
    """The code points of every character of a ``large_string`` array, one after another."""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[
        values.offset:values.offset + len(values) + 1]
    data = values.buffers()[2]
    text = bytes(data)[offsets[0]:offsets[-1]] if data is not None else b""
    return np.frombuffer(text.decode("utf-8").encode("utf-32-le"), dtype=np.uint32)


def _grams_unpacked(chars: np.ndarray, rows: np.ndarray, sizes: tuple[int, ...]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_grams` for an alphabet too large to pack: keys and positions sorted apart."""
    keys, owners = [], []
    for n in sizes:
        if len(chars) < n:
            continue
        same = rows[:len(rows) - n + 1] == rows[n - 1:]
        keys.append(_key([chars[j:len(chars) - n + 1 + j] for j in range(n)])[same])
        owners.append(rows[:len(rows) - n + 1][same])
    key, row = (np.concatenate(keys), np.concatenate(owners)) if keys else ((), ())
    if not len(key):
        return np.empty(0, np.int64), np.zeros(1, np.int64), _NO_ROWS
    order = np.argsort(key, kind="stable")  # equal keys keep their rows' (rising) order
    key, row = key[order], row[order]
    keep = np.ones(len(key), dtype=bool)
    keep[1:] = (key[1:] != key[:-1]) | (row[1:] != row[:-1])
    key, row = key[keep], row[keep]
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(key)) + 1, [len(key)]])
    return key[cuts[:-1]], cuts, row


class CustomerIndex:
    """One run's customer list in memory (see the module doc)."""

    def __init__(self, run: RunInfo, table: pa.Table, columns: Columns | None = None,
                 names: Any = None) -> None:
        """``table``: the run's rows in ``customer_id`` order, with the list's columns (and what
        it filters and sorts on) and ``phone_digits``; ``columns``: every column of the
        snapshot but ``run_id``, in the same order (default: ``table``'s); ``names``: the run's
        own names (its ``names`` run table), for the words of the codes."""
        self.run = run
        self.names = names
        self.size = table.num_rows
        ids = table.column("customer_id").combine_chunks()
        #: Whether ids are unique and rising (as Python compares them): rows can be looked up.
        self.finds_rows = rising(ids)
        self._ids = ids
        self._codes = {c: _encode(table.column(c)) for c in CODED}
        self._key = np.asarray(table.column("key_account").fill_null(False).to_numpy(
            zero_copy_only=False), dtype=bool)
        self._sort_keys = {name: _sort_key(name, table) for name in SORTS}
        self._orders: dict[tuple[str, ...], np.ndarray] = {}
        self._masks: OrderedDict[Any, tuple[np.ndarray | None, np.ndarray | None]] = \
            OrderedDict()
        self._lock = threading.Lock()
        for name in SORTS:  # every order now, not while people wait for a page
            for direction in ("asc", "desc"):
                self._order(name, direction)
        self.search = SearchIndex(*(table.column(c).combine_chunks()
                                    for c in ("customer_id", "name", "phone_digits")))
        self._columns = columns if columns is not None else \
            Columns(table.drop_columns(["phone_digits"]))

    @classmethod
    def build(cls, con: duckdb.DuckDBPyConnection, run: RunInfo,
              source: tuple[str, list[Any]] | None = None) -> CustomerIndex:
        """Read the run's rows (in ``customer_id`` order) and arrange them.

        The list's columns are read first, the whole rows then a few columns at a time, so
        that no more than a slice of the run is held twice while it is arranged. ``con``
        should be in a transaction, so that every read sees the same rows. ``source``: where
        the rows are, as a ``FROM`` clause that ends with its order, and its parameters
        (default: the run's rows of ``snapshot_customers``, see :func:`_rows_of`).
        """
        source, params = source or _rows_of(run)
        table = _list_table(con, source, params)
        columns = Columns.read(con, source, params, _row_columns(con, source, params))
        return cls(run, table, columns, run_table(con, run.run_id, NAMES_TABLE, words=False))

    @classmethod
    def write(cls, con: duckdb.DuckDBPyConnection, run: RunInfo,
              source: tuple[str, list[Any]], folder: Path) -> None:
        """Arrange the run's rows as :meth:`build` does and write the result into ``folder``
        (:meth:`open` maps it back), one column at a time: each column is read, arranged
        (codes, sort orders, search index) and written before the next is read, so memory
        holds one column and what is made of it, not the run. ``source`` must give its rows in
        the same order at every read (a table's insertion order, or an ``ORDER BY`` of unique
        keys). The caller makes it atomic (a folder written under another name, then
        renamed)."""
        sql, params = source

        def column(expression: str) -> pa.Array:
            return con.sql(f"SELECT {expression} FROM {sql}", params=params
                           ).to_arrow_table().column(0).combine_chunks()

        folder.mkdir(parents=True, exist_ok=True)
        ids = column("customer_id")
        size = len(ids)
        finds_rows = rising(ids)
        save_arrow(folder / "ids", ids)
        _Grams(pc.utf8_lower(ids), (3,)).save(folder / "search-ids")
        del ids
        key = column("key_account").fill_null(False).to_numpy(zero_copy_only=False)
        save_array(folder / "key", np.asarray(key, dtype=bool))
        codes = {}
        for name in CODED:
            array, lookup = _encode(column(_quoted(name)))
            save_array(folder / f"code-{name}", array)
            codes[name] = sorted(lookup, key=lookup.__getitem__)
        for sort in SORTS:
            values = _sort_key(sort, pa.table({sort: column(_quoted(sort))}))
            for direction, order in zip(("asc", "desc"), _both_orders(values), strict=True):
                save_array(folder / f"order-{sort}-{direction}", order)
        _Grams(pc.utf8_lower(column("name").fill_null("")), (1, 2)).save(folder / "search-names")
        _Grams(column(PHONE_DIGITS_SQL).fill_null(""), (3,)).save(folder / "search-phones")
        Columns.write(con, sql, params, _row_columns(con, sql, params), folder / "rows")
        (folder / INDEX_MANIFEST).write_text(json.dumps(
            {"size": size, "finds_rows": finds_rows, "codes": codes,
             "sorts": list(SORTS)}), encoding="utf-8")

    @classmethod
    def open(cls, folder: Path, run: RunInfo, names: Any = None) -> CustomerIndex:
        """The index :meth:`write` wrote into ``folder``, memory-mapped: opening it reads a
        few small files; the arrays are read from disk as requests touch them.

        Raises
        ------
        FileNotFoundError
            When ``folder`` holds no finished index.
        """
        manifest = json.loads((folder / INDEX_MANIFEST).read_text(encoding="utf-8"))
        out = cls.__new__(cls)
        out.run, out.names = run, names
        out.size, out.finds_rows = manifest["size"], manifest["finds_rows"]
        out._ids = load_arrow(folder / "ids")
        out._key = load_array(folder / "key")
        out._codes = {column: (load_array(folder / f"code-{column}"),
                               {v: i for i, v in enumerate(values)})
                      for column, values in manifest["codes"].items()}
        out._sort_keys = {}
        out._orders = {(sort, direction): load_array(folder / f"order-{sort}-{direction}")
                       for sort in manifest["sorts"] for direction in ("asc", "desc")}
        out._masks = OrderedDict()
        out._lock = threading.Lock()
        out.search = SearchIndex.load(folder)
        out._columns = Columns.open(folder / "rows")
        return out

    def _worded(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return add_words_to_rows(rows, self.names, self.run.language)

    def row(self, viewer: Viewer, customer_id: str) -> dict[str, Any]:
        """What :func:`tierwise.web.queries.customer_row` returns, for this run.

        Raises
        ------
        NotFound
            When the run has no such customer or the viewer may not see them (the same error).
        RuntimeError
            When :attr:`finds_rows` is false (ask the SQL instead).
        """
        if not self.finds_rows:
            raise RuntimeError("this run's ids are not in a searchable order")
        at = bisect.bisect_left(_Ids(self._ids), customer_id)
        if at >= self.size or self._ids[at].as_py() != customer_id:
            raise customer_not_found(customer_id, self.run)
        scope = self._scope(viewer)
        if scope is not None and not scope[at]:
            raise customer_not_found(customer_id, self.run)
        return self._worded([self._columns.row(at)])[0]

    def page(self, viewer: Viewer, query: CustomerQuery) -> dict[str, Any]:
        """What :func:`tierwise.web.queries.customer_page` returns, for this run."""
        query.order_by()  # the same check of the sort key as the SQL path
        if query.q and query.q.strip():  # few found: work on their positions, not on masks
            kept, mask = self._found(viewer, query), None
        else:
            mask, kept = self._selection(viewer, query)
        offset = (query.page - 1) * query.page_size
        picked = self._slice(query.sort, query.order, kept, mask, offset, query.page_size)
        items = [viewer.contacts(row)
                 for row in self._worded(self._columns.rows(picked, LIST_COLUMNS))]
        total = self.size if kept is None else len(kept)
        return {"run": self.run.to_dict(), "total": total, "page": query.page,
                "page_size": query.page_size,
                "pages": max(1, -(-total // query.page_size)), "sort": query.sort,
                "order": query.order, "items": items}

    def _slice(self, sort: str, direction: str, kept: np.ndarray | None,
               mask: np.ndarray | None, offset: int, size: int) -> np.ndarray:
        """Places ``offset`` to ``offset + size`` of the positions ``kept`` (None: all; ``mask``
        the same as a mask, when at hand) in the order of ``sort``.

        Few kept (a manager's book, a narrow search): sort them by their place in the full
        order. Many: walk the full order a block at a time and keep the masked ones, until the
        page is full (the first pages, the ones people look at, read a block or two).
        """
        order = self._order(sort, direction)
        if kept is None:
            return order[offset:offset + size]
        if len(kept) <= self.size // 64:
            places = self._places(sort, direction)[kept]
            return kept[np.argsort(places, kind="stable")[offset:offset + size]]
        if mask is None:
            mask = np.zeros(self.size, dtype=bool)
            mask[kept] = True
        wanted, found, blocks = offset + size, 0, []
        for start in range(0, self.size, _BLOCK):
            block = order[start:start + _BLOCK]
            blocks.append(block[mask[block]])
            found += len(blocks[-1])
            if found >= wanted:
                break
        return np.concatenate(blocks)[offset:wanted]

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
                self._orders[key] = _ordered(self._sort_keys[sort], direction)
            return self._orders[key]

    def _selection(self, viewer: Viewer, query: CustomerQuery
                   ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The customers the viewer's scope and the query's filters keep: a mask and positions
        (None, None: everyone)."""
        mask, kept = self._scoped(viewer)
        filtered = mask
        for column, values in (("tier", query.tiers), ("activity_state", query.states)):
            if values:
                filtered = _and(filtered, self._isin(column, values))
        if query.segments:
            filtered = _and(filtered, self._isin("segment", query.segments)
                            | self._isin("segment_level1", query.segments))
        if query.key_account is not None:
            filtered = _and(filtered, self._key == query.key_account)
        if filtered is mask:
            return mask, kept
        return filtered, np.flatnonzero(filtered)

    def _found(self, viewer: Viewer, query: CustomerQuery) -> np.ndarray:
        """The positions the search finds, in the viewer's scope and the query's filters."""
        kept = self.search.find(query.q or "")
        scope = self._scope(viewer)
        if scope is not None:
            kept = kept[scope[kept]]
        for column, values in (("tier", query.tiers), ("activity_state", query.states)):
            if values:
                kept = kept[self._isin(column, values, kept)]
        if query.segments:
            kept = kept[self._isin("segment", query.segments, kept)
                        | self._isin("segment_level1", query.segments, kept)]
        if query.key_account is not None:
            kept = kept[self._key[kept] == query.key_account]
        return kept

    def _scope(self, viewer: Viewer) -> np.ndarray | None:
        return self._scoped(viewer)[0]

    def _scoped(self, viewer: Viewer) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The viewer's customers as a mask and as positions (None, None: everyone)."""
        key = viewer.scope_key()
        with self._lock:
            if key in self._masks:
                self._masks.move_to_end(key)
                return self._masks[key]
        terms = viewer.scope_terms()
        mask = None if terms is None else np.zeros(self.size, dtype=bool)
        for column, values in terms or ():
            mask |= self._isin(column, values)
        scoped = (mask, None if mask is None else np.flatnonzero(mask).astype(np.int32))
        with self._lock:
            self._masks[key] = scoped
            while len(self._masks) > 64:  # one mask (a byte a customer) per distinct scope
                self._masks.popitem(last=False)
        return scoped

    def _isin(self, column: str, values: tuple[str, ...], at: np.ndarray | None = None
              ) -> np.ndarray:
        """Whether each customer (or each of the positions ``at``) has one of the values."""
        codes, lookup = self._codes[column]
        if at is not None:
            codes = codes[at]
        wanted = [lookup[v] for v in values if v in lookup]
        if not wanted:
            return np.zeros(len(codes), dtype=bool)
        return codes == wanted[0] if len(wanted) == 1 else np.isin(codes, wanted)


class _Ids:
    """A sorted id column as a sequence of Python strings, for :func:`bisect.bisect_left`."""

    def __init__(self, ids: pa.Array) -> None:
        self._ids = ids

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, i: int) -> str:
        return self._ids[i].as_py()


def rising(ids: pa.Array) -> bool:
    """Whether ``ids`` are unique and rising (as Python compares them) with no NULL: a
    customer is then found by a binary search."""
    return ids.null_count == 0 and (len(ids) < 2 or bool(pc.all(pc.less(
        ids.slice(0, len(ids) - 1), ids.slice(1))).as_py()))


def _ordered(values: np.ndarray, direction: str) -> np.ndarray:
    """Every position, sorted by ``values`` (a :func:`_sort_key`; NaN last) and then by
    position."""
    ranked = -values if direction == "desc" else values
    ranked = np.where(np.isnan(ranked), np.inf, ranked)
    return np.argsort(ranked, kind="stable").astype(np.int32)


def _both_orders(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_ordered` ascending and descending, with one sort: the descending order is the
    ascending one's runs of equal values in reverse, each run kept in position order (NaN
    last in both). Values with infinities are sorted twice."""
    asc = _ordered(values, "asc")
    if np.isinf(values).any():
        return asc, _ordered(values, "desc")
    valid = len(values) - int(np.isnan(values).sum())
    ranked = values[asc[:valid]]
    starts = np.concatenate([[0], np.flatnonzero(ranked[1:] != ranked[:-1]) + 1])
    lengths = np.diff(np.concatenate([starts, [valid]]))
    starts, lengths = starts[::-1], lengths[::-1]
    placed = np.cumsum(lengths) - lengths
    taken = np.repeat(starts - placed, lengths) + np.arange(valid)
    return asc, np.concatenate([asc[:valid][taken], asc[valid:]]).astype(np.int32)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _and(mask: np.ndarray | None, other: np.ndarray) -> np.ndarray:
    return other if mask is None else mask & other


def _encode(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, dict[str, int]]:
    """Integer codes of a text column (-1 for NULL) and the code of each value."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = column.dictionary_encode()
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


def _rows_of(run: RunInfo) -> tuple[str, list[Any]]:
    """The run's rows in the store's tables (or a copy of them), in ``customer_id`` order."""
    return "snapshot_customers WHERE run_id = ? ORDER BY customer_id, rowid", [run.run_id]


def _list_table(con: duckdb.DuckDBPyConnection, source: str, params: list[Any]) -> pa.Table:
    """What the list reads, filters, sorts and searches on, in the order of ``source``."""
    return con.sql(f"SELECT {', '.join(_LOAD)}, {PHONE_DIGITS_SQL} AS phone_digits "
                   f"FROM {source}", params=params).to_arrow_table()


def _row_columns(con: duckdb.DuckDBPyConnection, source: str, params: list[Any]) -> list[str]:
    """Every column of the rows but ``run_id``."""
    names = con.sql(f"SELECT * FROM {source} LIMIT 0", params=params).columns
    return [name for name in names if name != "run_id"]


class IndexShelf:
    """The index of the latest run, built once per new run and replaced when a newer comes."""

    def __init__(self) -> None:
        self._index: CustomerIndex | None = None
        self._lock = threading.Lock()

    def get(self, run_id: int) -> CustomerIndex | None:
        index = self._index
        return index if index is not None and index.run.run_id == run_id else None

    def update(self, con: duckdb.DuckDBPyConnection, latest: RunInfo | None,
               place: Callable[[], Path] | None = None) -> None:
        """The index of ``latest`` unless it is already there (None: drop it): opened from the
        folder ``place()`` returns (it writes it first when missing), else built in memory
        from ``con``'s ``snapshot_customers``."""
        with self._lock:
            if latest is not None and self._index is not None and self._index.run == latest:
                return
            self._index = None  # let the old one go first: one index in memory at a time
            if latest is None:
                return
            if place is None:
                self._index = CustomerIndex.build(con, latest)
                return
            folder = place()
            self._index = CustomerIndex.open(
                folder, latest, run_table(con, latest.run_id, NAMES_TABLE, words=False))


__all__ = ["CODED", "INDEX_MANIFEST", "Columns", "CustomerIndex", "IndexShelf", "SearchIndex",
           "rising"]

"""A table's columns read back as rows of JSON-ready values: in memory, or memory-mapped from
files written once (:meth:`Columns.write`, :meth:`Columns.open`).

A text column that repeats (fewer distinct values than a quarter of the rows) is held as integer
codes and one list of its distinct values, numbers and booleans as NumPy arrays, the rest (ids,
names, dates) as Arrow arrays. Reading a few rows then costs microseconds a value; pyarrow's
``to_pylist`` of a dictionary-encoded column, or its ``take``, cost tens of microseconds a column
whatever the rows.

On disk each column is one or two files of a folder (``.npy`` arrays, an Arrow IPC file, a JSON
list of a coded column's values) named in ``columns.json``, which is written last. Opened, the
arrays are memory-mapped: the server holds only the pages that requests read (a page of fifty
rows, one customer's row), not the run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .queries import clean

#: A text column with fewer distinct values than rows over this is held dictionary-encoded.
_REPEATS = 4
#: Columns read at a time when whole rows are arranged in memory.
_READ_COLUMNS = 12
#: The file naming the columns and their kinds (written last: a folder without it is unfinished).
MANIFEST = "columns.json"


class Columns:
    """A table's columns, read back as rows (see the module doc and :func:`clean`)."""

    def __init__(self, table: pa.Table) -> None:
        self.names = tuple(table.column_names)
        self._columns = {name: _column(column.combine_chunks())
                         for name, column in zip(self.names, table.columns, strict=True)}

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection, source: str, params: list[Any],
             names: list[str]) -> Columns:
        """``SELECT names FROM source`` (``source`` ends with its ``ORDER BY``), read a few
        columns at a time."""
        out = cls(pa.table({}))
        for start in range(0, len(names), _READ_COLUMNS):
            group = names[start:start + _READ_COLUMNS]
            table = con.sql(f"SELECT {_quoted(group)} FROM {source}",
                            params=params).to_arrow_table()
            for name, column in zip(group, table.columns, strict=True):
                out._columns[name] = _column(column.combine_chunks())
            del table
        out.names = tuple(names)
        return out

    @staticmethod
    def write(con: duckdb.DuckDBPyConnection, source: str, params: list[Any],
              names: list[str], folder: Path) -> None:
        """Write ``SELECT names FROM source`` into ``folder``, one column at a time (so that
        no more than one column is held in memory); :meth:`open` reads it back."""
        folder.mkdir(parents=True, exist_ok=True)
        kinds = []
        for i, name in enumerate(names):
            column = con.sql(f"SELECT {_quoted([name])} FROM {source}",
                             params=params).to_arrow_table().column(0).combine_chunks()
            kinds.append(_column(column).save(folder / f"c{i}"))
            del column
        (folder / MANIFEST).write_text(json.dumps({"names": names, "kinds": kinds}),
                                       encoding="utf-8")

    @classmethod
    def open(cls, folder: Path) -> Columns:
        """The columns :meth:`write` wrote into ``folder``, memory-mapped."""
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        out = cls(pa.table({}))
        out.names = tuple(manifest["names"])
        out._columns = {name: _KINDS[kind].load(folder / f"c{i}")
                        for i, (name, kind) in enumerate(zip(out.names, manifest["kinds"],
                                                              strict=True))}
        return out

    def row(self, at: int) -> dict[str, Any]:
        return {name: column.one(at) for name, column in self._columns.items()}

    def rows(self, picked: np.ndarray, names: tuple[str, ...]) -> list[dict[str, Any]]:
        """The rows at positions ``picked``, with the columns ``names``."""
        values = [self._columns[name].many(picked) for name in names]
        return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _quoted(names: list[str]) -> str:
    return ", ".join('"' + name.replace('"', '""') + '"' for name in names)


def _column(array: pa.Array) -> _Coded | _Numbers | _Arrow:
    kind = array.type
    if (pa.types.is_string(kind) or pa.types.is_large_string(kind)) and \
            pc.count_distinct(array).as_py() * _REPEATS < len(array):
        return _Coded(array)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return _Numbers(array)
    return _Arrow(array)


def save_array(path: Path, array: np.ndarray) -> None:
    """``array`` as ``path`` + ``.npy`` (:func:`load_array` maps it back)."""
    np.save(path.with_name(path.name + ".npy"), np.ascontiguousarray(array),
            allow_pickle=False)


def load_array(path: Path) -> np.ndarray:
    return np.load(path.with_name(path.name + ".npy"), mmap_mode="r", allow_pickle=False)


def save_arrow(path: Path, array: pa.Array) -> None:
    """``array`` as an Arrow IPC file ``path`` + ``.arrow`` (one batch, uncompressed)."""
    table = pa.table({"v": array})
    with pa.OSFile(str(path.with_name(path.name + ".arrow")), "wb") as sink, \
            pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def load_arrow(path: Path) -> pa.Array:
    """The array :func:`save_arrow` wrote, memory-mapped (no copy)."""
    source = pa.memory_map(str(path.with_name(path.name + ".arrow")), "r")
    table = pa.ipc.open_file(source).read_all()
    column = table.column(0)
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


class _Coded:
    """Codes and the distinct values (the last one None, for code -1)."""

    def __init__(self, array: pa.Array) -> None:
        encoded = array.dictionary_encode()
        self.values = [*encoded.dictionary.to_pylist(), None]
        self.codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False
                                                            ).astype(np.int32)

    def save(self, path: Path) -> str:
        save_array(path, self.codes)
        path.with_name(path.name + ".json").write_text(json.dumps(self.values[:-1]),
                                                      encoding="utf-8")
        return "coded"

    @classmethod
    def load(cls, path: Path) -> _Coded:
        out = cls.__new__(cls)
        out.codes = load_array(path)
        out.values = [*json.loads(path.with_name(path.name + ".json").read_text("utf-8")), None]
        return out

    def one(self, at: int) -> Any:
        return self.values[self.codes[at]]

    def many(self, picked: np.ndarray) -> list[Any]:
        values = self.values
        return [values[c] for c in self.codes[picked].tolist()]


class _Numbers:
    """Numbers or booleans; NULL, NaN and infinities read as None."""

    def __init__(self, array: pa.Array) -> None:
        floating = pa.types.is_floating(array.type)
        zero = False if pa.types.is_boolean(array.type) else 0
        self.data = array.fill_null(zero).to_numpy(zero_copy_only=False)
        missing = array.is_null().to_numpy(zero_copy_only=False)
        if floating:
            missing = missing | ~np.isfinite(self.data)
        self.missing = missing if missing.any() else None

    def save(self, path: Path) -> str:
        save_array(path, self.data)
        if self.missing is not None:
            save_array(path.with_name(path.name + "-missing"), self.missing)
        return "numbers"

    @classmethod
    def load(cls, path: Path) -> _Numbers:
        out = cls.__new__(cls)
        out.data = load_array(path)
        missing = path.with_name(path.name + "-missing")
        out.missing = load_array(missing) if missing.with_name(missing.name + ".npy").exists() \
            else None
        return out

    def one(self, at: int) -> Any:
        if self.missing is not None and self.missing[at]:
            return None
        return self.data[at].item()

    def many(self, picked: np.ndarray) -> list[Any]:
        values = self.data[picked].tolist()
        if self.missing is not None:
            for i in np.flatnonzero(self.missing[picked]).tolist():
                values[i] = None
        return values


class _Arrow:
    """Any other type, read through pyarrow (dates, times, decimals, unique texts)."""

    def __init__(self, array: pa.Array) -> None:
        self.array = array
        #: Texts need no cleaning; other types may hold NaT or NaN.
        self.text = pa.types.is_string(array.type) or pa.types.is_large_string(array.type)

    def save(self, path: Path) -> str:
        save_arrow(path, self.array)
        return "arrow"

    @classmethod
    def load(cls, path: Path) -> _Arrow:
        return cls(load_arrow(path))

    def one(self, at: int) -> Any:
        return clean(self.array[at].as_py())

    def many(self, picked: np.ndarray) -> list[Any]:
        values = self.array.take(pa.array(picked, type=pa.int64())).to_pylist()
        return values if self.text else [clean(v) for v in values]


_KINDS: dict[str, Any] = {"coded": _Coded, "numbers": _Numbers, "arrow": _Arrow}

__all__ = ["MANIFEST", "Columns", "load_array", "load_arrow", "save_array", "save_arrow"]

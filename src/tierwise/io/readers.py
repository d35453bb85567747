"""Readers: CSV, Excel (.xlsx), Parquet and databases into one raw shape, :class:`RawTable`.

A reader does not interpret values. It returns the header texts as they appear in the source, the
rows (text columns, or natively typed numeric / datetime columns where the source has types), and
the source line number of every row:

- CSV: the physical line on which the record starts (the header is line 1); correct with quoted
  fields that span lines, blank lines, and ``\\r\\n`` line ends.
- Excel: the row number the spreadsheet shows.
- Parquet and databases: row index + 1.

CSV is parsed by pyarrow's multi-threaded reader. Record boundaries, line numbers and field counts
come from a vectorised numpy scan of the bytes; the scan is only trusted for RFC 4180 quoting (every
quote opens or closes a field), and it is checked against pyarrow's row count. Anything else falls
back to Python's :mod:`csv` module, which is slower but reads the same files the same way. Records
whose field count differs from the header's never reach the frame: they are returned in
``RawTable.bad`` with a reason, for the rejects file.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataContractError
from .encoding import decode_bytes, is_utf8, stream_plan

_DELIMITERS = (",", ";", "\t", "|")
_STRAY_MARK = "the quote that opens on line"
_SUFFIX_FORMAT = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
                  ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class RawTable:
    """Rows as read, before header mapping and value parsing.

    ``frame`` has positional columns ``c0 .. c{n-1}`` (header texts may repeat or be empty, so they
    are kept apart in ``headers``). Text columns use pandas' string dtype with ``''`` for empty;
    typed sources may give float64 or datetime64 columns. ``machine`` holds the positions of text
    columns whose numbers are machine-written (``.`` decimal, no grouping: database output), so the
    ``decimal`` setting does not apply to them.
    """

    headers: list[str]
    frame: pd.DataFrame
    lines: np.ndarray
    label: str
    stem: str
    encoding: str | None = None
    machine: set[int] = field(default_factory=set)
    bad: pd.DataFrame | None = None  # columns _line, _reason, c0..c{n-1}
    warnings: list[str] = field(default_factory=list)


def column_names(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]


# --------------------------------------------------------------------------------------- files


def detect_format(path: Path, fmt: str) -> str:
    """``csv`` / ``xlsx`` / ``parquet`` from the config, the suffix, or the first bytes."""
    if fmt != "auto":
        return fmt
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise DataContractError(f"{path}: the old Excel .xls format is not supported",
                                "open it in Excel and save it as .xlsx (or CSV UTF-8)")
    if suffix in _SUFFIX_FORMAT:
        return _SUFFIX_FORMAT[suffix]
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic.startswith(b"PK"):
        return "xlsx"
    if magic == b"PAR1":
        return "parquet"
    return "csv"


def read_file(path: Path, *, label: str, fmt: str = "auto", encoding: str = "auto",
              delimiter: str | None = None, sheet: str | int = 0,
              section: str = "sources") -> RawTable:
    """Read a CSV, Excel or Parquet file into a :class:`RawTable`.

    Raises
    ------
    DataContractError
        When the file is missing or unreadable, the encoding cannot be told, or a sheet is missing.
    """
    if not path.exists():
        raise DataContractError(f"{label}: file not found ({path})",
                                f"check 'path' under [{section}] (relative to the config file)")
    if not path.is_file():
        raise DataContractError(f"{label}: is not a file ({path})",
                                f"point 'path' under [{section}] to a CSV, .xlsx or .parquet file")
    kind = detect_format(path, fmt)
    stem = path.stem
    try:
        if kind == "xlsx":
            return read_xlsx(path, sheet=sheet, label=label, stem=stem, section=section)
        if kind == "parquet":
            return read_parquet(path, label=label, stem=stem)
    except OSError as exc:
        raise DataContractError(f"{label}: cannot read the file ({exc.strerror or exc})",
                                "check that the file exists and is readable") from None
    notes: list[str] = []
    utf8, enc = _decoded(path, encoding, label=label, section=section, notes=notes)
    table = read_csv_bytes(utf8, label=label, stem=stem, delimiter=delimiter, encoding=enc,
                           section=section)
    table.warnings[:0] = notes
    return table


def _decoded(path: Path, encoding: str, *, label: str, section: str, notes: list[str]
             ) -> tuple[bytes, str]:
    """A CSV file's bytes decoded (:func:`decode_bytes`), or a clear error when unreadable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataContractError(f"{label}: cannot read the file ({exc.strerror or exc})",
                                "check that the file exists and is readable") from None
    return decode_bytes(data, encoding, label=label, section=section, notes=notes)


def read_file_batches(path: Path, *, label: str, fmt: str = "auto", encoding: str = "auto",
                      delimiter: str | None = None, sheet: str | int = 0,
                      section: str = "sources", batch_rows: int = 1_000_000
                      ) -> Iterator[RawTable]:
    """:func:`read_file` in batches of about ``batch_rows`` rows, each a :class:`RawTable`
    whose ``lines`` are the file's own line numbers (bounded memory for large files).

    Parquet is read a batch at a time. A CSV file is read and decoded a block at a time
    (:func:`_csv_stream`: its encoding told from its first bytes and checked over all of it
    before a row is handed out), then parsed a stretch of whole records at a time; a CSV whose
    encoding only the whole file tells (mixed lines, a guessed code page, a byte that does not
    decode) is read and decoded whole first, as :func:`read_file` does. A CSV whose quoted
    fields span lines, whose quotes do not open or close fields, or whose lines end in a lone
    ``\\r`` is parsed in one piece. The batches are the same either way (the same bytes, cut
    at the same lines). Excel workbooks are one batch. The warnings of the reading (encoding
    notes) come with the first batch.
    """
    if path.exists() and path.is_file():
        kind = detect_format(path, fmt)
        if kind == "parquet":
            yield from _parquet_batches(path, label=label, stem=path.stem, batch_rows=batch_rows)
            return
        if kind == "csv":
            yield from _csv_batches(path, label=label, encoding=encoding, delimiter=delimiter,
                                    section=section, batch_rows=batch_rows)
            return
    yield read_file(path, label=label, fmt=fmt, encoding=encoding, delimiter=delimiter,
                    sheet=sheet, section=section)


_HEAD_BYTES = 1 << 20  # the bytes the encoding of a streamed CSV is told from
_BLOCK_BYTES = 1 << 24  # the bytes read (and decoded) at a time


class _Whole(Exception):
    """The CSV must be read whole (a byte does not decode as its first bytes said, a quoted
    field spans lines, ...): raised before any batch is handed out."""


def _csv_batches(path: Path, *, label: str, encoding: str, delimiter: str | None, section: str,
                 batch_rows: int, block_bytes: int = _BLOCK_BYTES) -> Iterator[RawTable]:
    try:
        stream = _csv_stream(path, encoding=encoding, delimiter=delimiter,
                             batch_rows=batch_rows, block_bytes=block_bytes)
    except _Whole:
        stream = None
    except OSError as exc:
        raise DataContractError(f"{label}: cannot read the file ({exc.strerror or exc})",
                                "check that the file exists and is readable") from None
    if stream is None:
        yield from _csv_batches_whole(path, label=label, encoding=encoding, delimiter=delimiter,
                                      section=section, batch_rows=batch_rows)
        return
    plan, delimiter, total = stream
    first_line = 2
    chunks = _stream_chunks(path, plan, batch_rows, block_bytes, total)
    while True:
        try:
            chunk = next(chunks, None)
        except (_Whole, OSError):  # the first pass read it all
            raise DataContractError(f"{label}: the file changed while it was read",
                                    "read it again once it is written") from None
        if chunk is None:
            return
        table = read_csv_bytes(chunk, label=label, stem=path.stem, delimiter=delimiter,
                               encoding=plan[1], section=section)
        del chunk
        shift = first_line - 2
        table.lines = table.lines + shift
        if table.bad is not None and len(table.bad):
            table.bad["_line"] = table.bad["_line"].to_numpy() + shift
        first_line += batch_rows
        yield table
        del table  # not held while the next batch is read


def _utf8_blocks(path: Path, plan: tuple[str, str, int], block_bytes: int) -> Iterator[bytes]:
    """The file's text as UTF-8 blocks of whole lines (each ends after a ``\\n``, but the
    last), decoded with the plan's codec (an incremental decoder: a character split between two
    reads is decoded whole); :class:`_Whole` when a byte does not decode."""
    codec, _, skip = plan
    carry = b""
    with path.open("rb") as fh:
        fh.seek(skip)
        if codec == "utf-8":  # checked, not decoded: a \n is never inside a UTF-8 character
            while raw := fh.read(block_bytes):
                data = carry + raw
                end = data.rfind(b"\n") + 1
                block, carry = data[:end], data[end:]
                del data
                if block:
                    if not is_utf8(block):
                        raise _Whole
                    yield block
                    del block
            if carry:
                if not is_utf8(carry):
                    raise _Whole
                yield carry
            return
        decoder = codecs.getincrementaldecoder(codec)(errors="strict")
        started = False
        while True:
            raw = fh.read(block_bytes)
            try:
                text = decoder.decode(raw, final=not raw)
                if not started and text:
                    text, started = text.removeprefix("\ufeff"), True  # as decode_bytes does
                data = carry + text.encode("utf-8")
            except (UnicodeDecodeError, UnicodeEncodeError):
                raise _Whole from None  # decode_bytes names the line (or the rule that applies)
            del text
            if not raw:
                if data:
                    yield data
                return
            end = data.rfind(b"\n") + 1
            block, carry = data[:end], data[end:]
            del data
            if block:
                yield block
                del block


def _csv_stream(path: Path, *, encoding: str, delimiter: str | None, batch_rows: int,
                block_bytes: int) -> tuple[tuple[str, str, int], str, int] | None:
    """Whether the CSV can be read a block at a time: ``(plan, delimiter, UTF-8 length)``, or
    ``None`` when it is small (one batch), or :class:`_Whole` when it must be read whole.

    One pass over the file before any row is handed out checks what reading it whole would
    decide differently: every byte decodes with the codec its first bytes gave
    (:func:`stream_plan`), and :func:`_record_cuts` would cut it (no quoted field spanning
    lines, no lone ``\\r``, no blank first line). The delimiter is sniffed from the same first
    64 KB of text as when reading whole.
    """
    with path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES + 1)
    if len(head) <= _HEAD_BYTES:
        return None  # small: read whole
    plan = stream_plan(head, encoding)
    del head
    if plan is None:
        raise _Whole
    blocks = _utf8_blocks(path, plan, block_bytes)
    first: list[bytes] = []
    size = 0
    for block in blocks:  # the text sniff_delimiter reads (and one byte more)
        first.append(block)
        size += len(block)
        if size > 65536:
            break
    if not first:
        return None
    if first[0].startswith((b"\n", b"\r\n")):
        raise _Whole
    if delimiter is None:
        delimiter = sniff_delimiter(b"".join(first)[:65537])
    if len(delimiter) != 1 or ord(delimiter) > 127:
        raise _Whole
    total = newlines = 0
    for block in itertools.chain(first, blocks):  # a block at a time, not a list of all
        total += len(block)
        newlines += block.count(b"\n")
        if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
            raise _Whole
        if b'"' in block and not _quotes_within_lines(block, delimiter):
            raise _Whole
        del block
    first.clear()
    if newlines <= batch_rows + 1:
        return None  # one batch: read whole
    return plan, delimiter, total


def _stream_chunks(path: Path, plan: tuple[str, str, int], batch_rows: int, block_bytes: int,
                   total: int) -> Iterator[bytes]:
    """The header line plus every stretch of ``batch_rows`` lines, as :func:`_record_cuts` cuts
    the whole text (no cut at the very end of the text); ``total`` is the text's length."""
    header: bytes | None = None
    pieces: list[bytes] = []
    need = batch_rows  # line ends still to pass before the next cut
    offset = 0  # of the block in the text
    for block in _utf8_blocks(path, plan, block_bytes):
        start = 0
        if header is None:
            start = block.find(b"\n") + 1
            header = block[:start]
        nl = np.flatnonzero(np.frombuffer(block, np.uint8)[start:] == 10) + start
        k = need - 1
        while k < len(nl):
            cut = int(nl[k]) + 1
            if offset + cut >= total:
                break
            pieces.append(block[start:cut])
            yield b"".join([header, *pieces])
            pieces.clear()
            start = cut
            k += batch_rows
        need = k - len(nl) + 1
        if start < len(block):
            pieces.append(block[start:] if start else block)
        offset += len(block)
        del block
    if pieces:
        yield b"".join([header or b"", *pieces])


def _csv_batches_whole(path: Path, *, label: str, encoding: str, delimiter: str | None,
                       section: str, batch_rows: int) -> Iterator[RawTable]:
    """The CSV read and decoded whole, then parsed a stretch of whole records at a time."""
    notes: list[str] = []
    utf8, enc = _decoded(path, encoding, label=label, section=section, notes=notes)
    if delimiter is None:
        delimiter = sniff_delimiter(utf8)
    cuts = _record_cuts(utf8, delimiter, batch_rows)
    if cuts is None:
        table = read_csv_bytes(utf8, label=label, stem=path.stem, delimiter=delimiter,
                               encoding=enc, section=section)
        table.warnings[:0] = notes
        yield table
        return
    header, body = utf8[:cuts[0]], cuts[0]
    first_line = 2
    for end in [*cuts[1:], len(utf8)]:
        chunk = header + utf8[body:end]
        table = read_csv_bytes(chunk, label=label, stem=path.stem, delimiter=delimiter,
                               encoding=enc, section=section)
        shift = first_line - 2
        table.lines = table.lines + shift
        if table.bad is not None and len(table.bad):
            table.bad["_line"] = table.bad["_line"].to_numpy() + shift
        if notes:
            table.warnings[:0], notes = notes, []
        first_line += utf8.count(b"\n", body, end)
        body = end
        del chunk
        yield table
        del table  # not held while the next batch is read


def _record_cuts(data: bytes, delim: str, batch_rows: int) -> list[int] | None:
    """Byte offsets where the header ends and then every ``batch_rows`` lines a record starts;
    ``None`` when the file must be parsed in one piece: it is small, a quoted field spans lines,
    a quote neither opens nor closes a field, or a line ends in a lone ``\\r``.

    With no quoted field spanning lines, every line is one record, so a cut after any line
    ``\\n`` parses each stretch exactly as the whole file would be parsed.
    """
    if ord(delim) > 127 or data.count(b"\n") <= batch_rows + 1:
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    if data.startswith((b"\n", b"\r\n")):
        return None
    if b'"' in data and not _quotes_within_lines(data, delim):
        return None
    header_end = data.find(b"\n")
    if header_end < 0 or header_end + 1 >= len(data):
        return None
    cuts = [header_end + 1, *(pos + 1 for pos in _every_nth_newline(data, header_end, batch_rows)
                              if pos + 1 < len(data))]
    return cuts if len(cuts) > 1 else None


def _every_nth_newline(data: bytes, start: int, n: int, window: int = 1 << 26) -> list[int]:
    """Offsets of the ``n``-th, ``2n``-th, ... ``\\n`` after offset ``start``, found with numpy
    a stretch of ``window`` bytes at a time (not one ``find`` per line in Python)."""
    buf = np.frombuffer(data, np.uint8)
    out: list[int] = []
    need, a = n, start + 1
    while a < len(data):
        b = min(len(data), a + window)
        nl = np.flatnonzero(buf[a:b] == 10)
        if len(nl) >= need:
            picks = nl[need - 1::n]
            out.extend((picks + a).tolist())
            need = n - (len(nl) - 1 - (need - 1 + (len(picks) - 1) * n))
        else:
            need -= len(nl)
        a = b
    return out


def _quotes_within_lines(data: bytes, delim: str, window: int = 1 << 26) -> bool:
    """Every quote opens or closes a field (as :func:`_scan` checks) and every line holds
    whole quoted fields; read a stretch of whole lines at a time."""
    dcode, n = ord(delim), len(data)
    buf = np.frombuffer(data, np.uint8)
    a = 0
    while a < n:
        b = data.find(b"\n", min(n, a + window))
        b = n if b < 0 else b + 1
        q = np.flatnonzero(buf[a:b] == 34) + a
        if len(q):
            if len(q) % 2:
                return False
            opens, closes = q[0::2], q[1::2]
            prev = buf[np.maximum(opens - 1, 0)]
            nxt = buf[np.minimum(closes + 1, n - 1)]
            if not (((opens == 0) | (prev == dcode) | (prev == 10) | (prev == 34)).all()
                    and ((closes == n - 1) | (nxt == dcode) | (nxt == 13) | (nxt == 10)
                         | (nxt == 34)).all()):
                return False
            nl = np.flatnonzero(buf[a:b] == 10) + a
            if (np.searchsorted(q, nl) % 2).any():
                return False
        a = b
    return True


# ----------------------------------------------------------------------------------------- CSV


def sniff_delimiter(data: bytes) -> str:
    """Pick the delimiter among ``, ; tab |`` that splits the first lines most consistently."""
    cut = data[:65536]
    sample = cut.decode("utf-8", errors="ignore")
    lines = [ln for ln in sample.splitlines() if ln.strip()]
    if len(cut) < len(data) and len(lines) > 1:
        lines = lines[:-1]
    lines = [re.sub(r'"[^"]*"', "", ln) for ln in lines[:50]]
    if not lines:
        return ","
    best, best_score = ",", -1
    for cand in _DELIMITERS:
        width = lines[0].count(cand)
        if width == 0:
            continue
        score = sum(1 for ln in lines if ln.count(cand) == width)
        if score > best_score:
            best, best_score = cand, score
    return best


def read_csv_bytes(data: bytes, *, label: str, stem: str, delimiter: str | None = None,
                   encoding: str | None = "utf-8", section: str = "sources",
                   record_numbers: bool = False) -> RawTable:
    """Parse UTF-8 CSV bytes (no BOM).

    ``record_numbers=True`` numbers the data records 1, 2, ... instead of by physical line (used
    for database output, where the row index is the line).
    """
    if delimiter is None:
        delimiter = sniff_delimiter(data)
    if len(delimiter) != 1 or delimiter in "\"\r\n":
        raise DataContractError(f"{label}: delimiter {delimiter!r} cannot be used",
                                f"set delimiter under [{section}] to one character such as ',' "
                                "';' '\\t' or '|'")
    parsed = _fast_csv(data, delimiter)
    if parsed is None:
        parsed = _slow_csv(data, delimiter, label)
    headers, frame, lines, bad = parsed
    if record_numbers:
        lines = np.arange(1, len(lines) + 1, dtype=np.int64)
        if bad is not None and len(bad):  # pragma: no cover - database output is always regular
            raise DataContractError(f"{label}: the database returned irregular rows")
    table = RawTable(headers=headers, frame=frame, lines=lines, label=label, stem=stem,
                     encoding=encoding, bad=bad)
    _check_width(table, delimiter, section)
    return table


def _check_width(table: RawTable, delimiter: str, section: str) -> None:
    """Refuse the file when most records do not fit the header: the delimiter is wrong."""
    n_bad = 0 if table.bad is None else int((~table.bad["_reason"].str.contains(
        _STRAY_MARK, regex=False)).sum())
    total = n_bad + len(table.frame)
    if n_bad >= 5 and n_bad * 2 > total:
        first = table.bad[~table.bad["_reason"].str.contains(_STRAY_MARK, regex=False)].iloc[0]
        raise DataContractError(
            f"{table.label}: {n_bad} of {total} rows do not have the header's "
            f"{len(table.headers)} fields (first: line {first['_line']}: {first['_reason']})",
            f"check the delimiter (read as {delimiter!r}): set delimiter under [{section}]",
        )


def _record_fields(text: str, delimiter: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
    return [f for row in rows for f in row] if rows else [""]


def _arrow_parse(data: bytes, delim: str, width: int, multiline: bool):
    """pyarrow's parse as text columns; returns (table, field counts of skipped rows) or None."""
    import pyarrow.csv as pacsv

    invalid: list[int] = []

    def on_invalid(row) -> str:
        invalid.append(row.actual_columns)
        return "skip"

    names = column_names(width)
    try:
        tbl = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(delimiter=delim, quote_char='"', double_quote=True,
                                             escape_char=False, newlines_in_values=multiline,
                                             ignore_empty_lines=True,
                                             invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.large_string() for c in names},
                                                 strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return tbl, invalid


def _text_frame(tbl: pa.Table) -> pd.DataFrame:
    return pd.DataFrame({c: pd.array(tbl.column(c), dtype="str") for c in tbl.column_names},
                        index=pd.RangeIndex(tbl.num_rows))


def _has_blank_line(data: bytes) -> bool:
    if data.startswith((b"\n", b"\r\n")):
        return True
    buf = np.frombuffer(data, np.uint8)
    nl = np.flatnonzero(buf == 10)
    gap = np.diff(nl)
    return bool((gap == 1).any() or ((gap == 2) & (buf[nl[:-1] + 1] == 13)).any())


def _scan(data: bytes, delim: str):
    """Record (start, end, line, field count) arrays from a vectorised scan of the bytes;
    ``None`` unless every quote opens or closes a field (RFC 4180)."""
    n = len(data)
    buf = np.frombuffer(data, np.uint8)
    dcode = ord(delim)
    nl = np.flatnonzero(buf == 10)
    dpos = np.flatnonzero(buf == dcode)
    if b'"' in data:
        q = np.flatnonzero(buf == 34)
        if len(q) % 2:
            return None
        opens, closes = q[0::2], q[1::2]
        prev = buf[np.maximum(opens - 1, 0)]
        ok_open = (opens == 0) | (prev == dcode) | (prev == 10) | (prev == 34)
        nxt = buf[np.minimum(closes + 1, n - 1)]
        ok_close = (closes == n - 1) | (nxt == dcode) | (nxt == 13) | (nxt == 10) | (nxt == 34)
        if not (ok_open.all() and ok_close.all()):
            return None
        term = nl[np.searchsorted(q, nl) % 2 == 0]
        dpos = dpos[np.searchsorted(q, dpos) % 2 == 0]
    else:
        term = nl
    starts = np.concatenate(([0], term + 1))
    ends = np.concatenate((term, [n]))
    at_nl = np.concatenate((np.ones(len(term), bool), [False]))
    cr = at_nl & (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    ends = ends - cr
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    lines = np.searchsorted(nl, starts).astype(np.int64) + 1
    counts = np.searchsorted(dpos, ends) - np.searchsorted(dpos, starts) + 1
    return starts, ends, lines, counts


def _fast_path_swallows(data: bytes, starts, ends, lines, delim: str, counts) -> bool:
    """Whether a multi-line record looks like a stray quote (the careful path then decides)."""
    if not len(starts):
        return False
    nl = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    end_lines = np.searchsorted(nl, ends).astype(np.int64) + 1
    width = int(counts[0])
    multi = np.flatnonzero((end_lines[1:] > lines[1:]) & (counts[1:] != width)) + 1
    for i in multi[:1000]:
        text = data[starts[i]:ends[i]].decode("utf-8", errors="replace")
        if _swallows(text.split("\n")[1:], delim, width):
            return True
    return False


def _fast_csv(data: bytes, delim: str):
    """pyarrow parse + line numbers; ``None`` when the file needs the careful path.

    Without quotes and blank lines, record k is on line k + 2 and pyarrow's own check of the field
    counts suffices; otherwise a byte scan gives each record's line and field count.
    """
    if ord(delim) > 127 or not data:
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None  # old Mac line ends
    has_quotes = b'"' in data
    parsed = None
    if not has_quotes and not _has_blank_line(data):
        cut = data.find(b"\n")
        first = (data if cut < 0 else data[:cut]).rstrip(b"\r")
        headers = _record_fields(first.decode("utf-8"), delim)
        parsed = _arrow_parse(data, delim, len(headers), multiline=False)
        if parsed is not None and not parsed[1]:
            tbl = parsed[0]
            return (headers, _text_frame(tbl.slice(1)),
                    np.arange(2, tbl.num_rows + 1, dtype=np.int64), None)
    scan = _scan(data, delim)
    if scan is None:
        return None
    starts, ends, lines, counts = scan
    if has_quotes and _fast_path_swallows(data, starts, ends, lines, delim, counts):
        return None
    if len(starts) == 0:
        return [], pd.DataFrame(), np.zeros(0, np.int64), None
    headers = _record_fields(data[starts[0]:ends[0]].decode("utf-8"), delim)
    width = len(headers)
    if counts[0] != width:
        return None
    if parsed is None or len(parsed[0].column_names) != width:
        parsed = _arrow_parse(data, delim, width, multiline=has_quotes)
    if parsed is None:
        return None
    tbl, invalid = parsed
    good = counts == width
    if tbl.num_rows != int(good.sum()) or len(invalid) != int((~good).sum()):
        return None
    frame = _text_frame(tbl.slice(1))
    data_good = good[1:]
    bad = None
    if not data_good.all():
        idx = np.flatnonzero(~data_good) + 1
        recs = [_record_fields(data[starts[i]:ends[i]].decode("utf-8"), delim) for i in idx]
        bad = _bad_frame(recs, lines[idx], width, delim)
    return headers, frame, lines[1:][data_good], bad


def _slow_csv(data: bytes, delim: str, label: str):
    text = data.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quotechar='"',
                        doublequote=True, strict=False)
    records: list[list[str]] = []
    starts: list[int] = []
    ends: list[int] = []
    prev = 0
    try:
        for rec in reader:
            start, prev = prev + 1, reader.line_num
            if rec:
                records.append(rec)
                starts.append(start)
                ends.append(prev)
    except csv.Error as exc:
        raise DataContractError(f"{label}: cannot read line {reader.line_num} as CSV ({exc})",
                                "check the quotes on that line, or save the file again as CSV"
                                ) from None
    if not records:
        return [], pd.DataFrame(), np.zeros(0, np.int64), None
    headers, width = records[0], len(records[0])
    # Lines as the csv module counts them (\n, \r\n and a lone \r each end one).
    physical = [ln.rstrip("\r\n") for ln in io.StringIO(text, newline="").readlines()]
    stray = _stray_quotes(records, starts, ends, physical, delim, width)
    lines = np.asarray(starts, dtype=np.int64)
    ok = [len(r) == width and i + 1 not in stray for i, r in enumerate(records[1:])]
    good = [r for r, k in zip(records[1:], ok) if k]
    cols = list(zip(*good)) if good else [()] * width
    frame = pd.DataFrame({name: pd.Series(list(col), dtype="str")
                          for name, col in zip(column_names(width), cols)})
    ok_arr = np.asarray(ok, dtype=bool)
    parts = []
    if len(ok_arr) and not ok_arr.all():
        recs = [r for i, (r, k) in enumerate(zip(records[1:], ok)) if not k and i + 1 not in stray]
        if recs:
            bad_lines = [ln for i, (ln, k) in enumerate(zip(lines[1:], ok))
                         if not k and i + 1 not in stray]
            parts.append(_bad_frame(recs, np.asarray(bad_lines), width, delim))
    for i in sorted(stray):
        parts.append(_swallowed_frame(starts[i], ends[i], physical, delim, width,
                                      closed=stray[i]))
    bad = pd.concat(parts, ignore_index=True) if parts else None
    return headers, frame, lines[1:][ok_arr] if len(ok_arr) else lines[1:], bad


def _swallows(lines: list[str], delim: str, width: int) -> bool:
    """True when the continuation lines of a multi-line record (one whose field count is
    wrong) look like rows of their own: at least half have the header's field count."""
    rows = [ln.rstrip("\r") for ln in lines if ln.strip()]
    if not rows or width < 2:
        return False
    full = sum(1 for ln in rows if len(_fields_unquoted(ln, delim)) == width)
    return full >= max(1, (len(rows) + 1) // 2)


def _fields_unquoted(line: str, delim: str) -> list[str]:
    """The fields of one physical line, quotes taken as plain characters."""
    return line.split(delim)


def _stray_quotes(records, starts, ends, physical, delim, width) -> dict[int, bool]:
    """Records (by index) that are a stray quote swallowing the following lines; the value
    says whether the quote closes at all (False: it runs to the end of the file)."""
    out: dict[int, bool] = {}
    last = len(records) - 1
    for i in range(1, len(records)):
        a, b = starts[i], ends[i]
        raw = "\n".join(physical[a - 1:b])
        never = i == last and raw.count('"') % 2 == 1
        if b <= a and not never:
            continue
        if never or (len(records[i]) != width and _swallows(physical[a:b], delim, width)):
            out[i] = not never
    return out


def _swallowed_frame(a: int, b: int, physical: list[str], delim: str, width: int, *,
                     closed: bool) -> pd.DataFrame:
    """Rejects for a stray quote: the line it opens on, and each line it swallowed."""
    span = f"lines {a + 1}-{b}" if b > a + 1 else f"line {a + 1}"
    until = f"closes only on line {b}" if closed else "never closes"
    rows, reasons, lines = [], [], []
    for ln in range(a, min(b, len(physical)) + 1):
        text = physical[ln - 1]
        if ln > a and not text.strip():
            continue
        rows.append((_fields_unquoted(text, delim) + [""] * width)[:width])
        lines.append(ln)
        if ln == a:
            swallowed = f": it swallowed {span} into one field" if b > a else ""
            reasons.append(f"the quote that opens on line {a} {until}{swallowed}; remove the "
                           "stray quote or close it, and read the file again")
        else:
            reasons.append(f"swallowed by the quote that opens on line {a} and {until}: fix "
                           f"line {a} and read the file again")
    frame = pd.DataFrame(rows, columns=column_names(width), dtype="str")
    frame.insert(0, "_reason", pd.Series(reasons, dtype="str"))
    frame.insert(0, "_line", np.asarray(lines, dtype=np.int64))
    return frame


def _bad_frame(records: list[list[str]], lines: np.ndarray, width: int, delim: str) -> pd.DataFrame:
    shown = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}.get(delim, repr(delim))
    reasons, rows = [], []
    for rec in records:
        n = len(rec)
        what = "more" if n > width else "fewer"
        reasons.append(f"has {n} field{'s' if n != 1 else ''} but the header has {width} "
                       f"({what} {shown}-separated values than columns): check the delimiter "
                       "and the quotes on this line")
        rows.append((rec + [""] * width)[:width])
    frame = pd.DataFrame(rows, columns=column_names(width), dtype="str")
    frame.insert(0, "_reason", pd.Series(reasons, dtype="str"))
    frame.insert(0, "_line", np.asarray(lines, dtype=np.int64))
    return frame


# --------------------------------------------------------------------------------------- Excel


def _cell_text(v) -> str:
    import datetime as dt

    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e16 else repr(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return str(v)


def _excel_column(values: list) -> pd.Series:
    import datetime as dt

    present = [v for v in values if v is not None and v != ""]
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pd.Series([np.nan if v is None or v == "" else float(v) for v in values],
                         dtype="float64")
    if present and all(isinstance(v, (dt.datetime, dt.date)) for v in present):
        conv = [pd.NaT if v is None or v == "" else pd.Timestamp(v) for v in values]
        return pd.Series(pd.to_datetime(conv)).astype("datetime64[us]")
    return pd.Series([_cell_text(v) for v in values], dtype="str")


def read_xlsx(path: Path, *, sheet: str | int, label: str, stem: str,
              section: str = "sources") -> RawTable:
    """Read one sheet of an .xlsx workbook (values, not formulas)."""
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a core dependency
        from ..errors import MissingDependencyError
        raise MissingDependencyError("openpyxl", "excel", "reading .xlsx files") from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - BadZipFile, KeyError, InvalidFileException ...
        raise DataContractError(f"{label}: cannot open as an Excel workbook ({exc})",
                                "save it again as .xlsx, or set format under "
                                f"[{section}]") from None
    try:
        names = wb.sheetnames
        if isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise _missing_sheet(label, sheet, names, section)
            ws = wb[names[sheet]]
        elif sheet in names:
            ws = wb[sheet]
        else:
            raise _missing_sheet(label, sheet, names, section)
        return _sheet_table(ws, label=label, stem=stem)
    finally:
        wb.close()


def _missing_sheet(label: str, sheet: str | int, names: list[str], section: str):
    listed = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names))
    return DataContractError(f"{label}: there is no sheet {sheet!r}; the workbook has {listed}",
                             f"set sheet = '<name>' or a 0-based index under [{section}]")


def _sheet_table(ws, *, label: str, stem: str) -> RawTable:
    rows = ws.iter_rows(min_row=1, values_only=True)
    headers: list[str] | None = None
    width = 0
    cols: list[list] = []
    lines: list[int] = []
    bad_recs: list[list[str]] = []
    bad_lines: list[int] = []
    for rownum, row in enumerate(rows, start=1):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        if headers is None:
            texts = [_cell_text(v) for v in row]
            width = max(i for i, t in enumerate(texts) if t.strip()) + 1
            headers = texts[:width]
            cols = [[] for _ in range(width)]
            continue
        extra = row[width:]
        if any(v is not None and _cell_text(v).strip() for v in extra):
            bad_recs.append([_cell_text(v) for v in row])
            bad_lines.append(rownum)
            continue
        padded = tuple(row[:width]) + (None,) * (width - len(row))
        for col, v in zip(cols, padded):
            col.append(v)
        lines.append(rownum)
    if headers is None:
        return RawTable([], pd.DataFrame(), np.zeros(0, np.int64), label, stem)
    frame = pd.DataFrame({name: _excel_column(col) for name, col in zip(column_names(width), cols)})
    bad = None
    if bad_recs:
        bad = _bad_frame(bad_recs, np.asarray(bad_lines), width, ",")
        bad["_reason"] = pd.Series(
            [f"has a value right of the last header column ({len(r)} cells, {width} headers): "
             "give that column a header or clear it" for r in bad_recs], dtype="str")
    return RawTable(headers=headers, frame=frame, lines=np.asarray(lines, dtype=np.int64),
                    label=label, stem=stem, bad=bad)


# ------------------------------------------------------------------------------------- Parquet


def _parquet_batches(path: Path, *, label: str, stem: str, batch_rows: int
                     ) -> Iterator[RawTable]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        if pf.metadata.num_rows <= batch_rows:
            yield read_parquet(path, label=label, stem=stem)
            return
        batches = pf.iter_batches(batch_size=batch_rows)
        start = 1
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            table = arrow_to_raw(pa.Table.from_batches([batch]), label=label, stem=stem)
            table.lines = table.lines + (start - 1)
            start += batch.num_rows
            del batch
            yield table
            del table  # not held while the next batch is read
    except (pa.ArrowException, OSError) as exc:
        raise DataContractError(f"{label}: cannot read as Parquet ({exc})",
                                "check the file, or set format under [sources]") from None


def read_parquet(path: Path, *, label: str, stem: str) -> RawTable:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataContractError(f"{label}: cannot read as Parquet ({exc})",
                                "check the file, or set format under [sources]") from None
    return arrow_to_raw(table, label=label, stem=stem)


def _arrow_column(col: pa.ChunkedArray) -> tuple[pd.Series, bool]:
    """One Arrow column as (Series, machine-written text?)."""
    t = col.type
    if pa.types.is_dictionary(t):
        return _arrow_column(col.cast(t.value_type))
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        text = pc.fill_null(col.cast(pa.large_string()), "")
        return pd.Series(text.to_pandas()).astype("str"), False
    if pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_boolean(t):
        text = pc.fill_null(col.cast(pa.string()), "")
        return pd.Series(text.to_pandas()).astype("str"), True
    if pa.types.is_floating(t):
        return pd.Series(col.cast(pa.float64()).to_pandas(), dtype="float64"), False
    if pa.types.is_date(t):
        return pd.Series(col.cast(pa.timestamp("s")).to_pandas()), False
    if pa.types.is_timestamp(t):
        return pd.Series(col.to_pandas()), False
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        vals = [b"" if v is None else v for v in col.to_pylist()]
        return pd.Series([v.decode("utf-8", errors="replace") for v in vals], dtype="str"), False
    vals = col.to_pylist()
    return pd.Series(["" if v is None else str(v) for v in vals], dtype="str"), False


def arrow_to_raw(table: pa.Table, *, label: str, stem: str, encoding: str | None = None
                 ) -> RawTable:
    """A typed Arrow table (Parquet, DuckDB) as a RawTable; lines are row index + 1."""
    headers = [str(n) for n in table.column_names]
    series, machine = {}, set()
    for i, name in enumerate(column_names(len(headers))):
        s, is_machine = _arrow_column(table.column(i))
        series[name] = s.reset_index(drop=True)
        if is_machine:
            machine.add(i)
    frame = pd.DataFrame(series, index=pd.RangeIndex(table.num_rows))
    return RawTable(headers=headers, frame=frame,
                    lines=np.arange(1, table.num_rows + 1, dtype=np.int64), label=label,
                    stem=stem, encoding=encoding, machine=machine)


__all__ = [
    "RawTable",
    "arrow_to_raw",
    "column_names",
    "detect_format",
    "read_csv_bytes",
    "read_file",
    "read_file_batches",
    "read_parquet",
    "read_xlsx",
    "sniff_delimiter",
]

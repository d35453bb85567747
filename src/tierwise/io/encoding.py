"""Text encoding of CSV input: detection, decoding, and a UTF-8 copy for the parser.

Detection order (when ``encoding = "auto"``):

1. a byte-order mark: UTF-8 (``utf-8-sig``) or UTF-16 (``utf-16``, Excel's "Unicode text");
2. a strict UTF-8 decode (plain ASCII lands here too);
3. a file whose lines are each UTF-8 or GB18030 but not all the same (a UTF-8 header pasted onto
   GBK rows): decoded line by line, with a warning naming the lines;
4. a strict GB18030 decode (a superset of GBK and GB2312, the usual Chinese POS export);
5. charset-normalizer's best guess, accepted only if the whole file then decodes strictly and the
   guess is not a single-byte Cyrillic code page for a file whose lines read as GB18030 (Chinese
   text is never read as Cyrillic: such a file is refused with the line that does not decode).

When none works a :class:`~tierwise.errors.DataContractError` asks for an explicit ``encoding``.
An explicit encoding is decoded strictly; a bad byte is reported with its line number.

A large CSV is read a piece at a time: :func:`stream_plan` tells from the file's first bytes the
codec that the rules above would end on, when they can be told from those bytes (1, 2, 4 and an
explicit encoding). The reader then checks that the whole file decodes with it before it hands
out a row, and reads the file whole with :func:`decode_bytes` when it does not (the same result
or error as reading it whole, by construction).
"""

from __future__ import annotations

import codecs
import re

from ..errors import DataContractError

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_SAMPLE = 1 << 20  # bytes given to charset-normalizer
_HEAD = 1 << 18  # bytes of a GB18030 file checked for lines in UTF-8


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def _is_utf8(name: str) -> bool:
    return codecs.lookup(name).name in ("utf-8", "utf-8-sig")


def decode_bytes(data: bytes, encoding: str, *, label: str, section: str,
                 notes: list[str] | None = None) -> tuple[bytes, str]:
    """Decode ``data`` and return it as UTF-8 bytes (without a BOM) plus the encoding used.

    Parameters
    ----------
    data
        The raw file content.
    encoding
        ``"auto"`` or a codec name (``utf-8``, ``utf-8-sig``, ``gbk``, ``gb18030``, ...).
    label
        The file name, used in messages.
    section
        The config section of the source (``sources.orders``), used in the fix hint.
    notes
        Receives a warning when the file was decoded line by line (mixed encodings).

    Returns
    -------
    (bytes, str)
        The content as UTF-8 without BOM, and the name of the detected or given encoding.

    Raises
    ------
    DataContractError
        When the encoding is unknown, or the bytes do not decode.
    """
    if encoding.lower() != "auto":
        return _decode_explicit(data, encoding, label=label, section=section), encoding
    for bom, name in _BOMS:
        if data.startswith(bom):
            if name == "utf-8-sig":
                body = data[len(bom):]
                return _decode_explicit(body, "utf-8", label=label, section=section), name
            return _decode_explicit(data, name, label=label, section=section), name
    if is_utf8(data):
        return data, "utf-8"
    try:
        text: str | None = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    # A file that reads as GB18030 is checked for pasted UTF-8 lines in its first lines only.
    kinds = _line_kinds(data if text is None else data[:_HEAD])
    if kinds["utf-8"] and kinds["gb18030"] and not kinds["neither"]:
        kinds = kinds if text is None else _line_kinds(data)
        if not kinds["neither"]:
            return _mixed(data, kinds, label, notes), "utf-8+gb18030"
    if text is not None:
        return _to_utf8(text, label), "gb18030"
    guess = _guess(data)
    chinese = len(kinds["gb18030"]) > len(kinds["neither"])
    if guess is not None and not (chinese and codecs.lookup(guess).name in _CYRILLIC):
        try:
            return _to_utf8(data.decode(guess), label), guess
        except (UnicodeDecodeError, LookupError):
            pass
    if chinese:
        bad = kinds["neither"][:5]
        raise DataContractError(
            f"{label}: the text is GBK/GB18030 (Chinese) but line(s) {_lines(bad)} are neither "
            "GBK nor UTF-8", f"fix or remove those lines, or set encoding = '<name>' under "
            f"[{section}]")
    raise DataContractError(
        f"{label}: cannot tell the text encoding (it is not UTF-8, GBK/GB18030"
        + (f" or {guess}" if guess else "") + ")",
        f"set encoding = '<name>' under [{section}], e.g. 'big5', 'utf-16' or 'latin-1'",
    )


def stream_plan(head: bytes, encoding: str) -> tuple[str, str, int] | None:
    """How to decode a file a piece at a time, told from its first bytes ``head`` (at least
    ``_HEAD`` bytes, or the whole file): ``(codec, name reported, BOM bytes to skip)``, where the
    codec ``utf-8`` means the bytes are only checked, not decoded. ``None`` when the rules of
    :func:`decode_bytes` need the whole file (a mixed-line file, charset-normalizer's guess, an
    unknown codec): the caller then reads the file whole.

    The plan is what :func:`decode_bytes` ends on *if* the whole file decodes with the codec;
    the caller must check that (a later byte that does not decode may change the rule that
    applies: mixed lines, GB18030, the guess, or the error naming its line).
    """
    if encoding.lower() != "auto":
        try:
            codecs.lookup(encoding)
        except LookupError:
            return None  # decode_bytes gives the error
        if _is_utf8(encoding):
            return "utf-8", encoding, len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) \
                else 0
        return encoding, encoding, 0
    for bom, name in _BOMS:
        if head.startswith(bom):
            return ("utf-8", name, len(bom)) if name == "utf-8-sig" else (name, name, 0)
    whole = head[:head.rfind(b"\n") + 1]  # whole lines: no character cut in two
    if not whole:
        return None
    if is_utf8(whole):
        return "utf-8", "utf-8", 0
    try:
        whole.decode("gb18030")
    except UnicodeDecodeError:
        return None  # neither: mixed lines or the guess, both judged over the whole file
    kinds = _line_kinds(head[:_HEAD])  # the bytes decode_bytes looks at for pasted UTF-8 lines
    if kinds["utf-8"] and kinds["gb18030"] and not kinds["neither"]:
        return None  # mixed lines are decoded line by line over the whole file
    return "gb18030", "gb18030", 0


_CYRILLIC = {"cp1251", "koi8-r", "koi8-u", "cp866", "mac-cyrillic", "iso8859-5", "cp855",
             "kz1048", "ptcp154"}


def _lines(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


_CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def _line_kinds(data: bytes) -> dict[str, list[int]]:
    """Line numbers of the non-ASCII lines that are UTF-8 with Chinese text, GB18030 (and not
    UTF-8), neither, or UTF-8 without Chinese text (``other``: a GBK line may pass as that)."""
    kinds: dict[str, list[int]] = {"utf-8": [], "gb18030": [], "neither": [], "other": []}
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            text = line.decode("utf-8")
            kinds["utf-8" if _CJK.search(text) else "other"].append(number)
            continue
        except UnicodeDecodeError:
            pass
        try:
            line.decode("gb18030")
            kinds["gb18030"].append(number)
        except UnicodeDecodeError:
            kinds["neither"].append(number)
    return kinds


def _mixed(data: bytes, kinds: dict[str, list[int]], label: str,
           notes: list[str] | None) -> bytes:
    lines = data.split(b"\n")
    gbk = set(kinds["gb18030"])
    if len(kinds["gb18030"]) >= len(kinds["utf-8"]):
        gbk |= {n for n in kinds["other"] if _gb_ok(lines[n - 1])}
    parts = [line.decode("gb18030") if i in gbk else line.decode("utf-8")
             for i, line in enumerate(lines, start=1)]
    if notes is not None:
        shown = kinds["gb18030"][:5]
        utf = kinds["utf-8"][:5]
        notes.append(f"{label}: mixed encodings, decoded line by line: line(s) {_lines(utf)}"
                     f"{' ...' if len(kinds['utf-8']) > 5 else ''} are UTF-8, line(s) "
                     f"{_lines(shown)}{' ...' if len(kinds['gb18030']) > 5 else ''} GBK/GB18030;"
                     " save the file in one encoding (UTF-8) to be sure")
    return _to_utf8("\n".join(parts), label)


def _gb_ok(line: bytes) -> bool:
    try:
        line.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return True


def is_utf8(data: bytes) -> bool:
    """Strict UTF-8 check of the whole buffer (Arrow's SIMD validator; no text is built)."""
    import pyarrow as pa

    offsets = pa.array([0, len(data)], pa.int64()).buffers()[1]
    arr = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _guess(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a core dependency
        return None
    best = from_bytes(data[:_SAMPLE]).best()
    return None if best is None else best.encoding


def _to_utf8(text: str, label: str) -> bytes:
    text = text.removeprefix("\ufeff")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates from an exotic codec
        raise DataContractError(f"{label}: the text has characters that are not valid Unicode",
                                "save the file as UTF-8 and try again") from exc


def _decode_explicit(data: bytes, encoding: str, *, label: str, section: str) -> bytes:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DataContractError(
            f"{label}: unknown encoding {encoding!r}",
            f"set encoding under [{section}] to 'auto', 'utf-8', 'utf-8-sig', 'gbk' or 'gb18030'",
        ) from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        bad = data[exc.start:exc.start + 4]
        raise DataContractError(
            f"{label}: byte {bad!r} on line {_line_of(data, exc.start)} is not valid {encoding}",
            f"set encoding = 'auto' (or the file's real encoding) under [{section}]",
        ) from None
    if _is_utf8(encoding):
        return data.removeprefix(codecs.BOM_UTF8)
    return _to_utf8(text, label)


__all__ = ["decode_bytes", "is_utf8", "stream_plan"]

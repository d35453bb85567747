"""Text encoding of CSV input: detection, decoding, and a UTF-8 copy for the parser.

Detection order (when ``encoding = "auto"``):

1. a byte-order mark: UTF-8 (``utf-8-sig``) or UTF-16 (``utf-16``, Excel's "Unicode text");
2. a strict UTF-8 decode (plain ASCII lands here too);
3. a strict GB18030 decode (a superset of GBK and GB2312, the usual Chinese POS export);
4. charset-normalizer's best guess, accepted only if the whole file then decodes strictly.

When none works a :class:`~tierwise.errors.DataContractError` asks for an explicit ``encoding``.
An explicit encoding is decoded strictly; a bad byte is reported with its line number.
"""

from __future__ import annotations

import codecs

from ..errors import DataContractError

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_SAMPLE = 1 << 20  # bytes given to charset-normalizer


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def _is_utf8(name: str) -> bool:
    return codecs.lookup(name).name in ("utf-8", "utf-8-sig")


def decode_bytes(data: bytes, encoding: str, *, label: str, section: str) -> tuple[bytes, str]:
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
    for name in ("gb18030",):
        try:
            return _to_utf8(data.decode(name), label), name
        except UnicodeDecodeError:
            pass
    guess = _guess(data)
    if guess is not None:
        try:
            return _to_utf8(data.decode(guess), label), guess
        except (UnicodeDecodeError, LookupError):
            pass
    raise DataContractError(
        f"{label}: cannot tell the text encoding (it is not UTF-8, GBK/GB18030"
        + (f" or {guess}" if guess else "") + ")",
        f"set encoding = '<name>' under [{section}], e.g. 'big5', 'utf-16' or 'latin-1'",
    )


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


__all__ = ["decode_bytes", "is_utf8"]

"""What an export holds, found from the file itself: the library behind ``tierwise init --from``.

:func:`detect_source` reads a file as ``ingest`` would and works out its encoding, delimiter, the
header mapping (exact aliases first, then headers recognised by meaning, checked against the
values: a ``…时间`` column must hold dates), the date format, whether rows are orders or order
lines, and how cancellations are written (negative quantities or amounts, ``C``-prefixed invoice
numbers). :func:`render_config` turns one or two detections into a config that works with no
editing: only what differs from the defaults, each line commented with why.

Detection proposes; it never runs inside ``ingest``. Whatever it chose is written in the config
and printed, so a wrong guess is seen and corrected there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from ..config import CANONICAL_ORDER_COLUMNS, IntakeConfig
from ..errors import DataContractError
from .encoding import decode_bytes
from .headers import REQUIRED, map_headers, propose_headers
from .readers import RawTable, detect_format, read_csv_bytes, read_file, sniff_delimiter
from .values import clean_id, parse_amount, parse_date

#: Order-line columns looked for in every orders file (used by line-level intake when the
#: running tierwise knows them as canonical order columns).
LINE_COLUMNS = ("quantity", "unit_price", "product_id", "product_name", "category")
_ORDER_WANTED = ("customer_id", "ordered_at", "amount", "order_id", *LINE_COLUMNS, "store",
                 "status")
_NUMERIC = {"amount", "quantity", "unit_price"}
_SAMPLE = 50_000
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass
class Finding:
    """One line of the table ``init --from`` prints: what, what was found, how it was found."""

    what: str
    found: str
    how: str = ""


@dataclass
class Detection:
    """What :func:`detect_source` found in one file."""

    path: Path
    kind: str
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> header
    by_meaning: set[str] = field(default_factory=set)  # names not found by an exact alias
    date_format: str | None = None
    level: str = "orders"
    cancel_prefix: str | None = None
    rows: int = 0
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"path": str(self.path), "kind": self.kind, "format": self.format,
                "encoding": self.encoding, "delimiter": self.delimiter,
                "columns": dict(self.columns), "date_format": self.date_format,
                "level": self.level, "cancel_prefix": self.cancel_prefix, "rows": self.rows,
                "findings": [[f.what, f.found, f.how] for f in self.findings],
                "warnings": list(self.warnings), "missing": list(self.missing)}


# ------------------------------------------------------------------------------------ reading


def _read(path: Path, kind: str) -> tuple[RawTable, str, str | None]:
    fmt = detect_format(path, "auto")
    label, section = path.name, f"sources.{kind}"
    if fmt != "csv":
        return read_file(path, label=label, fmt=fmt, section=section), fmt, None
    if not path.is_file():
        raise DataContractError(f"{path}: file not found", "give the path of an export file")
    notes: list[str] = []
    utf8, enc = decode_bytes(path.read_bytes(), "auto", label=label, section=section,
                             notes=notes)
    delim = sniff_delimiter(utf8)
    raw = read_csv_bytes(utf8, label=label, stem=path.stem, delimiter=delim, encoding=enc,
                         section=section)
    raw.warnings[:0] = notes
    return raw, fmt, delim


def _head(s: pd.Series) -> pd.Series:
    return s.iloc[:_SAMPLE] if len(s) > _SAMPLE else s


def _share_ok(s: pd.Series, name: str, timezone: str) -> float:
    """Share of the non-empty values that read as the column ``name`` needs."""
    s = _head(s)
    if name == "ordered_at":
        try:
            p = parse_date(s, timezone=timezone)
        except DataContractError:
            return 1.0  # dates, only their day/month order is open
    elif name in _NUMERIC:
        p = parse_amount(s)
    else:
        text = clean_id(s)
        filled = pc.sum(pc.not_equal(text, "")).as_py() or 0
        return filled / max(len(s), 1)
    present = int((~p.empty).sum())
    return 0.0 if present == 0 else float((~p.empty & ~p.invalid).sum()) / present


# ----------------------------------------------------------------------------------- columns


def _map_columns(raw: RawTable, det: Detection, timezone: str) -> None:
    kind = det.kind
    hm = map_headers(raw.headers, kind=kind, explicit={}, aliases={}, label=raw.label,
                     section=f"sources.{kind}")
    taken = set(hm.canonical.values())
    for name, pos in hm.canonical.items():
        det.columns[name] = raw.headers[pos]
    wanted = _ORDER_WANTED if kind == "orders" else ("customer_id",)
    todo = [n for n in wanted if n not in det.columns]
    proposals = propose_headers(raw.headers, todo, taken)
    for name in todo:
        for pos, why in proposals.get(name, []):
            if pos in taken:
                continue
            share = _share_ok(raw.frame[f"c{pos}"], name, timezone)
            if share < 0.6:
                continue
            det.columns[name] = raw.headers[pos]
            det.by_meaning.add(name)
            taken.add(pos)
            others = [raw.headers[p] for p, _ in proposals[name] if p != pos and p not in taken]
            det.findings.append(Finding(name, raw.headers[pos], why + (
                f" (over {', '.join(repr(o) for o in others)})" if others else "")))
            break
    if kind == "orders" and "ordered_at" not in det.columns:
        _date_by_values(raw, det, taken, timezone)
    more = propose_headers(raw.headers, ["amount"], set())["amount"]
    for name in det.columns:
        if name not in det.by_meaning:
            how = "a known header"
            if name == "amount":
                others = [raw.headers[p] for p, _ in more if raw.headers[p] != det.columns[name]]
                how += (f"; what was paid, preferred over {', '.join(map(repr, others))}"
                        if others else "")
            det.findings.append(Finding(name, det.columns[name], how))
    required = [c for c in REQUIRED[kind] if c not in det.columns]
    lines_known = "quantity" in CANONICAL_ORDER_COLUMNS  # line-level intake in this version
    if (kind == "orders" and "amount" in required and lines_known
            and {"quantity", "unit_price"} <= set(det.columns)):
        required.remove("amount")
    det.missing = required
    order = {n: i for i, n in enumerate(("file", *wanted))}
    det.findings.sort(key=lambda f: order.get(f.what, len(order)))


def _date_by_values(raw: RawTable, det: Detection, taken: set[int], timezone: str) -> None:
    for pos, header in enumerate(raw.headers):
        if pos in taken:
            continue
        if _share_ok(raw.frame[f"c{pos}"], "ordered_at", timezone) >= 0.9:
            det.columns["ordered_at"] = header
            det.by_meaning.add("ordered_at")
            taken.add(pos)
            det.findings.append(Finding("ordered_at", header, "its values are dates"))
            return


# ------------------------------------------------------------------------------------- dates

_DMY_SHAPE = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:\s+\d{1,2}:\d{2}(:\d{2})?)?$")


def _format_of(sample: str, day_first: bool) -> str | None:
    m = _DMY_SHAPE.match(sample.strip())
    if not m:
        return None
    sep = m.group(2)
    fmt = sep.join(("%d", "%m") if day_first else ("%m", "%d")) + sep + "%Y"
    if ":" in sample:
        fmt += " %H:%M" + (":%S" if m.group(5) else "")
    return fmt


def _dates(raw: RawTable, det: Detection, timezone: str) -> None:
    header = det.columns.get("ordered_at" if det.kind == "orders" else "joined_at")
    if header is None:
        return
    s = _head(raw.frame[f"c{raw.headers.index(header)}"])
    try:
        p = parse_date(s, timezone=timezone, label=header)
        order = next((w for w in p.warnings if "read as" in w), None)
        day_first = order is not None and "day/month" in order
    except DataContractError:
        p, order, day_first = None, "ambiguous", False
    text = [v for v in clean_id(s).to_pylist() if v][:1]
    example = text[0] if text else ""
    how = f"like {example!r}"
    if order is not None and example:
        det.date_format = _format_of(example, day_first)
        how += (f"; day/month order {'could not be told: chose' if p is None else 'settled:'} "
                f"{'day/month' if day_first else 'month/day'}")
        if det.date_format is not None:
            det.warnings.extend([] if p is not None else [
                f"{header}: every date reads both as day/month and month/day; date_format = "
                f"{det.date_format!r} was chosen: check it"])
    if p is not None:
        det.warnings.extend(w for w in p.warnings if "read as" not in w)
        bad = int(p.invalid.sum())
        if bad:
            first = int(np.flatnonzero(p.invalid)[0])
            how += f"; {bad:,} will be rejected (first {p.text[first].as_py()!r}: {p.hint[first]})"
    if re.search(r"(星期|周|礼拜)[一二三四五六日天]|\b(mon|tue|wed|thu|fri|sat|sun)", example,
                 re.IGNORECASE):
        how += "; the weekday is set aside"
    det.findings.append(Finding("dates", det.date_format or "read as written", how))


# ------------------------------------------------------------------------ lines, cancellations


def _level(raw: RawTable, det: Detection) -> None:
    cols = det.columns

    def col(name: str) -> pd.Series | None:
        return raw.frame[f"c{raw.headers.index(cols[name])}"] if name in cols else None

    notes = []
    quantity = col("quantity")
    if quantity is not None:
        q = parse_amount(quantity).values
        neg = int(np.sum(q < 0))
        if neg:
            notes.append(f"{neg:,} negative quantities (returns)")
    amount = col("amount")
    if amount is not None:
        neg = int(np.sum(parse_amount(amount).values < 0))
        if neg:
            notes.append(f"{neg:,} negative amounts (refunds)")
    ids = col("order_id")
    n_orders = None
    if ids is not None:
        text = pd.Series(clean_id(ids).to_pylist())
        text = text[text != ""]
        n_orders = int(text.nunique())
        letters = text.str.extract(r"^([A-Za-z])\d+$")[0].dropna()
        digits = text.str.fullmatch(r"\d+").mean() if len(text) else 0.0
        if len(letters) and digits >= 0.5 and letters.nunique() == 1:
            det.cancel_prefix = str(letters.iloc[0])
            notes.append(f"{len(letters):,} order ids start with {det.cancel_prefix!r} "
                         "(cancellations)")
    lines = {"quantity", "unit_price"} <= set(cols) and "amount" not in cols
    if lines or (n_orders is not None and n_orders < det.rows):
        det.level = "lines"
        how = "amount = quantity x unit_price" if lines else "amount per line"
        if n_orders is not None:
            how += f"; {det.rows:,} lines in {n_orders:,} orders"
        det.findings.append(Finding("level", "order lines", how))
    else:
        det.findings.append(Finding("level", "orders", "one row per order or visit"))
    det.findings.append(Finding("cancellations", "; ".join(notes) or "none seen",
                                "become refunds" if notes else ""))


# -------------------------------------------------------------------------------- public API


def detect_source(path: Path, *, kind: str = "orders", timezone: str = "Asia/Shanghai"
                  ) -> Detection:
    """Find out how an export is written (see the module docstring).

    Parameters
    ----------
    path
        A CSV, .xlsx or .parquet file.
    kind
        ``"orders"`` or ``"customers"``.
    timezone
        The business's time zone (dates with an offset are read in it).

    Raises
    ------
    DataContractError
        When the file cannot be read at all (missing, unknown encoding, no header row).
    """
    raw, fmt, delim = _read(Path(path), kind)
    if not raw.headers:
        raise DataContractError(f"{path}: the file is empty (no header row)",
                                "export the data again with a header row")
    det = Detection(path=Path(path), kind=kind, format=fmt, encoding=raw.encoding,
                    delimiter=delim, rows=len(raw.frame), warnings=list(raw.warnings))
    det.findings.append(Finding("file", f"{fmt}, {det.rows:,} rows", _file_how(raw, delim)))
    _map_columns(raw, det, timezone)
    if kind == "orders":
        _dates(raw, det, timezone)
        _level(raw, det)
    for name in det.missing:
        det.findings.append(Finding(name, "NOT FOUND", f"set {name} = '<header>' under "
                                    f"[sources.{kind}.columns]"))
    return det


def _file_how(raw: RawTable, delim: str | None) -> str:
    parts = []
    if raw.encoding:
        parts.append(f"encoding {raw.encoding}")
    if delim:
        parts.append(f"{_DELIMITER_NAMES.get(delim, repr(delim))}-separated")
    if raw.bad is not None and len(raw.bad):
        parts.append(f"{len(raw.bad):,} broken rows")
    return ", ".join(parts)


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(path).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return Path(path).resolve().as_posix()


def _source_lines(det: Detection, base: Path, known: tuple[str, ...]) -> list[str]:
    out = [f"[sources.{det.kind}]",
           f"# {det.format}, {det.rows:,} rows"
           + (f", encoding {det.encoding} (found again by encoding = 'auto')" if det.encoding
              else ""),
           f"path = {_toml(_relative(det.path, base))}"]
    explicit = [(n, h) for n, h in det.columns.items()
                if n in det.by_meaning and (n in known or det.kind != "orders")]
    aliased = [(n, h) for n, h in det.columns.items() if n not in det.by_meaning]
    unknown = [(n, h) for n, h in det.columns.items() if n in det.by_meaning and n not in known
               and det.kind == "orders"]
    if explicit or aliased or unknown:
        out += ["", f"[sources.{det.kind}.columns]"]
    why = {f.what: f.how for f in det.findings}
    out += [f"{n} = {_toml(h)}  # {why.get(n, '')}".rstrip(" #") for n, h in explicit]
    out += [f"# {n} = {_toml(h)}  (a known header: found without this line)" for n, h in aliased]
    out += [f"# {n} = {_toml(h)}  (order lines: not read by this version of tierwise)"
            for n, h in unknown]
    return out


def render_config(orders: Detection, customers: Detection | None = None, *,
                  config_dir: Path = Path(".")) -> str:
    """A config for the detected files: only what differs from the defaults, commented.

    Paths are written relative to ``config_dir`` (the folder the config goes to).
    """
    known = CANONICAL_ORDER_COLUMNS
    text = ["# Written by `tierwise init --from` from what the files hold; check it with",
            "# `tierwise validate`. Every other setting has its default (docs/configuration.md).",
            "# 由 `tierwise init --from` 根据文件内容生成；其余设置均为默认值。", ""]
    text += _source_lines(orders, config_dir, known)
    if customers is not None:
        text += [""] + _source_lines(customers, config_dir, known)
    intake: list[str] = []
    if orders.date_format:
        intake.append(f"date_format = {_toml(orders.date_format)}  # dates "
                      f"{next((f.how for f in orders.findings if f.what == 'dates'), '')}"
                      .split(";")[0])
    default_prefixes = IntakeConfig().cancel_prefixes
    if orders.cancel_prefix and orders.cancel_prefix not in default_prefixes:
        shown = ", ".join(_toml(v) for v in [*default_prefixes, orders.cancel_prefix])
        intake.append(f"cancel_prefixes = [{shown}]  # order ids starting with one cancel")
    if intake:
        text += ["", "[intake]", *intake]
    return "\n".join(text) + "\n"


__all__ = ["LINE_COLUMNS", "Detection", "Finding", "detect_source", "render_config"]

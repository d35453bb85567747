"""Intake: read a source, map its headers, parse and check every row, write the rejects file.

This module holds the three public entry points re-exported by :mod:`tierwise.io`:
:func:`read_source`, :func:`reconcile_customers` and :func:`inspect_source`, and the result types
:class:`IntakeResult` / :class:`IntakeReport`. The canonical columns and their types are described
in ``docs/architecture.md`` and :mod:`tierwise.io.values`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..config import CANONICAL_CUSTOMER_COLUMNS, CANONICAL_LEAD_COLUMNS, IntakeConfig, SourceConfig
from ..errors import DataContractError
from .contracts import RowChecks, summarise_bad_rows
from .contract_rows import contract_rows, cost_rows
from .databases import read_database, source_label
from .headers import SURVEY_ASPECTS, HeaderMap, map_headers, missing_message, raise_problems
from .lines import (
    cancel_prefixed,
    check_lines,
    content_ids,
    is_line_level,
    line_amounts,
    line_columns,
    order_id_text,
    refund_mask,
    relax_required,
)
from .readers import RawTable, read_file, read_file_batches
from .rejects import FIXED, append_rejects, rejects_path, write_rejects
from .values import (
    Parsed,
    clean_id,
    clean_text,
    is_datetime,
    numeric_or_none,
    parse_amount,
    parse_date,
    raw_text,
    to_date_series,
    to_series,
)

Kind = Literal["orders", "customers", "survey", "leads", "feedback", "contracts", "costs"]
ORDER_TEXT = ("channel", "agent", "store", "status")
#: Customer columns holding a date (read like ``ordered_at``, rejected when unreadable).
CUSTOMER_DATES = ("joined_at", "birthday")
CUSTOMER_TEXT = tuple(c for c in CANONICAL_CUSTOMER_COLUMNS
                      if c not in ("customer_id", "joined_at", "birthday", "phone"))
#: Valid survey scores: CSAT 1-5 and NPS 0-10 both fit (``intake`` is shared by every input).
SCORE_RANGE = (0.0, 10.0, "a score is CSAT 1-5 or NPS 0-10: fix the value or remove the row")
#: A lead's fit is a 1-5 rating; its engagement a count of touches (calls, visits, replies ...).
#: An aspect score (taste, service, setting) is a 1-5 rating.
ASPECT_RANGE = (1.0, 5.0, "an aspect score (taste, service, setting) is 1-5: fix the value or "
                "leave the cell empty")
FIT_RANGE = (1.0, 5.0, "fit is a 1-5 rating: fix the value or leave the cell empty")
ENGAGEMENT_RANGE = (0.0, 1e6, "engagement counts touches (0 or more): fix the value or leave "
                              "the cell empty")


@dataclass
class IntakeReport:
    """What happened to one input. Invariant: ``rows_in == accepted + rejected``."""

    source: str
    kind: str
    rows_in: int
    accepted: int
    rejected: int
    rejects_file: Path | None = None
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: paths as strings."""
        return {"source": self.source, "kind": self.kind, "rows_in": self.rows_in,
                "accepted": self.accepted, "rejected": self.rejected,
                "rejects_file": None if self.rejects_file is None else str(self.rejects_file),
                "encoding": self.encoding, "columns": dict(self.columns),
                "warnings": list(self.warnings)}


@dataclass
class RawRows:
    """The accepted rows as read (internal: lets :func:`reconcile_customers` write rejects)."""

    headers: list[str]
    frame: pd.DataFrame  # the reader's frame (all rows)
    positions: np.ndarray  # result row i is frame row positions[i]
    stem: str
    label: str


@dataclass
class IntakeResult:
    """Accepted rows in canonical columns (``frame``) and the :class:`IntakeReport`."""

    frame: pd.DataFrame
    report: IntakeReport
    raw: RawRows | None = field(default=None, repr=False, compare=False)


# ------------------------------------------------------------------------------------ reading


def _section(kind: str) -> str:
    return f"sources.{kind}"


def _label(source: SourceConfig) -> str:
    if source.path is not None:
        return source.path.as_posix()
    return source_label(source.url or "", source.table)


def _read(source: SourceConfig, kind: str, base_dir: Path) -> RawTable:
    section = _section(kind)
    if source.url is not None:
        return read_database(source.url, table=source.table, query=source.query,
                             base_dir=Path(base_dir), section=section)
    path = Path(source.path).expanduser()
    path = path if path.is_absolute() else Path(base_dir) / path
    return read_file(path, label=_label(source), fmt=source.format, encoding=source.encoding,
                     delimiter=source.delimiter, sheet=source.sheet, section=section)


# --------------------------------------------------------------------------------- processing


@dataclass
class _Rows:
    """The non-blank rows of one input and everything the checks need."""

    raw: RawTable
    hm: HeaderMap
    keep: np.ndarray  # positions into raw.frame
    frame: pd.DataFrame
    lines: np.ndarray
    intake: IntakeConfig
    timezone: str
    as_of: dt.date | None
    strict: bool
    checks: RowChecks
    today: dt.date | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    batches: _Batches | None = None  # what earlier batches of the same input settled

    @property
    def n(self) -> int:
        return len(self.lines)

    def col(self, name: str) -> pd.Series | None:
        pos = self.hm.canonical.get(name)
        return None if pos is None else self.frame[f"c{pos}"]

    def machine(self, name: str) -> bool:
        return self.hm.canonical.get(name) in self.raw.machine

    def where(self, name: str) -> str:
        return f"{self.raw.label}: {self.hm.label(name)}"

    def amount(self, name: str, *, required: bool,
               within: tuple[float, float, str] | None = None) -> np.ndarray:
        """A number column; ``within`` = (low, high, fix) rejects values outside the range."""
        s = self.col(name)
        if s is None:
            return np.full(self.n, np.nan)
        parsed = parse_amount(s, decimal=self.intake.decimal, machine=self.machine(name))
        if required:
            self.checks.empty(parsed.empty, self.hm.label(name), name)
        self.checks.invalid(parsed, self.hm.label(name), name, "a number")
        if within is None:
            self.checks.too_large(parsed, self.hm.label(name), name, self.intake.max_amount)
        else:
            self.checks.out_of_range(parsed, self.hm.label(name), name, *within)
        return parsed.values

    def date(self, name: str, *, required: bool, floor: bool = True,
             future: bool = True) -> Parsed | None:
        """``name`` read as dates; ``floor``: dates before ``[intake] earliest_date`` are
        rejected (not for a birthday, which is rightly decades back); ``future``: dates after
        as_of and the day of ingest are rejected (not for a contract's end, which is ahead)."""
        s = self.col(name)
        if s is None:
            return None
        settled = None if self.batches is None else self.batches.day_first.get(name)
        try:
            parsed = parse_date(s, timezone=self.timezone, date_format=self.intake.date_format,
                                label=self.where(name), lines=self.lines, day_first=settled)
        except DataContractError as exc:
            if self.strict:
                raise
            self.problems.append(str(exc))
            return None
        if self.batches is not None and parsed.day_first is not None:
            self.batches.day_first[name] = parsed.day_first
        self.warnings.extend(parsed.warnings)
        if required:
            self.checks.empty(parsed.empty, self.hm.label(name), name)
        self.checks.invalid(parsed, self.hm.label(name), name, "a date")
        if future:
            self.checks.future(parsed, self.hm.label(name), name, self.as_of,
                               self.intake.future_tolerance_days)
            self.checks.after_today(parsed, self.hm.label(name), name, self.today,
                                    self.intake.future_tolerance_days)
        if floor:
            self.checks.before(parsed, self.hm.label(name), name, self.intake.earliest_date)
        return parsed

    def customer_ids(self) -> pa.Array:
        s = self.col("customer_id")
        if s is None:
            return pa.array([""] * self.n, pa.large_string())
        ids = clean_id(s)
        self.checks.empty(pc.equal(ids, "").to_numpy(zero_copy_only=False),
                          self.hm.label("customer_id"), "customer_id")
        return ids

    def text(self, name: str, *, as_id: bool = False) -> pd.Series:
        s = self.col(name)
        if s is None:
            return pd.Series(np.nan, index=self.frame.index, dtype="str")
        return to_series(clean_id(s) if as_id else clean_text(s), self.frame.index)


def _blank_rows(raw: RawTable) -> np.ndarray:
    """Rows with nothing in any column (e.g. ``,,,,`` lines, empty Excel rows)."""
    blank = np.ones(len(raw.frame), dtype=bool)
    for c in raw.frame.columns:
        s = raw.frame[c]
        if is_datetime(s) or s.dtype.kind == "f":
            blank &= s.isna().to_numpy()
        else:
            cand = np.flatnonzero(blank)
            if not len(cand):
                break
            sub = clean_text(s.iloc[cand])
            blank[cand] = pc.equal(sub, "").to_numpy(zero_copy_only=False)
    return blank


def _rows(raw: RawTable, *, source, kind, intake, timezone, as_of, strict, today=None,
          batches: _Batches | None = None) -> _Rows:
    section = _section(kind)
    if not raw.headers:
        raise DataContractError(f"{raw.label}: the input is empty (no header row)",
                                "export the data again with a header row")
    hm = map_headers(raw.headers, kind=kind, explicit=dict(source.columns),
                     aliases=dict(intake.aliases), label=raw.label, section=section)
    if kind == "orders":
        relax_required(hm)
    problems: list[str] = []
    if strict:
        raise_problems(hm, label=raw.label, section=section)
    else:
        problems = list(hm.problems)
        if hm.missing:
            problems.append(missing_message(hm, label=raw.label, section=section))
    warnings = list(raw.warnings) + list(hm.warnings)
    blank = _blank_rows(raw)
    if blank.any():
        keep = np.flatnonzero(~blank)
        frame = raw.frame.iloc[keep].reset_index(drop=True)
        shown = ", ".join(str(x) for x in raw.lines[blank][:5])
        warnings.append(f"{raw.label}: {int(blank.sum())} empty row(s) skipped (lines {shown}"
                        f"{' ...' if blank.sum() > 5 else ''})")
    else:
        keep, frame = np.arange(len(raw.frame)), raw.frame
    lines = raw.lines[keep]
    return _Rows(raw=raw, hm=hm, keep=keep, frame=frame, lines=lines, intake=intake,
                 timezone=timezone, as_of=as_of, strict=strict,
                 checks=RowChecks(len(lines), lines, raw.label), today=today, problems=problems,
                 warnings=warnings, batches=batches)


def _refund_statuses(r: _Rows) -> tuple[pd.Series, np.ndarray]:
    """The status column (text) and the rows whose status is a refund status."""
    status_col = r.col("status")
    if status_col is None:
        return r.text("status"), np.zeros(r.n, dtype=bool)
    status_txt = clean_text(status_col)
    refund_set = pa.array([s.strip().lower() for s in r.intake.refund_statuses],
                          pa.large_string())
    by_status = pc.fill_null(pc.is_in(pc.utf8_lower(status_txt), value_set=refund_set),
                             False).to_numpy(zero_copy_only=False)
    return to_series(status_txt, r.frame.index), by_status


def _order_ids(r: _Rows, ids: pa.Array, parsed: Parsed | None, amount: np.ndarray,
               oid: pa.Array | None, line_level: bool) -> pd.Series:
    """The order id column; missing ids come from the order's content (:mod:`.lines`)."""
    days = parsed.values if parsed is not None else np.full(r.n, np.nan)
    if oid is None:
        return content_ids(r, ids, days, amount, lines=line_level)
    no_id = pc.equal(oid, "")
    given = to_series(oid, r.frame.index, empty_as_na=False)
    if pc.any(no_id).as_py():
        derived = content_ids(r, ids, days, amount, lines=line_level)
        how = ("are grouped into one order per customer and day" if line_level
               else "get an id from their customer, date and amount")
        r.warnings.append(f"{r.where('order_id')}: {pc.sum(no_id).as_py()} row(s) without "
                          f"an order id {how}")
        return given.where(~no_id.to_numpy(zero_copy_only=False), derived)
    return given


def _orders(r: _Rows) -> pd.DataFrame:
    ids = r.customer_ids()
    line_level = is_line_level(r.hm)
    amount, quantity, unit_price = line_amounts(r)
    parsed = r.date("ordered_at", required=True)
    cost = r.amount("cost", required=False)
    margin = r.amount("margin", required=False)
    status, by_status = _refund_statuses(r)
    oid = order_id_text(r)
    is_refund = refund_mask(r, amount, quantity, by_status, cancel_prefixed(r, oid))
    amount = np.where(is_refund, -np.abs(amount), amount)
    order_id = _order_ids(r, ids, parsed, amount, oid, line_level)
    customer_id = to_series(ids, r.frame.index, empty_as_na=False)
    if line_level:
        check_lines(r, order_id, customer_id, has_ids=oid is not None)
    else:
        r.checks.duplicates(order_id, r.hm.label("order_id") if oid is not None
                            else "the derived order ids", "order_id",
                            earlier=None if r.batches is None else r.batches.first_lines)
    out = {"order_id": order_id, "customer_id": customer_id,
           "ordered_at": _dates(parsed, r), "amount": amount, "cost": cost, "margin": margin}
    for name in ORDER_TEXT:
        out[name] = status if name == "status" else r.text(name)
    out["is_refund"] = is_refund
    if line_level:
        out.update(line_columns(r, quantity, unit_price))
    return pd.DataFrame(out, index=r.frame.index)


def _dates(parsed: Parsed | None, r: _Rows) -> pd.Series:
    if parsed is None:
        arr = pa.nulls(r.n, pa.date32())
        return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=r.frame.index)
    return to_date_series(parsed, r.frame.index)


def _customers(r: _Rows) -> pd.DataFrame:
    ids = r.customer_ids()
    dates = {name: r.date(name, required=False, floor=name != "birthday")
             for name in CUSTOMER_DATES}
    customer_id = to_series(ids, r.frame.index, empty_as_na=False)
    r.checks.duplicates(customer_id, r.hm.label("customer_id") if "customer_id" in r.hm.canonical
                        else "customer_id", "customer_id")
    out: dict[str, Any] = {"customer_id": customer_id}
    for name in CANONICAL_CUSTOMER_COLUMNS[1:]:
        if name in CUSTOMER_DATES:
            out[name] = _dates(dates[name], r)
        else:
            out[name] = r.text(name, as_id=name == "phone")
    for pos, name in r.hm.extras.items():
        out[name] = _extra(r, pos)
        if out[name] is None:
            del out[name]
    return pd.DataFrame(out, index=r.frame.index)


def _survey(r: _Rows) -> pd.DataFrame:
    """Survey answers: who, when (a date, checked against as_of), score, comment and the
    optional aspect scores (taste, service, setting: 1-5, empty when not asked)."""
    ids = r.customer_ids()
    parsed = r.date("answered_at", required=True)
    score = r.amount("score", required=True, within=SCORE_RANGE)
    aspects = {name: r.amount(name, required=False, within=ASPECT_RANGE)
               for name in SURVEY_ASPECTS}
    return pd.DataFrame({"customer_id": to_series(ids, r.frame.index, empty_as_na=False),
                         "answered_at": _dates(parsed, r), "score": score,
                         "comment": r.text("comment"), **aspects}, index=r.frame.index)


def _leads(r: _Rows) -> pd.DataFrame:
    """Leads: who (the id it will buy under), when captured, where from, fit, engagement."""
    ids = r.customer_ids()
    parsed = r.date("captured_at", required=True)
    customer_id = to_series(ids, r.frame.index, empty_as_na=False)
    r.checks.duplicates(customer_id, r.hm.label("customer_id"), "customer_id")
    out: dict[str, Any] = {"customer_id": customer_id, "captured_at": _dates(parsed, r)}
    out["fit"] = r.amount("fit", required=False, within=FIT_RANGE)
    out["engagement"] = r.amount("engagement", required=False, within=ENGAGEMENT_RANGE)
    for name in CANONICAL_LEAD_COLUMNS:
        if name not in out:
            out[name] = r.text(name, as_id=name == "phone")
    return pd.DataFrame(out, index=r.frame.index)


#: What a ``resolved`` cell may say (compared case-insensitively, spaces removed); empty: open.
RESOLVED_WORDS = {
    True: ("是", "已解决", "解决", "已处理", "已完成", "完成", "已关闭", "关闭", "yes", "y", "true",
           "1", "resolved", "done", "closed"),
    False: ("否", "未解决", "未处理", "处理中", "待处理", "未完成", "no", "n", "false", "0",
            "open", "pending", "unresolved"),
}


def _resolved(r: _Rows) -> pd.Series:
    """The ``resolved`` column as True / False / missing; other words reject the row."""
    s = r.col("resolved")
    if s is None:
        return pd.Series(pd.NA, index=r.frame.index, dtype="boolean")
    words = {w.casefold(): flag for flag, ws in RESOLVED_WORDS.items() for w in ws}
    text = [("" if v is None else str(v)).strip().replace(" ", "").casefold()
            for v in clean_text(s).to_pylist()]
    values = [None if not t else words.get(t, "?") for t in text]
    bad = np.array([v == "?" for v in values], dtype=bool)
    if bad.any():
        label = r.hm.label("resolved")
        fix = ("write 是/否 or yes/no (or leave it empty for an open complaint), or fix the "
               "value in the source")
        shown = [raw for raw, v in zip(clean_text(s).to_pylist(), values) if v == "?"]
        r.checks.add("resolved_invalid", bad,
                     [f"{label}: {str(v)!r} is not yes/no: {fix}" for v in shown],
                     "with a resolved value that is not yes/no", str(shown[0]), fix)
    return pd.Series([None if v in (None, "?") else v for v in values], index=r.frame.index,
                     dtype="boolean")


def _feedback(r: _Rows) -> pd.DataFrame:
    """Complaints and comments: who, when (checked like an order date), channel, category,
    text (required: a feedback row says something) and whether it is resolved."""
    ids = r.customer_ids()
    parsed = r.date("received_at", required=True)
    text = r.text("text")
    empty = text.isna().to_numpy() if r.col("text") is not None else np.zeros(r.n, bool)
    r.checks.empty(empty, r.hm.label("text"), "text")
    return pd.DataFrame({"customer_id": to_series(ids, r.frame.index, empty_as_na=False),
                         "received_at": _dates(parsed, r), "channel": r.text("channel"),
                         "category": r.text("category"), "text": text,
                         "resolved": _resolved(r)}, index=r.frame.index)


_BUILDERS = {"orders": _orders, "customers": _customers, "survey": _survey, "leads": _leads,
             "feedback": _feedback, "contracts": contract_rows, "costs": cost_rows}


def _extra(r: _Rows, pos: int) -> pd.Series | np.ndarray | None:
    s = r.frame[f"c{pos}"]
    text = clean_text(s)
    if not str(r.raw.headers[pos]).strip() and pc.all(pc.equal(text, "")).as_py():
        return None  # an unnamed, empty column (trailing delimiters)
    nums = numeric_or_none(s, decimal=r.intake.decimal, machine=pos in r.raw.machine)
    if nums is not None:
        return pd.Series(nums, index=r.frame.index, dtype="float64")
    return to_series(text, r.frame.index)


@dataclass
class _Outcome:
    frame: pd.DataFrame
    rejects: pd.DataFrame
    report: IntakeReport
    raw: RawRows
    problems: list[str]
    summaries: list[str]


def _rejects_frame(r: _Rows, reasons: list[str]) -> pd.DataFrame:
    raw = r.raw
    rows = r.keep[r.checks.rejected]
    names = list(raw.frame.columns)
    parts = [pd.DataFrame({"source": raw.label, "line": r.lines[r.checks.rejected],
                           "reason": reasons,
                           **{c: raw_text(raw.frame[c].iloc[rows]).to_pylist() for c in names}})]
    if raw.bad is not None and len(raw.bad):
        bad = raw.bad.rename(columns={"_line": "line", "_reason": "reason"})
        bad.insert(0, "source", raw.label)
        parts.append(bad[["source", "line", "reason", *names]])
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    out = out.sort_values("line", kind="stable").reset_index(drop=True)
    out.columns = [*FIXED, *raw.headers]
    return out


def _process(raw: RawTable, *, source: SourceConfig, kind: str, intake: IntakeConfig,
             timezone: str, as_of: dt.date | None, strict: bool,
             today: dt.date | None = None, batches: _Batches | None = None) -> _Outcome:
    r = _rows(raw, source=source, kind=kind, intake=intake, timezone=timezone, as_of=as_of,
              strict=strict, today=today, batches=batches)
    full = _BUILDERS[kind](r)
    ok = ~r.checks.rejected
    frame = full[ok].reset_index(drop=True) if not ok.all() else full.reset_index(drop=True)
    frame["_source"] = pd.Series(raw.label, index=frame.index, dtype="str")
    frame["_line"] = r.lines[ok].astype(np.int64)
    rejects = _rejects_frame(r, r.checks.reasons())
    n_bad = 0 if raw.bad is None else len(raw.bad)
    report = IntakeReport(source=raw.label, kind=kind, rows_in=r.n + n_bad,
                          accepted=int(ok.sum()), rejected=int(r.checks.rejected.sum()) + n_bad,
                          encoding=raw.encoding, columns=r.hm.columns(), warnings=r.warnings)
    summaries = summarise_bad_rows(raw.bad, raw.label) + r.checks.summaries()
    raw_rows = RawRows(list(raw.headers), raw.frame, r.keep[ok], raw.stem, raw.label)
    return _Outcome(frame, rejects, report, raw_rows, r.problems, summaries)


# ----------------------------------------------------------------------------- public API


def read_source(source: SourceConfig, *, kind: Kind, intake: IntakeConfig, timezone: str,
                as_of: dt.date | None, base_dir: Path, rejects_dir: Path,
                today: dt.date | None = None) -> IntakeResult:
    """Read one source into canonical columns; rejected rows go to the rejects file.

    Parameters
    ----------
    source
        Where the data comes from (a file or a database) and its column mapping.
    kind
        ``"orders"``, ``"customers"``, ``"survey"`` (``customer_id``, ``answered_at``,
        ``score`` in 0-10, optional ``comment``) or ``"feedback"`` (``customer_id``,
        ``received_at``, ``text``, optional ``channel``, ``category``, ``resolved``),
        ``"contracts"`` or ``"costs"`` (:mod:`tierwise.io.contract_rows`).
    intake
        Rules for values (decimal mark, date format, refunds, tolerance, aliases).
    timezone
        IANA zone of the business: timestamps with an offset become local dates in it.
    as_of
        Rows dated after ``as_of + future_tolerance_days`` are rejected (no check when None).
    today
        The day of ingest: rows dated after ``today + future_tolerance_days`` are rejected (no
        check when None; the CLI passes the calendar date, the library never reads a clock).
        Rows before ``intake.earliest_date`` and amounts over ``intake.max_amount`` are
        always rejected.
    base_dir
        Folder that relative paths are resolved against (the config file's folder).
    rejects_dir
        Folder for ``<stem>.<kind>.rejects.csv``.

    Returns
    -------
    IntakeResult
        ``frame`` (accepted rows, canonical columns plus ``_source`` and ``_line``) and
        ``report`` (counts, rejects file, encoding, column mapping, warnings).

    Raises
    ------
    DataContractError
        When the source as a whole breaks the contract: missing/unreadable file, unknown encoding,
        required columns not found, day/month order that cannot be told.
    MissingDependencyError
        When a database driver is not installed.

    Examples
    --------
    >>> res = read_source(cfg.sources.orders, kind="orders", intake=cfg.intake,
    ...                   timezone=cfg.timezone, as_of=None, base_dir=cfg.base_dir,
    ...                   rejects_dir=cfg.rejects_dir)  # doctest: +SKIP
    >>> res.report.rows_in == res.report.accepted + res.report.rejected  # doctest: +SKIP
    True
    """
    raw = _read(source, kind, base_dir)
    out = _process(raw, source=source, kind=kind, intake=intake, timezone=timezone, as_of=as_of,
                   strict=True, today=today)
    out.report.rejects_file = write_rejects(out.rejects, rejects_path(rejects_dir, raw.stem, kind))
    return IntakeResult(out.frame, out.report, out.raw)


#: Rows per batch when orders are read in batches (:func:`read_source_batches`).
BATCH_ROWS = 500_000  # the checks of 1M rows peak ~550 MB over the baseline: half that


class _Batches:
    """What the batches of one input share, so that reading it in batches rejects what
    reading it whole rejects: the order ids accepted so far (with their lines; a later row
    repeating one is a duplicate) and the day/month order its date columns settled."""

    def __init__(self) -> None:
        import duckdb

        self.day_first: dict[str, bool] = {}
        self._con = duckdb.connect()
        self._con.execute("CREATE TABLE seen (order_id VARCHAR, line BIGINT)")

    def first_lines(self, ids: pd.Series) -> np.ndarray:
        """The line of an earlier batch's row with each id; -1 where there is none."""
        probe = pa.table({"order_id": pa.array(ids, type=pa.large_string(), from_pandas=True),
                          "pos": np.arange(len(ids), dtype=np.int64)})
        self._con.register("probe", probe)
        try:
            got = self._con.execute("SELECT p.pos, s.line FROM probe p "
                                    "JOIN seen s USING (order_id)").fetchnumpy()
        finally:
            self._con.unregister("probe")
        out = np.full(len(ids), -1, dtype=np.int64)
        out[np.asarray(got["pos"], dtype=np.int64)] = np.asarray(got["line"], dtype=np.int64)
        return out

    def accepted(self, frame: pd.DataFrame) -> None:
        rows = pa.table({"order_id": pa.array(frame["order_id"], type=pa.large_string(),
                                              from_pandas=True),
                         "line": frame["_line"].to_numpy(np.int64)})
        self._con.register("accepted_rows", rows)
        try:
            self._con.execute("INSERT INTO seen SELECT order_id, line FROM accepted_rows")
        finally:
            self._con.unregister("accepted_rows")

    def close(self) -> None:
        self._con.close()


def read_source_batches(source: SourceConfig, *, kind: Kind, intake: IntakeConfig, timezone: str,
                        as_of: dt.date | None, base_dir: Path, rejects_dir: Path,
                        today: dt.date | None = None, batch_rows: int = BATCH_ROWS
                        ) -> Iterator[IntakeResult]:
    """:func:`read_source` a batch of about ``batch_rows`` rows at a time (bounded memory).

    Each batch goes through the same reading and checks as a whole input; what the checks
    judge across rows is carried from batch to batch, so the rows accepted and rejected, and
    the reasons, are those of reading the input whole: an order id repeating one of an earlier
    batch is a duplicate naming that line, and a date column keeps the day/month order its
    first batches settled. Each yielded :class:`IntakeResult` counts its own batch; the
    rejects file gathers every batch's. Order lines (line-level exports) are read whole: the
    lines of one order are checked and summed together. CSV, Parquet: see
    :func:`~tierwise.io.readers.read_file_batches`; Excel workbooks and databases are one batch.
    """
    batches = _Batches()
    path: Path | None = None
    try:
        for i, raw in enumerate(_read_batches(source, kind, base_dir, intake, batch_rows)):
            out = _process(raw, source=source, kind=kind, intake=intake, timezone=timezone,
                           as_of=as_of, strict=True, today=today, batches=batches)
            path = rejects_path(rejects_dir, raw.stem, kind)
            if i == 0:
                write_rejects(out.rejects, path)
            elif len(out.rejects):
                append_rejects(out.rejects, path)
            out.report.rejects_file = path if path.exists() else None
            if kind == "orders":
                batches.accepted(out.frame)
            yield IntakeResult(out.frame, out.report, out.raw)
            del out, raw  # not held while the next batch is read
    finally:
        batches.close()


def _read_batches(source: SourceConfig, kind: str, base_dir: Path, intake: IntakeConfig,
                  batch_rows: int) -> Iterator[RawTable]:
    """The input's raw batches; one batch when it is not a file, or holds order lines."""
    if source.url is not None:
        yield _read(source, kind, base_dir)
        return
    path = Path(source.path).expanduser()
    path = path if path.is_absolute() else Path(base_dir) / path
    parts = read_file_batches(path, label=_label(source), fmt=source.format,
                              encoding=source.encoding, delimiter=source.delimiter,
                              sheet=source.sheet, section=_section(kind), batch_rows=batch_rows)
    first = next(parts)
    second = next(parts, None)
    if second is None:
        yield first
        return
    if kind != "orders" or _holds_lines(first, source, kind, intake):
        del first, second, parts
        yield _read(source, kind, base_dir)
        return
    pending = [first, second]
    del first, second
    while pending:  # popped, so a batch is not held while the next ones are read
        yield pending.pop(0)
    yield from parts


def _holds_lines(raw: RawTable, source: SourceConfig, kind: str, intake: IntakeConfig) -> bool:
    hm = map_headers(raw.headers, kind=kind, explicit=dict(source.columns),
                     aliases=dict(intake.aliases),
                     label=raw.label, section=_section(kind))
    return is_line_level(hm)


@dataclass
class SourceCheck:
    """What ``tierwise validate`` learns about one source without writing anything.

    ``problems`` stop an ingest (file, encoding, header mapping, date order); ``row_problems``
    are rows that an ingest would reject (one line per kind, with its count and first example);
    ``warnings`` are what an ingest would say besides. ``first_rejects`` holds the first rows an
    ingest would reject, as ``{"line", "reason", "values"}`` (the setup page shows them).
    """

    problems: list[str]
    row_problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows_in: int = 0
    rejected: int = 0
    first_rejects: list[dict[str, Any]] = field(default_factory=list)


def check_source(source: SourceConfig, *, kind: Kind, intake: IntakeConfig, timezone: str,
                 as_of: dt.date | None, base_dir: Path, today: dt.date | None = None,
                 first: int = 0) -> SourceCheck:
    """Read ``source`` as an ingest would and sort what is wrong into :class:`SourceCheck`
    (with the ``first`` rejected rows, by line)."""
    try:
        raw = _read(source, kind, base_dir)
        out = _process(raw, source=source, kind=kind, intake=intake, timezone=timezone,
                       as_of=as_of, strict=False, today=today)
    except DataContractError as exc:
        return SourceCheck([str(exc)])
    head = out.rejects.head(max(first, 0)).astype(object)
    firsts = [{"line": int(row[1]), "reason": str(row[2]),
               "values": ["" if v is None or v != v else str(v) for v in row[3:]]}
              for row in head.itertuples(index=False, name=None)]
    return SourceCheck(out.problems, out.summaries, out.report.warnings, out.report.rows_in,
                       out.report.rejected, firsts)


def inspect_source(source: SourceConfig, *, kind: Kind, intake: IntakeConfig, timezone: str,
                   as_of: dt.date | None, base_dir: Path, today: dt.date | None = None
                   ) -> list[str]:
    """Every problem with a source, as messages (for ``tierwise validate``); writes nothing.

    Whole-source problems (file, encoding, header mapping, date order) come first, then one
    line per kind of row problem with its count and first example, e.g.
    ``orders.csv: 3 rows with an amount that is not a number (first: line 88 '12,5': set
    decimal = ',' in [intake])``. An empty list means the source is clean.
    """
    check = check_source(source, kind=kind, intake=intake, timezone=timezone, as_of=as_of,
                         base_dir=base_dir, today=today)
    return check.problems + check.row_problems


def _new_customers(orders: pd.DataFrame, missing: np.ndarray, template: pd.DataFrame | None,
                   source: str) -> pd.DataFrame:
    sub = orders.loc[missing, ["customer_id", "_line"]].drop_duplicates("customer_id")
    k = len(sub)
    cols: dict[str, Any] = {}
    no_text = pd.Series([None] * k, dtype="str")  # one empty text column, copied for each
    names = [*CANONICAL_CUSTOMER_COLUMNS, "_source", "_line"]
    if template is not None:
        names += [c for c in template.columns if c not in names]
    for name in names:
        if name == "customer_id":
            cols[name] = sub["customer_id"].to_numpy()
        elif name == "_line":
            cols[name] = sub["_line"].to_numpy(np.int64)
        elif name == "_source":
            cols[name] = pd.Series(np.full(k, source, dtype=object), dtype="str")
        elif template is not None and name in template.columns:
            cols[name] = pd.Series([None] * k, dtype=template[name].dtype) \
                if template[name].dtype != bool else np.zeros(k, bool)
        elif name in CUSTOMER_DATES:
            cols[name] = pd.Series(pd.arrays.ArrowExtensionArray(pa.nulls(k, pa.date32())))
        else:
            cols[name] = no_text.copy()
    new = pd.DataFrame({n: (c.reset_index(drop=True) if isinstance(c, pd.Series) else c)
                        for n, c in cols.items()})
    new["created_from_orders"] = True
    return new


#: The words of the note that customers were created from orders (one per input).
CREATED_NOTE = "were created from orders (created_from_orders = true)"


def created_note(source: str, n: int) -> str:
    """``<source>: <n> customer(s) not in the customers source were created from orders``."""
    return f"{source}: {n} customer(s) not in the customers source {CREATED_NOTE}"


def reconcile_customers(customers: pd.DataFrame | None, orders: IntakeResult, *,
                        policy: Literal["create", "reject"], rejects_dir: Path,
                        missing: np.ndarray | None = None
                        ) -> tuple[pd.DataFrame, IntakeResult]:
    """Make every order's customer exist.

    ``missing`` (optional): the orders whose customer is not known, already found by the
    caller (the store finds them with a join, :meth:`~tierwise.store.Store.unknown_customers`);
    then ``customers`` only gives the columns of the new rows and may be None.

    Orders whose ``customer_id`` is not in ``customers`` either create a customer row flagged
    ``created_from_orders=True`` (``policy="create"``; the new row's ``_source``/``_line`` point at
    the customer's first order) or are rejected (``policy="reject"``): removed from the orders
    frame, appended to that source's rejects file, and counted in its report.

    Returns
    -------
    (customers, orders)
        The customers frame with a ``created_from_orders`` column (False for rows from the
        customers source) and the orders result (updated when rows were rejected).
    """
    base = None if customers is None else customers.drop(columns=["created_from_orders"],
                                                         errors="ignore")
    ofr = orders.frame
    if missing is None:
        known = pd.Index([] if base is None else base["customer_id"])
        missing = ~ofr["customer_id"].isin(known).to_numpy()
    old = None if base is None else base.assign(created_from_orders=False)
    if policy == "create":
        new = _new_customers(ofr, missing, base, orders.report.source)
        merged = new if old is None else pd.concat([old, new], ignore_index=True)
        if len(new):
            note = created_note(orders.report.source, len(new))
            report = dataclasses.replace(orders.report,
                                         warnings=[*orders.report.warnings, note])
            orders = IntakeResult(ofr, report, orders.raw)
        return merged, orders
    if policy != "reject":
        raise ValueError(f"policy must be 'create' or 'reject', not {policy!r}")
    merged = old if old is not None else _new_customers(ofr, np.zeros(len(ofr), bool), None, "")
    if not missing.any():
        return merged, orders
    return merged, _reject_rows(orders, missing, rejects_dir,
                                "is not in the customers source: add the customer, or set "
                                "on_missing_customer = 'create' in [intake]")


def reject_unknown_customers(result: IntakeResult, known: set[str] | pd.Index, *,
                             rejects_dir: Path, optional: bool = False) -> IntakeResult:
    """Reject the rows (e.g. survey answers) whose ``customer_id`` is not a known customer.

    The rows are removed from ``result.frame``, appended to the source's rejects file with their
    line and reason, and counted in the report (``rows_in == accepted + rejected`` still holds).
    Unlike orders, such rows never create customers: an answer cannot say who its customer is.
    ``optional``: rows without a ``customer_id`` pass (a cost booked to a segment).
    """
    ids = result.frame["customer_id"]
    missing = ~ids.isin(pd.Index(list(known))).to_numpy()
    if optional:
        missing &= ids.notna().to_numpy()
    if not missing.any():
        return result
    return _reject_rows(result, missing, rejects_dir,
                        "is not a known customer (not in the customers source, the store or the "
                        "orders): add the customer to the customers source, or fix the id")


def _reject_rows(result: IntakeResult, missing: np.ndarray, rejects_dir: Path,
                 why: str) -> IntakeResult:
    """Move the ``missing`` rows to the rejects file: ``customer_id '<id>' <why>``."""
    ofr, rep, raw = result.frame, result.report, result.raw
    ids = ofr.loc[missing, "customer_id"].tolist()
    reasons = [f"customer_id {v!r} {why}" for v in ids]
    rows = pd.DataFrame({"source": rep.source, "line": ofr.loc[missing, "_line"].to_numpy(),
                         "reason": reasons})
    if raw is not None:
        pos = raw.positions[missing]
        originals = [raw_text(raw.frame[c].iloc[pos]).to_pylist() for c in raw.frame.columns]
        headers, stem = raw.headers, raw.stem
    else:  # no raw rows kept: fall back to the canonical values
        headers = [c for c in ofr.columns if not c.startswith("_")]
        originals = [ofr.loc[missing, c].astype("str").fillna("").tolist() for c in headers]
        stem = Path(rep.source).stem
    for i, values in enumerate(originals):
        rows[f"c{i}"] = values
    rows.columns = [*FIXED, *headers]
    path = (Path(rep.rejects_file) if rep.rejects_file
            else rejects_path(rejects_dir, stem, rep.kind))
    append_rejects(rows, path)
    keep = ~missing
    report = dataclasses.replace(rep, accepted=rep.accepted - int(missing.sum()),
                                 rejected=rep.rejected + int(missing.sum()), rejects_file=path)
    raw2 = None if raw is None else dataclasses.replace(raw, positions=raw.positions[keep])
    return IntakeResult(ofr[keep].reset_index(drop=True), report, raw2)


__all__ = [
    "IntakeReport",
    "IntakeResult",
    "SourceCheck",
    "check_source",
    "inspect_source",
    "read_source",
    "read_source_batches",
    "reconcile_customers",
    "reject_unknown_customers",
]

"""Row-level contract checks: each failing row is rejected with a precise reason, never dropped.

:class:`RowChecks` collects one :class:`Issue` per kind of problem (an empty customer id, an amount
that is not a number, a date after as_of, a duplicate id ...). Masks are computed vectorised; reason
texts are only built for the rejected rows. A row failing several checks gets all their reasons,
joined by ``"; "``. Duplicates are judged among rows that pass every other check, so the first
*valid* occurrence is kept and the reason names its line.

Whole-file problems (missing required columns, unreadable files) are not row problems: they raise
:class:`~tierwise.errors.DataContractError` in the readers and the header mapping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .values import Parsed

_EPOCH = dt.date(1970, 1, 1)


@dataclass
class Issue:
    """One kind of row problem: which rows, why (per row), and how to summarise it."""

    code: str
    mask: np.ndarray
    reasons: list[str]  # one per True in mask, in row order
    summary: str  # "with an amount that is not a number"
    first_value: str | None
    first_hint: str


def _shown(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")


class RowChecks:
    """Accumulates row problems for one input of ``n`` rows."""

    def __init__(self, n: int, lines: np.ndarray, label: str) -> None:
        self.n, self.lines, self.label = n, np.asarray(lines), label
        self.issues: list[Issue] = []
        self.rejected = np.zeros(n, dtype=bool)

    def add(self, code: str, mask: np.ndarray, reasons: list[str], summary: str,
            first_value: str | None = None, first_hint: str = "") -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.issues.append(Issue(code, mask, reasons, summary, first_value, first_hint))
        self.rejected |= mask

    # -- the checks --------------------------------------------------------------------------

    def empty(self, mask: np.ndarray, column: str, name: str) -> None:
        count = int(np.count_nonzero(mask))
        fix = f"fill in {name} or remove the row"
        self.add(f"{name}_empty", mask, [f"{column} is empty: {fix}"] * count,
                 f"with an empty {name}", "", fix)

    def invalid(self, parsed: Parsed, column: str, name: str, what: str) -> None:
        """Values that do not parse (``what``: 'a number' / 'a date')."""
        idx = np.flatnonzero(parsed.invalid)
        if not len(idx):
            return
        values = parsed.text.take(pa.array(idx)).to_pylist()
        hints = [parsed.hint[i] if parsed.hint is not None and parsed.hint[i] else
                 "fix the value in the source or remove the row" for i in idx]
        reasons = [f"{column}: {_shown(v)} is not {what}: {h}" for v, h in zip(values, hints)]
        noun = f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
        self.add(f"{name}_invalid", parsed.invalid, reasons, f"with {noun} that is not {what}",
                 values[0], hints[0])

    def future(self, parsed: Parsed, column: str, name: str, as_of: dt.date | None,
               tolerance: int) -> None:
        if as_of is None:
            return
        limit = (as_of - _EPOCH).days + tolerance
        mask = ~(parsed.empty | parsed.invalid) & (parsed.values > limit)
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        fix = ("fix the date, or set a later as_of or future_tolerance_days in [intake] "
               f"(now {tolerance})")
        dates = [(_EPOCH + dt.timedelta(days=int(parsed.values[i]))).isoformat() for i in idx]
        reasons = [f"{column}: {d} is after as_of {as_of.isoformat()}"
                   + (f" + {tolerance} day(s)" if tolerance else "") + f": {fix}" for d in dates]
        self.add(f"{name}_future", mask, reasons, f"with {name} after as_of {as_of.isoformat()}",
                 dates[0], fix)

    def after_today(self, parsed: Parsed, column: str, name: str, today: dt.date | None,
                    tolerance: int) -> None:
        """Dates after the day of ingest (+ tolerance): nothing has happened there yet."""
        if today is None:
            return
        limit = (today - _EPOCH).days + tolerance
        mask = ~(parsed.empty | parsed.invalid) & (parsed.values > limit)
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        fix = ("fix the date (a typo in the year?), or set future_tolerance_days in [intake] "
               f"(now {tolerance})")
        dates = [(_EPOCH + dt.timedelta(days=int(parsed.values[i]))).isoformat() for i in idx]
        reasons = [f"{column}: {d} is after the day of ingest {today.isoformat()}"
                   + (f" + {tolerance} day(s)" if tolerance else "") + f": {fix}" for d in dates]
        self.add(f"{name}_after_today", mask, reasons,
                 f"with {name} after the day of ingest {today.isoformat()}", dates[0], fix)

    def before(self, parsed: Parsed, column: str, name: str, floor: dt.date) -> None:
        """Dates before ``floor`` (``earliest_date``): typos and placeholder dates."""
        limit = (floor - _EPOCH).days
        mask = ~(parsed.empty | parsed.invalid) & (parsed.values < limit)
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        fix = f"fix the date, or set an earlier earliest_date in [intake] (now {floor})"
        dates = [(_EPOCH + dt.timedelta(days=int(parsed.values[i]))).isoformat() for i in idx]
        reasons = [f"{column}: {d} is before earliest_date {floor.isoformat()}: {fix}"
                   for d in dates]
        self.add(f"{name}_too_early", mask, reasons,
                 f"with {name} before earliest_date {floor.isoformat()}", dates[0], fix)

    def too_large(self, parsed: Parsed, column: str, name: str, ceiling: float) -> None:
        """Numbers larger than ``ceiling`` in absolute value (``max_amount``)."""
        with np.errstate(invalid="ignore"):
            mask = ~(parsed.empty | parsed.invalid) & (np.abs(parsed.values) > ceiling)
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        fix = f"fix the value, or raise max_amount in [intake] (now {ceiling:g})"
        shown = [f"{parsed.values[i]:g}" for i in idx]
        reasons = [f"{column}: {v} is larger than max_amount {ceiling:g}: {fix}" for v in shown]
        self.add(f"{name}_too_large", mask, reasons, f"with {name} larger than {ceiling:g}",
                 shown[0], fix)

    def out_of_range(self, parsed: Parsed, column: str, name: str, low: float, high: float,
                     fix: str) -> None:
        """Numbers that parsed but lie outside ``[low, high]`` (e.g. a score of 11)."""
        values = parsed.values
        with np.errstate(invalid="ignore"):
            mask = ~(parsed.empty | parsed.invalid) & ~((values >= low) & (values <= high))
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        shown = [f"{values[i]:g}" for i in idx]
        reasons = [f"{column}: {v} is outside {low:g}-{high:g}: {fix}" for v in shown]
        self.add(f"{name}_range", mask, reasons, f"with {name} outside {low:g}-{high:g}",
                 shown[0], fix)

    def _repeats(self, keys: pd.Series, skip: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Among rows not yet rejected (nor in ``skip``): (candidate rows, repeat mask, line
        of the first one)."""
        cand = np.flatnonzero(~self.rejected if skip is None else ~self.rejected & ~skip)
        if len(cand) < 2:
            return None
        sub = keys.iloc[cand].reset_index(drop=True)
        arr = pa.array(sub, from_pandas=True)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        codes = pc.dictionary_encode(arr).indices.to_numpy(zero_copy_only=False)
        if np.bincount(codes).max() < 2:
            return None
        dup = np.ones(len(codes), dtype=bool)
        dup[np.unique(codes, return_index=True)[1]] = False
        firsts = pd.Index(sub[~dup])
        first_line = self.lines[cand][~dup][firsts.get_indexer(sub[dup])]
        return cand, dup, first_line

    def duplicates(self, ids: pd.Series, column: str, name: str,
                   earlier: Callable[[pd.Series], np.ndarray] | None = None) -> None:
        """Later rows repeating an id of an earlier accepted row.

        ``earlier`` gives, per id, the line of an accepted row before these rows (an earlier
        batch of the same input) or -1: such repeats name that line.
        """
        seen = np.full(self.n, -1, dtype=np.int64)
        if earlier is not None:
            cand = np.flatnonzero(~self.rejected)
            if len(cand):
                seen[cand] = earlier(ids.iloc[cand].reset_index(drop=True))
        found = self._repeats(ids, skip=seen >= 0)
        rows = np.flatnonzero(seen >= 0)
        first = seen[rows]
        if found is not None:
            cand, dup, first_line = found
            rows, first = np.concatenate([rows, cand[dup]]), np.concatenate([first, first_line])
        if not len(rows):
            return
        order = np.argsort(rows, kind="stable")
        rows, first = rows[order], first[order]
        values = ids.iloc[rows].tolist()
        fix = f"give each row its own {name}, or remove the repeated row"
        reasons = [f"duplicate {name} {v!r} in {column} (first on line {ln}): {fix}"
                   for v, ln in zip(values, first)]
        mask = np.zeros(self.n, dtype=bool)
        mask[rows] = True
        self.add(f"{name}_duplicate", mask, reasons, f"with a duplicate {name}", values[0], fix)

    def duplicate_lines(self, content: pd.Series, order_ids: pd.Series, column: str) -> None:
        """Order lines repeating an earlier accepted line exactly (same order id, same content).

        Lines of one order that differ (another product, quantity or price) are not repeats.
        """
        found = self._repeats(content)
        if found is None:
            return
        cand, dup, first_line = found
        values = order_ids.iloc[cand[dup]].tolist()
        fix = "remove the repeated line (it was exported twice)"
        reasons = [f"duplicate line: the same order id {v!r} in {column} and the same content "
                   f"as line {ln}: {fix}" for v, ln in zip(values, first_line)]
        mask = np.zeros(self.n, dtype=bool)
        mask[cand[dup]] = True
        self.add("line_duplicate", mask, reasons, "repeating an earlier line exactly",
                 values[0], fix)

    def conflicting(self, groups: pd.Series, values: pd.Series, *, group_column: str,
                    value_column: str, name: str) -> None:
        """Rows whose ``values`` differ from the first accepted row of their group.

        E.g. the lines of one order must name one customer: a later line of order ``X`` naming
        another customer than the order's first line is rejected, naming that line.
        """
        cand = np.flatnonzero(~self.rejected)
        if len(cand) < 2:
            return
        g = groups.iloc[cand].reset_index(drop=True)
        v = values.iloc[cand].reset_index(drop=True)
        first = v.groupby(g, sort=False).transform("first")
        bad = (v != first).to_numpy(dtype=bool)
        if not bad.any():
            return
        lines = pd.Series(self.lines[cand]).groupby(g, sort=False).transform("first")
        fix = f"one order has one {name}: fix the {name} or the order id"
        reasons = [f"order id {o!r} in {group_column} is for {name} {f!r} (line {ln}) but this "
                   f"line's {value_column} says {x!r}: {fix}"
                   for o, f, ln, x in zip(g[bad], first[bad], lines[bad], v[bad])]
        mask = np.zeros(self.n, dtype=bool)
        mask[cand[bad]] = True
        self.add(f"order_{name}_conflict", mask, reasons,
                 f"naming another {name} than the first line of their order", str(v[bad].iloc[0]),
                 fix)

    # -- results -----------------------------------------------------------------------------

    def reasons(self) -> list[str]:
        """The reason of every rejected row, in row order."""
        rows = np.flatnonzero(self.rejected)
        slot = np.full(self.n, -1)
        slot[rows] = np.arange(len(rows))
        parts: list[list[str]] = [[] for _ in rows]
        for issue in self.issues:
            for pos, reason in zip(np.flatnonzero(issue.mask), issue.reasons):
                parts[slot[pos]].append(reason)
        return ["; ".join(p) for p in parts]

    def summaries(self) -> list[str]:
        """One line per issue, for ``tierwise validate``."""
        out = []
        for issue in self.issues:
            count = int(np.count_nonzero(issue.mask))
            line = self.lines[np.flatnonzero(issue.mask)[0]]
            value = f" {_shown(issue.first_value)}" if issue.first_value else ""
            out.append(f"{self.label}: {count} row{'s' if count != 1 else ''} {issue.summary} "
                       f"(first: line {line}{value}: {issue.first_hint})")
        return out


def summarise_bad_rows(bad: pd.DataFrame | None, label: str) -> list[str]:
    """The summary line for records a reader could not split into the header's columns."""
    if bad is None or not len(bad):
        return []
    n = len(bad)
    first = bad.iloc[0]
    line = (f"{label}: {n} row{'s' if n != 1 else ''} whose fields do not match the header "
            f"(first: line {first['_line']}: {first['_reason']})")
    return [line]


__all__ = ["Issue", "RowChecks", "summarise_bad_rows"]

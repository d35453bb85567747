"""Segment rules: a small, safe expression language over the per-customer frame.

A rule is text such as ``region in ["华东", "华南"] and total_amount >= 5000``. It is read once
into a tree (:func:`parse_rule`), checked against a frame's columns and types
(:meth:`Rule.validate`) and then evaluated column-wise with numpy / pandas (:meth:`Rule.evaluate`).
Nothing in a rule is ever handed to ``eval``, ``exec`` or a SQL string: the text is tokenised by
hand, and the only things a rule can name are columns of the frame.

Grammar (keywords are case-insensitive)::

    rule      := or
    or        := and ("or" and)*
    and       := not ("and" not)*                 -- "and" binds tighter than "or"
    not       := "not" not | "(" or ")" | predicate
    predicate := operand cmp operand               -- cmp: = == != <> < <= > >=
               | operand ["not"] "in" list         -- list: [v, ...] or (v, ...)
               | operand ["not"] "contains" string -- one whole item of a ';'-separated list
               | operand ["not"] "between" operand "and" operand   -- inclusive
               | operand "is" ["not"] "null"
               | operand                           -- a true/false column, or true / false
    operand   := column | number | string | true | false
    column    := name (letters incl. Chinese, digits, _) | `any text in backticks`

Strings take single or double quotes (also Chinese quotes “…” and ‘…’); ``\\`` escapes the next
character. Full-width ``（ ） ，`` are read as ``( ) ,``.

Missing values (NULL) follow SQL: a comparison with a missing value is *unknown*, ``not unknown``
is unknown, ``unknown and false`` is false, ``unknown or true`` is true, and a rule that ends
unknown does **not** match. So ``region != "华东"`` does not match a customer without a region;
write ``region is null or region != "华东"`` to include them.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"region": ["华东", "华北", None], "total_amount": [6000.0, 9000.0, 7000.0]})
>>> rule = parse_rule('region in ["华东", "华南"] and total_amount >= 5000')
>>> rule.evaluate(frame).tolist()
[True, False, False]
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ._syntax import (
    KEYWORDS, And, Between, Column, Compare, Contains, InList, IsNull, Literal, Node, Not, Operand,
    Or, Token, Truth, parse_tree, pointer, rule_error, tokenize,
)

MAX_RULE_LENGTH = 10_000
TAG_SEPARATORS = ";；"
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "==": operator.eq, "!=": operator.ne, "<>": operator.ne,
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_ORDERING = frozenset({"<", "<=", ">", ">="})
_KIND_WORDS = {"number": "numbers", "text": "text", "bool": "true/false values", "date": "dates",
               "null": "only missing values"}


# ---- checking against a frame ---------------------------------------------------------------

def column_kind(series: pd.Series) -> str:
    """The kind of a column as rules see it: number, text, bool, date or null (all missing)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred == "empty":
        return "null"
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return "number"
    if inferred == "boolean":
        return "bool"
    if inferred in ("date", "datetime", "datetime64"):
        return "date"
    return "text"


def _literal_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    return "text" if isinstance(value, str) else "number"


def _is_date_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return not pd.isna(pd.Timestamp(value))
    except (ValueError, TypeError, OverflowError):
        return False


class _Checker:
    """Walks a rule tree and collects (problem, start, end, hint) for one frame."""

    def __init__(self, frame: pd.DataFrame, kinds: dict[str, str]) -> None:
        self.frame, self.kinds = frame, kinds
        self.problems: list[tuple[str, int, int, str | None]] = []

    def kind(self, operand: Operand) -> str | None:
        if isinstance(operand, Literal):
            return _literal_kind(operand.value)
        if operand.name not in self.frame.columns:
            if any(start == operand.start for _, start, _, _ in self.problems):
                return None
            close = difflib.get_close_matches(operand.name, [str(c) for c in self.frame.columns])
            hint = f"did you mean {close[0]!r}?" if close else (
                f'to compare with the text "{operand.name}", quote it')
            available = ", ".join(str(c) for c in self.frame.columns)
            self.problems.append((f"unknown column {operand.name!r} (available columns: "
                                  f"{available})", operand.start, operand.end, hint))
            return None
        if operand.name not in self.kinds:
            self.kinds[operand.name] = column_kind(self.frame[operand.name])
        return self.kinds[operand.name]

    def pair(self, op: str, left: Operand, right: Operand, start: int, end: int) -> None:
        lk, rk = self.kind(left), self.kind(right)
        if lk is None or rk is None or "null" in (lk, rk):
            return
        if {lk, rk} == {"date", "text"}:
            literal = left if lk == "text" else right
            if isinstance(literal, Literal) and _is_date_text(literal.value):
                return
            self.problems.append(("a date can only be compared with a date such as "
                                  "\"2024-06-30\"", start, end, "write dates as \"YYYY-MM-DD\""))
            return
        if lk != rk:
            self.problems.append((f"cannot compare {_describe(left, lk, True)} with "
                                  f"{_describe(right, rk, True)}", start, end,
                                  _mismatch_hint(left, lk, right, rk)))
        elif op in _ORDERING and lk in ("text", "bool"):
            self.problems.append((f"'{op}' cannot order {_KIND_WORDS[lk]}", start, end,
                                  "use = or in [...] for text; order only numbers and dates"))

    def visit(self, node: Node) -> None:
        if isinstance(node, (And, Or)):
            for item in node.items:
                self.visit(item)
        elif isinstance(node, Not):
            self.visit(node.item)
        elif isinstance(node, Compare):
            self.pair(node.op, node.left, node.right, node.start, node.end)
        elif isinstance(node, InList):
            self.kind(node.operand)
            for value in node.values:
                self.pair("=", node.operand, value, node.start, node.end)
        elif isinstance(node, Between):
            self.pair("<=", node.low, node.operand, node.start, node.end)
            self.pair("<=", node.operand, node.high, node.start, node.end)
        elif isinstance(node, Contains):
            kind = self.kind(node.operand)
            if kind not in (None, "null", "text"):
                self.problems.append((f"'contains' looks inside text, but "
                                      f"{_describe(node.operand, kind)}", node.start, node.end,
                                      "use contains on a text column such as tags"))
        elif isinstance(node, IsNull):
            self.kind(node.operand)
        elif isinstance(node, Truth):
            kind = self.kind(node.operand)
            if kind not in (None, "null", "bool"):
                self.problems.append((f"a condition on its own must be true/false, but "
                                      f"{_describe(node.operand, kind)}", node.start, node.end,
                                      "compare it, e.g. total_amount > 0"))


def _describe(operand: Operand, kind: str, short: bool = False) -> str:
    if isinstance(operand, Column):
        if short:
            return f"column {operand.name!r} ({_KIND_WORDS[kind]})"
        return f"column {operand.name!r} holds {_KIND_WORDS[kind]}"
    word = {"number": "the number", "text": "the text", "bool": "the value"}[kind]
    return f"{word} {operand.value!r}"


def _mismatch_hint(left: Operand, lk: str, right: Operand, rk: str) -> str:
    for operand, kind, other in ((right, rk, lk), (left, lk, rk)):
        if isinstance(operand, Literal) and kind == "text" and other == "number":
            return f"write the number without quotes: {operand.value}"
        if isinstance(operand, Literal) and kind == "number" and other == "text":
            return f'quote the value: "{operand.value}"'
    return "compare a column with a value of the same kind"


# ---- evaluation (three-valued, vectorised) --------------------------------------------------

def _masked(values: Any, na: Any, n: int) -> pd.arrays.BooleanArray:
    values = np.broadcast_to(np.asarray(values, dtype=bool), (n,)).copy()
    na = np.broadcast_to(np.asarray(na, dtype=bool), (n,)).copy()
    return pd.arrays.BooleanArray(values, na)


_ARRAY_DTYPES = {"number": "float64", "text": object, "bool": bool, "date": "datetime64[ns]"}


def _literal(value: Any, kind: str) -> Any:
    return pd.Timestamp(value).to_datetime64() if kind == "date" else value


class _Evaluator:
    def __init__(self, frame: pd.DataFrame, kinds: dict[str, str]) -> None:
        self.frame, self.kinds, self.n = frame, kinds, len(frame)

    def kind_of(self, *operands: Operand) -> str:
        kinds = [self.kinds[o.name] if isinstance(o, Column) else _literal_kind(o.value)
                 for o in operands]
        if "null" in kinds:
            return "null"
        return "date" if "date" in kinds else kinds[0]

    def values(self, operand: Operand, kind: str) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(operand, Literal):
            array = np.empty(self.n, dtype=_ARRAY_DTYPES[kind])
            array[:] = _literal(operand.value, kind)
            return array, np.zeros(self.n, dtype=bool)
        series = self.frame[operand.name]
        if kind == "number":
            return series.to_numpy(dtype=float, na_value=np.nan), series.isna().to_numpy()
        if kind == "date":
            stamps = pd.to_datetime(series, errors="coerce")
            if getattr(stamps.dt, "tz", None) is not None:
                stamps = stamps.dt.tz_localize(None)
            return stamps.to_numpy(dtype="datetime64[ns]"), stamps.isna().to_numpy()
        if kind == "bool":
            return series.to_numpy(dtype=bool, na_value=False), series.isna().to_numpy()
        raise AssertionError(f"text goes through _Evaluator.text, not values ({kind})")

    def text(self, operand: Operand) -> tuple[pd.Series | str, np.ndarray]:
        """A text operand as a pandas string Series (vectorised) or a str, and its NA mask."""
        if isinstance(operand, Literal):
            return str(operand.value), np.zeros(self.n, dtype=bool)
        series = self.frame[operand.name]
        if not (pd.api.types.is_string_dtype(series) and series.dtype != object):
            series = series.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore")
            series = series.astype("str")
        return series, series.isna().to_numpy()

    def compare(self, op: str, left: Operand, right: Operand) -> pd.arrays.BooleanArray:
        kind = self.kind_of(left, right)
        if kind == "null":
            return _masked(False, True, self.n)
        if kind == "text":  # only = and != reach here: the checker refuses ordering text
            (lv, ln), (rv, rn) = self.text(left), self.text(right)
            equal = np.broadcast_to(np.asarray(lv == rv, dtype=bool), (self.n,))
            return _masked(equal if _COMPARE[op] is operator.eq else ~equal, ln | rn, self.n)
        (lv, ln), (rv, rn) = self.values(left, kind), self.values(right, kind)
        known = ~(ln | rn)
        result = np.zeros(self.n, dtype=bool)
        if known.any():
            result[known] = _COMPARE[op](lv[known], rv[known])
        return _masked(result, ~known, self.n)

    def run(self, node: Node) -> pd.arrays.BooleanArray:
        if isinstance(node, And):
            return reduce(operator.and_, (self.run(item) for item in node.items))
        if isinstance(node, Or):
            return reduce(operator.or_, (self.run(item) for item in node.items))
        if isinstance(node, Not):
            return ~self.run(node.item)
        if isinstance(node, Compare):
            return self.compare(node.op, node.left, node.right)
        if isinstance(node, InList):
            return self.in_list(node)
        if isinstance(node, Between):
            inside = (self.compare("<=", node.low, node.operand)
                      & self.compare("<=", node.operand, node.high))
            return ~inside if node.negated else inside
        if isinstance(node, Contains):
            return self.contains(node)
        if isinstance(node, IsNull):
            operand = node.operand
            na = (self.frame[operand.name].isna().to_numpy() if isinstance(operand, Column)
                  else np.zeros(self.n, dtype=bool))
            return _masked(~na if node.negated else na, False, self.n)
        kind = self.kind_of(node.operand)
        if kind == "null":
            return _masked(False, True, self.n)
        values, na = self.values(node.operand, kind)
        return _masked(values, na, self.n)

    def in_list(self, node: InList) -> pd.arrays.BooleanArray:
        kind = self.kind_of(node.operand, *node.values)
        if kind == "null":
            return _masked(False, True, self.n)
        wanted = [_literal(v.value, kind) for v in node.values]
        if kind == "text":
            values, na = self.text(node.operand)
            found = self.series(values).isin(wanted).to_numpy(dtype=bool)
        else:
            values, na = self.values(node.operand, kind)
            found = np.isin(values, np.array(wanted, dtype=_ARRAY_DTYPES[kind]))
        return _masked(~found if node.negated else found, na, self.n)

    def contains(self, node: Contains) -> pd.arrays.BooleanArray:
        if self.kind_of(node.operand) == "null":
            return _masked(False, True, self.n)
        values, na = self.text(node.operand)
        sep = re.escape(TAG_SEPARATORS)
        item = re.escape(node.value.value.strip())
        pattern = rf"(?:^|[{sep}])\s*{item}\s*(?:$|[{sep}])"
        found = self.series(values).str.contains(pattern, regex=True).to_numpy(bool, na_value=False)
        return _masked(~found if node.negated else found, na, self.n)

    def series(self, values: pd.Series | str) -> pd.Series:
        """A text operand as a Series on the frame's index (a literal repeated)."""
        if isinstance(values, str):
            return pd.Series(values, index=self.frame.index, dtype="str")
        return values


# ---- the public face ------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """A parsed rule: its text and its tree. Build one with :func:`parse_rule`.

    Attributes
    ----------
    text : str
        The rule as written.
    node : Node
        The parsed tree.
    """

    text: str
    node: Node

    def __str__(self) -> str:
        return self.text

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names the rule refers to, in order of first appearance."""
        names: dict[str, None] = {}
        _collect_columns(self.node, names)
        return tuple(names)

    def problems(self, frame: pd.DataFrame, *, where: str = "",
                 kinds: dict[str, str] | None = None) -> list[ConfigError]:
        """Every problem the rule has with ``frame`` (unknown columns, mismatched types).

        Parameters
        ----------
        frame
            The per-customer frame the rule will run on.
        where
            Context for messages, e.g. ``"segment '大客户' of scheme 'segments'"``.
        kinds
            A cache of :func:`column_kind` results shared between rules on one frame.
        """
        checker = _Checker(frame, {} if kinds is None else kinds)
        checker.visit(self.node)
        return [rule_error(self.text, start, end, problem, hint=hint, where=where)
                for problem, start, end, hint in dict.fromkeys(checker.problems)]

    def validate(self, frame: pd.DataFrame, *, where: str = "") -> None:
        """Raise the first :class:`ConfigError` of :meth:`problems`, if any."""
        problems = self.problems(frame, where=where)
        if problems:
            raise problems[0]

    def evaluate(self, frame: pd.DataFrame, *, where: str = "",
                 kinds: dict[str, str] | None = None) -> pd.Series:
        """Which rows of ``frame`` the rule matches (a bool Series on ``frame.index``).

        The rule is validated first. A row whose result is unknown (missing values) does not
        match.
        """
        kinds = {} if kinds is None else kinds
        problems = self.problems(frame, where=where, kinds=kinds)
        if problems:
            raise problems[0]
        result = _Evaluator(frame, kinds).run(self.node)
        return pd.Series(result.to_numpy(dtype=bool, na_value=False), index=frame.index,
                         name="match")


def _collect_columns(node: Any, names: dict[str, None]) -> None:
    if isinstance(node, Column):
        names[node.name] = None
    elif isinstance(node, (And, Or)):
        for item in node.items:
            _collect_columns(item, names)
    elif isinstance(node, (Literal, type(None))):
        return
    else:
        for name in ("item", "left", "right", "operand", "low", "high"):
            if hasattr(node, name):
                _collect_columns(getattr(node, name), names)


def parse_rule(text: str) -> Rule:
    """Read a rule into a :class:`Rule`, without looking at any data.

    Parameters
    ----------
    text
        The rule, e.g. ``'region in ["华东", "华南"] and total_amount >= 5000'``.

    Returns
    -------
    Rule

    Raises
    ------
    ConfigError
        When the text is not a rule; the message points at the position with a caret line.

    Examples
    --------
    >>> parse_rule('tags contains "商务宴请" or `消费 金额` between 100 and 500').columns
    ('tags', '消费 金额')
    """
    if not isinstance(text, str):
        raise ConfigError(f"a rule must be text, got {text!r}", 'write it in quotes: rule = "..."')
    if not text.strip():
        raise ConfigError("a rule is empty", "write a condition such as total_amount >= 5000, "
                          "or mark the segment as default = true")
    if len(text) > MAX_RULE_LENGTH:
        raise ConfigError(f"a rule is {len(text)} characters long, more than {MAX_RULE_LENGTH}",
                          "split it into several segments")
    return Rule(text, parse_tree(text))


__all__ = ["Rule", "parse_rule", "tokenize", "column_kind", "pointer", "rule_error", "Token",
           "KEYWORDS", "TAG_SEPARATORS"]

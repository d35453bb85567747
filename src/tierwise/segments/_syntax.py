"""The syntax of segment rules: tokens, the tree, the parser and caret-pointing errors.

Private to :mod:`tierwise.segments.rules`, which documents the grammar and is the public face.
The parser is a hand-written recursive descent over tokens; nothing is ever evaluated here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Union

from ..errors import ConfigError

MAX_DEPTH = 64
KEYWORDS = frozenset(
    {"and", "or", "not", "in", "contains", "between", "is", "null", "true", "false"})

_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[^\W\d]\w*")
_OPERATORS = ("==", "!=", "<>", "<=", ">=", "=", "<", ">")
_PUNCT = {"(": "(", ")": ")", "[": "[", "]": "]", ",": ",", "（": "(", "）": ")", "，": ","}
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’"}


# ---- tokens and tree ------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    """One token of a rule: ``kind`` is number, string, name, keyword, op, punct or end."""

    kind: str
    value: Any
    start: int
    end: int


@dataclass(frozen=True)
class Column:
    name: str
    start: int
    end: int


@dataclass(frozen=True)
class Literal:
    value: Any
    start: int
    end: int


@dataclass(frozen=True)
class Compare:
    op: str
    left: Operand
    right: Operand
    start: int
    end: int


@dataclass(frozen=True)
class InList:
    operand: Operand
    values: tuple[Literal, ...]
    negated: bool
    start: int
    end: int


@dataclass(frozen=True)
class Contains:
    operand: Operand
    value: Literal
    negated: bool
    start: int
    end: int


@dataclass(frozen=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand
    negated: bool
    start: int
    end: int


@dataclass(frozen=True)
class IsNull:
    operand: Operand
    negated: bool
    start: int
    end: int


@dataclass(frozen=True)
class Truth:
    operand: Operand
    start: int
    end: int


@dataclass(frozen=True)
class Not:
    item: Node
    start: int
    end: int


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]
    start: int
    end: int


Operand = Union[Column, Literal]
Node = Union[Compare, InList, Contains, Between, IsNull, Truth, Not, And, Or]


# ---- error display --------------------------------------------------------------------------

def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pointer(text: str, start: int, end: int) -> str:
    """Where ``text[start:end]`` is, as the text's line and a caret line under it.

    Wide (Chinese) characters count two columns, so the carets sit under the right characters
    in a terminal.
    """
    start = max(0, min(start, len(text)))
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    line = text[line_start:line_end].replace("\t", " ")
    pad = _width(text[line_start:start].replace("\t", " "))
    width = max(1, _width(text[start:min(max(end, start), line_end)]))
    return f"    {line}\n    {' ' * pad}{'^' * width}"


def _where(text: str, start: int) -> str:
    line_no = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    return f"line {line_no}, character {column}" if "\n" in text else f"character {column}"


def rule_error(text: str, start: int, end: int, problem: str, *, hint: str | None = None,
               where: str = "") -> ConfigError:
    """A :class:`ConfigError` quoting the rule, the problem, its position and a caret line."""
    shown = text if len(text) <= 200 else text[:200] + "…"
    context = f" ({where})" if where else ""
    message = (f"rule {shown!r}{context}: {problem} at {_where(text, start)}\n"
               f"{pointer(text, start, end)}")
    return ConfigError(message, hint)


# ---- tokenizer ------------------------------------------------------------------------------

def _read_string(text: str, i: int) -> Token:
    close, pos, chars = _QUOTES[text[i]], i + 1, []
    while pos < len(text):
        c = text[pos]
        if c == "\\" and pos + 1 < len(text):
            chars.append(text[pos + 1])
            pos += 2
        elif c == close:
            return Token("string", "".join(chars), i, pos + 1)
        else:
            chars.append(c)
            pos += 1
    raise rule_error(text, i, len(text), "the text value is never closed",
                     hint=f"end it with {close}")


def _number(raw: str) -> int | float:
    if re.fullmatch(r"-?[0-9]{1,18}", raw):
        return int(raw)
    return float(raw)


def _read_token(text: str, i: int) -> Token:
    c = text[i]
    if c in _QUOTES:
        return _read_string(text, i)
    if c == "`":
        close = text.find("`", i + 1)
        if close < 0:
            raise rule_error(text, i, len(text), "the backtick-quoted column name is never closed",
                             hint="end it with `")
        return Token("name", text[i + 1:close], i, close + 1)
    if m := _NUMBER.match(text, i):
        return Token("number", _number(m.group()), i, m.end())
    if m := _NAME.match(text, i):
        word = m.group()
        if word.lower() in KEYWORDS:
            return Token("keyword", word.lower(), i, m.end())
        return Token("name", word, i, m.end())
    for op in _OPERATORS:
        if text.startswith(op, i):
            return Token("op", op, i, i + len(op))
    if c in _PUNCT:
        return Token("punct", _PUNCT[c], i, i + 1)
    raise rule_error(text, i, i + 1, f"unexpected character {c!r}",
                     hint="quote text values, e.g. region = \"华东\"; quote odd column names "
                          "with backticks, e.g. `消费 金额` > 100")


def tokenize(text: str) -> list[Token]:
    """Split a rule into tokens; the last token has kind ``end``.

    Raises
    ------
    ConfigError
        On a character that has no meaning in a rule or an unclosed quote.
    """
    tokens, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        token = _read_token(text, i)
        tokens.append(token)
        i = token.end
    tokens.append(Token("end", None, len(text), len(text)))
    return tokens


# ---- parser ---------------------------------------------------------------------------------

class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.tokens, self.i, self.depth = text, tokenize(text), 0, 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def is_keyword(self, *words: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "keyword" and token.value in words

    def fail(self, token: Token, problem: str, hint: str | None = None) -> ConfigError:
        if token.kind == "end":
            return rule_error(self.text, token.start, token.end, f"{problem}; the rule ends here",
                              hint=hint or "complete the condition")
        shown = self.text[token.start:token.end]
        return rule_error(self.text, token.start, token.end, f"{problem}, found {shown!r}",
                          hint=hint)

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(token, f"the rule nests more than {MAX_DEPTH} levels deep",
                            hint="simplify the rule")

    def parse(self) -> Node:
        node = self.or_()
        token = self.peek()
        if token.kind != "end":
            raise self.fail(token, "expected 'and', 'or' or the end of the rule",
                            hint="join conditions with and / or; quote text values")
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.is_keyword("or"):
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items), items[0].start, items[-1].end)

    def and_(self) -> Node:
        items = [self.not_()]
        while self.is_keyword("and"):
            self.take()
            items.append(self.not_())
        return items[0] if len(items) == 1 else And(tuple(items), items[0].start, items[-1].end)

    def not_(self) -> Node:
        token = self.peek()
        if self.is_keyword("not"):
            self.enter(self.take())
            item = self.not_()
            self.depth -= 1
            return Not(item, token.start, item.end)
        if token.kind == "punct" and token.value == "(":
            self.enter(self.take())
            node = self.or_()
            close = self.take()
            if close.kind != "punct" or close.value != ")":
                raise self.fail(close, "expected ')' to close the '(' opened earlier")
            self.depth -= 1
            return node
        return self.predicate()

    def operand(self) -> Operand:
        token = self.take()
        if token.kind in ("number", "string"):
            return Literal(token.value, token.start, token.end)
        if token.kind == "keyword" and token.value in ("true", "false"):
            return Literal(token.value == "true", token.start, token.end)
        if token.kind == "name":
            return Column(token.value, token.start, token.end)
        if token.kind == "keyword" and token.value == "null":
            raise self.fail(token, "null is not a value to compare with",
                            hint="write 'column is null' or 'column is not null'")
        raise self.fail(token, "expected a column name or a value")

    def value_list(self) -> tuple[list[Literal], Token]:
        opening = self.take()
        if opening.kind != "punct" or opening.value not in "([":
            raise self.fail(opening, "expected a list such as [\"a\", \"b\"] after 'in'")
        closing, values = "]" if opening.value == "[" else ")", []
        while not (self.peek().kind == "punct" and self.peek().value == closing):
            item = self.operand()
            if not isinstance(item, Literal):
                raise rule_error(self.text, item.start, item.end,
                                 f"list items must be values, found the name {item.name!r}",
                                 hint=f'quote text values: "{item.name}"')
            values.append(item)
            if self.peek().kind == "punct" and self.peek().value == ",":
                self.take()
            elif not (self.peek().kind == "punct" and self.peek().value == closing):
                raise self.fail(self.peek(), f"expected ',' or '{closing}' in the list")
        return values, self.take()

    def predicate(self) -> Node:
        left = self.operand()
        token = self.peek()
        if token.kind == "op":
            self.take()
            right = self.operand()
            return Compare(token.value, left, right, left.start, right.end)
        negated = self.is_keyword("not") and self.is_keyword("in", "contains", "between", ahead=1)
        if negated:
            self.take()
        if self.is_keyword("in"):
            self.take()
            values, close = self.value_list()
            return InList(left, tuple(values), negated, left.start, close.end)
        if self.is_keyword("contains"):
            self.take()
            value = self.operand()
            if not (isinstance(value, Literal) and isinstance(value.value, str)):
                raise rule_error(self.text, value.start, value.end,
                                 "'contains' needs a quoted text value",
                                 hint='write e.g. tags contains "商务宴请"')
            return Contains(left, value, negated, left.start, value.end)
        if self.is_keyword("between"):
            return self.between(left, negated)
        if self.is_keyword("is"):
            self.take()
            is_not = self.is_keyword("not")
            if is_not:
                self.take()
            null = self.take()
            if not (null.kind == "keyword" and null.value == "null"):
                raise self.fail(null, "expected 'null' after 'is'")
            return IsNull(left, is_not, left.start, null.end)
        if isinstance(left, Column) or isinstance(left.value, bool):
            return Truth(left, left.start, left.end)
        raise self.fail(token, "expected a comparison (=, !=, <, <=, >, >=, in, contains, "
                               "between, is null) after the value")

    def between(self, left: Operand, negated: bool) -> Node:
        self.take()
        low = self.operand()
        joiner = self.take()
        if not (joiner.kind == "keyword" and joiner.value == "and"):
            raise self.fail(joiner, "expected 'and' in 'between low and high'")
        high = self.operand()
        return Between(left, low, high, negated, left.start, high.end)


def parse_tree(text: str) -> Node:
    """Parse ``text`` into its tree (no length or emptiness checks: see ``parse_rule``)."""
    return _Parser(text).parse()

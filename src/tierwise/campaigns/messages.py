"""Message text of a campaign 活动短信文案: a template merged per target customer.

The restaurant article's wake-up SMS names the guest and the dish they like; tierwise writes that
text into the target list so the SMS gateway gets it ready to send (sending stays with the
gateway). A template is plain text with placeholders:

* ``{name}`` -- a field of the customer or the campaign (:data:`PLACEHOLDERS`);
* ``{favourite_product|招牌菜}`` -- the same with a default for a customer who has no value;
* ``{{`` and ``}}`` -- a literal brace.

The template is the campaign's own (``--message`` or ``[campaigns] message``), or, with
``--message playbook``, the playbook message of each target's segment (``[segments]``).

:func:`parse_template` checks a template when the campaign is created (an unknown field names the
valid ones); :func:`render_messages` merges it per customer and counts what fell back to an empty
text and what is longer than one SMS (:data:`SMS_SEGMENT_CHARS` characters for Chinese text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import ConfigError

#: One SMS segment holds 70 characters of Chinese (UCS-2) text; longer messages are split.
SMS_SEGMENT_CHARS = 70

#: ``--message playbook``: each target's segment playbook message is the template.
PLAYBOOK = "playbook"

#: Placeholder -> where its value comes from (the campaign run's snapshot, or the campaign).
PLACEHOLDERS: dict[str, str] = {
    "name": "the customer's name",
    "city": "the customer's city",
    "region": "the customer's region",
    "favourite_product": "the customer's first favourite product (from order lines)",
    "days_since_last": "days since the last purchase, at the snapshot",
    "segment": "the customer's segment",
    "face_value": "the campaign's coupon face value",
    "valid_until": "the last day of the campaign window",
    "campaign": "the campaign's name",
}


@dataclass(frozen=True)
class Slot:
    """One placeholder in a template: its field and its default (None: no default given)."""

    name: str
    default: str | None = None


@dataclass(frozen=True)
class Template:
    """A parsed template: literal text and :class:`Slot` parts, in order."""

    text: str
    parts: tuple[str | Slot, ...]

    @property
    def fields(self) -> list[str]:
        return [p.name for p in self.parts if isinstance(p, Slot)]

    def render(self, values: dict[str, Any]) -> tuple[str, list[str]]:
        """The message for one customer, and the fields that fell back to an empty text."""
        out, empty = [], []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = _text(values.get(part.name))
            if value == "":
                if part.default is not None:
                    value = part.default
                else:
                    empty.append(part.name)
            out.append(value)
        return "".join(out), empty


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _bad(problem: str, where: str) -> ConfigError:
    return ConfigError(f"{where}: {problem}",
                       "placeholders are {field} or {field|default}, with field one of: "
                       + ", ".join(PLACEHOLDERS) + "; write {{ and }} for a literal brace")


def parse_template(text: str, *, where: str = "--message") -> Template:
    """Parse and check a message template; a :class:`ConfigError` naming the problem.

    >>> parse_template("{name}您好，{favourite_product|招牌菜}等您回来").fields
    ['name', 'favourite_product']
    """
    parts: list[str | Slot] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "{}" and text[i + 1:i + 2] == ch:
            literal.append(ch)
            i += 2
            continue
        if ch == "}":
            raise _bad(f"a '}}' at character {i + 1} closes no placeholder", where)
        if ch != "{":
            literal.append(ch)
            i += 1
            continue
        close = text.find("}", i + 1)
        if close < 0:
            raise _bad(f"the '{{' at character {i + 1} is never closed", where)
        inner = text[i + 1:close]
        if "{" in inner:
            raise _bad(f"the '{{' at character {i + 1} is never closed", where)
        name, sep, default = inner.partition("|")
        name = name.strip()
        if name not in PLACEHOLDERS:
            raise _bad(f"unknown placeholder {{{name}}}" if name else
                       f"an empty placeholder at character {i + 1}", where)
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(Slot(name, default if sep else None))
        i = close + 1
    if literal:
        parts.append("".join(literal))
    return Template(text, tuple(parts))


@dataclass
class Messages:
    """The merged texts of a target list and what to tell the user about them."""

    texts: list[str]
    #: field -> customers whose value was missing and had no default (their text has a gap).
    empty: dict[str, int] = field(default_factory=dict)
    #: Messages longer than one SMS segment (:data:`SMS_SEGMENT_CHARS`).
    over_one_sms: int = 0
    longest: int = 0
    #: Targets whose segment has no playbook message (per-segment templates only).
    no_text: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"messages": len(self.texts) - self.no_text, "no_text": self.no_text,
                "empty_fields": self.empty,
                "over_one_sms": self.over_one_sms, "longest": self.longest,
                "sms_segment_chars": SMS_SEGMENT_CHARS}


def render_messages(template: Template | dict[str, Template], rows: pd.DataFrame) -> Messages:
    """Merge ``template`` into every row of ``rows`` (columns named as the placeholders).

    ``template`` may be a dict segment -> template (the segments' playbook messages, see
    :func:`playbook_templates`): each row takes its ``segment``'s; a row whose segment has none
    gets no text and is counted in ``Messages.no_text``.
    """
    texts: list[str] = []
    empty: dict[str, int] = {}
    no_text = 0
    for values in rows.to_dict("records"):
        chosen = template.get(str(values.get("segment"))) if isinstance(template, dict) \
            else template
        if chosen is None:
            texts.append("")
            no_text += 1
            continue
        text, gaps = chosen.render(values)
        texts.append(text)
        for name in dict.fromkeys(gaps):
            empty[name] = empty.get(name, 0) + 1
    lengths = [len(t) for t in texts]
    return Messages(texts, empty, sum(n > SMS_SEGMENT_CHARS for n in lengths),
                    max(lengths, default=0), no_text)


def playbook_templates(segments: Any) -> dict[str, str]:
    """Segment path -> its playbook message (inherited from the parent), each checked as a
    template; ``segments`` is the ``[segments]`` config. Segments without a message are left out.
    """
    from ..segments.schemes import Scheme

    found: dict[str, str] = {}
    for node in Scheme.from_config(segments).nodes():
        text = node.playbook.message
        if text:
            parse_template(text, where=f"[segments] playbook message of segment {node.path!r}")
            found[node.path] = text
    return found


__all__ = ["PLACEHOLDERS", "PLAYBOOK", "SMS_SEGMENT_CHARS", "Messages", "Slot", "Template", "parse_template",
           "playbook_templates", "render_messages"]

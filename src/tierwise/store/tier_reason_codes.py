"""Migration ``0062_tier_reason_codes``: each customer's pyramid reason as a code and figures.

Stores made before it hold ``tier_reason`` as a sentence in the run's language ("top 5% by total
amount (20 >= cut 20)", "按消费总额排名前5%（20 ≥ 分界 20）"). The sentences were written from the
templates the catalogue now holds (``tier_reason.*``), so each is read back into the catalogue
part it came from (``tier.rank`` with its phrase, figure and cut; ``tier_reason.held``,
``tier_reason.new`` ...) and kept in ``tier_reason_args``; the words come back at render time in
either language. A sentence no template reads (a method registered with its own words) is kept as
it is (``reason.text``, shown the same in both languages).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import duckdb
import pandas as pd

from ..i18n import MESSAGES

_PHRASES = ("top", "span", "bottom", "first", "within", "last", "at_threshold",
            "below_threshold")
_OTHERS = ("held", "prospect", "new", "not_graded", "null_lowest", "no_spread")
_LANGS = ("en", "zh")


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)"
                              for i, p in enumerate(parts)) + "$")


def _templates() -> list[tuple[str, str | None, str, re.Pattern[str]]]:
    """``(key, cut key, lang, pattern)`` of every sentence the pyramid wrote, longest first (a
    phrase with its cut is tried before the bare phrase, which would read it too)."""
    found = []
    for lang in _LANGS:
        for name in _PHRASES:
            phrase = MESSAGES[f"tier_reason.{name}"][lang]
            for cut in ("tier_reason.cut_above", "tier_reason.cut_below", None):
                text = phrase + (MESSAGES[cut][lang] if cut else "")
                found.append((f"tier_reason.{name}", cut, lang, _pattern(text)))
        for name in _OTHERS:
            found.append((f"tier_reason.{name}", None, lang,
                          _pattern(MESSAGES[f"tier_reason.{name}"][lang])))
    return sorted(found, key=lambda f: -len(f[3].pattern))


_TEMPLATES = _templates()
_COLUMNS = {lang: {entry[lang]: key.split(".", 1)[1] for key, entry in MESSAGES.items()
                   if key.startswith("column.")} for lang in _LANGS}
_TIERS = {lang: {MESSAGES[f"tier.{c}"][lang]: c for c in ("key", "major", "ordinary",
                                                           "long_tail", "new", "prospect")}
          for lang in _LANGS}


#: A sentence with its figures blanked -> the template that read it last (one regex per
#: sentence, not one per template, on a store of a million customers).
_SHAPE = re.compile(r"[-\d][\d,.]*")
_BY_SHAPE: dict[str, int] = {}


def _number(text: str) -> float:
    text = text.replace(",", "").strip()
    if text in ("∞", "-∞"):
        return math.inf if text == "∞" else -math.inf
    return math.nan if text == "n/a" else float(text)


def _margin(text: str, lang: str) -> tuple[float, str]:
    if text.endswith("%"):
        return float(text[:-1]) / 100.0, "relative"
    points = MESSAGES["tier_reason.points"][lang].replace("{margin}", "")
    return float(text.replace(points.strip(), "").strip()), "percentile_points"


def _fields(groups: dict[str, str], lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in groups.items():
        if name == "name":
            out["by"] = _COLUMNS[lang].get(value, value)
        elif name == "tier":
            out["tier"] = _TIERS[lang].get(value, value)
        elif name in ("v", "cut"):
            out[name] = _number(value)
        elif name in ("count", "needed"):
            out[name] = int(value)
        elif name == "margin":
            out["margin"], out["unit"] = _margin(value, lang)
        else:
            out[name] = value
    return out


def tier_reason_args(sentence: str) -> str:
    """A stored ``tier_reason`` sentence as the JSON the store now keeps.

    Examples
    --------
    >>> tier_reason_args("top 5% by total amount (20 >= cut 20)")
    '[["tier.rank", {"phrase": ["tier_reason.top", {"hi": "5%", "by": "total_amount"}], "v": 20.0, "cut": 20.0, "below": false}]]'
    """
    shape = _SHAPE.sub("#", sentence)
    first = _BY_SHAPE.get(shape)
    order = _TEMPLATES if first is None else [_TEMPLATES[first], *_TEMPLATES]
    for key, cut, lang, pattern in order:
        hit = pattern.match(sentence)
        if hit is None:
            continue
        _BY_SHAPE[shape] = _TEMPLATES.index((key, cut, lang, pattern))
        fields = _fields(hit.groupdict(), lang)
        if key.split(".", 1)[1] in _PHRASES:
            figures = {f: fields.pop(f) for f in ("v", "cut") if f in fields}
            part: list[Any] = ["tier.rank", {"phrase": [key, fields],
                                             "v": figures.get("v"), "cut": figures.get("cut"),
                                             "below": cut == "tier_reason.cut_below"}]
        else:
            part = [key, fields]
        return json.dumps([part], ensure_ascii=False)
    return json.dumps([["reason.text", {"text": sentence}]], ensure_ascii=False)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Apply the migration on an open connection (inside the caller's transaction)."""
    con.execute("ALTER TABLE snapshot_customers ADD COLUMN tier_reason_args JSON")
    has_text = con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = "
                           "'snapshot_customers' AND column_name = 'tier_reason'").fetchone()[0]
    if not has_text:
        return
    sentences = [r[0] for r in con.execute("SELECT DISTINCT tier_reason FROM snapshot_customers "
                                           "WHERE tier_reason IS NOT NULL").fetchall()]
    if sentences:
        con.register("tier_reason_codes", pd.DataFrame(
            {"sentence": sentences, "args": [tier_reason_args(s) for s in sentences]}))
        try:
            con.execute("UPDATE snapshot_customers SET tier_reason_args = c.args "
                        "FROM tier_reason_codes c WHERE snapshot_customers.tier_reason = "
                        "c.sentence")
        finally:
            con.unregister("tier_reason_codes")
    con.execute("ALTER TABLE snapshot_customers DROP COLUMN tier_reason")

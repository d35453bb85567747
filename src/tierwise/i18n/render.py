"""Words for stored codes, at the edge: what the store keeps out, and how readers get it back.

The store holds codes and figures (:data:`WORD_COLUMNS` lists the word columns it no longer
holds). :func:`strip_words` takes the words out of a run's frames before they are written;
:func:`add_words` and :func:`table_words` put them back when a run is read, rendered from the one
catalogue, so every reader (the CLI, the reports, the web, the export) shows the same words as
before in either language.

Two kinds of names are not the catalogue's: the segment scheme's and the RFM segment map's, which
the user configures, and the cluster profiles a run describes. A run keeps those in its ``names``
run table (``column, code, zh``), next to the codes that use them.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from . import CODE_FAMILIES, name_of, t

#: Per-customer word column -> the code column it names (and the catalogue family, or None for
#: names the run keeps in its ``names`` table).
WORD_COLUMNS: dict[str, tuple[str, str | None]] = {
    "tier_zh": ("tier", "tier"),
    "activity_state_zh": ("activity_state", "state"),
    "problem_group_zh": ("problem_group", "problem_group"),
    "rfm_class_en": ("rfm_class_cn", "rfm_class"),
    "rfm_segment_zh": ("rfm_segment", None),
    "segment_zh": ("segment", None),
    "cluster_profile_zh": ("cluster_profile", None),
}
#: Sentences stored as a code and its figures -> (code column, args column).
REASON_COLUMNS: dict[str, tuple[str, str]] = {
    "policy_reason": ("policy_reason_code", "policy_reason_args"),
}
#: Notes stored as JSON parts and shown in the run's language -> their parts column.
NOTE_COLUMNS: dict[str, str] = {"clv_note": "clv_note_args",
                                "key_account_reason": "key_account_reason_args",
                                "tier_reason": "tier_reason_args"}
NAMES_TABLE = "names"


# -- figures as text ----------------------------------------------------------------------------
def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _pct(p: Any) -> str:
    return f"{100 * p:.0f} %" if _finite(p) else "?"


def plain_number(value: float) -> str:
    """A number as people write it: thousands separated, at most two decimals.

    Examples
    --------
    >>> plain_number(1234567.891), plain_number(20.0), plain_number(float("inf"))
    ('1,234,567.89', '20', '∞')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _period_kind(label: Any) -> str:
    return "quarter" if "Q" in str(label) else "month"


def warning_message(row: dict[str, Any], lang: str) -> str:
    """The sentence of one early warning from its code and figures.

    ``row`` holds ``kind``, ``period`` (``2026-Q1`` or ``2026-03``), ``current``, ``reference``,
    ``change_pct`` and ``window`` (the trailing periods, or the horizon in days of ``unlikely``).

    Examples
    --------
    >>> warning_message({"kind": "silence", "period": "2026-Q1", "current": 90.0,
    ...                  "reference": 20.0, "change_pct": 350.0, "window": None}, "en")
    'no order for 90 days, usually one every 20 days (4.5 x the usual gap)'
    """
    kind, cur, ref = row["kind"], row["current"], row["reference"]
    per = _period_kind(row.get("period"))
    window = row.get("window")
    window = int(window) if _finite(window) else window
    if kind == "silence":
        return t("warning.silence", lang, current=f"{cur:.0f}", reference=f"{ref:.0f}",
                 ratio=f"{cur / ref:.1f}")
    if kind == "unlikely":
        return t("warning.unlikely", lang, current=f"{100 * cur:.0f}",
                 reference=f"{100 * ref:.0f}", window=window)
    return t(f"warning.{kind}", lang, this=t(f"period_this.{per}", lang),
             unit=t(f"period_unit.{per}", lang), current=f"{cur:,.0f}", reference=f"{ref:,.0f}",
             change=f"{row['change_pct']:+.0f}", window=window)


def tier_phrase(part: Any, lang: str) -> str:
    """How a tier reason names a pyramid level: a catalogue ``[key, fields]`` (``by`` a column,
    ``tier`` a tier code, ``lo``/``hi`` shares), or ``{"text": {"en": ..., "zh": ...}}`` for a
    method registered with its own words."""
    if isinstance(part, dict):
        return str(part["text"].get(lang) or part["text"]["en"])
    key, fields = part
    return t(key, lang, **_tier_fields(fields, lang))


def _tier_fields(fields: dict[str, Any], lang: str) -> dict[str, Any]:
    out = dict(fields)
    if "by" in out:
        out["name"] = name_of("column", out.pop("by"), lang)
    if "tier" in out:
        out["tier"] = name_of("tier", out["tier"], lang)
    for figure in ("v", "cut"):
        if figure in out:
            out[figure] = plain_number(out[figure])
    return out


def _tier_reason(key: str, fields: dict[str, Any], lang: str) -> str:
    if key == "tier.rank":
        text = tier_phrase(fields["phrase"], lang)
        cut = fields.get("cut")
        if cut is None:
            return text
        cmp = "tier_reason.cut_below" if fields.get("below") else "tier_reason.cut_above"
        return text + t(cmp, lang, v=plain_number(fields["v"]), cut=plain_number(cut))
    if key == "tier_reason.held":
        margin = fields["margin"]
        margin = (f"{margin:.0%}" if fields["unit"] == "relative"
                  else t("tier_reason.points", lang, margin=f"{margin:g}"))
        return t(key, lang, **{**_tier_fields(fields, lang), "margin": margin})
    return t(key, lang, **_tier_fields(fields, lang))


_RANKED = re.compile(r'^\[\["tier\.rank", ?\{"phrase": ?(.*), ?"v": ?([^,]*), ?"cut": ?([^,]*), ?'
                     r'"below": ?(true|false)\}\]\]$')


def tier_reasons(args: pd.Series, lang: str) -> pd.Series:
    """Stored ``tier_reason_args`` in words, a whole column at a time.

    Most customers are simply ranked into a level (``tier.rank``): their reasons differ only in
    the figure, so each level's phrase and each cut are worded once and only the figure per row
    (about 3 us a row, against some 20 for reading each JSON); the other reasons go through
    :func:`render_note`.
    """
    phrases: dict[str, str] = {}
    cuts: dict[str, str] = {}
    templates = {flag: t("tier_reason.cut_below" if flag == "true" else "tier_reason.cut_above",
                         lang, v="{v}", cut="{cut}") for flag in ("true", "false")}
    out: list[str | None] = []
    for a in args.tolist():
        hit = _RANKED.match(a) if isinstance(a, str) else None
        if hit is None:
            out.append(render_note(a, lang))
            continue
        phrase, v, cut, below = hit.groups()
        words = phrases.get(phrase)
        if words is None:
            words = phrases[phrase] = tier_phrase(json.loads(phrase), lang)
        if cut == "null":
            out.append(words)
            continue
        cut_words = cuts.get(cut)
        if cut_words is None:
            cut_words = cuts[cut] = plain_number(float(cut))
        out.append(words + templates[below].format(v=plain_number(float(v)), cut=cut_words))
    return pd.Series(out, index=args.index, dtype=object)


def reason_part(key: str, fields: dict[str, Any], lang: str) -> str:
    """One part of a stored reason (``reason.chance``, ``reason.rhythm`` ...) as text."""
    if key.startswith(("tier.", "tier_reason.")):
        return _tier_reason(key, fields, lang)
    if key == "reason.chance":
        p, floor = fields.get("p"), fields["floor"]
        below = _finite(p) and p < floor
        return t(key, lang, p=_pct(p), horizon=fields["horizon"], floor=_pct(floor),
                 basis=t(f"basis.{fields['basis']}", lang),
                 cmp=t("reason.below" if below else "reason.not_below", lang))
    if key == "reason.rhythm":
        return t(key, lang, missed=f"{fields['missed']:.1f}", gap=f"{fields['gap']:.0f}")
    if key == "reason.alive":
        return t(key, lang, p=_pct(fields["p"]))
    if key == "reason.warning":
        return t(key, lang, message=warning_message(fields, lang))
    if key == "reason.outcome":
        return t(key, lang, **{**fields, "outcome": t(f"outcome.{fields['outcome']}", lang)})
    if key == "ka.rank":
        return t(key, lang, **{**fields, "kind": name_of("key_account_type", fields["kind"], lang)})
    if "gates" in fields:
        gates = "; ".join(reason_part(k, f, lang) for k, f in fields["gates"])
        return t(key, lang, **{**fields, "gates": gates})
    return t(key, lang, **fields)


def render_note(args: Any, lang: str) -> str | None:
    """A stored ``clv_note`` (JSON parts) in ``lang``; its parts are joined with "; " in either
    language, as the notes always were."""
    return render_reason(args, lang, sep="; ")


def render_notes(args: pd.Series, lang: str) -> pd.Series:
    """:func:`render_note` of every value of a column, each distinct value worded once.

    A run's notes and reasons repeat: a million customers hold a few thousand distinct ones.
    """
    codes, uniques = pd.factorize(args, use_na_sentinel=True)
    words = [render_note(a, lang) for a in uniques] + [None]
    words = [np.nan if w is None else w for w in words]  # as Series.map leaves a missing one
    return pd.Series(np.array(words, dtype=object)[codes], index=args.index, dtype=object)


def render_reason(args: Any, lang: str, sep: str | None = None) -> str | None:
    """A stored reason (a JSON list of ``[key, fields]`` parts) as one sentence in ``lang``.

    Examples
    --------
    >>> parts = [["reason.chance", {"p": 0.04, "horizon": 90, "basis": "model", "floor": 0.1}],
    ...          ["reason.alive", {"p": 0.2}]]
    >>> render_reason(json.dumps(parts), "en")
    '4 % chance of a purchase in 90 days (purchase model), < floor 10 %; P(alive) 20 %'
    >>> render_reason(json.dumps(parts), "zh")
    '90 天内再次购买的概率 4 %（购买模型），低于底线 10 %；仍活跃概率 20 %'
    """
    if args is None or (isinstance(args, float) and math.isnan(args)):
        return None
    parts = json.loads(args) if isinstance(args, str) else args
    if not parts:
        return None
    sep = sep or ("；" if lang == "zh" else "; ")
    return sep.join(reason_part(key, fields, lang) for key, fields in parts)


# -- frames -------------------------------------------------------------------------------------
def strip_words(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``frame`` without its word columns, and the run's own names (``column, code, zh``).

    Rendered reasons (``policy_reason``, ``policy_reason_zh``) go too: their code and figures
    stay. Names the catalogue already has are not repeated in the names table.
    """
    rows: list[tuple[str, str, str]] = []
    for word, (code, family) in WORD_COLUMNS.items():
        if family is None and word in frame and code in frame:
            pairs = frame[[code, word]].dropna().drop_duplicates(code)
            rows += [(code, str(c), str(w)) for c, w in pairs.itertuples(index=False)
                     if name_of("rfm_segment" if code == "rfm_segment" else code, c, "zh") != w]
    drop = [c for c in WORD_COLUMNS if c in frame]
    for text, (code, _) in REASON_COLUMNS.items():
        if code in frame:
            drop += [c for c in (text, f"{text}_zh") if c in frame]
    drop += [text for text, args in NOTE_COLUMNS.items() if args in frame and text in frame]
    names = pd.DataFrame(rows, columns=["column", "code", "zh"])
    return frame.drop(columns=drop), names


def _names_map(names: pd.DataFrame | None) -> dict[str, dict[str, str]]:
    if names is None or not len(names):
        return {}
    out: dict[str, dict[str, str]] = {}
    for column, code, zh in names[["column", "code", "zh"]].itertuples(index=False):
        out.setdefault(column, {})[code] = zh
    return out


def add_words(frame: pd.DataFrame, names: pd.DataFrame | None = None,
              lang: str | None = None) -> pd.DataFrame:
    """The word columns of :data:`WORD_COLUMNS` and the rendered reasons, from the codes.

    Every word column whose code column is present is added (in Chinese, or English for
    ``rfm_class_en``); ``policy_reason`` is rendered in English and ``policy_reason_zh`` in
    Chinese, and ``clv_note`` in ``lang`` (the run's language; English when not given), as the
    store held them before (migration ``0060_language_codes``).
    """
    out = frame.copy()
    own = _names_map(names)
    for word, (code, family) in WORD_COLUMNS.items():
        if code not in out or word in out:
            continue
        word_lang = "en" if word.endswith("_en") else "zh"
        mine = own.get(code, {})
        fam = family or ("rfm_segment" if code == "rfm_segment" else None)
        out[word] = out[code].map(lambda c, m=mine, f=fam, lg=word_lang:
                                  m.get(c) if c in m else (name_of(f, c, lg) if f else c))
    for text, args in NOTE_COLUMNS.items():
        if args in out and text not in out:
            out[text] = (tier_reasons(out[args], lang or "en") if text == "tier_reason"
                         else out[args].map(lambda a: render_note(a, lang or "en")))
    for text, (_, args) in REASON_COLUMNS.items():
        if args in out:
            out[text] = out[args].map(lambda a: render_reason(a, "en"))
            out[f"{text}_zh"] = out[args].map(lambda a: render_reason(a, "zh"))
    return _beside_codes(out, list(frame.columns))


def _after() -> dict[str, list[str]]:
    """Stored column -> the word columns made from it, in the order they are shown."""
    after: dict[str, list[str]] = {}
    for word, (code, _) in WORD_COLUMNS.items():
        after.setdefault(code, []).append(word)
    for text, (_, args) in REASON_COLUMNS.items():
        after.setdefault(args, []).extend([text, f"{text}_zh"])
    for text, args in NOTE_COLUMNS.items():
        after.setdefault(args, []).append(text)
    return after


_AFTER = _after()


def _beside_codes(out: pd.DataFrame, stored: list[str]) -> pd.DataFrame:
    """Each added word column right after the column it words (where the store had it)."""
    order: list[str] = []
    for column in stored:
        order.append(column)
        order += [w for w in _AFTER.get(column, []) if w in out and w not in stored]
    return out[order + [c for c in out.columns if c not in order]]


def add_words_to_rows(rows: list[dict[str, Any]], names: pd.DataFrame | None = None,
                      lang: str | None = None) -> list[dict[str, Any]]:
    """:func:`add_words` for a few rows as dicts (a page of the dashboard's list), without a
    DataFrame: the same columns, the same words, each added after the column it words."""
    own = _names_map(names)
    out = []
    for row in rows:
        worded: dict[str, Any] = {}
        for column, value in row.items():
            worded[column] = value
            for word in _AFTER.get(column, ()):
                if word not in row:
                    worded[word] = _word_of(word, value, own, lang)
        out.append(worded)
    return out


def _word_of(word: str, value: Any, own: dict[str, dict[str, str]], lang: str | None) -> Any:
    if word in WORD_COLUMNS:
        code, family = WORD_COLUMNS[word]
        mine = own.get(code, {})
        if value in mine:
            return mine[value]
        fam = family or ("rfm_segment" if code == "rfm_segment" else None)
        return name_of(fam, value, "en" if word.endswith("_en") else "zh") if fam else value
    if word in NOTE_COLUMNS:
        return render_note(value, lang or "en")
    return render_reason(value, "zh" if word.endswith("_zh") else "en")


# -- run tables ---------------------------------------------------------------------------------
_DERIVED_TABLE_WORDS = ("message_zh", "message_en", "actions_zh", "actions_en")


def strip_table_words(table: pd.DataFrame, name: str | None = None) -> pd.DataFrame:
    """A run table without the words its codes give (``kind_zh``, ``movement_en``, ``message_zh``
    ...; the ``pyramid`` table's tier ``name``); a configured segment's Chinese name is in the
    run's ``names`` table."""
    drop = ["name"] if name == "pyramid" and {"tier", "name"} <= set(table.columns) else []
    for column in table.columns:
        base, _, lang = column.rpartition("_")
        if lang in ("zh", "en") and (base in CODE_FAMILIES and base in table
                                     or column in _DERIVED_TABLE_WORDS
                                     or column == "segment_zh" and "segment" in table):
            drop.append(column)
    return table.drop(columns=drop)


def table_words(table: pd.DataFrame, names: pd.DataFrame | None = None,
                name: str | None = None, lang: str | None = None) -> pd.DataFrame:
    """A stored run table with the word columns readers know: ``<code>_zh`` / ``<code>_en`` for
    code columns, the actions of ``state_policies``, the messages of ``warnings`` and (given the
    run's ``lang``) the ``pyramid`` table's tier ``name``."""
    out = table.copy()
    if name == "pyramid" and lang in ("zh", "en") and "tier" in out and "name" not in out:
        out.insert(1, "name", out["tier"].map(lambda c: name_of("tier", c, lang)))
    own = _names_map(names)
    for column, family in CODE_FAMILIES.items():
        if column not in out or column in ("rfm_class_cn", "rfm_segment"):
            continue
        codes = out[column].map(lambda c: None if pd.isna(c) else str(c))
        for lang in ("zh", "en"):
            if f"{column}_{lang}" not in out:
                out[f"{column}_{lang}"] = codes.map(lambda c, lg=lang, f=family: name_of(f, c, lg))
    if "policy" in out and "actions_zh" not in out:
        for lang in ("zh", "en"):
            out[f"actions_{lang}"] = out["policy"].map(lambda p, lg=lang: name_of("actions", p, lg))
    if "segment" in out and "segment_zh" not in out and "segment" in own:
        out["segment_zh"] = out["segment"].map(lambda s: own["segment"].get(s, s))
    if {"kind", "current", "reference"} <= set(out.columns) and "message_en" not in out:
        if "window" not in out:
            out["window"] = None
        for lang in ("zh", "en"):
            out[f"message_{lang}"] = [warning_message(r, lang) for r in out.to_dict("records")]
    return out


__all__ = ["NOTE_COLUMNS", "REASON_COLUMNS", "WORD_COLUMNS", "add_words", "add_words_to_rows",
           "render_note",
           "render_reason", "strip_table_words",
           "strip_words", "table_words", "warning_message"]

"""Migration ``0060_language_codes``: the store keeps codes and figures, not words.

Stores made before it hold Chinese or English text next to each code (``tier_zh``,
``activity_state_zh`` ...), each customer's policy reason as two sentences, and run tables with
``*_zh`` / ``*_en`` columns and warning messages. The migration, run once per store:

1. keeps each run's own names (configured segments, RFM segment map, cluster profiles) in its
   ``names`` run table;
2. turns each policy reason back into its code and figures (``policy_reason_code``,
   ``policy_reason_args``) from the columns it was written from (``policy_probability``,
   ``gaps_missed``, ``expected_gap_days``, ``p_alive``, ``policy_basis``), the run's horizon and
   floor, and the prefix the sentence starts with; a sentence it cannot read is kept as it was
   (``reason.text``, shown the same in both languages);
3. rewrites the run tables without the words their codes give (a warning keeps its ``window``,
   read from its English message);
4. drops the word columns.
"""

from __future__ import annotations

import json
import re
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ..i18n import MESSAGES
from ..i18n.render import NAMES_TABLE, WORD_COLUMNS, strip_table_words, strip_words

#: The notes this migration converts (as the catalogue had them when it shipped: later notes,
#: such as ``tier_reason``, have their own migration).
NOTE_COLUMNS = {"clv_note": "clv_note_args", "key_account_reason": "key_account_reason_args"}
#: Snapshot columns the migration drops (words, the rendered reason sentences, the notes).
DROPPED = (*WORD_COLUMNS, "policy_reason", "policy_reason_zh", *NOTE_COLUMNS)

_PROTECTED = "key or major account: never silenced by rule, its manager calls; "
_WARNED = re.compile(r"^early warning: [^;]*; ")
_CHANCE = re.compile(r"^(?:\?|\d+ %) chance of a purchase in (\d+) days \([^)]*\), (?:<|>=) "
                     r"floor (\d+) %")
_WINDOW = re.compile(r"previous (\d+) |in (\d+) days")


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Apply the migration on an open connection (inside the caller's transaction)."""
    con.execute("ALTER TABLE snapshot_customers ADD COLUMN policy_reason_code VARCHAR")
    con.execute("ALTER TABLE snapshot_customers ADD COLUMN policy_reason_args JSON")
    for text, args in NOTE_COLUMNS.items():
        con.execute(f"ALTER TABLE snapshot_customers ADD COLUMN {args} JSON")
        _convert_notes(con, text, args)
    run_ids = [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY run_id").fetchall()]
    for run_id in run_ids:
        tables = _tables(con, run_id)
        for name, table in tables.items():
            _put_table(con, run_id, name, _strip_table(table, name))
        snap = con.execute("SELECT * FROM snapshot_customers WHERE run_id = ?", [run_id]).df()
        names = strip_words(snap)[1]
        if len(names) and NAMES_TABLE not in tables:
            _put_table(con, run_id, NAMES_TABLE, names)
        if "policy_reason" in snap:
            _convert_reasons(con, run_id, snap, tables.get("warnings"))
    for column in DROPPED:
        if _has_column(con, column):
            con.execute(f'ALTER TABLE snapshot_customers DROP COLUMN "{column}"')


def _note_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)"
                              for i, p in enumerate(parts)) + "$")


#: (catalogue key, pattern) of every stored note's sentence, in both languages, the longest
#: template first (``ka.cap_added`` is tried before ``ka.cap``, which would read it too).
_NOTES = sorted(((key, _note_pattern(entry[lang])) for key, entry in MESSAGES.items()
                 if key.startswith(("clv_note.", "ka.")) and key != "ka.gate"
                 and not key.startswith("ka.status.") for lang in ("en", "zh")),
                key=lambda kp: -len(kp[1].pattern))
_STATUS = {MESSAGES[k][lang]: k for k in ("ka.status.lost", "ka.status.archived")
           for lang in ("en", "zh")}


def _gate_parts(text: str) -> list[list[Any]]:
    return [[_STATUS[g], {}] if g in _STATUS else ["ka.gate", {"text": g}]
            for g in text.split("; ") if g]


def _note_part(text: str) -> list[Any] | None:
    for key, pattern in _NOTES:
        hit = pattern.match(text)
        if hit:
            fields: dict[str, Any] = {k: int(v) if v.isdigit() and k != "reason" else v
                                      for k, v in hit.groupdict().items()}
            if "gates" in fields:
                fields["gates"] = _gate_parts(fields["gates"])
            if key == "ka.rank":
                fields["kind"] = next((c for c in ("strategic", "core")
                                       if fields["kind"] in MESSAGES[f"key_account_type.{c}"]
                                       .values()), fields["kind"])
            return [key, fields]
    return None


def note_args(text: str) -> str:
    """A stored note's text (``clv_note``, ``key_account_reason``) as catalogue parts (two clv
    notes are joined by "; "); a text no template reads is kept as it is (``reason.text``)."""
    whole = _note_part(text)
    if whole is not None:
        return json.dumps([whole])
    pieces = text.split("; ")
    for cut in range(1, len(pieces)):
        first, second = _note_part("; ".join(pieces[:cut])), _note_part("; ".join(pieces[cut:]))
        if first is not None and second is not None:
            return json.dumps([first, second])
    return json.dumps([["reason.text", {"text": text}]])


def _convert_notes(con: duckdb.DuckDBPyConnection, text: str, args: str) -> None:
    if not _has_column(con, text):
        return
    notes = [r[0] for r in con.execute(f"SELECT DISTINCT {text} FROM snapshot_customers "
                                       f"WHERE {text} IS NOT NULL").fetchall()]
    if not notes:
        return
    con.register("note_codes", pd.DataFrame({"note": notes,
                                              "args": [note_args(n) for n in notes]}))
    try:
        con.execute(f"UPDATE snapshot_customers SET {args} = n.args FROM note_codes n "
                    f"WHERE snapshot_customers.{text} = n.note")
    finally:
        con.unregister("note_codes")


def _has_column(con: duckdb.DuckDBPyConnection, column: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = "
                            "'snapshot_customers' AND column_name = ?", [column]).fetchone()[0])


def _tables(con: duckdb.DuckDBPyConnection, run_id: int) -> dict[str, pd.DataFrame]:
    out = {}
    for name, data in con.execute("SELECT name, data FROM run_tables WHERE run_id = ?",
                                  [run_id]).fetchall():
        parsed = json.loads(data)
        out[name] = pd.DataFrame(parsed["data"], columns=parsed["columns"])
    return out


def _put_table(con: duckdb.DuckDBPyConnection, run_id: int, name: str,
               table: pd.DataFrame) -> None:
    con.execute("DELETE FROM run_tables WHERE run_id = ? AND name = ?", [run_id, name])
    con.execute("INSERT INTO run_tables VALUES (?, ?, ?)",
                [run_id, name, table.to_json(orient="split", index=False, date_format="iso",
                                             force_ascii=False)])


def _strip_table(table: pd.DataFrame, name: str) -> pd.DataFrame:
    if "message_en" in table and "kind" in table and "window" not in table:
        table = table.assign(window=[_window(m) for m in table["message_en"]])
    return strip_table_words(table, name)


def _window(message: Any) -> int | None:
    hit = _WINDOW.search(str(message or ""))
    return None if hit is None else int(hit.group(1) or hit.group(2))


def _num(row: dict[str, Any], column: str) -> float:
    value = row.get(column)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return value


def _figure(x: float) -> float | None:
    return round(x, 6) if np.isfinite(x) else None


def _parts(row: dict[str, Any], warning: dict[str, Any] | None) -> tuple[str, list] | None:
    """The code and parts of one stored English reason, or None when it cannot be read."""
    text = str(row["policy_reason"])
    prefix: list[list[Any]] = []
    code = "chance"
    if text.startswith(_PROTECTED):
        prefix, code, text = [["reason.protected", {}]], "protected", text[len(_PROTECTED):]
    elif _WARNED.match(text) and warning is not None:
        prefix, code, text = [["reason.warning", warning]], "warning", _WARNED.sub("", text, 1)
    chance = _CHANCE.match(text)
    if chance is None or not row.get("policy_basis"):
        return None
    parts = [*prefix, ["reason.chance", {"p": _figure(_num(row, "policy_probability")),
                                         "horizon": int(chance.group(1)),
                                         "basis": row["policy_basis"],
                                         "floor": int(chance.group(2)) / 100}]]
    missed, alive = _num(row, "gaps_missed"), _num(row, "p_alive")
    if np.isfinite(missed):
        parts.append(["reason.rhythm", {"missed": _figure(missed),
                                        "gap": _figure(_num(row, "expected_gap_days"))}])
    if np.isfinite(alive):
        parts.append(["reason.alive", {"p": _figure(alive)}])
    return code, parts


def _first_warnings(warnings: pd.DataFrame | None) -> dict[Any, dict[str, Any]]:
    if warnings is None or not len(warnings) or "customer_key" not in warnings:
        return {}
    fields = ["kind", "period", "current", "reference", "change_pct"]
    first = warnings.drop_duplicates("customer_key")
    out = {}
    for row in first.to_dict("records"):
        out[row["customer_key"]] = {**{f: row.get(f) for f in fields},
                                    "window": _window(row.get("message_en"))}
    return out


def _convert_reasons(con: duckdb.DuckDBPyConnection, run_id: int, snap: pd.DataFrame,
                     warnings: pd.DataFrame | None) -> None:
    first = _first_warnings(warnings)
    rows = []
    for row in snap.to_dict("records"):
        if row.get("policy_reason") is None or pd.isna(row["policy_reason"]):
            continue
        read = _parts(row, first.get(row["customer_key"]))
        code, parts = read if read is not None else \
            ("text", [["reason.text", {"text": str(row["policy_reason"])}]])
        rows.append((row["customer_key"], code, json.dumps(parts)))
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=["customer_key", "code", "args"])
    con.register("reason_codes", frame)
    try:
        con.execute("UPDATE snapshot_customers SET policy_reason_code = r.code, "
                    "policy_reason_args = r.args FROM reason_codes r "
                    "WHERE snapshot_customers.run_id = ? "
                    "AND snapshot_customers.customer_key = r.customer_key", [run_id])
    finally:
        con.unregister("reason_codes")


__all__ = ["DROPPED", "migrate"]

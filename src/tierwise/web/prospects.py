"""The prospects page's data (``/prospects`` and ``/api/prospects``): one function, two doors.

Rows come from the run's ``prospects`` and ``prospect_conversions`` tables
(:mod:`tierwise.tiering.prospects`), scoped to the viewer's customers like every other list (a
lead is a customer row of the snapshot, with its account manager); the conversion rate per grade
is a count over every lead, the same for every viewer.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pandas as pd

from ..config import PROSPECT_GRADES
from ..history import prospect_why
from .access import Viewer
from .queries import RunInfo, _scoped, clean, run_table


def prospects(con: duckdb.DuckDBPyConnection, viewer: Viewer, run: RunInfo, lang: str,
              grade: str | None = None) -> dict[str, Any]:
    """The viewer's open prospects (best first, optionally one grade) and how many of each
    grade, converted leads, the check per grade and the scorecard's criteria and cuts."""
    where, args = _scoped(viewer, run.run_id)
    mine = {r[0] for r in con.execute(
        f"SELECT customer_key FROM snapshot_customers WHERE {where}", args).fetchall()}
    meta_text = con.execute("SELECT json_extract_string(meta, '$.prospects') FROM runs "
                            "WHERE run_id = ?", [run.run_id]).fetchall()
    meta = json.loads(meta_text[0][0]) if meta_text and meta_text[0][0] else {}
    tables = {name: run_table(con, run.run_id, name, words=False) for name in
              ("prospects", "prospect_conversions", "prospect_check")}
    open_, won, check = (t if t is not None else pd.DataFrame() for t in tables.values())
    items, by_grade = [], {g: 0 for g in PROSPECT_GRADES}
    for row in _rows(open_, mine):
        if row.get("grade") in by_grade:
            by_grade[row["grade"]] += 1
        if grade is not None and row.get("grade") != grade:
            continue
        row["explained"] = prospect_why(row, lang)
        row["contributions"] = {k.removeprefix("score_"): row.pop(k) for k in list(row)
                                if k.startswith("score_") and k != "score_flags"}
        items.append(row)
    from ..i18n import MESSAGES, t

    criteria = [{**c, "label": t(f"prospect_criterion.{c['name']}", lang)
                 if f"prospect_criterion.{c['name']}" in MESSAGES else c["name"]}
                for c in meta.get("criteria") or []]
    return {"run": run.to_dict(), "grade": grade, "criteria": criteria, "grade_cuts": meta.get("grade_cuts") or [],
            "open_by_grade": by_grade,
            "items": items, "conversions": _rows(won, mine),
            "check": [{k: clean(v) for k, v in r.items()} for r in check.to_dict("records")]}


def _rows(frame: pd.DataFrame, keys: set[int]) -> list[dict[str, Any]]:
    if not len(frame):
        return []
    mine = frame[frame["customer_key"].astype(int).isin(keys)]
    return [{k: clean(v) for k, v in r.items() if k != "customer_key"}
            for r in mine.to_dict("records")]

"""Check: this tree's runs write the same stores as another tree's (issue 16: orders in the engine).

Not a test. Run from the repository root, "before" being an export of the tree to compare with::

    git archive main | tar -x -C /tmp/tierwise-before
    PYTHONPATH=src python bench/compare_stores.py --before /tmp/tierwise-before

Each tree, in its own subprocess (``PYTHONPATH=<tree>/src``), builds the same stores:

- ``demo``: :func:`tierwise.demo.walkthrough.run_demo` (both businesses, every run of the walk);
- ``seeded``: the seeded orders of ``bench/features.py`` (``--orders``, default 200,000) plus
  a channel per order, run at three month ends (so later runs have a previous run) with the
  default config, and once more with ``[activity] mode = "relative"`` and ``window_days = 28``
  (the activity counted from the orders), ``period = "quarter"`` and ``value.fit_sample``
  small (the model's selection reads the fit sample's orders only).

Then every table of every store is read back, sorted, and compared cell by cell (NaN equals
NaN; floats exactly, no tolerance); columns that hold a wall-clock time are left out. Prints
the number of differing cells per table and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Columns holding the wall-clock time of a write (never equal between two builds).
CLOCK_COLUMNS = {"created_at", "started_at", "finished_at", "ingested_at", "written_at",
                 "at", "updated_at", "recorded_at", "opened_at", "applied_at", "closed_at",
                 "done_at", "sent_at"}
DATES = (dt.date(2024, 8, 31), dt.date(2024, 10, 31), dt.date(2024, 12, 30))
VARIANT = """
[activity]
mode = "relative"
window_days = 28
[value]
fit_sample = 2000
"""


def _seeded(folder: Path, n: int, variant: bool) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from features import generate
    from scale import CONFIG, _measure_build

    from tierwise.config import load_config
    from tierwise.pipeline import run

    parquet = folder / "orders.parquet"
    if not parquet.exists():
        generate(n, parquet)
    name = "variant" if variant else "seeded"
    store = folder / f"{name}.duckdb"
    _measure_build(str(parquet), str(store))
    text = CONFIG.format(store=store.name)
    if variant:
        text = text.replace('period = "month"', 'period = "quarter"') + VARIANT
    config = folder / f"{name}.toml"
    config.write_text(text)
    cfg = load_config(config)
    for as_of in DATES:
        run(cfg, as_of=as_of)


def build(folder: Path, n: int) -> None:
    """Every store of the comparison, written under ``folder``."""
    from tierwise.demo.walkthrough import run_demo

    run_demo(folder / "demo")
    _seeded(folder, n, variant=False)
    _seeded(folder, n, variant=True)


def _tables(path: Path, root: Path) -> dict:
    import duckdb
    import pandas as pd

    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "ORDER BY table_name").fetchall()]
        out = {}
        for name in names:
            frame = con.execute(f'SELECT * FROM "{name}"').df()
            frame = frame[[c for c in frame.columns if c not in CLOCK_COLUMNS]]
            for column in frame.columns:  # paths under the build folder (rejects files)
                if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
                    frame[column] = frame[column].map(
                        lambda v: v.replace(str(root), "<build>") if isinstance(v, str) else v)
            out[name] = frame
        return out
    finally:
        con.close()


def _normalise(frame):
    """Rows in one order, whatever order the store returned them in (floats sorted on 9
    significant digits, so a last-bit difference does not move a row)."""
    import pandas as pd

    shown = pd.DataFrame({c: frame[c].map(lambda v: f"{v:.9g}")
                          if pd.api.types.is_float_dtype(frame[c]) else frame[c].astype(str)
                          for c in frame.columns})
    order = shown.sort_values(list(shown.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _kind(a: object, b: object) -> str:
    """``same``, ``last bits`` (numbers within 1e-12 relative) or ``differ``."""
    import math

    if isinstance(a, str) and isinstance(b, str) and a[:1] in "{[" and b[:1] in "{[":
        try:
            return _kind(_strip_clock(json.loads(a)), _strip_clock(json.loads(b)))
        except ValueError:
            return "same" if a == b else "differ"
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return "differ"
        return _worst(_kind(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return "differ" if len(a) != len(b) else _worst(_kind(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return "same" if a == b else "differ"
    if isinstance(a, int | float) and isinstance(b, int | float):
        if a == b or (math.isnan(a) and math.isnan(b)):
            return "same"
        return "last bits" if math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300) else "differ"
    try:
        missing = bool(a != a) and bool(b != b)  # NaN / NaT / NA on both sides
    except (TypeError, ValueError):
        missing = False
    try:
        return "same" if missing or bool(a == b) else "differ"
    except (TypeError, ValueError):
        return "same" if str(a) == str(b) else "differ"


def _worst(kinds) -> str:
    out = "same"
    for k in kinds:
        if k == "differ":
            return k
        if k == "last bits":
            out = k
    return out


def _strip_clock(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip_clock(v) for k, v in value.items()
                if k not in CLOCK_COLUMNS and "seconds" not in k}
    if isinstance(value, list):
        return [_strip_clock(v) for v in value]
    return value


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) < 120 else text[:117] + "..."


def compare(before: Path, after: Path) -> dict[str, int]:
    """Cells that differ (``differ``) or only in their last bits (``last bits``), over every
    table of every store; prints a line per table with any."""
    totals = {"cells": 0, "last bits": 0, "differ": 0}
    for path in sorted(before.rglob("*.duckdb")):
        other = after / path.relative_to(before)
        where = path.relative_to(before)
        if not other.exists():
            print(f"{where}: missing in the new tree's build")
            totals["differ"] += 1
            continue
        a_tables, b_tables = _tables(path, before), _tables(other, after)
        for name in sorted(set(a_tables) | set(b_tables)):
            if name not in a_tables or name not in b_tables:
                print(f"{where}:{name}: only in one build")
                totals["differ"] += 1
                continue
            a, b = a_tables[name], b_tables[name]
            if list(a.columns) != list(b.columns) or len(a) != len(b):
                print(f"{where}:{name}: shape {a.shape} vs {b.shape}")
                totals["differ"] += 1
                continue
            a, b = _normalise(a), _normalise(b)
            counts: dict[str, dict[str, int]] = {}
            for column in a.columns:
                x, y = a[column], b[column]
                same = ((x == y) | (x.isna() & y.isna())).fillna(False).to_numpy(dtype=bool)
                for i in (~same).nonzero()[0]:
                    kind = _kind(x.iloc[i], y.iloc[i])
                    if kind == "same":
                        continue
                    per = counts.setdefault(column, {"last bits": 0, "differ": 0})
                    per[kind] += 1
                    if kind == "differ" and per[kind] <= 3:
                        print(f"  {where}:{name}.{column} row {i}: {_short(x.iloc[i])} vs "
                              f"{_short(y.iloc[i])}")
            totals["cells"] += a.size
            for per in counts.values():
                for kind, n in per.items():
                    totals[kind] += n
            if counts:
                shown = ", ".join(f"{c} ({v['differ']} differ, {v['last bits']} last bits)"
                                  for c, v in counts.items())
                print(f"{where}:{name}: {len(a)} rows; {shown}")
    return totals


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, type=Path,
                        help="root of the tree to compare with (holds src/tierwise)")
    parser.add_argument("--after", type=Path, default=ROOT,
                        help="root of the tree to check (default: this one); the same tree as "
                             "--before shows how far two builds of one tree differ")
    parser.add_argument("--orders", type=float, default=2e5, help="seeded orders (default 2e5)")
    parser.add_argument("--out", type=Path, default=None, help="where to build (default: temp)")
    parser.add_argument("--compare-only", action="store_true",
                        help="compare the stores already built under --out")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="tierwise-compare-"))
    folders = {"before": out / "before", "after": out / "after"}
    for label, tree in (("before", args.before.resolve()), ("after", args.after.resolve())):
        if args.compare_only:
            break
        folder = out / label
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(tree / "src")}
        print(f"building the {label} stores in {folder} from {tree}", flush=True)
        subprocess.run([sys.executable, __file__, "_build", str(folder), str(int(args.orders))],
                       env=env, check=True, cwd=tree)
    totals = compare(folders["before"], folders["after"])
    print(f"{totals['cells']:,} cells compared: {totals['differ']} differ, "
          f"{totals['last bits']} differ in their last bits only (relative < 1e-12)")
    raise SystemExit(1 if totals["differ"] else 0)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        build(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        main()

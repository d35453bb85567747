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
                 "at", "updated_at", "recorded_at", "opened_at"}
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


def _tables(path: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "ORDER BY table_name").fetchall()]
        out = {}
        for name in names:
            frame = con.execute(f'SELECT * FROM "{name}"').df()
            frame = frame[[c for c in frame.columns if c not in CLOCK_COLUMNS]]
            out[name] = frame
        return out
    finally:
        con.close()


def _normalise(frame):
    """Rows in one order, whatever order the store returned them in."""
    shown = frame.astype(str)
    order = shown.sort_values(list(shown.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _json_same(a: object, b: object) -> bool:
    """Two cells equal; JSON text is compared parsed, without the wall-clock keys."""
    if isinstance(a, str) and isinstance(b, str) and a[:1] in "{[" and a != b:
        try:
            pa, pb = json.loads(a), json.loads(b)
        except ValueError:
            return False
        return _strip_clock(pa) == _strip_clock(pb)
    return False


def _strip_clock(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip_clock(v) for k, v in value.items()
                if k not in CLOCK_COLUMNS and "seconds" not in k}
    if isinstance(value, list):
        return [_strip_clock(v) for v in value]
    return value


def compare(before: Path, after: Path) -> int:
    """Differing cells over every table of every store; prints a line per table."""
    total = 0
    for path in sorted(before.rglob("*.duckdb")):
        other = after / path.relative_to(before)
        if not other.exists():
            print(f"{path.relative_to(before)}: missing in the new tree's build")
            total += 1
            continue
        a_tables, b_tables = _tables(path), _tables(other)
        for name in sorted(set(a_tables) | set(b_tables)):
            if name not in a_tables or name not in b_tables:
                print(f"{path.name}:{name}: only in one build")
                total += 1
                continue
            a, b = a_tables[name], b_tables[name]
            if list(a.columns) != list(b.columns) or len(a) != len(b):
                print(f"{path.name}:{name}: shape {a.shape} vs {b.shape}")
                total += 1
                continue
            a, b = _normalise(a), _normalise(b)
            bad = 0
            for column in a.columns:
                x, y = a[column], b[column]
                same = (x == y) | (x.isna() & y.isna())
                same = same.fillna(False).to_numpy(dtype=bool)
                for i in (~same).nonzero()[0]:
                    if not _json_same(x.iloc[i], y.iloc[i]):
                        bad += 1
                        if bad <= 5:
                            print(f"  {path.name}:{name}.{column} row {i}: "
                                  f"{x.iloc[i]!r} vs {y.iloc[i]!r}")
            cells = a.shape[0] * a.shape[1]
            print(f"{path.relative_to(before)}:{name}: {len(a)} rows, {cells} cells, "
                  f"{bad} differ")
            total += bad
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, type=Path,
                        help="root of the tree to compare with (holds src/tierwise)")
    parser.add_argument("--orders", type=float, default=2e5, help="seeded orders (default 2e5)")
    parser.add_argument("--out", type=Path, default=None, help="where to build (default: temp)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="tierwise-compare-"))
    folders = {}
    for label, tree in (("before", args.before.resolve()), ("after", ROOT)):
        folder = out / label
        folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONPATH": str(tree / "src")}
        print(f"building the {label} stores in {folder} from {tree}", flush=True)
        subprocess.run([sys.executable, __file__, "_build", str(folder), str(int(args.orders))],
                       env=env, check=True, cwd=tree)
        folders[label] = folder
    bad = compare(folders["before"], folders["after"])
    print(f"{bad} differing cell(s)")
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        build(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        main()

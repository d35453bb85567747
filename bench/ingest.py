"""Benchmark: ``tierwise ingest`` of a large orders file, Parquet and CSV (issue 16 item 3).

Not a test. Run from the repository root::

    PYTHONPATH=src python bench/ingest.py --sizes 1e6            # 1M orders / 100k customers
    PYTHONPATH=src python bench/ingest.py --sizes 1e7 --repeat 3 # the issue's 10M / 1M
    PYTHONPATH=src python bench/ingest.py --sizes 1e6 --src /tmp/base/src  # another tree
    PYTHONPATH=src python bench/ingest.py --sizes 1e7 --src /tmp/base/src --src src  # both, alternating

The orders are those of ``bench/features.py`` (seeded; ~10 orders per customer, so 10M orders
name 1M customers; 3 years; 2 % refunds as negative amounts; costs and margins partly known),
written as an export would hold them: ``order_id``, ``customer_id`` (``c<key>``), ``ordered_at``,
``amount``, ``cost``, ``margin``, once as Parquet and once as CSV (UTF-8) under ``bench/out/``
(gitignored; reused when present). No customers file: the ingest creates every customer from
the orders (``on_missing_customer = "create"``, the default).

Each measurement is the ``tierwise ingest`` command itself, in a fresh process, into a fresh
store, under ``/usr/bin/time -v``: wall seconds, CPU seconds (user + system, every thread) and
the peak RSS (maximum resident set size) of the whole command, interpreter and imports included.
Runs are taken round robin (Parquet, CSV, Parquet, ...; with several ``--src`` trees, each file
type with every tree in turn) and the medians reported, with the load average
(``/proc/loadavg``) before each run.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT / "bench"))

from features import generate  # noqa: E402

CONFIG = """name = "ingest bench"
currency = "CNY"
[sources.orders]
path = "{path}"
[store]
path = "{store}"
[intake]
rejects_dir = "{rejects}"
"""
TODAY = "2025-01-31"


def _size(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


def inputs(n: int) -> dict[str, Path]:
    """The orders of ``n`` as Parquet and CSV export files (made once, then reused)."""
    import duckdb

    source = OUT / f"orders_{_size(n)}.parquet"
    if not source.exists():
        generate(n, source)
    files = {"parquet": OUT / f"ingest_{_size(n)}.parquet", "csv": OUT / f"ingest_{_size(n)}.csv"}
    select = (f"SELECT order_id, 'c' || customer_key AS customer_id, ordered_at, amount, cost, "
              f"margin FROM read_parquet('{source}')")
    con = duckdb.connect()
    for fmt, path in files.items():
        if path.exists():
            continue
        tmp = path.with_name(path.name + ".tmp")
        options = "FORMAT parquet, ROW_GROUP_SIZE 1048576" if fmt == "parquet" else \
            "FORMAT csv, HEADER true"
        con.execute(f"COPY ({select}) TO '{tmp}' ({options})")
        tmp.replace(path)
    con.close()
    return files


def _time_v(stderr: str) -> dict:
    fields = {"wall": r"Elapsed \(wall clock\) time.*: (.+)", "user": r"User time.*: ([\d.]+)",
              "sys": r"System time.*: ([\d.]+)", "rss": r"Maximum resident set size.*: (\d+)"}
    got = {k: re.search(p, stderr).group(1) for k, p in fields.items()}
    parts = [float(x) for x in got["wall"].split(":")]
    wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return {"seconds": wall, "cpu_seconds": float(got["user"]) + float(got["sys"]),
            "rss_mb": int(got["rss"]) / 1024}


def measure(fmt: str, path: Path, n: int, src: Path = ROOT / "src") -> dict:
    """One ``tierwise ingest`` of ``path`` into a fresh store, under ``/usr/bin/time -v``."""
    work = OUT / f"ingest_{_size(n)}_{fmt}"
    work.mkdir(parents=True, exist_ok=True)
    store = work / "store.duckdb"
    for p in (store, Path(str(store) + ".wal")):
        p.unlink(missing_ok=True)
    config = work / "tierwise.toml"
    config.write_text(CONFIG.format(path=path.as_posix(), store=store.as_posix(),
                                    rejects=(work / "rejects").as_posix()), encoding="utf-8")
    load = Path("/proc/loadavg").read_text().split()[0]
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "tierwise", "ingest",
                           "--config", str(config), "--json", "--today", TODAY],
                          capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"})
    if proc.returncode != 0:
        raise RuntimeError(f"ingest of {path} failed:\n{proc.stderr[-3000:]}")
    report = json.loads(proc.stdout)[0]
    result = _time_v(proc.stderr)
    result.update(load=float(load), rows_in=report["rows_in"], accepted=report["accepted"],
                  rejected=report["rejected"])
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6", help="comma-separated order counts")
    parser.add_argument("--repeat", type=int, default=3, help="runs per file type")
    parser.add_argument("--formats", default="parquet,csv", help="parquet, csv or both")
    parser.add_argument("--src", type=Path, action="append",
                        help="a tierwise source tree to measure (e.g. an export of main); "
                             "give it twice to compare two trees run by run (default: src)")
    args = parser.parse_args(argv)
    formats = args.formats.split(",")
    trees = args.src or [ROOT / "src"]
    for n in (int(float(s)) for s in args.sizes.split(",")):
        files = inputs(n)
        runs: dict[tuple[str, str], list[dict]] = {(f, str(t)): [] for f in formats for t in trees}
        for _ in range(args.repeat):
            for fmt in formats:
                for tree in trees:
                    one = measure(fmt, files[fmt], n, tree)
                    print(json.dumps({"orders": n, "format": fmt, "src": str(tree), **one}),
                          flush=True)
                    runs[fmt, str(tree)].append(one)
        print(f"\n{n:,} orders ({files['parquet'].stat().st_size / 2**20:.0f} MB Parquet, "
              f"{files['csv'].stat().st_size / 2**20:.0f} MB CSV), medians of {args.repeat}:")
        print("| file | src | wall s | CPU s | peak RSS MB | load | rows in | accepted | rejected |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for (fmt, tree), rs in runs.items():
            med = {k: statistics.median(r[k] for r in rs)
                   for k in ("seconds", "cpu_seconds", "rss_mb", "load")}
            print(f"| {fmt} | {tree} | {med['seconds']:.1f} | {med['cpu_seconds']:.1f} | "
                  f"{med['rss_mb']:.0f} | {', '.join(str(r['load']) for r in rs)} | "
                  f"{rs[0]['rows_in']:,} | {rs[0]['accepted']:,} | {rs[0]['rejected']:,} |")


if __name__ == "__main__":
    main()

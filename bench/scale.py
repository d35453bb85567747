"""Benchmark: ``tierwise run`` end to end on seeded large data, step by step (issue 16).

Not a test. Run from the repository root::

    PYTHONPATH=src python bench/scale.py --sizes 1e6 --fresh    # 1M orders / 100k customers
    PYTHONPATH=src python bench/scale.py --sizes 1e6,5e6
    PYTHONPATH=src python bench/scale.py --sizes 1e6 --profile  # cProfile of the run, top 60
    PYTHONPATH=src python bench/scale.py --cdnow  # value.fit_sample on CDNOW master: same results?
    PYTHONPATH=src python bench/scale.py --sizes 1e6 --fresh --engine spark \
        --parquet-dir bench/out/orders_parquet      # Spark local[2] reading a partitioned folder

The orders are those of ``bench/features.py`` (seeded: ~10 orders per customer, 3 years, 2 %
refunds, costs partly known), plus a channel per order; every customer gets a row in the
customers table (``c<key>``). They are loaded into a store under ``bench/out/`` once (kept and
reused; ``--fresh`` rebuilds it, so that the run has no previous run), with the default config of
``tierwise init``.

Each measurement runs in a fresh subprocess:

- ``run``: :func:`tierwise.pipeline.run`; the step times are taken from its progress messages
  (each step lasts until the next message), and the peak RSS of each step from ``VmHWM``, reset
  at each message (``/proc/self/clear_refs``); the whole run's peak is the largest of them.
- ``--engine spark --parquet-dir DIR``: the same orders also written as a Parquet folder
  partitioned by month (``month=YYYY-MM/``, with ``customer_id`` and ``channel`` columns), read by
  Spark ``local[2]`` through ``[engine] orders_path`` (the store keeps its copy for the steps
  that read it). The peak RSS of each step is then the Python process's plus the Spark JVM's
  (its children's ``VmHWM``, reset at each message too).
- ``hand``: the hand-written DuckDB RFM query of ``bench/features.py`` over the same store's
  orders table, measured in the same invocation, so the ratio ``run / hand`` is comparable
  across machines and loads.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT / "bench"))

from features import AS_OF, HAND_SQL, generate  # noqa: E402

CONFIG = """name = "scale bench"
currency = "CNY"
period = "month"
[sources.orders]
path = "orders.csv"
[store]
path = "{store}"
[engine]
backend = "duckdb"
"""
SPARK_ENGINE = """[engine]
backend = "spark"
url = "local[2]"
orders_path = "{parquet_dir}"
"""


def _children() -> list[int]:
    """Every process below this one (the Spark JVM and its helpers)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    mine, grew = {os.getpid()}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in mine and pid not in mine}
        mine |= more
        grew = bool(more)
    return sorted(mine - {os.getpid()})


def _hwm_of(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_hwm() -> None:
    for pid in ["self", *_children()]:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:  # not Linux, or not allowed: the peaks are then cumulative
            pass


def _peak_mb() -> float:
    """This process's peak RSS since the last reset, plus its children's (the Spark JVM)."""
    return _hwm_mb() + sum(_hwm_of(pid) for pid in _children())


def _measure_build(parquet: str, store_path: str) -> dict:
    from tierwise.store import Store

    for suffix in ("", ".wal"):
        Path(store_path + suffix).unlink(missing_ok=True)
    t0 = time.perf_counter()
    with Store(store_path) as store:
        store.con.execute(
            "INSERT INTO customers (customer_key, customer_id, source) "
            f"SELECT DISTINCT customer_key, 'c' || customer_key, 'bench' FROM read_parquet('{parquet}')")
        store.con.execute(
            "INSERT INTO orders (order_id, customer_key, ordered_at, amount, cost, margin, "
            "channel, is_refund, source) SELECT order_id, customer_key, ordered_at, amount, cost, "
            "margin, CASE hash(order_id) % 3 WHEN 0 THEN 'store' WHEN 1 THEN 'online' "
            f"ELSE 'phone' END, is_refund, 'bench' FROM read_parquet('{parquet}')")
        store.con.execute("CHECKPOINT")
        rows = store.con.execute("SELECT count(*) FROM orders").fetchone()[0]
    return {"seconds": time.perf_counter() - t0, "rows": rows}


def _measure_run(config: str, profile: str | None) -> dict:
    import tierwise.pipeline  # noqa: F401  imports are not timed
    from tierwise.config import load_config
    from tierwise.pipeline import run

    cfg = load_config(Path(config))
    steps: list[dict] = []
    t0 = last = time.perf_counter()
    cpu0 = last_cpu = time.process_time()

    def progress(message: str) -> None:
        nonlocal last, last_cpu
        now, cpu = time.perf_counter(), time.process_time()
        if steps:
            steps[-1].update(seconds=now - last, cpu_seconds=cpu - last_cpu, rss_mb=_peak_mb())
        steps.append({"step": message})
        last, last_cpu = now, cpu
        _reset_hwm()

    progress("start (store open, previous run)")
    if profile:
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    result = run(cfg, as_of=AS_OF, progress=progress)
    if profile:
        prof.disable()
        prof.dump_stats(profile)
    now, cpu = time.perf_counter(), time.process_time()
    steps[-1].update(seconds=now - last, cpu_seconds=cpu - last_cpu, rss_mb=_peak_mb())
    return {"seconds": now - t0, "cpu_seconds": cpu - cpu0, "steps": steps,
            "customers": result.n_customers,
            "run_id": result.run_id}


def _measure_hand(store_path: str) -> dict:
    import duckdb

    con = duckdb.connect(store_path, read_only=True)
    sql = HAND_SQL.replace("read_parquet('{path}')", "orders")
    t0, cpu = time.perf_counter(), time.process_time()
    frame = con.sql(sql.format(as_of=AS_OF.isoformat())).df()
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - cpu,
            "rows": len(frame)}


def run_child(kind: str, *args: str) -> dict:
    """One measurement in a fresh interpreter, with its peak RSS (MB) from ``os.wait4``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen([sys.executable, __file__, "_measure", kind, *args], env=env,
                                stdout=subprocess.PIPE, stderr=errors, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise RuntimeError(f"{kind} failed:\n{errors.read()[-5000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["rss_mb"] = usage.ru_maxrss / 1024
    return result


def _write_parquet_dir(parquet: Path, folder: Path) -> dict:
    """The bench orders as a cluster keeps them: a folder partitioned by month."""
    import shutil

    import duckdb

    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT order_id, 'c' || customer_key AS customer_id, ordered_at, amount, cost, "
        "margin, CASE hash(order_id) % 3 WHEN 0 THEN 'store' WHEN 1 THEN 'online' "
        "ELSE 'phone' END AS channel, CASE WHEN is_refund THEN 'refunded' END AS status, "
        f"strftime(ordered_at, '%Y-%m') AS month FROM read_parquet('{parquet}')) "
        f"TO '{folder}' (FORMAT parquet, PARTITION_BY (month), COMPRESSION zstd)")
    con.close()
    return {"seconds": time.perf_counter() - t0,
            "files": len(list(folder.rglob("*.parquet")))}


def bench_size(n: int, profile: bool, fresh: bool = False, engine: str = "duckdb",
               parquet_dir: Path | None = None) -> dict:
    parquet = OUT / f"orders_{n}.parquet"
    if not parquet.exists():
        run_child("generate", str(n), str(parquet))
    store = OUT / f"scale_{n}.duckdb"
    config = OUT / f"scale_{n}{'_spark' if engine == 'spark' else ''}.toml"
    text = CONFIG.format(store=store.name)
    if engine == "spark":
        folder = (parquet_dir or OUT / f"orders_{n}_parquet").resolve()
        if not folder.exists() or fresh:
            made = run_child("parquet_dir", str(parquet), str(folder))
            print(f"  wrote {folder} ({made['files']} files) in {made['seconds']:.1f} s",
                  flush=True)
        text = text.split("[engine]")[0] + SPARK_ENGINE.format(parquet_dir=folder)
    config.write_text(text)
    if fresh:  # no previous run: every measured run then does the same work
        for suffix in ("", ".wal"):
            Path(str(store) + suffix).unlink(missing_ok=True)
    if not store.exists():
        built = run_child("build", str(parquet), str(store))
        print(f"  built the store in {built['seconds']:.1f} s", flush=True)
    hand = run_child("hand", str(store))
    prof = str(OUT / f"scale_{n}.prof") if profile else ""
    run = run_child("run", str(config), prof)
    hand2 = run_child("hand", str(store))
    hand_s = min(hand["seconds"], hand2["seconds"])
    print(f"  hand-written RFM query: {hand['seconds']:.2f} s / {hand2['seconds']:.2f} s wall, "
          f"{hand['cpu_seconds']:.2f} / {hand2['cpu_seconds']:.2f} CPU s, "
          f"{max(hand['rss_mb'], hand2['rss_mb']):.0f} MB", flush=True)
    hand_cpu = min(hand["cpu_seconds"], hand2["cpu_seconds"])
    # the peak is reset at every step (clear_refs resets what ru_maxrss reads too): the run's
    # peak is the largest step's
    run["rss_mb"] = max(step["rss_mb"] for step in run["steps"])
    print(f"  run: {run['seconds']:.1f} s wall ({run['seconds'] / hand_s:.1f}x the hand query), "
          f"{run['cpu_seconds']:.1f} CPU s ({run['cpu_seconds'] / hand_cpu:.1f}x), "
          f"peak RSS {run['rss_mb']:.0f} MB, {run['customers']:,} customers", flush=True)
    print("  | step | wall s | x hand | CPU s | x hand CPU | peak RSS MB |\n"
          "  |---|---:|---:|---:|---:|---:|")
    for step in run["steps"]:
        print(f"  | {step['step']} | {step['seconds']:.2f} | {step['seconds'] / hand_s:.1f} "
              f"| {step['cpu_seconds']:.2f} | {step['cpu_seconds'] / hand_cpu:.1f} "
              f"| {step['rss_mb']:.0f} |")
    if profile:
        import pstats
        pstats.Stats(prof).sort_stats("cumulative").print_stats(60)
    return {"hand": [hand, hand2], "run": run}


def cdnow_sample_check(samples: tuple[int | None, ...] = (None, 10_000, 5_000)) -> None:
    """CDNOW master (23,570 customers) run with the value models fitted on all and on samples.

    Prints, per ``value.fit_sample``: the chosen model and its parameters, the totals of the
    predicted figures, and the share of customers whose tier, policy and state are those of the
    fit on everyone.
    """
    import duckdb
    from backtest import cdnow_config

    from tierwise.config import load_config
    from tierwise.pipeline import ingest, run

    root = Path(tempfile.mkdtemp(prefix="tierwise-cdnow-"))
    cfg = load_config(cdnow_config(root))
    ingest(cfg)
    rows, frames = [], {}
    for size in samples:
        c = cfg.model_copy(update={
            "value": cfg.value.model_copy(update={"fit_sample": size}),
            "clustering": cfg.clustering.model_copy(update={"fit_sample": size or 10**9})})
        t0 = time.perf_counter()
        result = run(c)
        seconds = time.perf_counter() - t0
        con = duckdb.connect(str(cfg.store_path), read_only=True)
        meta = json.loads(con.execute("SELECT meta FROM runs WHERE run_id = ?",
                                      [result.run_id]).fetchone()[0])["value_model"]
        frames[size] = con.execute(
            "SELECT customer_id, tier, activity_policy, activity_state, clv_predicted, "
            "expected_purchases, purchase_likelihood FROM snapshot_customers WHERE run_id = ? "
            "ORDER BY customer_id", [result.run_id]).df()
        con.close()
        f = frames[size]
        rows.append((size, seconds, meta.get("model"), meta.get("params"),
                     f["clv_predicted"].sum(), f["expected_purchases"].sum(),
                     f["purchase_likelihood"].mean()))
    base = frames[samples[0]]
    print("| value.fit_sample | run s | model | parameters | sum clv_predicted | "
          "sum expected purchases (90 d) | mean likelihood | same tier | same policy | "
          "same state |\n|---|---:|---|---|---:|---:|---:|---:|---:|---:|")
    for size, seconds, model, params, clv, purchases, likelihood in rows:
        f = frames[size]
        same = {c: (f[c].fillna("-") == base[c].fillna("-")).mean()
                for c in ("tier", "activity_policy", "activity_state")}
        shown = ", ".join(f"{k} {v:.4g}" for k, v in (params or {}).items())
        print(f"| {size or 'all'} | {seconds:.1f} | {model} | {shown} | {clv:,.0f} | "
              f"{purchases:,.1f} | {likelihood:.4f} | {same['tier']:.2%} | "
              f"{same['activity_policy']:.2%} | {same['activity_state']:.2%} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6", help="comma-separated order counts")
    parser.add_argument("--profile", action="store_true", help="cProfile the run")
    parser.add_argument("--fresh", action="store_true",
                        help="rebuild the store first (no previous run to compare with)")
    parser.add_argument("--cdnow", action="store_true",
                        help="only the check of value.fit_sample on CDNOW master")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                        help="spark: local[2] reading the orders from --parquet-dir")
    parser.add_argument("--parquet-dir", type=Path, default=None,
                        help="with --engine spark: the partitioned Parquet folder (written "
                             "from the generated orders when missing or with --fresh)")
    args = parser.parse_args(argv)
    if args.cdnow:
        cdnow_sample_check()
        return
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"tierwise scale benchmark: {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at start, as_of {AS_OF}", flush=True)
    results = {}
    for n in (int(float(s)) for s in args.sizes.split(",") if s.strip()):
        print(f"{n:,} orders", flush=True)
        results[n] = bench_size(n, args.profile, args.fresh, args.engine, args.parquet_dir)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    (OUT / f"scale_results{'_spark' if args.engine == 'spark' else ''}.json").write_text(json.dumps(
        {str(k): v for k, v in results.items()}, indent=2))


def _child(argv: list[str]) -> None:
    kind, *args = argv
    if kind == "generate":
        generate(int(args[0]), Path(args[1]))
        result: dict = {"seconds": 0}
    elif kind == "build":
        result = _measure_build(*args)
    elif kind == "run":
        result = _measure_run(args[0], args[1] or None)
    elif kind == "hand":
        result = _measure_hand(*args)
    elif kind == "parquet_dir":
        result = _write_parquet_dir(Path(args[0]), Path(args[1]))
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_measure":
        _child(sys.argv[2:])
    else:
        main()

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
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT / "bench"))

from features import AS_OF, HAND_SQL, generate, generate_folder  # noqa: E402

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


def _measure_build_folder(folder: str, customers: str, store_path: str, with_orders: str) -> dict:
    """A store with customers ``c1`` .. ``c<customers>`` and, when ``with_orders`` is ``1``, the
    folder's orders too (for the steps that still read the store's own orders table)."""
    from tierwise.store import Store

    for suffix in ("", ".wal"):
        Path(store_path + suffix).unlink(missing_ok=True)
    t0, cpu = time.perf_counter(), time.process_time()
    with Store(store_path) as store:
        store.con.execute(
            "INSERT INTO customers (customer_key, customer_id, source) "
            f"SELECT k, 'c' || k, 'bench' FROM range(1, {int(customers)} + 1) t(k)")
        if with_orders == "1":
            store.con.execute(
                "INSERT INTO orders (order_id, customer_key, ordered_at, amount, cost, margin, "
                "channel, status, is_refund, source) SELECT order_id, "
                "CAST(substr(customer_id, 2) AS BIGINT), ordered_at, amount, cost, margin, "
                "channel, status, status IS NOT NULL, 'bench' "
                f"FROM read_parquet('{folder}/**/*.parquet', hive_partitioning = true)")
        store.con.execute("CHECKPOINT")
        rows = store.con.execute("SELECT count(*) FROM orders").fetchone()[0]
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - cpu,
            "rows": rows}


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class _Children:
    """Samples this process's children (the Spark JVM) once a second: their CPU seconds (kept
    after a child exits, as a run stops its Spark session and the backtest starts another) and
    the largest sum of their ``VmHWM`` since the last :meth:`step`."""

    def __init__(self) -> None:
        self.cpu: dict[int, float] = {}
        self.peak = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def sample(self) -> None:
        kids = _children()
        with self._lock:
            for pid in kids:
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), _cpu_of(pid))
            self.peak = max(self.peak, sum(_hwm_of(pid) for pid in kids))

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            self.sample()

    def step(self) -> tuple[float, float]:
        """(CPU seconds used so far by every child, peak MB since the last step); resets the
        peak."""
        self.sample()
        with self._lock:
            cpu, peak, self.peak = sum(self.cpu.values()), self.peak, 0.0
        return cpu, peak

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _count_collects(steps: list[dict]) -> None:
    """Count, per step, what the engines' ``to_pandas`` brings to the driver: results, rows,
    MB (pandas' deep memory use)."""
    from tierwise.engine import DuckDBEngine, SparkEngine

    for cls in (DuckDBEngine, SparkEngine):
        def counted(self, expr, _run=cls.to_pandas):  # noqa: ANN001, ANN202
            frame = _run(self, expr)
            if steps:
                steps[-1]["collects"] += 1
                steps[-1]["collected_rows"] += len(frame)
                steps[-1]["collected_mb"] += frame.memory_usage(deep=True).sum() / 2**20
            return frame
        cls.to_pandas = counted


def _measure_run(config: str, profile: str | None) -> dict:
    import tierwise.pipeline  # noqa: F401  imports are not timed
    from tierwise.config import load_config
    from tierwise.pipeline import run

    cfg = load_config(Path(config))
    steps: list[dict] = []
    kids = _Children()
    _count_collects(steps)
    t0 = last = time.perf_counter()
    cpu0 = last_cpu = time.process_time()
    last_jvm = 0.0

    def progress(message: str) -> None:
        nonlocal last, last_cpu, last_jvm
        now, cpu = time.perf_counter(), time.process_time()
        jvm_cpu, jvm_peak = kids.step()
        if steps:
            py_peak = _hwm_mb()
            steps[-1].update(seconds=now - last, cpu_seconds=cpu - last_cpu,
                             jvm_cpu_seconds=jvm_cpu - last_jvm, py_rss_mb=py_peak,
                             jvm_rss_mb=jvm_peak, rss_mb=py_peak + jvm_peak)
        print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
        steps.append({"step": message, "collects": 0, "collected_rows": 0,
                      "collected_mb": 0.0})
        last, last_cpu, last_jvm = now, cpu, jvm_cpu
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
    progress("end")
    steps.pop()
    kids.stop()
    now, cpu = time.perf_counter(), time.process_time()
    return {"seconds": now - t0, "cpu_seconds": cpu - cpu0,
            "jvm_cpu_seconds": sum(kids.cpu.values()), "steps": steps,
            "customers": result.n_customers, "run_id": result.run_id,
            "spark_submit_args": os.environ.get("PYSPARK_SUBMIT_ARGS", "")}


def _measure_hand(store_path: str) -> dict:
    import duckdb

    con = duckdb.connect(store_path, read_only=True)
    sql = HAND_SQL.replace("read_parquet('{path}')", "orders")
    t0, cpu = time.perf_counter(), time.process_time()
    frame = con.sql(sql.format(as_of=AS_OF.isoformat())).df()
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - cpu,
            "rows": len(frame)}


def run_child(kind: str, *args: str, env: dict[str, str] | None = None,
              log: Path | None = None) -> dict:
    """One measurement in a fresh interpreter, with its peak RSS (MB) from ``os.wait4``;
    ``log``: its standard error goes there (appended) as it runs."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})}
    with (open(log, "a+") if log else tempfile.TemporaryFile("w+")) as errors:  # noqa: SIM115
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


def bench_folder(n: int, customers: int, out: Path, *, fresh: bool, store_orders: bool,
                 driver_memory: str | None, parquet_dir: Path | None = None,
                 engine: str = "spark") -> dict:
    """Spark ``local[2]`` over ``n`` orders of ``customers`` customers generated straight into a
    partitioned Parquet folder (:func:`features.generate_folder`, bounded memory); the store has
    the customers and, with ``store_orders``, the same orders (``engine="duckdb"``: the run reads
    the store's, for the figures a run brings to Python, which do not depend on the engine)."""
    out.mkdir(parents=True, exist_ok=True)
    folder = (parquet_dir or out / f"orders_{n}_{customers}").resolve()
    if not folder.exists() or fresh:
        made = run_child("folder", str(n), str(customers), str(folder))
        size = sum(f.stat().st_size for f in folder.rglob("*.parquet")) / 2**30
        print(f"  wrote {folder} ({made['files']} files, {size:.2f} GiB, "
              f"{made['customers_with_orders']:,} customers with orders) in "
              f"{made['seconds']:.1f} s, peak RSS {made['rss_mb']:.0f} MB", flush=True)
    tag = f"{n}_{customers}_{'orders' if store_orders else 'customers'}"
    store, config = out / f"scale_{tag}.duckdb", out / f"scale_{tag}_{engine}.toml"
    config.write_text(CONFIG.format(store=store.name) if engine == "duckdb" else
                      CONFIG.format(store=store.name).split("[engine]")[0]
                      + SPARK_ENGINE.format(parquet_dir=folder))
    if fresh or not store.exists():
        built = run_child("build_folder", str(folder), str(customers), str(store),
                          "1" if store_orders else "0")
        print(f"  built the store ({customers:,} customers, {built['rows']:,} orders) in "
              f"{built['seconds']:.1f} s, {built['cpu_seconds']:.1f} CPU s, peak RSS "
              f"{built['rss_mb']:.0f} MB", flush=True)
    hands = [run_child("hand", str(store))] if store_orders else []
    env = {"PYSPARK_SUBMIT_ARGS": f"--driver-memory {driver_memory} pyspark-shell"} \
        if driver_memory else {}
    log = out / f"scale_{tag}_{engine}.log"
    print(f"  run (progress and Spark's messages in {log})", flush=True)
    run = run_child("run", str(config), "", env=env, log=log)
    run["rss_mb_wait4"] = run.pop("rss_mb")
    run["rss_mb"] = max(step["rss_mb"] for step in run["steps"])
    for h in hands:
        print(f"  hand-written RFM query over the store's orders: {h['seconds']:.2f} s wall, "
              f"{h['cpu_seconds']:.2f} CPU s, {h['rss_mb']:.0f} MB", flush=True)
    print(f"  run: {run['seconds']:.1f} s wall, {run['cpu_seconds']:.1f} CPU s Python + "
          f"{run['jvm_cpu_seconds']:.1f} CPU s JVM, peak RSS {run['rss_mb']:.0f} MB (Python + "
          f"JVM), {run['customers']:,} customers; Spark: local[2], "
          f"{run['spark_submit_args'] or 'default driver memory (1g)'}", flush=True)
    print("  | step | wall s | CPU s Python | CPU s JVM | peak RSS MB Python | peak RSS MB JVM "
          "| results to the driver | rows | MB |\n  |---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for step in run["steps"]:
        print(f"  | {step['step']} | {step['seconds']:.1f} | {step['cpu_seconds']:.1f} "
              f"| {step['jvm_cpu_seconds']:.1f} | {step['py_rss_mb']:.0f} "
              f"| {step['jvm_rss_mb']:.0f} | {step.get('collects', 0)} "
              f"| {step.get('collected_rows', 0):,} | {step.get('collected_mb', 0):.1f} |",
              flush=True)
    return {"hand": hands, "run": run}


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
    parser.add_argument("--customers", type=int, default=None,
                        help="with --engine spark: generate the orders straight into a "
                             "partitioned folder (in chunks, bounded memory) for this many "
                             "customers, instead of ~10 orders per customer via one file")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="with --customers: where the folder, store and log go")
    parser.add_argument("--store-orders", action="store_true",
                        help="with --customers: put the orders in the store too (the steps "
                             "that still read the store's orders then have them)")
    parser.add_argument("--driver-memory", default=None,
                        help="with --engine spark: the Spark driver's memory (e.g. 6g; in "
                             "local mode the executors run inside it)")
    args = parser.parse_args(argv)
    if args.customers:
        if args.engine != "spark" and not args.store_orders:
            parser.error("--customers with --engine duckdb needs --store-orders")
        print(f"tierwise scale benchmark (Spark, folder): {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.1f} at start, as_of {AS_OF}", flush=True)
        results = {}
        for n in (int(float(s)) for s in args.sizes.split(",") if s.strip()):
            print(f"{n:,} orders, {args.customers:,} customers", flush=True)
            results[n] = bench_folder(n, args.customers, args.out.resolve(), fresh=args.fresh,
                                      store_orders=args.store_orders,
                                      driver_memory=args.driver_memory,
                                      parquet_dir=args.parquet_dir, engine=args.engine)
            (args.out / f"scale_results_folder_{n}_{args.engine}.json").write_text(json.dumps(
                results[n], indent=2))
        print(f"load average at end: {os.getloadavg()[0]:.1f}")
        return
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
    elif kind == "folder":
        result = generate_folder(int(args[0]), int(args[1]), Path(args[2]))
    elif kind == "build_folder":
        result = _measure_build_folder(*args)
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

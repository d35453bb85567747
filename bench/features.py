"""Benchmark: tierwise's RFM summary vs a hand-written DuckDB query vs lifetimes.

Not a test. Run from the repository root::

    PYTHONPATH=src python bench/features.py                 # 1M and 10M orders
    PYTHONPATH=src python bench/features.py --sizes 1e6 --repeat 3

For each size it generates realistic orders (skewed customers, ~10 orders per customer on
average, 3 years of dates, 2 % refunds, costs and margins partly known) to Parquet under
``bench/out/`` (gitignored; reused when present), loads them once into a tierwise store (the
store's schema, through :class:`tierwise.store.Store`), then times, each in a fresh subprocess:

- ``tierwise rfm``: ``rfm_expr`` on the DuckDB engine over the store, to a pandas DataFrame;
- ``hand-written SQL``: one DuckDB query written by hand over the same Parquet, to pandas;
- ``lifetimes``: ``summary_data_from_transaction_data(freq="D")`` on the purchases already in a
  pandas DataFrame (the read is reported apart);
- ``tierwise features``: the full ``feature_expr`` set, to pandas (its own line);
- ``store load``: the one-time Parquet -> store load (its own line).

Wall time is the median of ``--repeat`` (5) runs taken round robin (lifetimes at 10M+ runs
once) and times only the work itself (imports and connecting are not timed, for anyone). Peak
RSS is the subprocess' ``ru_maxrss`` (``os.wait4``), so it includes the interpreter and imports.
CPU time (all threads, same section as the wall time) is printed too: on a busy machine it is
steadier than wall time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
START = dt.date(2022, 1, 1)
DAYS = 3 * 365
AS_OF = START + dt.timedelta(days=DAYS - 1)  # the last day with orders

HAND_SQL = """
WITH days AS (
    SELECT customer_key, ordered_at, sum(amount) AS day_amount
    FROM read_parquet('{path}')
    WHERE NOT is_refund AND ordered_at <= DATE '{as_of}'
    GROUP BY customer_key, ordered_at
)
SELECT customer_key,
       count(*) - 1 AS frequency,
       date_diff('day', min(ordered_at), max(ordered_at)) AS recency,
       date_diff('day', min(ordered_at), DATE '{as_of}') AS "T",
       CASE WHEN count(*) > 1
            THEN (sum(day_amount) - arg_min(day_amount, ordered_at)) / (count(*) - 1)
            ELSE 0 END AS monetary_value
FROM days
GROUP BY customer_key
"""
"""What someone fluent in DuckDB writes: day totals, then one aggregate with arg_min."""


# --------------------------------------------------------------------------------------------
# data


def generate(n: int, path: Path, seed: int = 20240601, *, per_day: float = 1.0) -> None:
    """``n`` orders with the store's columns, written to ``path`` (Parquet).

    ``per_day`` > 1: order-line style data, the orders of a customer come in visits of on
    average ``per_day`` orders on the same day (1 + Poisson(per_day - 1)); the customers and
    the days of the visits are drawn as the orders are otherwise.
    """
    import numpy as np
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    n_customers = max(1, n // 10)
    weight = rng.gamma(0.6, 1.0, n_customers)          # skewed: a few heavy buyers
    n_visits = n if per_day <= 1 else max(1, round(n / per_day))
    customer = rng.choice(n_customers, size=n_visits, p=weight / weight.sum()).astype("int64") + 1
    joined = rng.integers(0, DAYS, n_customers)         # each customer starts some day
    table = _orders(rng, customer, joined, 0, n=n, per_day=per_day)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, row_group_size=1 << 20)
    tmp.replace(path)


def _orders(rng, customer, joined, first_id: int, *, n: int | None = None,  # noqa: ANN001, ANN202
            per_day: float = 1.0):
    """The orders of ``customer`` (keys, 1-based; one visit each): a day from the customer's
    start to the end, amounts, 2 % refunds, costs and margins partly known; ids ``o<first_id>``,
    ``o<first_id+1>``... With ``per_day`` > 1 each visit is 1 + Poisson(per_day - 1) orders on
    its day, cut to ``n`` orders in all."""
    import numpy as np
    import pyarrow as pa

    n_visits = len(customer)
    n = n_visits if n is None else n
    first = joined[customer - 1]
    day = first + (rng.random(n_visits) * (DAYS - first)).astype("int64")
    if per_day > 1:  # each visit repeated: its orders, cut to n in all
        size = 1 + rng.poisson(per_day - 1, n_visits)
        customer, day = np.repeat(customer, size)[:n], np.repeat(day, size)[:n]
        n = len(customer)
    ordered_at = np.datetime64(START.isoformat()) + day.astype("timedelta64[D]")
    amount = np.round(rng.lognormal(4.0, 0.8, n), 2)
    refund = rng.random(n) < 0.02
    amount = np.where(refund, -np.round(amount * rng.uniform(0.2, 1.0, n), 2), amount)
    has_cost = rng.random(n) < 0.6
    cost = np.where(has_cost, np.round(amount * rng.uniform(0.4, 0.8, n), 2), np.nan)
    has_margin = ~has_cost & (rng.random(n) < 0.5)
    margin = np.where(has_margin, np.round(amount * 0.3, 2), np.nan)
    return pa.table({
        "order_id": pa.array(np.char.add("o", np.arange(first_id, first_id + n).astype(str))),
        "customer_key": customer,
        "ordered_at": pa.array(ordered_at, pa.date32()),
        "amount": amount,
        "cost": pa.array(cost, from_pandas=True),
        "margin": pa.array(margin, from_pandas=True),
        "is_refund": refund,
    })


def generate_folder(n: int, n_customers: int, folder: Path, seed: int = 20240601,
                    chunk: int = 5_000_000) -> dict:
    """``n`` orders of ``n_customers`` customers as a cluster keeps them: a Parquet folder
    partitioned by month (``month=YYYY-MM/``), written ``chunk`` orders at a time (memory is
    bounded by the chunk, not by ``n``).

    The orders are drawn as :func:`generate` draws them (the same skew, dates, amounts,
    refunds, costs and margins; customers ``c<key>``, keys 1 .. ``n_customers``), each chunk from
    its own seeded generator, plus a ``channel`` (store, online or phone) and a ``status``
    (``refunded`` on refunds). Returns the files written, the seconds taken and the number of
    customers with at least one order.
    """
    import shutil

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    t0 = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    rng = np.random.default_rng(seed)
    weight = rng.gamma(0.6, 1.0, n_customers)
    p = weight / weight.sum()
    joined = rng.integers(0, DAYS, n_customers)
    months = [f"{y}-{m:02d}" for y in range(START.year, AS_OF.year + 1) for m in range(1, 13)]
    labels, channels = pa.array(months), pa.array(["store", "online", "phone"])
    seen = np.zeros(n_customers, dtype=bool)
    for i, lo in enumerate(range(0, n, chunk)):
        crng = np.random.default_rng([seed, i])
        m = min(chunk, n - lo)
        customer = crng.choice(n_customers, size=m, p=p).astype("int64") + 1
        seen[customer - 1] = True
        t = _orders(crng, customer, joined, lo)
        day = t["ordered_at"].to_numpy().astype("datetime64[M]").astype("int64")
        month = pc.take(labels, pa.array(day - (START.year - 1970) * 12))
        refund = t["is_refund"].to_numpy()
        t = pa.table({
            "order_id": t["order_id"],
            "customer_id": pc.binary_join_element_wise(
                "c", pc.cast(t["customer_key"], pa.string()), ""),
            "ordered_at": t["ordered_at"], "amount": t["amount"], "cost": t["cost"],
            "margin": t["margin"],
            "channel": pc.take(channels, pa.array(crng.integers(0, 3, m))),
            "status": pa.array(np.where(refund, "refunded", None)),
            "month": month})
        ds.write_dataset(t, folder, format="parquet", partitioning=["month"],
                         partitioning_flavor="hive", basename_template=f"part-{i:04d}-{{i}}.parquet",
                         existing_data_behavior="overwrite_or_ignore",
                         file_options=ds.ParquetFileFormat().make_write_options(
                             compression="zstd"))
        del t, customer, month
    return {"seconds": time.perf_counter() - t0, "files": len(list(folder.rglob("*.parquet"))),
            "customers_with_orders": int(seen.sum())}


# --------------------------------------------------------------------------------------------
# measurements (each runs in its own subprocess: `features.py _measure KIND ...`)


class _Timer:
    """Wall and CPU seconds (all threads of this process) of a block."""

    def __enter__(self) -> Self:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def _measure_load(parquet: str, store_path: str) -> dict:
    from tierwise.store import Store, purchase_days

    Path(store_path).unlink(missing_ok=True)
    Path(store_path + ".wal").unlink(missing_ok=True)
    with _Timer() as timer, Store(store_path) as store:
        store.con.execute(
            "INSERT INTO orders (order_id, customer_key, ordered_at, amount, cost, margin, "
            "is_refund, source) SELECT order_id, customer_key, ordered_at, amount, cost, margin, "
            f"is_refund, 'bench' FROM read_parquet('{parquet}')")
        store.con.execute("CHECKPOINT")
        rows = store.con.execute("SELECT count(*) FROM orders").fetchone()[0]
    # the purchase-day totals of those orders (an ingest writes them with the orders): timed
    # apart, as what a store keeps for the RFM summary
    with Store(store_path) as store, _Timer() as days_timer:
        purchase_days.rebuild(store.con)
        store.con.execute("CHECKPOINT")
        n_days = store.con.execute(f"SELECT count(*) FROM {purchase_days.TABLE}").fetchone()[0]
    return {"seconds": timer.seconds, "cpu_seconds": timer.cpu, "rows": rows,
            "days_seconds": days_timer.seconds, "days_cpu_seconds": days_timer.cpu,
            "days": n_days}


def _measure_tierwise(store_path: str, full: bool, raw: bool = False) -> dict:
    """``raw``: the expressions over the ``orders`` table, as before the store kept
    purchase-day totals (the engine otherwise reads ``purchase_days``)."""
    import duckdb

    from tierwise.engine import DuckDBEngine
    from tierwise.features import feature_expr, rfm_expr

    con = duckdb.connect(store_path, read_only=True)
    engine = DuckDBEngine(con)  # connection set-up and imports are not timed (for no one)
    with _Timer() as timer:  # the engine's check that the table is in step is timed
        if raw:
            expr = (feature_expr(engine.orders(), AS_OF) if full
                    else rfm_expr(engine.orders(), AS_OF))
        else:
            expr = engine.features(AS_OF) if full else engine.rfm(AS_OF)
        frame = engine.to_pandas(expr)
    engine.close()
    return {"seconds": timer.seconds, "cpu_seconds": timer.cpu, "rows": len(frame)}


def _measure_hand(parquet: str) -> dict:
    import duckdb

    con = duckdb.connect()
    with _Timer() as timer:
        frame = con.sql(HAND_SQL.format(path=parquet, as_of=AS_OF.isoformat())).df()
    return {"seconds": timer.seconds, "cpu_seconds": timer.cpu, "rows": len(frame)}


def _measure_hand_store(store_path: str) -> dict:
    """The hand-written query over the store's ``orders`` table (the same storage tierwise
    reads) instead of the Parquet file."""
    import duckdb

    con = duckdb.connect(store_path, read_only=True)
    sql = HAND_SQL.replace("read_parquet('{path}')", "orders").format(as_of=AS_OF.isoformat())
    with _Timer() as timer:
        frame = con.sql(sql).df()
    return {"seconds": timer.seconds, "cpu_seconds": timer.cpu, "rows": len(frame)}


def _measure_lifetimes(parquet: str) -> dict:
    import warnings

    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    warnings.simplefilter("ignore")  # lifetimes' own pandas deprecation noise
    t0 = time.perf_counter()
    tx = pd.read_parquet(parquet, columns=["customer_key", "ordered_at", "amount", "is_refund"])
    tx = tx.loc[~tx["is_refund"], ["customer_key", "ordered_at", "amount"]]
    tx["ordered_at"] = pd.to_datetime(tx["ordered_at"])
    read = time.perf_counter() - t0
    with _Timer() as timer:
        frame = summary_data_from_transaction_data(
            tx, "customer_key", "ordered_at", monetary_value_col="amount",
            observation_period_end=pd.Timestamp(AS_OF), freq="D")
    return {"seconds": timer.seconds, "cpu_seconds": timer.cpu, "read_seconds": read,
            "rows": len(frame)}


def _child(argv: list[str]) -> None:
    kind, *args = argv
    # Libraries every contender needs are imported before any timer starts.
    import ibis.backends.duckdb
    import ibis.formats.pandas  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401
    if kind == "generate":
        with _Timer() as timer:
            generate(int(args[0]), Path(args[1]), per_day=float(args[2]))
        result = {"seconds": timer.seconds, "cpu_seconds": timer.cpu, "rows": int(args[0])}
    elif kind == "load":
        result = _measure_load(*args)
    elif kind in ("rfm", "features", "rfm_orders", "features_orders"):
        result = _measure_tierwise(args[0], full=kind.startswith("features"),
                                   raw=kind.endswith("_orders"))
    elif kind == "hand":
        result = _measure_hand(*args)
    elif kind == "hand_store":
        result = _measure_hand_store(*args)
    elif kind == "lifetimes":
        result = _measure_lifetimes(*args)
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    print(json.dumps(result))


def run_child(kind: str, *args: str) -> dict:
    """Run one measurement in a fresh interpreter; add its peak RSS (MB) and CPU seconds.

    The child is reaped with ``os.wait4``, which returns that child's own resource usage.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen([sys.executable, __file__, "_measure", kind, *args], env=env,
                                stdout=subprocess.PIPE, stderr=errors, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{kind} failed:\n{errors.read()}")
    result = json.loads(out.strip().splitlines()[-1])
    result["rss_mb"] = usage.ru_maxrss / 1024  # KiB on Linux
    return result


def summarize(runs: list[dict]) -> dict:
    """Medians over the runs of one measurement."""
    best = {k: statistics.median(r[k] for r in runs) for k in ("seconds", "rss_mb",
                                                               "cpu_seconds")}
    best["rows"] = runs[0]["rows"]
    best["runs"] = [round(r["seconds"], 3) for r in runs]
    if "read_seconds" in runs[0]:
        best["read_seconds"] = statistics.median(r["read_seconds"] for r in runs)
    return best


# --------------------------------------------------------------------------------------------


def _fmt_size(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n:,}"


KINDS = ("rfm", "hand", "lifetimes", "features")
"""The contenders by default; ``--kinds`` also takes ``rfm_orders`` / ``features_orders`` (the
expressions over the raw ``orders`` table, as before purchase-day totals) and ``hand_store``
(the hand-written query over the store's ``orders`` table instead of the Parquet)."""

NAMES = {"rfm": "tierwise RFM summary (`rfm_expr`, DuckDB engine)",
         "rfm_orders": "tierwise RFM summary over the raw orders (before purchase days)",
         "hand": "hand-written DuckDB SQL on the Parquet",
         "hand_store": "hand-written DuckDB SQL on the store's orders table",
         "lifetimes": "lifetimes `summary_data_from_transaction_data`",
         "features": "tierwise full feature set (`feature_expr`)",
         "features_orders": "tierwise full feature set over the raw orders",
         "load": "one-time load Parquet -> store table",
         "days": "purchase-day totals built from the stored orders"}


def bench_size(n: int, repeat: int, lifetimes_repeat: int, kinds: tuple[str, ...] = KINDS,
               per_day: float = 1.0) -> dict:
    tag = "" if per_day <= 1 else f"_perday{per_day:g}"
    parquet = OUT / f"orders_{n}{tag}.parquet"
    if not parquet.exists():
        # in a subprocess too: this process must stay small, since a child's ru_maxrss starts
        # from its parent's peak at fork / exec
        made = run_child("generate", str(n), str(parquet), str(per_day))
        print(f"  generated {parquet.name} in {made['seconds']:.1f} s", flush=True)
    store = OUT / f"store_{n}{tag}.duckdb"
    loaded = run_child("load", str(parquet), str(store))
    load = summarize([loaded])
    days = {"seconds": loaded["days_seconds"], "cpu_seconds": loaded["days_cpu_seconds"],
            "rss_mb": float("nan"), "rows": loaded["days"]}
    print(f"  loaded the store in {load['seconds']:.1f} s ({load['rows']:,} orders, "
          f"{days['rows']:,} purchase days)", flush=True)
    on = {"hand": str(parquet), "lifetimes": str(parquet)}
    plan = {kind: (on.get(kind, str(store)),) for kind in kinds}
    runs: dict[str, list[dict]] = {kind: [] for kind in plan}
    # round robin, starting each round one contender further on, so that load from elsewhere
    # on the machine and the position in a round hit every contender alike
    for rep in range(repeat):
        for kind in kinds[rep % len(kinds):] + kinds[:rep % len(kinds)]:
            if kind == "lifetimes" and rep >= lifetimes_repeat:
                continue
            runs[kind].append(run_child(kind, *plan[kind]))
        print(f"  round {rep + 1}: " + ", ".join(
            f"{kind} {runs[kind][-1]['seconds']:.2f} s" for kind in plan
            if len(runs[kind]) > rep), flush=True)
    results = {"load": load, "days": days, **{kind: summarize(r) for kind, r in runs.items()}}
    results["ratios"] = {kind: statistics.median(
        a["seconds"] / b["seconds"] for a, b in zip(runs[kind], runs["hand"], strict=False))
        for kind in runs if "hand" in runs}
    rows = {results[k]["rows"] for k in runs if k.startswith(("rfm", "hand", "lifetimes"))}
    assert len(rows) <= 1, rows
    return results


def report(all_results: dict[int, dict]) -> str:
    lines = [
        ("| orders | what | wall s (median) | CPU s | peak RSS MB | wall vs hand SQL "
         "| speed-up vs lifetimes | RSS vs lifetimes |"),
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n, res in all_results.items():
        hand, life = res.get("hand"), res.get("lifetimes")
        for kind in (*NAMES, ):
            r = res.get(kind)
            if r is None:
                continue
            if kind in ("load", "days"):
                lines.append(f"| {_fmt_size(n)} | {NAMES[kind]} ({r['rows']:,} rows) | "
                             f"{r['seconds']:.2f} | {r['cpu_seconds']:.2f} | "
                             f"{r['rss_mb']:.0f} | | | |")
                continue
            vs_hand = f"{r['seconds'] / hand['seconds']:.2f}" if hand else ""
            speedup = f"{life['seconds'] / r['seconds']:.1f}x" if life else ""
            mem = f"{r['rss_mb'] / life['rss_mb']:.2f}" if life else ""
            lines.append(f"| {_fmt_size(n)} | {NAMES[kind]} | {r['seconds']:.2f} | "
                         f"{r['cpu_seconds']:.2f} | {r['rss_mb']:.0f} | {vs_hand} | "
                         f"{speedup} | {mem} |")
        if life:
            lines.append(f"| {_fmt_size(n)} | (lifetimes' Parquet read + prep, not in its time) "
                         f"| {life.get('read_seconds', float('nan')):.2f} | | | | | |")
        if res.get("ratios"):
            lines.append("")
            lines.append(f"{_fmt_size(n)}: median of the per-round wall ratios vs the "
                         "hand-written query: " + ", ".join(
                             f"{k} {v:.2f}" for k, v in res["ratios"].items() if k != "hand"))
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7", help="comma-separated order counts")
    parser.add_argument("--repeat", type=int, default=5, help="runs per fast measurement")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"comma-separated contenders, of {', '.join(k for k in NAMES if k not in ('load', 'days'))}")
    parser.add_argument("--per-day", type=float, default=1.0,
                        help="orders per customer visit (order-line style data when > 1)")
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    unknown = [k for k in kinds if k not in NAMES or k in ("load", "days")]
    if unknown:
        parser.error(f"unknown --kinds {unknown}")
    OUT.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"tierwise features benchmark: {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average {load[0]:.1f} at start, as_of {AS_OF}, {args.per_day:g} orders per "
          "visit", flush=True)
    all_results = {}
    for n in sizes:
        print(f"{_fmt_size(n)} orders", flush=True)
        all_results[n] = bench_size(n, args.repeat, 1 if n >= 10_000_000 else args.repeat,
                                    kinds, args.per_day)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print()
    print(report(all_results))
    tag = "" if args.per_day <= 1 else f"_perday{args.per_day:g}"
    (OUT / f"features_results{tag}.json").write_text(json.dumps(
        {str(k): v for k, v in all_results.items()}, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_measure":
        _child(sys.argv[2:])
    else:
        main()

"""Benchmark: the web API's customer list, search and detail with 1M customers, 20 clients.

Not a test. Run from the repository root::

    PYTHONPATH=src python bench/web.py                       # 1M customers, 20 clients
    PYTHONPATH=src python bench/web.py --customers 200000 --requests 300

What it does:

1. Runs ``tierwise demo`` once (small) under ``bench/out/web/`` (gitignored) and scales the B2B
   supplier's latest snapshot up to ``--customers`` rows: every column the pipeline writes, the
   rows repeated with new ids, names and phones, spread over 200 account managers. The snapshot is
   written through :meth:`tierwise.store.Store.commit_run` into its own store, with the demo run's
   run-level tables. (Computing a real 1M-customer run is bench/features.py's subject; this one
   measures serving.) The store is reused when present.
2. Adds an admin and one account manager with ``tierwise users add``, starts ``tierwise serve`` on
   a free loopback port and waits until ``/api/health`` says the snapshot is loaded.
3. Loads it, for each role, with ``--clients`` concurrent clients on loopback, each signed in,
   asking for: the list (a random page of the first 50, a random sort), search (``q=`` a fragment
   of an id, a name or a phone) and detail (an id in the role's scope). ``/api/health`` (no query
   at all) runs the same way as the reference.

   - ``--client wrk`` (the default when ``wrk`` is installed: Debian's package ``wrk``): one
     endpoint at a time, ``--seconds`` each, ``--rounds`` times over, by wrk with
     ``bench/web_wrk.lua`` (``--clients`` connections, one wrk thread). wrk is written in C and
     takes little of the machine, so the figures are the server's.
   - ``--client httpx``: ``--clients`` asyncio + httpx clients in this process, the endpoints
     interleaved, ``--requests`` per endpoint. On a 2-core machine these Python clients take
     about as much CPU as the server, so their latencies include waiting for the client's own
     event loop.

``--startup`` measures only the start: seconds until ready, the server's CPU seconds and peak
RSS (VmHWM) at that moment, first for a start with no run files beside the store (what a new
run costs once), then ``--starts`` times with them, alternating with the code of ``--before``
(another tree, e.g. ``git archive main``) when given::

    PYTHONPATH=src python bench/web.py --startup --before /tmp/webstart-before

``--first-start-requests`` starts this tree's code with no run files beside the store and,
from the moment it is ready, asks one request at a time (list, search, detail in turn, as the
admin) until 30 rounds after the list is arranged (``--before``: that tree's code); it prints the latencies by what the server
read from meanwhile: the store (until the run's file appears), the run's file (until the
arranged list appears), the arranged list::

    PYTHONPATH=src python bench/web.py --first-start-requests

It prints p50 / p95 / p99 latency per endpoint and role (wrk: the median over the rounds, and
the range of the p95s), the ratio of each p95 to the reference's p95 in the same round, the
throughput, the server's CPU time per request (wrk) and its peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "web"
PASSWORD = "bench-password-1"
TARGET_P95_MS = 200.0
ENDPOINTS = ("list", "search", "detail", "health")
SORTS = ("clv_predicted", "total_amount", "days_since_last", "customer_id", "name")


def tierwise(*args: str, stdin: str | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "tierwise", *args], input=stdin, text=True,
                          capture_output=True, cwd=cwd, env={**os.environ, "PYTHONPATH":
                                                             str(ROOT / "src")})
    if done.returncode != 0:
        raise SystemExit(f"tierwise {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def build_store(n: int) -> Path:
    """A config whose store holds one run of ``n`` customers (built once, then reused)."""
    from tierwise.store import Store

    demo = OUT / "demo"
    if not (demo / "b2b" / "tierwise.duckdb").exists():
        print("running tierwise demo (once) ...", flush=True)
        tierwise("--quiet", "demo", "--dir", str(demo), "--members", "300", "--accounts", "60")
    folder = OUT / f"store-{n}"
    config = folder / "tierwise.toml"
    if (folder / "tierwise.duckdb").exists():
        return config
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for item in (demo / "b2b").iterdir():
        if item.suffix in (".csv", ".xlsx", ".toml"):
            shutil.copy(item, folder / item.name)
    print(f"scaling the demo snapshot to {n:,} customers ...", flush=True)
    started = time.perf_counter()
    with Store(demo / "b2b" / "tierwise.duckdb", read_only=True) as source:
        info = source.run_info("latest")
        base = source.snapshot(info["run_id"])
        tables = {name: source.run_table(info["run_id"], name)
                  for name in source.run_table_names(info["run_id"])}
    big = _scaled(base, n)
    with Store(folder / "tierwise.duckdb") as store:
        store.commit_run(period=str(info["period"]), as_of=info["as_of"],
                         config_hash="bench-web", engine="duckdb", results=big,
                         meta={**(info.get("meta") or {}), "bench": f"{n} scaled customers"},
                         tables=tables)
    print(f"  written in {time.perf_counter() - started:.1f} s", flush=True)
    return config


def _scaled(base: pd.DataFrame, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    picks = rng.integers(0, len(base), n)
    big = base.iloc[picks].reset_index(drop=True)
    keys = np.arange(1, n + 1)
    big["customer_key"] = keys
    big["customer_id"] = [f"C{k:07d}" for k in keys]
    big["name"] = big["name"].astype(str) + " " + pd.Series(keys).astype(str).str[-4:]
    big["phone"] = [f"13{p:09d}" for p in rng.integers(0, 10**9, n)]
    big["account_manager"] = [f"manager{m:03d}" for m in rng.integers(0, 200, n)]
    big["key_account"] = False
    big.loc[rng.choice(n, 30, replace=False), "key_account"] = True
    return big


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(config: Path, port: int, src: Path = ROOT / "src"
                 ) -> subprocess.Popen[bytes]:
    """``tierwise serve`` (the code in ``src``), once ``/api/health`` says it is loaded."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.Popen([sys.executable, "-m", "tierwise", "serve", "-c", str(config),
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the server stopped while starting")
        try:
            status = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).json()
            if status.get("status") == "ok":
                return proc
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not load the store within 10 minutes")


def startup(config: Path, before: Path | None, starts: int, cold_before: bool = False
            ) -> None:
    """Ready time, CPU seconds and peak RSS of ``tierwise serve`` from start to ready: this
    tree's code (first with no run files beside the store: the once-per-run cost; then with
    them) and, when given, the code in ``before`` (``git archive main``), alternating;
    ``cold_before``: a first start of ``before`` too. Besides "ready" (``/api/health`` says ok),
    when the latest run's list is arranged beside the store (a server may arrange it after it
    is ready), with the CPU seconds and peak RSS then."""
    from tierwise.config import load_config

    runs = load_config(config).store_path
    files = runs.with_name(runs.name + ".web-runs")
    kinds = [("after, cold", ROOT / "src")]
    if before and cold_before:
        kinds.insert(0, ("before, cold", before / "src"))
    for _ in range(starts):
        kinds += [("after", ROOT / "src")] + ([("before", before / "src")] if before else [])
    got: dict[str, list[tuple[float, ...]]] = {}
    for kind, src in kinds:
        if kind.endswith("cold"):
            shutil.rmtree(files, ignore_errors=True)
        port = free_port()
        load = os.getloadavg()[0]
        started = time.perf_counter()
        server = start_server(config, port, src)
        ready = time.perf_counter() - started
        cpu, rss = cpu_seconds(server.pid), peak_rss_mb(server.pid) or float("nan")
        while not list(files.glob("run-*.index/index.json")):  # the list arranged after ready
            time.sleep(0.2)
        arranged = time.perf_counter() - started
        cpu_all, rss_all = cpu_seconds(server.pid), peak_rss_mb(server.pid) or float("nan")
        server.terminate()
        server.wait(timeout=30)
        got.setdefault(kind, []).append((ready, cpu, rss, arranged, cpu_all, rss_all, load))
        print(f"  {kind:<12} ready {ready:6.1f} s  CPU {cpu:6.1f} s  peak RSS {rss:7,.0f} MB; "
              f"list arranged {arranged:6.1f} s  CPU {cpu_all:6.1f} s  peak RSS "
              f"{rss_all:7,.0f} MB (load {load:.1f} at start)", flush=True)
    print(f"\nstart-up, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; medians")
    print(f"{'code':<12} {'starts':>6} {'ready s':>8} {'CPU s':>7} {'peak RSS MB':>12} "
          f"{'arranged s':>10} {'CPU s':>7} {'peak RSS MB':>12}")
    medians = {}
    for kind, rows in got.items():
        medians[kind] = [statistics.median(r[i] for r in rows) for i in range(6)]
        ready, cpu, rss, arranged, cpu_all, rss_all = medians[kind]
        print(f"{kind:<12} {len(rows):>6} {ready:>8.1f} {cpu:>7.1f} {rss:>12,.0f} "
              f"{arranged:>10.1f} {cpu_all:>7.1f} {rss_all:>12,.0f}")
    if "before" in medians:
        after, base = medians["after"], medians["before"]
        print(f"after / before: ready {after[0] / base[0]:.2f}, CPU {after[1] / base[1]:.2f}, "
              f"peak RSS {after[2] / base[2]:.2f}")


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


Job = tuple[str, str, dict[str, Any]]


async def _client(base: str, user: str, jobs: list[Job],
                  times: dict[str, list[float]], errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        signed = await http.post("/api/login", json={"username": user, "password": PASSWORD})
        if signed.status_code != 200:
            errors.append(f"login {user}: {signed.status_code}")
            return
        for endpoint, url, params in jobs:
            started = time.perf_counter()
            got = await http.get(url, params=params)
            times[endpoint].append(1000 * (time.perf_counter() - started))
            if got.status_code != 200:
                errors.append(f"{url}: {got.status_code}")


def _request(endpoint: str, scope: dict[str, list[str]], rng: random.Random
             ) -> tuple[str, dict[str, Any]]:
    """One request of an endpoint: its path and query parameters."""
    if endpoint == "list":
        return "/api/customers", {"page": rng.randint(1, 50), "sort": rng.choice(SORTS),
                                  "order": rng.choice(["asc", "desc"])}
    if endpoint == "search":
        fragment = rng.choice([rng.choice(scope["ids"])[2:7], rng.choice(scope["names"])[:2],
                               rng.choice(scope["phones"])[-5:]])
        return "/api/customers", {"q": fragment}
    if endpoint == "detail":
        return f"/api/customers/{rng.choice(scope['ids'])}", {}
    return "/api/health", {}


def _workload(scope: dict[str, list[str]], n: int, rng: random.Random) -> list[Job]:
    jobs = [(endpoint, *_request(endpoint, scope, rng)) for _ in range(n)
            for endpoint in ENDPOINTS]
    rng.shuffle(jobs)
    return jobs


def _scope(frame: pd.DataFrame) -> dict[str, list[str]]:
    return {"ids": frame["customer_id"].tolist(), "names": frame["name"].tolist(),
            "phones": frame["phone"].tolist()}


def load_httpx(base: str, user: str, scope: dict[str, list[str]], clients: int, requests: int
               ) -> tuple[dict[str, list[float]], list[str], float]:
    rng = random.Random(11)
    per_client = max(1, requests // clients)
    times: dict[str, list[float]] = {k: [] for k in ENDPOINTS}
    errors: list[str] = []

    async def main() -> None:
        await asyncio.gather(*(_client(base, user, _workload(scope, per_client, rng),
                                       times, errors) for _ in range(clients)))

    started = time.perf_counter()
    asyncio.run(main())
    return times, errors, time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_wrk(base: str, user: str, scope: dict[str, list[str]], endpoint: str, clients: int,
             seconds: float, server_pid: int, folder: Path) -> dict[str, float]:
    """One wrk run of one endpoint: latencies (ms), requests/s, server CPU ms per request."""
    cookie = httpx.post(f"{base}/api/login", json={"username": user, "password": PASSWORD},
                        timeout=30).cookies
    rng = random.Random(f"{user}-{endpoint}")
    paths = folder / f"{user}-{endpoint}.txt"
    with paths.open("w", encoding="utf-8") as out:
        for _ in range(5000):
            path, params = _request(endpoint, scope, rng)
            out.write(str(httpx.URL(path, params=params)) + "\n")
    header = "; ".join(f"{k}={v}" for k, v in cookie.items())
    cpu = cpu_seconds(server_pid)
    done = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "30s",
                           "-s", str(ROOT / "bench" / "web_wrk.lua"), base, "--", str(paths),
                           header], capture_output=True, text=True, check=True)
    cpu = cpu_seconds(server_pid) - cpu
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    count, non_2xx, failed, p50, p95, p99, took = (float(x) for x in line.split()[1:])
    if non_2xx or failed:
        print(f"  {user} {endpoint}: {non_2xx:.0f} answers not 2xx, {failed:.0f} socket errors")
    return {"n": count, "p50": p50 / 1000, "p95": p95 / 1000, "p99": p99 / 1000,
            "rps": count / took, "cpu_ms": 1000 * cpu / max(count, 1)}


def first_start_requests(config: Path, src: Path = ROOT / "src") -> None:
    """Latency of requests while a first start's thread writes the run's file and arranges its
    list (see the module doc), with the code in ``src``."""
    from tierwise.config import load_config
    from tierwise.store import Store

    store_path = load_config(config).store_path
    with Store(store_path, read_only=True) as store:
        frame = store.con.execute(
            "SELECT customer_id, name, phone FROM snapshot_customers WHERE run_id = "
            "(SELECT max(run_id) FROM runs) USING SAMPLE 2000 ROWS").df()
    scope = _scope(frame)
    if not _has_user(config, "bench-admin"):
        tierwise("users", "add", "bench-admin", "--role", "admin", "--password-stdin", "-c",
                 str(config), stdin=PASSWORD + "\n")
    files = store_path.with_name(store_path.name + ".web-runs")
    shutil.rmtree(files, ignore_errors=True)
    port, load = free_port(), os.getloadavg()[0]
    started = time.perf_counter()
    server = start_server(config, port, src)
    print(f"ready in {time.perf_counter() - started:.1f} s (load {load:.1f} at start)", flush=True)
    rng, got, rounds_after = random.Random(5), {}, 0
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            signed = http.post("/api/login", json={"username": "bench-admin",
                                                   "password": PASSWORD})
            if signed.status_code != 200:
                raise SystemExit(f"login: {signed.status_code}")
            while rounds_after < 30:
                phase = ("arranged" if list(files.glob("run-*.index/index.json")) else
                         "run file" if list(files.glob("run-*.duckdb")) else "store")
                rounds_after += phase == "arranged"
                for endpoint in ("list", "search", "detail"):
                    path, params = _request(endpoint, scope, rng)
                    asked = time.perf_counter()
                    answer = http.get(path, params=params)
                    took = (time.perf_counter() - asked) * 1000
                    if answer.status_code != 200:
                        raise SystemExit(f"{path} {params}: {answer.status_code}")
                    got.setdefault((phase, endpoint), []).append(took)
    finally:
        server.terminate()
        server.wait(timeout=60)
    print(f"{'read from':<10} {'endpoint':<8} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for (phase, endpoint), took in got.items():
        print(f"{phase:<10} {endpoint:<8} {len(took):>4} {pct(took, 50):>8,.0f} "
              f"{pct(took, 95):>8,.0f} {max(took):>8,.0f}")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=float, default=1e6)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--client", choices=("wrk", "httpx"),
                        default="wrk" if shutil.which("wrk") else "httpx",
                        help="load generator (default: wrk when installed)")
    parser.add_argument("--seconds", type=float, default=10,
                        help="wrk: seconds per endpoint, role and round (default 10)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="wrk: rounds over every endpoint and role (default 3)")
    parser.add_argument("--requests", type=int, default=1000,
                        help="httpx: requests per endpoint and role (default 1000)")
    parser.add_argument("--startup", action="store_true",
                        help="measure start-up only (ready time, CPU, peak RSS), see --before")
    parser.add_argument("--before", type=Path, default=None,
                        help="--startup, --first-start-requests: a tree of the code to compare with (e.g. git archive "
                             "main | tar -x -C /tmp/before), started alternately")
    parser.add_argument("--starts", type=int, default=3,
                        help="--startup: starts of each code (default 3)")
    parser.add_argument("--cold-before", action="store_true",
                        help="--startup: a first start (no run files) of --before's code too")
    parser.add_argument("--first-start-requests", action="store_true",
                        help="latency of requests while a first start writes the run's file "
                             "and arranges its list")
    args = parser.parse_args()
    if args.first_start_requests:
        first_start_requests(build_store(int(args.customers)),
                             ROOT / "src" if args.before is None else args.before / "src")
        return
    if args.startup:
        startup(build_store(int(args.customers)), args.before, args.starts,
                args.cold_before)
        return
    if args.client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk); or --client httpx")
    n = int(args.customers)
    config = build_store(n)
    from tierwise.config import load_config
    from tierwise.store import Store
    with Store(load_config(config).store_path, read_only=True) as store:
        snap = store.con.execute(
            "SELECT customer_id, name, phone, account_manager FROM snapshot_customers").df()
    manager = snap["account_manager"].value_counts().index[0]
    for name, role, extra in (("bench-admin", "admin", []),
                              ("bench-manager", "manager", ["--manager", manager])):
        tierwise("users", "remove", name, "-c", str(config)) if _has_user(config, name) else None
        tierwise("users", "add", name, "--role", role, *extra, "--password-stdin", "-c",
                 str(config), stdin=PASSWORD + "\n")
    port = free_port()
    print(f"starting tierwise serve on port {port} ...", flush=True)
    started = time.perf_counter()
    server = start_server(config, port)
    print(f"  ready in {time.perf_counter() - started:.1f} s", flush=True)
    base = f"http://127.0.0.1:{port}"
    roles = (("bench-admin", _scope(snap)),
             ("bench-manager", _scope(snap[snap["account_manager"] == manager])))
    try:
        if args.client == "wrk":
            rows = _run_wrk(base, roles, args, server.pid)
        else:
            rows = _run_httpx(base, roles, args)
    finally:
        rss = peak_rss_mb(server.pid)
        server.terminate()
        server.wait(timeout=30)
    print(f"\n{n:,} customers, {args.clients} concurrent clients ({args.client}) on loopback, "
          f"{os.cpu_count()} cores; target p95 < {TARGET_P95_MS:.0f} ms")
    print(f"{'role':<8} {'endpoint':<8} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p95 range':>13} "
          f"{'p99 ms':>8} {'p95/ref':>8} {'req/s':>7} {'cpu ms':>7}  verdict")
    for row in rows:
        verdict = "" if row["endpoint"] == "health" else \
            ("ok" if row["p95"] < TARGET_P95_MS else "SLOW")
        spread = f"{row['p95_lo']:.0f}-{row['p95_hi']:.0f}"
        cpu = f"{row['cpu_ms']:7.2f}" if row.get("cpu_ms") is not None else f"{'-':>7}"
        print(f"{row['role']:<8} {row['endpoint']:<8} {row['n']:>6.0f} {row['p50']:>8.1f} "
              f"{row['p95']:>8.1f} {spread:>13} {row['p99']:>8.1f} {row['ratio']:>8.1f} "
              f"{row['rps']:>7.0f} {cpu}  {verdict}")
    if rss is not None:
        print(f"server peak RSS: {rss:,.0f} MB")


def _run_wrk(base: str, roles: Any, args: argparse.Namespace, pid: int) -> list[dict[str, Any]]:
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(1, args.rounds + 1):
            for user, scope in roles:
                for endpoint in ENDPOINTS:
                    got = load_wrk(base, user, scope, endpoint, args.clients, args.seconds, pid,
                                   Path(folder))
                    results.setdefault((user, endpoint), []).append(got)
                    print(f"  round {round_} {user:<13} {endpoint:<7} p50 {got['p50']:6.1f}  "
                          f"p95 {got['p95']:6.1f} ms  {got['rps']:5.0f} req/s  "
                          f"{got['cpu_ms']:5.2f} ms CPU/request", flush=True)
    rows = []
    for (user, endpoint), runs in results.items():
        refs = results[(user, "health")]
        ratios = [r["p95"] / ref["p95"] for r, ref in zip(runs, refs, strict=True)]
        p95s = [r["p95"] for r in runs]
        rows.append({"role": user.split("-")[1], "endpoint": endpoint,
                     "n": sum(r["n"] for r in runs),
                     **{k: statistics.median(r[k] for r in runs)
                        for k in ("p50", "p95", "p99", "rps", "cpu_ms")},
                     "p95_lo": min(p95s), "p95_hi": max(p95s),
                     "ratio": statistics.median(ratios)})
    return rows


def _run_httpx(base: str, roles: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for user, scope in roles:
        times, errors, seconds = load_httpx(base, user, scope, args.clients, args.requests)
        if errors:
            print(f"  {len(errors)} errors for {user}, e.g. {errors[:3]}")
        ref = pct(times["health"], 95)
        total = sum(len(v) for v in times.values())
        for endpoint in ENDPOINTS:
            values = times[endpoint]
            rows.append({"role": user.split("-")[1], "endpoint": endpoint, "n": len(values),
                         "p50": statistics.median(values), "p95": pct(values, 95),
                         "p95_lo": pct(values, 95), "p95_hi": pct(values, 95),
                         "p99": pct(values, 99), "ratio": pct(values, 95) / ref,
                         "rps": total / seconds, "cpu_ms": None})
    return rows


def _has_user(config: Path, name: str) -> bool:
    listed = tierwise("users", "list", "--json", "-c", str(config))
    return f'"{name}"' in listed


if __name__ == "__main__":
    main()

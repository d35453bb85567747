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
3. For each role, ``--clients`` concurrent clients (asyncio + httpx, one signed-in session each)
   send ``--requests`` requests per endpoint, interleaved: the list (a random page of the first
   50, a random sort), search (``q=`` a fragment of an id, a name or a phone) and detail (an id in
   the role's scope). ``/api/health`` (no query at all) runs the same way as the reference.

It prints p50 / p95 / p99 latency per endpoint and role, the ratio of each p95 to the reference's
p95 in the same run, the throughput, and the server's peak RSS. The clients share the machine with
the server, so on a 2-core machine the figures include their CPU too.
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


def start_server(config: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
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


def _workload(ids: list[str], names: list[str], phones: list[str], n: int,
              rng: random.Random) -> list[Job]:
    sorts = ["clv_predicted", "total_amount", "days_since_last", "customer_id", "name"]
    jobs: list[Job] = []
    for _ in range(n):
        jobs.append(("health", "/api/health", {}))
        jobs.append(("list", "/api/customers", {"page": rng.randint(1, 50),
                                                "sort": rng.choice(sorts),
                                                "order": rng.choice(["asc", "desc"])}))
        fragment = rng.choice([rng.choice(ids)[2:7], rng.choice(names)[:2],
                               rng.choice(phones)[-5:]])
        jobs.append(("search", "/api/customers", {"q": fragment}))
        jobs.append(("detail", f"/api/customers/{rng.choice(ids)}", {}))
    rng.shuffle(jobs)
    return jobs


def load(base: str, user: str, scope: pd.DataFrame, clients: int, requests: int
         ) -> tuple[dict[str, list[float]], list[str], float]:
    rng = random.Random(11)
    ids, names = scope["customer_id"].tolist(), scope["name"].tolist()
    phones = scope["phone"].tolist()
    per_client = max(1, requests // clients)
    times: dict[str, list[float]] = {k: [] for k in ("health", "list", "search", "detail")}
    errors: list[str] = []

    async def main() -> None:
        await asyncio.gather(*(_client(base, user, _workload(ids, names, phones, per_client, rng),
                                       times, errors) for _ in range(clients)))

    started = time.perf_counter()
    asyncio.run(main())
    return times, errors, time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=float, default=1e6)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1000,
                        help="requests per endpoint and role (default 1000)")
    args = parser.parse_args()
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
    rows = []
    try:
        for user, scope in (("bench-admin", snap),
                            ("bench-manager", snap[snap["account_manager"] == manager])):
            times, errors, seconds = load(f"http://127.0.0.1:{port}", user, scope, args.clients,
                                          args.requests)
            if errors:
                print(f"  {len(errors)} errors for {user}, e.g. {errors[:3]}")
            ref = pct(times["health"], 95)
            total = sum(len(v) for v in times.values())
            for endpoint in ("list", "search", "detail", "health"):
                values = times[endpoint]
                rows.append([user.split("-")[1], endpoint, len(values),
                             statistics.median(values), pct(values, 95), pct(values, 99),
                             pct(values, 95) / ref, total / seconds])
    finally:
        rss = peak_rss_mb(server.pid)
        server.terminate()
        server.wait(timeout=30)
    print(f"\n{n:,} customers, {args.clients} concurrent clients on loopback, "
          f"{os.cpu_count()} cores; target p95 < {TARGET_P95_MS:.0f} ms")
    print(f"{'role':<8} {'endpoint':<8} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'p95/ref':>8} {'req/s':>7}  verdict")
    for role, endpoint, count, p50, p95, p99, ratio, rps in rows:
        verdict = "" if endpoint == "health" else ("ok" if p95 < TARGET_P95_MS else "SLOW")
        print(f"{role:<8} {endpoint:<8} {count:>6} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} "
              f"{ratio:>8.1f} {rps:>7.0f}  {verdict}")
    if rss is not None:
        print(f"server peak RSS: {rss:,.0f} MB")


def _has_user(config: Path, name: str) -> bool:
    listed = tierwise("users", "list", "--json", "-c", str(config))
    return f'"{name}"' in listed


if __name__ == "__main__":
    main()

"""Benchmark: what keeping purchase-day totals costs an ingest (issue 16 item 3).

Not a test. Run from the repository root, after ``bench/features.py`` generated its Parquet::

    PYTHONPATH=src python bench/purchase_days.py --orders bench/out/orders_1000000.parquet

Writes the orders through :meth:`tierwise.store.Store.upsert_orders` (one transaction each) into
a fresh store: the whole file, the whole file again (every order replaced), then an increment
of the last ``--increment`` orders with new ids (a daily file). For each write it prints the
wall and CPU seconds of the write and of the purchase-day refresh inside it
(:func:`tierwise.store.purchase_days.refresh`, timed by wrapping it).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from tierwise.store import Store
from tierwise.store import lines as store_lines
from tierwise.store import purchase_days


class _Clock:
    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def wrap(self, fn):  # noqa: ANN001, ANN202 - a bench helper
        def timed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            w, c = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.wall += time.perf_counter() - w
                self.cpu += time.process_time() - c
        return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=Path, required=True, help="bench/features.py Parquet")
    parser.add_argument("--increment", type=int, default=10_000)
    args = parser.parse_args()
    frame = pd.read_parquet(args.orders, columns=["order_id", "customer_key", "ordered_at",
                                                  "amount", "cost", "margin", "is_refund"])
    frame["customer_id"] = "c" + frame.pop("customer_key").astype(str)
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"]).dt.date
    increment = frame.tail(args.increment).assign(
        order_id=lambda f: "new-" + f["order_id"])
    clock = _Clock()
    store_lines.purchase_days.refresh = clock.wrap(purchase_days.refresh)
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "t.duckdb") as store:
        store.upsert_customers(pd.DataFrame({"customer_id": frame["customer_id"].unique()}),
                               source="bench")
        print("| write | orders | days after | write wall s | write CPU s "
              "| refresh wall s | refresh CPU s | refresh share of CPU |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, part in (("fresh store", frame), ("same orders again", frame),
                           (f"increment of {args.increment:,} new orders", increment)):
            clock.wall = clock.cpu = 0.0
            w, c = time.perf_counter(), time.process_time()
            with store.transaction():
                store.upsert_orders(part, source="bench.csv")
            wall, cpu = time.perf_counter() - w, time.process_time() - c
            days = store.con.execute("SELECT count(*) FROM purchase_days").fetchone()[0]
            assert purchase_days.in_step(store.con)
            print(f"| {name} | {len(part):,} | {days:,} | {wall:.2f} | {cpu:.2f} | "
                  f"{clock.wall:.2f} | {clock.cpu:.2f} | {clock.cpu / cpu:.0%} |", flush=True)


if __name__ == "__main__":
    main()

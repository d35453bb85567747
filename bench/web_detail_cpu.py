"""CPU per customer page (``/api/customers/{id}``), in one process: the app and a test client.

Not a test. Needs the store and the user ``bench-admin`` that ``bench/web.py`` makes. Run from a
tree's root (this one, or ``git archive main`` with this file copied in) to compare code::

    PYTHONPATH=src python bench/web_detail_cpu.py bench/out/web/store-1000000/tierwise.toml

Prints the CPU milliseconds per request (the client's share included, the same for any server
code): five batches of 100 random customers, their median.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

import duckdb
from fastapi.testclient import TestClient

from tierwise.config import load_config
from tierwise.web.app import create_app


def main() -> None:
    config = Path(sys.argv[1])
    settings = load_config(config)
    con = duckdb.connect(str(settings.store_path), read_only=True)
    ids = [r[0] for r in con.execute(
        "SELECT customer_id FROM snapshot_customers USING SAMPLE 2000").fetchall()]
    con.close()
    rng = random.Random(5)
    with TestClient(create_app(settings, config_path=config)) as client:
        signed = client.post("/api/login", json={"username": "bench-admin",
                                                 "password": "bench-password-1"})
        assert signed.status_code == 200, signed.text
        for customer_id in ids[:20]:  # warm up
            client.get(f"/api/customers/{customer_id}")
        batches = []
        for _ in range(5):
            picked = [rng.choice(ids) for _ in range(100)]
            started = time.process_time()
            for customer_id in picked:
                got = client.get(f"/api/customers/{customer_id}")
                assert got.status_code == 200, got.text
            batches.append(1000 * (time.process_time() - started) / len(picked))
    print(f"detail CPU ms/request: median {statistics.median(batches):.2f}, batches "
          f"{[round(x, 2) for x in batches]}, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

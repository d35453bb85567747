"""How big and how slow the core install is: a fresh venv, ``pip install SOURCE`` (no extras).

For each source tree given (e.g. the previous release checked out with ``git archive`` and this
tree), ``--runs`` times: make a venv in a temporary folder, time ``pip install SOURCE``, measure
site-packages (``du -sk``), remove the venv. pip's download cache stays warm between runs, so the
time is install time (unpacking, compiling byte code, building the wheel of tierwise), not
download time. Prints one JSON line per source with medians.

    python bench/install.py --runs 3 /tmp/tierwise-before .
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_install(source: Path, python: str) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="tierwise-install-"))
    try:
        subprocess.run([python, "-m", "venv", str(folder / "venv")], check=True)
        pip = folder / "venv" / "bin" / "pip"
        subprocess.run([str(pip), "install", "-q", "--upgrade", "pip"], check=True)
        started = time.perf_counter()
        subprocess.run([str(pip), "install", "-q", str(source)], check=True)
        seconds = time.perf_counter() - started
        site = next((folder / "venv" / "lib").glob("python*/site-packages"))
        kib = int(subprocess.run(["du", "-sk", str(site)], check=True, capture_output=True,
                                 text=True).stdout.split()[0])
        listed = subprocess.run([str(pip), "list", "--format", "json"], check=True,
                                capture_output=True, text=True).stdout
        return {"seconds": seconds, "mib": kib / 1024, "packages": len(json.loads(listed))}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    for source in args.sources:
        results = [one_install(source.resolve(), args.python) for _ in range(args.runs)]
        print(json.dumps({
            "source": str(source), "runs": args.runs,
            "seconds_median": round(statistics.median(r["seconds"] for r in results), 1),
            "seconds": [round(r["seconds"], 1) for r in results],
            "site_packages_mib_median": round(statistics.median(r["mib"] for r in results), 1),
            "packages": results[0]["packages"]}), flush=True)


if __name__ == "__main__":
    main()

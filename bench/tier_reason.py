"""What keeping the pyramid's reasons as codes costs: ``Pyramid.transform`` now vs a reference.

Since migration ``0062_tier_reason_codes`` every customer's ``tier_reason`` is kept as a catalogue
code and its figures (``tier_reason_args``), and worded again when a run is read. This bench times,
on the same seeded customers and in the same run:

* ``Pyramid.transform`` of this checkout (the reason as codes and as words), and with
  ``words=False``, as a run calls it (the store keeps only the codes);
* ``Pyramid.transform`` of a reference revision (``--ref``, default the commit before the change,
  which wrote only the sentence), run from its own source tree taken from git;
* the words made again from the stored codes (what a full export or the report pays on reading).

Each contender runs in its own process, alternating, ``--repeat`` rounds; it prints medians and
the ratio to the reference.

    PYTHONPATH=src python bench/tier_reason.py --customers 1000000 --repeat 5
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, sys, time
import numpy as np, pandas as pd
from tierwise.tiering import Pyramid
n, what = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(7)
frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                      "frequency": rng.poisson(3, n),
                      "total_amount": rng.lognormal(6, 1.2, n).round(2)})
frame.loc[rng.random(n) < 0.01, "total_amount"] = np.nan
pyramid = Pyramid().fit(frame)
previous = pyramid.transform(frame)[["customer_id", "tier"]]
frame["total_amount"] *= rng.uniform(0.9, 1.1, n)
start = time.perf_counter()
out = pyramid.transform(frame, previous=previous, lang="zh", **({"words": False} if what == "store" else {}))
took = time.perf_counter() - start
if what == "render":
    from tierwise.i18n.render import tier_reasons
    start = time.perf_counter()
    words = tier_reasons(out["tier_reason_args"], "en")
    took = time.perf_counter() - start
print(json.dumps({"seconds": took}))
"""


def _reference_src(rev: str, into: Path) -> Path:
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "src"],
                         capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")
    return into / "src"


def _time(src: Path, n: int, what: str) -> float:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(n), what], capture_output=True,
                          text=True, check=True, env={"PYTHONPATH": str(src), "PATH": ""})
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--ref", default="c52cde0",
                        help="the reference revision (default: before reasons became codes)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ref = _reference_src(args.ref, Path(tmp))
        times: dict[str, list[float]] = {"reference": [], "codes": [], "store": [],
                                         "render": []}
        for _ in range(args.repeat):
            times["reference"].append(_time(ref, args.customers, "transform"))
            times["codes"].append(_time(ROOT / "src", args.customers, "transform"))
            times["store"].append(_time(ROOT / "src", args.customers, "store"))
            times["render"].append(_time(ROOT / "src", args.customers, "render"))
    base = statistics.median(times["reference"])
    print(f"{args.customers:,} customers, {args.repeat} rounds (median wall seconds)")
    print(f"{'what':<52}{'median s':>10}{'vs reference':>14}")
    for name, label in (("reference", f"Pyramid.transform at {args.ref} (sentences only)"),
                        ("codes", "Pyramid.transform now (codes and words)"),
                        ("store", "Pyramid.transform now, words=False (the run's call)"),
                        ("render", "words from the stored codes (export/report read)")):
        med = statistics.median(times[name])
        print(f"{label:<52}{med:>10.2f}{med / base:>13.2f}x")


if __name__ == "__main__":
    main()

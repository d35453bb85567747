"""Benchmark: tierwise value-model fits against lifetimes 0.11.3 on the same simulated summaries.

Run from the repository root::

    PYTHONPATH=src /tmp/venv/bin/python bench/models.py           # 100k and 1M customers
    PYTHONPATH=src /tmp/venv/bin/python bench/models.py --quick   # 20k and 100k, for a smoke run
    PYTHONPATH=src /tmp/venv/bin/python bench/models.py --rhythm  # the rhythm models vs BG/NBD
    PYTHONPATH=src /tmp/venv/bin/python bench/models.py --rhythm --quick --pareto-cnbd  # + Pareto/CNBD-k
    PYTHONPATH=src /tmp/venv/bin/python bench/models.py --pareto main  # Pareto/NBD vs git rev main

Summaries are simulated the way real data look: every customer first buys on day 0 of their
history, is observed for a whole number of days (acquired uniformly over two years), purchases
are floored to days and same-day purchases collapse (so many customers share a history), and
spend is rounded to cents. BG/NBD and Gamma-Gamma fit BG/NBD-simulated data, Pareto/NBD fits
Pareto/NBD-simulated data. Times are wall-clock seconds including tierwise's compression and
standard errors; lifetimes fits exactly what its documentation shows (unweighted arrays), under
the same one-thread BLAS limit tierwise uses, so neither side pays for BLAS thread contention.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from tierwise.models import (
    BGCNBD,
    MBGCNBD,
    BetaGeo,
    GammaGamma,
    ModifiedBetaGeo,
    ParetoNBD,
    simulate_bgnbd,
    simulate_cnbd,
    simulate_gamma_gamma,
    simulate_pareto_nbd,
)

BG_TRUE = {"r": 0.25, "alpha": 30.0, "a": 0.8, "b": 2.5}        # days
PNBD_TRUE = {"r": 0.55, "alpha": 50.0, "s": 0.6, "beta": 80.0}  # days
GG_TRUE = {"p": 6.0, "q": 3.8, "v": 15.0}
CNBD_TRUE = {"k": 2, "r": 0.9, "alpha": 20.0, "a": 0.8, "b": 2.5}  # days; weekly-ish, Erlang-2
RHYTHM_MODELS = {"BG/NBD": BetaGeo, "MBG/NBD": ModifiedBetaGeo, "BG/CNBD-k": BGCNBD,
                 "MBG/CNBD-k": MBGCNBD}


def simulate(n: int, kind: str, seed: int = 0) -> pd.DataFrame:
    T = np.random.default_rng(seed).integers(1, 731, n)
    if kind == "bgnbd":
        df = simulate_bgnbd(BG_TRUE, T, seed=seed + 1)
    else:
        df = simulate_pareto_nbd(PNBD_TRUE, T, seed=seed + 1)
    df["monetary_value"] = np.round(simulate_gamma_gamma(GG_TRUE, df["frequency"], seed + 2), 2)
    return df


def timed(fn, repeats: int):
    """Median wall time over ``repeats`` runs and the last result."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def ours(kind: str, df: pd.DataFrame):
    if kind == "bgnbd":
        return BetaGeo().fit(df).params_
    if kind == "pareto":
        return ParetoNBD().fit(df).params_
    return GammaGamma().fit(df).params_


def theirs(kind: str, df: pd.DataFrame, tol: float | None = None):
    import lifetimes

    extra = {} if tol is None else {"tol": tol}
    with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):
        warnings.simplefilter("ignore")
        if kind == "bgnbd":
            f = lifetimes.BetaGeoFitter().fit(df["frequency"], df["recency"], df["T"], **extra)
        elif kind == "pareto":
            f = lifetimes.ParetoNBDFitter().fit(df["frequency"], df["recency"], df["T"], **extra)
        else:
            rep = df[df["frequency"] > 0]
            f = lifetimes.GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"], **extra)
    return f.params_.to_dict()


def theirs_timed(kind: str, df: pd.DataFrame, repeats: int):
    """lifetimes' time and params; when its default tolerance raises ConvergenceError (BFGS
    'precision loss' at the optimum), retry once with tol=1e-6 and say so."""
    from lifetimes.utils import ConvergenceError

    start = time.perf_counter()
    try:
        t, params = timed(lambda: theirs(kind, df), repeats)
        return t, params, ""
    except ConvergenceError:
        failed = time.perf_counter() - start
    t, params = timed(lambda: theirs(kind, df, tol=1e-6), 1)
    return t, params, f" (default tol: ConvergenceError after {failed:.1f} s; timed with tol=1e-6)"


def run_case(kind: str, df: pd.DataFrame, n: int, repeats_ours: int, repeats_theirs: int):
    t_ours, p_ours = timed(lambda: ours(kind, df), repeats_ours)
    t_theirs, p_theirs, note = theirs_timed(kind, df, repeats_theirs)
    diff = max(abs(p_ours[k] / v - 1.0) for k, v in p_theirs.items())
    cols = ["frequency", "recency", "T"] if kind != "gg" else ["frequency", "monetary_value"]
    sub = df if kind != "gg" else df[df["frequency"] > 0]
    distinct = len(sub[cols].drop_duplicates())
    name = {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD", "gg": "Gamma-Gamma"}[kind]
    row = (f"| {name} | {n:,} | {len(sub):,} | {distinct:,} | {t_ours:.2f} ({repeats_ours}) | "
           f"{t_theirs:.2f} ({repeats_theirs}){note} | {t_theirs / t_ours:.0f}x | {diff:.1e} |")
    print(row, flush=True)
    return t_ours, t_theirs, diff


def rhythm(sizes: tuple[int, ...], repeats: int, pareto_cnbd: bool = False) -> None:
    """The rhythm models against BG/NBD on the same MBG/CNBD-2 summaries (integer days).

    MBG/CNBD-k and BG/CNBD-k choose k (fitting k = 1, 2, ... until the likelihood falls twice),
    so their time includes every k tried. ``pareto_cnbd`` adds Pareto/CNBD-k (k chosen the same
    way; not an ``auto`` candidate).
    """
    from tierwise.models.pareto_cnbd import ParetoCNBD

    models = {**RHYTHM_MODELS, **({"Pareto/CNBD-k": ParetoCNBD} if pareto_cnbd else {})}
    print("| model | customers | distinct histories | seconds (runs) | vs BG/NBD | chosen k | "
          "k tried |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        T = np.random.default_rng(n).integers(1, 731, n)
        df = simulate_cnbd(CNBD_TRUE, T, seed=n + 1)
        distinct = len(df[["frequency", "recency", "T"]].drop_duplicates())
        base = None
        for name, cls in models.items():
            t, model = timed(lambda cls=cls, df=df: cls().fit(df), repeats)
            base = t if base is None else base
            tried = getattr(model, "log_likelihood_by_k_", {1: None})
            print(f"| {name} | {n:,} | {distinct:,} | {t:.2f} ({repeats}) | {t / base:.1f}x | "
                  f"{getattr(model, 'k_', 1)} | {len(tried)} |", flush=True)
    print(f"\nsimulated with MBG/CNBD-k {CNBD_TRUE} (integer days); python "
          f"{sys.version.split()[0]}, numpy {np.__version__}")


def _pareto_at(rev: str):
    """The ``ParetoNBD`` class of ``src/tierwise/models/pareto_nbd.py`` at git revision ``rev``,
    loaded next to this tree's other modules (so only that file differs)."""
    source = subprocess.run(["git", "show", f"{rev}:src/tierwise/models/pareto_nbd.py"],
                            capture_output=True, text=True, check=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location("tierwise.models._pareto_nbd_baseline",
                                                  handle.name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ParetoNBD


def pareto_against(rev: str, sizes: tuple[int, ...], repeats: int) -> None:
    """Pareto/NBD fit time of this tree against ``rev`` on the same data, runs interleaved."""
    from tierwise.demo.rhythm import generate_rhythm_business
    from tierwise.models.validation import calibration_holdout

    baseline = _pareto_at(rev)
    cases = [(f"simulated Pareto/NBD, {n:,}", simulate(n, "pareto", 20 + n), "days")
             for n in sizes]
    end = pd.Timestamp("2024-12-31")
    for kind in ("weekly_diners", "monthly_shoppers", "quarterly_b2b"):
        orders = generate_rhythm_business(kind, customers=3000, seed=0).orders
        summary = calibration_holdout(orders, end - pd.Timedelta(days=90), end).summary
        cases.append((f"{kind} seed 0, 3,000", summary, "weeks"))
    print(f"| data, customers | {rev} s | this tree s | this / {rev} | max rel. param diff |")
    print("|---|---:|---:|---:|---:|")
    for label, df, unit in cases:
        times = {"old": [], "new": []}
        fitted = {}
        for _ in range(repeats):
            for key, cls in (("old", baseline), ("new", ParetoNBD)):
                start = time.perf_counter()
                try:
                    fitted[key] = cls(time_unit=unit).fit(df).params_
                except Exception as exc:  # noqa: BLE001 - the baseline's refusal is the finding
                    fitted[key] = f"fails ({type(exc).__name__})"
                times[key].append(time.perf_counter() - start)
        old, new = (statistics.median(times[k]) for k in ("old", "new"))
        if isinstance(fitted["old"], dict) and isinstance(fitted["new"], dict):
            diff = f"{max(abs(fitted['new'][k] / v - 1) for k, v in fitted['old'].items()):.1e}"
            old_cell = f"{old:.2f}"
        else:
            diff, old_cell = "-", f"{fitted['old']} after {old:.2f}"
        print(f"| {label} | {old_cell} | {new:.2f} | {new / old:.2f} | {diff} |", flush=True)
    print(f"\nmedian of {repeats} interleaved runs; python {sys.version.split()[0]}, "
          f"numpy {np.__version__}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20k and 100k customers")
    parser.add_argument("--rhythm", action="store_true",
                        help="only the rhythm models (MBG/NBD, (M)BG/CNBD-k) against BG/NBD")
    parser.add_argument("--pareto-cnbd", action="store_true",
                        help="with --rhythm: add Pareto/CNBD-k (tierwise.models.pareto_cnbd)")
    parser.add_argument("--pareto", metavar="REV",
                        help="only Pareto/NBD: this tree against git revision REV")
    args = parser.parse_args(argv)
    small, large = (20_000, 100_000) if args.quick else (100_000, 1_000_000)
    if args.pareto:
        pareto_against(args.pareto, (small, large), 3)
        return 0
    if args.rhythm:
        rhythm((small, large), 3, args.pareto_cnbd)
        return 0
    print("| model | customers | rows fitted | distinct histories | tierwise s (runs) | "
          "lifetimes s (runs) | speed-up | max rel. param diff |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    bg_small, bg_large = simulate(small, "bgnbd", 0), simulate(large, "bgnbd", 10)
    run_case("bgnbd", bg_small, small, 5, 3)
    run_case("gg", bg_small, small, 5, 3)
    run_case("bgnbd", bg_large, large, 3, 1)
    run_case("gg", bg_large, large, 3, 1)
    run_case("pareto", simulate(small, "pareto", 20), small, 3, 1)
    print(f"\nsimulated with BG/NBD {BG_TRUE}, Pareto/NBD {PNBD_TRUE}, Gamma-Gamma {GG_TRUE}; "
          f"python {sys.version.split()[0]}, numpy {np.__version__}, pandas {pd.__version__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

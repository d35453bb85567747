"""Holdout accuracy of every purchase model on the seeded weekly-diner business.

Run from the repository root::

    PYTHONPATH=src /work/main/.venv/bin/python bench/rhythm_accuracy.py

The orders come from ``tierwise.demo.rhythm`` (3,000 weekly diners per seed, 2023-2024), not from
the models' own simulators. For holdouts of 90 and 184 days ending 2024-12-31 and four seeds it
prints each model's holdout MAE of purchases per customer, auto's choice and the best rhythm
model's gain over the better of BG/NBD and Pareto/NBD: once for the diners as generated (4 % of
gaps stretched by a holiday or a busy spell) and once for the same diners on a strict weekly
rhythm (no such breaks), to show how much of the rhythm models' edge the breaks take away.
``--quick`` runs only the 90-day holdout. ``--pause`` adds MBG/CNBD-k with pauses
(``tierwise.models.pause``, not a candidate of ``auto``) fitted on the same split, and its gain
over the better Poisson model; ``--pareto-cnbd`` adds Pareto/CNBD-k without and with a
trial-only share (``tierwise.models.pareto_cnbd``) the same way; ``--per-customer-k`` adds
MBG/CNBD-k with each customer's own ``k`` (``tierwise.models.cnbd_mix``, "mix") the same way;
``--kind monthly_shoppers`` runs another business;
``--generated-only`` skips the strict-rhythm table; ``--errors`` prints MAE, RMSE, total bias
and log-likelihood of MBG/CNBD-k and the Pareto/CNBD-k models on the diners as generated; ``--cdnow`` instead prints the holdout
MAE of Pareto/NBD, MBG/CNBD-k, MBG/CNBD-k with pauses, the Pareto/CNBD-k models and MBG/CNBD-k
with a per-customer ``k`` on the CDNOW sample (39 + 39 weeks).
"""

from __future__ import annotations

import dataclasses
import sys

import pandas as pd

from tierwise.demo.rhythm import BUSINESS_KINDS, generate_rhythm_business
from tierwise.models import select_model
from tierwise.models.cnbd_mix import MBGCNBDMix
from tierwise.models.pareto_cnbd import ParetoCNBD, ParetoCNBDTrial
from tierwise.models.pause import MBGCNBDPause
from tierwise.models.validation import calibration_holdout, holdout_errors

MODELS = ("bgnbd", "pareto", "mbgnbd", "bgcnbd", "mbgcnbd")
EXTRAS = {"pause": MBGCNBDPause, "pcnbd": ParetoCNBD, "pcnbdq": ParetoCNBDTrial,
          "mix": MBGCNBDMix}


def table(kind, holds: tuple[int, ...], extras: tuple[str, ...] = ()) -> None:
    end = pd.Timestamp("2024-12-31")
    extra = "".join(f" {e} | {e} gain |" for e in extras)
    print("| holdout days | seed | " + " | ".join(MODELS) + " | blend | auto picks | gain |"
          + extra)
    print("|---:|---:|" + "---:|" * len(MODELS) + "---|---|---:|" + "---:|---:|" * len(extras))
    for hold in holds:
        for seed in range(4):
            orders = generate_rhythm_business(kind, customers=3000, seed=seed).orders
            sel = select_model(orders, end - pd.Timedelta(days=hold), end, time_unit="weeks")
            mae = sel.metrics["purchases_mae"].astype(float)
            cells = ["fails" if pd.isna(mae[m]) else f"{mae[m]:.3f}" for m in MODELS]
            blend = (f"{sel.blend['model']} {sel.blend['purchases_mae']:.3f}" if sel.blend
                     else "not tried")
            rhythm = [m for m in MODELS if m not in ("bgnbd", "pareto", "mbgnbd")]
            poisson = mae[["bgnbd", "pareto"]].min()
            gain = 1 - mae[rhythm].min() / poisson
            tail = ""
            if extras:
                ch = calibration_holdout(orders, end - pd.Timedelta(days=hold), end)
            for name in extras:
                e_mae = holdout_errors(EXTRAS[name](time_unit="weeks").fit(ch.summary),
                                       ch).aggregate["purchases_mae"]
                tail += f" {e_mae:.3f} | {1 - e_mae / poisson:.1%} |"
            print(f"| {hold} | {seed} | " + " | ".join(cells)
                  + f" | {blend} | {sel.chosen} | {gain:.1%} |" + tail, flush=True)


def errors(kind, holds: tuple[int, ...]) -> None:
    """MAE, RMSE and total bias of MBG/CNBD-k and the two Pareto/CNBD-k models side by side."""
    from tierwise.models import MBGCNBD

    models = {"mbgcnbd": MBGCNBD, "pcnbd": ParetoCNBD, "pcnbdq": ParetoCNBDTrial}
    end = pd.Timestamp("2024-12-31")
    print("| holdout days | seed | model | k | MAE | RMSE | total bias | log-likelihood |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|")
    for hold in holds:
        for seed in range(4):
            orders = generate_rhythm_business(kind, customers=3000, seed=seed).orders
            ch = calibration_holdout(orders, end - pd.Timedelta(days=hold), end)
            for name, cls in models.items():
                fitted = cls(time_unit="weeks").fit(ch.summary)
                agg = holdout_errors(fitted, ch).aggregate
                print(f"| {hold} | {seed} | {name} | {fitted.k_} | {agg['purchases_mae']:.3f} | "
                      f"{agg['purchases_rmse']:.3f} | "
                      f"{agg['purchases_total_relative_error']:+.1%} | "
                      f"{fitted.log_likelihood_:.1f} |", flush=True)


def cdnow() -> None:
    import os

    import lifetimes

    from tierwise.models import MBGCNBD, ParetoNBD

    path = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "CDNOW_sample.txt")
    raw = pd.read_csv(path, sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "quantity", "amount"])
    orders = pd.DataFrame({"customer_id": raw["customer_id"],
                           "ordered_at": pd.to_datetime(raw["date"].astype(str)),
                           "amount": raw["amount"]})
    ch = calibration_holdout(orders, "1997-09-30", "1998-06-30")
    print("| model | holdout MAE | params |\n|---|---:|---|")
    for model in (ParetoNBD, MBGCNBD, MBGCNBDPause, ParetoCNBD, ParetoCNBDTrial, MBGCNBDMix):
        fitted = model(time_unit="weeks").fit(ch.summary)
        mae = holdout_errors(fitted, ch).aggregate["purchases_mae"]
        params = ", ".join(f"{k} {v:.4g}" for k, v in fitted.params_.items())
        print(f"| {model.__name__} | {mae:.4f} | {params} |", flush=True)


def main() -> int:
    if "--cdnow" in sys.argv:
        cdnow()
        return 0
    holds = (90,) if "--quick" in sys.argv else (90, 184)
    name = sys.argv[sys.argv.index("--kind") + 1] if "--kind" in sys.argv else "weekly_diners"
    kind = BUSINESS_KINDS[name]
    if "--errors" in sys.argv:
        errors(kind, holds)
        return 0
    extras = (("pause",) if "--pause" in sys.argv else ()) + (
        ("pcnbd", "pcnbdq") if "--pareto-cnbd" in sys.argv else ()) + (
        ("mix",) if "--per-customer-k" in sys.argv else ())
    print(f"### {name} as generated (breaks in {kind.break_prob:.0%} of gaps)\n")
    table(kind, holds, extras)
    if "--generated-only" not in sys.argv:
        print(f"\n### the same {name} on a strict rhythm (no breaks)\n")
        table(dataclasses.replace(kind, break_prob=0.0), holds, extras)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

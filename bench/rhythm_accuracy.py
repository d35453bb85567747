"""Holdout accuracy of every purchase model on the seeded weekly-diner business.

Run from the repository root::

    PYTHONPATH=src /work/main/.venv/bin/python bench/rhythm_accuracy.py

The orders come from ``tierwise.demo.rhythm`` (3,000 weekly diners per seed, 2023-2024), not from
the models' own simulators. For holdouts of 90 and 184 days ending 2024-12-31 and four seeds it
prints each model's holdout MAE of purchases per customer, auto's choice and the best rhythm
model's gain over the better of BG/NBD and Pareto/NBD: once for the diners as generated (4 % of
gaps stretched by a holiday or a busy spell) and once for the same diners on a strict weekly
rhythm (no such breaks), to show how much of the rhythm models' edge the breaks take away.
``--quick`` runs only the 90-day holdout.
"""

from __future__ import annotations

import dataclasses
import sys

import pandas as pd

from tierwise.demo.rhythm import BUSINESS_KINDS, generate_rhythm_business
from tierwise.models import select_model

MODELS = ("bgnbd", "pareto", "mbgnbd", "bgcnbd", "mbgcnbd")


def table(kind, holds: tuple[int, ...]) -> None:
    end = pd.Timestamp("2024-12-31")
    print("| holdout days | seed | " + " | ".join(MODELS) + " | blend | auto picks | gain |")
    print("|---:|---:|" + "---:|" * len(MODELS) + "---|---|---:|")
    for hold in holds:
        for seed in range(4):
            orders = generate_rhythm_business(kind, customers=3000, seed=seed).orders
            sel = select_model(orders, end - pd.Timedelta(days=hold), end, time_unit="weeks")
            mae = sel.metrics["purchases_mae"].astype(float)
            cells = ["fails" if pd.isna(mae[m]) else f"{mae[m]:.3f}" for m in MODELS]
            blend = (f"{sel.blend['model']} {sel.blend['purchases_mae']:.3f}" if sel.blend
                     else "not tried")
            gain = 1 - mae[["mbgcnbd", "bgcnbd"]].min() / mae[["bgnbd", "pareto"]].min()
            print(f"| {hold} | {seed} | " + " | ".join(cells)
                  + f" | {blend} | {sel.chosen} | {gain:.1%} |", flush=True)


def main() -> int:
    holds = (90,) if "--quick" in sys.argv else (90, 184)
    diners = BUSINESS_KINDS["weekly_diners"]
    print("### weekly diners as generated (breaks in 4 % of gaps)\n")
    table(diners, holds)
    print("\n### the same diners on a strict weekly rhythm (no breaks)\n")
    table(dataclasses.replace(diners, break_prob=0.0), holds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: Gamma-Gamma that fails gracefully, checked on CDNOW master's holdout.

Run from the repository root::

    PYTHONPATH=src /work/main/.venv/bin/python bench/value_fallbacks.py

CDNOW master (23,570 customers, in the ``lifetimes==0.11.3`` wheel) is split at 1997-09-30
(calibration) and 1998-06-30 (holdout end). BG/NBD is fitted on the calibration summary; the
holdout spend is predicted as expected purchases times spend per purchase, three ways:

* **before**: the old behaviour. One repeat buyer with $0 repeat spend stops the Gamma-Gamma fit
  for everyone, so every customer gets their own mean spend (one-time buyers the repeat buyers'
  mean);
* **after**: Gamma-Gamma fitted on the repeat buyers with positive spend; the repeat buyers with
  zero or negative repeat spend keep their own mean (0) (what ``fit_value_models`` does);
* **after, population mean for $0**: the same fit, but the $0 repeat buyers get the population
  mean spend ``p v / (q - 1)``, to check the choice of fallback.

Reported: total predicted vs actual holdout spend, the mean absolute error per customer, and the
same by calibration frequency (where Gamma-Gamma's shrinkage matters: few repeat purchases).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd

from tierwise.models import BetaGeo, GammaGamma, calibration_holdout, fit_value_models
from tierwise.models.clv import _fallback_spend
from tierwise.models.validation import frequency_bucket

CALIBRATION_END, HOLDOUT_END = "1997-09-30", "1998-06-30"


def cdnow_master() -> pd.DataFrame:
    import lifetimes

    path = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "CDNOW_master.txt")
    raw = pd.read_csv(path, sep=r"\s+", header=0,
                      names=["customer_id", "date", "quantity", "amount"])
    return pd.DataFrame({"customer_id": raw["customer_id"],
                         "ordered_at": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d"),
                         "amount": raw["amount"]})


def main() -> int:
    ch = calibration_holdout(cdnow_master(), CALIBRATION_END, HOLDOUT_END)
    s = ch.summary
    x = s["frequency"].to_numpy(float)
    zero = (x > 0) & (s["monetary_value"].to_numpy() <= 0)
    print(f"{len(s)} customers, {int((x > 0).sum())} repeat buyers, {int(zero.sum())} of them "
          f"with zero repeat spend; holdout {ch.holdout_days} days")
    try:
        GammaGamma().fit(s[x > 0])
        old_gg_ok = "fits"
    except Exception:  # noqa: BLE001 - only the old code raised here
        old_gg_ok = "fails"
    bg = BetaGeo().fit(s)
    purchases = bg.expected_purchases(s, ch.holdout_days).to_numpy()
    result = fit_value_models(s[["frequency", "recency", "T", "monetary_value"]], "bgnbd")
    gg = result.spend_model
    after = result.customers["expected_spend"].to_numpy()
    population = after.copy()
    population[zero] = gg.population_mean_spend()
    ways = {"before (own mean for all)": _fallback_spend(s, x, None),
            "after (GG, own mean for $0)": after,
            "after, population mean for $0": population}
    actual = s["spend_holdout"].to_numpy()
    print(f"Gamma-Gamma now {old_gg_ok} on the repeat buyers with positive spend: "
          f"p={gg.params_['p']:.3f} q={gg.params_['q']:.3f} v={gg.params_['v']:.3f}; "
          f"{gg.n_excluded_} left out; run confidence {result.info['confidence']}")
    print(f"\nactual holdout spend: {actual.sum():,.0f}")
    print("| spend per purchase | predicted holdout spend | ratio to actual | MAE per customer |"
          " MAE, $0 repeat buyers |")
    print("|---|---|---|---|---|")
    for name, per in ways.items():
        pred = purchases * per
        print(f"| {name} | {pred.sum():,.0f} | {pred.sum() / actual.sum():.3f} | "
              f"{np.abs(pred - actual).mean():.2f} | {np.abs(pred - actual)[zero].mean():.2f} |")
    bucket = frequency_bucket(s["frequency"])
    print("\nby calibration frequency: predicted / actual holdout spend")
    print("| frequency | customers | actual | " + " | ".join(ways) + " |")
    print("|---|---|---|" + "---|" * len(ways))
    for b in sorted(bucket.unique(), key=lambda v: int(v.rstrip("+"))):
        m = (bucket == b).to_numpy()
        cells = " | ".join(f"{(purchases * per)[m].sum() / actual[m].sum():.3f}"
                           for per in ways.values())
        print(f"| {b} | {int(m.sum())} | {actual[m].sum():,.0f} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

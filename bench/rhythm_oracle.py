"""How low can the holdout MAE go at all on the seeded rhythm businesses? The oracle's figure.

Run from the repository root::

    PYTHONPATH=src /work/main/.venv/bin/python bench/rhythm_oracle.py [--quick] [--kind monthly_shoppers]
    PYTHONPATH=src /work/main/.venv/bin/python bench/rhythm_oracle.py --ablate [--quick]

The oracle knows what no model can: each customer's own parameters as the generator drew them
(mean gap, gamma shape ``k`` of the gaps, leaving rate, whether a trial-only customer) and the
generator's process itself (breaks included). It does not know the moment a customer leaves nor
the future gaps. Its forecast is the exact conditional expectation of the holdout purchase days
given the customer's observed history (the last purchase and the silence since), computed by
Monte Carlo (``DRAWS`` futures per customer, rejection on "no purchase between the last purchase
and the end of calibration"). Its MAE is a floor for any model's MAE of expected values on this
data (up to Monte Carlo noise): if even the oracle gains less than 10 % over BG/NBD, no model can.

``--ablate`` asks which of the rhythm oracle's pieces of knowledge carry its edge: it reruns the
rhythm oracle (``ABLATE_DRAWS`` futures per customer) with every customer's ``k`` replaced by the
business's, without breaks in its forecast, and without breaks but with each mean gap stretched
by the breaks' average extra length (so the forecast rate is right again), and finally without
breaks and with the mean gap no longer known but drawn from its posterior given the customer's
own calibration gaps (:func:`posterior_gaps`: the generator's lognormal prior, gamma gaps of the
customer's true ``k``, breaks folded into the gap as a model has to), next to MBG/CNBD-k and
MBG/CNBD-k with a per-customer ``k`` (``tierwise.models.cnbd_mix``).
"""

from __future__ import annotations

import sys
from datetime import date

import numpy as np
import pandas as pd

from tierwise.demo.rhythm import BUSINESS_KINDS, BusinessKind, generate_rhythm_business
from tierwise.models import select_model

DRAWS = 2000
ABLATE_DRAWS = 1000
START = date(2023, 1, 1)


def true_rates(b: BusinessKind, customers: int, horizon: float, seed: int,
               acquire_share: float = 0.75) -> np.ndarray:
    """The leaving rates the generator drew (its random stream replayed to that point)."""
    rng = np.random.default_rng(seed)
    rng.uniform(0.0, horizon * acquire_share, customers)
    rng.random(customers)
    rng.normal(0.0, b.gap_spread, customers)
    rng.normal(0.0, b.k_spread, customers)
    return rng.gamma(b.life_shape, 1.0 / (b.life_shape * b.life_mean_days), customers)


def _gaps(rng, b: BusinessKind, mean_gap, k):
    gap = rng.gamma(k, mean_gap / k)
    brk = rng.random(gap.shape) < b.break_prob
    gap = gap + np.where(brk, mean_gap * rng.uniform(2.0, 4.0, gap.shape), 0.0)
    return np.maximum(gap, 0.5)


def oracle_forecast(b: BusinessKind, last, mean_gap, k, rate, trial, C: float, H: float,
                    seed: int = 0, draws: int = DRAWS) -> np.ndarray:
    """E[purchase days in (C, H] | last purchase at ``last``, none in (last, C]] per customer."""
    rng = np.random.default_rng(1000 + seed)
    n = len(last)
    shape = (n, draws)
    mg = mean_gap if np.ndim(mean_gap) == 2 else np.repeat(mean_gap[:, None], draws, 1)
    kk = np.repeat(k[:, None], draws, 1)
    rate = rate if np.ndim(rate) == 2 else rate[:, None]
    leave = last[:, None] + rng.exponential(1.0, shape) / rate
    t = last[:, None] + _gaps(rng, b, mg, kk)
    ok = ~((t <= C) & (t < leave))            # consistent with no purchase in (last, C]
    count = np.zeros(shape)
    live = ok & (t < leave) & (t < H)
    while live.any():
        count += live & (t > C)
        t = np.where(live, t + _gaps(rng, b, mg, kk), t)
        live = live & (t < leave) & (t < H)
    n_ok = ok.sum(axis=1)
    mean = np.where(n_ok > 0, (count * ok).sum(axis=1) / np.maximum(n_ok, 1), 0.0)
    return np.where(trial, 0.0, mean)


def posterior_rates(b: BusinessKind, tenure: np.ndarray, draws: int = DRAWS,
                    seed: int = 0) -> np.ndarray:
    """Leaving rates drawn from their population prior updated by the tenure survived.

    The rate is ``Gamma(life_shape, life_shape * life_mean_days)`` across customers and a
    customer seen buying ``tenure`` days after the first purchase has survived that long, so
    the posterior is ``Gamma(life_shape, life_shape * life_mean_days + tenure)`` (conjugate).
    """
    rng = np.random.default_rng(2000 + seed)
    return rng.gamma(b.life_shape, 1.0, (len(tenure), draws)) / (
        b.life_shape * b.life_mean_days + tenure[:, None])


def run(kind: str, hold: int, seed: int, customers: int = 3000) -> dict:
    b = BUSINESS_KINDS[kind]
    end = pd.Timestamp("2024-12-31")
    data = generate_rhythm_business(kind, customers=customers, seed=seed)
    horizon = float((end.date() - START).days + 1)
    cal = end - pd.Timedelta(days=hold)
    sel = select_model(data.orders, cal, end, candidates=("bgnbd", "pareto", "mbgcnbd"),
                       time_unit="weeks")
    s = sel.reports["bgnbd"].per_customer
    truth = data.truth.set_index("customer_id")
    truth["rate"] = true_rates(b, customers, horizon, seed)
    truth = truth.loc[s.index]
    o = data.orders
    o = o[o["ordered_at"] < cal + pd.Timedelta(days=1)]
    last_day = ((o.groupby("customer_id")["ordered_at"].max() - pd.Timestamp(START))
                .dt.total_seconds() / 86400.0).loc[s.index].to_numpy()
    C = float((cal - pd.Timestamp(START)).days + 1)
    H = horizon
    pred = oracle_forecast(b, last_day, truth["mean_gap_days"].to_numpy(),
                           truth["k"].to_numpy(), truth["rate"].to_numpy(),
                           truth["one_and_done"].to_numpy(), C, H, seed)
    # the second oracle knows each customer's rhythm (mean gap, k, trial-only or not) but not
    # the leaving rate: that it has only as the population's, updated by the tenure survived
    tenure = last_day - truth["first_day"].to_numpy()
    pred_rhythm = oracle_forecast(b, last_day, truth["mean_gap_days"].to_numpy(),
                                  truth["k"].to_numpy(), posterior_rates(b, tenure, seed=seed),
                                  truth["one_and_done"].to_numpy(), C, H, seed)
    actual = s["purchases_actual"].to_numpy()
    mae = sel.metrics["purchases_mae"].astype(float)
    return {"kind": kind, "hold": hold, "seed": seed, "bgnbd": mae["bgnbd"],
            "pareto": mae["pareto"], "mbgcnbd": mae["mbgcnbd"],
            "oracle": float(np.mean(np.abs(pred - actual))),
            "oracle_rhythm": float(np.mean(np.abs(pred_rhythm - actual))),
            "oracle_bias": float(pred.sum() / actual.sum() - 1.0)}


def posterior_gaps(b: BusinessKind, x, span, k, draws: int, seed: int = 0) -> np.ndarray:
    """Mean gaps drawn from their posterior given ``x`` gaps summing to ``span`` days.

    Prior: the generator's lognormal around the business's gap; likelihood: ``x`` gamma gaps of
    shape ``k`` and mean ``m`` (``m**(-k x) exp(-k span / m)``), breaks not modelled. Sampling
    importance resampling from ``8 draws`` prior draws per customer. The silence since the last
    purchase is accounted for later, by :func:`oracle_forecast`'s rejection step.
    """
    rng = np.random.default_rng(3000 + seed)
    out = np.empty((len(x), draws))
    for lo in range(0, len(x), 500):  # in blocks: 8 x draws prior draws per customer
        xs, ss, ks = x[lo:lo + 500], span[lo:lo + 500], k[lo:lo + 500]
        n = len(xs)
        prior = b.gap_days * np.exp(rng.normal(0.0, b.gap_spread, (n, 8 * draws)))
        log_w = -(ks * xs)[:, None] * np.log(prior) - (ks * ss)[:, None] / prior
        cdf = np.cumsum(np.exp(log_w - log_w.max(axis=1, keepdims=True)), axis=1)
        rows = np.arange(n)[:, None]
        flat = (cdf / cdf[:, -1:] + rows).ravel()  # rows side by side on one increasing axis
        pos = np.searchsorted(flat, (rng.random((n, draws)) + rows).ravel()).reshape(n, draws)
        idx = np.minimum(pos - rows * 8 * draws, 8 * draws - 1)
        out[lo:lo + n] = np.take_along_axis(prior, idx, axis=1)
    return out


def ablate(kind: str, hold: int, seed: int, customers: int = 3000) -> dict:
    """Holdout MAE of the rhythm oracle with one piece of its knowledge taken away at a time."""
    import dataclasses

    from tierwise.models import MBGCNBD
    from tierwise.models.cnbd_mix import MBGCNBDMix
    from tierwise.models.validation import calibration_holdout, holdout_errors

    b = BUSINESS_KINDS[kind]
    end = pd.Timestamp("2024-12-31")
    cal = end - pd.Timedelta(days=hold)
    data = generate_rhythm_business(kind, customers=customers, seed=seed)
    ch = calibration_holdout(data.orders, cal, end)
    s = ch.summary
    truth = data.truth.set_index("customer_id").loc[s.index]
    o = data.orders[data.orders["ordered_at"] < cal + pd.Timedelta(days=1)]
    last = ((o.groupby("customer_id")["ordered_at"].max() - pd.Timestamp(START))
            .dt.total_seconds() / 86400.0).loc[s.index].to_numpy()
    C = float((cal - pd.Timestamp(START)).days + 1)
    H = float((end.date() - START).days + 1)
    mean_gap, k = truth["mean_gap_days"].to_numpy(), truth["k"].to_numpy()
    trial = truth["one_and_done"].to_numpy()
    rates = posterior_rates(b, last - truth["first_day"].to_numpy(), ABLATE_DRAWS, seed)
    actual = s["purchases_holdout"].to_numpy()
    no_breaks = dataclasses.replace(b, break_prob=0.0)
    stretch = 1.0 + b.break_prob * 3.0  # a break adds 2-4 mean gaps, 3 on average
    variants = {
        "rhythm oracle": (b, mean_gap, k),
        "business k": (b, mean_gap, np.full_like(k, b.k)),
        "no breaks": (no_breaks, mean_gap, k),
        "no breaks, stretched gap": (no_breaks, mean_gap * stretch, k),
        "no breaks, gap from data": (no_breaks, posterior_gaps(
            b, s["frequency"].to_numpy(), s["recency"].to_numpy(), k, ABLATE_DRAWS, seed), k),
    }
    out = {}
    for name, (bb, mg, kk) in variants.items():
        pred = oracle_forecast(bb, last, mg, kk, rates, trial, C, H, seed, ABLATE_DRAWS)
        out[name] = (float(np.mean(np.abs(pred - actual))), float(pred.sum() / actual.sum() - 1))
    for name, model in (("mbgcnbd", MBGCNBD), ("mix", MBGCNBDMix)):
        agg = holdout_errors(model(time_unit="weeks").fit(s), ch).aggregate
        out[name] = (agg["purchases_mae"], agg["purchases_total_relative_error"])
    return out


def main_ablate(kind: str, holds: tuple[int, ...]) -> None:
    names = ("mbgcnbd", "mix", "rhythm oracle", "business k", "no breaks",
             "no breaks, stretched gap", "no breaks, gap from data")
    print(f"### {kind}: which knowledge carries the rhythm oracle's edge (MAE, total bias)\n")
    print("| holdout days | seed | " + " | ".join(names) + " |")
    print("|---:|---:|" + "---:|" * len(names))
    for hold in holds:
        for seed in range(4):
            r = ablate(kind, hold, seed)
            print(f"| {hold} | {seed} | " + " | ".join(
                f"{r[n][0]:.3f} ({r[n][1]:+.1%})" for n in names) + " |", flush=True)


def main() -> int:
    kind = sys.argv[sys.argv.index("--kind") + 1] if "--kind" in sys.argv else "weekly_diners"
    holds = (90,) if "--quick" in sys.argv else (90, 184)
    if "--ablate" in sys.argv:
        main_ablate(kind, holds)
        return 0
    print(f"### {kind}: oracle (true parameters and process) against the fitted models\n")
    print("| holdout days | seed | bgnbd | pareto | mbgcnbd | oracle | oracle bias | "
          "rhythm oracle | mbgcnbd gain | oracle gain | rhythm oracle gain |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for hold in holds:
        for seed in range(4):
            r = run(kind, hold, seed)
            base = min(r["bgnbd"], r["pareto"])
            print(f"| {hold} | {seed} | {r['bgnbd']:.3f} | {r['pareto']:.3f} | "
                  f"{r['mbgcnbd']:.3f} | {r['oracle']:.3f} | {r['oracle_bias']:+.1%} | "
                  f"{r['oracle_rhythm']:.3f} | {1 - r['mbgcnbd'] / base:.1%} | "
                  f"{1 - r['oracle'] / base:.1%} | {1 - r['oracle_rhythm'] / base:.1%} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

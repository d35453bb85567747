"""Benchmark: does the advice hold? The backtest of issue 12 on CDNOW and on seeded rhythm data.

Run from the repository root::

    PYTHONPATH=src /work/main/.venv/bin/python bench/backtest.py            # CDNOW + weekly + monthly
    PYTHONPATH=src /work/main/.venv/bin/python bench/backtest.py --quick    # smaller seeded sets

Each data set is ingested into a fresh store with the default config and backtested with the
library call behind ``tierwise backtest`` (:func:`tierwise.backtest.backtest`): the product is
replayed at the replay date from the orders up to it, and what it said is compared with the
purchases in the horizon since.

* CDNOW master (the ``lifetimes`` wheel): advice of 1997-09-30, compared over the 90-day policy
  horizon (to 1997-12-29) and over the whole 39 weeks to 1998-06-30.
* ``tierwise.demo.rhythm`` weekly diners and monthly shoppers (seed 12, two years to 2024-12-31):
  advice of 90 and 273 days before the end; the monthly shoppers once more with no purchase model
  trusted, so that the policies rest on the rhythm's learnt curve.

The criteria of issue 12 are printed beside the figures: the customers told "do not contact" and
those told "archive" bought again at <= 10 % within 90 days and <= 20 % within 39 weeks; the
policies are ordered maintain >= wake up >= do not contact; the 90-day likelihood is within 0.05
of the actual share in every decile. Where the policies rest on the rhythm (no purchase model
can be trusted), the probability they used (the rhythm's curve learnt one horizon earlier,
:mod:`tierwise.lifecycle.rhythm_curve`) is checked per decile too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
from scipy.stats import binomtest

from tierwise.backtest import backtest
from tierwise.config import load_config
from tierwise.pipeline import ingest

def cdnow_config(root: Path) -> Path:
    import lifetimes

    src = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_master.txt"
    f = pd.read_csv(src, sep=r"\s+", header=0, names=["customer_id", "date", "n", "amount"],
                    dtype={"date": str})
    f["ordered_at"] = pd.to_datetime(f["date"], format="%Y%m%d").dt.strftime("%Y-%m-%d")
    f["order_id"] = range(len(f))
    f[["order_id", "customer_id", "ordered_at", "amount"]].to_csv(root / "orders.csv",
                                                                   index=False)
    config = root / "tierwise.toml"
    config.write_text('name = "CDNOW"\ncurrency = "USD"\ntimezone = "UTC"\n'
                      '[sources.orders]\npath = "orders.csv"\n[store]\npath = "tierwise.duckdb"\n',
                      encoding="utf-8")
    return config


def rhythm_config(root: Path, kind: str, customers: int) -> Path:
    from tierwise.demo.rhythm import write_rhythm_business

    return write_rhythm_business(root / kind, kind, customers=customers, seed=12,
                                 start=dt.date(2023, 1, 1), end=dt.date(2024, 12, 31))


def report(name: str, config: Path, as_of: dt.date, horizon: int, *, policy_horizon: bool,
           distrust_models: bool = False) -> dict:
    cfg = load_config(config)
    if distrust_models:  # no purchase model trusted: the policies rest on the rhythm's curve
        cfg = cfg.model_copy(update={"value": cfg.value.model_copy(
            update={"min_repeat_buyers": 10**9})})
        name += ", no purchase model trusted ([value] min_repeat_buyers out of reach)"
    result = backtest(cfg, as_of=as_of, horizon_days=horizon)
    meta, g = result.meta, result.groups
    print(f"\n### {name}: advice of {meta.get('replay_as_of')}, {horizon} days on "
          f"(mode {meta.get('activity_mode')}, policy basis {meta.get('policy_basis')})\n")
    if meta["status"] != "ran":
        print(meta["headline_en"])
        return {}
    print("| by | group | customers | bought again | share | expected | revenue |\n"
          "|---|---|---:|---:|---:|---:|---:|")
    for r in g[g["dimension"].isin(["all", "activity_policy", "activity_state"])].itertuples():
        expected = "-" if pd.isna(r.expected_share) else f"{100 * r.expected_share:.1f} %"
        print(f"| {r.dimension} | {r.group} | {r.customers:,} | {r.bought_again:,} | "
              f"{100 * r.bought_again_share:.1f} % | {expected} | {r.revenue:,.0f} |")
    c = meta["checks"]
    limit = 0.10 if policy_horizon else 0.20
    shares = c["policy_share"]
    silenced = {p: shares[p] for p in ("do_not_contact", "archive") if p in shares}
    print("\n| probability | decile | customers | predicted | actual | gap |\n"
          "|---|---:|---:|---:|---:|---:|")
    for r in result.calibration.itertuples():
        print(f"| {r.probability} | {r.decile} | {r.customers:,} | {100 * r.predicted:.1f} % | "
              f"{100 * r.actual:.1f} % | {r.gap:+.3f} |")
    counts = c["policy_customers"]
    # a group of a few customers cannot show a share either way (1 of 9 is 11 %, with a 95 %
    # interval of 0.3-48 %): the verdict says so instead of passing or failing it
    verdicts = {f"{p} <= {limit:.0%}": (v <= limit if counts[p] >= MIN_GROUP else "too few")
                for p, v in silenced.items()}
    verdicts["maintain >= wake up >= do not contact"] = bool(c["policies_ordered"])
    if policy_horizon and c["calibration_max_gap"] is not None:
        verdicts["likelihood within 0.05 per decile"] = c["calibration_max_gap"] <= 0.05
    if c.get("policy_calibration_max_gap") is not None:
        verdicts["policy probability (rhythm curve) within 0.05 per decile"] = \
            c["policy_calibration_max_gap"] <= 0.05
    print("\n" + "; ".join(f"{k}: {_verdict(v)}" for k, v in verdicts.items()))
    bought = dict(zip(g.loc[g["dimension"] == "activity_policy", "group"],
                      g.loc[g["dimension"] == "activity_policy", "bought_again"]))
    parts = [f"{p} {100 * v:.1f} % of {counts[p]:,} ({_interval(bought[p], counts[p])})"
             for p, v in silenced.items()]
    policy_gap = c.get("policy_calibration_max_gap")
    print(f"(silenced: {', '.join(parts)}; largest calibration gap "
          f"{c['calibration_max_gap']:.3f}"
          + ("" if policy_gap is None else f", of the policies' probability {policy_gap:.3f}")
          + ")")
    return verdicts


#: Fewest customers in a silenced group for its share to be judged against the target.
MIN_GROUP = 30


def _verdict(value: bool | str) -> str:
    if isinstance(value, str):
        return f"{value} to tell"
    return "yes" if value else "NO"


def _interval(k: int, n: int) -> str:
    """The exact (Clopper-Pearson) 95 % interval of a share of k in n: how much a small group says."""
    low, high = binomtest(int(k), int(n)).proportion_ci(0.95)
    return f"95 % CI {100 * low:.1f}-{100 * high:.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 customers per seeded set")
    args = parser.parse_args()
    customers = 2000 if args.quick else 5000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "cdnow").mkdir()
        sets = [("CDNOW master", cdnow_config(root / "cdnow"), dt.date(1998, 6, 30),
                 dt.date(1997, 9, 30))]
        for kind in ("weekly_diners", "monthly_shoppers"):
            end = dt.date(2024, 12, 31)
            sets.append((f"seeded {kind} ({customers:,} customers)",
                         rhythm_config(root, kind, customers), end, end - dt.timedelta(273)))
        for name, config, end, replay in sets:
            ingest(load_config(config))
            report(name, config, replay + dt.timedelta(days=90), 90, policy_horizon=True)
            report(name, config, end, (end - replay).days, policy_horizon=False)
            if "monthly" in name:
                report(name, config, replay + dt.timedelta(days=90), 90, policy_horizon=True,
                       distrust_models=True)


if __name__ == "__main__":
    main()

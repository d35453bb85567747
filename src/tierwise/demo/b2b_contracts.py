"""The B2B demo's contracts (``contracts.csv``) and costs to serve (``costs.csv``).

Drawn from their own seeded generator (``seed + 3041``), after the accounts and orders: not a
number of the accounts', orders' or survey's stream is taken, so those files stay byte-identical.
The files carry Chinese headers (合同编号, 客户编号 ... / 客户编号, 细分, 月份, 费用类型, 金额),
months written as ``2026-07`` and cost types as words (拜访, 折扣, 服务, 物流), as real exports do.

Yearly supply contracts go to the larger accounts (the top 40 % by revenue in the last year),
renewed year after year; an account's last contract lapses (ended in the past year, not renewed)
with a chance that falls with its size (10 % for the top tenth, 40 % for the rest), so the renewal
rate differs by tier. Every other account's current contract ends more than 100 days after
``end``, except the planted ones. Costs are monthly, over the P&L's year and the month before it:
visits, discounts, service and logistics in proportion to each contracted account's orders,
plus the public-sector and manufacturing segments' own costs (tenders, a regional warehouse).
Planted, and named in the manifest:

* ``renewal_due``: three likely key accounts (a quiet big account, a fast-growing one and the
  core one below) whose current contract ends 20, 45 and 75 days after ``end``;
* ``core_below_cost``: the largest account with growth potential 3 outside the quiet three (a
  core key account): its costs to serve in the last year are 1.3 times its gross margin, so its
  margin after cost to serve is negative (flagged: core accounts aim for optimal margins);
* ``strategic_break_even``: a fast-growing account (strategic) outside both costed segments whose
  costs take 98.5 % of its gross margin: near break-even, which a strategic account may be;
* ``contracts_bad`` / ``costs_bad``: a contract that ends before it starts, a cost of an
  unknown kind (招待) and a cost of an unknown account: three rows the rejects files show.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

#: ``[[segments.segment]]`` rules of the demo config this module's segment costs follow.
MANUFACTURING = ("汽车零部件", "电子制造", "机械设备", "化工")
CONTRACT_HEADERS = ["合同编号", "客户编号", "产品", "开始日期", "结束日期", "合同金额"]
COST_HEADERS = ["客户编号", "细分", "月份", "费用类型", "金额"]
PRODUCTS = ("年度供货协议", "技术服务协议")
#: Each cost type's share of an account's monthly revenue (mean) and its Chinese word.
COST_SHARES = {"拜访": 0.008, "折扣": 0.015, "服务": 0.01, "物流": 0.02}
DUE_DAYS = (20, 45, 75)


def _last_year(orders: pd.DataFrame, end: date) -> pd.DataFrame:
    """Per account, revenue and gross margin over the 365 days up to ``end`` as the store reads
    them (a refund's amount is negative; its cost as written)."""
    day = pd.to_datetime(orders["order_date"])
    recent = orders[(day > pd.Timestamp(end - timedelta(days=365))) & (day <= pd.Timestamp(end))]
    amount = np.where(recent["status"] == "refunded", -recent["amount"].abs(), recent["amount"])
    frame = pd.DataFrame({"customer_id": recent["customer_id"].to_numpy(), "revenue": amount,
                          "margin": amount - recent["cost"].to_numpy()})
    return frame.groupby("customer_id").sum()


def _segment(accounts: pd.DataFrame) -> pd.Series:
    return pd.Series(np.where(accounts["kind"] == "government", "Public sector",
                              np.where(accounts["industry"].isin(MANUFACTURING), "Manufacturing",
                                       "Other accounts")), index=accounts["customer_id"])


def _plants(accounts: pd.DataFrame, orders: pd.DataFrame, year: pd.DataFrame,
            groups: dict[str, list[str]]) -> dict[str, list[str]]:
    """The planted accounts. The core one is the best of the growth-potential-3 accounts (the
    lowest that passes the key-account gate) by the default selection matrix's weights."""
    quiet = set(groups["q1_quiet"])
    acc = accounts.set_index("customer_id")
    gp = acc["growth_potential"]
    revenue = year["revenue"].reindex(gp.index).fillna(0.0)
    whole = orders.groupby("customer_id")[["amount", "cost"]].sum().reindex(gp.index).fillna(0)
    score = (0.25 * whole["amount"].rank(pct=True)
             + 0.20 * (whole["amount"] - whole["cost"]).rank(pct=True)
             + (0.15 * acc["strategic_fit"] + 0.10 * acc["market_position"]
                + 0.10 * acc["mutual_trust"] - 0.35) / 4)
    core = score[(gp == 3) & ~gp.index.isin(list(quiet))].idxmax()
    segment = _segment(accounts)
    fast = [c for c in groups["fast_growing"] if segment[c] == "Other accounts"] \
        or list(groups["fast_growing"])
    strategic = max(fast, key=lambda c: revenue[c])
    other_fast = [c for c in groups["fast_growing"] if c != strategic]
    due = [sorted(quiet)[0], other_fast[0] if other_fast else strategic, core]
    return {"renewal_due": due, "core_below_cost": [core], "strategic_break_even": [strategic]}


def _contracts(rng: np.random.Generator, accounts: pd.DataFrame, year: pd.DataFrame,
               end: date, due: list[str]) -> pd.DataFrame:
    revenue = year["revenue"].reindex(accounts["customer_id"]).fillna(0.0)
    ranked = revenue.sort_values(ascending=False)
    chosen = ranked.index[:max(len(due), int(round(len(ranked) * 0.4)))].tolist()
    chosen += [c for c in due if c not in chosen]
    top = set(ranked.index[:max(1, len(ranked) // 10)])
    rows = []
    for cid in chosen:
        product = PRODUCTS[int(rng.integers(0, len(PRODUCTS)))]
        value = max(10_000.0, round(float(revenue[cid]) * rng.uniform(0.7, 1.0), -3))
        lapsed = cid not in due and rng.random() < (0.1 if cid in top else 0.4)
        if cid in due:
            last_end = end + timedelta(days=DUE_DAYS[due.index(cid)])
        elif lapsed:  # the last contract ended in the past year and was not renewed
            last_end = end - timedelta(days=int(rng.integers(40, 331)))
        else:
            last_end = end + timedelta(days=int(rng.integers(101, 366)))
        ends = [last_end - timedelta(days=365 * k) for k in range(3)]
        for e in reversed([e for e in ends if e > end - timedelta(days=3 * 365)]):
            start = e - timedelta(days=364) + timedelta(days=int(rng.integers(0, 11)))
            rows.append((f"HT-{cid}-{e:%Y%m}", cid, product, start, e, value))
    frame = pd.DataFrame(rows, columns=CONTRACT_HEADERS)
    bad = frame.iloc[[len(frame) // 2]].copy()
    bad["合同编号"] = bad["合同编号"] + "-X"
    bad[["开始日期", "结束日期"]] = bad[["结束日期", "开始日期"]].to_numpy()
    frame = pd.concat([frame, bad], ignore_index=True)
    for col in ("开始日期", "结束日期"):
        frame[col] = [d.isoformat() for d in frame[col]]
    return frame.sort_values(["客户编号", "开始日期", "合同编号"], kind="stable",
                             ignore_index=True)


def _costs(rng: np.random.Generator, orders: pd.DataFrame, accounts: pd.DataFrame,
           year: pd.DataFrame, contracted: list[str], end: date,
           plants: dict[str, list[str]]) -> pd.DataFrame:
    first = pd.Timestamp(date(end.year - 2, end.month, 1)) + pd.offsets.MonthBegin(1)
    months = pd.date_range(first, pd.Timestamp(end), freq="MS")
    day = pd.to_datetime(orders["order_date"])
    monthly = orders.assign(m=day.dt.to_period("M").dt.to_timestamp()) \
        .groupby(["customer_id", "m"])["amount"].sum()
    rows = []
    for cid in contracted:
        for m in months:
            base = float(monthly.get((cid, m), 0.0))
            for word, share in COST_SHARES.items():
                amount = base * share * rng.uniform(0.5, 1.5)
                if word == "拜访":
                    amount += 800.0 * int(rng.poisson(1.0))
                if amount > 0:
                    rows.append([cid, "", m.strftime("%Y-%m"), word, round(amount, 2)])
    for segment, word, size in (("Public sector", "服务", 6000.0),
                                ("Manufacturing", "物流", 15000.0)):
        for m in months:
            rows.append(["", segment, m.strftime("%Y-%m"), word,
                         round(size * rng.uniform(0.8, 1.2), 2)])
    frame = pd.DataFrame(rows, columns=COST_HEADERS)
    # the file keeps the P&L's year and the month before it (drawn over two years, so the
    # draws of the kept months do not depend on how much is kept)
    frame = frame[frame["月份"] >= (end - timedelta(days=395)).strftime("%Y-%m")] \
        .reset_index(drop=True)
    recent = frame["月份"] > (end - timedelta(days=365)).strftime("%Y-%m")
    for key, ratio in (("core_below_cost", 1.3), ("strategic_break_even", 0.985)):
        cid = plants[key][0]
        mine = recent & (frame["客户编号"] == cid)
        target = ratio * float(year.loc[cid, "margin"])
        frame.loc[mine, "金额"] = (frame.loc[mine, "金额"] * target
                                  / frame.loc[mine, "金额"].sum()).round(2)
    month = (end - timedelta(days=40)).strftime("%Y-%m")
    bad = pd.DataFrame([[contracted[0], "", month, "招待", 1200.0],
                        ["C99999", "", month, "拜访", 900.0]], columns=COST_HEADERS)
    return pd.concat([frame, bad], ignore_index=True)


def write_contracts_and_costs(out: Path, orders: pd.DataFrame, groups: dict[str, list[str]], *,
                              end: date, seed: int) -> dict[str, list]:
    """Write ``contracts.csv`` and ``costs.csv`` into ``out`` (beside ``accounts.csv``).

    ``orders`` is the generator's order frame (``customer_id``, ``order_date``, ``amount``,
    ``cost``, ``status``); ``groups`` the manifest's planted groups so far. Returns the manifest
    entries: ``files`` (the two names), ``renewal_due``, ``core_below_cost``,
    ``strategic_break_even``, ``contracts_bad`` (contract ids) and ``costs_bad`` (line numbers).
    """
    rng = np.random.default_rng(seed + 3041)
    accounts = pd.read_csv(out / "accounts.csv", encoding="utf-8",
                           dtype={"customer_id": str})
    year = _last_year(orders, end)
    plants = _plants(accounts, orders, year, groups)
    contracts = _contracts(rng, accounts, year, end, plants["renewal_due"])
    contracted = sorted(set(contracts["客户编号"]))
    costs = _costs(rng, orders, accounts, year, contracted, end, plants)
    contracts.to_csv(out / "contracts.csv", index=False, encoding="utf-8", lineterminator="\n")
    costs.to_csv(out / "costs.csv", index=False, encoding="utf-8", lineterminator="\n")
    bad = contracts["合同编号"].str.endswith("-X")
    return {"files": ["contracts.csv", "costs.csv"], **plants,
            "contracts_bad": contracts.loc[bad, "合同编号"].tolist(),
            "costs_bad": [len(costs), len(costs) + 1]}


__all__ = ["write_contracts_and_costs"]

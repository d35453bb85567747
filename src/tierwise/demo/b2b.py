"""Seeded demo data of a B2B supplier: accounts (CSV), orders (Excel), a survey and leads (CSV),
plus contracts and costs to serve (CSV; :mod:`tierwise.demo.b2b_contracts`).

Account sizes are heavy-tailed (a few accounts make most of the revenue). Planted, and named in the
manifest:

* ``q1_quiet``: three big accounts that together make about half of the revenue of the calendar
  year before ``end``'s year go quiet in Q1 of ``end``'s year (no orders but a token one or two),
  then come back at about a third of their former rate. The seeds' story: nobody noticed.
  Their last survey answer before the drop (November/December) scores 2.
* ``profitable_low_growth``: a very profitable account (margin ~55 %, top-5 revenue) with
  ``growth_potential`` 1: it must fail a key-account gate.
* ``fast_growing``: mid-size accounts growing 70-90 % a year with ``growth_potential`` 5
  (strategic key-account candidates).
* ``churned``: accounts whose orders stop for good before ``end`` (natural churn).
* ``refunds``: order ids of refund rows (status ``refunded``; most with negative amount and cost).
* ``willingness_to_partner`` (accounts.csv, 1-5, the last column): how willing an account is to
  plan and grow together with the supplier. It follows each account's latent yearly growth (the
  trend its orders are drawn with) plus noise from a separate generator (``seed + 1009``), so every
  other value in the files is what it was before the column existed. The selection matrix that
  learns from the best (:mod:`tierwise.tiering.selection_learning`) must find it.
* ``leads_converted``, ``leads_open``: the leads of ``leads.csv`` (:mod:`.b2b_leads`) that became
  accounts and that never bought; conversion depends on fit and engagement.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from . import _names as N
from .b2b_leads import write_leads
from .b2b_contracts import write_contracts_and_costs
from .restaurant import SPRING_FESTIVAL, _write_manifest, _years_before

ACCOUNT_COLUMNS = [
    "customer_id", "name", "kind", "industry", "size", "region", "city", "credit_rating",
    "account_manager", "growth_potential", "strategic_fit", "market_position", "mutual_trust",
    "phone", "email", "joined_at", "willingness_to_partner",
]
ORDER_COLUMNS = ["order_id", "customer_id", "order_date", "amount", "cost", "channel", "agent",
                 "status"]
#: The fewest accounts the planted groups fit in (``tierwise demo --accounts``' minimum).
MIN_ACCOUNTS = 20
CHANNELS = ("direct", "distributor", "online")
WEEKDAY_WEIGHT = np.array([1.0, 1.05, 1.05, 1.0, 0.95, 0.08, 0.03])  # Monday .. Sunday


def generate_b2b(out_dir: str | Path, *, accounts: int = 300, years: int = 3,
                 end: date = date(2026, 9, 30), seed: int = 42) -> dict[str, list]:
    """Write a B2B supplier's accounts, orders and survey answers with planted patterns.

    Parameters
    ----------
    out_dir
        Folder to write into (created when missing). Existing files of the same name are replaced.
    accounts
        Number of accounts (at least :data:`MIN_ACCOUNTS`, 20).
    years
        Length of the order history in years, ending at ``end`` (at least 2, so that Q1 of
        ``end``'s year has a same quarter last year).
    end
        Last day of the history (the natural as-of date).
    seed
        Seed of the numpy random generator; the same seed gives byte-identical files.

    Returns
    -------
    dict of str -> list
        The manifest, also written to ``manifest.json`` (UTF-8): ``files`` (``accounts.csv``,
        ``orders.xlsx`` with sheet ``orders``, ``survey.csv``, ``leads.csv``,
        ``manifest.json``), ``as_of``,
        ``q1_quiet``, ``profitable_low_growth``, ``fast_growing``, ``churned`` (customer ids) and
        ``refunds`` (order ids), ``leads_converted`` and ``leads_open`` (lead ids). The returned
        dict adds ``paths``: absolute paths of ``files``.

    Examples
    --------
    >>> m = generate_b2b("demo_b2b", accounts=60, years=2)  # doctest: +SKIP
    >>> len(m["q1_quiet"])  # doctest: +SKIP
    3
    """
    if accounts < MIN_ACCOUNTS:
        raise ValueError(f"accounts={accounts} is too small for the planted groups; "
                         f"use {MIN_ACCOUNTS} or more")
    if years < 2:
        raise ValueError(f"years={years}: give at least 2 years so Q1 has a same quarter last year")
    rng = np.random.default_rng(seed)
    start = _years_before(end, years) + timedelta(days=1)
    days = np.datetime64(start) + np.arange((end - start).days + 1)
    plan, groups = _plan_accounts(rng, accounts, days, end)
    orders, refunds = _orders(rng, plan, days, end)
    ids = np.array([f"C{10001 + i}" for i in range(accounts)])
    orders["customer_id"] = ids[orders["a"].to_numpy()]

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    accounts_frame = _accounts_frame(rng, plan, ids, days, orders)
    accounts_frame["willingness_to_partner"] = _willingness(plan["growth"], seed)
    accounts_frame.to_csv(
        out / "accounts.csv", index=False, encoding="utf-8", lineterminator="\n")
    _write_orders_xlsx(out / "orders.xlsx", orders, end)
    _survey_frame(rng, plan, ids, days, end).to_csv(
        out / "survey.csv", index=False, encoding="utf-8", lineterminator="\n")
    leads = write_leads(out, orders, days, seed=seed)  # a generator of its own (b2b_leads)

    result: dict[str, list] = {
        "files": ["accounts.csv", "orders.xlsx", "survey.csv", "leads.csv", "manifest.json"],
        "as_of": [end.isoformat()],
    }
    for name, idx in groups.items():
        result[name] = sorted(ids[idx].tolist())
    result["refunds"] = refunds
    result.update(leads)
    # contracts and costs: their own generator (seed + 3041), so the files above are unchanged
    extra = write_contracts_and_costs(out, orders, result, end=end, seed=seed)
    result["files"][4:4] = extra.pop("files")
    result.update(extra)
    _write_manifest(out / "manifest.json", result)
    result["paths"] = [str((out / f).resolve()) for f in result["files"]]
    return result


def _season(days: np.ndarray) -> np.ndarray:
    """Relative order intensity per day: working days, Spring Festival slump, year-end push."""
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday
    weight = WEEKDAY_WEIGHT[weekday].copy()
    month = days.astype("datetime64[M]").astype("int64") % 12 + 1
    weight[month == 12] *= 1.3
    weight[month == 11] *= 1.1
    for sf in SPRING_FESTIVAL.values():
        offset = (days - np.datetime64(sf)).astype("int64")
        weight[(offset >= -7) & (offset <= 10)] *= 0.25
    return weight / weight.mean()


def _plan_accounts(rng: np.random.Generator, n: int, days: np.ndarray, end: date
                   ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Size, growth, margin, channel and activity of every account; planted groups' indices."""
    ndays = len(days)
    perm = rng.permutation(n)
    k_fast = max(3, round(n * 0.013))
    groups = {"q1_quiet": np.sort(perm[:3]), "profitable_low_growth": perm[3:4],
              "fast_growing": np.sort(perm[4:4 + k_fast])}
    planted = np.zeros(n, bool)
    planted[perm[:4 + k_fast]] = True
    government = ~planted & (rng.random(n) < 0.1)
    base = rng.lognormal(np.log(150_000), 1.2, n)  # yearly revenue at the start
    growth = np.clip(rng.normal(0.03, 0.15, n), -0.4, 0.5)
    cost_ratio = rng.uniform(0.68, 0.85, n)
    active_from = np.where(planted | (rng.random(n) < 0.75), 0, rng.integers(0, ndays * 2 // 3, n))
    churn = ~planted & (rng.random(n) < 0.08)
    active_to = np.where(churn, rng.integers(active_from + 60, ndays), ndays - 1)
    groups["churned"] = np.nonzero(churn & (active_to < ndays - 90))[0]

    others = ~planted
    fast = groups["fast_growing"]
    base[fast] = np.quantile(base[others], rng.uniform(0.5, 0.65, len(fast)))
    growth[fast] = rng.uniform(0.7, 0.9, len(fast))
    cost_ratio[fast] = rng.uniform(0.7, 0.75, len(fast))
    prof = groups["profitable_low_growth"]
    base[prof] = np.sort(base[others])[-1] * 1.6
    growth[prof], cost_ratio[prof] = 0.0, 0.45
    big = groups["q1_quiet"]
    growth[big], cost_ratio[big] = rng.uniform(0.02, 0.08, 3), rng.uniform(0.76, 0.8, 3)

    shape = _intensity(rng, base, growth, active_from, active_to, big, days, end)

    per_year = np.clip(np.round(6 * (base / np.median(base)) ** 0.35), 2, 60)
    per_year[fast] = np.maximum(per_year[fast], 18)  # monthly-ish orders: the growth shows
    primary = np.where(government | (base > np.quantile(base, 0.8)), 0,
                       rng.choice(3, n, p=[0.45, 0.4, 0.15]))
    plan = {
        "base": base, "growth": growth, "cost_ratio": cost_ratio, "shape": shape,
        "ticket": base / per_year, "per_year": per_year, "primary": primary,
        "agent": rng.integers(0, len(N.DISTRIBUTORS), n), "government": government,
        "active_from": active_from, "big": big, "fast": fast, "prof": prof,
    }
    return plan, groups


def _intensity(rng: np.random.Generator, base: np.ndarray, growth: np.ndarray,
               active_from: np.ndarray, active_to: np.ndarray, big: np.ndarray,
               days: np.ndarray, end: date) -> np.ndarray:
    """Relative order intensity per account and day (trend x season x activity).

    Scales ``base`` of the ``big`` three in place so that together they make as much as everybody
    else in the calendar year before ``end``'s year, then silences them in Q1 of ``end``'s year and
    keeps them at about a third of their rate afterwards.
    """
    n, ndays = len(base), len(days)
    years_in = (days - days[0]).astype("int64") / 365.25
    t = np.arange(ndays)
    active = (t >= active_from[:, None]) & (t <= active_to[:, None])
    shape = np.where(active, (1 + growth[:, None]) ** years_in, 0.0) * _season(days)
    year_before = days.astype("datetime64[Y]").astype("int64") + 1970 == end.year - 1
    revenue_ly = base * shape[:, year_before].sum(axis=1) / 365.25
    is_big = np.zeros(n, bool)
    is_big[big] = True
    share = rng.dirichlet([8.0, 8.0, 8.0])
    base[big] = share * revenue_ly[~is_big].sum() * base[big] / revenue_ly[big]
    april = np.datetime64(date(end.year, 4, 1))
    q1 = (days >= np.datetime64(date(end.year, 1, 1))) & (days < april)
    shape[np.ix_(big, q1)] = 0.0
    shape[np.ix_(big, days >= april)] *= 0.35
    return shape


def _orders(rng: np.random.Generator, plan: dict[str, np.ndarray], days: np.ndarray, end: date
            ) -> tuple[pd.DataFrame, list[str]]:
    """Order rows (Poisson per account and day) plus refund rows; returns frame and refund ids."""
    counts = rng.poisson(plan["per_year"][:, None] * plan["shape"] / 365.25)
    a, d = np.nonzero(counts)
    a, d = np.repeat(a, counts[a, d]), np.repeat(d, counts[a, d])
    amount = plan["ticket"][a] * rng.lognormal(-0.06, 0.35, len(a))
    # A token order or two from the quiet accounts in Q1, so "near zero" is not exactly zero.
    q1 = np.nonzero((days >= np.datetime64(date(end.year, 1, 1)))
                    & (days < np.datetime64(date(end.year, 4, 1)))
                    & (((days.astype("int64") + 3) % 7) < 5))[0]
    token = plan["big"][:2]
    a = np.concatenate([a, token])
    d = np.concatenate([d, rng.choice(q1, len(token))])
    amount = np.round(np.concatenate([amount, plan["ticket"][token] * rng.uniform(0.02, 0.05, 2)]),
                      2)
    k = len(a)
    cost = np.round(amount * plan["cost_ratio"][a] * rng.uniform(0.95, 1.05, k), 2)
    channel = np.where(rng.random(k) < 0.92, plan["primary"][a], rng.integers(0, 3, k))
    frame = pd.DataFrame({"a": a, "d": d, "amount": amount, "cost": cost, "channel": channel,
                          "status": "paid"})
    frame = frame.sort_values(["d", "a", "amount"], kind="stable", ignore_index=True)
    frame["order_id"] = [f"SO{i + 1:06d}" for i in range(len(frame))]

    is_big = np.isin(frame["a"].to_numpy(), plan["big"])
    lag = rng.integers(7, 41, len(frame))
    eligible = np.nonzero(~is_big & (frame["d"].to_numpy() + lag < len(days)))[0]
    picked = np.sort(rng.choice(eligible, max(2, round(len(frame) * 0.01)), replace=False))
    ref = frame.iloc[picked].copy()
    share = np.where(rng.random(len(ref)) < 0.6, 1.0, rng.uniform(0.1, 0.5, len(ref)))
    sign = np.where(rng.random(len(ref)) < 0.7, -1.0, 1.0)
    ref["amount"] = np.round(sign * share * ref["amount"].to_numpy(), 2)
    ref["cost"] = np.round(sign * share * ref["cost"].to_numpy(), 2)
    ref["d"] = ref["d"].to_numpy() + lag[picked]
    ref["order_id"] = ref["order_id"] + "-R"
    ref["status"] = "refunded"
    frame = pd.concat([frame, ref], ignore_index=True)
    frame = frame.sort_values(["d", "order_id"], kind="stable", ignore_index=True)
    frame["order_date"] = days[frame["d"].to_numpy()]
    agents = np.array(N.DISTRIBUTORS)[plan["agent"][frame["a"].to_numpy()]]
    frame["agent"] = np.where(frame["channel"].to_numpy() == 1, agents, "")
    frame["channel"] = np.array(CHANNELS)[frame["channel"].to_numpy()]
    return frame, ref["order_id"].tolist()


def _write_orders_xlsx(path: Path, orders: pd.DataFrame, end: date) -> None:
    """orders.xlsx, sheet "orders": real date and number cells; fixed metadata for byte-identity."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    wb.set_properties({"created": datetime(end.year, end.month, end.day)})
    ws = wb.add_worksheet("orders")
    head = wb.add_format({"bold": True})
    day_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    money = wb.add_format({"num_format": "#,##0.00"})
    ws.set_column(0, 1, 12)
    ws.set_column(2, 2, 11)
    ws.set_column(3, 4, 13)
    ws.set_column(5, 6, 18)
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, ORDER_COLUMNS, head)
    order_days = orders["order_date"].to_numpy().astype("datetime64[s]").tolist()  # datetimes
    rows = zip(orders["order_id"].tolist(), orders["customer_id"].tolist(), order_days,
               orders["amount"].tolist(), orders["cost"].tolist(), orders["channel"].tolist(),
               orders["agent"].tolist(), orders["status"].tolist())
    for r, (oid, cid, day, amount, cost, channel, agent, status) in enumerate(rows, start=1):
        ws.write_string(r, 0, oid)
        ws.write_string(r, 1, cid)
        ws.write_datetime(r, 2, day, day_fmt)
        ws.write_number(r, 3, amount, money)
        ws.write_number(r, 4, cost, money)
        ws.write_string(r, 5, channel)
        if agent:
            ws.write_string(r, 6, agent)
        ws.write_string(r, 7, status)
    ws.autofilter(0, 0, len(orders), len(ORDER_COLUMNS) - 1)
    wb.close()


def _accounts_frame(rng: np.random.Generator, plan: dict[str, np.ndarray], ids: np.ndarray,
                    days: np.ndarray, orders: pd.DataFrame) -> pd.DataFrame:
    """accounts.csv: attributes, qualitative 1-5 ratings, contacts, joined_at."""
    n = len(ids)
    gov = plan["government"]
    size_idx = np.clip(np.digitize(np.log(plan["base"]), np.log([4e4, 1.5e5, 6e5, 2.5e6]))
                       + rng.choice([-1, 0, 0, 0, 1], n), 0, 4)
    size_idx[plan["big"]] = 4
    size_idx[plan["prof"]] = 3
    size_idx[plan["fast"]] = 2
    rating = np.clip(np.round(rng.normal(3.2 - 0.55 * size_idx, 0.9)), 0, 5).astype(int)
    regions = list(N.REGIONS)
    region_idx = rng.choice(len(regions), n, p=[0.35, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05])
    city = [N.REGIONS[regions[r]][int(u * len(N.REGIONS[regions[r]]))]
            for r, u in zip(region_idx.tolist(), rng.random(n).tolist())]
    industry = np.where(gov, N.GOV_INDUSTRY, np.array(N.INDUSTRIES)[rng.integers(0, 10, n)])
    gp = np.clip(np.round(3 + 4 * plan["growth"] + rng.normal(0, 0.8, n)), 1, 5).astype(int)
    gp[plan["prof"]], gp[plan["fast"]], gp[plan["big"]] = 1, 5, 3
    fit = np.clip(np.round(rng.normal(3, 1, n)), 1, 5).astype(int)
    fit[plan["prof"]], fit[plan["fast"]] = 2, rng.integers(4, 6, len(plan["fast"]))
    position = np.clip(np.round(1 + 0.8 * size_idx + rng.normal(0, 0.7, n)), 1, 5).astype(int)
    trust = np.clip(np.round(rng.normal(3.4, 0.9, n)), 1, 5).astype(int)
    trust[plan["prof"]] = 4
    first = orders.groupby("a")["d"].min().reindex(range(n)).fillna(len(days) - 1).astype(int)
    joined = np.minimum(first.to_numpy(), plan["active_from"]) - np.where(
        plan["active_from"] == 0, rng.integers(30, 2500, n), rng.integers(0, 60, n))
    email = np.array([f"purchasing{i + 1:03d}@example.com" for i in range(n)])
    email[rng.random(n) < 0.1] = ""
    return pd.DataFrame({
        "customer_id": ids,
        "name": _company_names(rng, gov, industry, city),
        "kind": np.where(gov, "government", "company"),
        "industry": industry,
        "size": np.array(N.SIZE_BANDS)[size_idx],
        "region": np.array(regions)[region_idx],
        "city": city,
        "credit_rating": np.array(N.CREDIT_RATINGS)[rating],
        "account_manager": np.array(N.ACCOUNT_MANAGERS)[rng.integers(0, len(N.ACCOUNT_MANAGERS),
                                                                      n)],
        "growth_potential": gp, "strategic_fit": fit, "market_position": position,
        "mutual_trust": trust,
        "phone": N.fake_mobiles(rng, n),
        "email": email,
        "joined_at": np.datetime_as_string(days[0] + joined, unit="D"),
    })


def _willingness(growth: np.ndarray, seed: int) -> np.ndarray:
    """Willingness to partner (1-5) from the latent growth, noise from its own generator."""
    noise = np.random.default_rng(seed + 1009).normal(0.0, 0.6, len(growth))
    return np.clip(np.round(3.0 + 6.0 * growth + noise), 1, 5).astype(int)


def _company_names(rng: np.random.Generator, gov: np.ndarray, industry: np.ndarray,
                   city: list[str]) -> list[str]:
    """Unique company names: mostly Chinese, some English; government bodies by city."""
    names: list[str] = []
    seen: set[str] = set()
    for i in range(len(gov)):
        for attempt in range(20):
            if gov[i]:
                name = f"{city[i]}市{N.GOV_DEPARTMENTS[rng.integers(0, len(N.GOV_DEPARTMENTS))]}"
            elif rng.random() < 0.15:
                name = (f"{N.EN_WORDS[rng.integers(0, len(N.EN_WORDS))]} "
                        f"{N.EN_SUFFIX[rng.integers(0, len(N.EN_SUFFIX))]}")
            else:
                word = N.COMPANY_WORDS[rng.integers(0, len(N.COMPANY_WORDS))]
                legal = "股份有限公司" if rng.random() < 0.2 else "有限公司"
                name = f"{city[i]}{word}{N.COMPANY_SUFFIX[industry[i]]}{legal}"
            if attempt == 19:
                name = f"{name}({i + 1})"
            if name not in seen:
                break
        seen.add(name)
        names.append(name)
    return names


def _survey_frame(rng: np.random.Generator, plan: dict[str, np.ndarray], ids: np.ndarray,
                  days: np.ndarray, end: date) -> pd.DataFrame:
    """survey.csv: CSAT answers (1-5) from some accounts; the quiet three warned in Nov/Dec."""
    n = len(ids)
    answering = rng.random(n) < 0.35
    answering[plan["fast"]] = True
    rows: list[tuple[str, str, int, str]] = []
    for i in np.nonzero(answering)[0].tolist():
        first = int(plan["active_from"][i])
        for d in np.sort(rng.integers(first, len(days), rng.integers(1, 4))).tolist():
            score = 5 if i in plan["fast"] else int(np.clip(np.round(rng.normal(3.8, 0.9)), 1, 5))
            rows.append((ids[i], str(days[d]), score, _comment(rng, score)))
    warn_from = np.datetime64(date(end.year - 1, 11, 1))
    warn_days = np.nonzero((days >= warn_from) & (days < warn_from + 61))[0]
    for i in plan["big"].tolist():
        rows.append((ids[i], str(days[rng.choice(warn_days)]), 2, _comment(rng, 2)))
    frame = pd.DataFrame(rows, columns=["customer_id", "answered_at", "score", "comment"])
    return frame.sort_values(["answered_at", "customer_id"], kind="stable", ignore_index=True)


def _comment(rng: np.random.Generator, score: int) -> str:
    pool = N.SURVEY_COMMENTS[score]
    return pool[int(rng.integers(0, len(pool)))]

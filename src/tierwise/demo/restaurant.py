"""Seeded demo data of a restaurant chain: GBK member and visit exports with planted patterns.

The output looks like a Chinese POS / membership export (GBK, Chinese headers, mixed amount formats,
CRLF line ends) and carries a manifest of everything planted in it, so tests and later features can
check that they find what was put there:

* members who drift from 8+ visits a month into dormancy over the last three months, ending with
  exactly 6 / 4 / 2 / 0 visits in the last 30 days (resting / dormant / shock / dead), and members
  with no visit in the last 100+ days (buried);
* a "frequent small tickets" group and a "big rare tickets" group (the two RFM problem groups);
* steady champions (9-12 visits in every 30 days, high spend);
* refunds (status 已退款, some with a negative and some with a positive amount);
* a small, known number of messy rows (about 0.5 %): empty member id, unparseable amount,
  unparseable date, exact duplicate row, unknown member, date after ``end``;
* survey answers and complaints (``survey.csv``, ``feedback.csv``) with their own planted story
  (:mod:`tierwise.demo.restaurant_feedback`: slow food at 上海徐家汇店, told by key customers).

Visits are counted in 30-day blocks aligned on ``end`` (the last block is ``end - 29 .. end``). The
planted drift members have no visit in ``end - 32 .. end - 28``, so their count "in the last 30
days" is the same whether the window is 28, 29, 30 or 31 days wide.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from . import _names as N
from .restaurant_feedback import write_restaurant_feedback

BLOCK = 30
#: The fewest members the planted groups fit in (``tierwise demo --members``' minimum).
MIN_MEMBERS = 50
MEMBER_HEADERS = ["会员卡号", "姓名", "手机号", "性别", "年龄", "城市", "注册日期", "会员等级", "标签"]
VISIT_HEADERS = ["订单号", "会员卡号", "消费时间", "门店", "渠道", "消费金额", "状态"]
PAID, REFUNDED = "已支付", "已退款"

# Visits in the last three 30-day blocks (oldest first) of the planted drift groups. Before them
# these members visit 8-11 times in every 30 days.
DRIFT_PLAN = {
    "resting": (9, 8, 6),
    "dormant": (8, 6, 4),
    "shock": (7, 4, 2),
    "dead": (6, 3, 0),
}
BURIED_LAST_VISIT_MIN_DAYS = 100  # buried members' last visit is at least this many days before end

# Gregorian date of the Spring Festival (Chinese New Year's Day); years outside the table simply
# get no Spring Festival effect.
SPRING_FESTIVAL = {
    2018: date(2018, 2, 16), 2019: date(2019, 2, 5), 2020: date(2020, 1, 25),
    2021: date(2021, 2, 12), 2022: date(2022, 2, 1), 2023: date(2023, 1, 22),
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
    2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}
WEEKDAY_WEIGHT = np.array([0.8, 0.8, 0.85, 0.9, 1.25, 1.5, 1.3])  # Monday .. Sunday

# Member kinds.
NEVER, ONCE, OCCASIONAL, REGULAR, CHAMPION, SMALL, BIG, DRIFT = range(8)


def generate_restaurant(out_dir: str | Path, *, members: int = 2000, years: int = 3,
                        end: date = date(2026, 10, 31), seed: int = 42) -> dict[str, list]:
    """Write a restaurant chain's member and visit exports (GBK CSV) with planted patterns.

    Parameters
    ----------
    out_dir
        Folder to write into (created when missing). Existing files of the same name are replaced.
    members
        Number of members (at least :data:`MIN_MEMBERS`, 50).
    years
        Length of the visit history in years, ending at ``end``.
    end
        Last day of the history (the natural as-of date). A few messy rows lie after it.
    seed
        Seed of the numpy random generator; the same seed gives byte-identical files.

    Returns
    -------
    dict of str -> list
        The manifest, also written to ``manifest.json`` (UTF-8): ``files`` (names relative to
        ``out_dir``), ``as_of``, planted member ids (``drift_resting``, ``drift_dormant``,
        ``drift_shock``, ``drift_dead``, ``drift_buried``, ``champions``, ``small_tickets``,
        ``big_rare_tickets``, ``never_visited``), ``refunds`` (order ids), and for each messy kind
        ``messy_<kind>`` (order ids) and ``messy_<kind>_lines`` (line numbers in visits.csv, the
        header being line 1). The returned dict adds ``paths``: absolute paths of ``files``.

    Examples
    --------
    >>> m = generate_restaurant("demo_data", members=200, years=1)  # doctest: +SKIP
    >>> m["files"]  # doctest: +SKIP
    ['members.csv', 'visits.csv', 'survey.csv', 'feedback.csv', 'manifest.json']
    """
    if members < MIN_MEMBERS:
        raise ValueError(f"members={members} is too small for the planted groups; "
                         f"use {MIN_MEMBERS} or more")
    if years < 1:
        raise ValueError(f"years={years}: give at least 1 year of history")
    rng = np.random.default_rng(seed)
    start = _years_before(end, years) + timedelta(days=1)
    ndays = (end - start).days + 1
    weight, party_boost = _calendar(start, ndays)
    plan, groups = _plan_members(rng, members, ndays)
    member_idx, day_idx = _visit_days(rng, plan, weight, ndays)
    visits = _visit_details(rng, plan, member_idx, day_idx, party_boost)
    ids = np.array([f"88{i + 1:06d}" for i in range(members)])
    table, manifest = _assemble_visits(rng, visits, plan, ids, start, ndays)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _members_frame(rng, plan, ids, start).to_csv(
        out / "members.csv", index=False, encoding="gbk", lineterminator="\r\n")
    table.to_csv(out / "visits.csv", index=False, encoding="gbk", lineterminator="\r\n")

    result: dict[str, list] = {"files": ["members.csv", "visits.csv", "survey.csv",
                                         "feedback.csv", "manifest.json"],
                               "as_of": [end.isoformat()]}
    for name, idx in groups.items():
        result[name] = sorted(ids[idx].tolist())
    result.update(manifest)
    result.update(write_restaurant_feedback(out, visits=visits, ids=ids, start=start,
                                            ndays=ndays, seed=seed))
    _write_manifest(out / "manifest.json", result)
    result["paths"] = [str((out / f).resolve()) for f in result["files"]]
    return result


def _write_manifest(path: Path, manifest: dict[str, list]) -> None:
    """UTF-8 JSON, one key per line (lists stay on their line: easy to read and to diff)."""
    body = ",\n".join(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                       for k, v in manifest.items())
    path.write_text("{\n" + body + "\n}\n", encoding="utf-8", newline="\n")


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _calendar(start: date, ndays: int) -> tuple[np.ndarray, np.ndarray]:
    """Per day: relative visit weight (weekday x season) and a party-size boost."""
    days = np.datetime64(start) + np.arange(ndays)
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday
    weight = WEEKDAY_WEIGHT[weekday].copy()
    boost = np.ones(ndays)
    month = days.astype("datetime64[M]").astype("int64") % 12 + 1
    day_of_month = (days - days.astype("datetime64[M]")).astype("int64") + 1
    weight[np.isin(month, (7, 8))] *= 1.05
    weight[(month == 10) & (day_of_month <= 7)] *= 1.3          # National Day week
    weight[((month == 12) & (day_of_month >= 24)) | ((month == 1) & (day_of_month == 1))] *= 1.15
    for sf in SPRING_FESTIVAL.values():
        offset = (days - np.datetime64(sf)).astype("int64")
        weight[(offset >= -10) & (offset <= -2)] *= 1.5          # year-end dinners
        weight[offset == -1] *= 2.0                              # New Year's Eve dinner
        weight[(offset >= 0) & (offset <= 6)] *= 1.3
        weight[(offset >= 7) & (offset <= 20)] *= 0.85
        boost[(offset >= -10) & (offset <= 6)] = 1.4             # family gatherings
    return weight / weight.mean(), boost


def _plan_members(rng: np.random.Generator, n: int, ndays: int
                  ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Kind, rhythm and spending habits of every member, and the planted groups' member indices."""
    perm = rng.permutation(n)
    k_drift = max(2, round(n * 0.006))
    k_other = max(3, round(n * 0.02))
    groups: dict[str, np.ndarray] = {}
    pos = 0
    for name, size in [("drift_resting", k_drift), ("drift_dormant", k_drift),
                       ("drift_shock", k_drift), ("drift_dead", k_drift),
                       ("drift_buried", k_drift), ("champions", k_other),
                       ("small_tickets", k_other), ("big_rare_tickets", k_other)]:
        groups[name] = np.sort(perm[pos:pos + size])
        pos += size
    rest = perm[pos:]
    kind = np.full(n, DRIFT)
    kind[groups["champions"]] = CHAMPION
    kind[groups["small_tickets"]] = SMALL
    kind[groups["big_rare_tickets"]] = BIG
    kind[rest] = rng.choice([NEVER, ONCE, OCCASIONAL, REGULAR], len(rest),
                            p=[0.04, 0.30, 0.48, 0.18])
    groups["never_visited"] = np.sort(rest[kind[rest] == NEVER])

    rate = np.zeros(n)  # expected visits per 30 days (Poisson kinds)
    occ, reg = kind == OCCASIONAL, kind == REGULAR
    rate[occ] = np.clip(rng.gamma(2.0, 0.4, occ.sum()), 0.15, 2.5)
    rate[reg] = np.clip(2.0 + rng.gamma(2.0, 1.0, reg.sum()), 2.0, 8.0)
    rate[kind == BIG] = rng.uniform(0.35, 0.6, (kind == BIG).sum())

    general = np.isin(kind, (NEVER, ONCE, OCCASIONAL, REGULAR))
    joined_before = general & (rng.random(n) < 0.4) | ~general
    active_from = np.where(joined_before & (kind != ONCE), 0, rng.integers(0, ndays, n))
    churn = np.isin(kind, (OCCASIONAL, REGULAR)) & (rng.random(n) < 0.35)
    active_to = np.where(churn, rng.integers(active_from, ndays), ndays - 1)
    active_to = np.where(kind == ONCE, active_from, active_to)

    plan = {"kind": kind, "rate": rate, "active_from": active_from, "active_to": active_to,
            "joined_before": joined_before, **_habits(rng, kind)}
    plan["planted"] = ~general
    plan["drift_group"] = np.full(n, "", dtype=object)
    for name in ("drift_resting", "drift_dormant", "drift_shock", "drift_dead", "drift_buried"):
        plan["drift_group"][groups[name]] = name.removeprefix("drift_")
    return plan, groups


def _habits(rng: np.random.Generator, kind: np.ndarray) -> dict[str, np.ndarray]:
    """Per member: party size, spend per person, channel mix, lunch share and home store."""
    n = len(kind)
    small, big, champion = kind == SMALL, kind == BIG, kind == CHAMPION
    return {
        "party_mean": np.select([small, big, champion],
                                [np.ones(n), rng.uniform(9, 14, n), rng.uniform(3, 4.5, n)],
                                rng.uniform(1.5, 4.0, n)),
        "per_person": np.select([small, big, champion],
                                [rng.uniform(32, 52, n), rng.uniform(160, 240, n),
                                 rng.lognormal(np.log(90), 0.15, n)],
                                rng.lognormal(np.log(62), 0.25, n)),
        "p_takeaway": np.select([small, big], [np.full(n, 0.45), np.zeros(n)],
                                rng.uniform(0.02, 0.3, n)),
        "p_app": np.where(big, 0.1, rng.uniform(0.05, 0.2, n)),
        "p_lunch": np.select([small, big], [np.full(n, 0.75), np.full(n, 0.1)], np.full(n, 0.4)),
        "home_store": rng.integers(0, len(N.STORES), n),
    }


def _visit_days(rng: np.random.Generator, plan: dict[str, np.ndarray], weight: np.ndarray,
                ndays: int) -> tuple[np.ndarray, np.ndarray]:
    """(member index, day index) of every visit: at most one visit per member and day.

    Days are drawn per 30-day block without replacement, proportional to the day weights
    (Gumbel top-k), so planted members get exact counts per block.
    """
    n = len(plan["kind"])
    nblocks = -(-ndays // BLOCK)
    pad = nblocks * BLOCK - ndays
    t = np.arange(nblocks * BLOCK) - pad  # day index of each padded slot
    allowed = (t >= plan["active_from"][:, None]) & (t <= plan["active_to"][:, None])
    drift = plan["kind"] == DRIFT
    buried = plan["drift_group"] == "buried"
    margin = (t >= ndays - 33) & (t <= ndays - 29)  # end-32 .. end-28
    allowed[drift] &= ~margin
    allowed[buried] &= t <= ndays - 1 - BURIED_LAST_VISIT_MIN_DAYS
    w = np.concatenate([np.ones(pad), weight])

    shape = (n, nblocks, BLOCK)
    capacity = allowed.reshape(shape).sum(axis=2)
    expected = (allowed * w).reshape(shape).sum(axis=2) * plan["rate"][:, None] / BLOCK
    counts = rng.poisson(expected)
    _exact_counts(rng, plan, counts, nblocks, ndays)
    counts = np.minimum(counts, capacity)

    keys = np.where(allowed, np.log(w) + rng.gumbel(size=allowed.shape), -np.inf).reshape(shape)
    ranked = -np.sort(-keys, axis=2)
    threshold = np.take_along_axis(ranked, np.maximum(counts - 1, 0)[:, :, None], axis=2)
    chosen = (keys >= threshold) & (counts[:, :, None] > 0) & allowed.reshape(shape)
    member_idx, slot = np.nonzero(chosen.reshape(n, -1))
    return member_idx, slot - pad


def _exact_counts(rng: np.random.Generator, plan: dict[str, np.ndarray], counts: np.ndarray,
                  nblocks: int, ndays: int) -> None:
    """Overwrite the Poisson block counts of one-timers and of the planted groups (champions
    9-12, small tickets 7-10, drift members 8-11 visits per 30 days, big rare tickets 0-1)."""
    kind = plan["kind"]
    once = np.nonzero(kind == ONCE)[0]
    counts[once] = 0
    pad = nblocks * BLOCK - ndays
    counts[once, (plan["active_from"][once] + pad) // BLOCK] = 1
    champions = kind == CHAMPION
    counts[champions] = rng.integers(9, 13, (champions.sum(), nblocks))
    for group, tail in DRIFT_PLAN.items():
        rows = plan["drift_group"] == group
        counts[rows] = rng.integers(8, 12, (rows.sum(), nblocks))
        counts[rows, -3:] = tail
    buried = plan["drift_group"] == "buried"
    counts[buried] = rng.integers(8, 12, (buried.sum(), nblocks))
    counts[buried, -6:] = (6, 4, 3, 0, 0, 0)  # last visit in end-119 .. end-100
    small = kind == SMALL
    counts[small] = rng.integers(7, 11, (small.sum(), nblocks))
    # Big rare tickets: at most one banquet per 30 days, at least one in every 90 days.
    big = np.nonzero(kind == BIG)[0]
    banquets = (rng.random((len(big), nblocks)) < plan["rate"][big, None]).astype(counts.dtype)
    quarters = nblocks // 3
    tail = banquets[:, nblocks - 3 * quarters:].reshape(len(big), quarters, 3)
    empty = tail.sum(axis=2) == 0
    tail[empty, rng.integers(0, 3, empty.shape)[empty]] = 1
    banquets[:, nblocks - 3 * quarters:] = tail.reshape(len(big), -1)
    counts[big] = banquets
    exact = champions | small | (kind == DRIFT)
    counts[exact, 0] = np.round(counts[exact, 0] * (BLOCK - pad) / BLOCK)  # partial first block


def _visit_details(rng: np.random.Generator, plan: dict[str, np.ndarray], m: np.ndarray,
                   t: np.ndarray, party_boost: np.ndarray) -> pd.DataFrame:
    """Time of day, store, channel and amount of every visit."""
    v = len(m)
    u = rng.random(v)
    takeaway = u < plan["p_takeaway"][m]
    app = ~takeaway & (u < plan["p_takeaway"][m] + plan["p_app"][m])
    channel = np.where(takeaway, 1, np.where(app, 2, 0))
    dine_lam = np.maximum(plan["party_mean"][m] * np.where(plan["kind"][m] == SMALL, 1,
                                                           party_boost[t]) - 1, 0)
    party = 1 + np.where(takeaway, rng.poisson(0.4, v), rng.poisson(dine_lam))
    per_person = plan["per_person"][m] * rng.lognormal(0, 0.15, v) * np.where(takeaway, 0.85, 1)
    amount = np.maximum(15.0, np.round(np.minimum(party, 20) * per_person * 2) / 2)
    lunch = rng.random(v) < plan["p_lunch"][m]
    sec = np.where(lunch, rng.integers(11 * 3600, 13 * 3600 + 1800, v),
                   rng.integers(17 * 3600, 21 * 3600 + 1800, v))
    sec = np.where(takeaway, rng.integers(10 * 3600 + 1800, 21 * 3600 + 1800, v), sec)
    away = ~takeaway & (rng.random(v) < 0.15)
    store = np.where(away, rng.integers(0, len(N.STORES), v), plan["home_store"][m])
    frame = pd.DataFrame({"m": m, "t": t, "sec": sec, "store": store, "channel": channel,
                          "amount": amount, "status": PAID})
    return frame.sort_values(["t", "sec", "m"], kind="stable", ignore_index=True)


def _assemble_visits(rng: np.random.Generator, visits: pd.DataFrame, plan: dict[str, np.ndarray],
                     ids: np.ndarray, start: date, ndays: int
                     ) -> tuple[pd.DataFrame, dict[str, list]]:
    """Order ids, refunds, messy rows and text formatting; returns the CSV table and manifest."""
    day_str = np.datetime_as_string(np.datetime64(start) + np.arange(ndays + 60), unit="D")
    compact = np.char.replace(day_str, "-", "").tolist()
    counter = visits.groupby("t").cumcount().to_numpy() + 1
    visits["oid"] = [f"P{compact[d]}{c:04d}"
                     for d, c in zip(visits["t"].tolist(), counter.tolist())]
    visits["member"] = ids[visits["m"].to_numpy()]
    visits["dup"] = 0
    # Refunds and messy rows only touch members outside the planted groups.
    picks = rng.permutation(np.nonzero(~plan["planted"][visits["m"].to_numpy()])[0])
    n_refund = max(2, round(len(visits) * 0.003))
    n_messy = max(2, round(len(visits) * 0.005 / 6))
    refunds = _refund_rows(rng, visits.iloc[np.sort(picks[:n_refund])])
    future = _future_rows(rng, visits.iloc[np.sort(picks[n_refund:n_refund + n_messy])],
                          compact, ndays)
    messy: dict[str, pd.Series] = {}
    pos = n_refund + n_messy
    for kind in ("empty_member", "bad_amount", "bad_date", "duplicate", "unknown_member"):
        messy[kind] = visits["oid"].iloc[np.sort(picks[pos:pos + n_messy])]
        pos += n_messy
    messy["future_date"] = future["oid"]

    table = pd.concat([visits, refunds, future], ignore_index=True)
    table["amount_text"] = _format_amounts(rng, table["amount"].to_numpy())
    table["ts_text"] = _timestamps(start, table["t"].to_numpy(), table["sec"].to_numpy())
    table = _spoil(table, messy)
    table = table.sort_values(["t", "sec", "oid", "dup"], kind="stable", ignore_index=True)

    line = table.index.to_numpy() + 2  # the header is line 1
    manifest: dict[str, list] = {"refunds": refunds["oid"].tolist()}
    for kind, oids in messy.items():
        rows = table["oid"].isin(oids) & (table["dup"] == int(kind == "duplicate"))
        manifest[f"messy_{kind}"] = oids.tolist()
        manifest[f"messy_{kind}_lines"] = line[rows.to_numpy()].tolist()
    out = pd.DataFrame({
        "订单号": table["oid"], "会员卡号": table["member"], "消费时间": table["ts_text"],
        "门店": np.array([s for s, _ in N.STORES])[table["store"].to_numpy()],
        "渠道": np.array(N.CHANNELS)[table["channel"].to_numpy()],
        "消费金额": table["amount_text"], "状态": table["status"],
    })
    return out[VISIT_HEADERS], manifest


def _spoil(table: pd.DataFrame, messy: dict[str, pd.Series]) -> pd.DataFrame:
    """Apply the messy kinds to the formatted rows; duplicates are exact copies (dup = 1)."""
    oid = table["oid"]
    table.loc[oid.isin(messy["empty_member"]), "member"] = ""
    table.loc[oid.isin(messy["bad_amount"]), "amount_text"] = "abc"
    bad_dates = oid.isin(messy["bad_date"])
    table.loc[bad_dates, "ts_text"] = _bad_dates(table.loc[bad_dates, "ts_text"].tolist())
    unknown = oid.isin(messy["unknown_member"])
    table.loc[unknown, "member"] = [f"89{k + 1:06d}" for k in range(int(unknown.sum()))]
    dups = table[oid.isin(messy["duplicate"])].assign(dup=1)
    return pd.concat([table, dups], ignore_index=True)


def _refund_rows(rng: np.random.Generator, originals: pd.DataFrame) -> pd.DataFrame:
    """One refund per original order, a little later the same day: full or partial amount,
    half of them written as a negative amount, all with status 已退款."""
    k = len(originals)
    share = np.where(rng.random(k) < 0.7, 1.0, rng.uniform(0.2, 0.4, k))
    sign = np.where(rng.random(k) < 0.5, -1.0, 1.0)
    amount = sign * np.maximum(5.0, np.round(originals["amount"].to_numpy() * share * 2) / 2)
    return originals.assign(
        oid=originals["oid"] + "R", amount=amount, status=REFUNDED,
        sec=np.minimum(originals["sec"].to_numpy() + rng.integers(600, 10800, k), 86399))


def _future_rows(rng: np.random.Generator, template: pd.DataFrame, compact: list[str],
                 ndays: int) -> pd.DataFrame:
    """Visits dated 1-45 days after ``end`` (a clock or export error)."""
    k = len(template)
    t = ndays - 1 + rng.integers(1, 46, k)
    rows = template.assign(t=t, dup=0).sort_values(["t", "sec"], kind="stable")
    t = rows["t"].to_numpy()
    counter = rows.groupby("t").cumcount().to_numpy() + 1
    rows["oid"] = [f"P{compact[d]}{c:04d}" for d, c in zip(t.tolist(), counter.tolist())]
    return rows


def _format_amounts(rng: np.random.Generator, amount: np.ndarray) -> list[str]:
    """"128.00" (70 %), "￥1,280.50" (20 %), "86元" (10 %); negative amounts keep their sign."""
    style = rng.choice(3, len(amount), p=[0.7, 0.2, 0.1])
    out = []
    for x, s in zip(amount.tolist(), style.tolist()):
        sign, x = ("-" if x < 0 else ""), abs(x)
        if s == 0:
            out.append(f"{sign}{x:.2f}")
        elif s == 1:
            out.append(f"{sign}￥{x:,.2f}")
        else:
            out.append(f"{sign}{x:.0f}元" if x == int(x) else f"{sign}{x:.1f}元")
    return out


def _timestamps(start: date, t: np.ndarray, sec: np.ndarray) -> np.ndarray:
    stamps = np.datetime64(start, "s") + t * 86400 + sec
    return np.char.replace(np.datetime_as_string(stamps, unit="s"), "T", " ")


def _bad_dates(stamps: list[str]) -> list[str]:
    """Unparseable versions of timestamps: 30 February, month 13, or free text."""
    out = []
    for i, s in enumerate(stamps):
        if i % 3 == 0:
            out.append(f"{s[:4]}-02-30{s[10:]}")
        elif i % 3 == 1:
            out.append(f"{s[:4]}-13-{s[8:]}")
        else:
            out.append("昨天晚上")
    return out


def _members_frame(rng: np.random.Generator, plan: dict[str, np.ndarray], ids: np.ndarray,
                   start: date) -> pd.DataFrame:
    """members.csv: one row per member with Chinese headers; every value is text."""
    n = len(ids)
    kind = plan["kind"]
    gender = np.where(rng.random(n) < 0.5, "男", "女")
    age = np.where(kind == BIG, rng.integers(35, 61, n), rng.integers(18, 71, n)).astype(str)
    age[rng.random(n) < 0.03] = ""
    gender_text = np.where(rng.random(n) < 0.02, "", gender)
    city = np.array([c for _, c in N.STORES])[plan["home_store"]]
    elsewhere = rng.random(n) < 0.1
    city[elsewhere] = rng.choice(np.unique(city), elsewhere.sum())
    joined = np.where(plan["joined_before"], -rng.integers(1, 900, n), plan["active_from"])
    joined = np.datetime_as_string(np.datetime64(start) + joined, unit="D")
    level_base = np.select([np.isin(kind, (CHAMPION, DRIFT, BIG)), kind == REGULAR], [2, 1], 0)
    level = np.clip(level_base + rng.choice([-1, 0, 0, 0, 1], n), 0, 3)
    return pd.DataFrame({
        "会员卡号": ids,
        "姓名": N.person_names(rng, gender),
        "手机号": N.fake_mobiles(rng, n),
        "性别": gender_text,
        "年龄": age,
        "城市": city,
        "注册日期": joined,
        "会员等级": np.array(N.MEMBER_LEVELS)[level],
        "标签": _tags(rng, kind),
    })[MEMBER_HEADERS]


def _tags(rng: np.random.Generator, kind: np.ndarray) -> list[str]:
    pool = N.MEMBER_TAGS
    n_tags = rng.choice([0, 1, 2, 3], len(kind), p=[0.3, 0.35, 0.25, 0.1])
    out = []
    for k, nt in zip(kind.tolist(), n_tags.tolist()):
        tags = [pool[i] for i in sorted(rng.choice(len(pool), nt, replace=False).tolist())]
        must = "商务宴请" if k == BIG else "午餐工作餐" if k == SMALL else None
        if must and must not in tags:
            tags.insert(0, must)
        out.append(";".join(tags))
    return out

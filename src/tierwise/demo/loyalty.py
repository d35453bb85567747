"""Seeded demo data for loyalty levels and rewards, beside the restaurant chain's exports.

:func:`generate_loyalty` writes ``loyalty_members.csv`` and ``loyalty_visits.csv`` (the same GBK
export layout as the restaurant's ``members.csv`` / ``visits.csv``, for members of their own,
card numbers ``87......``) and ``loyalty_manifest.json``. It draws from its own generator
(``seed + 1009``), so the restaurant's files stay byte-identical. Planted, with the demo's
``[loyalty]`` levels (a quarter's net spend: silver 1,000, gold 3,000, diamond 8,000):

* ``near_gold``: silver members whose spend this quarter (to ``end``) is exactly
  ``near_gold_distance`` short of gold, 100-400 each;
* ``grace_gold``: gold members (Q1 and Q2 at gold) whose last quarter fell short: still gold,
  in grace since the first day of the current quarter;
* ``big_meal``: members with one meal of 2,000 or more in one of the three months before the
  last; the till gives them a coupon unless the rule's hash holds them out
  (:func:`tierwise.loyalty.in_control`, share ``REWARD_SHARE``, seed ``REWARD_SEED``), and
  recipients come back in the 30 days after that month at 60 %, the held-out at 20 %.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from . import _names as N
from .restaurant import MEMBER_HEADERS, PAID, VISIT_HEADERS

#: The demo's levels (quarter spend) and its big-meal rule; the demo config uses the same.
LEVELS = (("member", "Member", "普通会员", 0), ("silver", "Silver", "银卡会员", 1000),
          ("gold", "Gold", "金卡会员", 3000), ("diamond", "Diamond", "钻石会员", 8000))
BIG_MEAL = 2000.0
REWARD_SHARE = 0.25
REWARD_SEED = 19
RETURN_RATE = {"target": 0.6, "control": 0.2}
GROUP_SIZES = {"near_gold": 20, "grace_gold": 12, "big_meal": 180}


def _quarter_start(day: date, back: int = 0) -> date:
    index = day.year * 4 + (day.month - 1) // 3 - back
    return date(index // 4, 3 * (index % 4) + 1, 1)


def _month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _split(rng: np.random.Generator, total: float, parts: int) -> list[float]:
    """``parts`` amounts (2 decimals) adding up to ``total`` exactly."""
    weights = rng.dirichlet(np.full(parts, 4.0))
    amounts = [round(float(total * w), 2) for w in weights[:-1]]
    return [*amounts, round(total - sum(amounts), 2)]


def _days(rng: np.random.Generator, start: date, end: date, k: int) -> list[date]:
    span = (end - start).days + 1
    return [start + timedelta(days=int(d)) for d in np.sort(rng.integers(0, span, k))]


def _spend(rng: np.random.Generator, rows: list[tuple], member: str, start: date, end: date,
           total: float, parts: int) -> None:
    for day, amount in zip(_days(rng, start, end, parts), _split(rng, total, parts)):
        rows.append((member, day, amount))


def generate_loyalty(out_dir: str | Path, *, end: date = date(2026, 10, 31), seed: int = 42
                     ) -> dict[str, list]:
    """Write ``loyalty_members.csv``, ``loyalty_visits.csv`` and ``loyalty_manifest.json``.

    Parameters
    ----------
    out_dir
        The restaurant demo's folder (or any folder).
    end
        The last day of the data (a month end; the demo's as-of date).
    seed
        The restaurant's seed; this data draws from ``seed + 1009``.

    Returns
    -------
    dict of str -> list
        The manifest: ``files``, ``near_gold``, ``near_gold_distance``, ``grace_gold``,
        ``grace_since``, ``big_meal``, ``big_meal_month``, ``big_meal_control``.
    """
    from ..loyalty.rewards import in_control

    rng = np.random.default_rng(seed + 1009)
    ids = {g: [f"87{i:06d}" for i in range(1 + sum(list(GROUP_SIZES.values())[:k]),
                                           1 + sum(list(GROUP_SIZES.values())[:k + 1]))]
           for k, g in enumerate(GROUP_SIZES)}
    rows: list[tuple] = []
    now = _quarter_start(end)
    quarters = [_quarter_start(end, k) for k in (3, 2, 1)]  # the three before the current one
    distances = []
    for member in ids["near_gold"]:
        for q in quarters:
            _spend(rng, rows, member, q, _quarter_start(q, -1) - timedelta(days=1),
                   round(float(rng.uniform(1200, 2600)), 2), 3)
        distance = float(rng.integers(10, 41) * 10)
        distances.append(distance)
        _spend(rng, rows, member, now, end, 3000 - distance, 4)
    for member in ids["grace_gold"]:
        for q, low, high in zip(quarters, (3400, 3400, 1200), (4400, 4400, 2600)):
            _spend(rng, rows, member, q, _quarter_start(q, -1) - timedelta(days=1),
                   round(float(rng.uniform(low, high)), 2), 4)
        _spend(rng, rows, member, now, end, round(float(rng.uniform(300, 800)), 2), 2)
    months = [_month_start(end, k) for k in (3, 2, 1)]
    control = in_control(ids["big_meal"], REWARD_SHARE, REWARD_SEED)
    meal_months = []
    for i, member in enumerate(ids["big_meal"]):
        month = months[i % 3]
        meal_months.append(f"{month:%Y-%m}")
        month_end = _month_start(month, -1) - timedelta(days=1)
        _spend(rng, rows, member, _month_start(month, 6), month - timedelta(days=1),
               round(float(rng.uniform(400, 1200)), 2), int(rng.integers(2, 5)))
        rows.append((member, _days(rng, month, month_end, 1)[0],
                     round(float(rng.uniform(BIG_MEAL, 3200)), 2)))
        if rng.random() < RETURN_RATE["control" if control[i] else "target"]:
            rows.append((member, _days(rng, month_end + timedelta(days=1),
                                       month_end + timedelta(days=30), 1)[0],
                         round(float(rng.uniform(150, 600)), 2)))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _visits(rng, rows).to_csv(out / "loyalty_visits.csv", index=False, encoding="gbk",
                              lineterminator="\r\n")
    members = [m for g in GROUP_SIZES for m in ids[g]]
    _members(rng, members, end).to_csv(out / "loyalty_members.csv", index=False, encoding="gbk",
                                       lineterminator="\r\n")
    manifest: dict[str, list] = {
        "files": ["loyalty_members.csv", "loyalty_visits.csv", "loyalty_manifest.json"],
        "near_gold": ids["near_gold"], "near_gold_distance": distances,
        "grace_gold": ids["grace_gold"], "grace_since": [now.isoformat()],
        "big_meal": ids["big_meal"], "big_meal_month": meal_months,
        "big_meal_control": [m for m, c in zip(ids["big_meal"], control) if c]}
    (out / "loyalty_manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    return manifest


def _visits(rng: np.random.Generator, rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["member", "day", "amount"]).sort_values(
        ["day", "member"], kind="stable", ignore_index=True)
    counter = frame.groupby("day").cumcount().to_numpy() + 1
    seconds = rng.integers(11 * 3600, 21 * 3600, len(frame))
    stamps = [f"{d:%Y-%m-%d} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
              for d, s in zip(frame["day"], seconds.tolist())]
    stores = np.array([s for s, _ in N.STORES])[rng.integers(0, len(N.STORES), len(frame))]
    return pd.DataFrame({
        "订单号": [f"L{d:%Y%m%d}{c:04d}" for d, c in zip(frame["day"], counter.tolist())],
        "会员卡号": frame["member"], "消费时间": stamps, "门店": stores,
        "渠道": N.CHANNELS[0], "消费金额": [f"{a:.2f}" for a in frame["amount"]],
        "状态": PAID})[VISIT_HEADERS]


def _members(rng: np.random.Generator, members: list[str], end: date) -> pd.DataFrame:
    n = len(members)
    gender = np.where(rng.random(n) < 0.5, "男", "女")
    joined = [f"{end - timedelta(days=int(d)):%Y-%m-%d}" for d in rng.integers(400, 1200, n)]
    return pd.DataFrame({
        "会员卡号": members, "姓名": N.person_names(rng, gender),
        "手机号": N.fake_mobiles(rng, n), "性别": gender,
        "年龄": rng.integers(25, 61, n).astype(str),
        "城市": np.array([c for _, c in N.STORES])[rng.integers(0, len(N.STORES), n)],
        "注册日期": joined, "会员等级": N.MEMBER_LEVELS[1], "标签": ""})[MEMBER_HEADERS]


__all__ = ["BIG_MEAL", "GROUP_SIZES", "LEVELS", "REWARD_SEED", "REWARD_SHARE", "generate_loyalty"]

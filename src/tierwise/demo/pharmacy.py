"""A seeded Chinese pharmacy / POS sales export, written the way such systems write it.

The shape follows a real hospital-pharmacy export (one row per product line): 购药时间 written as
``2018-01-01 星期五`` (a date followed by a weekday, here consistently the wrong one, as in the real
file), 社保卡号 (social-insurance card numbers with leading zeros; some rows have none), 商品编码,
商品名称, 销售数量 (returns are negative quantities), 应收金额 (receivable) and 实收金额 (what was
paid, after the member discount; negative for returns), one blank row, and a few rows dated
2018-02-29, a day that does not exist.

:func:`write_pharmacy` writes it as .xlsx or as a GBK-encoded CSV and returns the truth a test
needs (how many rows must be rejected and why, the revenue actually paid).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import numpy as np

HEADERS = ("购药时间", "社保卡号", "商品编码", "商品名称", "销售数量", "应收金额", "实收金额")
_PRODUCTS = (
    ("236701", "强力VC银翘片", 6.3), ("236702", "清热解毒口服液", 28.0),
    ("861405", "苯磺酸氨氯地平片(络活喜)", 34.5), ("861409", "非洛地平缓释片(波依定)", 31.9),
    ("861456", "酒石酸美托洛尔片(倍他乐克)", 9.8), ("861458", "复方利血平氨苯蝶啶片", 8.2),
    ("861464", "硝苯地平控释片(欣然)", 36.8), ("861607", "开博通", 22.5),
    ("866634", "硝苯地平控释片(拜新同)", 46.0), ("866851", "缬沙坦分散片(易达乐)", 37.0),
    ("867136", "氯沙坦钾片(科素亚)", 56.5), ("868409", "盐酸贝那普利片(洛汀新)", 50.0),
    ("2367011", "高特灵", 5.6), ("2367012", "心痛定", 7.0),
)
_WEEKDAYS = "一二三四五六日"
START, END = dt.date(2018, 1, 1), dt.date(2018, 7, 19)


def _when(day: dt.date) -> str:
    # The real export's weekday is off by four days: trust the date, not the weekday.
    return f"{day.isoformat()} 星期{_WEEKDAYS[(day.weekday() + 4) % 7]}"


def pharmacy_rows(*, n_lines: int = 2000, seed: int = 7) -> tuple[list[list], dict]:
    """Rows (``None`` for an empty cell, one all-empty row) and the truth about them."""
    rng = np.random.default_rng(seed)
    n_cards = max(20, n_lines // 6)
    cards = [f"{rng.integers(10**6, 10**9):09d}" for _ in range(n_cards)]
    weight = rng.pareto(1.5, n_cards) + 0.2
    weight /= weight.sum()
    span = (END - START).days
    rows: list[list] = []
    paid_ok = 0.0
    bought: list[tuple[str, int, dt.date]] = []
    n_returns = max(1, n_lines // 60)
    n_feb29 = max(2, n_lines // 300)
    n_no_card = max(1, n_lines // 200)
    for _ in range(n_lines - n_returns):
        card = cards[int(rng.choice(n_cards, p=weight))]
        day = START + dt.timedelta(days=int(rng.integers(0, span + 1)))
        p = int(rng.integers(len(_PRODUCTS)))
        qty = int(rng.choice([1, 1, 1, 2, 2, 3, 5, 6, 10]))
        due = round(qty * _PRODUCTS[p][2], 2)
        paid = round(due * float(rng.choice([1.0, 0.95, 0.9, 0.88])), 2)
        bought.append((card, p, day))
        rows.append([_when(day), card, _PRODUCTS[p][0], _PRODUCTS[p][1], qty, due, paid])
    for _ in range(n_returns):
        card, p, day = bought[int(rng.integers(len(bought)))]
        back = min(END, day + dt.timedelta(days=int(rng.integers(0, 8))))
        due = round(_PRODUCTS[p][2], 2)
        rows.append([_when(back), card, _PRODUCTS[p][0], _PRODUCTS[p][1], -1, -due, -due])
    order = rng.permutation(len(rows))
    rows = [rows[i] for i in order]
    bad_dates = rng.choice(len(rows), n_feb29, replace=False)
    for i in bad_dates:
        rows[i][0] = "2018-02-29 星期四"
    rest = np.setdiff1d(np.arange(len(rows)), bad_dates)
    no_card = rng.choice(rest, n_no_card, replace=False)
    for i in no_card:
        rows[i][1] = None
    for k, row in enumerate(rows):
        if k not in set(bad_dates.tolist()) and k not in set(no_card.tolist()):
            paid_ok += row[6]
    rows.sort(key=lambda r: r[0])
    rows.insert(len(rows) // 2, [None] * len(HEADERS))
    truth = {"lines": len(rows) - 1, "impossible_dates": n_feb29, "no_card": n_no_card,
             "accepted": len(rows) - 1 - n_feb29 - n_no_card, "returns": n_returns,
             "paid": round(paid_ok, 2), "last_day": END}
    return rows, truth


def write_pharmacy(out_dir: Path, *, fmt: Literal["xlsx", "csv"] = "xlsx", n_lines: int = 2000,
                   seed: int = 7) -> dict:
    """Write ``销售数据.xlsx`` (or a GBK ``销售数据.csv``) into ``out_dir``.

    Returns
    -------
    dict
        ``path`` and the truth: ``lines`` (data rows), ``impossible_dates`` (2018-02-29 rows),
        ``no_card`` (rows without a card number), ``accepted``, ``returns`` and ``paid`` (the sum
        of 实收金额 over the rows an ingest must accept).
    """
    rows, truth = pharmacy_rows(n_lines=n_lines, seed=seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"销售数据.{fmt}"
    if fmt == "xlsx":
        import openpyxl

        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet("Sheet1")
        ws.append(list(HEADERS))
        for row in rows:
            ws.append(row)
        wb.save(path)
    else:
        lines = [",".join(HEADERS)]
        lines += [",".join("" if v is None else str(v) for v in row) for row in rows]
        path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return {"path": path, **truth}


__all__ = ["HEADERS", "pharmacy_rows", "write_pharmacy"]

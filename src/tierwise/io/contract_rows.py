"""The rows of the two B2B inputs: contracts and costs to serve (docs/contracts.md).

Each builder takes intake's rows of one source (:class:`tierwise.io.intake._Rows`) and returns
the canonical columns; every row it cannot use is rejected with its line and a reason through
the same :class:`~tierwise.io.contracts.RowChecks` as orders:

* **contracts**: ``customer_id``, ``starts_at``, ``ends_at`` (dates; both may lie after as_of, a
  contract runs ahead), ``value`` (not negative), optional ``contract_id`` (else one is made
  from the customer, start and product) and ``product``. A contract that ends before it starts
  is rejected; so is a contract id given twice.
* **costs**: ``customer_id`` or ``segment`` (at least one per row), ``period`` (a day, or a month
  such as ``2026-07`` or ``2026年7月``, read as its first day), ``cost_type`` (``visits``,
  ``discounts``, ``service``, ``logistics``, ``other``, or a Chinese word for one of them such as
  拜访 / 折扣 / 服务 / 物流) and ``amount`` (a correction may be negative).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..config.contracts import COST_TYPES
from ..errors import DataContractError
from .values import Parsed, clean_text, is_datetime, to_date_series, to_series

#: Words read as each cost type (compared case-insensitively, spaces removed).
COST_TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "visits": ("visits", "visit", "sales visits", "travel", "拜访", "拜访费", "差旅", "差旅费",
               "上门"),
    "discounts": ("discounts", "discount", "rebate", "rebates", "折扣", "折让", "返利", "让利",
                  "优惠"),
    "service": ("service", "support", "服务", "服务费", "售后", "客服", "技术支持"),
    "logistics": ("logistics", "freight", "shipping", "delivery", "物流", "运输", "运费",
                  "配送", "仓储"),
    "other": ("other", "others", "其他", "其它"),
}
_WORD_TO_TYPE = {re.sub(r"\s+", "", w).casefold(): code
                 for code, words in COST_TYPE_WORDS.items() for w in words}
_MONTH = re.compile(r"^\s*(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*月?|(\d{2}))\s*$")


def _dates(parsed: Parsed | None, r: Any) -> pd.Series:
    if parsed is None:
        arr = pa.nulls(r.n, pa.date32())
        return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=r.frame.index)
    return to_date_series(parsed, r.frame.index)


def _valid(parsed: Parsed | None) -> np.ndarray:
    return ~(parsed.empty | parsed.invalid) if parsed is not None else np.zeros(0, bool)


def contract_rows(r: Any) -> pd.DataFrame:
    """Contracts: who, from when to when, for how much, for which product."""
    ids = r.customer_ids()
    starts = r.date("starts_at", required=True, future=False)
    ends = r.date("ends_at", required=True, future=False)
    value = r.amount("value", required=True)
    with np.errstate(invalid="ignore"):
        negative = np.nan_to_num(value, nan=0.0) < 0
    r.checks.add("value_negative", negative,
                 [f"{r.hm.label('value')}: {v:g} is negative: a contract's value is what the "
                  "customer committed to pay; fix the value" for v in value[negative]],
                 "with a negative contract value", None, "fix the value")
    if starts is not None and ends is not None:
        both = _valid(starts) & _valid(ends)
        backwards = both & (ends.values < starts.values)
        idx = np.flatnonzero(backwards)
        day = pd.Timestamp("1970-01-01")
        shown = [((day + pd.Timedelta(days=int(ends.values[i]))).date().isoformat(),
                  (day + pd.Timedelta(days=int(starts.values[i]))).date().isoformat())
                 for i in idx]
        r.checks.add("contract_backwards", backwards,
                     [f"{r.hm.label('ends_at')}: {e} is before {r.hm.label('starts_at')} {s}: "
                      "swap or fix the dates" for e, s in shown],
                     "that end before they start", None, "swap or fix the dates")
    customer_id = to_series(ids, r.frame.index, empty_as_na=False)
    product = r.text("product")
    start_days = _dates(starts, r)
    given = r.text("contract_id", as_id=True)
    made = (customer_id.astype(str) + ":" + start_days.astype(str) + ":"
            + product.fillna("").astype(str))
    contract_id = given.where(given.notna(), made) if "contract_id" in r.hm.canonical else made
    r.checks.duplicates(contract_id, r.hm.label("contract_id") if "contract_id" in
                        r.hm.canonical else "the derived contract ids", "contract_id")
    return pd.DataFrame({"contract_id": contract_id, "customer_id": customer_id,
                         "starts_at": start_days, "ends_at": _dates(ends, r), "value": value,
                         "product": product}, index=r.frame.index)


def _months_as_days(r: Any) -> None:
    """A period written as a month (``2026-07``, ``2026/7``, ``2026年7月``, ``202607``) is read as
    the month's first day."""
    pos = r.hm.canonical.get("period")
    if pos is None or is_datetime(r.frame[f"c{pos}"]):
        return
    text = pd.Series(clean_text(r.frame[f"c{pos}"]).to_pylist(), index=r.frame.index)

    def day(v: Any) -> Any:
        m = _MONTH.match(v or "")
        if not m:
            return v
        month = m.group(2) or m.group(3)
        return f"{m.group(1)}-{int(month):02d}-01" if 1 <= int(month) <= 12 else v

    r.frame = r.frame.assign(**{f"c{pos}": text.map(day)})


def cost_rows(r: Any) -> pd.DataFrame:
    """Costs to serve: whose (a customer or a segment), when, what kind, how much."""
    if r.col("customer_id") is None and r.col("segment") is None:
        raise DataContractError(
            f"{r.raw.label}: a costs file needs a customer_id or a segment column; the "
            f"headers are: {', '.join(repr(h) for h in r.raw.headers)}",
            "add customer_id = '<header>' or segment = '<header>' under [sources.costs.columns]")
    customer = r.text("customer_id", as_id=True)
    segment = r.text("segment")
    neither = (customer.isna() & segment.isna()).to_numpy()
    r.checks.add("cost_owner_empty", neither,
                 ["neither customer_id nor segment is filled in: give the customer or the "
                  "segment the cost was spent on"] * int(neither.sum()),
                 "with neither a customer nor a segment", "", "fill in one of them")
    _months_as_days(r)
    period = r.date("period", required=True)
    kind_text = r.col("cost_type")
    words = pd.Series(clean_text(kind_text).to_pylist() if kind_text is not None else
                      [""] * r.n, index=r.frame.index)
    codes = words.map(lambda w: _WORD_TO_TYPE.get(re.sub(r"\s+", "", w or "").casefold()))
    blank = (words.fillna("") == "").to_numpy()
    if kind_text is not None:
        r.checks.empty(blank, r.hm.label("cost_type"), "cost_type")
    unknown = codes.isna().to_numpy() & ~blank
    r.checks.add("cost_type_unknown", unknown,
                 [f"{r.hm.label('cost_type')}: {w!r} is not a cost type: use one of "
                  f"{', '.join(COST_TYPES)} (or 拜访, 折扣, 服务, 物流, 其他)"
                  for w in words[unknown]],
                 "with an unknown cost type", None, f"use one of {', '.join(COST_TYPES)}")
    amount = r.amount("amount", required=True)
    return pd.DataFrame({"customer_id": customer, "segment": segment,
                         "period": _dates(period, r), "cost_type": codes.astype("object"),
                         "amount": amount}, index=r.frame.index)


__all__ = ["COST_TYPE_WORDS", "contract_rows", "cost_rows"]

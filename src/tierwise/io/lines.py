"""Order lines and order identity at the door.

A line-level export (the UCI "Online Retail" file, a POS or pharmacy export) has one row per product
line: ``quantity``, ``unit_price``, ``line_amount``, ``product_id``, ``product_name``, ``category``.
This module holds what intake does with them, vectorised like the rest of :mod:`tierwise.io`:

- **amounts**: a line's amount is ``line_amount`` when mapped, else ``amount``, else
  ``quantity x unit_price``;
- **cancellations**: a line is a refund when its amount or quantity is negative, its status is a
  refund status, or its order id starts with a cancellation prefix (``C536379``) followed by a digit;
  a refund's amount is negative;
- **order identity**: the lines of one order share its id and are summed into the order by the
  store; without an order id, an order's id comes from its content (customer, date, amount and its
  position among identical rows; for lines: customer and date), never from the file name, so the
  same rows under another file name are recognised;
- **line checks**: a line repeating an earlier one exactly (same order id, same content) is
  rejected; so is a line naming another customer than its order's first line.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..config import LINE_COLUMNS
from .headers import HeaderMap
from .values import clean_text, raw_text

if TYPE_CHECKING:  # pragma: no cover
    from .intake import _Rows

#: Prefix of ids derived from content (they never collide with a real order id by accident).
DERIVED_PREFIX = "~"
_HASH_KEYS = ("tierwise-order-1", "tierwise-order-2")


def is_line_level(hm: HeaderMap) -> bool:
    """True when any line column (quantity, unit price, product ...) is mapped."""
    return any(name in hm.canonical for name in LINE_COLUMNS)


def relax_required(hm: HeaderMap) -> None:
    """``amount`` is not required when it can be computed (``line_amount``, or quantity x price)."""
    if "amount" not in hm.missing:
        return
    c = hm.canonical
    if "line_amount" in c or ("quantity" in c and "unit_price" in c):
        hm.missing.remove("amount")


def line_amounts(r: _Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(amount, quantity, unit_price) per row; rows whose amount cannot be had are rejected."""
    c = r.hm.canonical
    computed = "line_amount" not in c and "amount" not in c
    quantity = r.amount("quantity", required=computed)
    unit_price = r.amount("unit_price", required=computed)
    if "line_amount" in c:
        return r.amount("line_amount", required=True), quantity, unit_price
    if "amount" in c:
        return r.amount("amount", required=True), quantity, unit_price
    with np.errstate(invalid="ignore", over="ignore"):
        amount = np.round(quantity * unit_price, 10)
    return amount, quantity, unit_price


def cancel_prefixed(r: _Rows, oid: pa.Array | None) -> np.ndarray:
    """Rows whose order id carries a cancellation prefix followed by a digit (``C536379``).

    When half of the ids or more carry it, the prefix is part of the numbering, not a mark of
    cancellation: nothing is read as cancelled and a warning says so.
    """
    prefixes = [p for p in r.intake.cancel_prefixes if p]
    if oid is None or not prefixes or not len(oid):
        return np.zeros(r.n, dtype=bool)
    pattern = "^(" + "|".join(re.escape(p) for p in prefixes) + r")\d"
    hit = pc.fill_null(pc.match_substring_regex(oid, pattern), False).to_numpy(
        zero_copy_only=False)
    filled = int(pc.sum(pc.not_equal(oid, "")).as_py() or 0)
    if hit.any() and 2 * int(hit.sum()) >= filled:
        r.warnings.append(
            f"{r.where('order_id')}: {int(hit.sum())} of {filled} order ids start with "
            f"{' / '.join(prefixes)}; so many are not read as cancellations (set "
            "cancel_prefixes in [intake] when they are)")
        return np.zeros(r.n, dtype=bool)
    return hit


def refund_mask(r: _Rows, amount: np.ndarray, quantity: np.ndarray, by_status: np.ndarray,
                prefixed: np.ndarray) -> np.ndarray:
    """A refund line: negative amount or quantity, a refund status, or a cancellation id."""
    negative = (np.nan_to_num(amount, nan=0.0) < 0) | (np.nan_to_num(quantity, nan=0.0) < 0)
    return negative | by_status | prefixed


def _hex(keys: pd.Series) -> pd.Series:
    """128-bit hex digests of text keys (pandas' SipHash with fixed keys: stable, vectorised)."""
    values = keys.to_numpy(dtype=object)
    if not len(values):
        return pd.Series([], dtype=object)
    parts = [pd.util.hash_array(values, hash_key=k, categorize=False) for k in _HASH_KEYS]
    hi = pd.Series(parts[0]).map("{:016x}".format)
    lo = pd.Series(parts[1]).map("{:016x}".format)
    return DERIVED_PREFIX + hi + lo


def content_ids(r: _Rows, customer: pa.Array, days: np.ndarray, amount: np.ndarray,
                *, lines: bool) -> pd.Series:
    """Order ids from content, the same whatever the file is called.

    Orders: customer, date and amount, plus the position among identical rows (the second of two
    identical orders of a day gets another id). Lines: customer and date, so a customer's lines
    of one day without an order id make one order.
    """
    cust = pd.Series(customer.to_pandas(), dtype=object).fillna("")
    day = pd.Series(np.where(np.isnan(days), -1, days).astype(np.int64)).astype(str)
    key = cust + "\x1f" + day
    if not lines:
        amt = pd.Series(np.round(np.nan_to_num(amount, nan=0.0), 6)).astype(str)
        key = key + "\x1f" + amt
        key = key + "\x1f" + key.groupby(key, sort=False).cumcount().astype(str)
    ids = _hex(key)
    ids.index = r.frame.index
    return ids


def row_content(r: _Rows) -> pd.Series:
    """Every column of each row as read, joined: two lines are repeats when this is equal."""
    cols = [raw_text(r.frame[c]) for c in r.frame.columns]
    if not cols:
        return pd.Series([""] * r.n, index=r.frame.index)
    sep = pa.scalar("\x1f", pa.large_string())
    joined = pc.binary_join_element_wise(*[pc.fill_null(c.cast(pa.large_string()), "")
                                           for c in cols], sep)
    return pd.Series(joined.to_pandas(), index=r.frame.index, dtype=object)


def check_lines(r: _Rows, order_id: pd.Series, customer: pd.Series, has_ids: bool) -> None:
    """Reject exact repeats of a line, and lines naming another customer than their order."""
    if not has_ids:
        return
    label = r.hm.label("order_id")
    content = order_id.astype(object) + "\x1f" + row_content(r)
    r.checks.duplicate_lines(content, order_id, label)
    r.checks.conflicting(order_id, customer, group_column=label,
                         value_column=r.hm.label("customer_id"), name="customer")


def line_columns(r: _Rows, quantity: np.ndarray, unit_price: np.ndarray) -> dict[str, object]:
    """The line columns of the frame (only those mapped; the store fills the rest)."""
    out: dict[str, object] = {}
    c = r.hm.canonical
    if "quantity" in c:
        out["quantity"] = quantity
    if "unit_price" in c:
        out["unit_price"] = unit_price
    for name in ("product_id", "product_name", "category"):
        if name in c:
            out[name] = r.text(name, as_id=name == "product_id")
    return out


def order_id_text(r: _Rows) -> pa.Array | None:
    col = r.col("order_id")
    return None if col is None else clean_text(col)


__all__ = [
    "DERIVED_PREFIX",
    "cancel_prefixed",
    "check_lines",
    "content_ids",
    "is_line_level",
    "line_amounts",
    "line_columns",
    "order_id_text",
    "refund_mask",
    "relax_required",
    "row_content",
]

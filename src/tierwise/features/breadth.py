"""The breadth of a relationship: how many distinct products, categories and channels a customer
has bought (issue 19, seeds audit row 1.16).

A customer buying across many products and channels is tied more closely than one buying a single
item through a single channel, at the same spend. The counts are snapshot metrics, so a scorecard
or key-account criterion can name them as its ``source`` (``distinct_products``,
``distinct_categories``, ``distinct_channels``). Products and categories come from the store's
order lines (:func:`tierwise.store.lines.product_breadth`), channels from the orders on the
run's engine (:meth:`tierwise.engine.orders.OrderTable.distinct_channels`). A count is missing
(not 0) where the data cannot say: a customer without order lines has no product count, and
nobody has a channel count when no order names a channel.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from ..engine.orders import OrderTable
    from ..store import Store

#: The snapshot metrics this module adds.
BREADTH_COLUMNS = ("distinct_products", "distinct_categories", "distinct_channels")


def relationship_breadth(store: Store, orders: OrderTable, as_of: dt.date) -> pd.DataFrame:
    """Per customer key: the ``BREADTH_COLUMNS`` the data can tell (others left out)."""
    parts: list[pd.DataFrame] = []
    if store.has_order_lines():
        lines = store.product_breadth(as_of).set_index("customer_key")
        parts.append(lines.dropna(axis=1, how="all"))
    channels = orders.distinct_channels(as_of)
    if len(channels):
        parts.append(channels.to_frame())
    if not parts:
        return pd.DataFrame(index=pd.Index([], name="customer_key", dtype="int64"))
    out = pd.concat(parts, axis=1)
    out.index.name = "customer_key"
    return out.astype("Int64")


def add_breadth(features: pd.DataFrame, breadth: pd.DataFrame) -> pd.DataFrame:
    """``features`` (one row per ``customer_key``) with the breadth columns merged in."""
    if breadth.empty and not len(breadth.columns):
        return features
    return features.merge(breadth.reset_index(), on="customer_key", how="left")


__all__ = ["BREADTH_COLUMNS", "add_breadth", "relationship_breadth"]

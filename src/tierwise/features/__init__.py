"""Per-customer behaviour metrics as of an explicit date, as Ibis expressions.

:func:`feature_expr` builds every feature column; :func:`rfm_expr` only the RFM summary
(``frequency``, ``recency``, ``T``, ``monetary_value``) that the value models fit on. Both take an
orders table with the store's schema and run on any engine (see :mod:`tierwise.engine`).
"""

from .behaviour import (
    FEATURE_COLUMNS,
    ORDER_COLUMNS,
    ORDERS_SCHEMA,
    PURCHASE_DAY_COLUMNS,
    RFM_COLUMNS,
    feature_expr,
    rfm_expr,
)
from .periods import (
    BUCKET_LABELS,
    FeatureWindows,
    Window,
    feature_windows,
    month_buckets,
    period_containing,
    previous_period,
    same_period_last_year,
)

__all__ = [
    "BUCKET_LABELS",
    "FEATURE_COLUMNS",
    "ORDERS_SCHEMA",
    "ORDER_COLUMNS",
    "PURCHASE_DAY_COLUMNS",
    "RFM_COLUMNS",
    "FeatureWindows",
    "Window",
    "feature_expr",
    "feature_windows",
    "month_buckets",
    "period_containing",
    "previous_period",
    "rfm_expr",
    "same_period_last_year",
]

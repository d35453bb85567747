"""The expected date of a customer's next purchase, from their own rhythm.

Definition (one place; the read model :mod:`tierwise.runview`, the reports, the web and the
campaign target list all use it)::

    next_purchase_expected = last_purchase + round(expected_gap_days) days

``expected_gap_days`` is the customer's own gap between purchase days, shrunk toward the
population's when they have few purchases (:class:`tierwise.lifecycle.rhythm.Rhythm`); a customer
with a single purchase gets the population's gap. The date is not a forecast from the purchase
model: it says when the customer *would* come back if they kept their usual rhythm. A date
before the as-of date means the customer is already behind (``gaps_missed > 1``); how far behind
is what the activity state measures. Customers without a purchase (prospects) or without an
expected gap have no date.

Examples
--------
>>> import pandas as pd
>>> expected_next_purchase(pd.Series(pd.to_datetime(["2026-03-01", None])),
...                        pd.Series([9.6, 4.0])).dt.strftime("%Y-%m-%d").tolist()
['2026-03-11', nan]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The same definition in SQL over ``snapshot_customers`` (a DATE, NULL when either part is).
NEXT_PURCHASE_SQL = ("CAST(CAST(last_purchase AS DATE) "
                     "+ CAST(round(expected_gap_days) AS INTEGER) AS DATE)")


def expected_next_purchase(last_purchase: pd.Series, expected_gap_days: pd.Series) -> pd.Series:
    """``last_purchase + round(expected_gap_days)`` days, as day timestamps (NaT when either part
    is missing or the gap is not finite)."""
    last = pd.to_datetime(last_purchase).dt.normalize()
    gap = pd.to_numeric(expected_gap_days, errors="coerce").astype("float64")
    gap = gap.where(np.isfinite(gap))
    # round half away from zero, as DuckDB's round() does, so SQL and Python agree
    days = np.sign(gap) * np.floor(np.abs(gap) + 0.5)
    return last + pd.to_timedelta(days, unit="D")


__all__ = ["NEXT_PURCHASE_SQL", "expected_next_purchase"]

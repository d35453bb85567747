"""The default as-of date: the last order date of the bulk of the data, never one outlier's.

When no as-of date is given, a run is computed as of the last order date. One mistyped order
(2030-01-01 in a 2024 file) would move the whole analysis years ahead: every customer would look
lost. :func:`default_as_of` therefore sets aside a *tail* of orders that lies far beyond the rest
and names it in a warning.

The rule (documented in docs/lifecycle.md, "The as-of date"): walking back from the latest order
date, the orders after a gap of more than ``gap_days`` (default 90) between consecutive order dates
form an outlying tail when they are at most ``tail_share`` (default 1 %, at least one order) of all
orders. The earliest such gap wins, so a tail of several outliers is set aside together. A business
that closes for a season and reopens is not affected once the new season holds more than 1 % of
the orders; until then the warning says what was set aside and ``--as-of`` overrides it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

GAP_DAYS = 90
TAIL_SHARE = 0.01


@dataclass
class AsOfChoice:
    """The chosen date and the outlying order dates set aside (date, orders), with a warning."""

    as_of: dt.date | None
    outliers: list[tuple[dt.date, int]] = field(default_factory=list)
    warning: str | None = None


def default_as_of(days: list[dt.date] | np.ndarray, counts: list[int] | np.ndarray, *,
                  gap_days: int = GAP_DAYS, tail_share: float = TAIL_SHARE) -> AsOfChoice:
    """The last order date of the bulk of the data (see the module docstring).

    Parameters
    ----------
    days
        Distinct order dates (purchases, not refunds), ascending.
    counts
        Orders on each of those dates.
    gap_days, tail_share
        A tail after a gap longer than ``gap_days`` holding at most ``tail_share`` of all orders
        (at least one) is outlying.

    Examples
    --------
    >>> d = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(300)] + [dt.date(2030, 1, 1)]
    >>> default_as_of(d, [5] * 300 + [1]).as_of
    datetime.date(2024, 10, 26)
    """
    if len(days) == 0:
        return AsOfChoice(None)
    ordinals = np.array([d.toordinal() for d in days], dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    limit = max(1, int(tail_share * counts.sum()))
    tail = np.cumsum(counts[::-1])[::-1]  # orders on or after each date
    gaps = np.diff(ordinals)  # gap before date i+1
    cut = None
    for i in range(len(gaps) - 1, -1, -1):
        if tail[i + 1] > limit:
            break
        if gaps[i] > gap_days:
            cut = i
    if cut is None:
        return AsOfChoice(days[-1])
    outliers = [(days[j], int(counts[j])) for j in range(cut + 1, len(days))]
    shown = ", ".join(f"{d.isoformat()} ({n} order{'s' if n != 1 else ''})"
                      for d, n in outliers[:5]) + (" ..." if len(outliers) > 5 else "")
    n_out = int(tail[cut + 1])
    warning = (f"as_of is {days[cut].isoformat()}, the last order date of the bulk of the data: "
               f"{n_out} order{'s' if n_out != 1 else ''} dated {int(gaps[cut])} days or more "
               f"later {'are' if n_out != 1 else 'is'} left out of this run ({shown}); fix or "
               "remove them, or give --as-of (as_of in the config) to choose the date yourself")
    return AsOfChoice(days[cut], outliers, warning)


__all__ = ["AsOfChoice", "default_as_of"]

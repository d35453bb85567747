"""Calendar windows a feature set is computed over, all derived from one as-of date.

Everything here is plain Python on :class:`datetime.date`: the boundaries become date literals in
the feature query, so every engine compares DATE columns with constants and none has to do
calendar arithmetic of its own.

Conventions
-----------
- A :class:`Window` is a closed interval of days, ``start <= day <= end``.
- The current period is the month or quarter containing ``as_of``; only its days up to and
  including ``as_of`` count ("period to date"), since orders after ``as_of`` are ignored.
- The previous period and the same period last year are whole periods.
- The 10-day buckets of a month are 上旬 (days 1-10), 中旬 (11-20) and 下旬 (21 to the month's end).
- "The last 30 days" is ``(as_of - 30, as_of]``: 30 calendar days ending on ``as_of``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigError

PeriodKind = Literal["month", "quarter"]
PERIOD_KINDS: tuple[str, ...] = ("month", "quarter")
BUCKET_LABELS: tuple[str, str, str] = ("上旬", "中旬", "下旬")
VISIT_WINDOW_DAYS = 30


@dataclass(frozen=True)
class Window:
    """A closed interval of days, ``start <= day <= end``."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        """Number of days in the window."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class FeatureWindows:
    """Every window the feature set needs, for one as-of date and period kind.

    Attributes
    ----------
    as_of
        The as-of date; orders after it are ignored.
    period
        ``"month"`` or ``"quarter"``.
    current
        The current period up to ``as_of`` (period to date).
    previous
        The whole period before the current one.
    last_year
        The whole same period one year earlier.
    recent
        The last 30 days, ``(as_of - 30, as_of]``.
    buckets
        上旬 / 中旬 / 下旬 of the as-of month (whole buckets; days after ``as_of`` hold no orders).
    """

    as_of: dt.date
    period: PeriodKind
    current: Window
    previous: Window
    last_year: Window
    recent: Window
    buckets: tuple[Window, Window, Window]


def _check_kind(period: str) -> None:
    if period not in PERIOD_KINDS:
        raise ConfigError(f"period {period!r} is not supported",
                          f"use one of: {', '.join(PERIOD_KINDS)}")


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def period_containing(day: dt.date, period: PeriodKind = "month") -> Window:
    """The whole month or quarter that contains ``day``.

    Examples
    --------
    >>> period_containing(dt.date(2024, 2, 10))
    Window(start=datetime.date(2024, 2, 1), end=datetime.date(2024, 2, 29))
    >>> period_containing(dt.date(2024, 5, 10), "quarter")
    Window(start=datetime.date(2024, 4, 1), end=datetime.date(2024, 6, 30))
    """
    _check_kind(period)
    if period == "month":
        return Window(day.replace(day=1), _month_end(day.year, day.month))
    first_month = 3 * ((day.month - 1) // 3) + 1
    return Window(dt.date(day.year, first_month, 1), _month_end(day.year, first_month + 2))


def previous_period(day: dt.date, period: PeriodKind = "month") -> Window:
    """The whole period before the one containing ``day``."""
    start = period_containing(day, period).start
    return period_containing(start - dt.timedelta(days=1), period)


def same_period_last_year(day: dt.date, period: PeriodKind = "month") -> Window:
    """The whole period one year before the one containing ``day`` (same month / quarter)."""
    start = period_containing(day, period).start
    return period_containing(start.replace(year=start.year - 1), period)


def month_buckets(day: dt.date) -> tuple[Window, Window, Window]:
    """上旬 (1-10), 中旬 (11-20), 下旬 (21-end) of the month containing ``day``."""
    end = _month_end(day.year, day.month)
    return (
        Window(day.replace(day=1), day.replace(day=10)),
        Window(day.replace(day=11), day.replace(day=20)),
        Window(day.replace(day=21), end),
    )


def recent_window(as_of: dt.date, days: int = VISIT_WINDOW_DAYS) -> Window:
    """``(as_of - days, as_of]``: the last ``days`` calendar days ending on ``as_of``."""
    return Window(as_of - dt.timedelta(days=days - 1), as_of)


def feature_windows(as_of: dt.date, period: PeriodKind = "month") -> FeatureWindows:
    """All windows of the feature set for ``as_of``.

    Examples
    --------
    >>> w = feature_windows(dt.date(2024, 3, 15))
    >>> w.current, w.previous.start, w.last_year.end
    (Window(start=datetime.date(2024, 3, 1), end=datetime.date(2024, 3, 15)), \
datetime.date(2024, 2, 1), datetime.date(2023, 3, 31))
    """
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise TypeError(f"as_of must be a datetime.date, got {as_of!r}")
    containing = period_containing(as_of, period)
    return FeatureWindows(
        as_of=as_of,
        period=period,
        current=Window(containing.start, as_of),
        previous=previous_period(as_of, period),
        last_year=same_period_last_year(as_of, period),
        recent=recent_window(as_of),
        buckets=month_buckets(as_of),
    )


__all__ = [
    "BUCKET_LABELS",
    "PERIOD_KINDS",
    "VISIT_WINDOW_DAYS",
    "FeatureWindows",
    "PeriodKind",
    "Window",
    "feature_windows",
    "month_buckets",
    "period_containing",
    "previous_period",
    "recent_window",
    "same_period_last_year",
]

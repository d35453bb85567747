"""Calendar windows of the feature set: periods, previous period, last year, 10-day buckets."""

from __future__ import annotations

import datetime as dt

import pytest

from tierwise.errors import ConfigError
from tierwise.features.periods import (
    BUCKET_LABELS,
    Window,
    feature_windows,
    month_buckets,
    period_containing,
    previous_period,
    recent_window,
    same_period_last_year,
)

D = dt.date


@pytest.mark.parametrize(("day", "period", "start", "end"), [
    (D(2024, 2, 10), "month", D(2024, 2, 1), D(2024, 2, 29)),
    (D(2023, 2, 28), "month", D(2023, 2, 1), D(2023, 2, 28)),
    (D(2024, 12, 31), "month", D(2024, 12, 1), D(2024, 12, 31)),
    (D(2024, 1, 1), "quarter", D(2024, 1, 1), D(2024, 3, 31)),
    (D(2024, 5, 15), "quarter", D(2024, 4, 1), D(2024, 6, 30)),
    (D(2024, 9, 30), "quarter", D(2024, 7, 1), D(2024, 9, 30)),
    (D(2024, 11, 2), "quarter", D(2024, 10, 1), D(2024, 12, 31)),
])
def test_period_containing(day, period, start, end):
    assert period_containing(day, period) == Window(start, end)


@pytest.mark.parametrize(("day", "period", "start", "end"), [
    (D(2024, 3, 15), "month", D(2024, 2, 1), D(2024, 2, 29)),
    (D(2024, 1, 31), "month", D(2023, 12, 1), D(2023, 12, 31)),
    (D(2024, 2, 1), "quarter", D(2023, 10, 1), D(2023, 12, 31)),
    (D(2024, 8, 31), "quarter", D(2024, 4, 1), D(2024, 6, 30)),
])
def test_previous_period(day, period, start, end):
    assert previous_period(day, period) == Window(start, end)


@pytest.mark.parametrize(("day", "period", "start", "end"), [
    (D(2024, 2, 29), "month", D(2023, 2, 1), D(2023, 2, 28)),   # leap day: whole Feb 2023
    (D(2025, 2, 10), "month", D(2024, 2, 1), D(2024, 2, 29)),
    (D(2024, 5, 15), "quarter", D(2023, 4, 1), D(2023, 6, 30)),
    (D(2024, 12, 31), "quarter", D(2023, 10, 1), D(2023, 12, 31)),
])
def test_same_period_last_year(day, period, start, end):
    assert same_period_last_year(day, period) == Window(start, end)


@pytest.mark.parametrize(("day", "last"), [
    (D(2024, 2, 5), D(2024, 2, 29)), (D(2023, 2, 28), D(2023, 2, 28)),
    (D(2024, 4, 30), D(2024, 4, 30)), (D(2024, 1, 21), D(2024, 1, 31)),
])
def test_month_buckets(day, last):
    b1, b2, b3 = month_buckets(day)
    first = day.replace(day=1)
    assert b1 == Window(first, first.replace(day=10))
    assert b2 == Window(first.replace(day=11), first.replace(day=20))
    assert b3 == Window(first.replace(day=21), last)
    assert BUCKET_LABELS == ("上旬", "中旬", "下旬")


def test_recent_window_is_30_days_ending_on_as_of():
    w = recent_window(D(2024, 3, 15))
    assert w == Window(D(2024, 2, 15), D(2024, 3, 15))
    assert w.days == 30
    assert D(2024, 2, 14) not in w and D(2024, 2, 15) in w and D(2024, 3, 16) not in w


def test_feature_windows_month_and_quarter():
    w = feature_windows(D(2024, 3, 15))
    assert w.current == Window(D(2024, 3, 1), D(2024, 3, 15))  # period to date
    assert w.previous == Window(D(2024, 2, 1), D(2024, 2, 29))
    assert w.last_year == Window(D(2023, 3, 1), D(2023, 3, 31))
    assert w.buckets[2] == Window(D(2024, 3, 21), D(2024, 3, 31))

    q = feature_windows(D(2024, 5, 15), "quarter")
    assert q.current == Window(D(2024, 4, 1), D(2024, 5, 15))
    assert q.previous == Window(D(2024, 1, 1), D(2024, 3, 31))
    assert q.last_year == Window(D(2023, 4, 1), D(2023, 6, 30))
    assert q.buckets[0] == Window(D(2024, 5, 1), D(2024, 5, 10))  # buckets: the as-of month


def test_bad_period_and_as_of():
    with pytest.raises(ConfigError, match="'year'.*month, quarter"):
        feature_windows(D(2024, 1, 1), "year")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="datetime.date"):
        feature_windows(dt.datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="before it starts"):
        Window(D(2024, 1, 2), D(2024, 1, 1))

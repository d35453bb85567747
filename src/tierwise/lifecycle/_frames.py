"""Checks and conversions the lifecycle modules share: their config section, required columns,
numbers and the as-of date."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

import numpy as np
import pandas as pd

from ..config import Config, _Section
from ..errors import ConfigError, DataContractError

S = TypeVar("S", bound=_Section)


def _section(config: Config | _Section | None, name: str, cls: type[S]) -> S:
    """The ``name`` section of a whole Config, the section itself, or its defaults (another
    section: the defaults too)."""
    if isinstance(config, cls):
        return config
    if config is None or (isinstance(config, _Section) and not hasattr(config, name)):
        return cls()
    section = getattr(config, name, None)
    if isinstance(section, cls):
        return section
    raise ConfigError(f"expected a tierwise Config or {cls.__name__}, got {type(config).__name__}",
                      "pass the result of tierwise.config.load_config(...)")


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"{what} lacks column(s) {', '.join(missing)} "
            f"(has: {', '.join(map(str, frame.columns))})",
            "compute the features first (tierwise run) or pass a frame with these columns")


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as float64 with NaN for missing values, keeping the frame's index."""
    values = pd.to_numeric(frame[column], errors="coerce")
    return pd.Series(values.to_numpy(dtype="float64", na_value=np.nan), index=frame.index)


def _timestamp(as_of: dt.date | str | pd.Timestamp | None, what: str) -> pd.Timestamp:
    if as_of is None:
        raise DataContractError(f"{what} needs an as-of date",
                                "pass as_of=, e.g. the last order date (there is no hidden clock)")
    return pd.Timestamp(as_of).normalize()


def in_engine(orders: object) -> bool:
    """Whether ``orders`` is the engine's :class:`~tierwise.engine.orders.OrderTable` (its
    aggregates run where the features run) rather than a DataFrame of orders."""
    from ..engine.orders import OrderTable

    return isinstance(orders, OrderTable)

"""Small helpers shared by the tiering modules: languages, columns and their labels."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataContractError
from ..i18n import name_of

Lang = Literal["en", "zh"]
LANGS = ("en", "zh")


def check_lang(lang: str) -> Lang:
    """Return ``lang`` when it is a supported language, else raise a ConfigError."""
    if lang not in LANGS:
        raise ConfigError(f"language {lang!r} is not supported", f"use one of {list(LANGS)}")
    return lang  # type: ignore[return-value]


def label(column: str, lang: Lang) -> str:
    """The plain-word label of a column (its name when it has none)."""
    return name_of("column", column, lang)


def require_columns(frame: pd.DataFrame, columns: Iterable[str], purpose: str,
                    hint: str | None = None) -> None:
    """Raise a DataContractError naming every required column the frame lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"{purpose} needs column(s) {missing}; the frame has {sorted(map(str, frame.columns))}",
            hint)


def numeric_column(frame: pd.DataFrame, column: str, purpose: str) -> np.ndarray:
    """A column as float (NaN for missing); a ConfigError when it holds no numbers at all."""
    if column not in frame.columns:
        raise ConfigError(
            f"{purpose}: column '{column}' is not in the data",
            f"available columns: {sorted(map(str, frame.columns))}")
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if raw.notna().any() and np.isnan(values).all():
        raise ConfigError(f"{purpose}: column '{column}' is not numeric "
                          f"(e.g. {raw.dropna().iloc[0]!r})", "choose a numeric column")
    return values


def purchases(frame: pd.DataFrame) -> np.ndarray:
    """Purchase occasions per customer: ``frequency + 1``; 0 when the customer never bought."""
    require_columns(frame, ["frequency"], "grading customers (purchases = frequency + 1)",
                    "pass the per-customer features from tierwise.features")
    freq = pd.to_numeric(frame["frequency"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(freq), 0.0, freq + 1.0)


def customer_ids(frame: pd.DataFrame) -> pd.Series:
    """The ``customer_id`` column as stripped text (the key overrides and snapshots join on)."""
    require_columns(frame, ["customer_id"], "matching customers")
    return frame["customer_id"].astype("string").str.strip()

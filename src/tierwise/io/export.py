"""Writing the per-customer result table of a run to CSV, Parquet or Excel."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from ..privacy import mask_contacts
from ..store import Store
from .sheets import neutralise_frame, write_frame_xlsx

FORMATS = ("csv", "parquet", "xlsx")


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int


def export_customers(store: Store, *, run: int | str = "latest", fmt: str = "csv",
                     out: Path | None = None, with_contacts: bool = False) -> Written:
    """Write one run's per-customer results; phone numbers are masked unless ``with_contacts``.

    CSV is UTF-8 with a BOM so that Excel shows Chinese text correctly. In CSV and xlsx, text
    that a spreadsheet would run as a formula gets an apostrophe in front
    (:func:`tierwise.io.sheets.neutralise`); Parquet keeps values as they are.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r} is not supported", f"use one of: {', '.join(FORMATS)}")
    info = store.run_info(run)
    frame = contract_columns(store.snapshot(info["run_id"]), info)
    if not with_contacts:
        frame = mask_contacts(frame)
    path = Path(out) if out else Path(f"customers-run{info['run_id']}.{fmt}")
    title = f"run {info['run_id']} {info['period']}"
    with replacing(path) as tmp:
        if fmt == "csv":
            neutralise_frame(frame).to_csv(tmp, index=False, encoding="utf-8-sig")
        elif fmt == "parquet":  # for programs, not spreadsheets: values as they are
            frame.to_parquet(tmp, index=False)
        else:
            write_frame_xlsx(frame, tmp, sheet_name="customers", title=title)
    return Written(path, len(frame))


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary ``<path>.part`` to write, renamed to ``path`` when the block succeeds and
    removed when it fails (a full disk leaves neither a half file nor a changed ``path``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def contract_columns(frame: pd.DataFrame, info: dict) -> pd.DataFrame:
    """Name the horizon-dependent columns as the export contract does (``..._<N>d``)."""
    settings = (info.get("meta", {}).get("value_model") or {}).get("settings", {})
    n = settings.get("purchase_horizon_days")
    if n is None:
        return frame
    n = int(n)
    return frame.rename(columns={"expected_purchases": f"expected_purchases_{n}d",
                                 "purchase_likelihood": f"purchase_likelihood_{n}d"})

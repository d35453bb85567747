"""Writing the per-customer result table of a run to CSV, Parquet or Excel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from ..privacy import mask_contacts
from ..store import Store

FORMATS = ("csv", "parquet", "xlsx")


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int


def export_customers(store: Store, *, run: int | str = "latest", fmt: str = "csv",
                     out: Path | None = None, with_contacts: bool = False) -> Written:
    """Write one run's per-customer results; phone numbers are masked unless ``with_contacts``.

    CSV is UTF-8 with a BOM so that Excel shows Chinese text correctly.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r} is not supported", f"use one of: {', '.join(FORMATS)}")
    info = store.run_info(run)
    frame = contract_columns(store.snapshot(info["run_id"]), info)
    if not with_contacts:
        frame = mask_contacts(frame)
    path = Path(out) if out else Path(f"customers-run{info['run_id']}.{fmt}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    if fmt == "csv":
        frame.to_csv(tmp, index=False, encoding="utf-8-sig")
    elif fmt == "parquet":
        frame.to_parquet(tmp, index=False)
    else:
        _write_xlsx(frame, tmp, title=f"run {info['run_id']} {info['period']}")
    tmp.replace(path)
    return Written(path, len(frame))


def contract_columns(frame: pd.DataFrame, info: dict) -> pd.DataFrame:
    """Name the horizon-dependent columns as the export contract does (``..._<N>d``)."""
    settings = (info.get("meta", {}).get("value_model") or {}).get("settings", {})
    n = settings.get("purchase_horizon_days")
    if n is None:
        return frame
    n = int(n)
    return frame.rename(columns={"expected_purchases": f"expected_purchases_{n}d",
                                 "purchase_likelihood": f"purchase_likelihood_{n}d"})


def _write_xlsx(frame: pd.DataFrame, path: Path, *, title: str) -> None:
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        frame.to_excel(writer, sheet_name="customers", index=False)
        sheet = writer.sheets["customers"]
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, len(frame), max(len(frame.columns) - 1, 0))
        for i, col in enumerate(frame.columns):
            sample = frame[col].astype(str).head(200)
            # CJK characters take two columns in Excel.
            width = max([_display_width(col)] + [_display_width(v) for v in sample])
            sheet.set_column(i, i, min(max(width + 2, 8), 40))
        writer.book.set_properties({"title": title})


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))

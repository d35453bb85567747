"""Rejects files: ``<rejects_dir>/<source stem>.<kind>.rejects.csv``.

UTF-8 with a BOM (so Excel shows Chinese text), columns ``source, line, reason`` and then the
original columns as read. A file is replaced on each ingest of its source (written to a temporary
file, then renamed) and removed when nothing was rejected, so it never describes an older run.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from pathlib import Path

import pandas as pd

from ..errors import DataContractError

FIXED = ("source", "line", "reason")


def rejects_path(rejects_dir: Path, stem: str, kind: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem) or "source"
    return Path(rejects_dir) / f"{safe}.{kind}.rejects.csv"


def _rows(frame: pd.DataFrame):
    for row in frame.itertuples(index=False, name=None):
        yield ["" if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in row]


def write_rejects(frame: pd.DataFrame, path: Path) -> Path | None:
    """Write (or remove, when ``frame`` is empty) the rejects file; returns its path or None.

    ``frame`` has the columns ``source, line, reason`` followed by the original columns.
    """
    path = Path(path)
    if not len(frame):
        if path.exists():
            path.unlink()
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([str(c) for c in frame.columns])
            writer.writerows(_rows(frame))
        os.replace(tmp, path)
    except OSError as exc:
        raise DataContractError(f"cannot write the rejects file {path} ({exc.strerror or exc})",
                                "check that rejects_dir in [intake] is a writable folder") from None
    return path


def append_rejects(frame: pd.DataFrame, path: Path) -> Path:
    """Add rows to a rejects file (creating it, with BOM and header, when it does not exist)."""
    path = Path(path)
    if not path.exists():
        return write_rejects(frame, path) or path
    try:
        with path.open("a", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(_rows(frame))
    except OSError as exc:
        raise DataContractError(f"cannot write the rejects file {path} ({exc.strerror or exc})",
                                "check that rejects_dir in [intake] is a writable folder") from None
    return path


def read_rejects(path: Path) -> pd.DataFrame:
    """Read a rejects file back (all text; for tests and reports)."""
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


__all__ = ["FIXED", "append_rejects", "read_rejects", "rejects_path", "write_rejects"]

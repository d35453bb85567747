"""What an uploaded export holds and what an ingest would do with it, without writing anything.

:func:`preview_upload` runs the detection behind ``tierwise init --from``
(:func:`tierwise.io.detect.detect_source`: encoding, header mapping, date format, order lines)
and then the real intake in its checking mode (:func:`tierwise.io.check_source`), with the
mapping the person may have adjusted: rows in, accepted, rejected, one line per kind of
rejected row, and the first rejected rows with their line and reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import (
    CANONICAL_CUSTOMER_COLUMNS,
    CANONICAL_LEAD_COLUMNS,
    CANONICAL_ORDER_COLUMNS,
    IntakeConfig,
    SourceConfig,
)
from ..errors import DataContractError
from ..io.detect import Detection, detect_source
from ..io.headers import (
    CONTRACT_COLUMNS,
    COST_COLUMNS,
    FEEDBACK_COLUMNS,
    REQUIRED,
    SURVEY_COLUMNS,
)
from ..io.intake import check_source
from ..io.readers import read_file
from ..io.values import raw_text

#: The inputs a file can be uploaded for (the sources of the config).
KINDS = ("orders", "customers", "survey", "feedback", "leads", "contracts", "costs")
#: Canonical columns offered in the mapping form, per kind (required ones first).
MAPPABLE: dict[str, tuple[str, ...]] = {
    kind: (*REQUIRED[kind], *(c for c in names if c not in REQUIRED[kind]))
    for kind, names in (("orders", CANONICAL_ORDER_COLUMNS),
                        ("customers", CANONICAL_CUSTOMER_COLUMNS), ("survey", SURVEY_COLUMNS),
                        ("feedback", FEEDBACK_COLUMNS), ("leads", CANONICAL_LEAD_COLUMNS),
                        ("contracts", CONTRACT_COLUMNS), ("costs", COST_COLUMNS))}
SAMPLE_ROWS = 5
FIRST_REJECTS = 20


@dataclass
class UploadPreview:
    """The detection and the dry run of one uploaded file (see the module docstring)."""

    kind: str
    file_name: str
    format: str
    encoding: str | None
    rows: int
    headers: list[str]
    columns: dict[str, str]  # canonical -> header, as the ingest would use it
    detected: dict[str, str]  # canonical -> header, as detection proposed it
    date_format: str | None
    level: str
    findings: list[list[str]]
    warnings: list[str]
    sample: list[list[str]]
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    row_problems: list[str] = field(default_factory=list)
    rows_in: int = 0
    accepted: int = 0
    rejected: int = 0
    first_rejects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """Whether an ingest of the file would run (rejected rows do not stop it)."""
        return not self.missing and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "file_name": self.file_name, "format": self.format,
                "encoding": self.encoding, "rows": self.rows, "headers": list(self.headers),
                "columns": dict(self.columns), "detected": dict(self.detected),
                "mappable": list(MAPPABLE[self.kind]), "required": list(REQUIRED[self.kind]),
                "date_format": self.date_format, "level": self.level,
                "findings": [list(f) for f in self.findings], "warnings": list(self.warnings),
                "sample": [list(r) for r in self.sample], "missing": list(self.missing),
                "problems": list(self.problems), "row_problems": list(self.row_problems),
                "rows_in": self.rows_in, "accepted": self.accepted, "rejected": self.rejected,
                "first_rejects": [dict(r) for r in self.first_rejects], "ready": self.ready}


def preview_upload(path: Path, kind: str, *, intake: IntakeConfig, timezone: str,
                   columns: dict[str, str] | None = None, date_format: str | None = None,
                   file_name: str | None = None, today: dt.date | None = None) -> UploadPreview:
    """Detect how ``path`` is written and dry-run the intake on it.

    Parameters
    ----------
    path
        The uploaded file (CSV in any common encoding, .xlsx or .parquet).
    kind
        One of :data:`KINDS`: ``"orders"``, ``"customers"``, ``"survey"``, ``"feedback"``,
        ``"leads"``, ``"contracts"`` or ``"costs"``.
    intake, timezone
        The config's ``[intake]`` rules and time zone (the dry run applies them as ingest would).
    columns
        Changes to the detected mapping: canonical name -> header, ``""`` to drop a column.
    date_format
        A date format to use instead of the detected one (orders).
    file_name
        The name shown in messages (default: the file's own name).
    today
        The day of ingest (rows dated after it are rejected, as ``tierwise ingest`` does).

    Raises
    ------
    DataContractError
        When the file cannot be read as a table at all (not a table, unknown encoding, empty).
    """
    if kind not in KINDS:
        raise DataContractError(f"unknown kind of file {kind!r}",
                                f"choose one of {', '.join(KINDS)}")
    path = Path(path)
    shown = file_name or path.name
    if path.stat().st_size == 0:
        raise DataContractError(f"{shown}: the file is empty",
                                "export the data again: the file has no header row and no rows")
    try:
        det = detect_source(path, kind=kind, timezone=timezone)
    except DataContractError as exc:
        raise DataContractError(str(exc).replace(str(path), shown)) from None
    mapping = _mapping(det, columns or {}, kind)
    fmt = date_format if date_format is not None else det.date_format
    preview = UploadPreview(
        kind=kind, file_name=shown, format=det.format, encoding=det.encoding, rows=det.rows,
        headers=[], columns=mapping, detected=dict(det.columns), date_format=fmt or None,
        level=det.level, findings=[[f.what, f.found, f.how] for f in det.findings],
        warnings=list(det.warnings), sample=[])
    preview.headers, preview.sample = _sample(path, det, shown)
    if not preview.headers:
        raise DataContractError(f"{shown}: the file is empty (no header row)",
                                "export the data again with a header row")
    preview.missing = [c for c in REQUIRED[kind] if c not in mapping
                       and not _lines_cover(kind, c, mapping)]
    rules = intake.model_copy(update={"date_format": fmt or None})
    check = check_source(SourceConfig(path=path, columns=mapping), kind=kind,  # type: ignore[arg-type]
                         intake=rules, timezone=timezone, as_of=None, base_dir=path.parent,
                         today=today, first=FIRST_REJECTS)
    preview.problems = [p.replace(path.as_posix(), shown) for p in check.problems]
    preview.row_problems = [p.replace(path.as_posix(), shown) for p in check.row_problems]
    preview.warnings += [w.replace(path.as_posix(), shown) for w in check.warnings
                         if w not in preview.warnings]
    preview.rows_in, preview.rejected = check.rows_in, check.rejected
    preview.accepted = check.rows_in - check.rejected if not check.problems else 0
    preview.first_rejects = check.first_rejects
    if det.rows == 0:
        preview.problems.append(f"{shown}: the file has a header row but no rows of data "
                                "(export the data again, with its rows)")
    return preview


def _mapping(det: Detection, changes: dict[str, str], kind: str) -> dict[str, str]:
    """The detected mapping with the person's changes (only headers the file has)."""
    mapping = dict(det.columns)
    for name, header in changes.items():
        if name not in MAPPABLE[kind]:
            continue
        if header:
            mapping = {n: h for n, h in mapping.items() if h != header}
            mapping[name] = header
        else:
            mapping.pop(name, None)
    return mapping


def _lines_cover(kind: str, name: str, mapping: dict[str, str]) -> bool:
    """Order lines: quantity x unit price stands in for a missing amount."""
    return kind == "orders" and name == "amount" and {"quantity", "unit_price"} <= set(mapping)


def _sample(path: Path, det: Detection, shown: str) -> tuple[list[str], list[list[str]]]:
    raw = read_file(path, label=shown, fmt=det.format, encoding=det.encoding or "auto",
                    delimiter=det.delimiter)
    head = raw.frame.head(SAMPLE_ROWS)
    cells = [raw_text(head[c]).to_pylist() for c in head.columns]
    rows = [["" if v is None else str(v) for v in row] for row in zip(*cells, strict=True)]
    return list(raw.headers), rows


__all__ = ["FIRST_REJECTS", "KINDS", "MAPPABLE", "SAMPLE_ROWS", "UploadPreview",
           "preview_upload"]

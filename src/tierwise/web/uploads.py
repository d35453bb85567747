"""The setup page's desk: uploaded files waiting to be confirmed, and what confirming does.

An upload is saved under ``<config folder>/uploads/pending/<token>/`` with a small ``upload.json``
(kind, original name, who, when, the mapping changes made so far); nothing else changes until
it is confirmed. Confirming moves the file to ``uploads/<kind>/<name>``, writes it into the config
(:func:`tierwise.uploads.write_source`), reloads the config, and starts the background job
(:func:`tierwise.uploads.start_job`). The routes in :mod:`tierwise.web.setup` only call these.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..config import load_config
from ..errors import DataContractError
from ..uploads import KINDS, UploadPreview, preview_upload, read_job, start_job, write_source
from ..uploads.jobs import JobRunning, job_running
from .context import WebContext
from .errors import NotFound, WebError

#: File names the setup page takes (the readers know them by content too).
EXTENSIONS = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".parquet")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
Kind = Literal["orders", "customers", "survey", "feedback", "leads", "contracts", "costs"]


class UploadTooLarge(WebError):
    status, code = 413, "too_large"


class BadUpload(WebError):
    status, code = 400, "bad_file"


class Busy(WebError):
    status, code = 409, "job_running"


# -- API shapes -----------------------------------------------------------------------------------
class RejectedRowOut(BaseModel):
    line: int = Field(description="line in the file (the header is line 1)")
    reason: str
    values: list[str]


class UploadOut(BaseModel):
    """What was detected in an uploaded file and what an ingest would do with it."""

    model_config = ConfigDict(extra="ignore")
    token: str = Field(description="names the upload in the next calls")
    kind: Kind
    file_name: str
    format: str
    encoding: str | None
    rows: int
    headers: list[str]
    columns: dict[str, str] = Field(description="canonical column -> header, as ingest would "
                                                "use them")
    detected: dict[str, str]
    mappable: list[str]
    required: list[str]
    date_format: str | None
    level: str
    findings: list[list[str]]
    warnings: list[str]
    sample: list[list[str]]
    missing: list[str] = Field(description="required columns with no header: confirm refuses")
    problems: list[str] = Field(description="problems that would stop an ingest")
    row_problems: list[str] = Field(description="one line per kind of rejected row")
    rows_in: int
    accepted: int
    rejected: int
    first_rejects: list[RejectedRowOut]
    ready: bool


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    columns: dict[str, str] = Field(default_factory=dict, max_length=40,
                                    description="canonical column -> header ('' drops it)")
    date_format: str | None = Field(None, max_length=40)


class JobOut(BaseModel):
    model_config = ConfigDict(extra="ignore")
    job_id: str | None = None
    kind: str | None = None
    file: str | None = None
    user: str | None = None
    status: Literal["running", "done", "failed", "interrupted"]
    phase: str | None = None
    step: str | None = None
    percent: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    message: str | None = None
    run_id: int | None = None
    period: str | None = None
    intake: list[dict[str, Any]] = Field(default_factory=list)


class JobStateOut(BaseModel):
    job: JobOut | None


# -- the desk -------------------------------------------------------------------------------------
@dataclass
class Pending:
    token: str
    folder: Path
    meta: dict[str, Any]

    @property
    def file(self) -> Path:
        return self.folder / self.meta["stored_as"]


def uploads_dir(ctx: WebContext) -> Path:
    return ctx.config_path.resolve().parent / "uploads"


def safe_name(name: str) -> str:
    """The file's own name without folders or characters a file system may refuse."""
    base = Path(name.replace("\\", "/")).name.strip() or "upload"
    base = re.sub(r"[^\w.\-() \u4e00-\u9fff]", "_", base)[:120]
    return base.lstrip(".") or "upload"


def check_name(name: str) -> str:
    """Refuse a file that is clearly not a table before reading it."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xls":
        raise BadUpload(f"{name}: old Excel files (.xls) are not read",
                        "open it in Excel and save it as .xlsx, or export CSV")
    if suffix not in EXTENSIONS:
        raise BadUpload(f"{name}: this is not a table file tierwise reads",
                        "upload a CSV (any encoding, e.g. GBK or UTF-8) or an Excel .xlsx file")
    return name


def new_pending(ctx: WebContext, kind: str, name: str, user: str) -> Pending:
    if kind not in KINDS:
        raise BadUpload(f"unknown kind of file {kind!r}", f"choose one of {', '.join(KINDS)}")
    token = secrets.token_urlsafe(18)
    folder = uploads_dir(ctx) / "pending" / token
    folder.mkdir(parents=True, exist_ok=False)
    meta = {"kind": kind, "name": name, "stored_as": safe_name(name), "user": user,
            "uploaded_at": dt.datetime.now().isoformat(timespec="seconds"), "columns": {},
            "date_format": None}
    pending = Pending(token, folder, meta)
    save_meta(pending)
    return pending


def save_meta(pending: Pending) -> None:
    (pending.folder / "upload.json").write_text(json.dumps(pending.meta, ensure_ascii=False),
                                                encoding="utf-8")


def get_pending(ctx: WebContext, token: str) -> Pending:
    folder = uploads_dir(ctx) / "pending" / token
    if not TOKEN.match(token) or not (folder / "upload.json").is_file():
        raise NotFound("no such upload (it was confirmed, removed, or never made)",
                       "upload the file again on the setup page")
    meta = json.loads((folder / "upload.json").read_text(encoding="utf-8"))
    return Pending(token, folder, meta)


def drop_pending(pending: Pending) -> None:
    shutil.rmtree(pending.folder, ignore_errors=True)


def preview(ctx: WebContext, pending: Pending, *, today: dt.date) -> UploadPreview:
    """The detection and dry run of a pending upload, with its mapping changes so far."""
    cfg = ctx.settings
    try:
        return preview_upload(pending.file, pending.meta["kind"], intake=cfg.intake,
                              timezone=cfg.timezone, columns=pending.meta.get("columns") or {},
                              date_format=pending.meta.get("date_format"),
                              file_name=pending.meta["name"], today=today)
    except DataContractError as exc:
        raise BadUpload(exc.message, exc.hint) from None


def set_mapping(pending: Pending, columns: dict[str, str], date_format: str | None) -> None:
    pending.meta["columns"] = {k: v for k, v in columns.items() if isinstance(v, str)}
    pending.meta["date_format"] = (date_format or "").strip() or None
    save_meta(pending)


def job_state(ctx: WebContext) -> dict[str, Any] | None:
    return read_job(ctx.store.path)


def confirm(ctx: WebContext, pending: Pending, user: str, *, today: dt.date,
            language: str | None) -> dict[str, Any]:
    """Write the upload into the config and start ingest and run (see the module docstring)."""
    if job_running(ctx.store.path):
        raise Busy(str(JobRunning(read_job(ctx.store.path))))
    found = preview(ctx, pending, today=today)
    if not found.ready:
        what = found.problems or [f"no column found for {', '.join(found.missing)}"]
        raise BadUpload(f"{found.file_name} cannot be ingested yet: {'; '.join(what)}",
                        "choose the right header for each required column, then check again")
    kind = pending.meta["kind"]
    target = uploads_dir(ctx) / kind / pending.meta["stored_as"]
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(pending.file, target.with_name(target.name + ".tmp"))
    target.with_name(target.name + ".tmp").replace(target)
    date_format = found.date_format if kind == "orders" and found.date_format else None
    write_source(ctx.config_path, kind, target, found.columns, date_format=date_format,
                 language=language)
    fresh = load_config(ctx.config_path)
    ctx.settings = fresh
    try:
        state = start_job(ctx.config_path, ctx.store.path, kind=kind,
                          file_name=found.file_name, user=user, today=today)
    except JobRunning as exc:
        raise Busy(str(exc)) from None
    drop_pending(pending)
    return state


__all__ = ["BadUpload", "Busy", "JobOut", "JobStateOut", "MappingIn", "Pending", "UploadOut",
           "UploadTooLarge", "check_name", "confirm", "drop_pending", "get_pending", "job_state",
           "new_pending", "preview", "safe_name", "set_mapping", "uploads_dir"]

"""Scheduled work: new exports dropped into an inbox are ingested, the periods that are due run,
alerts and the weekly digest go out (``tierwise watch``, ``watch --once``, ``serve --schedule``).

One pass (:func:`watch_once`):

1. **Inbox.** Each file in ``[watch] inbox`` whose name matches ``patterns`` and that has not
   changed for ``settle_seconds`` (a file still being copied waits) is recognised by the SHA-256
   of its content. A content seen before is not read again; a new one goes through the normal
   ingest (:func:`tierwise.pipeline.ingest`, rejects files and counts as ever), read with the
   settings of ``[sources.customers]`` when its name matches ``customers_files``, else of
   ``[sources.orders]``. The file then moves to ``processed`` (or ``failed``, with the reason)
   and its hash is kept in the store (``inbox_files``).
2. **Runs.** The periods that are due run through :func:`tierwise.pipeline.run`, the code path
   of ``tierwise run``: every period end after the latest run up to the data's as-of date, then
   that date itself (re-running it when new files arrived). With nothing new, nothing runs.
3. **Alerts.** Each new run's alerts are sent (:func:`tierwise.alerts.send_alerts`); without a
   new run the latest run's are looked at again, so a delivery that failed is retried and one that
   went out is not repeated. From ``[alerts] digest_weekday`` on, the week's digest goes out once.

A second pass over the same files changes nothing: they are gone from the inbox, a copy dropped
again is recognised by its hash, no period is due and every alert is already in the sent log.
The ingest and the record of the file are two steps: a pass stopped between them ingests the
file again next time, which replaces the same orders (ingest is idempotent) and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Config, SourceConfig, SourcesConfig
from .errors import TierwiseError
from .store import Store

Progress = Callable[[str], None]
_SKIP_PREFIXES = (".", "~$", "~")
_SKIP_SUFFIXES = (".tmp", ".part", ".crdownload", ".partial")


def _quiet(_: str) -> None:
    return None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass
class WatchPass:
    """What one pass did: files seen, runs made, alerts and digest sent, problems met."""

    files: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    digest: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ingested(self) -> int:
        return sum(1 for f in self.files if f["status"] == "ingested")

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "runs": self.runs, "alerts": self.alerts,
                "digest": self.digest, "problems": self.problems}


# -- the inbox ----------------------------------------------------------------------------------
def inbox_folders(cfg: Config) -> tuple[Path, Path, Path]:
    """The inbox, and where processed and failed files go."""
    inbox = cfg.resolve(cfg.watch.inbox)
    processed = cfg.resolve(cfg.watch.processed) if cfg.watch.processed else inbox / "processed"
    failed = cfg.resolve(cfg.watch.failed) if cfg.watch.failed else inbox / "failed"
    return inbox, processed, failed


def _matches(name: str, patterns: list[str]) -> bool:
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, p.lower()) for p in patterns)


def waiting_files(cfg: Config, *, now: float | None = None) -> list[Path]:
    """The inbox's files a pass takes now, oldest first (see the module docstring)."""
    inbox, _, _ = inbox_folders(cfg)
    if not inbox.is_dir():
        return []
    now = time.time() if now is None else now
    found = []
    for path in inbox.iterdir():
        name = path.name
        if (not path.is_file() or name.startswith(_SKIP_PREFIXES)
                or name.lower().endswith(_SKIP_SUFFIXES)
                or not _matches(name, cfg.watch.patterns)):
            continue
        if now - path.stat().st_mtime < cfg.watch.settle_seconds:
            continue
        found.append(path)
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


#: The inbox's kinds of file besides orders, each with its ``[watch] <kind>_files`` patterns,
#: in the order they are tried (a name matching none is an orders export).
FILE_KINDS = ("customers", "leads", "survey", "feedback", "contracts", "costs")


def file_kind(cfg: Config, name: str) -> str:
    """The input ``name`` is read as: the first of :data:`FILE_KINDS` whose
    ``[watch] <kind>_files`` patterns it matches (``customers*``, ``leads*``, ``survey*``,
    ``feedback*``, ``contracts*``, ``costs*`` and their Chinese names), else ``orders``."""
    return next((kind for kind in FILE_KINDS
                 if _matches(name, getattr(cfg.watch, f"{kind}_files"))), "orders")


def source_for(cfg: Config, path: Path, kind: str) -> SourcesConfig:
    """The inputs that read ``path`` as ``kind``, with that kind's configured settings (header
    mapping, encoding, sheet, delimiter; without that source, headers are recognised as
    ``tierwise init --from`` does)."""
    base = getattr(cfg.sources, kind)
    settings = {} if base is None else {
        "encoding": base.encoding, "sheet": base.sheet, "delimiter": base.delimiter,
        "columns": dict(base.columns)}
    return SourcesConfig(**{kind: SourceConfig(path=path, **settings)})


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _move(path: Path, folder: Path, sha: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{sha[:8]}{path.suffix}"
    shutil.move(str(path), str(target))
    return target


def _seen(cfg: Config, sha: str) -> str | None:
    if not cfg.store_path.exists():
        return None
    with Store(cfg.store_path, read_only=True, lock_timeout=15) as store:
        if "inbox_files" not in store._tables():
            return None
        rows = store.con.execute("SELECT status FROM inbox_files WHERE sha256 = ?",
                                 [sha]).fetchall()
    return rows[0][0] if rows else None


def _record_file(cfg: Config, sha: str, name: str, kind: str, status: str,
                 detail: dict[str, Any]) -> None:
    with Store(cfg.store_path) as store, store.transaction() as con:
        con.execute("INSERT INTO inbox_files VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256) "
                    "DO NOTHING", [sha, name, kind, status,
                                   json.dumps(detail, ensure_ascii=False, default=str), _now()])


def take_inbox(cfg: Config, *, today: dt.date | None, now: float | None = None,
               progress: Progress = _quiet) -> list[dict[str, Any]]:
    """Ingest the inbox's new files and move them away; one summary per file."""
    from .pipeline import ingest

    _, processed, failed = inbox_folders(cfg)
    done = []
    for path in waiting_files(cfg, now=now):
        sha, kind = sha256_of(path), file_kind(cfg, path.name)
        item: dict[str, Any] = {"file": path.name, "kind": kind, "sha256": sha}
        before = _seen(cfg, sha)
        if before is not None:
            item.update(status="seen", detail=f"the same content was {before} before")
            item["moved_to"] = str(_move(path, processed if before == "ingested" else failed,
                                         sha))
            progress(f"{path.name}: already {before} (same content), moved away")
            done.append(item)
            continue
        progress(f"ingesting {path.name} as {kind}")
        try:
            result = ingest(cfg, today=today, progress=progress,
                            sources=source_for(cfg, path, kind))
        except TierwiseError as exc:
            item.update(status="failed", detail=str(exc))
            _record_file(cfg, sha, path.name, kind, "failed", {"error": str(exc)})
            item["moved_to"] = str(_move(path, failed, sha))
            progress(f"{path.name}: could not be ingested: {exc}")
            done.append(item)
            continue
        report = next(r for r in result.to_dicts() if r["kind"] == kind)
        counts = {k: report.get(k) for k in ("rows_in", "accepted", "rejected", "inserted",
                                             "replaced", "rejects_file")}
        item.update(status="ingested", **counts)
        _record_file(cfg, sha, path.name, kind, "ingested", counts)
        item["moved_to"] = str(_move(path, processed, sha))
        done.append(item)
    return done


# -- the periods that are due -------------------------------------------------------------------
def period_end(day: dt.date, period: str) -> dt.date:
    """The last day of ``day``'s month or quarter."""
    month = day.month if period == "month" else 3 * ((day.month - 1) // 3 + 1)
    first_next = dt.date(day.year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def due_dates(cfg: Config, *, new_data: bool) -> list[dt.date]:
    """The as-of dates to run: period ends after the latest run before the data's as-of date,
    then that date (again only when ``new_data``)."""
    from .features.as_of import default_as_of

    if not cfg.store_path.exists():
        return []
    with Store(cfg.store_path, read_only=True, lock_timeout=15) as store:
        target = cfg.as_of or default_as_of(*store.order_days()).as_of
        rows = store.con.execute("SELECT max(as_of) FROM runs WHERE config_hash = ?",
                                 [cfg.config_hash()]).fetchall()
    last = rows[0][0]
    if target is None:
        return []
    if last is None:
        return [target]
    if target < last or (target == last and not new_data):
        return []
    due, end = [], period_end(last, cfg.period)
    if end == last:
        end = period_end(last + dt.timedelta(days=1), cfg.period)
    while end < target:
        due.append(end)
        end = period_end(end + dt.timedelta(days=1), cfg.period)
    return [*due, target]


# -- one pass -----------------------------------------------------------------------------------
def watch_once(cfg: Config, *, today: dt.date, now: float | None = None,
               progress: Progress = _quiet,
               sleep: Callable[[float], None] = time.sleep) -> WatchPass:
    """One pass: inbox, due runs, alerts, digest (see the module docstring).

    Parameters
    ----------
    cfg
        The config.
    today
        The day of the pass: ingest rejects rows dated after it; the digest is due by it.
    now
        The time the inbox's files are compared with (seconds since the epoch; default: now).
    sleep
        How alert retries wait.
    """
    from .pipeline import run

    result = WatchPass()
    inbox, _, _ = inbox_folders(cfg)
    if not inbox.is_dir():
        inbox.mkdir(parents=True, exist_ok=True)
        progress(f"created the inbox {inbox}")
    result.files = take_inbox(cfg, today=today, now=now, progress=progress)
    for as_of in due_dates(cfg, new_data=result.ingested > 0):
        progress(f"running {as_of}")
        made = run(cfg, as_of=as_of, progress=progress)
        result.runs.append({"run_id": made.run_id, "period": made.period,
                            "as_of": made.as_of.isoformat(), "customers": made.n_customers})
        result.problems += made.warnings
    if cfg.watch.send_alerts and cfg.store_path.exists():
        _alerts(cfg, result, today, progress, sleep)
    return result


def _alerts(cfg: Config, result: WatchPass, today: dt.date, progress: Progress,
            sleep: Callable[[float], None]) -> None:
    from .alerts import channels, send_alerts
    from .alerts.digest import digest_due, send_digests

    with Store(cfg.store_path, read_only=True, lock_timeout=15) as store:
        has_runs = bool(len(store.runs()))
    if not has_runs:
        return
    for run_id in [r["run_id"] for r in result.runs] or ["latest"]:
        sent = send_alerts(cfg, run=run_id, today=today, require_channel=False,
                           progress=progress, sleep=sleep)
        result.alerts.append(sent.to_dict())
        result.problems += [f"alerts by {d.channel} failed after {d.attempts} attempt(s): "
                            f"{d.error}" for d in sent.deliveries if d.status != "sent"]
    if channels(cfg.alerts) and digest_due(cfg, today):
        digest = send_digests(cfg, today=today, sleep=sleep)
        result.digest = digest.to_dict()
        result.problems += [f"digest {d['key']} by {d['channel']} failed: {d['error']}"
                            for d in digest.deliveries if d.get("status") == "failed"]


def watch(cfg: Config, *, interval: float, today: Callable[[], dt.date],
          progress: Progress = _quiet, stop: threading.Event | None = None,
          on_pass: Callable[[WatchPass], None] | None = None,
          on_error: Callable[[TierwiseError], None] | None = None) -> None:
    """Pass after pass, ``interval`` seconds apart, until ``stop`` is set.

    A pass that fails with a library error (a busy store, a bad file setting) is reported to
    ``on_error`` and the next pass comes as usual.
    """
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            done = watch_once(cfg, today=today(), progress=progress)
            if on_pass is not None:
                on_pass(done)
        except TierwiseError as exc:
            if on_error is None:
                raise
            on_error(exc)
        stop.wait(interval)


class Schedule:
    """``tierwise serve --schedule``: a background thread that runs ``tierwise watch --once``
    every ``interval`` seconds, each pass in a child process.

    A child process, not the server's own thread: a pass holds the store's write lock for a
    whole run, and DuckDB lets one process hold a file one way only; as a separate process the
    pass meets the server the way a ``tierwise run`` from a terminal does (the server keeps
    serving its copy and refreshes it when the pass commits).
    """

    def __init__(self, config_file: Path, interval: float,
                 log: Callable[[str], None] = _quiet) -> None:
        self.config_file, self.interval, self.log = Path(config_file), interval, log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0
        self._waiting = False

    def command(self) -> list[str]:
        return [sys.executable, "-m", "tierwise", "--quiet", "watch", "--once", "--json",
                "--config", str(self.config_file)]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="tierwise-schedule",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def run_pass(self) -> dict[str, Any] | None:
        """One pass in a child process; its JSON summary, or None when it failed (or when the
        config does not exist yet: an empty setup, whose setup page writes it)."""
        if not self.config_file.is_file():
            if not self._waiting:
                self.log(f"scheduled passes wait for {self.config_file} (the setup page "
                         "writes it)")
            self._waiting = True
            return None
        self._waiting = False
        done = subprocess.run(self.command(), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, check=False)
        self.passes += 1
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            self.log(f"scheduled pass failed (exit {done.returncode}): {last}")
            return None
        summary = json.loads(done.stdout)
        self.log(f"scheduled {describe(summary)}")
        return summary

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pass()
            except (OSError, ValueError) as exc:
                self.log(f"scheduled pass could not start: {exc}")
            self._stop.wait(self.interval)


def describe(summary: dict[str, Any]) -> str:
    """One line for a pass's summary (:meth:`WatchPass.to_dict`)."""
    files = summary.get("files") or []
    ingested = sum(1 for f in files if f["status"] == "ingested")
    failed = sum(1 for f in files if f["status"] == "failed")
    sent = sum(1 for a in summary.get("alerts") or [] for d in a.get("deliveries") or []
               if d["status"] == "sent")
    runs = ", ".join(r["period"] for r in summary.get("runs") or []) or "none"
    return (f"pass: {len(files)} file(s) ({ingested} ingested, {failed} failed); runs: {runs}; "
            f"alert deliveries sent: {sent}"
            + (f"; problems: {'; '.join(summary['problems'])}" if summary.get("problems")
               else ""))


__all__ = ["Schedule", "WatchPass", "describe", "due_dates", "file_kind", "inbox_folders",
           "period_end", "source_for", "take_inbox", "waiting_files", "watch", "watch_once"]

"""Ingest and run in the background, one job at a time per store, its state kept on disk.

A job is a child process (``python -m tierwise.uploads.jobs CONFIG STATE TODAY``) that runs
:func:`tierwise.pipeline.ingest` and :func:`tierwise.pipeline.run` on the config, exactly as
``tierwise ingest`` and ``tierwise run`` do. It is a process, not a thread of the web server,
because DuckDB lets one process write a store while others read it: the server keeps serving its
copy of the snapshots while the job writes, and picks the new run up when it commits.

* **State**: ``<store>.setup-job.json`` (written atomically at every step): job id, what was
  uploaded and by whom, ``status`` (``running`` / ``done`` / ``failed`` / ``interrupted``), the
  phase (``ingest`` / ``run``), the latest step, a rough percentage, the intake counts, the new
  run's id, and for a failure the error's message (never a traceback: that goes to
  ``<store>.setup-job.log``). A page reload, another browser or a restarted server reads it.
* **One at a time**: the job holds an exclusive ``flock`` on ``<store>.setup-job.lock`` for its
  whole life (taken by the server before the child starts, inherited by the child, released by
  the system when the child ends, however it ends). A job found ``running`` whose lock is free
  died without saying so: it is shown as ``interrupted``.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from ..errors import TierwiseError

#: Phases of a job, in order, with the share of the progress bar each ends at.
PHASES = (("ingest", 40), ("run", 100))


class JobRunning(TierwiseError):
    """Another setup job is still running on this store."""

    def __init__(self, job: dict[str, Any] | None = None) -> None:
        started = (job or {}).get("started_at", "")
        super().__init__("a setup job is already running on this store"
                         + (f" (started {started[:19]})" if started else ""),
                         "wait until it has finished, then try again")


def job_files(store_path: Path) -> tuple[Path, Path, Path]:
    """State, lock and log files of the store's setup jobs (next to the store)."""
    store_path = Path(store_path)
    stem = store_path.name
    return (store_path.with_name(stem + ".setup-job.json"),
            store_path.with_name(stem + ".setup-job.lock"),
            store_path.with_name(stem + ".setup-job.log"))


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Replace the state file atomically (a reader sees the old state or the new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle, ensure_ascii=False, default=str)
    os.replace(tmp, path)


def _locked(lock: Path) -> bool:
    """Whether a job holds the lock now."""
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock taken just now
    return False


def read_job(store_path: Path) -> dict[str, Any] | None:
    """The last setup job of the store (None when there was none)."""
    state_path, lock, _ = job_files(store_path)
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"status": "failed", "message": "the job's state file cannot be read",
                "phase": None, "percent": 0}
    if state.get("status") == "running" and not _locked(lock):
        state["status"] = "interrupted"
        state["message"] = ("the job stopped before it finished (the server or the machine was "
                            "restarted?): start it again")
    return state


#: Seconds a new job waits for a finished job's process to exit (it writes "done" or
#: "failed" first, then lets go of the lock as it exits).
EXIT_WAIT_SECONDS = 15.0


def _take_lock(fd: int, store_path: Path) -> bool:
    """Take the store's job lock; while its holder has already written that it finished, wait
    for that process to exit rather than refuse (the page showed "done": a confirm right
    after it must not be told a job is running)."""
    deadline = time.monotonic() + EXIT_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            state = read_job(store_path) or {}
            if state.get("status") == "running" or time.monotonic() > deadline:
                return False
            time.sleep(0.1)


def job_running(store_path: Path) -> bool:
    """Whether a setup job holds the store's lock (a finished job's process that is still
    exiting is waited for, up to :data:`EXIT_WAIT_SECONDS`)."""
    _, lock, _ = job_files(store_path)
    deadline = time.monotonic() + EXIT_WAIT_SECONDS
    while _locked(lock):
        if (read_job(store_path) or {}).get("status") == "running" \
                or time.monotonic() > deadline:
            return True
        time.sleep(0.1)
    return False


def start_job(config_path: Path, store_path: Path, *, kind: str, file_name: str, user: str,
              today: dt.date) -> dict[str, Any]:
    """Start ingest and run of ``config_path`` in a child process; returns the job's state.

    Raises
    ------
    JobRunning
        When another job holds the store's lock.
    """
    state_path, lock, log = job_files(store_path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    if not _take_lock(fd, store_path):
        os.close(fd)
        raise JobRunning(read_job(store_path))
    try:
        state = {"job_id": dt.datetime.now().strftime("%Y%m%d%H%M%S-") + secrets.token_hex(3),
                 "kind": kind, "file": file_name, "user": user, "status": "running",
                 "phase": "ingest", "step": "starting", "percent": 1, "started_at": _now(),
                 "finished_at": None, "message": None, "run_id": None, "intake": []}
        write_state(state_path, state)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH"))
            if p)}
        with open(log, "ab") as out:
            subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                [sys.executable, "-m", "tierwise.uploads.jobs", str(Path(config_path).resolve()),
                 str(state_path.resolve()), today.isoformat()],
                pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                start_new_session=True, env=env, close_fds=True)
    except OSError as exc:
        state = {**(read_job(store_path) or {}), "status": "failed", "percent": 0,
                 "message": f"the job could not be started ({exc.strerror or exc})",
                 "finished_at": _now()}
        write_state(state_path, state)
        raise TierwiseError(state["message"]) from None
    finally:
        os.close(fd)  # the child keeps the lock through its own copy
    return state


class _Progress:
    """Writes each step of ingest and run into the state file."""

    def __init__(self, path: Path, state: dict[str, Any]) -> None:
        self.path, self.state, self.count = path, state, 0

    def phase(self, name: str) -> None:
        self.state["phase"] = name
        self.count = 0
        self.save()

    def __call__(self, message: str) -> None:
        self.count += 1
        start = dict(PHASES)["ingest"] if self.state["phase"] == "run" else 0
        end = dict(PHASES)[self.state["phase"]]
        self.state["step"] = message
        self.state["percent"] = min(end - 2, start + 2 + self.count * (end - start) // 12)
        self.save()

    def save(self) -> None:
        self.state["updated_at"] = _now()
        write_state(self.path, self.state)


def run_job(config_path: Path, state_path: Path, today: dt.date) -> int:
    """The child's work: ingest, then run; the outcome written into the state file."""
    from ..config import load_config
    from ..pipeline import ingest, run

    state = json.loads(Path(state_path).read_text(encoding="utf-8"))
    progress = _Progress(Path(state_path), state)
    started = time.monotonic()
    try:
        cfg = load_config(config_path)
        progress.phase("ingest")
        result = ingest(cfg, today=today, progress=progress)
        state["intake"] = [{k: r.get(k) for k in ("source", "kind", "rows_in", "accepted",
                                                   "rejected", "rejects_file")}
                           for r in result.to_dicts()]
        progress.phase("run")
        done = run(cfg, progress=progress)
        state.update(status="done", phase="done", percent=100, run_id=done.run_id,
                     period=done.period, as_of=done.as_of.isoformat(),
                     customers=done.n_customers, warnings=done.warnings,
                     step=f"run {done.run_id} ({done.period}) written")
        code = 0
    except TierwiseError as exc:
        state.update(status="failed", message=str(exc))
        code = 1
    except Exception:  # noqa: BLE001 - the state must say something; the log has the details
        traceback.print_exc()
        state.update(status="failed", message="the job ran into an unexpected problem; the "
                                              "details are in the server's setup-job.log")
        code = 1
    state["finished_at"] = _now()
    state["seconds"] = round(time.monotonic() - started, 1)
    progress.save()
    return code


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    config, state, today = args
    return run_job(Path(config), Path(state), dt.date.fromisoformat(today))


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["PHASES", "JobRunning", "job_files", "job_running", "read_job", "run_job", "start_job",
           "write_state"]

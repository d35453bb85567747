"""The server's own copy of the store's small tables, the runs' customers as files beside the
store, and brief, one-at-a-time access to the store itself.

DuckDB lets one process write a file or several read it, never both at once, and a ``tierwise
run`` holds the write lock for the whole run. So the server never keeps the store open: it keeps
a private DuckDB file (:class:`SnapshotCache`) with the tables pages read (``runs``,
``run_tables``, ``ingests``, ``web_users``, copied) and ``snapshot_customers``, a view of the
runs' customers as files beside the store (:mod:`tierwise.web.runfiles`), attached read-only:
each run's file is written once, by the first server that sees the run, and kept, so a start copies the
small tables only. Every request reads that copy. When the store file changes (its size or
modification time, or its write-ahead log's), the copy is brought up to date: the store is
attached read-only for as long as the update takes, new runs are written out, the small tables
copied whole and the view pointed at the runs there are now, all in one transaction of the
copy, so requests see the old state or the new, never a mix. While a writer holds the store,
the copy stays as it was and the server keeps serving it; the next look after the writer
commits shows the new run.

Each run's customers are written in ``customer_id`` order with an index of the ids, so a
look-up by id reads one block of each file, and lists push the viewer's scope, filters, sort and
page into one query.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from ..errors import StoreBusyError, StoreError
from ..store import Store
from ..store.store import is_lock_conflict
from .accounts import User, load_users
from .listing import INDEX_MANIFEST, IndexShelf
from .queries import RunInfo, list_runs
from .runfiles import RunFiles

log = logging.getLogger("tierwise.web")
T = TypeVar("T")

#: True while a request is answered on the event loop itself (see :func:`from_memory`): then
#: nothing may wait, neither for DuckDB nor for a lock held across a copy.
ON_LOOP: contextvars.ContextVar[bool] = contextvars.ContextVar("tierwise_on_loop",
                                                               default=False)


class NeedsThread(Exception):  # noqa: N818 (a signal, not an error)
    """Raised on the event loop by a step that would read the copy or wait for a lock: the
    request is answered again on a worker thread."""


def from_memory(work: Callable[[], T]) -> T:
    """``work()`` with :data:`ON_LOOP` set: it raises :class:`NeedsThread` at the first step
    that would wait (a query of the copy, a result not yet remembered, a refresh's lock).

    A request answered from memory (the latest run's list, remembered results) costs a
    millisecond or two of Python; handing it to a worker thread and back costs more than that
    (thread switches and contention for Python's lock), so such requests are answered on the
    event loop, and only the others go to the thread pool. ``work`` must only read, so that it
    can be started again.
    """
    token = ON_LOOP.set(True)
    try:
        return work()
    finally:
        ON_LOOP.reset(token)

#: Copied whole at every refresh (they are small).
WHOLE_TABLES = ("runs", "ingests", "web_users")
#: Copied run by run (a run never changes once committed; a re-run gets a new id).
PER_RUN_TABLES = ("run_tables",)
#: Read from each run's file beside the store (see tierwise.web.runfiles), through a view.
RUN_FILE_TABLE = "snapshot_customers"
#: The copy's empty table with the store's columns of :data:`RUN_FILE_TABLE` (the view's types).
_SHAPE = "snapshot_shape"
#: DuckDB's memory for the copy (exports of a run spill to disk beyond it).
MEMORY_LIMIT = "1GB"
#: Runs without their files beside the store, of at least this many customers in all, are
#: written after a start is ready (see :meth:`SnapshotCache.refresh`); fewer, before.
DEFER_ROWS = 100_000
#: DuckDB's memory while a run's file is written or its list arranged: both read or write
#: each block once, so a bigger buffer pool only keeps blocks no one reads again (at 1M
#: customers it held several hundred MB on top of the arrangement's own arrays).
WORK_MEMORY_LIMIT = "256MB"


class StoreFile:
    """The store file, opened only briefly and by one thing at a time in this process.

    DuckDB refuses to open a file twice in one process with different settings, and a process
    that closes one of two handles on a file drops its lock on it, so every access of this server
    to the store (the cache's copy, a campaign, a report) goes through one gate.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.gate = threading.Lock()

    @contextmanager
    def reading(self, wait: float = 3.0) -> Iterator[Store]:
        """The store opened read-only, waiting up to ``wait`` seconds for a writer's lock."""
        with self.gate, Store(self.path, read_only=True, lock_timeout=wait) as store:
            yield store

    @contextmanager
    def writing(self, wait: float = 5.0) -> Iterator[Store]:
        """The store opened for a short write (a campaign), waiting up to ``wait`` seconds."""
        with self.gate, Store(self.path, lock_timeout=wait) as store:
            yield store

    def signature(self) -> tuple[Any, ...]:
        """What changes when a writer commits: size and mtime of the file and its WAL."""
        parts: list[Any] = []
        for path in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                stat = path.stat()
                parts += [stat.st_size, stat.st_mtime_ns]
            except FileNotFoundError:
                parts += [None, None]
        return tuple(parts)


class SnapshotCache:
    """The server's private, read-mostly copy of the store's snapshots (see the module doc).

    Parameters
    ----------
    store
        The store file it copies from.
    folder
        Where the copy lives (a file ``snapshots.duckdb``, replaced at :meth:`open`).
    lock_wait
        Seconds a refresh waits for a writer's lock before giving up until the next look.
    """

    def __init__(self, store: StoreFile, folder: Path, *, lock_wait: float = 2.0) -> None:
        self.store = store
        self.file = Path(folder) / "snapshots.duckdb"
        self.lock_wait = lock_wait
        self.version = 0
        self.users: dict[str, User] = {}
        self._con: duckdb.DuckDBPyConnection | None = None
        self._signature: tuple[Any, ...] | None = None
        #: Each run's id and the key of its files (see tierwise.web.runfiles).
        self._runs: dict[int, str] = {}
        #: Files of runs the previous state of the copy still read (removed at the next one).
        self._leaving: set[tuple[int, str]] = set()
        self.files: RunFiles | None = None
        self._refreshing = threading.Lock()
        self._memo: dict[Any, Any] = {}
        self._memo_lock = threading.Lock()
        self._local = threading.local()
        #: The latest run's customer list in memory (see tierwise.web.listing).
        self.shelf = IndexShelf()
        #: The thread arranging it after a start (see :meth:`refresh`), if any.
        self._arranging: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def open(self) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        for stale in (self.file, self.file.with_name(self.file.name + ".wal")):
            stale.unlink(missing_ok=True)
        self._con = duckdb.connect(str(self.file), config={"memory_limit": MEMORY_LIMIT})
        self.files = RunFiles.beside(self.store.path, self.file.parent / "runs")

    def close(self) -> None:
        if self._arranging is not None:  # let it finish its files (or fail) first
            self._arranging.join(timeout=120)
            self._arranging = None
        if self._con is not None:
            self._con.close()
            self._con = None

    @property
    def loaded(self) -> bool:
        return self._signature is not None

    # -- reading ---------------------------------------------------------------------------------
    @contextmanager
    def reader(self, *, lookup: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of the copy in its own transaction: every query of a request sees one state.

        ``lookup``: the caller only reads rows by an indexed key (one customer's history, a
        millisecond or two), which may run on the event loop; any other read raises
        :class:`NeedsThread` there.
        """
        if ON_LOOP.get() and not lookup:
            raise NeedsThread()
        if self._con is None or not self.loaded:
            raise StoreBusyError("the server has no copy of the store yet",
                                 "the store may be busy with a run: retry in a moment")
        self._local.version = self.version  # before the transaction starts: see memo()
        cursor = self._con.cursor()
        try:
            cursor.begin()
            yield cursor
        finally:
            cursor.close()
            del self._local.version

    def memo(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()`` once per state of the copy (results are dropped at every refresh).

        Called inside :meth:`reader`, the result is kept under the version the reader started
        with, so a result computed on the state before a refresh is never kept for the state
        after it.
        """
        full = (getattr(self._local, "version", self.version), key)
        with self._memo_lock:
            if full in self._memo:
                return self._memo[full]
        if ON_LOOP.get():
            raise NeedsThread()
        value = compute()
        with self._memo_lock:
            self._memo[full] = value
        return value

    # -- refreshing ------------------------------------------------------------------------------
    def stale(self) -> bool:
        return self.store.signature() != self._signature

    def refresh(self, *, force: bool = False, background: bool = False) -> bool:
        """Bring the copy up to date when the store changed; True when it was copied.

        ``background`` (the server's start): what is slow is done on a thread of its own, and
        this returns as soon as the copy can answer requests. Runs without their files beside
        the store (the first start after a new run), of :data:`DEFER_ROWS` customers or more
        in all, are then read from the store itself, kept
        attached read-only, until the thread has written the run's file; the thread then points
        the copy at the file, lets the store go and arranges the latest run's list. A latest
        run whose file is there but whose list is not arranged is arranged on the thread too;
        until it is, SQL serves the run's list (as it does while a refresh arranges a new
        run). A list already arranged is opened before returning. While the store is kept
        attached, a writer waits for it (as it waits for the export at a start that is not in
        the background), and so do this server's own writes (a campaign).

        Raises
        ------
        StoreBusyError
            When a writer kept the lock for longer than ``lock_wait`` (the copy is unchanged).
        StoreError
            When the store is missing or is not a tierwise store.
        """
        self._refreshing.acquire()
        pending: dict[int, str] = {}
        handed = False  # the thread took over the lock, the store's gate and src
        try:
            if not force and not self.stale():
                return False
            if not self.store.path.exists():
                raise StoreError(f"store {self.store.path.name} does not exist",
                                 "run 'tierwise ingest' and 'tierwise run' first")
            self.store.gate.acquire()
            try:
                self._attach()
                try:
                    signature = self.store.signature()  # stable: no writer while we hold it
                    with self._frugal():
                        pending = self._copy(defer=background)
                finally:
                    if not pending:
                        self._con.execute("DETACH src")
            finally:
                if not pending:
                    self.store.gate.release()
            self._signature = signature
            self.users = load_users(self._con)
            self._new_version()
            if pending:
                self._arranging = threading.Thread(target=self._export_later, args=(pending,),
                                                   name="tierwise-export", daemon=True)
                self._arranging.start()
                handed = True
            elif background and not self._latest_arranged():
                self._arranging = threading.Thread(target=self._arrange_later,
                                                   name="tierwise-arrange", daemon=True)
                self._arranging.start()
            else:
                with self._frugal():
                    self._arrange_latest()
            return True
        finally:
            if not handed:
                if pending:  # failed after the copy, whose view reads the store: copy again
                    self._signature = None
                    self._let_store_go()
                self._refreshing.release()

    def _new_version(self) -> None:
        with self._memo_lock:
            self.version += 1
            self._memo.clear()

    def _let_store_go(self) -> None:
        try:
            self._con.execute("DETACH DATABASE IF EXISTS src")
        finally:
            self.store.gate.release()

    def _export_later(self, pending: dict[int, str]) -> None:
        """Write the ``pending`` runs' files (the store attached as ``src``, its gate and the
        refresh lock held by :meth:`refresh` for this thread), point the copy at them, let the
        store go, then arrange the latest run's list."""
        con = self._con
        try:
            with self._frugal():
                try:
                    for run_id, key in sorted(pending.items()):
                        self.files.export(con, f"src.{RUN_FILE_TABLE}", run_id, key)
                        self.files.attach(con, run_id, key)
                    con.begin()
                    try:
                        self._point_view(self._runs)
                        con.commit()
                    except BaseException:
                        con.rollback()
                        raise
                except Exception:  # the next look copies again (and exports on its own)
                    log.exception("could not write the runs' files beside the store")
                    self._signature = None
                    return
                finally:
                    self._let_store_go()
                self._new_version()
                self._arrange_latest()
        finally:
            self._refreshing.release()

    @contextmanager
    def _frugal(self) -> Iterator[None]:
        """DuckDB's memory at :data:`WORK_MEMORY_LIMIT` meanwhile (requests answered by SQL
        then spill to disk sooner); the refresh lock must be held."""
        self._set_memory(WORK_MEMORY_LIMIT)
        try:
            yield
        finally:
            self._set_memory(MEMORY_LIMIT)

    def _set_memory(self, limit: str) -> None:
        try:
            self._con.execute(f"SET memory_limit = '{limit}'")
        except duckdb.Error as exc:  # more held than that (a big query): keep the limit
            log.info("DuckDB's memory limit stays as it was (%s)", exc)

    def _latest_arranged(self) -> bool:
        """Whether the latest run's arranged list is beside the store (opening it is quick)."""
        cursor = self._con.cursor()
        try:
            runs = list_runs(cursor)
        finally:
            cursor.close()
        if not runs or self.files is None or runs[0].run_id not in self._runs:
            return True  # nothing to arrange, or nowhere to write it: nothing slow to do
        place = self.files.index(runs[0].run_id, self._runs[runs[0].run_id])
        return (place / INDEX_MANIFEST).exists()

    def _arrange_later(self) -> None:
        with self._refreshing:  # a refresh waits: it would arrange again what is under way
            if self._con is not None:
                with self._frugal():
                    self._arrange_latest()

    def _arrange_latest(self) -> None:
        """The latest run in memory; until it is ready (or if it fails) SQL serves it.

        Runs after the store is let go, so a slow arrangement never delays a writer; in one
        transaction, so that its several reads see one state of the copy.
        """
        cursor = self._con.cursor()
        try:
            cursor.begin()
            runs = list_runs(cursor)
            latest = runs[0] if runs else None
            self.shelf.update(cursor, latest, self._arranged(cursor, latest))
        except Exception:  # memory, a damaged copy: lists fall back to SQL, which still works
            log.exception("could not arrange the latest run's customer list in memory")
        finally:
            cursor.close()

    def _arranged(self, cursor: duckdb.DuckDBPyConnection, run: RunInfo | None
                  ) -> Callable[[], Path] | None:
        """How to find (or first write) the run's arranged list beside the store."""
        if run is None or self.files is None or run.run_id not in self._runs:
            return None
        files, key = self.files, self._runs[run.run_id]
        return lambda: files.arranged(cursor, run, key)

    def _attach(self) -> None:
        path = str(self.store.path).replace("'", "''")
        deadline = time.monotonic() + self.lock_wait
        pause = 0.05
        while True:
            try:
                self._con.execute(f"ATTACH '{path}' AS src (READ_ONLY)")
                return
            except duckdb.Error as exc:
                if not is_lock_conflict(exc):
                    raise StoreError(f"cannot read store {self.store.path.name}: "
                                     f"{type(exc).__name__}",
                                     "check that [store] path is a tierwise store") from None
                if time.monotonic() + pause > deadline:
                    raise StoreBusyError(f"store {self.store.path.name} is being written",
                                         "the copy is refreshed once the writer is done") from None
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def _copy(self, *, defer: bool = False) -> dict[int, str]:
        """Copy the small tables and point the view at the runs' files, written first when
        missing; ``defer``: a run without its file is read from ``src`` instead (the caller
        keeps it attached until it has written the file). Returns the runs (id, key) read
        from ``src``."""
        con = self._con
        have = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'src'"
        ).fetchall()}
        if not {"runs", RUN_FILE_TABLE, *PER_RUN_TABLES} <= have:
            raise StoreError(f"{self.store.path.name} is not a tierwise store with runs",
                             "run 'tierwise run' first")
        # Tables are created in a transaction of their own: DuckDB 2.0 does not show a large
        # insert made in the same transaction as the CREATE TABLE it fills.
        rebuilt = self._ensure_tables(have)
        columns = _columns(con, "src", RUN_FILE_TABLE)
        listed = con.execute(
            "SELECT run_id, created_at, n_customers, config_hash FROM src.runs").fetchall()
        runs = {r[0]: RunFiles.key(r, columns) for r in listed}
        missing = {r[0]: r[2] or 0 for r in listed if not self.files.rows(r[0], runs[r[0]]).exists()}
        # Small runs are written at once (a second or so): the store is then let go at once
        pending = ({r: runs[r] for r in missing}
                   if defer and sum(missing.values()) >= DEFER_ROWS else {})
        for run_id, key in sorted(runs.items()):  # before the transaction: files, not tables
            if run_id in pending:
                continue
            self.files.export(con, f"src.{RUN_FILE_TABLE}", run_id, key)
            self.files.attach(con, run_id, key)
        con.begin()
        try:
            for table in WHOLE_TABLES:
                if table in have:
                    con.execute(f"DELETE FROM main.{table}")
                    con.execute(f"INSERT INTO main.{table} BY NAME SELECT * FROM src.{table}")
            known = set() if rebuilt else set(self._runs.items())
            for run_id in sorted({r for r, _ in known - set(runs.items())}):
                for table in PER_RUN_TABLES:
                    con.execute(f"DELETE FROM main.{table} WHERE run_id = ?", [run_id])
            for run_id in sorted({r for r, _ in set(runs.items()) - known}):
                for table in PER_RUN_TABLES:
                    con.execute(f"INSERT INTO main.{table} BY NAME SELECT * FROM src.{table} "
                                f"WHERE run_id = ? ORDER BY name", [run_id])
            self._point_view(runs, pending)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        kept = set(runs.items())
        for run_id, key in self._leaving - kept:  # the previous state's readers were done
            con.execute(f"DETACH DATABASE IF EXISTS {RunFiles.alias(run_id, key)}")
        self.files.forget(kept | self._leaving)  # the previous state's readers may be reading
        self._leaving = set(self._runs.items()) - kept
        self._runs = runs
        return pending

    def _point_view(self, runs: dict[int, str], in_store: dict[int, str] | None = None
                    ) -> None:
        """``snapshot_customers``: the runs' files (attached before), one after another; the
        runs of ``in_store`` read from the store (attached as ``src``) instead."""
        parts = [f"SELECT * FROM src.{RUN_FILE_TABLE} WHERE run_id = {int(run_id)}"
                 if in_store and run_id in in_store else
                 f"SELECT * FROM {RunFiles.alias(run_id, key)}.{RUN_FILE_TABLE}"
                 for run_id, key in sorted(runs.items())]
        self._con.execute(f"CREATE OR REPLACE VIEW main.{RUN_FILE_TABLE} AS "
                          + (" UNION ALL ".join(parts) or f"SELECT * FROM main.{_SHAPE}"))

    def _ensure_tables(self, have: set[str]) -> bool:
        """Create the copy's tables like the store's; True when the run-by-run ones were
        (re)created empty.

        A store upgraded by a newer tierwise may carry more columns: then the copy starts over
        (requests see it empty until the data transaction that follows commits).
        """
        con = self._con
        tables = {t: t for t in (*WHOLE_TABLES, *PER_RUN_TABLES) if t in have}
        tables[_SHAPE] = RUN_FILE_TABLE
        stale = [t for t, source in tables.items()
                 if _columns(con, self._catalog(), t) != _columns(con, "src", source)]
        if not stale:
            return False
        rebuilt = any(t in PER_RUN_TABLES for t in stale)
        con.begin()
        try:
            for table in stale:
                con.execute(f"DROP TABLE IF EXISTS main.{table}")
                con.execute(f"CREATE TABLE main.{table} AS SELECT * FROM src.{tables[table]} "
                            "LIMIT 0")
            if rebuilt:
                for table in PER_RUN_TABLES:
                    con.execute(f"DELETE FROM main.{table}")
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return rebuilt

    def _catalog(self) -> str:
        return self.file.stem


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = ? AND table_name = ? ORDER BY ordinal_position",
        [catalog, table]).fetchall()]


class Refresher:
    """A background thread that looks at the store every ``every`` seconds and refreshes the copy.

    A busy store (a run writing) is looked at again later, waiting longer each time up to 30 s,
    so the server neither hammers the lock nor falls far behind.
    """

    def __init__(self, cache: SnapshotCache, every: float) -> None:
        self.cache, self.every = cache, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="tierwise-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        delay = self.every
        while not self._stop.wait(delay):
            try:
                if self.cache.refresh():
                    log.info("store changed: copy refreshed (version %d)", self.cache.version)
                delay = self.every
            except StoreBusyError:
                delay = min(max(delay * 2, self.every), 30.0)
            except StoreError as exc:
                log.warning("cannot refresh the copy of the store: %s", exc)
                delay = min(max(delay * 2, self.every), 30.0)
            except Exception:  # keep looking: a later refresh may well succeed
                log.exception("refreshing the copy of the store failed")
                delay = min(max(delay * 2, self.every), 30.0)


def private_folder(configured: Path | None) -> tuple[Path, bool]:
    """The cache folder and whether the server created it (and so removes it when it stops,
    or at the latest when the process exits: an app used without its start-up and shut-down,
    as in a test, leaves nothing behind)."""
    if configured is not None:
        return Path(configured), False
    import atexit
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix=f"tierwise-web-{os.getpid()}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder, True


__all__ = ["ON_LOOP", "PER_RUN_TABLES", "RUN_FILE_TABLE", "WHOLE_TABLES", "NeedsThread", "Refresher",
           "SnapshotCache", "StoreFile", "from_memory", "private_folder"]

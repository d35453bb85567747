"""Each run's customers as files beside the store, written once per run, for the server to read.

A run never changes once committed (a re-run gets a new id), so the server need not copy its
customers at every start: the first server that sees a run exports its rows, in ``customer_id``
order, to a DuckDB file with an index of the ids in a folder beside the store
(``<store>.web-runs/``); the server's private copy attaches them read-only and reads them through
a view (:mod:`tierwise.web.snapshots`). (Parquet was tried: a look-up of one customer's rows in
it cost about five times as much CPU as in an indexed DuckDB table.) The latest run's list,
search and customer rows are arranged once more into memory-mappable files
(:meth:`tierwise.web.listing.CustomerIndex.write`): a start then opens them in a fraction of a
second, and the server holds only the pages requests read.

Files are named by run id and a key of what they were made from (the run's id, creation time,
size and config hash, the snapshot's columns, this module's format), so a store replaced by
another, a migrated store or a newer format never reads stale files: they are made again. Each
file or folder is written under a temporary name and renamed when complete, so a reader (or a
second server on the same store) sees it whole or not at all. Files of runs gone from the store
are removed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import duckdb

from .listing import INDEX_MANIFEST, CustomerIndex, rising
from .queries import RunInfo

log = logging.getLogger("tierwise.web")

#: Changes whenever what the files hold or how changes (old files are then made again).
FORMAT = "2"
#: Unfinished files older than this (seconds) were left by a process that stopped.
_ABANDONED = 3600.0


class RunFiles:
    """The folder of run files (see the module doc).

    Parameters
    ----------
    folder
        Where the files are (created when missing).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @classmethod
    def beside(cls, store_path: Path, fallback: Path) -> RunFiles:
        """``<store>.web-runs`` next to the store, else ``fallback`` (a store in a folder the
        server may not write: the files are then made again at each start)."""
        folder = store_path.with_name(store_path.name + ".web-runs")
        try:
            folder.mkdir(exist_ok=True)
            probe = folder / f".probe-{os.getpid()}"
            probe.touch()
            probe.unlink()
        except OSError as exc:
            log.warning("cannot write run files beside the store (%s): using %s", exc, fallback)
            folder = fallback
            folder.mkdir(parents=True, exist_ok=True)
        return cls(folder)

    @staticmethod
    def key(run: tuple[Any, ...], columns: list[tuple[str, str]]) -> str:
        """The key of a run's files: ``run`` (run id, created at, customers, config hash) and
        the snapshot's ``columns`` (name, type)."""
        text = repr((FORMAT, tuple(str(x) for x in run), tuple(columns)))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def rows(self, run_id: int, key: str) -> Path:
        """The DuckDB file of a run's rows (a table ``snapshot_customers``)."""
        return self.folder / f"run-{run_id}-{key}.duckdb"

    def index(self, run_id: int, key: str) -> Path:
        """The folder of a run's arranged list (see :meth:`CustomerIndex.write`)."""
        return self.folder / f"run-{run_id}-{key}.index"

    def export(self, con: duckdb.DuckDBPyConnection, table: str, run_id: int, key: str
               ) -> bool:
        """Write the run's rows of ``table`` (a store's ``snapshot_customers``, attached) in
        ``customer_id`` order, with an index of the ids (one customer's rows without a scan),
        unless the file exists; True when it was written."""
        target = self.rows(run_id, key)
        if target.exists():
            return False
        started = time.perf_counter()
        temporary = self._temporary(target)
        alias = f"export_{os.getpid()}_{threading.get_ident()}"
        rows = f"SELECT * FROM {table} WHERE run_id = {int(run_id)}"
        # A run's rows are usually stored in customer_id order already (the pipeline's
        # results are): then they are copied as they are, not sorted again (sorting the
        # ninety-odd columns of a million rows doubles the export's CPU).
        ordered = in_id_order(con, table, run_id)
        con.execute(f"ATTACH '{_quoted(temporary)}' AS {alias}")
        try:
            con.execute(f"CREATE TABLE {alias}.snapshot_customers AS {rows}"
                        + ("" if ordered else " ORDER BY customer_id, rowid"))
            con.execute(f"CREATE INDEX snapshot_customer_id ON {alias}.snapshot_customers "
                        "(customer_id)")
            con.execute(f"DETACH {alias}")
            os.replace(temporary, target)
        finally:
            if alias in {r[0] for r in con.execute(
                    "SELECT database_name FROM duckdb_databases()").fetchall()}:
                con.execute(f"DETACH {alias}")
            temporary.unlink(missing_ok=True)
            temporary.with_name(temporary.name + ".wal").unlink(missing_ok=True)
        log.info("run %d: rows written beside the store in %.1f s", run_id,
                 time.perf_counter() - started)
        return True

    @staticmethod
    def alias(run_id: int, key: str) -> str:
        """The name the server attaches a run's file under."""
        return f"run_{int(run_id)}_{key}"

    def attach(self, con: duckdb.DuckDBPyConnection, run_id: int, key: str) -> str:
        """Attach the run's file read-only (once) and return its name."""
        alias = self.alias(run_id, key)
        attached = {r[0] for r in con.execute(
            "SELECT database_name FROM duckdb_databases()").fetchall()}
        if alias not in attached:
            con.execute(f"ATTACH '{_quoted(self.rows(run_id, key))}' AS {alias} (READ_ONLY)")
        return alias

    def arranged(self, con: duckdb.DuckDBPyConnection, run: RunInfo, key: str) -> Path:
        """The folder of the run's arranged list, written first when missing (from the run's
        file, attached to ``con`` by :meth:`attach`, not from the store)."""
        target = self.index(run.run_id, key)
        if (target / INDEX_MANIFEST).exists():
            return target
        started = time.perf_counter()
        temporary = self._temporary(target)
        try:
            # the file's rows are in customer_id order, and DuckDB scans them in that order
            source = f"{self.alias(run.run_id, key)}.snapshot_customers"
            CustomerIndex.write(con, run, (source, []), temporary)
            try:
                os.rename(temporary, target)
            except OSError:  # another server finished it first, or a broken one is there
                if not (target / INDEX_MANIFEST).exists():
                    shutil.rmtree(target, ignore_errors=True)
                    os.rename(temporary, target)
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        log.info("run %d: list arranged beside the store in %.1f s", run.run_id,
                 time.perf_counter() - started)
        return target

    def forget(self, keep: set[tuple[int, str]]) -> None:
        """Remove the files of runs not in ``keep`` (run id, key) and abandoned unfinished
        files."""
        now = time.time()
        for path in self.folder.iterdir():
            name = path.name
            if name.startswith(".tmp-"):
                try:
                    if now - path.stat().st_mtime < _ABANDONED:
                        continue
                except FileNotFoundError:
                    continue
            elif not name.startswith("run-"):
                continue
            else:
                parts = name.split(".")[0].split("-")
                if len(parts) == 3 and parts[1].isdigit() and (int(parts[1]), parts[2]) in keep:
                    continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def _temporary(self, target: Path) -> Path:
        return target.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{target.name}")


def in_id_order(con: duckdb.DuckDBPyConnection, table: str, run_id: int) -> bool:
    """Whether the run's rows of ``table``, as scanned, have unique ids in rising order (a
    read of the id column: a fraction of a second for a million rows)."""
    ids = con.sql(f"SELECT customer_id FROM {table} WHERE run_id = {int(run_id)}"
                  ).to_arrow_table().column(0).combine_chunks()
    return rising(ids)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


__all__ = ["FORMAT", "RunFiles", "in_id_order"]

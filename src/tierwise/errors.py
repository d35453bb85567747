"""The one exception tree of tierwise.

Every error a user can cause derives from :class:`TierwiseError`. Messages are written for the
person who has to fix the problem: they name the file, the key or column, the bad value and the fix.
The CLI turns these into one line and an exit code (see ``tierwise.cli``); nothing else prints them.
"""

from __future__ import annotations

import errno


class TierwiseError(Exception):
    """Base of every error tierwise raises on purpose.

    Parameters
    ----------
    message
        What went wrong, in one sentence.
    hint
        What to do about it (optional); shown after the message.
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(TierwiseError):
    """The config file is missing, unreadable or has invalid values.

    ``problems`` holds every problem found (validation reports them all at once).
    """

    exit_code = 2

    def __init__(self, message: str, hint: str | None = None,
                 problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__(message, hint)


class DataContractError(TierwiseError):
    """Input data breaks the contract as a whole (missing required column, unreadable file).

    Row-level problems never raise: those rows go to the rejects file.
    """

    exit_code = 3


class MissingDependencyError(TierwiseError):
    """An optional extra (``[spark]``, ``[postgres]``, ``[mysql]``, ``[web]``) is not installed."""

    exit_code = 4

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package, self.extra = package, extra
        super().__init__(
            f"{purpose} needs the Python package '{package}', which is not installed",
            f"install it with: pip install 'tierwise[{extra}]'",
        )


class StoreError(TierwiseError):
    """The store (DuckDB file) is missing, locked, corrupt, or lacks what was asked for."""

    exit_code = 5


class StoreBusyError(StoreError):
    """The store's file lock stayed taken by another process for longer than we were willing to wait.

    DuckDB lets one process write or several read, never both: a ``tierwise run`` holds the lock
    for the whole run, a web server holds it for a moment while it copies a new snapshot.
    """


class DiskFullError(StoreError):
    """The disk (or the user's quota) filled up while writing.

    Writes go through a transaction or a temporary file renamed into place, so what was there
    before (the store, an earlier export) is intact; the half-written file is removed.
    """

    def __init__(self, where: str | None = None) -> None:
        target = f" while writing {where}" if where else ""
        super().__init__(f"the disk is full{target}",
                         "free some space (or write elsewhere) and run the command again; "
                         "the store and earlier files are unchanged")


_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
#: How DuckDB (which raises its own IOException, not OSError) says it.
_FULL_TEXTS = ("No space left on device", "Disk quota exceeded")


def disk_full(exc: BaseException) -> DiskFullError | None:
    """The :class:`DiskFullError` behind ``exc``, or None when the disk was not full.

    Looks through the chain of causes (a library may wrap the ``OSError``): an ``OSError`` with
    ``ENOSPC`` / ``EDQUOT``, or DuckDB's "No space left on device".
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskFullError):
            return current
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return DiskFullError(current.filename and str(current.filename))
        if not isinstance(current, OSError) and any(t in str(current) for t in _FULL_TEXTS):
            return DiskFullError()
        wrapped = [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
        current = current.__cause__ or current.__context__ or (wrapped[0] if wrapped else None)
    return None


class NotFittedError(TierwiseError):
    """A model was asked to predict before ``fit`` was called."""

    exit_code = 6


class FitError(TierwiseError):
    """A model fit failed (no convergence, degenerate data). The hint says what to try."""

    exit_code = 6


__all__ = [
    "TierwiseError",
    "ConfigError",
    "DataContractError",
    "MissingDependencyError",
    "StoreError",
    "StoreBusyError",
    "DiskFullError",
    "NotFittedError",
    "FitError",
    "disk_full",
]

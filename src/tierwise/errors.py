"""The one exception tree of tierwise.

Every error a user can cause derives from :class:`TierwiseError`. Messages are written for the
person who has to fix the problem: they name the file, the key or column, the bad value and the fix.
The CLI turns these into one line and an exit code (see ``tierwise.cli``); nothing else prints them.
"""

from __future__ import annotations


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
    "NotFittedError",
    "FitError",
]

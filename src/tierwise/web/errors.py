"""Errors of the web front door, and the one place that turns any error into an HTTP status.

Pages get a friendly page (a sign-in redirect for 401); ``/api`` gets
``{"error": {"code": ..., "message": ...}}``. Neither ever carries a traceback, SQL or a server
path: unexpected errors are logged on the server and answered with a generic message.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import (
    ConfigError,
    DataContractError,
    StoreBusyError,
    StoreError,
    TierwiseError,
)
from ..uploads.jobs import JobRunning


class WebError(TierwiseError):
    """An error with an HTTP status and a short machine-readable code."""

    status = 400
    code = "bad_request"


class SignInRequired(WebError):
    status, code = 401, "sign_in_required"

    def __init__(self, message: str = "sign in first") -> None:
        super().__init__(message)


class Forbidden(WebError):
    status, code = 403, "forbidden"


class NotFound(WebError):
    status, code = 404, "not_found"


class TooManyAttempts(WebError):
    """Sign-in refused for a while after repeated failures (``retry_after`` seconds)."""

    status, code = 429, "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__("too many failed sign-ins", f"try again in {retry_after} s")


#: Status and code of the library's errors, most specific first.
_LIBRARY = ((JobRunning, 409, "job_running"), (StoreBusyError, 503, "store_busy"), (ConfigError, 400, "invalid_request"),
            (DataContractError, 400, "invalid_request"), (StoreError, 404, "not_found"))


def status_of(exc: TierwiseError) -> tuple[int, str]:
    """HTTP status and error code of a library or web error."""
    if isinstance(exc, WebError):
        return exc.status, exc.code
    for kind, status, code in _LIBRARY:
        if isinstance(exc, kind):
            return status, code
    return 500, "internal_error"


def public_message(exc: TierwiseError, store_path: Path) -> str:
    """The error's message and hint without the server's folders (a file keeps only its name)."""
    text = str(exc).replace(str(store_path.parent), "").replace(str(Path.home()), "~")
    return re.sub(r"(?:/[\w.\-]+)+/([\w.\-]+)", r"\1", text)


__all__ = ["Forbidden", "NotFound", "SignInRequired", "TooManyAttempts", "WebError",
           "public_message", "status_of"]

"""Sign-in sessions, CSRF tokens, the sign-in rate limit and the key that signs cookies.

* **Session**: one cookie, signed with the server's secret key (itsdangerous, timestamped), that
  holds a random nonce and, once signed in, the user's name and a fingerprint of their password
  hash. Changing the password or removing the user voids every session made before; signing
  out voids that session on the server too (:class:`SignedOut`), not just in the browser. Nothing
  else about the user travels in the cookie; their role and scope are read from the store's
  accounts at every request. The cookie is HttpOnly and SameSite=Lax, Secure over https.
* **CSRF**: the session nonce is the CSRF token. Every form carries it in a hidden field
  ``csrf_token`` and every state-changing API call in the ``X-CSRF-Token`` header; a POST whose
  token does not match its own signed cookie is refused (403). A new nonce is drawn at sign-in,
  so a token seen before signing in is worth nothing after.
* **Rate limit**: failed sign-ins are counted per user name and client address; past the limit,
  sign-in is refused (429) until the oldest failure leaves the window.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..errors import ConfigError
from .errors import Forbidden, TooManyAttempts

SESSION_COOKIE = "tierwise_session"
SECRET_ENV = "TIERWISE_SECRET_KEY"


def secret_key(path: Path) -> str:
    """The signing key: ``TIERWISE_SECRET_KEY``, else the key file, created on first use (0600)."""
    from_env = os.environ.get(SECRET_ENV, "").strip()
    if from_env:
        if len(from_env) < 32:
            raise ConfigError(f"{SECRET_ENV} is too short to sign sessions safely",
                              "give at least 32 random characters, e.g. from "
                              "'python -c \"import secrets; print(secrets.token_urlsafe(32))\"'")
        return from_env
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        key = ""
    if key:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another server created it a moment ago
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


@dataclass(frozen=True)
class Session:
    """What the session cookie says: a nonce (the CSRF token) and, when signed in, who."""

    nonce: str
    user: str | None = None
    password_tag: str | None = None

    @classmethod
    def fresh(cls, user: str | None = None, password_tag: str | None = None) -> Session:
        return cls(secrets.token_urlsafe(24), user, password_tag)

    def check_csrf(self, token: str | None) -> None:
        """Refuse (403) a state-changing request whose token is not this session's."""
        if not token or not hmac.compare_digest(token.encode(), self.nonce.encode()):
            raise Forbidden("the form is out of date or did not come from this site",
                            "reload the page and try again")


class SessionCodec:
    """Signs and reads the session cookie."""

    def __init__(self, key: str, max_age_seconds: float) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="tierwise-session")
        self.max_age = int(max_age_seconds)

    def dumps(self, session: Session) -> str:
        data: dict[str, Any] = {"n": session.nonce}
        if session.user is not None:
            data.update(u=session.user, p=session.password_tag)
        return self._serializer.dumps(data)

    def loads(self, value: str | None) -> Session | None:
        """The session, or None when the cookie is missing, forged, damaged or expired."""
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=self.max_age)
        except (BadSignature, ValueError, TypeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            return None
        user, tag = data.get("u"), data.get("p")
        return Session(data["n"], user if isinstance(user, str) else None,
                       tag if isinstance(tag, str) else None)


class SignedOut:
    """Sessions ended by signing out: a cookie saved before sign-out is refused afterwards.

    The cookie is signed, not stored, so the server keeps the nonces of the sessions that
    signed out, each until its cookie would have expired anyway, in memory and in a small file
    (``<store file>.web-signed-out``, 0600) so that a restart does not bring them back.
    """

    def __init__(self, path: Path | None, max_age_seconds: float) -> None:
        self.path, self.max_age = path, max_age_seconds
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()
        if path is not None and path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                until, _, nonce = line.partition(" ")
                try:
                    self._until[nonce] = float(until)
                except ValueError:
                    continue
            self._forget_expired(rewrite=True)

    def add(self, nonce: str) -> None:
        until = time.time() + self.max_age
        with self._lock:
            self._until[nonce] = until
            if self.path is not None:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as handle:
                    handle.write(f"{until:.0f} {nonce}\n")
            if len(self._until) > 10_000:
                self._forget_expired(rewrite=True)

    def __contains__(self, nonce: object) -> bool:
        until = self._until.get(nonce) if isinstance(nonce, str) else None
        return until is not None and until > time.time()

    def _forget_expired(self, *, rewrite: bool) -> None:
        now = time.time()
        self._until = {n: u for n, u in self._until.items() if u > now}
        if rewrite and self.path is not None and self.path.exists():
            tmp = self.path.with_name(self.path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.writelines(f"{u:.0f} {n}\n" for n, u in self._until.items())
            os.replace(tmp, self.path)


class LoginLimiter:
    """Failed sign-ins per (user name, client address) within a sliding window."""

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self.max_failures, self.window = max_failures, window_seconds
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, name: str, address: str) -> None:
        """Raise :class:`TooManyAttempts` while the pair is over the limit."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(_key(name, address), now)
            if len(times) >= self.max_failures:
                raise TooManyAttempts(max(1, int(times[0] + self.window - now) + 1))

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(_key(name, address), now).append(now)
            if len(self._failures) > 10_000:  # forget pairs whose failures are all old
                for key in [k for k, v in self._failures.items() if not v or v[-1] < now
                            - self.window]:
                    del self._failures[key]

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            self._failures.pop(_key(name, address), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times


def _key(name: str, address: str) -> tuple[str, str]:
    return name.strip().casefold(), address


__all__ = ["SECRET_ENV", "SESSION_COOKIE", "LoginLimiter", "Session", "SessionCodec", "SignedOut",
           "secret_key"]

"""What every request needs: the server's state, the signed-in viewer, sign-in and sign-out.

One :class:`WebContext` per app (``app.state.tierwise``), built by
:func:`tierwise.web.app.create_app`; route handlers reach it through :func:`context`.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from ..config import Config
from .access import Viewer
from .accounts import User, verify_password
from .errors import SignInRequired
from .security import SESSION_COOKIE, LoginLimiter, Session, SessionCodec, SignedOut
from .snapshots import ON_LOOP, NeedsThread, Refresher, SnapshotCache, StoreFile, private_folder

LANG_COOKIE = "tierwise_lang"


@dataclass
class WebContext:
    """The server's state: settings, the store, its copy, sessions and the sign-in limiter."""

    settings: Config
    store: StoreFile
    sessions: SessionCodec
    limiter: LoginLimiter
    templates: Jinja2Templates
    signed_out: SignedOut = field(default_factory=lambda: SignedOut(None, 0))
    #: The config file the setup page writes (it may not exist yet: an empty setup).
    config_path: Path = Path("tierwise.toml")
    #: The one-time code that lets the first admin be created in the browser (``tierwise
    #: serve`` prints it while the store has no admin); None: no such page.
    first_admin_code: str | None = None
    cache: SnapshotCache | None = None
    _folder: Path | None = None
    _remove_folder: bool = False
    _refresher: Refresher | None = None
    _running: int = 0
    _starting: threading.RLock = field(default_factory=threading.RLock)

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Open the copy, fill it once, and start looking for changes (server start-up).

        Start-ups and shut-downs are counted: a test client that runs the app's lifespan
        inside another one's leaves the copy open for the outer one.
        """
        with self._starting:
            self._running += 1
            if self._running > 1:
                return
        self.ensure_loaded(quiet=True, background=True)
        self._refresher = Refresher(self.cache, self.settings.web.refresh_seconds)
        self._refresher.start()

    def stop(self) -> None:
        with self._starting:
            self._running -= 1
            if self._running > 0:
                return
            if self._refresher is not None:
                self._refresher.stop()
                self._refresher = None
            if self.cache is not None:
                self.cache.close()
                self.cache = None
            if self._remove_folder and self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None

    def ensure_loaded(self, *, quiet: bool = False, background: bool = False
                      ) -> SnapshotCache:
        """The copy, opened and filled on first use (a store busy or missing raises, unless
        ``quiet``: the server then starts empty and fills it when it can; ``background``: a
        latest run's list not yet arranged is arranged after, see
        :meth:`SnapshotCache.refresh`)."""
        cache = self.cache
        if cache is not None and cache.loaded:
            return cache
        if ON_LOOP.get():
            raise NeedsThread()
        with self._starting:
            if self.cache is None:
                configured = self.settings.web.cache_dir
                self._folder, self._remove_folder = private_folder(
                    None if configured is None else self.settings.resolve(configured))
                cache = SnapshotCache(self.store, self._folder)
                cache.open()
                self.cache = cache
            if not self.cache.loaded:
                try:
                    self.cache.refresh(force=True, background=background)
                except Exception:
                    if not quiet:
                        raise
        return self.cache

    # -- sessions ------------------------------------------------------------------------------
    def session(self, request: Request) -> Session | None:
        """The cookie's session; None when missing, forged, expired or signed out."""
        session = self.sessions.loads(request.cookies.get(SESSION_COOKIE))
        return None if session is None or session.nonce in self.signed_out else session

    def viewer(self, request: Request) -> Viewer:
        """The signed-in viewer; :class:`SignInRequired` when there is none (or it expired)."""
        session = self.session(request)
        if session is None or session.user is None:
            raise SignInRequired()
        user = self.ensure_loaded().users.get(session.user)
        if user is None or user.password_tag != session.password_tag:
            raise SignInRequired("your sign-in has expired or the account changed: sign in again")
        request.state.role = user.role
        request.state.session = session
        return Viewer.of(user, self.settings.web.full_phone_roles)

    def sign_in(self, request: Request, name: str, password: str) -> tuple[User, Session]:
        """Check a user name and password under the rate limit; a fresh session on success.

        Raises
        ------
        TooManyAttempts
            After ``[web] login_max_failures`` failures of this name from this address.
        SignInRequired
            For a wrong name or password (the message does not say which).
        """
        address = request.client.host if request.client else "unknown"
        self.limiter.check(name, address)
        user = self.ensure_loaded().users.get(name.strip())
        if not verify_password(user, password):
            self.limiter.failed(name, address)
            raise SignInRequired("wrong user name or password")
        self.limiter.succeeded(name, address)
        request.state.role = user.role
        return user, Session.fresh(user.name, user.password_tag)

    def set_session(self, request: Request, response: Response, session: Session) -> None:
        response.set_cookie(SESSION_COOKIE, self.sessions.dumps(session),
                            max_age=self.sessions.max_age, httponly=True, samesite="lax",
                            secure=self.secure(request), path="/")

    def anonymous_session(self, request: Request, response: Response) -> Session:
        """The visitor's session, or a new one (for the CSRF token of the sign-in form)."""
        session = self.session(request)
        if session is None:
            session = Session.fresh()
            self.set_session(request, response, session)
        return session

    def sign_out(self, request: Request, response: Response, csrf_token: str | None) -> None:
        """End the request's session (its CSRF token must match): on the server, so that a copy
        of the cookie is refused from now on, and in the browser."""
        session = self.session(request)
        if session is not None:
            session.check_csrf(csrf_token)
            self.signed_out.add(session.nonce)
        self.clear_session(request, response)

    def clear_session(self, request: Request, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                               secure=self.secure(request))

    def secure(self, request: Request) -> bool:
        mode = self.settings.web.cookie_secure
        return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def context(request: Request) -> WebContext:
    return request.app.state.tierwise


__all__ = ["LANG_COOKIE", "WebContext", "context"]

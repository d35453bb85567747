"""``create_app(settings, store_path)``: the dashboard and its API as one FastAPI app.

Nothing is built at import time. ``create_app`` makes the app and its state (secret key,
session signer, rate limiter, templates); the app's start-up copies the store (see
:mod:`tierwise.web.snapshots`) and starts the thread that keeps the copy current; its shutdown
stops it and removes the copy. :func:`serve` runs it with uvicorn (``tierwise serve``).

Errors go through one handler: a library or web error becomes its status
(:func:`tierwise.web.errors.status_of`); pages get a friendly page, or for 401 a redirect to the
sign-in page; ``/api`` gets ``{"error": {"code", "message"}}``. Anything unexpected is logged
with its traceback on the server and answered 500 with a generic message. Each request is
logged with method, route (``/customers/{customer_id}``, never the id itself), status, duration
and the viewer's role: nothing personal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..config import Config
from ..errors import TierwiseError
from . import api, pages, setup
from .context import WebContext, context
from .errors import TooManyAttempts, public_message, status_of
from .formatting import FILTERS
from .headers import SecurityHeaders
from .security import LoginLimiter, SessionCodec, SignedOut, secret_key
from .snapshots import StoreFile

log = logging.getLogger("tierwise.web")
_PACKAGE = resources.files("tierwise.web")


def secret_key_path(settings: Config, store_path: Path) -> Path:
    """``[web] secret_key_file``, else ``<store file>.web-secret`` next to the store."""
    configured = settings.web.secret_key_file
    if configured is not None:
        return settings.resolve(configured)
    return store_path.with_name(store_path.name + ".web-secret")


def signed_out_path(settings: Config, store_path: Path) -> Path:
    """Where the signed-out sessions are kept: next to the secret key (``.web-signed-out``)."""
    key = secret_key_path(settings, store_path)
    return key.with_name(key.name.removesuffix(".web-secret") + ".web-signed-out")


def create_app(settings: Config, store_path: Path | str | None = None, *,
               config_path: Path | str | None = None,
               first_admin_code: str | None = None) -> FastAPI:
    """The dashboard (HTML pages) and its JSON API over one store.

    Parameters
    ----------
    settings
        The loaded config (``[web]`` and ``[campaigns]`` are read from it).
    store_path
        The DuckDB store (default: the config's ``[store] path``).
    config_path
        The config file the setup page writes (default: the file ``settings`` came from, else
        ``tierwise.toml`` in the config's folder).
    first_admin_code
        A one-time code that lets the first admin be created at ``/setup/first-admin`` while
        the store has no admin (``tierwise serve`` makes and prints it); None: no such page.

    Examples
    --------
    >>> from tierwise import load_config                    # doctest: +SKIP
    >>> app = create_app(load_config("tierwise.toml"))      # doctest: +SKIP
    """
    path = Path(store_path) if store_path is not None else settings.store_path
    web = settings.web
    templates = Jinja2Templates(directory=str(_PACKAGE / "templates"))
    templates.env.filters.update(FILTERS)
    ctx = WebContext(
        settings=settings, store=StoreFile(path),
        sessions=SessionCodec(secret_key(secret_key_path(settings, path)),
                              web.session_hours * 3600),
        limiter=LoginLimiter(web.login_max_failures, web.login_window_minutes * 60),
        templates=templates, signed_out=SignedOut(signed_out_path(settings, path),
                                                  web.session_hours * 3600),
        config_path=Path(config_path) if config_path is not None
        else settings.config_file or settings.base_dir / "tierwise.toml",
        first_admin_code=first_admin_code)
    app = FastAPI(title="tierwise", version=_version(), lifespan=_lifespan,
                  summary="Customer tiers, key accounts and win-back campaigns, scoped to the "
                          "signed-in person.",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.state.tierwise = ctx
    app.include_router(api.router)
    app.include_router(setup.api_router)
    app.include_router(pages.router)
    app.include_router(setup.page_router)
    app.mount("/static", StaticFiles(directory=str(_PACKAGE / "static")), name="static")
    app.add_exception_handler(TierwiseError, _library_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestLog)
    if web.trusted_proxies:  # outermost: the client's address is settled before anything else
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=web.trusted_proxies)
    return app


def _version() -> str:
    from .. import __version__

    return __version__


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    ctx: WebContext = app.state.tierwise
    anyio.to_thread.current_default_thread_limiter().total_tokens = ctx.settings.web.threads
    await anyio.to_thread.run_sync(ctx.start)
    try:
        yield
    finally:
        await anyio.to_thread.run_sync(ctx.stop)


# -- errors -----------------------------------------------------------------------------------------
def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _error(request: Request, status: int, code: str, message: str,
           headers: dict[str, str] | None = None) -> Response:
    if _is_api(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                            headers=headers)
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    viewer = None
    try:
        viewer = context(request).viewer(request) if status != 503 else None
    except TierwiseError:
        viewer = None
    response = pages.render(request, "error.html", viewer=viewer, page="error", status=status,
                            status_code=status, message=message)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


async def _library_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TierwiseError)
    status, code = status_of(exc)
    if status >= 500 and status != 503:
        log.error("error on %s %s", request.method, _route(request), exc_info=exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
    if status == 503:
        headers = {"Retry-After": "5"}
    message = public_message(exc, context(request).store.path)
    return _error(request, status, code, message, headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    messages = {404: "there is no such page", 405: "this address does not take that method"}
    status = exc.status_code
    return _error(request, status, codes.get(status, "http_error"),
                  messages.get(status, str(exc.detail)), getattr(exc, "headers", None))


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                for e in exc.errors()]
    message = "invalid request: " + "; ".join(problems)
    if _is_api(request):
        return _error(request, 422, "invalid_request", message)
    return _error(request, 400, "invalid_request", message)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, _route(request), exc_info=exc)
    return _error(request, 500, "internal_error",
                  "the server ran into a problem; it was logged: please try again later")


# -- request log ------------------------------------------------------------------------------------
def _route(request: Request) -> str:
    """The route's template (``/customers/{customer_id}``): never an id, name or query."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return path
    return "/static" if request.url.path.startswith("/static/") else "(no route)"


class RequestLog:
    """Logs each request once it is answered (a plain ASGI wrapper: no extra task per request).

    The route template, never the path itself: ``/customers/{customer_id}`` does not say whom.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or (
                "/static" if scope["path"].startswith("/static/") else "(no route)")
            role = scope.get("state", {}).get("role", "-")
            log.info("%s %s %d %.1fms role=%s", scope["method"], route, status[0],
                     (time.perf_counter() - started) * 1000, role)


# -- serving ----------------------------------------------------------------------------------------
def serve(settings: Config, *, host: str | None = None, port: int | None = None,
          config_path: Path | None = None, first_admin_code: str | None = None) -> None:
    """Run the dashboard with uvicorn until interrupted (``tierwise serve``).

    One process, reading one copy of the store: requests that memory answers (the latest run's
    list, search and customer page) run on the event loop, the others on a pool of ``[web]
    threads`` threads (DuckDB releases the GIL while a query runs). More processes would each
    keep their own copy and their own sign-in limits.
    """
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                                                   "%(message)s")
    app = create_app(settings, config_path=config_path, first_admin_code=first_admin_code)
    # X-Forwarded-* is honoured by the app itself, from [web] trusted_proxies only (uvicorn's
    # own default would trust 127.0.0.1, i.e. every local client)
    uvicorn.run(app, host=host or settings.web.host, port=port or settings.web.port,
                access_log=False, proxy_headers=False, log_level="info")


__all__ = ["RequestLog", "SecurityHeaders", "create_app", "secret_key_path", "serve"]

"""Setup from the browser: ``/setup`` (pages) and ``/api/setup`` (their JSON twins). Admins only.

An admin uploads an export (orders, customers, a survey, feedback, leads, contracts or costs),
sees what was detected and what an ingest would reject, may change the column mapping, and confirms; the config is written and
ingest and run happen in a background job whose progress the page shows (a small script polls
``GET /api/setup/job``; the page works without it, showing the state at load). While the store
has no admin, ``/setup/first-admin?code=...`` (the code ``tierwise serve`` prints) creates one.
Handlers only parse and call :mod:`tierwise.web.uploads`.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Form, Header, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from ..errors import TierwiseError
from ..uploads import KINDS
from ..uploads.preview import UploadPreview
from . import uploads as desk
from .access import Viewer
from .context import WebContext, context
from .errors import Forbidden, NotFound
from .messages import t
from .models import ErrorOut
from .security import Session

api_router = APIRouter(prefix="/api/setup", tags=["setup"])
page_router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
TokenParam = Annotated[str, Path(min_length=16, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
_CHUNK = 1 << 20


def _responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    words = {400: "the file cannot be read as a table, or the mapping is incomplete",
             401: "not signed in", 403: "not an admin, or the CSRF token is missing",
             404: "no such upload", 409: "a setup job is already running",
             413: "the file is larger than [web] upload_max_mb", 422: "a parameter is invalid"}
    return {c: {"model": ErrorOut, "description": words[c]} for c in codes}


def _today() -> dt.date:
    return dt.date.today()  # the day of ingest, as 'tierwise ingest' passes it


def _admin(request: Request) -> tuple[WebContext, Viewer]:
    ctx = context(request)
    viewer = ctx.viewer(request)
    if not viewer.is_admin:
        raise Forbidden("only an admin may set up the data", "ask an admin to do it")
    return ctx, viewer


async def _admin_async(request: Request) -> tuple[WebContext, Viewer]:
    return await anyio.to_thread.run_sync(_admin, request)


async def _receive(request: Request, ctx: WebContext, viewer: Viewer, csrf: str | None
                   ) -> desk.Pending:
    """The multipart upload saved as a pending upload (size, name and CSRF checked)."""
    limit = ctx.settings.web.upload_max_mb * 1024 * 1024
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise desk.UploadTooLarge(f"the file is larger than {ctx.settings.web.upload_max_mb} MB",
                                  "split the export, or raise upload_max_mb in [web]")
    form = await request.form(max_files=1, max_fields=5)
    request.state.session.check_csrf(csrf or str(form.get("csrf_token") or ""))
    kind, upload = str(form.get("kind") or ""), form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise desk.BadUpload("no file was chosen", "choose the export file, then upload")
    name = desk.check_name(desk.safe_name(upload.filename))
    pending = desk.new_pending(ctx, kind, name, viewer.name)
    size = 0
    try:
        with pending.file.open("wb") as out:
            while chunk := await upload.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise desk.UploadTooLarge(
                        f"{name} is larger than {ctx.settings.web.upload_max_mb} MB",
                        "split the export, or raise upload_max_mb in [web]")
                out.write(chunk)
        if size == 0:
            raise desk.BadUpload(f"{name}: the file is empty",
                                 "export the data again: the file has no header row and no rows")
    except TierwiseError:
        desk.drop_pending(pending)
        raise
    return pending


def _preview(ctx: WebContext, pending: desk.Pending, *, drop_bad: bool = True) -> UploadPreview:
    try:
        return desk.preview(ctx, pending, today=_today())
    except desk.BadUpload:
        if drop_bad:
            desk.drop_pending(pending)
        raise


def _upload_out(pending: desk.Pending, found: UploadPreview) -> dict[str, Any]:
    return {"token": pending.token, **found.to_dict()}


# -- API ------------------------------------------------------------------------------------------
@api_router.post("/uploads", response_model=desk.UploadOut, status_code=201,
                 responses=_responses(400, 401, 403, 413),
                 openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                     "type": "object", "required": ["kind", "file"], "properties": {
                         "kind": {"type": "string", "enum": list(KINDS)},
                         "file": {"type": "string", "format": "binary"}}}}}}})
async def upload(request: Request, x_csrf_token: Annotated[str | None, Header()] = None
                 ) -> dict[str, Any]:
    """Upload an export (multipart ``kind`` + ``file``; needs X-CSRF-Token): what was detected
    and what an ingest would accept and reject. Nothing changes until it is confirmed."""
    ctx, viewer = await _admin_async(request)
    pending = await _receive(request, ctx, viewer, x_csrf_token or "")
    found = await anyio.to_thread.run_sync(_preview, ctx, pending)
    return _upload_out(pending, found)


@api_router.get("/uploads/{token}", response_model=desk.UploadOut,
                responses=_responses(400, 401, 403, 404))
def upload_detail(request: Request, token: TokenParam) -> dict[str, Any]:
    """A pending upload's detection and dry run, with the mapping changes made so far."""
    ctx, _ = _admin(request)
    pending = desk.get_pending(ctx, token)
    return _upload_out(pending, _preview(ctx, pending, drop_bad=False))


@api_router.post("/uploads/{token}/mapping", response_model=desk.UploadOut,
                 responses=_responses(400, 401, 403, 404, 422))
def upload_mapping(request: Request, token: TokenParam, body: desk.MappingIn,
                   x_csrf_token: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Change the column mapping (canonical column -> header) or the date format, and check
    again (needs X-CSRF-Token)."""
    ctx, _ = _admin(request)
    request.state.session.check_csrf(x_csrf_token)
    pending = desk.get_pending(ctx, token)
    desk.set_mapping(pending, body.columns, body.date_format)
    return _upload_out(pending, _preview(ctx, pending, drop_bad=False))


@api_router.post("/uploads/{token}/confirm", response_model=desk.JobOut, status_code=202,
                 responses=_responses(400, 401, 403, 404, 409))
def upload_confirm(request: Request, token: TokenParam,
                   x_csrf_token: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    """Write the file into the config and start ingest and run in the background (needs
    X-CSRF-Token); follow it with ``GET /api/setup/job``."""
    ctx, viewer = _admin(request)
    request.state.session.check_csrf(x_csrf_token)
    pending = desk.get_pending(ctx, token)
    return desk.confirm(ctx, pending, viewer.name, today=_today(), language=None)


@api_router.get("/job", response_model=desk.JobStateOut, responses=_responses(401, 403))
def job(request: Request) -> dict[str, Any]:
    """The store's last setup job: running (phase, step, percent), done (the new run) or
    failed (why)."""
    ctx, _ = _admin(request)
    return {"job": desk.job_state(ctx)}


# -- pages ----------------------------------------------------------------------------------------
def _render(request: Request, ctx: WebContext, viewer: Viewer, *, status: int = 200,
            **data: Any) -> HTMLResponse:
    from .pages import render

    sources = {kind: getattr(ctx.settings.sources, kind) for kind in KINDS}
    return render(request, "setup.html", viewer=viewer, page="setup", status=status,
                  job=desk.job_state(ctx), kinds=KINDS,
                  sources={k: (s.path.as_posix() if s is not None and s.path is not None
                               else None) for k, s in sources.items()},
                  has_config=ctx.config_path.is_file(), **data)


@page_router.get("/setup")
def setup_page(request: Request) -> HTMLResponse:
    ctx, viewer = _admin(request)
    return _render(request, ctx, viewer)


@page_router.post("/setup/upload")
async def setup_upload(request: Request) -> Response:
    ctx, viewer = await _admin_async(request)
    try:
        pending = await _receive(request, ctx, viewer, None)
    except (desk.BadUpload, desk.UploadTooLarge) as exc:
        status, message = exc.status, str(exc)
        return await anyio.to_thread.run_sync(
            lambda: _render(request, ctx, viewer, status=status, error=message))
    return RedirectResponse(f"/setup/uploads/{pending.token}", status_code=303)


@page_router.get("/setup/uploads/{token}")
def setup_preview(request: Request, token: TokenParam) -> HTMLResponse:
    ctx, viewer = _admin(request)
    pending = desk.get_pending(ctx, token)
    try:
        found = _preview(ctx, pending)
    except desk.BadUpload as exc:
        return _render(request, ctx, viewer, status=400, error=str(exc))
    return _render(request, ctx, viewer, preview=found.to_dict(), token=token)


@page_router.post("/setup/uploads/{token}")
async def setup_decide(request: Request, token: TokenParam) -> Response:
    ctx, viewer = await _admin_async(request)
    form = await request.form(max_files=0, max_fields=60)
    request.state.session.check_csrf(str(form.get("csrf_token") or ""))
    action = str(form.get("action") or "check")
    columns = {str(k)[4:]: str(v) for k, v in form.multi_items() if str(k).startswith("col.")}
    date_format = str(form.get("date_format") or "")
    return await anyio.to_thread.run_sync(
        _decide, request, ctx, viewer, token, action, columns, date_format)


def _decide(request: Request, ctx: WebContext, viewer: Viewer, token: str, action: str,
            columns: dict[str, str], date_format: str) -> Response:
    from .pages import language

    pending = desk.get_pending(ctx, token)
    if action == "discard":
        desk.drop_pending(pending)
        return RedirectResponse("/setup", status_code=303)
    desk.set_mapping(pending, columns, date_format)
    if action != "confirm":
        return RedirectResponse(f"/setup/uploads/{token}", status_code=303)
    try:
        desk.confirm(ctx, pending, viewer.name, today=_today(), language=language(request))
    except (desk.BadUpload, desk.Busy, TierwiseError) as exc:
        try:
            found = _preview(ctx, pending, drop_bad=False).to_dict()
        except desk.BadUpload:
            found = None
        status = exc.status if isinstance(exc, desk.BadUpload | desk.Busy) else 400
        return _render(request, ctx, viewer, status=status, error=str(exc), preview=found,
                       token=token if found else None)
    return RedirectResponse("/setup", status_code=303)


# -- the first admin ------------------------------------------------------------------------------
def _first_admin_allowed(ctx: WebContext, code: str) -> None:
    expected = ctx.first_admin_code
    users = ctx.ensure_loaded().users
    if (expected is None or any(u.role == "admin" for u in users.values())
            or not hmac.compare_digest(code.encode(), expected.encode())):
        raise NotFound("there is no such page",
                       "the first admin is created with the link 'tierwise serve' prints while "
                       "the store has no admin")


@page_router.get("/setup/first-admin")
def first_admin_form(request: Request, code: str = "") -> HTMLResponse:
    from .pages import render

    ctx = context(request)
    _first_admin_allowed(ctx, code[:200])
    known = ctx.session(request)
    session = known or Session.fresh()
    request.state.session = session
    response = render(request, "first_admin.html", viewer=None, page="first_admin", code=code)
    if known is None:
        ctx.set_session(request, response, session)
    return response


@page_router.post("/setup/first-admin")
def first_admin_create(request: Request,
                       code: Annotated[str, Form(max_length=200)] = "",
                       username: Annotated[str, Form(max_length=64)] = "",
                       password: Annotated[str, Form(max_length=1024)] = "",
                       password2: Annotated[str, Form(max_length=1024)] = "",
                       csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    from .accounts import add_user
    from .pages import language, render

    ctx = context(request)
    _first_admin_allowed(ctx, code)
    session = ctx.session(request)
    if session is None:
        raise Forbidden("the form is out of date", "reload the page and try again")
    session.check_csrf(csrf_token)
    request.state.session = session
    lang = language(request)
    if password != password2:
        return render(request, "first_admin.html", viewer=None, page="first_admin", code=code,
                      status=400, error=t("first_admin.mismatch", lang))
    try:
        with ctx.store.writing() as store:
            user = add_user(store, username, "admin", password,
                            min_length=ctx.settings.web.min_password_length)
    except TierwiseError as exc:
        return render(request, "first_admin.html", viewer=None, page="first_admin", code=code,
                      status=400, error=str(exc))
    ctx.ensure_loaded().refresh(force=True)
    ctx.first_admin_code = None
    response = RedirectResponse("/setup", status_code=303)
    ctx.set_session(request, response, Session.fresh(user.name, user.password_tag))
    return response


__all__ = ["api_router", "page_router"]

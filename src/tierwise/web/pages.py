"""The HTML pages: each shows the same data as its JSON twin under ``/api`` (same functions).

Pages are rendered on the server from Jinja2 templates (``web/templates``) with one small style
sheet and no script (but the setup page's progress poller, ``static/setup.js``), so they work on a
laptop and a phone and load nothing from the network.
Language: ``?lang=zh|en`` switches and is remembered in a cookie; otherwise the run's language.
Every form posts its CSRF token; elements tests rely on carry stable ids (``customer-table``,
``login-form`` ...) and rows carry ``data-customer-id``.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as FastPath
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.background import BackgroundTask

from ..errors import ConfigError, StoreBusyError
from ..tasks.codes import OUTCOMES
from . import api
from . import queries as q
from .access import Viewer
from .context import LANG_COOKIE, WebContext, context
from .downloads import REPORT_FORMATS, report_file, targets_csv
from .errors import Forbidden, NotFound, SignInRequired, TooManyAttempts
from ..i18n import CODE_FAMILIES, name_of
from ..i18n.render import render_note
from ..loyalty.words import level_sentences
from .messages import LANGUAGES, t
from .models import CampaignIn, OutcomeIn
from .security import Session

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
RunParam = Annotated[int | None, Query(ge=1, le=2**62)]
LangParam = Annotated[Literal["zh", "en"] | None, Query()]


def language(request: Request, run_language: str | None = None) -> str:
    """``?lang=``, else the remembered choice, else the run's language, else English."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                  run_language):
        if value in LANGUAGES:
            return value
    return "en"


def render(request: Request, template: str, *, viewer: Viewer | None, page: str,
           status: int = 200, run_language: str | None = None, **data: Any) -> HTMLResponse:
    """A page in the viewer's language, with the helpers every template uses."""
    ctx = context(request)
    lang = language(request, run_language)
    response = ctx.templates.TemplateResponse(request, template, {
        "lang": lang, "viewer": viewer, "page": page, "csrf": _csrf(request),
        "t": lambda key, **fields: t(key, lang, **fields),
        "link": lambda **changes: _link(request, changes),
        "pick": lambda row, key: _pick(row, key, lang),
        "note": lambda args: render_note(args, lang), **data}, status_code=status)
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, httponly=True,
                            samesite="lax", secure=ctx.secure(request))
    return response


def _csrf(request: Request) -> str | None:
    session = getattr(request.state, "session", None)
    return session.nonce if session is not None else None


def _link(request: Request, changes: dict[str, Any]) -> str:
    """This page's URL with some query parameters changed (None removes one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        params += [(key, v) for v in value] if isinstance(value, list | tuple) else [(key, value)]
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def _pick(row: dict[str, Any], key: str, lang: str) -> Any:
    """``row[key + '_zh']`` in Chinese when present; else the catalogue's name of the code
    (``long_tail`` -> "long tail"), or ``row[key]`` itself for a name the user configured."""
    if lang == "zh" and row.get(f"{key}_zh"):
        return row[f"{key}_zh"]
    family = CODE_FAMILIES.get(key)
    return name_of(family, row.get(key), lang) if family else row.get(key)


def _page(request: Request) -> tuple[WebContext, Viewer]:
    ctx = context(request)
    return ctx, ctx.viewer(request)


def _runs(ctx: WebContext) -> list[dict[str, Any]]:
    with ctx.ensure_loaded().reader() as con:
        return [r.to_dict() for r in q.list_runs(con)]


# -- sign-in ----------------------------------------------------------------------------------------
@router.get("/login")
def login_form(request: Request, next: str = "/",  # noqa: A002 - the page to go back to
               lang: LangParam = None) -> HTMLResponse:
    ctx = context(request)
    known = ctx.session(request)
    session = known or Session.fresh()
    request.state.session = session  # its nonce is the form's CSRF token
    response = render(request, "login.html", viewer=None, page="login", next=_safe_next(next))
    if known is None:
        ctx.set_session(request, response, session)
    return response


@router.post("/login")
def login(request: Request, username: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=1024)] = "",
          csrf_token: Annotated[str, Form(max_length=200)] = "",
          next: Annotated[str, Form(max_length=2000)] = "/") -> Response:  # noqa: A002
    ctx = context(request)
    session = ctx.session(request)
    if session is None:
        raise Forbidden("the sign-in form is out of date", "reload the page and try again")
    session.check_csrf(csrf_token)
    request.state.session = session
    try:
        _, fresh = ctx.sign_in(request, username, password)
    except SignInRequired:
        return render(request, "login.html", viewer=None, page="login", status=401,
                      next=_safe_next(next), error=t("login.failed", language(request)))
    except TooManyAttempts as exc:
        response = render(request, "login.html", viewer=None, page="login", status=429,
                          next=_safe_next(next),
                          error=t("login.too_many", language(request), seconds=exc.retry_after))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    response = RedirectResponse(_safe_next(next), status_code=303)
    ctx.set_session(request, response, fresh)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Response:
    response = RedirectResponse("/login", status_code=303)
    context(request).sign_out(request, response, csrf_token)
    return response


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no open redirect to another one)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# -- the pages ---------------------------------------------------------------------------------------
@router.get("/")
def overview(request: Request, run: RunParam = None, lang: LangParam = None) -> Response:
    ctx, viewer = _page(request)
    try:
        data = api.overview_data(ctx, viewer, run)
    except NotFound:
        if run is None and viewer.is_admin:  # no run yet: the admin sets the data up first
            return RedirectResponse("/setup", status_code=303)
        raise
    words = language(request, data["run"]["language"])
    loyalty = api.loyalty_data(ctx, viewer, run, words, rewards=False) \
        if ctx.settings.loyalty.level else None
    return render(request, "overview.html", viewer=viewer, page="overview",
                  run_language=data["run"]["language"], data=data, runs=_runs(ctx),
                  loyalty=loyalty,
                  pareto_svg=_pareto_svg(data["pareto"]["points"]),
                  cohort_chart=_cohort_chart(data.get("retention"), words))


def _cohort_chart(retention: dict[str, Any] | None, lang: str) -> str | None:
    """The cohort heat map of the report (:func:`tierwise.reports.charts.cohort_heatmap`) as
    JSON for the chart element's ``data-figure`` attribute (escaped by the template; drawn by
    ``static/charts.js`` with the shipped plotly.js: the pages have no inline script)."""
    import json

    import pandas as pd

    from ..reports.charts import cohort_heatmap

    if not retention or not retention.get("cohorts"):
        return None
    chart = cohort_heatmap(pd.DataFrame(retention["cohorts"]), lang)
    if chart is None:
        return None
    chart["config"] = {"displayModeBar": False, "responsive": True}
    return json.dumps(chart, ensure_ascii=False, allow_nan=False)


@router.get("/static/plotly.min.js", include_in_schema=False)
def plotly_js() -> FileResponse:
    """The plotly.js the reports inline, shipped once in the package (reports/static)."""
    from importlib import resources

    from ..reports.html import PLOTLY_JS

    path = resources.files("tierwise.reports").joinpath(PLOTLY_JS)
    return FileResponse(str(path), media_type="text/javascript")


def _pareto_svg(points: list[dict[str, Any]]) -> str:
    """The Pareto curve as SVG polyline coordinates (x, y in 0-100, y up)."""
    coords = [f"{p['customer_share'] * 100:.1f},{100 - (p['value_share'] or 0) * 100:.1f}"
              for p in points]
    return " ".join(coords)


@router.get("/customers")
def customers(
    request: Request,
    run: RunParam = None,
    search: Annotated[str | None, Query(alias="q", max_length=100)] = None,
    tier: Annotated[str | None, Query(max_length=50)] = None,
    segment: Annotated[str | None, Query(max_length=200)] = None,
    state: Annotated[str | None, Query(max_length=50)] = None,
    key_account: Annotated[Literal["", "yes", "no"], Query()] = "",
    sort: Annotated[str, Query(max_length=50)] = "clv_predicted",
    order: Literal["asc", "desc"] = "desc",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    lang: LangParam = None,
) -> HTMLResponse:
    ctx, viewer = _page(request)
    if sort not in q.SORTS:
        sort = "clv_predicted"
    query = q.CustomerQuery(q=search, tiers=(tier,) if tier else (),
                            segments=(segment,) if segment else (),
                            states=(state,) if state else (),
                            key_account={"yes": True, "no": False}.get(key_account),
                            sort=sort, order=order, page=page,
                            page_size=ctx.settings.web.page_size)
    data = api.customers_data(ctx, viewer, run, query)
    return render(request, "customers.html", viewer=viewer, page="customers",
                  run_language=data["run"]["language"], data=data, runs=_runs(ctx),
                  chosen={"q": search or "", "tier": tier, "segment": segment, "state": state,
                          "key_account": key_account, "sort": sort, "order": order},
                  sorts=list(q.SORTS))


@router.get("/customers/{customer_id}")
def customer(request: Request, customer_id: str, run: RunParam = None,
             lang: LangParam = None) -> HTMLResponse:
    ctx, viewer = _page(request)
    data = api.detail_data(ctx, viewer, run, customer_id)
    words = language(request, data["run"]["language"])
    if words != (data["run"]["language"] or "en"):  # the page's language, not the run's
        data["loyalty"] = level_sentences(data["customer"], ctx.settings.loyalty, words)
    try:
        events = api.timeline_data(ctx, customer_id, words)
    except StoreBusyError:  # a run holds the store: the page shows without its timeline
        events = None
    return render(request, "customer.html", viewer=viewer, page="customers",
                  run_language=data["run"]["language"], data=data, timeline=events)


@router.get("/key-accounts")
def key_accounts(request: Request, run: RunParam = None, lang: LangParam = None
                 ) -> HTMLResponse:
    ctx, viewer = _page(request)
    data = api.key_accounts_data(ctx, viewer, run)
    return render(request, "key_accounts.html", viewer=viewer, page="key_accounts",
                  run_language=data["run"]["language"], data=data, runs=_runs(ctx))


@router.get("/loyalty")
def loyalty(request: Request, run: RunParam = None, lang: LangParam = None) -> HTMLResponse:
    ctx, viewer = _page(request)
    info = api.run_of(ctx, run)
    data = api.loyalty_data(ctx, viewer, run, language(request, info.language))
    return render(request, "loyalty.html", viewer=viewer, page="loyalty",
                  run_language=info.language, data=data, runs=_runs(ctx))


@router.get("/key-accounts/selection")
def key_account_selection(request: Request, proposal: api.SelectionParam = None,
                          lang: LangParam = None) -> HTMLResponse:
    ctx, viewer = _page(request)
    data = api.selection_data(ctx, viewer, proposal)
    return render(request, "selection.html", viewer=viewer, page="key_accounts",
                  run_language=api.words_language(ctx, None), data=data)


@router.post("/key-accounts/selection/{proposal_id}/{decision}")
def key_account_selection_decide(
    request: Request, proposal_id: Annotated[int, FastPath(ge=1, le=2**62)],
    decision: Literal["accept", "reject"],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    criterion: Annotated[list[str] | None, Form()] = None,
    weight: Annotated[list[str] | None, Form()] = None,
) -> Response:
    from . import selection as web_selection

    ctx, viewer = _page(request)
    request.state.session.check_csrf(csrf_token)
    names, values = criterion or [], weight or []
    if len(names) != len(values):
        raise ConfigError("the weights form is out of date", "reload the page and try again")
    weights = {name: float(_number(name, text) or 0.0)
               for name, text in zip(names, values, strict=True) if text.strip()}
    with ctx.store.writing() as store:
        web_selection.decide(store, viewer, proposal_id,
                             "accepted" if decision == "accept" else "rejected",
                             weights=weights if decision == "accept" else None,
                             note=note.strip())
    return RedirectResponse(f"/key-accounts/selection?proposal={proposal_id}", status_code=303)


@router.get("/prospects")
def prospects(request: Request, run: RunParam = None, lang: LangParam = None,
              grade: Annotated[Literal["A", "B", "C", "D"] | None, Query()] = None
              ) -> HTMLResponse:
    ctx, viewer = _page(request)
    info = api.run_of(ctx, run)
    data = api.prospects_data(ctx, viewer, run, grade, language(request, info.language))
    return render(request, "prospects.html", viewer=viewer, page="prospects",
                  run_language=data["run"]["language"], data=data, runs=_runs(ctx))


@router.get("/calls")
def calls(request: Request, run: RunParam = None, lang: LangParam = None) -> HTMLResponse:
    ctx, viewer = _page(request)
    data = api.calls_data(ctx, viewer, run)
    return render(request, "calls.html", viewer=viewer, page="calls",
                  run_language=data["run"]["language"], data=data, runs=_runs(ctx))


@router.get("/feedback")
def feedback(request: Request, run: RunParam = None, lang: LangParam = None) -> HTMLResponse:
    ctx, viewer = _page(request)
    info = api.run_of(ctx, run)
    words = language(request, info.language)
    data = api.feedback_data(ctx, viewer, run, words)
    return render(request, "feedback.html", viewer=viewer, page="feedback",
                  run_language=info.language, data=data, runs=_runs(ctx))


@router.get("/tasks")
def tasks(request: Request, lang: LangParam = None, saved: Annotated[
        str | None, Query(max_length=40)] = None) -> HTMLResponse:
    ctx, viewer = _page(request)
    words = language(request, api.words_language(ctx, None))
    data = api.tasks_data(ctx, viewer, words)
    return render(request, "tasks.html", viewer=viewer, page="tasks", run_language=words,
                  data=data, outcomes=OUTCOMES, today=dt.date.today().isoformat(),
                  saved=saved if saved in OUTCOMES else None)


@router.post("/tasks/{task_id}/outcome")
def task_outcome(
    request: Request,
    task_id: api.TaskIdParam,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    outcome: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    next_contact: Annotated[str, Form(max_length=20)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    ctx, viewer = _page(request)
    request.state.session.check_csrf(csrf_token)
    try:
        body = OutcomeIn(outcome=outcome, note=note.strip() or None,
                         next_contact=next_contact.strip() or None)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"the outcome form has problems: {problems}",
                          f"choose one of: {', '.join(OUTCOMES)}; dates as YYYY-MM-DD") from None
    done = api.record_outcome(ctx, viewer, task_id, body)
    target = _safe_next(back) if back else f"/customers/{quote(done['customer_id'], safe='')}"
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}saved={done['outcome']}#timeline", status_code=303)


@router.get("/contracts")
def contracts(request: Request, run: RunParam = None,
              status: Literal["due", "all"] = "due", lang: LangParam = None) -> HTMLResponse:
    ctx, viewer = _page(request)
    data = api.contracts_data(ctx, viewer, run, status)
    return render(request, "contracts.html", viewer=viewer, page="contracts",
                  run_language=data["run"]["language"], data=data, runs=_runs(ctx),
                  shown=status)


@router.get("/migration")
def migration(request: Request, to_run: RunParam = None, from_run: RunParam = None,
              by: Literal[q.MIGRATION_BY] = "tier",  # type: ignore[valid-type]
              lang: LangParam = None) -> HTMLResponse:
    ctx, viewer = _page(request)
    data = api.migration_data(ctx, viewer, to_run, from_run, by)
    return render(request, "migration.html", viewer=viewer, page="migration",
                  run_language=data["to_run"]["language"], data=data, runs=_runs(ctx),
                  choices=q.MIGRATION_BY)


@router.get("/campaigns")
def campaigns(request: Request, lang: LangParam = None) -> HTMLResponse:
    from . import campaigns as web_campaigns

    ctx, viewer = _page(request)
    with ctx.store.reading() as store:
        items = web_campaigns.campaigns(store)
    latest = api.run_of(ctx, None)
    with ctx.ensure_loaded().reader() as con:
        options = q.filter_options(con, viewer, latest)
    return render(request, "campaigns.html", viewer=viewer, page="campaigns",
                  run_language=latest.language, items=items, options=options,
                  defaults=ctx.settings.campaigns)


@router.post("/campaigns")
def create_campaign(
    request: Request,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    min_days_since_last: Annotated[str, Form(max_length=20)] = "",
    max_days_since_last: Annotated[str, Form(max_length=20)] = "",
    states: Annotated[list[str] | None, Form()] = None,
    tiers: Annotated[list[str] | None, Form()] = None,
    segments: Annotated[list[str] | None, Form()] = None,
    face_value: Annotated[str, Form(max_length=30)] = "",
    message_unit_cost: Annotated[str, Form(max_length=30)] = "",
    gross_margin: Annotated[str, Form(max_length=30)] = "",
    control_share: Annotated[str, Form(max_length=30)] = "",
    message: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    ctx, viewer = _page(request)
    request.state.session.check_csrf(csrf_token)
    fields = {"name": name.strip() or None, "states": states or None, "tiers": tiers or None,
              "segments": segments or None, "message": message.strip() or None}
    for key, text in (("min_days_since_last", min_days_since_last),
                      ("max_days_since_last", max_days_since_last), ("face_value", face_value),
                      ("message_unit_cost", message_unit_cost), ("gross_margin", gross_margin),
                      ("control_share", control_share)):
        fields[key] = _number(key, text)
    try:
        body = CampaignIn(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"the campaign form has problems: {problems}") from None
    created = api.create_campaign(ctx, viewer, body)
    return RedirectResponse(f"/campaigns/{created['campaign_id']}", status_code=303)


def _number(key: str, text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{key} {text!r} is not a number", "write it like 48 or 0.6") from None
    if not math.isfinite(value):
        raise ConfigError(f"{key} {text!r} is not a number", "write it like 48 or 0.6")
    return int(value) if key.endswith("days_since_last") and value.is_integer() else value


@router.get("/campaigns/{campaign_id}")
def campaign(request: Request, campaign_id: api.CampaignIdParam,
             lang: LangParam = None) -> HTMLResponse:
    from . import campaigns as web_campaigns

    ctx, viewer = _page(request)
    with ctx.store.reading() as store:
        data = web_campaigns.campaign_detail(store, campaign_id, ctx.settings.campaigns)
    return render(request, "campaign.html", viewer=viewer, page="campaigns", data=data)


@router.post("/campaigns/{campaign_id}/follow-up")
def campaign_follow_up(
    request: Request, campaign_id: api.CampaignIdParam,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    after_days: Annotated[str, Form(max_length=20)] = "",
    window_days: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    from . import campaigns as web_campaigns

    ctx, viewer = _page(request)
    request.state.session.check_csrf(csrf_token)
    days = {k: _number(k, v) for k, v in (("after_days", after_days),
                                          ("window_days", window_days))}
    for key, value in days.items():
        if value is not None and not float(value).is_integer():
            raise ConfigError(f"{key} {value!r} is not a whole number of days", "e.g. 30")
    with ctx.store.writing() as store:
        step = web_campaigns.follow_up(
            store, viewer, campaign_id, ctx.settings.campaigns,
            **{k: None if v is None else int(v) for k, v in days.items()})
    ctx.ensure_loaded().refresh(force=True)
    return RedirectResponse(f"/campaigns/{step['campaign_id']}", status_code=303)


@router.get("/campaigns/{campaign_id}/targets.csv")
def campaign_targets(request: Request, campaign_id: api.CampaignIdParam
                     ) -> Response:
    ctx, viewer = _page(request)
    data = api.targets_data(ctx, viewer, campaign_id)
    return Response(targets_csv(data["items"]), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="campaign-{campaign_id}-targets.csv"'})


@router.get("/runs")
def runs(request: Request, lang: LangParam = None) -> HTMLResponse:
    ctx, viewer = _page(request)
    items = _runs(ctx)
    return render(request, "runs.html", viewer=viewer, page="runs",
                  run_language=items[0]["language"] if items else None, items=items,
                  formats=REPORT_FORMATS)


@router.get("/runs/{run_id}/report.{fmt}")
def report(request: Request, run_id: api.RunIdParam,
           fmt: Literal[REPORT_FORMATS],  # type: ignore[valid-type]
           lang: LangParam = None) -> Response:
    ctx, viewer = _page(request)
    path, media = report_file(ctx, viewer, run_id, fmt, lang)
    return FileResponse(path, media_type=media, filename=path.name,
                        background=BackgroundTask(_remove_tree, path.parent))


def _remove_tree(folder: FilePath) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


__all__ = ["language", "render", "router"]

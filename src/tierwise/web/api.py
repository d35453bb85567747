"""The JSON API under ``/api``: one route per dashboard page, each scoped to the signed-in viewer.

Authentication is the dashboard's session cookie: ``POST /api/login`` with a JSON user name and
password sets it and returns the CSRF token, which every other POST must send as the
``X-CSRF-Token`` header. Handlers only parse, call :mod:`tierwise.web.queries` (or the campaign
functions) and return; answers are described by :mod:`tierwise.web.models`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Header, Path, Query, Request, Response

from . import campaigns as web_campaigns
from . import prospects as web_prospects
from . import tasks as web_tasks
from . import queries as q
from ..loyalty.words import level_sentences
from .access import Viewer
from .context import WebContext, context
from .snapshots import NeedsThread, from_memory
from .models import (
    CallsOut,
    CampaignDetailOut,
    CampaignIn,
    CampaignOut,
    CampaignsOut,
    ContractsOut,
    CustomerDetailOut,
    CustomersOut,
    ErrorOut,
    FeedbackOut,
    HealthOut,
    KeyAccountsOut,
    SelectionOut,
    LoginIn,
    LoyaltyOut,
    MeOut,
    MigrationOut,
    OutcomeIn,
    OutcomeOut,
    OverviewOut,
    ProspectsOut,
    RunsOut,
    State,
    TargetsOut,
    TasksOut,
    Tier,
    TimelineOut,
)

_ERRORS = {
    400: "the request does not make sense (a bad filter, a bad campaign setting)",
    401: "not signed in, or the sign-in expired",
    403: "signed in, but the role may not do this (or the CSRF token is missing)",
    404: "no such run, customer, campaign or task among the ones you may see",
    422: "a parameter has the wrong type or is out of range",
    429: "too many failed sign-ins: wait and retry",
    503: "the store is busy (a run is being written): retry in a moment",
}


def _errors(*codes: int) -> dict[int | str, dict[str, object]]:
    return {code: {"model": ErrorOut, "description": _ERRORS[code]} for code in codes}


READ_ERRORS = _errors(401, 404, 422, 503)
router = APIRouter(prefix="/api", tags=["dashboard"])

RunParam = Annotated[int | None, Query(ge=1, le=2**62, description="run id (default: the "
                                                                   "latest run)")]
CustomerIdParam = Annotated[str, Path(min_length=1, max_length=200)]
CampaignIdParam = Annotated[int, Path(ge=1, le=2**62)]
RunIdParam = Annotated[int, Path(ge=1, le=2**62)]


T = TypeVar("T")


async def _answer(work: Callable[[], T]) -> T:
    """``work()`` on the event loop when it needs only memory, else on a worker thread
    (:func:`tierwise.web.snapshots.from_memory`)."""
    try:
        return from_memory(work)
    except NeedsThread:
        return await anyio.to_thread.run_sync(work)


def _viewer(request: Request) -> tuple[WebContext, Viewer]:
    ctx = context(request)
    return ctx, ctx.viewer(request)


def _me(viewer: Viewer, token: str) -> MeOut:
    return MeOut(**viewer.to_dict(), csrf_token=token)


# -- sign-in --------------------------------------------------------------------------------------
@router.post("/login", response_model=MeOut, responses=_errors(401, 422, 429, 503))
def login(body: LoginIn, request: Request, response: Response) -> MeOut:
    """Sign in; sets the session cookie and returns who you are and your CSRF token."""
    ctx = context(request)
    user, session = ctx.sign_in(request, body.username, body.password)
    ctx.set_session(request, response, session)
    return _me(Viewer.of(user, ctx.settings.web.full_phone_roles), session.nonce)


@router.post("/logout", status_code=204, responses=_errors(403))
def logout(request: Request, response: Response,
           x_csrf_token: Annotated[str | None, Header()] = None) -> Response:
    """Sign out (needs the X-CSRF-Token header): the session ends on the server, and its cookie
    is cleared."""
    response.status_code = 204
    context(request).sign_out(request, response, x_csrf_token)
    return response


@router.get("/me", response_model=MeOut, responses=_errors(401, 503))
def me(request: Request) -> MeOut:
    """Who is signed in: role, scope, whether contacts show in full, and the CSRF token."""
    _, viewer = _viewer(request)
    return _me(viewer, request.state.session.nonce)


@router.get("/health", response_model=HealthOut)
async def health(request: Request) -> HealthOut:
    """Whether the server has its copy of the store (no sign-in needed, nothing personal)."""
    cache = context(request).cache
    loaded = cache is not None and cache.loaded
    return HealthOut(status="ok" if loaded else "loading", version=cache.version if cache else 0)


# -- pages' twins ---------------------------------------------------------------------------------
@router.get("/overview", response_model=OverviewOut, responses=READ_ERRORS)
def overview(request: Request, run: RunParam = None) -> dict:
    """Key figures, pyramid, activity states, Pareto curve and the run's data quality."""
    ctx, viewer = _viewer(request)
    return overview_data(ctx, viewer, run)


def overview_data(ctx: WebContext, viewer: Viewer, run: int | None) -> dict:
    cache = ctx.ensure_loaded()
    info = run_of(ctx, run)
    with cache.reader() as con:
        return cache.memo(("overview", info.run_id, viewer.scope_key()),
                          lambda: q.overview(con, viewer, info, ctx.settings.pareto.top))


@router.get("/customers", response_model=CustomersOut, responses=READ_ERRORS)
async def customers(
    request: Request,
    run: RunParam = None,
    search: Annotated[str | None, Query(alias="q", max_length=100,
                                        description="part of the id, name or phone")] = None,
    tier: Annotated[list[Tier] | None, Query(max_length=10)] = None,
    segment: Annotated[list[str] | None, Query(max_length=50)] = None,
    state: Annotated[list[State] | None, Query(max_length=10)] = None,
    key_account: bool | None = None,
    sort: Literal[tuple(q.SORTS)] = "clv_predicted",  # type: ignore[valid-type]
    order: Literal["asc", "desc"] = "desc",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int | None, Query(ge=1, le=500)] = None,
) -> dict:
    """One page of your customers: search, filters (tier, segment, state, key account), sort."""

    def work() -> dict:
        ctx, viewer = _viewer(request)
        query = q.CustomerQuery(q=search, tiers=tuple(tier or ()), segments=tuple(segment or ()),
                                states=tuple(state or ()), key_account=key_account, sort=sort,
                                order=order,
                                page=page, page_size=page_size or ctx.settings.web.page_size)
        return customers_data(ctx, viewer, run, query)

    return await _answer(work)


def run_of(ctx: WebContext, run: int | None) -> q.RunInfo:
    """A run's facts, read once per state of the server's copy."""
    cache = ctx.ensure_loaded()

    def read() -> q.RunInfo:
        with cache.reader() as con:
            return q.run_info(con, run)

    return cache.memo(("run", run), read)


def customers_data(ctx: WebContext, viewer: Viewer, run: int | None,
                   query: q.CustomerQuery) -> dict:
    """The latest run's list comes from memory (tierwise.web.listing), others from SQL."""
    cache = ctx.ensure_loaded()
    info = run_of(ctx, run)
    index = cache.shelf.get(info.run_id)
    if index is not None:
        data = index.page(viewer, query)
    else:
        with cache.reader() as con:
            data = q.customer_page(con, viewer, info, query)

    def options() -> dict:
        with cache.reader() as con:
            return q.filter_options(con, viewer, info)

    data["options"] = cache.memo(("options", info.run_id, viewer.scope_key()), options)
    return data


@router.get("/customers/{customer_id}", response_model=CustomerDetailOut,
            responses=READ_ERRORS)
async def customer(request: Request, customer_id: CustomerIdParam, run: RunParam = None
                   ) -> dict:
    """One of your customers: metrics, scores and why, CLV, history, what to do next."""

    def work() -> dict:
        ctx, viewer = _viewer(request)
        return detail_data(ctx, viewer, run, customer_id)

    return await _answer(work)


def detail_data(ctx: WebContext, viewer: Viewer, run: int | None, customer_id: str) -> dict:
    """The latest run's row comes from memory (tierwise.web.listing), others' from SQL."""
    cache = ctx.ensure_loaded()
    info = run_of(ctx, run)

    def known() -> tuple[list[q.RunInfo], dict, q.OutlookSettings]:
        with cache.reader() as con:
            return (q.list_runs(con), q.service_policies_of(con, info.run_id),
                    q.outlook_settings(con, info))

    runs, policies, outlook = cache.memo(("runs, policies, outlook", info.run_id), known)
    index = cache.shelf.get(info.run_id)
    row = index.row(viewer, customer_id) if index is not None and index.finds_rows else None
    with cache.reader(lookup=row is not None) as con:  # then only the history is read
        detail = q.customer_detail(con, viewer, info, customer_id, row=row, runs=runs,
                                   service_policies=policies, outlook=outlook)
    detail["loyalty"] = level_sentences(detail["customer"], ctx.settings.loyalty,
                                        info.language or "en")
    return detail


@router.get("/loyalty", response_model=LoyaltyOut, responses=READ_ERRORS)
def loyalty(request: Request, run: RunParam = None) -> dict:
    """Customers per loyalty level, those closest to the next level, and the rewards' effect."""
    ctx, viewer = _viewer(request)
    return loyalty_data(ctx, viewer, run)


def loyalty_data(ctx: WebContext, viewer: Viewer, run: int | None, lang: str | None = None,
                 *, rewards: bool = True) -> dict:
    """Levels among the viewer's customers (the server's copy); rewards from the store
    (counts and money, as campaigns are shown to every role; ``rewards=False``: levels only,
    for the overview)."""
    from ..loyalty.view import levels_view, rewards_view

    info = run_of(ctx, run)
    lang = lang or info.language or "en"
    settings = ctx.settings
    where, params = q.scoped(viewer, info.run_id)
    with ctx.ensure_loaded().reader() as con:
        data = levels_view(con, info.run_id, settings.loyalty, lang, where=where,
                           params=params, near=settings.web.call_list_size)
    kept: list[dict] = []
    if rewards and settings.loyalty.reward:
        with ctx.store.reading() as store:
            kept = rewards_view(store, settings.loyalty, lang, settings.campaigns)
    data.pop("customer", None)
    return q.json_safe({"run": info.to_dict(), **data, "rewards": kept})


@router.get("/key-accounts", response_model=KeyAccountsOut, responses=READ_ERRORS)
def key_accounts(request: Request, run: RunParam = None) -> dict:
    """Your key accounts with type, score, rank, reason and each criterion's points."""
    ctx, viewer = _viewer(request)
    return key_accounts_data(ctx, viewer, run)


def key_accounts_data(ctx: WebContext, viewer: Viewer, run: int | None) -> dict:
    info = run_of(ctx, run)
    with ctx.ensure_loaded().reader() as con:
        return q.key_accounts(con, viewer, info)


SelectionParam = Annotated[int | None, Query(ge=1, le=2**62, description="proposal id (default: "
                                                                         "the newest)")]


@router.get("/key-accounts/selection", response_model=SelectionOut, responses=READ_ERRORS)
def key_account_selection(request: Request, proposal: SelectionParam = None) -> dict:
    """The selection matrix learned from the best: proposed weights with their evidence."""
    ctx, viewer = _viewer(request)
    return selection_data(ctx, viewer, proposal)


def selection_data(ctx: WebContext, viewer: Viewer, proposal: int | None) -> dict:
    from . import selection as web_selection

    cache = ctx.ensure_loaded()
    with ctx.store.reading() as store, cache.reader() as con:
        return web_selection.selection(store, con, viewer, proposal or "latest",
                                       config_hash=ctx.settings.config_hash())


@router.get("/prospects", response_model=ProspectsOut, responses=READ_ERRORS)
def prospects(request: Request, run: RunParam = None,
              grade: Annotated[Literal["A", "B", "C", "D"] | None, Query()] = None,
              lang: Annotated[Literal["zh", "en"] | None, Query()] = None) -> dict:
    """Your prospects graded A-D (points per criterion), the leads that converted, and the
    conversion rate per grade."""
    ctx, viewer = _viewer(request)
    return prospects_data(ctx, viewer, run, grade, lang)


def prospects_data(ctx: WebContext, viewer: Viewer, run: int | None, grade: str | None,
                   lang: str | None) -> dict:
    info = run_of(ctx, run)
    with ctx.ensure_loaded().reader() as con:
        return web_prospects.prospects(con, viewer, info, lang or info.language or "en", grade)


@router.get("/calls", response_model=CallsOut, responses=READ_ERRORS)
def calls(request: Request, run: RunParam = None) -> dict:
    """This week's calls: warnings on your customers, then the most valuable to wake up."""
    ctx, viewer = _viewer(request)
    return calls_data(ctx, viewer, run)


def calls_data(ctx: WebContext, viewer: Viewer, run: int | None) -> dict:
    info = run_of(ctx, run)
    with ctx.ensure_loaded().reader() as con:
        return q.calls(con, viewer, info, ctx.settings.web.call_list_size)


@router.get("/feedback", response_model=FeedbackOut, responses=READ_ERRORS)
def feedback(request: Request, run: RunParam = None,
             lang: Annotated[Literal["zh", "en"] | None, Query(
                 description="language of the words (default: the run's)")] = None) -> dict:
    """Satisfaction (CSAT, NPS, response rate) by tier, segment, store and manager with its
    trend; complaints by category and tier; open complaints of key and major customers;
    comment keywords."""
    ctx, viewer = _viewer(request)
    return feedback_data(ctx, viewer, run, lang)


def feedback_data(ctx: WebContext, viewer: Viewer, run: int | None, lang: str | None) -> dict:
    info = run_of(ctx, run)
    with ctx.ensure_loaded().reader() as con:
        return q.feedback(con, viewer, info, lang or info.language or "en")
@router.get("/contracts", response_model=ContractsOut, responses=READ_ERRORS)
def contracts(
    request: Request, run: RunParam = None,
    status: Annotated[Literal["due", "all"], Query(
        description="due: contracts due for renewal; all: every contract")] = "due",
) -> dict:
    """Your customers' contracts due for renewal and your key accounts' margin after cost to
    serve; the renewal rates and the segment P&L for admins (they cover every customer)."""
    ctx, viewer = _viewer(request)
    return contracts_data(ctx, viewer, run, status)


def contracts_data(ctx: WebContext, viewer: Viewer, run: int | None, status: str) -> dict:
    from ..contracts_view import contracts_view, pnl_view

    info = run_of(ctx, run)
    scope = q.scope_of(viewer)
    with ctx.ensure_loaded().reader() as con:
        return q.json_safe({
            "run": info.to_dict(),
            "contracts": contracts_view(con, info.run_id, scope,
                                        statuses=None if status == "all" else ("due", "overdue")),
            "pnl": pnl_view(con, info.run_id, scope)})


@router.get("/migration", response_model=MigrationOut, responses=READ_ERRORS)
def migration(
    request: Request,
    to_run: RunParam = None,
    from_run: Annotated[int | None, Query(ge=1, le=2**62, description="earlier run (default: "
                                                                      "the one before to_run)")]
    = None,
    by: Literal[q.MIGRATION_BY] = "tier",  # type: ignore[valid-type]
) -> dict:
    """Who moved where between two runs, among your customers of each run."""
    ctx, viewer = _viewer(request)
    return migration_data(ctx, viewer, to_run, from_run, by)


def migration_data(ctx: WebContext, viewer: Viewer, to_run: int | None, from_run: int | None,
                   by: str) -> dict:
    cache = ctx.ensure_loaded()
    to_info = run_of(ctx, to_run)
    from_info = run_of(ctx, from_run) if from_run is not None else None
    with cache.reader() as con:
        key = ("migration", to_info.run_id, from_run, by, viewer.scope_key())
        return cache.memo(key, lambda: q.migration(con, viewer, to_info, from_info, by))


@router.get("/runs", response_model=RunsOut, responses=_errors(401, 503))
def runs(request: Request) -> dict:
    """Every run (snapshot), newest first; admins may download their reports."""
    ctx, viewer = _viewer(request)
    with ctx.ensure_loaded().reader() as con:
        items = [r.to_dict() for r in q.list_runs(con)]
    return {"runs": items, "can_download_reports": viewer.is_admin}


# -- campaigns ------------------------------------------------------------------------------------
@router.get("/campaigns", response_model=CampaignsOut, responses=_errors(401, 503))
def campaign_list(request: Request) -> dict:
    """Every campaign; only admins may create one."""
    ctx, viewer = _viewer(request)
    with ctx.store.reading() as store:
        items = web_campaigns.campaigns(store)
    return {"campaigns": items, "can_create": viewer.is_admin}


@router.post("/campaigns", response_model=CampaignOut, status_code=201,
             responses=_errors(400, 401, 403, 404, 422, 503))
def campaign_create(body: CampaignIn, request: Request,
                    x_csrf_token: Annotated[str | None, Header()] = None) -> dict:
    """Create a campaign from a filter over a run (admins only; needs X-CSRF-Token)."""
    ctx, viewer = _viewer(request)
    request.state.session.check_csrf(x_csrf_token)
    return create_campaign(ctx, viewer, body)


def create_campaign(ctx: WebContext, viewer: Viewer, body: CampaignIn) -> dict:
    with ctx.store.writing() as store:
        created = web_campaigns.create(store, viewer, body, ctx.settings.campaigns,
                                       segments=ctx.settings.segments)
    ctx.ensure_loaded().refresh(force=True)
    return created


@router.get("/campaigns/{campaign_id}", response_model=CampaignDetailOut,
            responses=READ_ERRORS)
def campaign_detail(request: Request, campaign_id: CampaignIdParam) -> dict:
    """A campaign and its evaluation: figures, lift against the control group, follow-up."""
    ctx, _ = _viewer(request)
    with ctx.store.reading() as store:
        return web_campaigns.campaign_detail(store, campaign_id, ctx.settings.campaigns)


@router.get("/campaigns/{campaign_id}/targets", response_model=TargetsOut,
            responses=READ_ERRORS)
def campaign_targets(request: Request, campaign_id: CampaignIdParam) -> dict:
    """The campaign's targets among your customers (never the control group)."""
    ctx, viewer = _viewer(request)
    return targets_data(ctx, viewer, campaign_id)


def targets_data(ctx: WebContext, viewer: Viewer, campaign_id: int) -> dict:
    cache = ctx.ensure_loaded()
    with ctx.store.reading() as store, cache.reader() as con:
        return web_campaigns.targets(store, con, viewer, campaign_id)


# -- tasks and outcomes ---------------------------------------------------------------------------
TaskIdParam = Annotated[int, Path(ge=1, le=2**62)]
LangParam = Annotated[Literal["zh", "en"] | None, Query(
    description="language of the words (default: the latest run's)")]


def words_language(ctx: WebContext, lang: str | None) -> str:
    """``lang``, else the latest run's language, else English."""
    if lang:
        return lang
    try:
        return run_of(ctx, None).language or "en"
    except Exception:  # no run yet
        return "en"


@router.get("/tasks", response_model=TasksOut, responses=_errors(401, 422, 503))
def tasks(request: Request, status: Literal["open", "done", "closed", "all"] = "open",
          lang: LangParam = None) -> dict:
    """Your tasks (an admin: everyone's), by due date then priority."""
    ctx, viewer = _viewer(request)
    return tasks_data(ctx, viewer, words_language(ctx, lang), status)


def tasks_data(ctx: WebContext, viewer: Viewer, lang: str, status: str = "open") -> dict:
    with ctx.store.reading() as store:
        return web_tasks.my_tasks(store, viewer, lang,
                                  status=None if status == "all" else status)


@router.post("/tasks/{task_id}/outcome", response_model=OutcomeOut, status_code=201,
             responses=_errors(400, 401, 403, 404, 422, 503))
def task_outcome(body: OutcomeIn, request: Request, task_id: TaskIdParam,
                 x_csrf_token: Annotated[str | None, Header()] = None) -> dict:
    """Record what happened on one of your tasks (needs X-CSRF-Token); the next run acts on
    it, and a next contact date makes a follow-up task."""
    ctx, viewer = _viewer(request)
    request.state.session.check_csrf(x_csrf_token)
    return record_outcome(ctx, viewer, task_id, body)


def record_outcome(ctx: WebContext, viewer: Viewer, task_id: int, body: OutcomeIn) -> dict:
    import datetime as dt

    with ctx.store.writing() as store:
        return web_tasks.record(store, viewer, task_id, body.outcome, note=body.note,
                                next_contact=body.next_contact, today=dt.date.today())


@router.get("/customers/{customer_id}/timeline", response_model=TimelineOut,
            responses=READ_ERRORS)
def customer_timeline(request: Request, customer_id: CustomerIdParam,
                      lang: LangParam = None) -> dict:
    """The customer's orders, snapshots, tasks, outcomes and campaigns, newest first."""
    ctx, viewer = _viewer(request)
    detail_data(ctx, viewer, None, customer_id)  # 404 unless the viewer may see them
    return {"customer_id": customer_id,
            "events": timeline_data(ctx, customer_id, words_language(ctx, lang))}


def timeline_data(ctx: WebContext, customer_id: str, lang: str) -> list[dict]:
    with ctx.store.reading() as store:
        return web_tasks.timeline(store, customer_id, lang)


__all__ = ["router"]

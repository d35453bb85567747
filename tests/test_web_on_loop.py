"""Requests answered from memory run on the event loop; anything that would wait (a query of the
copy, a result not yet remembered, the lock of a copy being made) sends them to a worker thread,
and the answer is the same either way."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from _web_store import PASSWORD, client, shared_web_store

pytest.importorskip("fastapi")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    from tierwise import load_config
    from tierwise.web import create_app

    config = shared_web_store(tmp_path_factory)
    application = create_app(load_config(config), Path(config).parent / "tierwise.duckdb")
    with client(application):  # runs the start-up: the copy and the latest run's index
        yield application


def _viewer(app, name: str):
    ctx = app.state.tierwise
    from tierwise.web.access import Viewer

    return ctx, Viewer.of(ctx.ensure_loaded().users[name], ctx.settings.web.full_phone_roles)


def test_a_list_needs_the_thread_until_its_results_are_remembered(app) -> None:
    from tierwise.web import api
    from tierwise.web.queries import CustomerQuery
    from tierwise.web.snapshots import NeedsThread, from_memory

    ctx, viewer = _viewer(app, "sunli")
    query = CustomerQuery(q="公司", sort="name", order="asc")
    ctx.ensure_loaded().refresh(force=True)  # forget what was remembered
    with pytest.raises(NeedsThread):  # the run's facts and the filter menus: a query each
        from_memory(lambda: api.customers_data(ctx, viewer, None, query))
    on_thread = api.customers_data(ctx, viewer, None, query)
    on_loop = from_memory(lambda: api.customers_data(ctx, viewer, None, query))
    assert on_loop == on_thread
    assert on_loop["total"] > 0


def test_an_older_run_needs_the_thread(app) -> None:
    """The latest run's list and rows are in memory; an older run's are read with SQL, on a
    worker thread. A customer page of the latest run reads only its history (an indexed
    look-up) and stays on the loop."""
    from tierwise.web import api
    from tierwise.web.errors import NotFound
    from tierwise.web.queries import CustomerQuery
    from tierwise.web.snapshots import NeedsThread, from_memory

    ctx, viewer = _viewer(app, "admin")
    api.customers_data(ctx, viewer, 1, CustomerQuery())  # remembered: the run and the menus
    with pytest.raises(NeedsThread):  # but run 1 is not the latest: its list is SQL
        from_memory(lambda: api.customers_data(ctx, viewer, 1, CustomerQuery()))
    some_id = api.customers_data(ctx, viewer, None, CustomerQuery())["items"][0]["customer_id"]
    for run in (None, 1):
        api.detail_data(ctx, viewer, run, some_id)  # remembers the runs and policies
    with pytest.raises(NeedsThread):
        from_memory(lambda: api.detail_data(ctx, viewer, 1, some_id))
    on_loop = from_memory(lambda: api.detail_data(ctx, viewer, None, some_id))
    assert on_loop == api.detail_data(ctx, viewer, None, some_id)
    assert len(on_loop["history"]) == 2
    _, manager = _viewer(app, "sunli")
    outside = next(r["customer_id"] for r in api.customers_data(
        ctx, viewer, None, CustomerQuery(page_size=500))["items"]
        if r["account_manager"] != "孙丽")
    with pytest.raises(NotFound):  # out of scope: the same 404 on the loop
        from_memory(lambda: api.detail_data(ctx, manager, None, outside))


def test_a_copy_being_made_does_not_hold_up_the_event_loop(app) -> None:
    """While the start-up copies the store it holds a lock for seconds: the loop must not wait
    for it (health checks and everyone else would hang)."""
    from tierwise.web.snapshots import NeedsThread, from_memory

    ctx = app.state.tierwise
    cache, ctx.cache = ctx.cache, None  # as before the first copy
    held, release = threading.Event(), threading.Event()

    def copying() -> None:
        with ctx._starting:
            held.set()
            release.wait(10)

    worker = threading.Thread(target=copying)
    worker.start()
    try:
        held.wait(10)
        with pytest.raises(NeedsThread):
            from_memory(ctx.ensure_loaded)
    finally:
        release.set()
        worker.join()
        ctx.cache = cache


def test_the_api_answers_the_same_on_both_paths(app) -> None:
    """Through HTTP: the first request of a new state of the copy goes to a thread, the next
    ones stay on the loop; both answers are equal, and a 404 is a 404 on either path."""
    ctx = app.state.tierwise
    with client(app, "wanghy", PASSWORD) as http:
        ctx.ensure_loaded().refresh(force=True)
        params = {"sort": "total_amount", "page_size": 5}
        first = http.get("/api/customers", params=params)
        second = http.get("/api/customers", params=params)
        assert first.status_code == second.status_code == 200
        assert first.json() == second.json()
        assert http.get("/api/customers", params={"sort": "nonsense"}).status_code == 422
        assert http.get("/api/customers", params={"run": 999}).status_code == 404

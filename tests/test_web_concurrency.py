"""One writer, many readers: the server keeps serving while 'tierwise run' writes, and shows the
new run once it is committed; writers wait for a reader's lock instead of failing at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _web_store import LAST_RUN, client, client_class, copy_store, shared_web_store
from conftest import ROOT

pytest.importorskip("fastapi")


@pytest.fixture
def config(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return copy_store(shared_web_store(tmp_path_factory), tmp_path)


def _paused_run(config: Path, as_of: str, seconds: float) -> subprocess.Popen:
    """A run that pauses before its commit, holding the write lock (tests/_paused_run.py)."""
    return subprocess.Popen([sys.executable, str(ROOT / "tests" / "_paused_run.py"), str(config),
                             as_of, str(seconds)], cwd=config.parent,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _hold_read_lock(store: Path, seconds: float) -> subprocess.Popen:
    code = ("import duckdb, sys, time; con = duckdb.connect(sys.argv[1], read_only=True); "
            "print('held', flush=True); time.sleep(float(sys.argv[2]))")
    proc = subprocess.Popen([sys.executable, "-c", code, str(store), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def _runs(browser) -> list[int]:
    answer = browser.get("/api/runs")
    assert answer.status_code == 200, answer.text
    return [r["run_id"] for r in answer.json()["runs"]]


def test_server_serves_the_old_run_during_a_run_and_the_new_one_after(config: Path) -> None:
    from tierwise import load_config
    from tierwise.web import create_app

    settings = load_config(config)
    settings.web.refresh_seconds = 0.2
    app = create_app(settings)
    with client_class()(app):
        admin = client(app, "admin")
        assert _runs(admin) == [2, 1]
        before = admin.get("/api/customers", params={"page_size": 5}).json()
        # re-running the last period replaces run 2 with run 3; it pauses before COMMIT
        # while holding the store's write lock
        writer = _paused_run(config, LAST_RUN.isoformat(), 2)
        try:
            assert "pausing before commit" in writer.stdout.readline()
            for _ in range(5):  # the writer holds the lock: the copy is served, unchanged
                assert _runs(admin) == [2, 1]
                during = admin.get("/api/customers", params={"page_size": 5})
                assert during.status_code == 200 and during.json()["items"] == before["items"]
                assert admin.get(f"/api/customers/{before['items'][0]['customer_id']}"
                                 ).status_code == 200
                time.sleep(0.2)
            assert writer.wait(timeout=120) == 0, writer.stderr.read()
        finally:
            writer.kill()
            writer.wait()
        deadline = time.monotonic() + 30
        while _runs(admin) != [3, 1] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _runs(admin) == [3, 1]
        after = admin.get("/api/customers", params={"page_size": 5}).json()
        assert after["run"]["run_id"] == 3
        assert admin.get("/api/customers", params={"run": 2}).status_code == 404
        assert admin.get("/api/overview").json()["run"]["run_id"] == 3


def test_users_added_while_serving_can_sign_in(config: Path) -> None:
    from tierwise import load_config
    from tierwise.web import create_app

    settings = load_config(config)
    settings.web.refresh_seconds = 0.2
    app = create_app(settings)
    with client_class()(app):
        anonymous = client(app)
        added = subprocess.run(
            [sys.executable, "-m", "tierwise", "users", "add", "newcomer", "--role", "manager",
             "--manager", "张伟", "--password-stdin"], cwd=config.parent, input="a long password\n",
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, capture_output=True, text=True,
            timeout=120)
        assert added.returncode == 0, added.stderr
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            signed = anonymous.post("/api/login", json={"username": "newcomer",
                                                        "password": "a long password"})
            if signed.status_code == 200:
                break
            time.sleep(0.2)
        assert signed.status_code == 200
        assert {i["account_manager"] for i in anonymous.get(
            "/api/customers", params={"page_size": 500}).json()["items"]} == {"张伟"}


def test_a_writer_waits_for_a_readers_lock(config: Path) -> None:
    from tierwise.store import Store

    store = config.parent / "tierwise.duckdb"
    reader = _hold_read_lock(store, 1.5)
    try:
        started = time.monotonic()
        with Store(store) as writer:
            assert writer.runs()["run_id"].tolist() == [1, 2]
        assert time.monotonic() - started > 0.5
    finally:
        reader.wait()


def test_a_writer_gives_up_with_a_clear_error(config: Path) -> None:
    from tierwise.errors import StoreBusyError
    from tierwise.store import Store

    store = config.parent / "tierwise.duckdb"
    reader = _hold_read_lock(store, 3)
    try:
        with pytest.raises(StoreBusyError, match="in use by another process"):
            Store(store, lock_timeout=0.3)
    finally:
        reader.wait()


def test_refresh_while_a_writer_holds_the_store_keeps_the_copy(config: Path) -> None:
    from tierwise.errors import StoreBusyError
    from tierwise.web.snapshots import SnapshotCache, StoreFile

    cache = SnapshotCache(StoreFile(config.parent / "tierwise.duckdb"), config.parent / "copy",
                          lock_wait=0.3)
    cache.open()
    try:
        assert cache.refresh()
        with cache.reader() as con:
            assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
        writer = _paused_run(config, "2026-03-31", 2)
        try:
            assert "pausing before commit" in writer.stdout.readline()
            with pytest.raises(StoreBusyError):
                cache.refresh(force=True)
            with cache.reader() as con:
                assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
            assert writer.wait(timeout=120) == 0, writer.stderr.read()
        finally:
            writer.kill()
            writer.wait()
        assert cache.refresh()
        with cache.reader() as con:
            assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 3
            assert con.execute("SELECT count(DISTINCT run_id) FROM snapshot_customers"
                               ).fetchone()[0] == 3
        assert not cache.refresh()  # nothing changed since
    finally:
        cache.close()

"""Hardening of the dashboard: sign-out ends the session on the server, security headers on
every route, no CDN page, and X-Forwarded-For believed only from configured proxies."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _web_store import client, client_class, copy_store, shared_web_store
from _serve import free_port
from conftest import ROOT

pytest.importorskip("fastapi")

SESSION = "tierwise_session"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_store(shared_web_store(tmp_path_factory), tmp_path_factory.mktemp("hardening"))


def _app(config: Path, **web: object):
    from tierwise import load_config
    from tierwise.web import create_app

    cfg = load_config(config)
    if web:
        cfg = cfg.model_copy(update={"web": cfg.web.model_copy(update=web)})
    return create_app(cfg)


@pytest.fixture(scope="module")
def app(config: Path):
    app = _app(config)
    with client_class()(app):
        yield app


# -- 5. sign-out ends the session -----------------------------------------------------------------
def test_a_cookie_saved_before_sign_out_is_refused_after(app, config: Path) -> None:
    browser = client(app, "admin")
    saved = browser.cookies.get(SESSION)
    assert browser.get("/api/me").status_code == 200
    assert browser.post("/api/logout").status_code == 204
    thief = client(app)
    thief.cookies.set(SESSION, saved)
    assert thief.get("/api/me").status_code == 401
    assert thief.get("/customers", follow_redirects=False).status_code == 303
    # a restarted server (same store, same key) still refuses it
    restarted = _app(config)
    with client_class()(restarted, raise_server_exceptions=False) as again:
        again.cookies.set(SESSION, saved)
        assert again.get("/api/me").status_code == 401
    # other sessions of the same user go on
    other = client(app, "admin")
    assert other.get("/api/me").status_code == 200


def test_signing_out_with_the_form_ends_the_session_too(app) -> None:
    browser = client(app, "sunli")
    saved = browser.cookies.get(SESSION)
    page = browser.get("/customers")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert browser.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    out = browser.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    thief = client(app)
    thief.cookies.set(SESSION, saved)
    assert thief.get("/api/me").status_code == 401


# -- 6. headers on every route --------------------------------------------------------------------
def _routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route the app answers, with sample path parameters."""
    from starlette.routing import Mount

    found: list[tuple[str, set[str]]] = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            found += [(c.path, set(c.methods)) for c in contexts()]
        elif isinstance(route, Mount):
            found.append((route.path + "/style.css", {"GET"}))
        elif hasattr(route, "routes"):
            found += [(r.path, set(r.methods)) for r in route.routes]
        else:
            found.append((route.path, set(route.methods)))
    samples = {"customer_id": "C10001", "campaign_id": "1", "run_id": "2", "fmt": "xlsx"}
    calls = []
    for path, methods in found:
        filled = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: samples.get(m.group(1), "1"), path)
        calls += [(method, filled) for method in sorted(methods - {"HEAD"})]
    return calls


def test_security_headers_on_every_route(app) -> None:
    calls = _routes(app)
    assert len(calls) > 20 and ("GET", "/api/customers") in calls
    admin, stranger = client(app, "admin"), client(app)
    for who in (admin, stranger):
        for method, path in calls:
            answer = who.request(method, path, follow_redirects=False)
            headers = answer.headers
            where = f"{method} {path} -> {answer.status_code}"
            csp = headers.get("content-security-policy", "")
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, where
            assert "unsafe-inline" not in csp.split("style-src-attr")[0], where
            assert headers.get("x-frame-options") == "DENY", where
            assert headers.get("x-content-type-options") == "nosniff", where
            assert headers.get("referrer-policy") == "same-origin", where
            if not path.startswith("/static/"):
                assert headers.get("cache-control") == "no-store", where


def test_pages_have_no_inline_script(app) -> None:
    admin = client(app, "admin")
    for path in ("/", "/customers", "/customers/C10001", "/key-accounts", "/calls", "/runs",
                 "/campaigns", "/login", "/key-accounts/selection"):
        page = admin.get(path)
        assert page.status_code == 200, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), path
        assert not re.search(r"\son[a-z]+=", page.text), path


def test_no_page_loads_scripts_from_a_cdn(app) -> None:
    assert client(app, "admin").get("/api/docs").status_code == 404
    assert client(app).get("/openapi.json").status_code == 200


# -- 8. X-Forwarded-For ---------------------------------------------------------------------------
def _fail_logins(browser, n: int, spoof: bool) -> list[int]:
    codes = []
    for i in range(n):
        headers = {"X-Forwarded-For": f"203.0.113.{i + 1}"} if spoof else {}
        codes.append(browser.post("/api/login", json={"username": "wanghy", "password": "nope"},
                                  headers=headers).status_code)
    return codes


def test_forwarded_for_is_ignored_without_trusted_proxies(config: Path) -> None:
    app = _app(config, login_max_failures=3)
    with client_class()(app, raise_server_exceptions=False,
                        client=("127.0.0.1", 40000)) as local:
        assert _fail_logins(local, 4, spoof=True) == [401, 401, 401, 429]


def test_forwarded_for_is_believed_from_a_trusted_proxy_only(config: Path) -> None:
    app = _app(config, login_max_failures=3, trusted_proxies=["10.0.0.0/8"])
    with client_class()(app, raise_server_exceptions=False, client=("10.1.2.3", 40000)) as proxy:
        # each forwarded client is its own address: none reaches the limit
        assert _fail_logins(proxy, 4, spoof=True) == [401] * 4
        one = [proxy.post("/api/login", json={"username": "wanghy", "password": "nope"},
                          headers={"X-Forwarded-For": "198.51.100.7"}).status_code
               for _ in range(4)]
        assert one == [401, 401, 401, 429]
    with client_class()(app, raise_server_exceptions=False,
                        client=("192.0.2.50", 40000)) as outsider:
        assert _fail_logins(outsider, 4, spoof=True) == [401, 401, 401, 429]


def test_trusted_proxies_must_be_addresses() -> None:
    from tierwise.config import WebConfig
    from tierwise.errors import ConfigError

    assert WebConfig(trusted_proxies=[" 127.0.0.1", "10.0.0.0/8", "::1"]).trusted_proxies \
        == ["127.0.0.1", "10.0.0.0/8", "::1"]
    with pytest.raises((ValueError, ConfigError)):
        WebConfig(trusted_proxies=["my-proxy.local"])


def test_the_real_server_ignores_a_spoofed_forwarded_for(config: Path) -> None:
    """``tierwise serve`` itself (uvicorn), reached from 127.0.0.1 like every local client."""
    import httpx

    text = config.read_text(encoding="utf-8")
    port = free_port()
    served = config.with_name("served.toml")
    served.write_text(text + f"\n[web]\nport = {port}\nlogin_max_failures = 3\n",
                      encoding="utf-8")
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    server = subprocess.Popen([sys.executable, "-m", "tierwise", "serve", "-c", str(served)],
                              cwd=config.parent, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/api/health").json()["status"] == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.3)
        with httpx.Client(base_url=base) as browser:
            assert _fail_logins(browser, 4, spoof=True) == [401, 401, 401, 429]
    finally:
        server.terminate()
        server.wait(timeout=30)

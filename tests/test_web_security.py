"""Sign-in, sessions, CSRF, the sign-in rate limit, cookie flags, password storage and errors."""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path

import duckdb
import pytest

from _web_store import PASSWORD, USERS, client, client_class, copy_store, shared_web_store

pytest.importorskip("fastapi")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shared store: these tests change passwords and remove users."""
    return copy_store(shared_web_store(tmp_path_factory), tmp_path_factory.mktemp("security"))


@pytest.fixture(scope="module")
def app(config: Path):
    from tierwise import load_config
    from tierwise.web import create_app

    app = create_app(load_config(config))
    with client_class()(app):
        yield app


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the form carries a CSRF token"
    return found.group(1)


def _cookie_header(response, name: str = "tierwise_session") -> str:
    headers = [v for k, v in response.headers.multi_items() if k.lower() == "set-cookie"]
    found = [h for h in headers if h.startswith(name + "=")]
    assert found, headers
    return found[-1]


def test_sign_in_with_the_form_then_sign_out(app) -> None:
    browser = client(app)
    page = browser.get("/login?next=/customers")
    assert page.status_code == 200 and 'id="login-form"' in page.text
    signed = browser.post("/login", data={"username": "admin", "password": PASSWORD,
                                          "csrf_token": _csrf(page.text), "next": "/customers"},
                          follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/customers"
    customers = browser.get("/customers")
    assert customers.status_code == 200 and 'data-role="admin"' in customers.text
    assert browser.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    out = browser.post("/logout", data={"csrf_token": _csrf(customers.text)},
                       follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert "Max-Age=0" in _cookie_header(out) or 'expires=' in _cookie_header(out).lower()
    again = browser.get("/customers", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/login?next=")


def test_sign_in_needs_the_forms_csrf_token(app) -> None:
    browser = client(app)
    page = browser.get("/login")
    for token in ("", "not-the-token"):
        answer = browser.post("/login", data={"username": "admin", "password": PASSWORD,
                                              "csrf_token": token})
        assert answer.status_code == 403
    stranger = client(app)  # no session cookie at all: a cross-site form
    assert stranger.post("/login", data={"username": "admin", "password": PASSWORD,
                                         "csrf_token": _csrf(page.text)}).status_code == 403


def test_a_new_session_nonce_after_sign_in(app) -> None:
    browser = client(app)
    before = _csrf(browser.get("/login").text)
    browser.post("/login", data={"username": "sunli", "password": PASSWORD,
                                 "csrf_token": before})
    after = browser.get("/api/me").json()["csrf_token"]
    assert after != before


def test_api_posts_need_the_csrf_header(app) -> None:
    admin = client(app, "admin")
    token = admin.headers.pop("X-CSRF-Token")
    body = {"tiers": ["long_tail"], "face_value": 10}
    assert admin.post("/api/campaigns", json=body).status_code == 403
    assert admin.post("/api/campaigns", json=body,
                      headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert admin.post("/api/logout").status_code == 403
    assert admin.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 204
    assert admin.get("/api/me").status_code == 401


def test_form_posts_need_the_csrf_token(app) -> None:
    admin = client(app, "admin")
    answer = admin.post("/campaigns", data={"tiers": "long_tail", "face_value": "10"})
    assert answer.status_code == 403
    assert 'id="error-page" data-status="403"' in answer.text


def test_wrong_password_then_rate_limit(app) -> None:
    browser = client(app)
    token = _csrf(browser.get("/login").text)
    for _ in range(5):
        wrong = browser.post("/login", data={"username": "mfg-owner", "password": "nope nope",
                                             "csrf_token": token})
        assert wrong.status_code == 401 and 'id="login-error"' in wrong.text
    blocked = browser.post("/login", data={"username": "mfg-owner", "password": PASSWORD,
                                           "csrf_token": token})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    api = client(app).post("/api/login", json={"username": "MFG-Owner ", "password": PASSWORD})
    assert api.status_code == 429 and api.json()["error"]["code"] == "too_many_attempts"
    # another user from the same address is not affected
    assert client(app).post("/api/login", json={"username": "admin",
                                                "password": PASSWORD}).status_code == 200


def test_unknown_user_and_wrong_password_read_the_same(app) -> None:
    a = client(app).post("/api/login", json={"username": "nobody", "password": "x" * 10})
    b = client(app).post("/api/login", json={"username": "admin", "password": "x" * 10})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_cookie_flags(app) -> None:
    answer = client(app).post("/api/login", json={"username": "admin", "password": PASSWORD})
    cookie = _cookie_header(answer).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    https = client_class()(app, base_url="https://testserver")
    secure = _cookie_header(https.post("/api/login", json={"username": "admin",
                                                            "password": PASSWORD})).lower()
    assert "; secure" in secure and "httponly" in secure and "samesite=lax" in secure
    lang = _cookie_header(client(app, "admin").get("/?lang=zh"), "tierwise_lang").lower()
    assert "httponly" in lang and "samesite=lax" in lang


def test_forged_or_expired_cookies_are_not_sessions(app) -> None:
    from tierwise.web.security import Session, SessionCodec

    browser = client(app, "admin")
    cookie = browser.cookies.get("tierwise_session")
    browser.cookies.set("tierwise_session", cookie[:-3] + ("AAA" if cookie[-3:] != "AAA"
                                                           else "BBB"))
    assert browser.get("/api/me").status_code == 401
    forged = SessionCodec("another key" * 4, 3600).dumps(Session.fresh("admin", "x"))
    browser.cookies.set("tierwise_session", forged)
    assert browser.get("/api/me").status_code == 401
    codec = SessionCodec("k" * 40, -1)
    assert codec.loads(codec.dumps(Session.fresh("admin", "x"))) is None


def test_password_is_stored_as_an_argon2_hash(config: Path) -> None:
    from tierwise.web.accounts import User, verify_password

    con = duckdb.connect(str(config.parent / "tierwise.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT name, password_hash FROM web_users").fetchall()
    finally:
        con.close()
    assert {name for name, _ in rows} == set(USERS)
    for name, hashed in rows:
        assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
        user = User(name, "admin", hashed)
        assert verify_password(user, PASSWORD) and not verify_password(user, PASSWORD + "!")
    assert len({h for _, h in rows}) == len(rows)  # salted: same password, different hashes


def test_password_change_and_removal_end_open_sessions(app, config: Path) -> None:
    from tierwise.store import Store
    from tierwise.web.accounts import remove_user, set_password

    changed, removed = client(app, "wanghy"), client(app, "Head of sales")
    assert changed.get("/api/me").status_code == removed.get("/api/me").status_code == 200
    with Store(config.parent / "tierwise.duckdb") as store:
        set_password(store, "wanghy", "a brand new password")
        remove_user(store, "Head of sales")
    app.state.tierwise.cache.refresh()
    assert changed.get("/api/me").status_code == removed.get("/api/me").status_code == 401
    assert client(app, "wanghy", "a brand new password").get("/api/me").status_code == 200


def test_no_open_redirect_after_sign_in(app) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        browser = client(app)
        token = _csrf(browser.get("/login").text)
        answer = browser.post("/login", data={"username": "admin", "password": PASSWORD,
                                              "csrf_token": token, "next": target},
                              follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_pages_redirect_to_sign_in_and_the_api_answers_401(app) -> None:
    anonymous = client(app)
    for path in ("/", "/customers?q=x", "/customers/C10001", "/key-accounts", "/calls",
                 "/migration", "/campaigns", "/runs", "/runs/1/report.xlsx",
                 "/key-accounts/selection"):
        answer = anonymous.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next=")
    for path in ("/api/overview", "/api/customers", "/api/customers/C10001", "/api/key-accounts",
                 "/api/calls", "/api/migration", "/api/runs", "/api/campaigns", "/api/me",
                 "/api/campaigns/1", "/api/campaigns/1/targets", "/api/key-accounts/selection"):
        answer = anonymous.get(path)
        assert answer.status_code == 401, path
        assert answer.json() == {"error": {"code": "sign_in_required",
                                           "message": "sign in first"}}
    assert anonymous.get("/api/health").json()["status"] == "ok"


def test_structured_api_errors(app) -> None:
    admin = client(app, "admin")
    for path, status, code in (("/api/nothing-here", 404, "not_found"),
                               ("/api/customers?page=0", 422, "invalid_request"),
                               ("/api/customers?sort=phone", 422, "invalid_request"),
                               ("/api/customers?run=999", 404, "not_found"),
                               ("/api/migration?by=phone", 422, "invalid_request"),
                               ("/api/campaigns/999", 404, "not_found")):
        answer = admin.get(path)
        assert answer.status_code == status, path
        assert answer.json()["error"]["code"] == code, path
    assert admin.delete("/api/customers").status_code == 405
    bad = admin.post("/api/campaigns", json={"face_value": 10})
    assert bad.status_code == 400 and "no audience filter" in bad.json()["error"]["message"]


def test_unexpected_errors_hide_their_details(app, monkeypatch, caplog) -> None:
    from tierwise.web import queries

    def broken(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM snapshot_customers /srv/data/tierwise.duckdb")

    monkeypatch.setattr(queries, "key_accounts", broken)
    admin = client(app, "admin")
    with caplog.at_level(logging.ERROR, logger="tierwise.web"):
        api = admin.get("/api/key-accounts")
        page = admin.get("/key-accounts")
    assert api.status_code == page.status_code == 500
    assert api.json()["error"]["code"] == "internal_error"
    for text in (api.text, page.text):
        assert "SELECT" not in text and "Traceback" not in text and "/srv" not in text
    assert 'data-status="500"' in page.text
    assert any("RuntimeError" in (r.exc_text or "") for r in caplog.records)


def test_store_errors_do_not_show_server_folders(config: Path) -> None:
    from tierwise.errors import StoreError
    from tierwise.web.errors import public_message

    store = config.parent / "tierwise.duckdb"
    text = public_message(StoreError(f"run 9 not found in {store} (runs: 1, 2)"), store)
    assert str(config.parent) not in text and "tierwise.duckdb" in text


def test_request_log_has_no_personal_data(app, caplog) -> None:
    admin = client(app, "admin")
    with caplog.at_level(logging.INFO, logger="tierwise.web"):
        admin.get("/api/customers/C10029")
        admin.get("/customers/C10029?q=%E4%B8%8A%E6%B5%B7")
        admin.get("/api/customers", params={"q": "13800000000"})
    lines = [r.getMessage() for r in caplog.records if r.name == "tierwise.web"]
    assert any("/api/customers/{customer_id} 200" in line and "role=admin" in line
               for line in lines)
    for line in lines:
        assert "C10029" not in line and "1380000" not in line and "上海" not in line
        assert "admin " not in line.split("role=")[0]


def test_secret_key_is_kept_next_to_the_store_and_reused(config: Path, monkeypatch) -> None:
    from tierwise import load_config
    from tierwise.web import create_app

    key_file = config.parent / "tierwise.duckdb.web-secret"
    assert key_file.exists()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    first = client(create_app(load_config(config)), "admin")
    second = client_class()(create_app(load_config(config)))  # a restarted server
    second.cookies.set("tierwise_session", first.cookies.get("tierwise_session"))
    assert second.get("/api/me").status_code == 200
    monkeypatch.setenv("TIERWISE_SECRET_KEY", "s" * 40)
    third = client_class()(create_app(load_config(config)))
    third.cookies.set("tierwise_session", first.cookies.get("tierwise_session"))
    assert third.get("/api/me").status_code == 401

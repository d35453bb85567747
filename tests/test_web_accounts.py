"""'tierwise users ...' and 'tierwise serve' from the command line, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from _web_store import copy_store, shared_web_store
from _serve import free_port
from conftest import ROOT

pytest.importorskip("fastapi")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_store(shared_web_store(tmp_path_factory), tmp_path_factory.mktemp("accounts"))


def users(config: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess:
    """``tierwise users ARGS`` with ``password`` on stdin (None: no stdin at all, as in CI)."""
    return subprocess.run(
        [sys.executable, "-m", "tierwise", "users", *args, "--config", str(config)],
        input=password, stdin=subprocess.DEVNULL if password is None else None,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1", "COLUMNS": "200"},
        capture_output=True, text=True, timeout=120)


def stored_hash(config: Path, name: str) -> str | None:
    con = duckdb.connect(str(config.parent / "tierwise.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT password_hash FROM web_users WHERE name = ?",
                           [name]).fetchall()
    finally:
        con.close()
    return rows[0][0] if rows else None


def test_add_list_passwd_remove(config: Path) -> None:
    from tierwise.web.accounts import User, verify_password

    added = users(config, "add", "boss", "--role", "admin", "--password-stdin",
                  password="first password\n")
    assert added.returncode == 0, added.stderr
    assert "added admin 'boss'" in added.stderr
    hashed = stored_hash(config, "boss")
    assert hashed.startswith("$argon2id$") and "first password" not in hashed
    listed = users(config, "list", "--json")
    entry = [u for u in json.loads(listed.stdout) if u["name"] == "boss"][0]
    assert entry["role"] == "admin" and "password_hash" not in entry
    assert "$argon2" not in listed.stdout
    assert users(config, "passwd", "boss", "--password-stdin",
                 password="second password\n").returncode == 0
    assert verify_password(User("boss", "admin", stored_hash(config, "boss")), "second password")
    assert users(config, "remove", "boss").returncode == 0
    assert stored_hash(config, "boss") is None
    gone = users(config, "remove", "boss")
    assert gone.returncode == 5 and "no user 'boss'" in gone.stderr


def test_owner_and_manager_scopes_are_checked(config: Path) -> None:
    owner = users(config, "add", "public", "--role", "owner", "--segments",
                  "Public sector", "--password-stdin", password="a password!\n")
    assert owner.returncode == 0 and "segments Public sector" in owner.stderr
    manager = users(config, "add", "zhangwei", "--role", "manager", "--manager", "张伟",
                    "--password-stdin", password="a password!\n")
    assert manager.returncode == 0 and "张伟" in manager.stderr
    unknown = users(config, "add", "x", "--role", "owner", "--segments", "Retail",
                    "--password-stdin", password="a password!\n")
    assert unknown.returncode == 2 and "Manufacturing" in unknown.stderr


@pytest.mark.parametrize(("args", "password", "message"), [
    (("--role", "superuser"), "a password!\n", "use one of: admin, owner, manager"),
    (("--role", "manager", "--segments", "Manufacturing"), "a password!\n", "--segments is for"),
    (("--role", "admin", "--manager", "张伟"), "a password!\n", "--manager is for"),
    (("--role", "admin"), "short\n", "too short"),
    (("--role", "admin"), "\n", "too short"),
])
def test_bad_accounts_are_refused_with_the_fix(config: Path, args, password, message) -> None:
    done = users(config, "add", "someone", *args, "--password-stdin", password=password)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert stored_hash(config, "someone") is None


def test_no_terminal_and_no_stdin_fails_fast(config: Path) -> None:
    started = time.monotonic()
    done = users(config, "add", "someone", "--role", "admin")
    assert done.returncode == 2 and "--password-stdin" in done.stderr
    assert time.monotonic() - started < 60


def test_a_name_is_taken_once(config: Path) -> None:
    done = users(config, "add", "admin", "--role", "admin", "--password-stdin",
                 password="a password!\n")
    assert done.returncode == 2 and "already exists" in done.stderr


def test_serve_answers_on_the_port(config: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tierwise", "serve", "--config", str(config), "--port", str(port)],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline and health is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health",
                                            timeout=2) as answer:
                    health = json.loads(answer.read())
            except OSError:
                time.sleep(0.3)
        assert health == {"status": "ok", "version": 1}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as page:
            assert 'id="login-form"' in page.read().decode()
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "GET /api/health 200" in output and "role=-" in output

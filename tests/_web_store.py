"""A small B2B store for the web tests: 60 accounts, nine account managers, three segments with
owners, key accounts and warnings, two quarterly runs, one campaign; plus one dashboard user per
kind of scope.

Built through the CLI (ingest, run) from the seeded demo generator; the users are added with the
library (the CLI's password prompt is tested on its own).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from conftest import run_cli

PASSWORD = "correct horse battery"
#: name -> (role, segments, manager): who the tests sign in as.
USERS = {
    "admin": ("admin", (), None),
    "mfg-owner": ("owner", ("Manufacturing",), None),
    "Head of sales": ("owner", (), None),          # owns what the snapshot says it owns
    "sunli": ("manager", (), "孙丽"),
    "wanghy": ("manager", (), "王海燕"),
}
FIRST_RUN, LAST_RUN = dt.date(2026, 6, 30), dt.date(2026, 9, 30)


def build_web_store(directory: Path) -> Path:
    """Generate, ingest and run the demo B2B supplier in ``directory``; returns the config."""
    from tierwise.demo import generate_b2b
    from tierwise.demo.walkthrough import B2B_CONFIG

    generate_b2b(directory, accounts=60, end=LAST_RUN)
    config = directory / "tierwise.toml"
    config.write_text(B2B_CONFIG.format(end=LAST_RUN), encoding="utf-8")
    for args in (("ingest",), ("run", "--as-of", FIRST_RUN.isoformat()),
                 ("run", "--as-of", LAST_RUN.isoformat()),
                 ("campaign", "create", "--name", "win back the tail", "--tier",
                  "ordinary,long_tail", "--exclude-state", "none", "--face-value", "48",
                  "--control-share", "0.2")):
        done = run_cli(*args, "--config", str(config), cwd=directory)
        assert done.code == 0, done.stderr
    add_users(config)
    return config


def add_users(config: Path) -> None:
    from tierwise import load_config
    from tierwise.store import Store
    from tierwise.web.accounts import add_user

    cfg = load_config(config)
    with Store(cfg.store_path) as store:
        for name, (role, segments, manager) in USERS.items():
            add_user(store, name, role, PASSWORD, segments=segments, manager=manager)


_BUILT: dict[str, Path] = {}


def shared_web_store(factory: object) -> Path:
    """The store of this test session, built once (``factory``: pytest's tmp_path_factory).

    Tests that write (campaigns, passwords, runs) work on a :func:`copy_store` of it.
    """
    if "config" not in _BUILT:
        _BUILT["config"] = build_web_store(factory.mktemp("web-store"))  # type: ignore[attr-defined]
    return _BUILT["config"]


def copy_store(config: Path, directory: Path) -> Path:
    """A copy of the store's folder (inputs, config, store) in ``directory``; returns its config."""
    import shutil

    target = directory / "store"
    shutil.copytree(config.parent, target, ignore=shutil.ignore_patterns("*.web-secret"))
    return target / config.name


def client(app: object, name: str | None = None, password: str = PASSWORD) -> object:
    """A test client of ``app``, signed in as ``name`` through the API (None: not signed in)."""
    TestClient = client_class()

    test_client = TestClient(app, raise_server_exceptions=False)  # type: ignore[arg-type]
    if name is not None:
        answer = test_client.post("/api/login", json={"username": name, "password": password})
        assert answer.status_code == 200, answer.text
        test_client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return test_client


def client_class() -> type:
    """Starlette's TestClient, imported without its notice that it prefers httpx2 to httpx."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient
    return TestClient

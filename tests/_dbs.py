"""Test helpers for the real PostgreSQL and MySQL/MariaDB servers (import from any test module).

Servers come from ``TIERWISE_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
and ``TIERWISE_TEST_MYSQL_URL`` (default ``mysql://root@127.0.0.1:3306/test``). When a server or its
driver is missing the test is skipped with the reason, unless ``TIERWISE_REQUIRE_DBS=1``: then it
fails, so CI cannot go green without having run the database tests.

Usage::

    from _dbs import pg_connection, unique_name

    @pytest.mark.postgres
    def test_something(tmp_path):
        conn = pg_connection()          # skips or fails when unreachable
        table = unique_name("orders")
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import unquote, urlsplit

import pytest

PG_URL = os.environ.get("TIERWISE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("TIERWISE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")


def dbs_required() -> bool:
    """True when ``TIERWISE_REQUIRE_DBS=1``: an unreachable server fails instead of skipping."""
    return os.environ.get("TIERWISE_REQUIRE_DBS", "").strip() == "1"


def unavailable(what: str, reason: str):
    """Skip (or, with TIERWISE_REQUIRE_DBS=1, fail) because ``what`` cannot be used."""
    message = f"{what} unavailable: {reason}"
    if dbs_required():
        pytest.fail(message + " (TIERWISE_REQUIRE_DBS=1)", pytrace=False)
    pytest.skip(message)


def unique_name(prefix: str = "tw") -> str:
    """A table name no other test run uses: ``<prefix>_<10 hex digits>``."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def pg_connection(url: str = PG_URL):
    """An autocommit psycopg connection to the test server, or skip/fail."""
    try:
        import psycopg
    except ImportError:
        unavailable("PostgreSQL",
                    "the driver psycopg is not installed (pip install 'tierwise[postgres]')")
    try:
        return psycopg.connect(url, connect_timeout=3, autocommit=True)
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        unavailable("PostgreSQL", f"cannot connect to {url}: {str(exc).strip().splitlines()[0]}")


def mysql_params(url: str = MYSQL_URL) -> dict:
    u = urlsplit(url)
    return {"host": u.hostname or "127.0.0.1", "port": u.port or 3306,
            "user": unquote(u.username) if u.username else "root",
            "password": unquote(u.password) if u.password else "",
            "database": u.path.lstrip("/") or None}


def mysql_connection(url: str = MYSQL_URL):
    """An autocommit pymysql connection to the test server, or skip/fail."""
    try:
        import pymysql
    except ImportError:
        unavailable("MySQL/MariaDB",
                    "the driver pymysql is not installed (pip install 'tierwise[mysql]')")
    try:
        return pymysql.connect(**mysql_params(url), connect_timeout=3, autocommit=True,
                               charset="utf8mb4")
    except Exception as exc:  # noqa: BLE001
        unavailable("MySQL/MariaDB", f"cannot connect to {url}: {exc}")

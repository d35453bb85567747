"""Who may sign in to the web dashboard: user accounts kept in the store (table ``web_users``).

Accounts live in the store, not in the config, so ``tierwise users ...`` (a writer, like any
command) changes them and a running server picks the change up with its next copy of the store.
Passwords are hashed with Argon2id (argon2-cffi's defaults); the clear password is never stored.

A user has a role (:data:`tierwise.config.WEB_ROLES`):

* ``admin`` sees every customer and may create campaigns and download reports;
* ``owner`` sees the customers of the segments they own: the segments listed on the account when
  there are any, otherwise the segments whose ``segment_owner`` in the snapshot is the user's name;
* ``manager`` sees the customers whose ``account_manager`` is the account's manager name (the
  user's name unless ``manager`` says otherwise).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..config import WEB_ROLES
from ..errors import ConfigError, StoreError
from ..store import Store

_HASHER = PasswordHasher()
_MAX_NAME = 64


@cache
def _dummy_hash() -> str:
    """Verified against when the user name is unknown, so a wrong name takes as long as a wrong
    password (no telling which names exist by timing)."""
    return _HASHER.hash("not the password of anyone")


@dataclass(frozen=True)
class User:
    """One account of the web dashboard (the password only as its Argon2 hash)."""

    name: str
    role: str
    password_hash: str
    segments: tuple[str, ...] = ()
    manager: str | None = None
    created_at: dt.datetime | None = None
    password_changed_at: dt.datetime | None = None

    @property
    def manager_name(self) -> str:
        """The ``account_manager`` value a manager's customers carry."""
        return self.manager or self.name

    @property
    def password_tag(self) -> str:
        """A short fingerprint of the password hash: sign-ins made before a password change or
        before the account was re-created carry another tag and stop working."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, without the password hash."""
        return {"name": self.name, "role": self.role, "segments": list(self.segments),
                "manager": self.manager,
                "created_at": _iso(self.created_at),
                "password_changed_at": _iso(self.password_changed_at)}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (salted; a new salt each call)."""
    return _HASHER.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """True when ``password`` is the user's; a missing user costs the same time and is False."""
    try:
        _HASHER.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None


def check_name(name: str) -> str:
    """A user name as stored: non-empty, at most 64 characters, no control characters."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > _MAX_NAME or any(ord(ch) < 32 for ch in cleaned):
        raise ConfigError(f"user name {name!r} is not usable",
                          f"give 1 to {_MAX_NAME} visible characters, e.g. 'zhangwei'")
    return cleaned


def check_password(password: str, min_length: int) -> str:
    if len(password) < min_length:
        raise ConfigError(f"the password is too short ({len(password)} characters)",
                          f"use at least {min_length} characters ([web] min_password_length)")
    return password


def _check_role(role: str, segments: Sequence[str], manager: str | None) -> None:
    if role not in WEB_ROLES:
        raise ConfigError(f"role {role!r} is not a dashboard role",
                          f"use one of: {', '.join(WEB_ROLES)}")
    if segments and role != "owner":
        raise ConfigError(f"--segments is for segment owners, not for role {role!r}",
                          "drop --segments, or use --role owner")
    if manager and role != "manager":
        raise ConfigError(f"--manager is for account managers, not for role {role!r}",
                          "drop --manager, or use --role manager")


def _check_segments(segments: Sequence[str], known: Iterable[str] | None) -> None:
    known_set = set(known or ())
    unknown = [s for s in segments if known_set and s not in known_set]
    if unknown:
        raise ConfigError(f"segment(s) {', '.join(unknown)} are not in the config's scheme",
                          f"valid: {', '.join(sorted(known_set))}")


def add_user(store: Store, name: str, role: str, password: str, *,
             segments: Sequence[str] = (), manager: str | None = None, min_length: int = 8,
             known_segments: Iterable[str] | None = None) -> User:
    """Create an account.

    Parameters
    ----------
    store
        A store opened for writing.
    name, role, password
        ``role`` is one of :data:`tierwise.config.WEB_ROLES`.
    segments
        Owners only: the segments they own (a top-level name or a full path); empty: those whose
        ``segment_owner`` is ``name``.
    manager
        Managers only: the ``account_manager`` value of their customers (default: ``name``).
    min_length
        Shortest password accepted (``[web] min_password_length``).
    known_segments
        The segment names of the config's scheme; when given, ``segments`` must be among them.

    Raises
    ------
    ConfigError
        For an unknown role, an option that does not fit the role, a short password, an unknown
        segment, or a name already taken.
    """
    name = check_name(name)
    segments = [s.strip() for s in segments if s.strip()]
    manager = manager.strip() if manager and manager.strip() else None
    _check_role(role, segments, manager)
    _check_segments(segments, known_segments)
    check_password(password, min_length)
    if get_user(store.con, name) is not None:
        raise ConfigError(f"user {name!r} already exists",
                          "pick another name, or 'tierwise users passwd' to change the password")
    now = _now()
    user = User(name, role, hash_password(password), tuple(segments), manager, now, now)
    store.con.execute("INSERT INTO web_users VALUES (?, ?, ?, ?, ?, ?, ?)",
                      [user.name, user.role, user.password_hash, list(user.segments) or None,
                       user.manager, now, now])
    return user


def set_password(store: Store, name: str, password: str, *, min_length: int = 8) -> User:
    """Replace a user's password; their open sign-ins stop working."""
    user = _require(store.con, name)
    check_password(password, min_length)
    store.con.execute("UPDATE web_users SET password_hash = ?, password_changed_at = ? "
                      "WHERE name = ?", [hash_password(password), _now(), user.name])
    return _require(store.con, name)


def remove_user(store: Store, name: str) -> None:
    """Delete an account; its open sign-ins stop working with the server's next copy."""
    user = _require(store.con, name)
    store.con.execute("DELETE FROM web_users WHERE name = ?", [user.name])


_COLUMNS = "name, role, password_hash, segments, manager, created_at, password_changed_at"


def _user(row: tuple[Any, ...]) -> User:
    name, role, password_hash, segments, manager, created, changed = row
    return User(name, role, password_hash, tuple(segments or ()), manager, created, changed)


def load_users(con: duckdb.DuckDBPyConnection) -> dict[str, User]:
    """Every account by name; empty when the store predates accounts (read-only, not migrated)."""
    try:
        rows = con.execute(f"SELECT {_COLUMNS} FROM web_users ORDER BY name").fetchall()
    except duckdb.CatalogException:
        return {}
    return {row[0]: _user(row) for row in rows}


def get_user(con: duckdb.DuckDBPyConnection, name: str) -> User | None:
    rows = con.execute(f"SELECT {_COLUMNS} FROM web_users WHERE name = ?",
                       [name.strip()]).fetchall()
    return _user(rows[0]) if rows else None


def _require(con: duckdb.DuckDBPyConnection, name: str) -> User:
    user = get_user(con, name)
    if user is None:
        raise StoreError(f"no user {name.strip()!r}", "list them with 'tierwise users list'")
    return user


__all__ = ["User", "add_user", "check_name", "check_password", "get_user", "hash_password",
           "load_users", "remove_user", "set_password", "verify_password"]

"""``tierwise users ...`` and ``tierwise serve``: the web dashboard's accounts and server.

Mounted by ``tierwise.cli`` (``app.add_typer(users_app, name="users")`` and
``app.command("serve")(serve)``). The web stack (FastAPI, uvicorn, argon2: the ``[web]`` extra)
is imported only when a command runs, so ``tierwise --help`` stays quick and works without it;
without it these commands stop with the install hint. Passwords are read from standard input with
``--password-stdin`` (for scripts) or asked for twice, hidden, in a terminal; with neither, the
command stops with a hint rather than wait for input that cannot come.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from .cli_common import (
    DEFAULT_CONFIG,
    ConfigOpt,
    JsonOpt,
    err,
    load,
    out,
    print_json,
    say,
    table,
)
from .errors import ConfigError

users_app = typer.Typer(
    help="Who may sign in to the web dashboard ('tierwise serve') and what each sees: admin "
         "(everything), owner (the customers of their segments), manager (their customers).",
    no_args_is_help=True,
)

StdinOpt = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from the first line of standard input.")]


def _password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or a hidden prompt (asked twice) in a terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ConfigError("no password given and no terminal to ask for one",
                          "pipe it in with --password-stdin, e.g. "
                          "printf '%s\\n' \"$PASSWORD\" | tierwise users add NAME --role admin "
                          "--password-stdin")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _segment_names(cfg: Any) -> list[str]:
    """Top-level names and full paths of the config's segment scheme (empty: no scheme)."""
    names: list[str] = []

    def walk(items: list[Any], prefix: str) -> None:
        for item in items:
            path = f"{prefix}{cfg.segments.separator}{item.name}" if prefix else item.name
            names.append(path)
            walk(item.children, path)

    walk(cfg.segments.segment, "")
    return names


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The user name people sign in with.")],
    role: Annotated[str, typer.Option("--role", help="admin | owner | manager")],
    segments: Annotated[str | None, typer.Option(
        "--segments", help="Owners: the segments they own, comma-separated (default: those "
                           "whose segment_owner is NAME).")] = None,
    manager: Annotated[str | None, typer.Option(
        "--manager", help="Managers: their name in the account_manager column (default: "
                          "NAME).")] = None,
    password_stdin: StdinOpt = False,
    config: ConfigOpt = DEFAULT_CONFIG,
) -> None:
    """Create a dashboard account (the first one should be an admin)."""
    from .store import Store
    from .web.accounts import add_user
    cfg = load(config)
    parts = [s.strip() for s in (segments or "").split(",") if s.strip()]
    password = _password(password_stdin)
    with Store(cfg.store_path) as store:
        user = add_user(store, name, role, password, segments=parts, manager=manager,
                        min_length=cfg.web.min_password_length,
                        known_segments=_segment_names(cfg) or None)
    scope = {"admin": "every customer",
             "owner": f"segments {', '.join(user.segments)}" if user.segments
             else f"the segments whose owner is {user.name}",
             "manager": f"customers whose account manager is {user.manager_name}"}[user.role]
    say(f"added {user.role} {user.name!r}: sees {scope}")


@users_app.command("list")
def list_(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """List the dashboard accounts (never their passwords)."""
    from .store import Store
    from .web.accounts import load_users
    with Store(load(config).store_path, read_only=True) as store:
        users = [u.to_dict() for u in load_users(store.con).values()]
    if as_json:
        print_json(users)
        return
    if not users:
        say("no users yet: 'tierwise users add NAME --role admin' creates the first")
        return
    out.print(table("Dashboard users", ["user", "role", "segments", "manager",
                                                     "created"],
                                 [[u["name"], u["role"], ", ".join(u["segments"]),
                                   u["manager"] or "", (u["created_at"] or "")[:19]]
                                  for u in users]))


@users_app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="The user to remove.")],
           config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Remove an account; its open sign-ins stop working within seconds."""
    from .store import Store
    from .web.accounts import remove_user
    with Store(load(config).store_path) as store:
        remove_user(store, name)
    say(f"removed {name.strip()!r}")


@users_app.command("passwd")
def passwd(name: Annotated[str, typer.Argument(help="The user whose password changes.")],
           password_stdin: StdinOpt = False, config: ConfigOpt = DEFAULT_CONFIG) -> None:
    """Change a password; the user's open sign-ins stop working."""
    from .store import Store
    from .web.accounts import set_password
    cfg = load(config)
    password = _password(password_stdin)
    with Store(cfg.store_path) as store:
        user = set_password(store, name, password, min_length=cfg.web.min_password_length)
    say(f"password of {user.name!r} changed")


def serve(
    config: ConfigOpt = DEFAULT_CONFIG,
    host: Annotated[str | None, typer.Option(
        "--host", help="Address to listen on (default: web.host, 127.0.0.1).",
        show_default=False)] = None,
    port: Annotated[int | None, typer.Option(
        "--port", help="Port (default: web.port, 8000).", min=1, max=65535,
        show_default=False)] = None,
    schedule: Annotated[bool, typer.Option(
        "--schedule", help="Also do the work of 'tierwise watch' in the background: every "
                           "watch.interval_minutes, a pass over the inbox, the due runs and "
                           "the alerts.")] = False,
) -> None:
    """Run the web dashboard and its JSON API over the store (stop with Ctrl-C).

    In a folder without a config, it starts an empty setup: the store is created, and while it
    has no admin a one-time link to create the first admin is printed; that admin uploads the
    exports on the setup page (/setup), which writes the config.
    """
    import secrets

    from .store import Store
    from .web import serve as run_server
    from .web.accounts import load_users
    cfg = _settings(config)
    if not cfg.store_path.exists():
        with Store(cfg.store_path):  # an empty store, so that the server has something to copy
            pass
    with Store(cfg.store_path, read_only=True, lock_timeout=30) as store:
        runs = store.con.execute("SELECT count(*) FROM runs").fetchone()[0]
        users = load_users(store.con)
    shown = host or cfg.web.host
    base = f"http://{shown}:{port or cfg.web.port}"
    code = None
    if not any(u.role == "admin" for u in users.values()):
        code = secrets.token_urlsafe(16)
        say(f"[yellow]no admin yet:[/yellow] open {base}/setup/first-admin?code={code} to "
            "create the first one (or run 'tierwise users add NAME --role admin')")
    if not runs:
        say(f"no run yet: an admin uploads the exports on {base}/setup")
    say(f"serving {cfg.store_path.name} on {base} (Ctrl-C stops)")
    scheduled = None
    if schedule:
        from .watch import Schedule
        scheduled = Schedule(config.resolve(), cfg.watch.interval_minutes * 60,
                             log=lambda line: err.print(escape(line), soft_wrap=True))
        say(f"scheduled: a watch pass over {cfg.resolve(cfg.watch.inbox)} every "
            f"{cfg.watch.interval_minutes:g} min")
        scheduled.start()
    try:
        run_server(cfg, host=host, port=port, config_path=config.resolve(),
                   first_admin_code=code)
    finally:
        if scheduled is not None:
            scheduled.stop()


def _settings(config: Path) -> Any:
    """The config, or the defaults when the file does not exist yet (an empty setup: the setup
    page writes the file there)."""
    from .config import parse_config
    if config.is_file() or not config.resolve().parent.is_dir():
        return load(config)
    say(f"[yellow]no config at {config}:[/yellow] starting an empty setup in "
        f"{config.resolve().parent} (the setup page writes {config.name})")
    return parse_config({}, source=str(config), base_dir=config.resolve().parent)


__all__ = ["serve", "users_app"]

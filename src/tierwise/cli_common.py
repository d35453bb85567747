"""What every ``tierwise`` command shares: the consoles, the common options, the store opener,
printing, date parsing and the one error handler.

The front door (:mod:`tierwise.cli`) and its sub-apps (:mod:`tierwise.cli_campaigns`,
:mod:`tierwise.cli_web`) import from here, so no sub-app reaches into the front door.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import ConfigError, TierwiseError, disk_full

out = Console(soft_wrap=True)
err = Console(stderr=True)
#: Set by the front door's ``--quiet`` and ``--debug``.
state: dict[str, bool] = {"quiet": False, "debug": False}

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="The config file.",
                                         envvar="TIERWISE_CONFIG")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
RunOpt = Annotated[str, typer.Option("--run", help="Run id, or 'latest'.")]
DEFAULT_CONFIG = Path("tierwise.toml")


@contextmanager
def progress(title: str) -> Iterator[Any]:
    """A spinner on stderr whose text follows the library's progress messages."""
    if state["quiet"] or not err.is_terminal:
        def log(message: str) -> None:
            if not state["quiet"]:
                err.print(f"[dim]{title}: {message}[/dim]")
        yield log
        return
    with err.status(title) as status:
        yield lambda message: status.update(f"{title}: {message}")


def say(message: str) -> None:
    if not state["quiet"]:
        err.print(message)


def load(config: Path):  # noqa: ANN202 - returns tierwise.config.Config
    from .config import load_config
    return load_config(config)


def reader(config: Path):  # noqa: ANN202 - returns tierwise.store.Store
    """The configured store, opened read-only (for commands that only look)."""
    from .store import Store
    return Store(load(config).store_path, read_only=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(col, justify="right" if col[:1].isdigit() or col in
                         ("rows in", "accepted", "rejected", "inserted", "replaced", "customers",
                          "run") else "left")
    for row in rows:
        table.add_row(*[("" if v is None else f"{v:,}" if isinstance(v, int)
                         else fmt(v) if isinstance(v, float) else str(v)) for v in row])
    return table


def fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option} {value!r} is not a date", "write it as YYYY-MM-DD") from None


def run_app(app: typer.Typer, args: list[str]) -> int:
    """Run a command line: library errors become one clear line and an exit code (``--debug``:
    the traceback). The one error handler of every ``tierwise`` command."""
    try:
        app(args=args, prog_name="tierwise")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except Exception as exc:  # a library error, or a full disk under any library
        known = disk_full(exc) or (exc if isinstance(exc, TierwiseError) else None)
        if known is None or "--debug" in args:
            raise
        err.print(f"[red]error:[/red] {escape(str(known))}", highlight=False)
        if known is not exc:
            release(exc)
        return known.exit_code
    return 0


def release(exc: BaseException) -> None:
    """Close what a failed write left open (a zip writer of a half-written xlsx) now, quietly:
    collected later, it would print a second traceback for the same full disk."""
    import gc
    import traceback

    hook = sys.unraisablehook
    sys.unraisablehook = lambda u: None if disk_full(u.exc_value) else hook(u)
    try:
        seen: set[int] = set()
        stack: list[BaseException | None] = [exc]
        while stack:
            current = stack.pop()
            if current is None or id(current) in seen:
                continue
            seen.add(id(current))
            traceback.clear_frames(current.__traceback__)
            stack += [current.__cause__, current.__context__,
                      *(a for a in current.args if isinstance(a, BaseException))]
        gc.collect()
    finally:
        sys.unraisablehook = hook

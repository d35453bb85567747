"""Generates docs/configuration.md and docs/cli.md from the code, so they cannot drift.

Run ``python -m tierwise._docs`` to rewrite both; ``tests/test_docs.py`` fails when they are stale.
"""

from __future__ import annotations

import sys
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

CONFIG_HEADER = """# Configuration reference

Generated from the code by `python -m tierwise._docs`; do not edit by hand.

`tierwise.toml` is TOML. Top-level keys come first; each `[section]` follows. Paths are relative to
the config file. `tierwise init` writes a commented example; `tierwise validate` checks a file and
lists every problem at once.
"""

CLI_HEADER = """# Command reference

Generated from `tierwise --help` by `python -m tierwise._docs`; do not edit by hand.

Every command accepts `--help`. Global options go before the command: `tierwise --quiet run`.
Exit codes: 0 success, 1 unexpected library error, 2 invalid config or usage (and validation
problems), 3 a data contract broken, 4 a missing optional extra, 5 a store problem, 6 a model fit
problem.
"""


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _type_name(annotation: Any) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in typing.get_args(annotation))
    text = getattr(annotation, "__name__", None) if not typing.get_args(annotation) else None
    text = text or str(annotation).replace("typing.", "")
    text = text.replace("pathlib.", "").replace("datetime.", "").replace("NoneType", "None")
    return text.replace(" | None", " (optional)").replace(" | ", " or ")


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        return "" if isinstance(value, BaseModel) else f"`{value!r}`"
    return f"`{field.default!r}`" if field.default is not None else "not set"


def _sections() -> dict[type[BaseModel], list[str]]:
    """Every config model, in document order, with the key paths it appears under."""
    from .config import Config

    found: dict[type[BaseModel], list[str]] = {}
    queue: list[tuple[str, type[BaseModel]]] = [("", Config)]
    while queue:
        prefix, model = queue.pop(0)
        known = found.setdefault(model, [])
        if any(prefix.startswith(p) for p in known if p):  # recursion (nested schemes)
            continue
        known.append(prefix)
        nested = [(f"{prefix}{name}.", sub) for name, field in model.model_fields.items()
                  if not field.exclude and (sub := _model_of(field.annotation)) is not None]
        queue = nested + queue
    return found


def config_reference() -> str:
    lines = [CONFIG_HEADER]
    for model, prefixes in _sections().items():
        rows = [f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | "
                f"{(field.description or '').replace('|', '/')} |"
                for name, field in model.model_fields.items()
                if not field.exclude and _model_of(field.annotation) is None]
        if not rows:
            continue
        names = [f"`[{p.rstrip('.')}]`" for p in prefixes if p]
        title = "## " + " and ".join(names) if names else "## Top level"
        doc = (model.__doc__ or "").strip().splitlines()
        lines += [title, "", doc[0] if doc else "", "", "| key | type | default | meaning |",
                  "|---|---|---|---|", *rows, ""]
    return "\n".join(lines).rstrip() + "\n"


def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    found = [(path, command)]
    if hasattr(command, "commands"):
        for name in sorted(command.commands):
            found += _walk(command.commands[name], [*path, name])
    return found


def cli_reference() -> str:
    import typer
    from typer.testing import CliRunner

    from .cli import app

    runner = CliRunner()
    lines = [CLI_HEADER]
    for path, _ in _walk(typer.main.get_command(app), ["tierwise"]):
        result = runner.invoke(app, [*path[1:], "--help"], prog_name="tierwise",
                               env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"})
        text = "\n".join(line.rstrip() for line in result.output.strip("\n").splitlines())
        lines += [f"## `{' '.join(path)}`", "", "```text", text, "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_all(docs_dir: Path) -> None:
    (docs_dir / "configuration.md").write_text(config_reference(), encoding="utf-8")
    (docs_dir / "cli.md").write_text(cli_reference(), encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs"))

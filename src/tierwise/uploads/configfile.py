"""The confirmed upload written into the config: ``[sources.<kind>]`` and its column mapping.

Without a config file, :func:`write_source` creates one (the way ``tierwise init --from`` writes
it: only what differs from the defaults). With one, only the ``[sources.<kind>]`` table (and its
``[sources.<kind>.columns]``) is replaced, in place, and ``date_format`` is set under
``[intake]``; every other line, comments included, stays as it was. The new text is checked by
loading it before it replaces the file (atomically, the old one kept as ``tierwise.toml.bak``):
a config the change would break is left alone, with a message saying what to edit by hand.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import tomllib
from pathlib import Path

from ..config import parse_config
from ..errors import ConfigError

_TABLE = re.compile(r"^\s*\[\[?\s*([^\]\s]+)\s*\]\]?\s*(?:#.*)?$")


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def source_block(kind: str, path: str, columns: dict[str, str]) -> list[str]:
    """The lines of ``[sources.<kind>]``: the file and every mapped column, explicitly."""
    lines = [f"[sources.{kind}]", "# uploaded in the browser (/setup) / 在浏览器中上传",
             f"path = {_toml(path)}"]
    if columns:
        lines += ["", f"[sources.{kind}.columns]"]
        lines += [f"{name} = {_toml(header)}" for name, header in columns.items()]
    return lines


def replace_table(text: str, name: str, block: list[str]) -> str:
    """``text`` with table ``name`` and its sub-tables replaced by ``block`` (appended when
    absent)."""
    lines = text.splitlines()
    out: list[str] = []
    placed = skipping = False
    for line in lines:
        match = _TABLE.match(line)
        if match:
            table = match.group(1)
            skipping = table == name or table.startswith(name + ".")
            if skipping and not placed:
                out += [*block, ""]
                placed = True
        if not skipping:
            out.append(line)
    if not placed:
        while out and not out[-1].strip():
            out.pop()
        out += ["", *block]
    return "\n".join(out).rstrip("\n") + "\n"


def set_key(text: str, table: str, key: str, value: str) -> str:
    """``key = value`` in ``[table]``: the existing line replaced, else added (with the table)."""
    lines = text.splitlines()
    current: str | None = None
    start: int | None = None
    key_line = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i, line in enumerate(lines):
        match = _TABLE.match(line)
        if match:
            current = match.group(1)
            if current == table:
                start = i
            continue
        if current == table and key_line.match(line):
            lines[i] = f"{key} = {value}"
            return "\n".join(lines) + "\n"
    if start is None:
        while lines and not lines[-1].strip():
            lines.pop()
        lines += ["", f"[{table}]", f"{key} = {value}"]
    else:
        lines.insert(start + 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"


def _header(language: str | None) -> list[str]:
    lines = ["# Written by the dashboard's setup page (/setup) from the uploaded files; every",
             "# other setting has its default (docs/configuration.md).",
             "# 由看板的“数据设置”页面根据上传的文件生成；其余设置均为默认值。", ""]
    if language in ("zh", "en"):
        lines += [f"language = {_toml(language)}", ""]
    return lines


def write_source(config_path: Path, kind: str, file_path: Path, columns: dict[str, str], *,
                 date_format: str | None = None, language: str | None = None) -> Path:
    """Point ``[sources.<kind>]`` of ``config_path`` at ``file_path`` with ``columns``.

    Parameters
    ----------
    config_path
        The config file (created when it does not exist).
    kind
        One of :data:`tierwise.uploads.preview.KINDS` (orders, customers, survey, feedback,
        leads, contracts, costs).
    file_path
        The confirmed file; written relative to the config's folder when inside it.
    columns
        Canonical name -> header, written explicitly under ``[sources.<kind>.columns]``.
    date_format
        Written as ``[intake] date_format`` when given (it settles day/month order).
    language
        The report language of a new config (``zh`` / ``en``); an existing config keeps its own.

    Raises
    ------
    ConfigError
        When the config cannot be read, or would not load after the change.
    """
    config_path = Path(config_path)
    folder = config_path.resolve().parent
    try:
        shown = Path(file_path).resolve().relative_to(folder).as_posix()
    except ValueError:
        shown = Path(file_path).resolve().as_posix()
    block = source_block(kind, shown, columns)
    exists = config_path.is_file()
    if exists:
        try:
            old = config_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {config_path.name} ({exc})",
                              "save the config file as UTF-8 text") from None
        text = replace_table(old, f"sources.{kind}", block)
    else:
        text = "\n".join([*_header(language), *block]) + "\n"
    if date_format:
        text = set_key(text, "intake", "date_format", _toml(date_format))
    _check(text, config_path, kind, Path(file_path).resolve())
    if exists:
        shutil.copy2(config_path, config_path.with_name(config_path.name + ".bak"))
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=config_path.name, suffix=".tmp", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, config_path)
    return config_path


def _check(text: str, config_path: Path, kind: str, file_path: Path) -> None:
    """The new text loads, and its source points at the file: else nothing is written."""
    hint = (f"edit [sources.{kind}] in {config_path.name} by hand (path = the uploaded file), "
            "or fix the problem named here first")
    try:
        cfg = parse_config(tomllib.loads(text), source=config_path.name,
                           base_dir=config_path.resolve().parent)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path.name}: the setup page could not update it ({exc})",
                          hint) from None
    except ConfigError as exc:
        raise ConfigError(f"{config_path.name}: after the update it would not load: "
                          f"{exc.args[0] if exc.args else exc}", hint) from None
    source = getattr(cfg.sources, kind)
    if source is None or source.path is None or cfg.resolve(source.path).resolve() != file_path:
        raise ConfigError(f"{config_path.name}: [sources.{kind}] is written in a form the setup "
                          "page cannot change", hint)


__all__ = ["replace_table", "set_key", "source_block", "write_source"]

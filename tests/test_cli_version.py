"""``tierwise --version``, and hints that work without an activated virtual environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from conftest import run_cli


def test_version(tmp_path: Path) -> None:
    import tierwise

    done = run_cli("--version", cwd=tmp_path)
    assert done.code == 0 and done.stdout == f"tierwise {tierwise.__version__}\n"


def test_command_name_when_tierwise_is_not_on_path(tmp_path: Path, monkeypatch) -> None:
    from tierwise.cli import command_name

    script = tmp_path / "venv" / "bin" / "tierwise"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(sys, "argv", [str(script), "demo"])
    assert command_name() == os.path.join("venv", "bin", "tierwise")
    monkeypatch.setenv("PATH", str(script.parent))
    script.chmod(0o755)
    assert command_name() == "tierwise"
    monkeypatch.setattr(sys, "argv", ["/x/tierwise/__main__.py", "demo"])
    assert command_name().endswith(" -m tierwise")


def test_the_demos_closing_hint_runs_as_printed(tmp_path: Path) -> None:
    """``python -m tierwise demo`` run with no tierwise on PATH: its hint is a command that works."""
    import shlex
    import subprocess

    done = run_cli("demo", "--dir", str(tmp_path / "demo"), "--members", "50", "--accounts", "20",
                   cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert done.code == 0, done.stderr
    hint = " ".join(done.stderr.split()).split("try: ", 1)[1]
    assert not hint.startswith("tierwise ")
    again = subprocess.run(shlex.split(hint) + ["--json"], cwd=tmp_path, capture_output=True,
                           text=True, env={**os.environ, "PATH": "/usr/bin:/bin",
                                           "PYTHONPATH": str(Path(__file__).parents[1] / "src")})
    assert again.returncode == 0, again.stderr

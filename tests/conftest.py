"""Shared fixtures: a way to run the real CLI in a subprocess, on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Completed:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 300) -> Completed:
    """Run ``python -m tierwise ARGS`` as a user would, with no terminal and no stdin."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1",
                "COLUMNS": "200", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "tierwise", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    return Completed(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    return run_cli

"""A small restaurant store (two monthly runs) built through the CLI, shared by the report tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ROOT, run_cli

TOML = """
name = "Example restaurant"
as_of = "2026-10-31"
language = "zh"
[sources.orders]
path = "visits.csv"
[sources.customers]
path = "members.csv"
[value]
min_repeat_buyers = 20
"""


def build_store(directory: Path) -> Path:
    """Ingest the committed example files and run 2026-09-30 (run 1) and 2026-10-31 (run 2)."""
    for name in ("members.csv", "visits.csv"):
        shutil.copy(ROOT / "examples" / "restaurant" / name, directory / name)
    (directory / "tierwise.toml").write_text(TOML, encoding="utf-8")
    for args in (("ingest",), ("run", "--as-of", "2026-09-30"), ("run", "--as-of", "2026-10-31")):
        result = run_cli(*args, cwd=directory)
        assert result.code == 0, result.stderr
    return directory

"""Docs cannot drift from the code: references are generated and compared here."""

from __future__ import annotations

import re
from pathlib import Path

from tierwise import _docs

ROOT = Path(__file__).resolve().parents[1]


def test_configuration_reference_is_current() -> None:
    current = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert current == _docs.config_reference(), "run: python -m tierwise._docs"


def test_cli_reference_is_current() -> None:
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == _docs.cli_reference(), "run: python -m tierwise._docs"


def test_every_config_key_has_a_description() -> None:
    undocumented = re.findall(r"^\| `(\w+)` \|[^\n]*\|  \|$", _docs.config_reference(), re.M)
    assert undocumented == []


def quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^## Quick start\n.*?```bash\n(.*?)```", text, re.S | re.M)
    assert block, "README needs a '## Quick start' section with one bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_is_two_commands_and_ci_runs_the_second() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    assert "tierwise demo" in commands[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    ci_commands = [line for line in ci.splitlines()
                   if line.strip() and not line.startswith(("#", "set ", "cd ", "export "))]
    assert ci_commands == [commands[1]]


def test_every_export_column_is_explained(tmp_path: Path) -> None:
    from tierwise.store import Store

    text = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-zA-Z_0-9<>]+)`", text))
    with Store(tmp_path / "t.duckdb") as store:
        columns = [c for c in store.snapshot_columns() if c != "run_id"]
    renamed = {"expected_purchases": "expected_purchases_<N>d",
               "purchase_likelihood": "purchase_likelihood_<N>d"}
    missing = [c for c in columns if renamed.get(c, c) not in documented]
    assert missing == []

"""The config schema: defaults, every problem reported at once, clear messages."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from tierwise.config import Config, load_config, parse_config
from tierwise.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tierwise.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_usable() -> None:
    cfg = parse_config({})
    assert cfg.timezone == "Asia/Shanghai"
    assert cfg.engine.backend == "duckdb"
    assert cfg.intake.on_missing_customer == "create"
    assert cfg.store.path == Path("tierwise.duckdb")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, """
timezone = "Mars/Olympus"
bogus = 1
[sources.orders]
path = "a.csv"
url = "postgresql://x/y"
[intake]
decimal = ";"
""")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problems = info.value.problems
    assert len(problems) == 4
    text = "\n".join(problems)
    assert str(path) in problems[0]
    assert "'timezone'" in text and "Mars/Olympus" in text and "IANA" in text
    assert "'bogus' is not a tierwise setting" in text
    assert "exactly one of 'path'" in text
    assert "'intake.decimal'" in text and "';'" in text


def test_missing_and_broken_files_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tierwise init"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "name = 'unterminated"))
    (tmp_path / "gbk.toml").write_bytes("name = '餐厅'".encode("gbk"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(tmp_path / "gbk.toml")


def test_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "[store]\npath = 'data/t.duckdb'\n"))
    assert cfg.store_path == tmp_path / "data" / "t.duckdb"
    assert cfg.rejects_dir == tmp_path / "rejects"


def test_config_hash_ignores_paths_but_not_settings(tmp_path: Path) -> None:
    a = parse_config({"store": {"path": "a.duckdb"}})
    b = parse_config({"store": {"path": "b.duckdb"}})
    c = parse_config({"period": "quarter"})
    assert a.config_hash() == b.config_hash() != c.config_hash()


def test_database_source_needs_table_or_query() -> None:
    with pytest.raises(ConfigError, match="exactly one of 'table' or 'query'"):
        parse_config({"sources": {"orders": {"url": "postgresql://h/db"}}})


def test_the_init_template_is_a_valid_config(tmp_path: Path) -> None:
    text = resources.files("tierwise").joinpath("templates/tierwise.toml").read_text("utf-8")
    cfg = load_config(write(tmp_path, text))
    assert isinstance(cfg, Config)
    assert cfg.sources.orders is not None and cfg.sources.orders.path == Path("visits.csv")
    # both languages are in the comments
    assert "时区" in text and "time zone" in text


def test_campaign_exclusions_name_the_valid_codes() -> None:
    from pydantic import ValidationError

    from tierwise.config.campaigns import CampaignDefaultsConfig

    with pytest.raises(ValidationError, match="valid: maintain, wake_up, call"):
        CampaignDefaultsConfig(exclude_policies=["nope"])
    with pytest.raises(ValidationError, match="valid: normal, resting"):
        CampaignDefaultsConfig(exclude_states=["asleep"])

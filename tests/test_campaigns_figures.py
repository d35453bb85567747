"""The seeds' worked example, the intervals against outside references, and the calculator."""

from __future__ import annotations

import doctest
import importlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from test_campaigns_flow import campaign_cli
from tierwise.campaigns import (
    RegularGroup,
    campaign_figures,
    newcombe_difference,
    parse_regulars,
    project_yearly_revenue,
    welch_difference,
    wilson_interval,
)
from tierwise.errors import ConfigError

EXAMPLE = {"issued": 3260, "used": 752, "face_value": 48, "message_unit_cost": 0.1,
           "revenue": 193642, "gross_margin": 0.6}


def test_worked_example_reproduces_exactly() -> None:
    f = campaign_figures(**EXAMPLE)
    d = f.to_dict()
    assert d["redemption_rate_pct"] == 23.1
    assert d["coupon_cost"] == 36096
    assert d["message_cost"] == 326
    assert d["gross_profit"] == 79763.2  # the article prints 79,793: a slip
    assert round(f.gross_profit, 6) == 79763.2
    assert d["return_on_cost"] == round(79763.2 / (36096 + 326), 2) == 2.19
    assert d["cost_basis"] == "coupon cost + message cost"
    assert round(d["return_on_message_cost"]) == 245  # the article's "1:245", named as such
    assert "message cost only" in d["message_cost_basis"]


def test_projection_reproduces_the_article() -> None:
    groups = [parse_regulars("350:210:1"), parse_regulars("243:210:2")]
    assert project_yearly_revenue(groups) == 2_106_720
    assert project_yearly_revenue([RegularGroup(350, 210, 1)]) == 350 * 210 * 12
    with pytest.raises(ConfigError, match="CUSTOMERS:MEAN_SPEND:MONTHLY_VISITS"):
        parse_regulars("350:210")


def test_impossible_figures_are_refused() -> None:
    with pytest.raises(ConfigError, match="cannot exceed issued"):
        campaign_figures(**{**EXAMPLE, "used": 4000})
    with pytest.raises(ConfigError, match="60 % is 0.6"):
        campaign_figures(**{**EXAMPLE, "gross_margin": 60})


def test_newcombe_matches_the_published_examples() -> None:
    # Newcombe (1998), Statistics in Medicine 17, table II, method 10 (the same two examples
    # are the reference values of the R package propint's tests).
    for (x1, n1, x2, n2), (low, high) in {(56, 70, 48, 80): (0.0524, 0.3339),
                                          (9, 10, 3, 10): (0.1705, 0.8090)}.items():
        iv = newcombe_difference(x1, n1, x2, n2)
        assert (round(iv.low, 4), round(iv.high, 4)) == (low, high)


def test_wilson_matches_the_published_example() -> None:
    # Newcombe (1998), companion paper on single proportions: 81/263 -> 0.2553 to 0.3662.
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1000), min_size=2, max_size=30),
       st.lists(st.floats(0, 1000), min_size=2, max_size=30))
def test_welch_matches_scipy(a: list[float], b: list[float]) -> None:
    if np.var(a) + np.var(b) < 1e-6:
        return
    iv = welch_difference(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert iv.low == pytest.approx(ref.low, rel=1e-9, abs=1e-9)
    assert iv.high == pytest.approx(ref.high, rel=1e-9, abs=1e-9)


def test_cli_calculator_reproduces_the_worked_example(tmp_path: Path) -> None:
    figures = ["--issued", "3260", "--used", "752", "--face-value", "48", "--message-cost", "0.1",
               "--revenue", "193642", "--margin", "0.6"]
    done = campaign_cli("campaign", "evaluate", *figures, "--regulars", "350:210:1",
                        "--regulars", "243:210:2", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    f = data["figures"]
    assert (f["redemption_rate_pct"], f["coupon_cost"], f["message_cost"], f["gross_profit"]) \
        == (23.1, 36096, 326, 79763.2)
    assert data["follow_up"]["projected_yearly_revenue"] == 2_106_720

    text = campaign_cli("campaign", "evaluate", *figures, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "79,763.20" in text.stdout and "coupon cost + message cost" in text.stdout

    partial = campaign_cli("campaign", "evaluate", "--issued", "3260", cwd=tmp_path)
    assert partial.returncode == 2 and "--used" in partial.stderr


@pytest.mark.parametrize("module", ["audience", "evaluation", "results", "repository"])
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"tierwise.campaigns.{module}"))
    assert result.failed == 0


def test_the_campaigns_guide_matches_the_commands_and_settings() -> None:
    from typer.main import get_command

    from tierwise.cli_campaigns import campaign_app
    from tierwise.config import CampaignDefaultsConfig

    text = (Path(__file__).resolve().parents[1] / "docs" / "campaigns.md").read_text("utf-8")
    commands = get_command(campaign_app).commands
    flags = {o for c in commands.values() for p in c.params for o in getattr(p, "opts", [])}
    assert set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", text)) - flags == set()
    for name in commands:
        assert f"tierwise campaign {name}" in text
    keys = set(CampaignDefaultsConfig.model_fields)
    english, chinese = text.split("## 中文")
    for part in (english, chinese):
        assert {k for k in keys if f"`{k}`" not in part} == set()
    for number in ("23.1", "36,096", "326", "79,763.2", "2,106,720"):
        assert number in english and number in chinese

"""The selection matrix that learns from the best: growth over snapshots, evidence, proposed
weights, the planted B2B pattern found, proposals kept and decided (CLI, report, web)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import run_cli
from tierwise.config import KeyAccountsConfig
from tierwise.errors import ConfigError, DataContractError, StoreError
from tierwise.tiering.selection_learning import account_growth, learn_selection
from tierwise.tiering.selection_proposals import final_weights

QUARTER_ENDS = [dt.date(2025, 12, 31), dt.date(2026, 3, 31), dt.date(2026, 6, 30),
                dt.date(2026, 9, 30)]


# -- the library on frames ------------------------------------------------------------------------
def _frames(n: int = 400, seed: int = 3) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """Two snapshots of ``n`` accounts whose growth follows ``partnership`` (1-5) alone."""
    rng = np.random.default_rng(seed)
    partnership = rng.integers(1, 6, n)
    noise = rng.integers(1, 6, n)
    growth = 0.15 * (partnership - 3) + rng.normal(0, 0.2, n)
    ly = rng.lognormal(10, 1, n)
    snaps = []
    for k in range(2):
        snaps.append(pd.DataFrame({
            "customer_id": [f"A{i:04d}" for i in range(n)],
            "value_same_period_ly": ly / 2, "value_period": ly / 2 * (1 + growth),
            "total_amount": ly * (2 + k), "margin_total": ly * 0.3,
            "frequency": 5.0, "tier": "ordinary",
            "attributes": [json.dumps({"partnership": int(p), "coin_flip": int(c),
                                       "growth_potential": 3, "strategic_fit": 3,
                                       "market_position": 3, "mutual_trust": 3})
                           for p, c in zip(partnership, noise, strict=True)]}))
    return snaps, snaps[-1]


def test_account_growth_compares_the_periods_with_a_year_earlier():
    a = pd.DataFrame({"customer_id": ["x", "y", "z"], "value_period": [30.0, 5.0, 8.0],
                      "value_same_period_ly": [10.0, 10.0, 0.0]})
    b = a.assign(value_period=[10.0, 5.0, 2.0], value_same_period_ly=[10.0, 10.0, 0.0])
    growth = account_growth([a, b]).set_index("customer_id")["growth"]
    assert growth["x"] == pytest.approx(40 / 20 - 1)
    assert growth["y"] == pytest.approx(-0.5)
    assert np.isnan(growth["z"])  # no revenue a year earlier: nothing to learn from
    with pytest.raises(DataContractError, match="at least one snapshot"):
        account_growth([])


def test_learning_finds_the_criterion_growth_follows_and_not_the_noise():
    snaps, current = _frames()
    proposal = learn_selection(snaps, current, KeyAccountsConfig(), lookalikes=5)
    by_name = {c.name: c for c in proposal.criteria}
    assert by_name["partnership"].candidate
    assert by_name["partnership"].rho > 0.5 and by_name["partnership"].p_value < 1e-6
    assert by_name["partnership"].mean_growers > by_name["partnership"].mean_rest + 20
    weights = proposal.weights()
    assert max(weights, key=weights.get) == "partnership"
    assert weights["partnership"] > 0.8
    assert "coin_flip" not in weights
    assert sum(weights.values()) == pytest.approx(1.0)
    cmp = proposal.comparison
    assert cmp["proposed_rho_out_of_sample"] > cmp["configured_rho"] + 0.3
    assert cmp["proposed_growers_in_top"] > cmp["configured_growers_in_top"]
    assert proposal.growers == pytest.approx(0.2 * 400, abs=2)
    assert len(proposal.lookalikes) == 5
    assert all(r["proposed_score"] >= proposal.lookalikes[-1]["proposed_score"]
               for r in proposal.lookalikes)


def test_no_signal_keeps_no_weight_and_says_so():
    snaps, current = _frames()
    rng = np.random.default_rng(11)
    flat = [s.assign(value_period=s["value_same_period_ly"] * rng.lognormal(0, 0.3, len(s)))
            for s in snaps]
    proposal = learn_selection(flat, current, KeyAccountsConfig(), candidates=["coin_flip"],
                               alpha=0.001)
    assert proposal.weights() == {} and proposal.notes == ["no_signal"]
    assert proposal.lookalikes == []


def test_edited_weights_keep_what_people_typed_and_share_the_rest():
    proposal = {"proposal_id": 1, "proposed": {"a": 0.6, "b": 0.4},
                "body": {"criteria": [
                    {"name": n, "source": n, "normalise": "minmax", "bounds": [1, 5]}
                    for n in ("a", "b", "c")]}}
    weights, criteria = final_weights(proposal, {"c": 0.2})
    assert weights == {"a": 0.48, "b": 0.32, "c": 0.2}
    assert [c.name for c in criteria] == ["a", "b", "c"]
    assert final_weights(proposal, {"a": 0})[0] == {"b": 1.0}
    with pytest.raises(ConfigError, match="'zz' is not in proposal 1"):
        final_weights(proposal, {"zz": 0.1})
    with pytest.raises(ConfigError, match="0 or more"):
        final_weights(proposal, {"a": -0.1})


# -- the B2B demo: a planted pattern, found ---------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo B2B supplier (300 accounts) with its four quarter-end snapshots."""
    from tierwise.config import load_config
    from tierwise.demo import generate_b2b
    from tierwise.demo.walkthrough import B2B_CONFIG
    from tierwise.pipeline import ingest, run

    folder = tmp_path_factory.mktemp("selection-demo")
    generate_b2b(folder, accounts=300, end=QUARTER_ENDS[-1])
    config = folder / "tierwise.toml"
    config.write_text(B2B_CONFIG.format(end=QUARTER_ENDS[-1]), encoding="utf-8")
    cfg = load_config(config)
    ingest(cfg)
    for as_of in QUARTER_ENDS:
        run(cfg, as_of=as_of)
    return config


@pytest.fixture
def store_copy(demo, tmp_path) -> Path:
    target = tmp_path / "b2b"
    shutil.copytree(demo.parent, target)
    return target / demo.name


def _cli(config: Path, *args: str):
    return run_cli("key-accounts", *args, "--config", str(config), cwd=config.parent)


def test_the_demo_planted_pattern_is_found_and_ranks_the_growers_better(store_copy):
    learned = _cli(store_copy, "learn", "--by", "analyst", "--json")
    assert learned.code == 0, learned.stderr
    proposal = json.loads(learned.stdout)
    body = proposal["body"]
    assert body["periods"] == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    weights = proposal["proposed"]
    assert max(weights, key=weights.get) == "willingness_to_partner"
    wtp = next(c for c in body["criteria"] if c["name"] == "willingness_to_partner")
    assert wtp["candidate"] and wtp["configured_weight"] == 0
    assert wtp["rho"] > 0.15 and wtp["p_value"] < 0.001 and wtp["n"] == body["accounts"]
    assert wtp["mean_growers"] > wtp["mean_rest"]
    mutual = next(c for c in body["criteria"] if c["name"] == "mutual_trust")
    assert mutual["proposed_weight"] == 0  # drawn without regard to growth in the demo
    cmp = body["comparison"]
    assert cmp["proposed_rho_out_of_sample"] > cmp["configured_rho"] + 0.1
    assert proposal["status"] == "proposed" and proposal["created_by"] == "analyst"
    from tierwise.config import load_config
    assert proposal["config_hash"] == load_config(store_copy).config_hash()
    assert len(body["lookalikes"]) == 10


def test_accept_with_an_edit_prints_toml_that_is_a_valid_selection_matrix(store_copy, tmp_path):
    assert _cli(store_copy, "learn").code == 0
    toml_file = tmp_path / "criteria.toml"
    done = _cli(store_copy, "accept", "1", "--weight", "growth_potential=0.2", "--by", "wang",
                "--note", "keep the potential in", "--toml", str(toml_file))
    assert done.code == 0, done.stderr
    assert "[[key_accounts.criteria]]" in done.stdout
    pasted = tomllib.loads(toml_file.read_text(encoding="utf-8"))
    cfg = KeyAccountsConfig(criteria=pasted["key_accounts"]["criteria"])
    weights = {c.name: c.weight for c in cfg.criteria}
    assert weights["growth_potential"] == pytest.approx(0.2)
    assert sum(weights.values()) == pytest.approx(1.0)
    assert max(weights, key=weights.get) == "willingness_to_partner"
    shown = _cli(store_copy, "proposal", "1", "--json")
    stored = json.loads(shown.stdout)
    assert stored["status"] == "accepted" and stored["decided_by"] == "wang"
    assert stored["accepted"] == weights and stored["note"] == "keep the potential in"
    again = _cli(store_copy, "reject", "1")
    assert again.code != 0 and "already accepted by wang" in again.stderr
    assert "Traceback" not in again.stderr
    bad = _cli(store_copy, "accept", "1", "--weight", "nonsense")
    assert bad.code != 0 and "is not name=value" in bad.stderr
    # pasted into the config, the next run selects with it, and the proposal says the config
    # is no longer the one it was learned under
    with store_copy.open("a", encoding="utf-8") as f:
        f.write("\n" + toml_file.read_text(encoding="utf-8"))
    ran = run_cli("run", "--config", str(store_copy), cwd=store_copy.parent)
    assert ran.code == 0, ran.stderr
    from tierwise.config import load_config
    from tierwise.store import Store
    with Store(load_config(store_copy).store_path, read_only=True) as store:
        snap = store.snapshot()
    used = {k for v in snap["key_account_contributions"].dropna() for k in json.loads(v)}
    assert used == set(weights)
    shown = _cli(store_copy, "proposal", "1")
    assert "the config changed since the proposal was learned" in shown.stderr


def test_reject_and_the_list_in_chinese(store_copy):
    assert _cli(store_copy, "learn").code == 0
    assert _cli(store_copy, "learn").code == 0
    done = _cli(store_copy, "reject", "2", "--by", "li", "--note", "too few periods")
    assert done.code == 0, done.stderr
    listed = _cli(store_copy, "proposals", "--lang", "zh")
    assert "已否决" in listed.stdout and "待确认" in listed.stdout
    records = json.loads(_cli(store_copy, "proposals", "--json").stdout)
    assert [(r["proposal_id"], r["status"]) for r in records] == [(2, "rejected"),
                                                                 (1, "proposed")]
    shown = _cli(store_copy, "proposal", "--lang", "zh")
    assert "选择指标及其证据" in shown.stdout and "willingness_to_partner" in shown.stdout
    missing = _cli(store_copy, "proposal", "9")
    assert missing.code != 0 and "no selection proposal 9" in missing.stderr


def test_the_report_has_the_section_in_both_languages(store_copy):
    from tierwise.config import load_config
    from tierwise.reports import build_report, render_html
    from tierwise.store import Store
    from tierwise.tiering.selection_proposals import learn_proposal

    cfg = load_config(store_copy)
    with Store(cfg.store_path, read_only=True) as store:
        before = build_report(store).sections["selection"]
    assert before.message and "key-accounts learn" in before.message
    with Store(cfg.store_path) as store:
        learn_proposal(store, cfg, by="analyst")
    with Store(cfg.store_path, read_only=True) as store:
        for lang, title in (("en", "Criteria and their evidence"), ("zh", "选择指标及其证据")):
            report = build_report(store, lang=lang)
            section = report.sections["selection"]
            assert section.message is None
            evidence = next(t for t in section.tables if t.key == "evidence")
            assert evidence.title == title
            top = evidence.frame.sort_values("proposed_weight").iloc[-1]
            assert top["criterion_name"] == "willingness_to_partner"
            assert {t.key for t in section.tables} >= {"evidence", "comparison", "lookalikes"}
        html = render_html(report, store_copy.parent / "report.html").read_text(encoding="utf-8")
    assert "选择矩阵学习" in html and "willingness_to_partner" in html


# -- the web page ---------------------------------------------------------------------------------
def _users(config: Path) -> None:
    from tierwise.config import load_config
    from tierwise.store import Store
    from tierwise.web.accounts import add_user

    with Store(load_config(config).store_path) as store:
        add_user(store, "admin", "admin", "correct horse battery")
        add_user(store, "sunli", "manager", "correct horse battery", manager="孙丽")


def test_the_web_page_shows_the_proposal_and_only_an_admin_decides(store_copy):
    pytest.importorskip("fastapi")
    from _web_store import client, client_class
    from tierwise.config import load_config
    from tierwise.web import create_app

    _users(store_copy)
    assert _cli(store_copy, "learn").code == 0
    cfg = load_config(store_copy)
    app = create_app(cfg)
    with client_class()(app):
        admin = client(app, "admin", "correct horse battery")
        manager = client(app, "sunli", "correct horse battery")
        page = admin.get("/key-accounts/selection?lang=zh")
        assert page.status_code == 200
        assert "选择矩阵学习" in page.text and 'data-criterion="willingness_to_partner"' in page.text
        assert 'id="selection-accept"' in page.text
        twin = admin.get("/api/key-accounts/selection").json()
        assert twin["proposal"]["status"] == "proposed" and twin["can_decide"]
        assert len(twin["lookalikes"]) == 10
        mine = manager.get("/api/key-accounts/selection").json()
        assert not mine["can_decide"]
        assert all(r["account_manager"] == "孙丽" for r in mine["lookalikes"] + mine["growers"])
        assert len(mine["lookalikes"]) < len(twin["lookalikes"])
        page = manager.get("/key-accounts/selection?lang=en")
        assert "Only an admin can accept" in page.text and 'id="selection-accept"' not in page.text
        token = {"csrf_token": manager.headers["X-CSRF-Token"]}
        denied = manager.post("/key-accounts/selection/1/accept", data=token,
                              follow_redirects=False)
        assert denied.status_code == 403
        names = [e["criterion_name"] for e in twin["evidence"]]
        weights = [str(e["proposed_weight"]) for e in twin["evidence"]]
        weights[names.index("mutual_trust")] = "0.1"
        form = {"csrf_token": admin.headers["X-CSRF-Token"], "criterion": names,
                "weight": weights, "note": "trust matters to us"}
        done = admin.post("/key-accounts/selection/1/accept", data=form, follow_redirects=False)
        assert done.status_code == 303, done.text
        after = admin.get("/api/key-accounts/selection?proposal=1").json()
        assert after["proposal"]["status"] == "accepted"
        assert after["proposal"]["accepted"]["mutual_trust"] == pytest.approx(0.1)
        assert after["proposal"]["decided_by"] == "admin" and not after["can_decide"]
        assert "[[key_accounts.criteria]]" in after["toml"]
        page = admin.get("/key-accounts/selection?proposal=1&lang=en")
        assert 'id="selection-toml"' in page.text and 'id="selection-accept"' not in page.text
        assert admin.get("/key-accounts/selection?proposal=99").status_code == 404
        assert 'id="selection-link"' in admin.get("/key-accounts").text


def test_a_store_without_runs_or_history_says_what_to_do(tmp_path):
    from tierwise.config import load_config
    from tierwise.store import Store
    from tierwise.tiering.selection_proposals import learn_proposal

    config = tmp_path / "tierwise.toml"
    config.write_text('[store]\npath = "t.duckdb"\n', encoding="utf-8")
    cfg = load_config(config)
    with Store(cfg.store_path) as store, pytest.raises(StoreError, match="no runs yet"):
        learn_proposal(store, cfg, by="x")
    done = _cli(config, "learn")
    assert done.code != 0 and "tierwise run" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_in_a_real_browser_an_admin_edits_a_weight_and_accepts(store_copy):
    from _browser import artifact, browser_page
    from _serve import serving

    _users(store_copy)
    assert _cli(store_copy, "learn").code == 0
    with serving("--config", str(store_copy)) as (base, _), \
            browser_page() as (page, errors):
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "correct horse battery")
        page.click("#login-submit")
        page.wait_for_load_state("networkidle")
        page.goto(f"{base}/key-accounts?lang=zh")
        page.click("#selection-link")
        page.wait_for_load_state("networkidle")
        assert page.get_attribute("#selection-proposal", "data-status") == "proposed"
        page.fill("tr[data-criterion=mutual_trust] input[name=weight]", "0.1")
        page.screenshot(path=str(artifact("web-selection-zh.png")), full_page=True)
        page.click("#selection-accept")
        page.wait_for_load_state("networkidle")
        status = page.get_attribute("#selection-proposal", "data-status")
        shown = page.inner_text("#selection-status")
        toml = page.inner_text("#selection-toml")
    assert errors == []
    assert status == "accepted" and "已采纳" in shown and "admin" in shown
    pasted = tomllib.loads(toml)["key_accounts"]["criteria"]
    weights = {c["name"]: c["weight"] for c in pasted}
    assert weights["mutual_trust"] == pytest.approx(0.1)
    assert sum(weights.values()) == pytest.approx(1.0)


def test_customers_without_user_columns_are_read_as_having_none():
    from tierwise.tiering.selection_learning import user_columns

    frame = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                          "attributes": [None, float("nan"), "", '{"rating": "4"}']})
    out = user_columns(frame)
    assert out.attrs["user_columns"] == ["rating"]
    assert out["rating"].tolist()[3] == 4 and out["rating"].isna().sum() == 3


def test_when_everyone_grew_there_is_nothing_to_tell_apart():
    snaps, current = _frames(n=40)
    grown = [s.assign(value_period=s["value_same_period_ly"] * 2.0) for s in snaps]
    with pytest.raises(DataContractError, match="count as growers"):
        learn_selection(grown, current, KeyAccountsConfig(), top_share=0.9)

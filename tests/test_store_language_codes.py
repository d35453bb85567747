"""An old store, made by the release before migration 0060 (its own code, from git), opens,
migrates to codes, and shows the same words as before: export, report and dashboard, zh and en."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from _web_store import FIRST_RUN, LAST_RUN, add_users, client, client_class
from conftest import ROOT, run_cli

#: The release whose stores hold words (the last commit before ``0060_language_codes``).
RELEASE = "2f1c6e4aab70c5f48cef114a8dbf82f1a3e85834"
WORDS = ["tier_zh", "activity_state_zh", "rfm_segment_zh", "problem_group_zh", "segment_zh",
         "cluster_profile_zh", "rfm_class_en", "policy_reason", "policy_reason_zh", "clv_note",
         "key_account_reason", "tier_reason"]


def _release_source(directory: Path) -> Path:
    """The release's ``src`` tree, from the repository's history (skip when there is none)."""
    try:
        tar = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", RELEASE, "src"],
                             capture_output=True, check=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError):
        pytest.skip(f"release {RELEASE[:8]} is not in this checkout's history")
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(directory, filter="data")
    return directory / "src"


@pytest.fixture(scope="module")
def old_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A B2B store made (ingest, two runs) by the release's own CLI."""
    from tierwise.demo import generate_b2b
    from tierwise.demo.walkthrough import B2B_CONFIG

    root = tmp_path_factory.mktemp("old-release")
    env = {"PYTHONPATH": str(_release_source(root / "release"))}
    data = root / "b2b"
    generate_b2b(data, accounts=60, end=LAST_RUN)
    config = data / "tierwise.toml"
    config.write_text(_without_newer_sections(B2B_CONFIG.format(end=LAST_RUN)), encoding="utf-8")
    for args in (("ingest",), ("run", "--as-of", FIRST_RUN.isoformat()),
                 ("run", "--as-of", LAST_RUN.isoformat())):
        done = run_cli(*args, "--config", str(config), cwd=data, env=env)
        assert done.code == 0, done.stderr
    return config


#: Sections the demo's config gained after the release (its config check refuses them).
NEWER = ("[sources.contracts]", "[sources.costs]", "[contracts]", "[cost_to_serve]")


def _without_newer_sections(text: str) -> str:
    """The config without the tables the release does not know (each up to the next table)."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("["):
            skipping = line.strip() in NEWER
        if not skipping:
            kept.append(line)
    return "".join(kept)


def _old_words(path: Path) -> tuple[dict[int, pd.DataFrame], dict[tuple[int, str], dict]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        applied = [r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()]
        assert "0060_language_codes" not in applied and "0055_advice_states" in applied
        runs = [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY 1").fetchall()]
        snaps = {r: con.execute(f"SELECT customer_key, {', '.join(WORDS)} FROM "
                                "snapshot_customers WHERE run_id = ? ORDER BY customer_key",
                                [r]).df() for r in runs}
        tables = {(r, n): json.loads(d) for r, n, d in con.execute(
            "SELECT run_id, name, data FROM run_tables").fetchall()}
    finally:
        con.close()
    return snaps, tables


@pytest.fixture(scope="module")
def migrated(old_config: Path, tmp_path_factory: pytest.TempPathFactory):
    """The old words, and a copy of the old store opened (and so migrated) by this code."""
    from tierwise import load_config
    from tierwise.store import Store

    before = _old_words(load_config(old_config).store_path)
    target = tmp_path_factory.mktemp("migrated") / "b2b"
    shutil.copytree(old_config.parent, target)
    config = target / old_config.name
    with Store(load_config(config).store_path) as store:
        applied = store.applied_migrations()
        columns = store.snapshot_columns()
    return config, before, applied, columns


def _same(a: pd.Series, b: pd.Series) -> bool:
    clean = [None if pd.isna(v) else v for v in a], [None if pd.isna(v) else v for v in b]
    return clean[0] == clean[1]


def test_the_migration_leaves_codes_and_the_same_words(migrated) -> None:
    from tierwise import load_config
    from tierwise.store import Store

    config, (snaps, tables), applied, columns = migrated
    assert "0060_language_codes" in applied and "0062_tier_reason_codes" in applied
    assert [c for c in columns if c.endswith(("_zh", "_en"))] == []
    assert "policy_reason" not in columns and "policy_reason_args" in columns
    assert "clv_note" not in columns and "clv_note_args" in columns
    assert "key_account_reason" not in columns and "key_account_reason_args" in columns
    assert "tier_reason" not in columns and "tier_reason_args" in columns
    with Store(load_config(config).store_path, read_only=True) as store:
        for run_id, old in snaps.items():
            new = store.snapshot(run_id).sort_values("customer_key").reset_index(drop=True)
            assert new["policy_reason_code"].notna().sum() == old["policy_reason"].notna().sum()
            assert not new["policy_reason_code"].eq("text").any()  # every reason was read
            for args in ("clv_note_args", "key_account_reason_args", "tier_reason_args"):
                assert not new[args].dropna().str.contains('"reason.text"').any(), args
            for column in WORDS:
                assert _same(new[column], old[column]), (run_id, column)
        for (run_id, name), old in tables.items():
            raw = store.run_table(run_id, name, words=False)
            assert [c for c in raw.columns if c.endswith(("_zh", "_en"))
                    and name != "service_policies"] == [], name
            new = store.run_table(run_id, name)
            for i, column in enumerate(old["columns"]):
                assert [str(r[i]) for r in old["data"]] == \
                    [str(v) for v in new[column].astype(object).where(new[column].notna(), None)]


def test_the_migrated_store_renders_in_both_languages(migrated, tmp_path: Path) -> None:
    from tierwise import load_config
    from tierwise.reports import build_report
    from tierwise.store import Store

    config, (snaps, _), _, _ = migrated
    last = max(snaps)
    old = snaps[last]
    with Store(load_config(config).store_path, read_only=True) as store:
        for lang in ("zh", "en"):
            report = build_report(store, lang=lang)
            assert report.sections and all(s.title for s in report.sections)
    for lang, tier in (("zh", "长尾客户"), ("en", "long tail")):
        out = tmp_path / f"r-{lang}.html"
        done = run_cli("report", "--lang", lang, "--format", "html", "--out", str(out),
                       "--config", str(config), cwd=config.parent)
        assert done.code == 0, done.stderr
        assert tier in out.read_text(encoding="utf-8")
    done = run_cli("export", "customers", "--out", str(tmp_path / "c.csv"), "--config",
                   str(config), cwd=config.parent)
    assert done.code == 0, done.stderr
    exported = pd.read_csv(tmp_path / "c.csv", encoding="utf-8-sig")
    exported = exported.sort_values("customer_key").reset_index(drop=True)
    for column in ("tier_zh", "activity_state_zh", "policy_reason", "policy_reason_zh"):
        assert _same(exported[column], old[column]), column
    add_users(config)
    from tierwise.web import create_app

    app = create_app(load_config(config))
    with client_class()(app):
        admin = client(app, "admin")
        called = old.dropna(subset=["policy_reason"]).iloc[0]
        key = int(called["customer_key"])
        with Store(load_config(config).store_path, read_only=True) as store:
            cid = store.snapshot(last).set_index("customer_key").loc[key, "customer_id"]
        detail = admin.get(f"/api/customers/{cid}").json()
        assert detail["next_action"]["policy_reason"] == called["policy_reason"]
        assert detail["next_action"]["policy_reason_zh"] == called["policy_reason_zh"]
        assert detail["customer"]["tier_zh"] == called["tier_zh"]
        for lang, reason in (("zh", called["policy_reason_zh"]), ("en", called["policy_reason"])):
            page = admin.get(f"/customers/{cid}", params={"lang": lang}).text
            assert reason.replace("'", "&#39;").replace(">", "&gt;").replace("<", "&lt;") in page
    done = run_cli("run", "--as-of", "2026-08-31", "--config", str(config), cwd=config.parent)
    assert done.code == 0, done.stderr
    with Store(load_config(config).store_path, read_only=True) as store:
        assert len(store.runs()) == len(snaps) + 1
        assert store.snapshot()["tier_zh"].notna().any()

"""The CLI run as a user runs it, on the committed example files (GBK CSV, Excel)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tierwise.store import Store

from conftest import ROOT, run_cli

RESTAURANT_TOML = """
name = "Example restaurant"
as_of = "2026-10-31"
[sources.orders]
path = "visits.csv"
[sources.customers]
path = "members.csv"
[value]
min_repeat_buyers = 20
"""


@pytest.fixture
def restaurant(tmp_path: Path) -> Path:
    for name in ("members.csv", "visits.csv", "manifest.json"):
        shutil.copy(ROOT / "examples" / "restaurant" / name, tmp_path / name)
    (tmp_path / "tierwise.toml").write_text(RESTAURANT_TOML, encoding="utf-8")
    return tmp_path


def messy_count(manifest: dict, kinds: list[str]) -> int:
    return sum(len(manifest[f"messy_{k}"]) for k in kinds)


def test_ingest_counts_every_row_and_rejects_the_messy_ones(restaurant: Path) -> None:
    manifest = json.loads((restaurant / "manifest.json").read_text(encoding="utf-8"))
    result = run_cli("ingest", "--json", cwd=restaurant)
    assert result.code == 0, result.stderr
    reports = {r["kind"]: r for r in result.json()}
    orders = reports["orders"]
    lines = len((restaurant / "visits.csv").read_bytes().decode("gbk").splitlines()) - 1
    assert orders["rows_in"] == lines
    assert orders["rows_in"] == orders["accepted"] + orders["rejected"]
    rejected = messy_count(manifest, ["empty_member", "bad_amount", "bad_date", "duplicate",
                                      "future_date"])
    assert orders["rejected"] == rejected
    rejects = pd.read_csv(orders["rejects_file"], encoding="utf-8-sig")
    assert len(rejects) == rejected
    assert set(rejects["line"]) == {line for k in ("empty_member", "bad_amount", "bad_date",
                                                   "duplicate", "future_date")
                                    for line in manifest[f"messy_{k}_lines"]}
    assert orders["customers_created"] == len(set(manifest["messy_unknown_member"]))


def test_reingesting_the_same_files_does_not_duplicate(restaurant: Path) -> None:
    first = run_cli("ingest", "--json", cwd=restaurant).json()
    second = run_cli("ingest", "--json", cwd=restaurant).json()
    orders_1 = next(r for r in first if r["kind"] == "orders")
    orders_2 = next(r for r in second if r["kind"] == "orders")
    assert orders_2["inserted"] == 0 and orders_2["replaced"] == orders_1["accepted"]
    with Store(restaurant / "tierwise.duckdb", read_only=True) as store:
        assert store.counts()["orders"] == orders_1["accepted"]


def test_run_export_and_runs(restaurant: Path) -> None:
    assert run_cli("ingest", cwd=restaurant).code == 0
    for as_of in ("2026-09-30", "2026-10-31"):
        result = run_cli("run", "--as-of", as_of, "--json", cwd=restaurant)
        assert result.code == 0, result.stderr
    again = run_cli("run", "--as-of", "2026-10-31", "--json", cwd=restaurant).json()
    runs = run_cli("runs", "--json", cwd=restaurant).json()
    assert [r["period"] for r in runs] == ["2026-09", "2026-10"]  # re-run replaced, not added
    assert runs[-1]["run_id"] == again["run_id"]
    out = restaurant / "customers.xlsx"
    exported = run_cli("export", "customers", "--format", "xlsx", "--out", str(out),
                       cwd=restaurant)
    assert exported.code == 0, exported.stderr
    sheet = openpyxl.load_workbook(out, read_only=True)["customers"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    for column in ("customer_id", "frequency", "recency", "T", "monetary_value", "rfm_r",
                   "rfm_segment", "rfm_class_cn", "clv_historical", "p_alive",
                   "expected_purchases_90d", "purchase_likelihood_90d", "clv_predicted",
                   "clv_confidence", "tier", "tier_reason", "key_account", "activity_state",
                   "lifecycle_stage", "cluster"):
        assert column in header, column
    csv_out = restaurant / "customers.csv"
    assert run_cli("export", "customers", "--out", str(csv_out), cwd=restaurant).code == 0
    phones = pd.read_csv(csv_out, encoding="utf-8-sig", dtype=str)["phone"].dropna()
    assert len(phones) and phones.str.fullmatch(r"\d{3}\*{4}\d{4}").all()
    full = restaurant / "full.csv"
    run_cli("export", "customers", "--with-contacts", "--out", str(full), cwd=restaurant)
    assert pd.read_csv(full, encoding="utf-8-sig", dtype=str)["phone"].dropna() \
        .str.fullmatch(r"\d{11}").all()


def test_bad_config_is_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "tierwise.toml").write_text('timezone = "Nowhere/City"\n[intake]\ndecimal=";"\n',
                                            encoding="utf-8")
    result = run_cli("validate", cwd=tmp_path)
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert "timezone" in result.stderr and "intake.decimal" in result.stderr


def test_validate_lists_missing_columns_and_files(tmp_path: Path) -> None:
    (tmp_path / "orders.csv").write_text("who,when\n1,2026-01-01\n", encoding="utf-8")
    (tmp_path / "tierwise.toml").write_text(
        '[sources.orders]\npath = "orders.csv"\n[sources.customers]\npath = "nope.csv"\n',
        encoding="utf-8")
    result = run_cli("validate", "--json", cwd=tmp_path)
    assert result.code == 2
    problems = "\n".join(result.json()["problems"])
    assert "nope.csv" in problems
    assert "customer_id" in problems and "amount" in problems


def test_missing_store_and_unknown_run_are_clear(restaurant: Path) -> None:
    result = run_cli("runs", cwd=restaurant)
    assert result.code == 5 and "does not exist" in result.stderr
    run_cli("ingest", cwd=restaurant)
    run_cli("run", cwd=restaurant)
    result = run_cli("export", "customers", "--run", "99", cwd=restaurant)
    assert result.code == 5 and "run 99 not found" in result.stderr


def test_init_writes_a_config_that_validates_its_own_shape(tmp_path: Path) -> None:
    assert run_cli("init", cwd=tmp_path).code == 0
    assert run_cli("init", cwd=tmp_path).code == 2  # refuses to overwrite
    result = run_cli("validate", cwd=tmp_path)
    assert "visits.csv" in result.stderr  # the example's inputs do not exist here: said so


def test_killed_run_leaves_the_previous_snapshot(restaurant: Path) -> None:
    assert run_cli("ingest", cwd=restaurant).code == 0
    first = run_cli("run", "--as-of", "2026-10-31", "--json", cwd=restaurant).json()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "_paused_run.py"),
                             "tierwise.toml", "2026-10-31", "120"],
                            cwd=restaurant, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 240
        line = ""
        while "pausing before commit" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
        assert "pausing before commit" in line
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    runs = run_cli("runs", "--json", cwd=restaurant).json()
    assert [r["run_id"] for r in runs] == [first["run_id"]]
    with Store(restaurant / "tierwise.duckdb", read_only=True) as store:
        assert len(store.snapshot()) == first["customers"]


def test_demo_leaves_stores_with_snapshots(tmp_path: Path) -> None:
    result = run_cli("demo", "--dir", str(tmp_path / "demo"), "--members", "300",
                     "--accounts", "60", "--json", cwd=tmp_path, timeout=600)
    assert result.code == 0, result.stderr
    data = result.json()
    for name, business in data["businesses"].items():
        assert business["runs"], name
        with Store(business["store"], read_only=True) as store:
            assert len(store.runs()) == len(business["runs"])
            for report in business["ingest"]:
                assert report["rows_in"] == report["accepted"] + report["rejected"]

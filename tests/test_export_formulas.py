"""Formula injection: a customer whose name a spreadsheet would run as a formula is written
neutralised in every export (customer export CSV/xlsx, campaign targets CSV/xlsx, the web's
targets.csv, the report workbook), while numbers, negative ones too, stay numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from conftest import run_cli
from tierwise.io.sheets import formula_like, neutralise, neutralise_frame

#: What the tests name the customers (cycled over the accounts).
EVIL = ["=1+2", "+SUM(A1:A2)", "-2+3", "@SUM(1)", '=HYPERLINK("http://x.example","x")',
        "\t=1+1"]
#: As intake keeps them (text is stripped).
STORED = {name.strip() for name in EVIL}


def test_what_counts_as_a_formula() -> None:
    assert all(formula_like(name) for name in EVIL)
    for harmless in ("王芳", "Acme Ltd", "-12.5", "+8613800000000", "1e-3", "", "a=b"):
        assert not formula_like(harmless), harmless
    assert not formula_like(-3) and not formula_like(-2.5) and not formula_like(None)
    assert neutralise("=1+2") == "'=1+2" and neutralise(-4) == -4
    frame = pd.DataFrame({"name": ["=1", "ok", None], "amount": [-1.5, 2.0, -3.0]})
    safe = neutralise_frame(frame)
    assert safe["name"].tolist()[:2] == ["'=1", "ok"] and pd.isna(safe["name"].iloc[2])
    assert safe["amount"].tolist() == [-1.5, 2.0, -3.0]
    assert frame["name"].iloc[0] == "=1"  # the caller's frame is left alone


@pytest.fixture(scope="module")
def store_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo B2B supplier (20 accounts) whose account names all look like formulas; ingested,
    run, and with a campaign over every tier."""
    from tierwise.demo import generate_b2b
    from tierwise.demo.walkthrough import B2B_CONFIG

    folder = tmp_path_factory.mktemp("formulas")
    generate_b2b(folder, accounts=20)
    accounts = pd.read_csv(folder / "accounts.csv", dtype=str, keep_default_na=False)
    accounts["name"] = [EVIL[i % len(EVIL)] for i in range(len(accounts))]
    accounts.to_csv(folder / "accounts.csv", index=False)
    orders = pd.read_excel(folder / "orders.xlsx", sheet_name="orders", dtype={"order_id": str})
    first = orders["customer_id"] == orders["customer_id"].iloc[0]
    orders.loc[first, "cost"] = orders.loc[first, "amount"] * 2  # sold at a loss: margin < 0
    orders.to_excel(folder / "orders.xlsx", sheet_name="orders", index=False)
    config = folder / "tierwise.toml"
    config.write_text(B2B_CONFIG.format(end="2026-09-30"), encoding="utf-8")
    for args in (("ingest",), ("run",),
                 ("campaign", "create", "--name", "=cmd|' /C calc'!A0",
                  "--tier", "key,major,ordinary,long_tail", "--exclude-state", "none",
                  "--face-value", "48", "--control-share", "0.2")):
        done = run_cli(*args, "--config", str(config), cwd=folder)
        assert done.code == 0, done.stderr
    return config


def _check_rows(rows: list[dict[str, str]], numeric: list[str]) -> None:
    names = [r["name"] for r in rows]
    assert names and all(n.startswith("'") and n[1:] in STORED for n in names), names
    for col in numeric:
        values = [r[col] for r in rows if r[col]]
        assert not [v for v in values if v.startswith("'")], (col, values[:5])


def _read_csv(data: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.lstrip("\ufeff"))))


def _check_sheet(path: Path, numeric: list[str]) -> None:
    sheet = load_workbook(path).worksheets[0]
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    assert not [c.coordinate for row in rows for c in row if c.data_type == "f"]
    names = [row[header.index("name")].value for row in rows[1:]]
    assert names and all(n.startswith("'") and n[1:] in STORED for n in names), names
    for col in numeric:
        cells = [row[header.index(col)] for row in rows[1:] if row[header.index(col)].value
                 is not None]
        assert cells and all(c.data_type == "n" for c in cells), col


def test_customer_export(store_config: Path, tmp_path: Path) -> None:
    folder = store_config.parent
    parquet = tmp_path / "c.parquet"
    for fmt, out in (("csv", tmp_path / "c.csv"), ("xlsx", tmp_path / "c.xlsx"),
                     ("parquet", parquet)):
        done = run_cli("export", "customers", "-c", str(store_config), "--format", fmt,
                       "--out", str(out), cwd=folder)
        assert done.code == 0, done.stderr
    raw = pd.read_parquet(parquet)
    assert set(raw["name"]) <= STORED  # Parquet is for programs: values as they are
    negative = [c for c in raw.select_dtypes("number").columns if (raw[c] < 0).any()]
    assert negative, "the data has negative numbers to check"
    _check_rows(_read_csv((tmp_path / "c.csv").read_text(encoding="utf-8")), negative)
    _check_sheet(tmp_path / "c.xlsx", negative)


def test_campaign_export(store_config: Path, tmp_path: Path) -> None:
    folder = store_config.parent
    for fmt in ("csv", "xlsx"):
        done = run_cli("campaign", "export", "1", "-c", str(store_config), "--format", fmt,
                       "--out", str(tmp_path / f"t.{fmt}"), cwd=folder)
        assert done.code == 0, done.stderr
    rows = _read_csv((tmp_path / "t.csv").read_text(encoding="utf-8"))
    _check_rows(rows, ["face_value"])
    assert {r["campaign"] for r in rows} == {"'=cmd|' /C calc'!A0"}
    _check_sheet(tmp_path / "t.xlsx", ["face_value"])


def test_report_workbook(store_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    done = run_cli("report", "-c", str(store_config), "--out", str(out),
                   cwd=store_config.parent)
    assert done.code == 0, done.stderr
    book = load_workbook(out)
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if formula_like(t)]
    assert any(t.startswith("'") and t[1:] in STORED for t in texts)


def test_web_targets_csv(store_config: Path) -> None:
    pytest.importorskip("fastapi")
    from _web_store import PASSWORD, client
    from tierwise import load_config
    from tierwise.store import Store
    from tierwise.web import create_app
    from tierwise.web.accounts import add_user

    cfg = load_config(store_config)
    with Store(cfg.store_path) as store:
        add_user(store, "admin", "admin", PASSWORD)
    browser = client(create_app(cfg), "admin")
    with browser:
        answer = browser.get("/campaigns/1/targets.csv")
    assert answer.status_code == 200, answer.text
    rows = _read_csv(answer.content.decode("utf-8"))
    _check_rows(rows, ["face_value"])

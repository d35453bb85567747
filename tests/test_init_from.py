"""`tierwise init --from` on real-shaped exports, then ingest and run through the real CLI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import run_cli
from tierwise.demo.pharmacy import write_pharmacy
from tierwise.features.as_of import default_as_of
from tierwise.io.detect import detect_source


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_pharmacy_export_goes_through_with_no_editing(tmp_path: Path, fmt: str) -> None:
    truth = write_pharmacy(tmp_path, fmt=fmt, n_lines=1500, seed=3)
    init = run_cli("init", "--from", truth["path"].name, cwd=tmp_path)
    assert init.code == 0, init.stderr
    assert "社保卡号" in init.stdout and "购药时间" in init.stdout and "实收金额" in init.stdout
    assert "应收金额" in init.stdout  # the choice of the paid amount is printed
    config = (tmp_path / "tierwise.toml").read_text("utf-8")
    assert 'customer_id = "社保卡号"' in config and 'ordered_at = "购药时间"' in config
    check = run_cli("validate", "--json", cwd=tmp_path)
    assert check.code == 0, check.stdout + check.stderr  # rows will be rejected: not a failure
    found = check.json()
    assert found["rows"]["orders"] == {"rows_in": truth["lines"],
                                       "rejected": truth["impossible_dates"] + truth["no_card"]}
    assert any("February 2018 has 28 days" in p for p in found["row_problems"])
    assert any("weekday" in w for w in found["warnings"])
    ingest = run_cli("ingest", "--json", cwd=tmp_path)
    assert ingest.code == 0, ingest.stderr
    report = ingest.json()[0]
    assert report["accepted"] == truth["accepted"]
    assert report["rows_in"] == report["accepted"] + report["rejected"] == truth["lines"]
    result = run_cli("run", "--json", cwd=tmp_path)
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["as_of"] == truth["last_day"].isoformat()
    assert data["revenue"] == pytest.approx(truth["paid"], abs=0.01)


def test_validate_fails_only_for_config_problems(tmp_path: Path) -> None:
    (tmp_path / "tierwise.toml").write_text('[sources.orders]\npath = "o.csv"\n', "utf-8")
    (tmp_path / "o.csv").write_text("customer_id,date,amount\nA,2024-01-01,5\nB,2030-01-01,7\n"
                                    "C,2024-01-02,1e308\nD,2024-01-03,inf\n", "utf-8")
    ok = run_cli("validate", "--today", "2024-06-01", cwd=tmp_path)
    assert ok.code == 0 and "3 of 4 row(s) will be rejected" in ok.stderr
    assert "2030-01-01" in ok.stderr and "max_amount" in ok.stderr
    (tmp_path / "o.csv").write_text("who,when\n1,2024-01-01\n", "utf-8")
    assert run_cli("validate", cwd=tmp_path).code == 2


def test_plain_init_says_what_to_edit_and_its_optional_sources_are_optional(tmp_path: Path):
    result = run_cli("init", cwd=tmp_path)
    assert "[sources.orders]" in result.stderr
    (tmp_path / "visits.csv").write_text("会员卡号,消费时间,消费金额\nA,2024-01-01,5\n", "utf-8")
    assert run_cli("validate", cwd=tmp_path).code == 0


def test_online_retail_style_export_is_detected_as_lines(tmp_path: Path) -> None:
    rows = ["InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country",
            "536365,85123A,WHITE HANGING HEART,6,12/1/2010 8:26,2.55,17850,United Kingdom",
            "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom",
            "536366,22633,HAND WARMER UNION JACK,6,12/13/2010 8:28,1.85,,United Kingdom",
            "C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527,United Kingdom"]
    (tmp_path / "retail.csv").write_text("\n".join(rows) + "\n", "utf-8")
    det = detect_source(tmp_path / "retail.csv")
    assert det.columns["order_id"] == "InvoiceNo" and det.columns["ordered_at"] == "InvoiceDate"
    assert det.columns["quantity"] == "Quantity" and det.columns["unit_price"] == "UnitPrice"
    assert det.columns["customer_id"] == "CustomerID"
    assert det.columns["product_id"] == "StockCode"
    assert det.level == "lines" and det.cancel_prefix == "C"
    assert det.date_format == "%m/%d/%Y %H:%M"


def test_the_as_of_date_ignores_one_far_order_and_names_it() -> None:
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(200)]
    choice = default_as_of([*days, dt.date(2030, 1, 1)], [3] * 200 + [1])
    assert choice.as_of == days[-1]
    assert "2030-01-01" in choice.warning
    assert default_as_of(days, [3] * 200).warning is None


def test_excel_line_level_export_goes_through_with_no_editing(tmp_path: Path) -> None:
    """The Online Retail-style export saved from Excel: real dates and numbers in the cells."""
    import pandas as pd

    from tierwise.demo.retail_lines import generate_retail_lines

    truth = generate_retail_lines(tmp_path, customers=120, days=150, seed=5)
    lines = pd.read_csv(tmp_path / "online_retail.csv", dtype=str, keep_default_na=False)
    lines["Quantity"] = pd.to_numeric(lines["Quantity"])
    lines["UnitPrice"] = pd.to_numeric(lines["UnitPrice"])
    lines["InvoiceDate"] = pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M")
    lines.to_excel(tmp_path / "销售明细.xlsx", index=False)
    (tmp_path / "online_retail.csv").unlink()
    init = run_cli("init", "--from", "销售明细.xlsx", cwd=tmp_path)
    assert init.code == 0, init.stdout + init.stderr
    assert "order lines" in init.stdout
    ingest = run_cli("ingest", "--json", cwd=tmp_path)
    assert ingest.code == 0, ingest.stderr
    report = ingest.json()[0]
    assert report["rows_in"] == truth["lines"] == report["accepted"] + report["rejected"]
    result = run_cli("run", "--json", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert result.json()["revenue"] == pytest.approx(truth["revenue"], abs=0.01)

"""One definition of each public figure of a run (tierwise.runview), whoever shows it.

On the demo B2B store (tests/_web_store.py): the summary and the pyramid's value are the same in
``tierwise run --json``, ``tierwise runs --json``, ``tierwise pyramid --json``, the report
builder's data and the web JSON API; and each matches its definition computed here from the
snapshot rows with pandas (dormant or worse = state at or after ``dormant``; the pyramid's value =
the tier's net revenue, ``total_amount``), for everyone and for a scoped viewer.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from _web_store import LAST_RUN, client, copy_store, shared_web_store
from conftest import run_cli

pytest.importorskip("fastapi")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_store(shared_web_store(tmp_path_factory), tmp_path_factory.mktemp("read-model"))


@pytest.fixture(scope="module")
def ran(config: Path) -> dict:
    """``tierwise run --json`` of the last period (it replaces the run made when building)."""
    done = run_cli("run", "--as-of", LAST_RUN.isoformat(), "--json", "--config", str(config),
                   cwd=config.parent)
    assert done.code == 0, done.stderr
    return done.json()


def _snapshot(config: Path, run_id: int) -> pd.DataFrame:
    with duckdb.connect(str(config.parent / "tierwise.duckdb"), read_only=True) as con:
        return con.execute("SELECT * FROM snapshot_customers WHERE run_id = ?", [run_id]).df()


def _defined(rows: pd.DataFrame) -> dict:
    """The figures by their definition, from the rows."""
    return {"customers": len(rows), "repeat_customers": int((rows["frequency"] > 0).sum()),
            "revenue": round(float(rows["total_amount"].sum()), 2),
            "key_tier": int((rows["tier"] == "key").sum()),
            "key_accounts": int(rows["key_account"].fillna(False).astype(bool).sum()),
            "dormant_or_worse": int(rows["activity_state"].isin(
                ["dormant", "shock", "dead", "buried"]).sum())}


def _values(rows: pd.DataFrame) -> dict[str, float]:
    return rows.groupby("tier")["total_amount"].sum().round(2).to_dict()


def test_summary_is_one_definition_in_cli_report_and_web(config: Path, ran: dict) -> None:
    from tierwise import load_config
    from tierwise.reports import build_report
    from tierwise.store import Store
    from tierwise.web import create_app

    rows = _snapshot(config, ran["run_id"])
    defined = _defined(rows)
    assert defined["dormant_or_worse"] > 0 and defined["key_accounts"] > 0  # the test can fail
    cli_run = {k: ran[k] for k in defined}
    listed = next(r for r in run_cli("runs", "--json", "--config", str(config),
                                     cwd=config.parent).json() if r["run_id"] == ran["run_id"])
    with Store(config.parent / "tierwise.duckdb", read_only=True) as store:
        report = build_report(store, ran["run_id"])
    figures = {f.key: f.value for f in report["summary"].figures}
    app = create_app(load_config(config))
    with client(app, "admin") as admin:
        web = admin.get("/api/overview", params={"run": ran["run_id"]}).json()["figures"]
    for shown in (cli_run, listed["summary"], figures, web):
        assert {k: shown[k] for k in defined} == defined
    assert ran["active_30d"] == listed["summary"]["active_30d"] == figures["active_30d"] \
        == web["active_30d"]
    assert ran["clv_predicted_total"] == web["clv_predicted_total"]


def test_pyramid_value_is_net_revenue_everywhere(config: Path, ran: dict) -> None:
    from tierwise import load_config
    from tierwise.reports import build_report
    from tierwise.store import Store
    from tierwise.web import create_app

    rows = _snapshot(config, ran["run_id"])
    defined = _values(rows)
    cli = run_cli("pyramid", "--run", str(ran["run_id"]), "--json", "--config", str(config),
                  cwd=config.parent).json()["levels"]
    with Store(config.parent / "tierwise.duckdb", read_only=True) as store:
        report = build_report(store, ran["run_id"])
        stored = store.run_table(ran["run_id"], "pyramid")  # written by the run
    table = report["pyramid"].table("levels").frame
    app = create_app(load_config(config))
    with client(app, "admin") as admin:
        web = admin.get("/api/overview", params={"run": ran["run_id"]}).json()["pyramid"]
    for levels in (cli, table.to_dict("records"), web, stored.to_dict("records")):
        shown = {r["tier"]: round(r["value"], 2) for r in levels if r["customers"]}
        assert shown == pytest.approx(defined, abs=0.01)


def test_a_scoped_viewer_gets_the_same_definitions_over_their_customers(
        config: Path, ran: dict) -> None:
    from tierwise import load_config
    from tierwise.web import create_app

    rows = _snapshot(config, ran["run_id"])
    mine = rows[rows["account_manager"] == "孙丽"]
    assert 0 < len(mine) < len(rows)
    app = create_app(load_config(config))
    with client(app, "sunli") as sunli:
        data = sunli.get("/api/overview", params={"run": ran["run_id"]}).json()
    assert {k: data["figures"][k] for k in _defined(mine)} == _defined(mine)
    shown = {r["tier"]: r["value"] for r in data["pyramid"] if r["customers"]}
    assert shown == pytest.approx(_values(mine), abs=0.01)
    assert data["backtest"] is None  # business-wide figures are not a manager's

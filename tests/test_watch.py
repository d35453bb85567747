"""``tierwise watch --once`` as cron runs it: exports dropped into the inbox are ingested, the
due period runs, its alerts reach a real local HTTP receiver; a second pass over the same files
changes nothing."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from tierwise.config import parse_config
from tierwise.store import Store
from tierwise.watch import due_dates, period_end

from _receivers import Receiver
from conftest import ROOT, run_cli

TODAY = "2026-11-01"


def _split_visits(folder: Path) -> tuple[bytes, bytes]:
    """The example visits (GBK) as two exports: up to September, and October."""
    lines = (ROOT / "examples" / "restaurant" / "visits.csv").read_bytes().decode("gbk") \
        .splitlines(keepends=True)
    october = [line for line in lines[1:] if line.split(",")[2].startswith("2026-10")]
    rest = [line for line in lines[1:] if line not in october]
    return ("".join([lines[0], *rest]).encode("gbk"),
            "".join([lines[0], *october]).encode("gbk"))


def _drop(inbox: Path, name: str, data: bytes, age: float = 60) -> None:
    path = inbox / name
    path.write_bytes(data)
    stamp = path.stat().st_mtime - age
    os.utime(path, (stamp, stamp))


def _posts(hook: Receiver) -> tuple[list[dict], list[dict]]:
    """The alert posts (they carry the run's period) and the digest posts."""
    return ([p for p in hook.posts if "period" in p],
            [p for p in hook.posts if "period" not in p])


def _counts(store_path: Path) -> dict[str, int]:
    with Store(store_path, read_only=True) as store:
        q = store.con.execute
        return {t: q(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                for t in ("orders", "customers", "runs", "ingests", "alert_events",
                          "alert_log", "inbox_files")}


def test_watch_once_ingests_runs_alerts_and_a_second_pass_does_nothing(tmp_path: Path) -> None:
    september, october = _split_visits(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with Receiver() as hook:
        (tmp_path / "tierwise.toml").write_text(f"""
name = "Example restaurant"
language = "en"
[value]
min_repeat_buyers = 20
[watch]
inbox = "inbox"
settle_seconds = 5
[alerts]
webhook_url = "{hook.url}"
watch_tiers = []
backoff_seconds = 0.01
""", encoding="utf-8")
        _drop(inbox, "members.csv", (ROOT / "examples" / "restaurant" / "members.csv")
              .read_bytes(), age=120)
        _drop(inbox, "visits-2026-09.csv", september)
        _drop(inbox, "visits-2026-10.csv.part", october)  # still being copied: left alone
        first = run_cli("watch", "--once", "--json", "--today", TODAY, cwd=tmp_path)
        assert first.code == 0, first.stderr
        one = first.json()
        assert [(f["file"], f["kind"], f["status"]) for f in one["files"]] == [
            ("members.csv", "customers", "ingested"), ("visits-2026-09.csv", "orders", "ingested")]
        visits = one["files"][1]
        assert visits["rows_in"] == visits["accepted"] + visits["rejected"]
        assert visits["rejected"] > 0 and Path(visits["rejects_file"]).exists()
        assert [r["period"] for r in one["runs"]] == ["2026-09"]
        assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
            "members.csv", "visits-2026-09.csv"]
        # a first run has no run before it: its early warnings and the tasks it made that are
        # already overdue on --today are the only alerts; then the week's digest (once)
        alerts, digests = _posts(hook)
        assert len(alerts) == 1 and alerts[0]["period"] == "2026-09"
        assert {e["code"] for e in alerts[0]["events"]} == {"warning", "task_overdue"}
        assert len(digests) == 1 and "2026-W44" in digests[0]["subject"]
        assert one["digest"]["week"] == "2026-W44"

        (inbox / "visits-2026-10.csv.part").rename(inbox / "visits-2026-10.csv")
        os.utime(inbox / "visits-2026-10.csv", (0, 0))
        second = run_cli("watch", "--once", "--json", "--today", TODAY, cwd=tmp_path)
        assert second.code == 0, second.stderr
        two = second.json()
        assert [f["status"] for f in two["files"]] == ["ingested"]
        assert [r["period"] for r in two["runs"]] == ["2026-10"]
        alerts, digests = _posts(hook)
        assert len(alerts) == 2 and len(digests) == 1  # the week's digest went out already
        body = alerts[1]
        assert body["period"] == "2026-10" and body["events"]
        store_path = tmp_path / "tierwise.duckdb"
        with Store(store_path, read_only=True) as store:
            runs = store.runs()
            assert list(runs["period"]) == ["2026-09", "2026-10"]
            made = store.con.execute("SELECT count(*) FROM tasks WHERE run_id = ?",
                                     [int(runs["run_id"].iloc[-1])]).fetchall()[0][0]
            assert made > 0  # the October run made its tasks (tierwise run's own code path)
            sent = {r[0] for r in store.con.execute(
                "SELECT event_key FROM alert_log WHERE status = 'sent' AND event_key LIKE "
                "'%:2026-10'").fetchall()}
        assert sent == {e["key"] for e in body["events"]}
        assert {e["code"] for e in body["events"]} > {"warning"}

        before = _counts(store_path)
        shutil.copy(inbox / "processed" / "visits-2026-10.csv", inbox / "again.csv")
        os.utime(inbox / "again.csv", (0, 0))
        third = run_cli("watch", "--once", "--json", "--today", TODAY, cwd=tmp_path)
        assert third.code == 0, third.stderr
        three = third.json()
        assert [f["status"] for f in three["files"]] == ["seen"]
        assert three["runs"] == [] and len(hook.posts) == 3
        assert _counts(store_path) == before
        fourth = run_cli("watch", "--once", "--today", TODAY, cwd=tmp_path)
        assert fourth.code == 0 and "Traceback" not in fourth.stderr
        assert "0 file(s)" in fourth.stderr and _counts(store_path) == before


def test_a_file_that_cannot_be_ingested_moves_to_failed_with_its_reason(tmp_path: Path) -> None:
    (tmp_path / "tierwise.toml").write_text('[watch]\ninbox = "in"\nsettle_seconds = 0\n',
                                            encoding="utf-8")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "orders.csv").write_text("who,what\n1,2\n", encoding="utf-8")
    done = run_cli("watch", "--once", "--today", TODAY, cwd=tmp_path)
    assert done.code == 0, done.stderr
    assert "Traceback" not in done.stderr and "failed" in done.stderr
    assert (tmp_path / "in" / "failed" / "orders.csv").exists()
    again = run_cli("watch", "--once", "--json", "--today", TODAY, cwd=tmp_path)
    assert again.json()["files"] == []


@pytest.mark.parametrize(("last", "target", "period", "due"), [
    ("2026-09-30", "2026-11-15", "month", ["2026-10-31", "2026-11-15"]),
    ("2026-09-15", "2026-10-31", "month", ["2026-09-30", "2026-10-31"]),
    ("2026-03-31", "2026-09-30", "quarter", ["2026-06-30", "2026-09-30"]),
])
def test_due_periods(tmp_path: Path, last: str, target: str, period: str, due: list[str]) -> None:
    from tierwise.pipeline import ingest, run

    (tmp_path / "orders.csv").write_text(
        "customer_id,ordered_at,amount\n" + "".join(
            f"C{i % 7},{dt.date.fromisoformat(target) - dt.timedelta(days=6 * i)},{10 + i}\n"
            for i in range(60)), encoding="utf-8")
    cfg = parse_config({"period": period, "sources": {"orders": {"path": "orders.csv"}},
                        "store": {"path": str(tmp_path / "s.duckdb")}}, base_dir=tmp_path)
    ingest(cfg)
    assert due_dates(cfg, new_data=True) == [dt.date.fromisoformat(target)]  # no run yet
    run(cfg, as_of=dt.date.fromisoformat(last))
    assert [d.isoformat() for d in due_dates(cfg, new_data=False)] == due
    run(cfg, as_of=dt.date.fromisoformat(target))
    assert due_dates(cfg, new_data=False) == []
    assert due_dates(cfg, new_data=True) == [dt.date.fromisoformat(target)]


def test_period_end() -> None:
    assert period_end(dt.date(2026, 12, 5), "month") == dt.date(2026, 12, 31)
    assert period_end(dt.date(2026, 11, 5), "quarter") == dt.date(2026, 12, 31)
    assert period_end(dt.date(2026, 2, 1), "month") == dt.date(2026, 2, 28)


def test_serve_schedule_does_the_watch_passes_in_the_background(tmp_path: Path) -> None:
    import time

    import httpx
    from _serve import serving

    september, october = _split_visits(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with Receiver() as hook:
        (tmp_path / "tierwise.toml").write_text(f"""
name = "Example restaurant"
language = "en"
[value]
min_repeat_buyers = 20
[watch]
inbox = "inbox"
settle_seconds = 0
interval_minutes = 0.02
[alerts]
webhook_url = "{hook.url}"
watch_tiers = []
backoff_seconds = 0.01
""", encoding="utf-8")
        _drop(inbox, "visits-2026-09.csv", september)
        assert run_cli("watch", "--once", "--today", TODAY, cwd=tmp_path).code == 0
        log = tmp_path / "serve.log"
        with serving("--schedule", cwd=tmp_path, log=log, timeout=240) as (base, _):
            _drop(inbox, "visits-2026-10.csv", october)
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and \
                    "scheduled pass: 1 file(s) (1 ingested" not in log.read_text():
                time.sleep(0.5)
            assert httpx.get(f"{base}/api/health", timeout=5).json()["status"] == "ok"
    output = log.read_text()
    assert "scheduled pass: 1 file(s) (1 ingested" in output and "Traceback" not in output
    alerts = _posts(hook)[0]
    assert len(alerts) == 2 and alerts[1]["period"] == "2026-10", output
    assert (inbox / "processed" / "visits-2026-10.csv").exists()


def test_contracts_costs_and_feedback_exports_dropped_into_the_inbox_are_read_as_such(
        tmp_path: Path) -> None:
    """Each kind of export is recognised by its name (``合同*`` contracts, ``费用*`` costs,
    ``评价*`` feedback) and read with that kind's rules: the B2B example's bad contract and
    cost rows land in rejects files, the good ones in the store."""
    from tierwise import load_config
    from tierwise.watch import file_kind

    b2b = ROOT / "examples" / "b2b"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "tierwise.toml").write_text("""
name = "Example B2B"
language = "zh"
period = "quarter"
[watch]
inbox = "inbox"
settle_seconds = 0
send_alerts = false
""", encoding="utf-8")
    cfg = load_config(tmp_path / "tierwise.toml")
    assert [file_kind(cfg, n) for n in ("合同-2026.csv", "costs_q3.xlsx", "评价导出.csv",
                                        "survey-10.csv", "客户.csv", "订单.xlsx")] == [
        "contracts", "costs", "feedback", "survey", "customers", "orders"]
    _drop(inbox, "客户.csv", (b2b / "accounts.csv").read_bytes(), age=300)
    _drop(inbox, "订单.xlsx", (b2b / "orders.xlsx").read_bytes(), age=200)
    _drop(inbox, "合同-2026.csv", (b2b / "contracts.csv").read_bytes(), age=100)
    _drop(inbox, "费用-2026.csv", (b2b / "costs.csv").read_bytes(), age=50)
    done = run_cli("watch", "--once", "--json", "--today", "2026-10-05", cwd=tmp_path)
    assert done.code == 0, done.stderr
    files = {f["file"]: f for f in done.json()["files"]}
    assert {name: (f["kind"], f["status"]) for name, f in files.items()} == {
        "客户.csv": ("customers", "ingested"), "订单.xlsx": ("orders", "ingested"),
        "合同-2026.csv": ("contracts", "ingested"), "费用-2026.csv": ("costs", "ingested")}
    contracts, costs = files["合同-2026.csv"], files["费用-2026.csv"]
    for f in (contracts, costs):
        assert f["rows_in"] == f["accepted"] + f["rejected"] and f["rejected"] >= 1
        assert Path(f["rejects_file"]).exists()
    assert "HT-C10017-202411-X" in Path(contracts["rejects_file"]).read_text(encoding="utf-8-sig")
    with Store(tmp_path / "tierwise.duckdb", read_only=True) as store:
        q = store.con.execute
        assert q("SELECT count(*) FROM contracts").fetchall()[0][0] == contracts["accepted"]
        assert q("SELECT count(*) FROM costs").fetchall()[0][0] == costs["accepted"]

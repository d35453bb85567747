"""The people loop end to end on real files, through the CLI: the demo B2B supplier's Q1-quiet key
accounts get tasks for their account managers, an outcome is recorded with 'tierwise tasks done',
and the next run honours it; dedup, closing and the web timeline's data on the same store."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from conftest import run_cli
from tierwise import load_config
from tierwise.store import Store
from tierwise.tasks import customer_timeline, open_tasks, overdue_tasks, timeline_words

pytestmark = pytest.mark.slow

END = dt.date(2026, 9, 30)
Q1, Q2 = "2026-03-31", "2026-06-30"


@pytest.fixture(scope="module")
def b2b(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], dict[str, str]]:
    """The demo B2B supplier ingested and run as of the end of Q1 2026."""
    from tierwise.demo import generate_b2b
    from tierwise.demo.walkthrough import B2B_CONFIG

    folder = tmp_path_factory.mktemp("b2b")
    manifest = generate_b2b(folder, end=END)  # as "tierwise demo" makes it
    config = folder / "tierwise.toml"
    config.write_text(B2B_CONFIG.format(end=END), encoding="utf-8")
    for args in (("ingest",), ("run", "--as-of", Q1)):
        done = run_cli(*args, "--config", str(config), cwd=folder)
        assert done.code == 0, done.stderr
    with open(folder / "accounts.csv", encoding="utf-8-sig") as f:
        managers = {r["customer_id"]: r["account_manager"] for r in csv.DictReader(f)}
    return config, list(manifest["q1_quiet"]), managers


def _copy(config: Path, target: Path) -> Path:
    shutil.copytree(config.parent, target / "b2b")
    return target / "b2b" / config.name


def _tasks(config: Path, *args: str) -> list[dict]:
    done = run_cli("tasks", "list", "--json", *args, "--config", str(config), cwd=config.parent)
    assert done.code == 0, done.stderr
    return json.loads(done.stdout)["tasks"]


def test_the_q1_quiet_key_accounts_have_open_tasks_for_their_managers(b2b) -> None:
    config, quiet, managers = b2b
    tasks = _tasks(config)
    for customer in quiet:
        mine = [t for t in tasks if t["customer_id"] == customer]
        assert mine, f"{customer} has no open task"
        assert {t["assignee"] for t in mine} == {managers[customer]}
        assert {t["assigned_by"] for t in mine} == {"account_manager"}
        warned = [t for t in mine if t["reason"] in ("warning", "call")]
        assert warned and warned[0]["status"] == "open"
        assert warned[0]["due"] <= "2026-04-07"
    # --assignee shows one person's tasks only, worded in the language asked for
    person = managers[quiet[0]]
    theirs = _tasks(config, "--assignee", person, "--lang", "zh")
    assert theirs and {t["assignee"] for t in theirs} == {person}
    assert any(t["reason_text"].startswith("预警") for t in theirs)


def test_a_second_run_does_not_duplicate_and_a_later_one_closes_what_is_gone(b2b, tmp_path
                                                                              ) -> None:
    config = _copy(b2b[0], tmp_path)
    cfg = load_config(config)
    with Store(cfg.store_path, read_only=True) as store:
        before = open_tasks(store)
    again = run_cli("run", "--as-of", Q1, "--json", "--config", str(config), cwd=config.parent)
    assert again.code == 0, again.stderr
    assert json.loads(again.stdout)["tasks_created"] == 0
    with Store(cfg.store_path, read_only=True) as store:
        after = open_tasks(store)
        assert sorted(after["task_id"]) == sorted(before["task_id"])
        # one open task per customer and reason
        assert not after.duplicated(["customer_id", "reason"]).any()
    later = run_cli("run", "--as-of", Q2, "--config", str(config), cwd=config.parent)
    assert later.code == 0, later.stderr
    with Store(cfg.store_path, read_only=True) as store:
        closed = store.con.execute(
            "SELECT reason, close_note FROM tasks WHERE status = 'closed'").fetchall()
        meta = store.run_info("latest")["meta"]["tasks"]
        still = open_tasks(store)
        late = overdue_tasks(store, dt.date(2026, 7, 1))
    assert closed and {note for _, note in closed} == {"reason_gone"}
    assert meta["closed_reason_gone"] == len(closed)
    # the Q1 tasks still asked for stay open, now overdue; none is duplicated
    assert not still.duplicated(["customer_id", "reason"]).any()
    assert len(late) and (late["due"] < "2026-07-01").all()
    # a run for an earlier date leaves tasks alone
    n = len(still)
    old = run_cli("run", "--as-of", Q1, "--config", str(config), cwd=config.parent)
    assert old.code == 0, old.stderr
    with Store(cfg.store_path, read_only=True) as store:
        assert len(open_tasks(store)) == n
        assert store.run_info("latest")["meta"]["tasks"]["status"] in ("made", "skipped")


def test_moved_away_archives_the_customer_in_the_next_run_with_the_reason(b2b, tmp_path
                                                                           ) -> None:
    config = _copy(b2b[0], tmp_path)
    quiet = b2b[1][0]
    task = [t for t in _tasks(config) if t["customer_id"] == quiet][0]
    done = run_cli("tasks", "done", str(task["task_id"]), "--outcome", "moved_away", "--note",
                   "moved the factory to Chengdu", "--by", "Kevin", "--on", "2026-04-02",
                   "--config", str(config), cwd=config.parent)
    assert done.code == 0, done.stderr
    assert "moved_away" in done.stderr
    # recording twice, an unknown outcome, an unknown task: one clear line each
    for args, words in (((str(task["task_id"]), "--outcome", "reached"), "done already"),
                        ((str(task["task_id"]), "--outcome", "gone fishing"), "not known"),
                        (("999999", "--outcome", "reached"), "not found")):
        bad = run_cli("tasks", "done", *args, "--config", str(config), cwd=config.parent)
        assert bad.code != 0 and words in bad.stderr and "Traceback" not in bad.stderr
    rerun = run_cli("run", "--as-of", Q1, "--config", str(config), cwd=config.parent)
    assert rerun.code == 0, rerun.stderr
    cfg = load_config(config)
    with Store(cfg.store_path, read_only=True) as store:
        row = store.snapshot().set_index("customer_id").loc[quiet]
        assert row["activity_policy"] == "archive"
        assert "moved away" in row["policy_reason"] and "2026-04-02" in row["policy_reason"]
        assert "已搬离" in row["policy_reason_zh"]
        assert not bool(row["key_account"])  # archived accounts are not key accounts
        # its other open tasks closed themselves; nothing new for it
        left = store.con.execute("SELECT status, close_note FROM tasks WHERE customer_id = ? "
                                 "AND task_id <> ?", [quiet, task["task_id"]]).fetchall()
        assert all(status == "closed" and note == "archived" for status, note in left)
        events = timeline_words(customer_timeline(store, quiet), "en")
    outcome = [e for e in events if e["kind"] == "outcome"]
    assert outcome and outcome[0]["text"] == "Kevin recorded: moved away"
    assert outcome[0]["note"] == "moved the factory to Chengdu"
    kinds = {e["kind"] for e in events}
    assert {"order", "snapshot", "task", "outcome"} <= kinds
    assert [e["date"] for e in events] == sorted((e["date"] for e in events), reverse=True)


def test_complaint_will_come_back_and_next_contact_feed_the_next_run(b2b, tmp_path) -> None:
    config = _copy(b2b[0], tmp_path)
    tasks = _tasks(config)
    first, second = tasks[0], next(t for t in tasks if t["customer_id"] != tasks[0]["customer_id"])
    run_cli("tasks", "done", str(first["task_id"]), "--outcome", "complaint", "--on", Q1,
            "--next", "2026-04-15", "--config", str(config), cwd=config.parent)
    run_cli("tasks", "done", str(second["task_id"]), "--outcome", "will_come_back", "--on",
            "2026-03-01", "--config", str(config), cwd=config.parent)
    follow = [t for t in _tasks(config) if t["reason"] == "follow_up"]
    assert [(t["customer_id"], t["due"]) for t in follow] == [(first["customer_id"],
                                                               "2026-04-15")]
    rerun = run_cli("run", "--as-of", Q2, "--config", str(config), cwd=config.parent)
    assert rerun.code == 0, rerun.stderr
    now = _tasks(config)
    complaint = [t for t in now if t["reason"] == "complaint"]
    assert [(t["customer_id"], t["priority"]) for t in complaint] == [(first["customer_id"], 1)]
    cfg = load_config(config)
    with Store(cfg.store_path, read_only=True) as store:
        checked = dict(store.con.execute(
            "SELECT customer_id, checked FROM task_outcomes WHERE outcome = 'will_come_back'"
        ).fetchall())
        bought = store.con.execute(
            "SELECT count(*) FROM orders o JOIN customers c USING (customer_key) WHERE "
            "c.customer_id = ? AND o.ordered_at > DATE '2026-03-01' AND o.ordered_at <= ? "
            "AND NOT o.is_refund", [second["customer_id"], Q2]).fetchall()[0][0]
    found = json.loads(checked[second["customer_id"]])
    if bought:
        assert found["code"] == "came_back"
    else:
        assert found["code"] == "not_back"
        assert any(t["reason"] == "promise_unkept" and t["customer_id"] == second["customer_id"]
                   for t in now)


def test_key_accounts_get_planned_visits_until_someone_records_a_contact(b2b, tmp_path) -> None:
    """有目的、有计划拜访 / 定期上门沟通: every key account without a warning or call task gets a
    planned visit for its manager; recording "visited" does it, and the next run asks no more."""
    config = _copy(b2b[0], tmp_path)
    cfg = load_config(config)
    with Store(cfg.store_path, read_only=True) as store:
        snap = store.snapshot()
    keys = set(snap.loc[snap["key_account"].fillna(False).astype(bool), "customer_id"])
    tasks = _tasks(config)
    visits = [t for t in tasks if t["reason"] == "visit"]
    called = {t["customer_id"] for t in tasks if t["reason"] in ("warning", "call")}
    assert visits and {t["customer_id"] for t in visits} == keys - called
    assert all(t["assigned_by"] == "account_manager" for t in visits)
    assert all(t["reason_text"] == "planned visit to a key account: no contact recorded yet"
               for t in visits)
    first = visits[0]
    done = run_cli("tasks", "done", str(first["task_id"]), "--outcome", "visited",
                   "--on", Q1, "--config", str(config), cwd=config.parent)
    assert done.code == 0, done.stderr
    again = run_cli("run", "--as-of", Q1, "--config", str(config), cwd=config.parent)
    assert again.code == 0, again.stderr
    after = _tasks(config)
    assert first["customer_id"] not in {t["customer_id"] for t in after if t["reason"] == "visit"}
    assert len([t for t in after if t["reason"] == "visit"]) == len(visits) - 1

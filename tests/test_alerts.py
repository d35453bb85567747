"""Alerts on a real store (the example restaurant, two monthly runs), delivered to a real local
SMTP server (aiosmtpd) and a real local HTTP receiver: content, formats, retries after a refused
connection, the sent log, and nothing sent twice."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import shutil
from pathlib import Path

import pytest

from tierwise.alerts import alert_events, event_text, send_alerts, send_digests, webhook_payload
from tierwise.alerts.channels import WECOM_MAX_BYTES, post_webhook
from tierwise.alerts.render import Message
from tierwise.config import ALERT_RULES, load_config, parse_config
from tierwise.errors import ConfigError
from tierwise.pipeline import ingest, run
from tierwise.store import Store

from _receivers import Mailbox, Receiver, free_port
from conftest import ROOT

TOML = """
name = "Example restaurant"
language = "zh"
[sources.orders]
path = "visits.csv"
[sources.customers]
path = "members.csv"
[value]
min_repeat_buyers = 20
[[segments.segment]]
name = "Regulars"
rule = "frequency >= 6"
owner = "李店长"
[[segments.segment]]
name = "Others"
default = true
owner = "张总监"
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the September and October runs of the example restaurant."""
    folder = tmp_path_factory.mktemp("restaurant")
    for name in ("members.csv", "visits.csv"):
        shutil.copy(ROOT / "examples" / "restaurant" / name, folder / name)
    (folder / "tierwise.toml").write_text(TOML, encoding="utf-8")
    cfg = load_config(folder / "tierwise.toml")
    ingest(cfg, today=dt.date(2026, 11, 1))
    for as_of in (dt.date(2026, 9, 30), dt.date(2026, 10, 31)):
        run(cfg, as_of=as_of)
    return folder


@pytest.fixture
def make_cfg(built: Path, tmp_path: Path):
    """A config over a fresh copy of the built store, with the [alerts] given."""
    shutil.copy(built / "tierwise.duckdb", tmp_path / "tierwise.duckdb")

    def make(**alerts: object):
        base = load_config(built / "tierwise.toml")
        data = base.model_dump(mode="json")
        for key in ("alerts", "watch"):
            data.pop(key, None)
        data["store"] = {"path": str(tmp_path / "tierwise.duckdb")}
        data["alerts"] = {"watch_tiers": [], "backoff_seconds": 0.01, **alerts}
        return parse_config(data, base_dir=built)

    return make


def _log(cfg) -> list[tuple]:
    with Store(cfg.store_path, read_only=True) as store:
        return store.con.execute("SELECT event_key, channel, status, attempts FROM alert_log "
                                 "ORDER BY log_id").fetchall()


def test_events_are_codes_with_words_in_both_languages(make_cfg) -> None:
    cfg = make_cfg()
    with Store(cfg.store_path, read_only=True) as store:
        events = alert_events(store, cfg.alerts)
        period = store.run_info("latest")["period"]
    assert events and {e.code for e in events} <= set(ALERT_RULES)
    assert len({e.key for e in events}) == len(events)
    assert all(e.period == period == "2026-10" and e.key.endswith(":2026-10") for e in events)
    for e in events:
        zh, en = event_text(e, "zh"), event_text(e, "en")
        assert zh != en and "{" not in zh + en and e.customer_id in en
    tiers = [e for e in events if e.code == "tier"]
    assert tiers and all(e.params["before"] in cfg.alerts.tiers
                         or e.params["after"] in cfg.alerts.tiers for e in tiers)
    assert all("李店长" in e.people or "张总监" in e.people for e in events
               if e.code != "warning")


def test_email_reaches_a_real_smtp_server_once(make_cfg) -> None:
    with Mailbox() as box:
        cfg = make_cfg(smtp_url=box.url, email_to=["team@example.com"],
                       email_from="alerts@example.com")
        first = send_alerts(cfg)
        again = send_alerts(cfg)
    assert [d.status for d in first.deliveries] == ["sent"]
    assert len(box.messages) == 1
    mail = email.message_from_bytes(box.messages[0]["data"], policy=email.policy.default)
    assert box.messages[0]["to"] == ["team@example.com"]
    assert "2026-10" in mail["Subject"] and "提醒" in mail["Subject"]  # language = "zh"
    body = mail.get_content()
    texts = [event_text(e, "zh") for e in first.events]
    assert texts[0] in body
    assert again.deliveries == [] and again.pending == {"email": []}
    log = _log(cfg)
    assert len(log) == len(first.events) and {r[2] for r in log} == {"sent"}


@pytest.mark.parametrize("fmt", ["json", "wecom", "dingtalk", "feishu"])
def test_webhook_bodies_in_each_format(make_cfg, fmt: str) -> None:
    answer = {"json": {"ok": True}, "wecom": {"errcode": 0, "errmsg": "ok"},
              "dingtalk": {"errcode": 0, "errmsg": "ok"},
              "feishu": {"code": 0, "msg": "success"}}[fmt]
    with Receiver(answer=answer) as hook:
        cfg = make_cfg(webhook_url=hook.url, webhook_format=fmt, language="en")
        result = send_alerts(cfg)
        send_alerts(cfg)
    assert len(hook.posts) == 1 and result.deliveries[0].status == "sent"
    body = hook.posts[0]
    first = event_text(result.events[0], "en")
    if fmt == "json":
        assert body["period"] == "2026-10" and body["source"] == "tierwise"
        assert {e["key"] for e in body["events"]} == {e.key for e in result.events}
        assert body["events"][0]["text"] == first and "params" in body["events"][0]
    elif fmt == "wecom":
        assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"content"}
        assert first in body["markdown"]["content"]
    elif fmt == "dingtalk":
        assert body["msgtype"] == "markdown" and "2026-10" in body["markdown"]["title"]
        assert first in body["markdown"]["text"]
    else:
        assert body["msg_type"] == "text" and first in body["content"]["text"]


def test_a_refused_connection_is_retried_until_the_receiver_is_up(make_cfg) -> None:
    port = free_port()  # nothing listens here yet
    started: list[Receiver] = []

    def sleep(seconds: float) -> None:  # the pause before a retry: the receiver comes up
        if not started:
            started.append(Receiver(port).__enter__())

    cfg = make_cfg(webhook_url=f"http://127.0.0.1:{port}/hook", retries=3)
    try:
        result = send_alerts(cfg, sleep=sleep)
    finally:
        for receiver in started:
            receiver.__exit__()
    delivery = result.deliveries[0]
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(started[0].posts) == 1
    assert {(r[2], r[3]) for r in _log(cfg)} == {("sent", 2)}


def test_a_failed_delivery_is_logged_then_sent_once_when_the_receiver_is_back(make_cfg) -> None:
    port = free_port()
    cfg = make_cfg(webhook_url=f"http://127.0.0.1:{port}/hook", retries=2)
    failed = send_alerts(cfg)
    assert (failed.deliveries[0].status, failed.deliveries[0].attempts) == ("failed", 3)
    assert "ConnectError" in failed.deliveries[0].error
    assert {(r[2], r[3]) for r in _log(cfg)} == {("failed", 3)}
    with Receiver(port) as hook:
        later = send_alerts(cfg)
        after = send_alerts(cfg)
    assert later.deliveries[0].status == "sent" and len(hook.posts) == 1
    assert after.deliveries == []
    sent = [r for r in _log(cfg) if r[2] == "sent"]
    assert len(sent) == len(later.events) == len({r[0] for r in sent})


def test_a_robot_error_is_not_retried(make_cfg) -> None:
    with Receiver(answer={"errcode": 93000, "errmsg": "invalid webhook url"}) as hook:
        cfg = make_cfg(webhook_url=hook.url, webhook_format="wecom", retries=3)
        result = send_alerts(cfg)
    assert len(hook.posts) == 1
    assert (result.deliveries[0].status, result.deliveries[0].attempts) == ("failed", 1)
    assert "93000" in result.deliveries[0].error


def test_dry_run_writes_and_sends_nothing(make_cfg) -> None:
    with Receiver() as hook:
        cfg = make_cfg(webhook_url=hook.url)
        result = send_alerts(cfg, dry_run=True)
    assert hook.posts == [] and result.messages["webhook"].lines
    with Store(cfg.store_path, read_only=True) as store:
        assert store.con.execute("SELECT count(*) FROM alert_events").fetchall()[0][0] == 0


def test_no_channel_is_a_clear_error(make_cfg) -> None:
    with pytest.raises(ConfigError, match="no alert channel"):
        send_alerts(make_cfg())


def test_weekly_digest_per_person_once(make_cfg) -> None:
    with Mailbox() as box:
        cfg = make_cfg(smtp_url=box.url, email_to=["team@example.com"],
                       people={"李店长": "li@example.com"})
        alerts = send_alerts(cfg)
        today = dt.date.today() + dt.timedelta(days=1)  # events were raised today
        digest = send_digests(cfg, today=today)
        again = send_digests(cfg, today=today)
    mine = [e for e in alerts.events if "李店长" in e.people]
    assert mine and "张总监" in digest.skipped  # no address for them
    to_li = [m for m in box.messages if m["to"] == ["li@example.com"]]
    assert len(to_li) == 1 and len(box.messages) == 2  # the alerts, then the digest
    body = email.message_from_bytes(to_li[0]["data"], policy=email.policy.default).get_content()
    assert f"本周 {len(mine)} 条提醒" in body and event_text(mine[0], "zh") in body
    assert [d["status"] for d in digest.deliveries] == ["sent"] and again.deliveries == []


def test_wecom_content_stays_under_the_robot_limit() -> None:
    message = Message("s", "h", ["客户层级变化 " * 20] * 100)
    content = webhook_payload(message, "wecom")["markdown"]["content"]
    assert len(content.encode("utf-8")) <= WECOM_MAX_BYTES


def test_alerts_config_is_checked_with_clear_messages() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"alerts": {"smtp_url": "mail.example.com", "email_to": ["nobody"],
                                 "webhook_format": "slack", "rules": ["tier", "weather"],
                                 "likelihood_threshold": 1.5}})
    text = str(info.value)
    for part in ("alerts.smtp_url", "smtp://host:port", "alerts.email_to", "'nobody'",
                 "alerts.webhook_format", "alerts.rules", "weather",
                 "alerts.likelihood_threshold"):
        assert part in text, part
    with pytest.raises(ConfigError, match="email_to is empty"):
        parse_config({"alerts": {"smtp_url": "smtp://127.0.0.1:25"}})


def test_secrets_stay_out_of_a_run_s_stored_config() -> None:
    cfg = parse_config({"alerts": {"smtp_url": "smtp://ann:s3cret@mail.example.com:587",
                                   "email_to": ["a@example.com"],
                                   "webhook_url": "https://robot.example.com/send?key=t0ken"}})
    dumped = str(cfg.model_dump(mode="json"))
    assert "s3cret" not in dumped and "t0ken" not in dumped
    assert cfg.alerts.smtp_url.endswith("s3cret@mail.example.com:587")


def test_post_webhook_without_a_url_fails_cleanly() -> None:
    cfg = parse_config({}).alerts
    assert post_webhook(cfg, Message("s", "h", [])).status == "failed"


def test_the_cli_sends_once_and_shows_the_log(built: Path, tmp_path: Path) -> None:
    from conftest import run_cli

    shutil.copy(built / "tierwise.duckdb", tmp_path / "tierwise.duckdb")
    with Receiver() as hook:
        (tmp_path / "tierwise.toml").write_text(
            f'name = "Example restaurant"\n[alerts]\nwebhook_url = "{hook.url}"\n'
            "watch_tiers = []\n", encoding="utf-8")
        preview = run_cli("alerts", "send", "--dry-run", cwd=tmp_path)
        assert preview.code == 0, preview.stderr
        assert "2026-10" in preview.stdout and hook.posts == []
        sent = run_cli("alerts", "send", "--json", cwd=tmp_path)
        again = run_cli("alerts", "send", cwd=tmp_path)
        log = run_cli("alerts", "log", "--json", "--limit", "1000", cwd=tmp_path)
    assert sent.code == 0 and again.code == 0, sent.stderr + again.stderr
    result = sent.json()
    assert result["deliveries"] == [{"channel": "webhook", "status": "sent", "attempts": 1,
                                     "error": None, "events": len(result["events"])}]
    assert len(hook.posts) == 1 and "nothing new to send" in again.stderr
    rows = log.json()
    assert len(rows) == len(result["events"]) and {r["status"] for r in rows} == {"sent"}
    assert {r["event_key"] for r in rows} == {e["key"] for e in result["events"]}


def test_email_is_retried_after_a_refused_connection() -> None:
    from tierwise.alerts import send_email

    port = free_port()
    boxes: list[Mailbox] = []

    def sleep(seconds: float) -> None:
        if not boxes:
            boxes.append(Mailbox(port).__enter__())

    cfg = parse_config({"alerts": {"smtp_url": f"smtp://127.0.0.1:{port}",
                                   "email_to": ["team@example.com"], "retries": 2}}).alerts
    try:
        delivery = send_email(cfg, Message("主题 subject", "heading", ["一行 line"]), sleep=sleep)
    finally:
        for box in boxes:
            box.__exit__()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    mail = email.message_from_bytes(boxes[0].messages[0]["data"], policy=email.policy.default)
    assert mail["Subject"] == "主题 subject" and "- 一行 line" in mail.get_content()


def test_overdue_tasks_alert_their_assignee_once(make_cfg) -> None:
    from tierwise.tasks.repository import overdue_tasks

    with Receiver() as hook:
        cfg = make_cfg(webhook_url=hook.url, rules=["task_overdue"], language="en")
        today = dt.date(2026, 11, 10)
        first = send_alerts(cfg, today=today)
        later = send_alerts(cfg, today=today + dt.timedelta(days=1))
        without_day = send_alerts(cfg)
    with Store(cfg.store_path, read_only=True) as store:
        overdue = overdue_tasks(store, today)
    assert len(overdue) and len(first.events) == len(overdue)
    assert {e.code for e in first.events} == {"task_overdue"}
    assert {e.people for e in first.events} == {(a,) for a in overdue["assignee"]}
    text = hook.posts[0]["events"][0]["text"]
    assert "overdue" in text and "assigned to" in text
    # a day later only the tasks that fell due on the first day are new; none is sent twice
    fresh = {e.key for e in later.events} - {e.key for e in first.events}
    assert fresh and all(e.params["due"] == today.isoformat() for e in later.events
                         if e.key in fresh)
    assert len(hook.posts) == 2
    assert {e["key"] for e in hook.posts[1]["events"]} == fresh
    assert without_day.events == []  # no calendar day: the rule is not looked at


def test_the_digest_counts_each_person_s_calls_this_week(make_cfg) -> None:
    from tierwise.tasks.repository import open_tasks

    today = dt.date(2026, 11, 2)
    with Mailbox() as box:
        cfg = make_cfg(smtp_url=box.url, email_to=["team@example.com"],
                       people={"李店长": "li@example.com"})
        digest = send_digests(cfg, today=today)
    with Store(cfg.store_path, read_only=True) as store:
        tasks = open_tasks(store, assignee="李店长")
    due = tasks[tasks["due"].dt.date < today + dt.timedelta(days=7)]
    assert len(due) and digest.digests["李店长"][0] == f"本周您有 {len(due)} 个电话/任务要完成："
    body = email.message_from_bytes(box.messages[0]["data"],
                                    policy=email.policy.default).get_content()
    assert f"本周您有 {len(due)} 个" in body and "（已逾期）" in body

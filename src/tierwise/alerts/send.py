"""One alert pass: raise the events of a run, send each channel what it has not carried yet,
log every delivery (``tierwise alerts send``, and each ``tierwise watch`` pass)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config import AlertsConfig, Config
from ..errors import ConfigError
from ..store import Store
from .channels import Delivery, post_webhook, send_email
from .log import record_delivery, record_events, sent_keys
from .render import Message, alert_message
from .rules import AlertEvent, alert_events

Progress = Callable[[str], None]
#: The channel a dry run renders for when none is configured (nothing is sent on it).
PREVIEW = "preview"


def _quiet(_: str) -> None:
    return None


def channels(cfg: AlertsConfig) -> list[str]:
    """The configured channels: ``email`` (smtp_url and email_to), ``webhook`` (webhook_url)."""
    return [name for name, on in (("email", bool(cfg.smtp_url and cfg.email_to)),
                                  ("webhook", bool(cfg.webhook_url))) if on]


def language(cfg: Config, meta: dict[str, Any]) -> str:
    """The language alerts are written in: ``[alerts] language``, else the run's."""
    if cfg.alerts.language != "auto":
        return cfg.alerts.language
    lang = meta.get("language") or (cfg.language if cfg.language != "auto" else "en")
    return lang if lang in ("zh", "en") else "en"


def deliver(cfg: AlertsConfig, channel: str, message: Message, *,
            to: list[str] | None = None, sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """Send ``message`` on ``channel`` with the configured retries."""
    if channel == "email":
        return send_email(cfg, message, to, sleep=sleep)
    return post_webhook(cfg, message, sleep=sleep)


@dataclass
class AlertPass:
    """What one pass did: the run, the events raised, and per channel what was (or would be)
    sent."""

    run_id: int
    period: str
    as_of: str
    language: str
    dry_run: bool
    events: list[AlertEvent]
    new_events: int = 0
    pending: dict[str, list[str]] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    messages: dict[str, Message] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "period": self.period, "as_of": self.as_of,
                "language": self.language, "dry_run": self.dry_run,
                "events": [{**e.to_dict(),
                            "text": self.messages and _text_of(self.messages, e.key)}
                           for e in self.events],
                "new_events": self.new_events,
                "pending": {c: len(k) for c, k in self.pending.items()},
                "deliveries": [{**d.to_dict(), "events": len(self.pending.get(d.channel, []))}
                               for d in self.deliveries]}


def _text_of(messages: dict[str, Message], key: str) -> str | None:
    for message in messages.values():
        for event in message.data.get("events", []):
            if event["key"] == key:
                return event["text"]
    return None


def send_alerts(cfg: Config, *, run: int | str = "latest", today: dt.date | None = None,
                dry_run: bool = False, require_channel: bool = True, progress: Progress = _quiet,
                sleep: Callable[[float], None] = time.sleep) -> AlertPass:
    """Raise the events of ``run`` and send each configured channel those it has not sent.

    Parameters
    ----------
    cfg
        The config (``[alerts]`` and the store).
    run
        A run id or ``"latest"``; its events compare it with the run before it.
    today
        The calendar day: open tasks due before it are overdue (the ``task_overdue`` rule;
        without it, that rule is not looked at).
    dry_run
        Raise and render, write and send nothing.
    require_channel
        Without a configured channel: raise a :class:`ConfigError` (True) or only record the
        events (False, for ``tierwise watch``).
    sleep
        How retries wait (tests pass a shorter one).

    Returns
    -------
    AlertPass
        The events, what each channel had pending and how its delivery ended.
    """
    alerts = cfg.alerts
    wanted = channels(alerts)
    if not wanted and require_channel and not dry_run:
        raise ConfigError("no alert channel is configured",
                          "set smtp_url and email_to, or webhook_url, in [alerts] "
                          "(docs/alerts.md); --dry-run shows what would be sent")
    with Store(cfg.store_path, read_only=dry_run) as store:
        info = store.run_info(run)
        events = alert_events(store, alerts, info["run_id"], today=today)
        lang = language(cfg, info["meta"])
        result = AlertPass(int(info["run_id"]), str(info["period"]), str(info["as_of"]), lang,
                           dry_run, events)
        if not dry_run:
            result.new_events = record_events(store, events)
        for channel in wanted or ([PREVIEW] if dry_run else []):
            done = sent_keys(store, channel, [e.key for e in events])
            result.pending[channel] = [e.key for e in events if e.key not in done]
    progress(f"run {result.run_id} ({result.period}): {len(events)} alert(s), "
             + ", ".join(f"{len(k)} to send by {c}" for c, k in result.pending.items()))
    by_key = {e.key: e for e in events}
    for channel, keys in result.pending.items():
        if not keys:
            continue
        message = alert_message([by_key[k] for k in keys], lang=lang, name=cfg.name,
                                period=result.period, as_of=result.as_of,
                                max_lines=alerts.max_lines)
        result.messages[channel] = message
        if dry_run or channel not in wanted:
            continue
        progress(f"sending {len(keys)} alert(s) by {channel}")
        result.deliveries.append(deliver(alerts, channel, message, sleep=sleep))
    if result.deliveries:
        with Store(cfg.store_path) as store:
            for delivery in result.deliveries:
                record_delivery(store, result.pending[delivery.channel], delivery.channel,
                                delivery.status, delivery.attempts, delivery.error)
    return result


__all__ = ["AlertPass", "channels", "deliver", "language", "send_alerts"]

"""The weekly digest: per person (account manager or segment owner), what concerned them in
the past seven days.

A digest is built from **sections**, each a :class:`DigestSection` in :data:`DIGEST_SECTIONS`:
who it has something for in a week, and the lines it gives each of them. Built in: the person's
alerts of the past seven days (:class:`AlertsSection`) and their calls for the week ahead, the
open tasks due in the next seven days or overdue ("your 6 calls this week",
:class:`CallsSection`). Other parts add theirs with :func:`register_digest_section`.

A person's digest goes by e-mail to their address in ``[alerts] people``; the webhook gets one
message with every person's digest. Each is logged under ``digest:<ISO week>:<person>`` (or
``digest:<ISO week>:*`` for the webhook), so a week's digest goes out once.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..config import Config
from ..config.alerts import WEEKDAYS
from ..i18n import t
from ..store import Store
from .channels import Delivery
from .log import _has_log, events_between, record_delivery, sent_keys
from .render import Message, event_text, who
from .send import PREVIEW, channels, deliver, language


class DigestSection(Protocol):
    """A part of the weekly digest."""

    def people(self, store: Store, start: dt.date, end: dt.date) -> set[str]:
        """Who this section has something for between ``start`` and the day before ``end``."""

    def lines(self, store: Store, person: str, start: dt.date, end: dt.date, lang: str,
              max_lines: int) -> list[str]:
        """The section's lines for ``person`` (empty: nothing for them)."""


class AlertsSection:
    """The person's alerts of the week."""

    def people(self, store: Store, start: dt.date, end: dt.date) -> set[str]:
        if not _has_log(store):
            return set()
        return {r[0] for r in store.con.execute(
            "SELECT DISTINCT unnest(people) FROM alert_events WHERE CAST(raised_at AS DATE) "
            ">= ? AND CAST(raised_at AS DATE) < ?", [start, end]).fetchall() if r[0]}

    def lines(self, store: Store, person: str, start: dt.date, end: dt.date, lang: str,
              max_lines: int) -> list[str]:
        mine = events_between(store, start, end, person)
        if not mine:
            return []
        out = [t("digest.alerts", lang, n=len(mine))]
        out += [f"  {event_text(e, lang)}" for e in mine[:max_lines]]
        if len(mine) > max_lines:
            out.append("  " + t("alert.more", lang, n=len(mine) - max_lines))
        return out


class CallsSection:
    """The person's open tasks due before the end of the coming week (overdue ones first)."""

    @staticmethod
    def _due(store: Store, end: dt.date) -> Any:
        from ..tasks.repository import open_tasks

        tasks = open_tasks(store)
        return tasks[tasks["due"].map(lambda d: d is not None and _day(d) < end + _WEEK)]

    def people(self, store: Store, start: dt.date, end: dt.date) -> set[str]:
        return {str(a) for a in self._due(store, end)["assignee"].dropna()}

    def lines(self, store: Store, person: str, start: dt.date, end: dt.date, lang: str,
              max_lines: int) -> list[str]:
        from ..tasks.words import reason_text

        tasks = self._due(store, end)
        mine = tasks[tasks["assignee"] == person]
        if mine.empty:
            return []
        out = [t("digest.calls", lang, n=len(mine))]
        for task in mine.head(max_lines).itertuples():
            due = _day(task.due)
            late = f" {t('digest.overdue', lang)}" if due < end else ""
            out.append("  " + t("digest.call", lang, due=due.isoformat() + late,
                                who=who({"customer_id": task.customer_id, "name": task.name},
                                        lang),
                                reason=reason_text(task.reason, task.reason_args, lang)))
        if len(mine) > max_lines:
            out.append("  " + t("alert.more", lang, n=len(mine) - max_lines))
        return out


_WEEK = dt.timedelta(days=7)


def _day(value: Any) -> dt.date:
    return value if type(value) is dt.date else dt.date.fromisoformat(str(value)[:10])


#: The sections of every digest, in order.
DIGEST_SECTIONS: list[DigestSection] = [AlertsSection(), CallsSection()]


def register_digest_section(section: DigestSection) -> None:
    """Add a section to every digest (after the ones already there)."""
    if section not in DIGEST_SECTIONS:
        DIGEST_SECTIONS.append(section)


def iso_week(day: dt.date) -> str:
    """``2026-W45``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def digest_due(cfg: Config, today: dt.date) -> bool:
    """True from ``[alerts] digest_weekday`` on, in every week."""
    return today.weekday() >= WEEKDAYS.index(cfg.alerts.digest_weekday)


@dataclass
class DigestPass:
    """The week's digests: per person their lines and address, and how each delivery ended."""

    week: str
    start: str
    end: str
    dry_run: bool
    digests: dict[str, list[str]] = field(default_factory=dict)
    addresses: dict[str, str | None] = field(default_factory=dict)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"week": self.week, "start": self.start, "end": self.end,
                "dry_run": self.dry_run,
                "people": [{"person": p, "email": self.addresses.get(p), "lines": lines}
                           for p, lines in self.digests.items()],
                "deliveries": self.deliveries, "skipped": self.skipped}


def build_digests(store: Store, cfg: Config, today: dt.date, lang: str
                  ) -> tuple[dict[str, list[str]], dt.date, dt.date]:
    """Every person's digest lines for the seven days before ``today``."""
    start, end = today - dt.timedelta(days=7), today
    people: set[str] = set()
    for section in DIGEST_SECTIONS:
        people |= section.people(store, start, end)
    digests = {}
    for person in sorted(people):
        lines = [line for section in DIGEST_SECTIONS
                 for line in section.lines(store, person, start, end, lang,
                                           cfg.alerts.max_lines)]
        if lines:
            digests[person] = lines
    return digests, start, end


def send_digests(cfg: Config, *, today: dt.date, dry_run: bool = False,
                 sleep: Callable[[float], None] = time.sleep) -> DigestPass:
    """Send the week's digest to each person (e-mail) and the webhook, once per ISO week.

    People with something in the digest and no address in ``[alerts] people`` are listed in
    ``skipped`` (their lines still reach the webhook, when one is configured).
    """
    alerts = cfg.alerts
    week = iso_week(today)
    with Store(cfg.store_path, read_only=dry_run) as store:
        runs = store.runs()
        meta = store.run_info("latest")["meta"] if len(runs) else {}
        lang = language(cfg, meta)
        digests, start, end = build_digests(store, cfg, today, lang)
        wanted = channels(alerts)
        done = {c: sent_keys(store, c, [f"digest:{week}:{p}" for p in [*digests, "*"]])
                for c in (wanted or [PREVIEW])}
    result = DigestPass(week, start.isoformat(), end.isoformat(), dry_run, digests,
                        {p: alerts.people.get(p) for p in digests})
    sends: list[tuple[str, str, Message, list[str] | None]] = []
    for person, lines in digests.items():
        key = f"digest:{week}:{person}"
        address = alerts.people.get(person)
        if address is None:
            result.skipped.append(person)
        elif "email" in wanted and key not in done["email"]:
            sends.append(("email", key, _message(person, week, lines, lang), [address]))
    if "webhook" in wanted and digests and f"digest:{week}:*" not in done["webhook"]:
        lines = [f"{person}: {line}" if not line.startswith("  ") else line
                 for person, body in digests.items() for line in body]
        sends.append(("webhook", f"digest:{week}:*",
                      Message(t("digest.combined", lang, week=week),
                              t("digest.combined", lang, week=week), lines), None))
    if dry_run:
        result.deliveries = [{"channel": c, "key": k, "to": to, "status": "dry-run"}
                             for c, k, _, to in sends]
        return result
    outcomes: list[tuple[str, Delivery]] = []
    for channel, key, message, to in sends:
        outcomes.append((key, deliver(alerts, channel, message, to=to, sleep=sleep)))
    if outcomes:
        with Store(cfg.store_path) as store:
            for key, delivery in outcomes:
                record_delivery(store, [key], delivery.channel, delivery.status,
                                delivery.attempts, delivery.error)
    result.deliveries = [{**d.to_dict(), "key": k} for k, d in outcomes]
    return result


def _message(person: str, week: str, lines: list[str], lang: str) -> Message:
    return Message(t("digest.subject", lang, person=person, week=week),
                   t("digest.heading", lang, person=person, week=week), lines)


__all__ = ["DIGEST_SECTIONS", "AlertsSection", "CallsSection", "DigestPass", "DigestSection", "build_digests",
           "digest_due", "iso_week", "register_digest_section", "send_digests"]

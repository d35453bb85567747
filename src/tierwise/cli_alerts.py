"""``tierwise alerts ...`` and ``tierwise watch``: alerts, the sent log and scheduled passes.

Mounted by ``tierwise.cli``. Parse, call the library (:mod:`tierwise.alerts`,
:mod:`tierwise.watch`), present.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer

from .cli_common import (
    DEFAULT_CONFIG,
    ConfigOpt,
    JsonOpt,
    RunOpt,
    err,
    load,
    out,
    parse_date,
    print_json,
    progress,
    reader,
    say,
    state,
    table,
)

alerts_app = typer.Typer(
    help="Alerts on what changed between runs (e-mail, webhooks, WeCom / DingTalk / Feishu "
         "robots), the sent log and the weekly digest per person.",
    no_args_is_help=True)

DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would be sent; send "
                                                          "and write nothing.")]
TodayOpt = Annotated[str | None, typer.Option(
    "--today", help="The day YYYY-MM-DD (default: today's date).", show_default=False)]


def _today(value: str | None) -> dt.date:
    return parse_date(value, "--today") or dt.date.today()


@alerts_app.command("send")
def send(config: ConfigOpt = DEFAULT_CONFIG, run_id: RunOpt = "latest",
         today: TodayOpt = None, dry_run: DryRunOpt = False, as_json: JsonOpt = False) -> None:
    """Send the alerts of a run (against the run before it) and of overdue tasks that no
    channel has sent yet."""
    from .alerts import send_alerts
    cfg = load(config)
    with progress("alerts") as log:
        result = send_alerts(cfg, run=run_id, today=_today(today), dry_run=dry_run,
                             progress=log)
    if as_json:
        print_json(result.to_dict())
        return
    for channel, message in result.messages.items():
        if dry_run:
            out.print(f"[bold]{channel}[/bold]: {message.subject}", highlight=False)
            out.print(message.text(), markup=False, highlight=False)
    for d in result.deliveries:
        line = (f"{d.channel}: {d.status} after {d.attempts} attempt(s), "
                f"{len(result.pending[d.channel])} alert(s)")
        if d.status == "sent":
            say(line)
        else:
            err.print(f"[red]{line}: {d.error}[/red]", highlight=False)
    if not any(result.pending.values()):
        say(f"run {result.run_id} ({result.period}): {len(result.events)} alert(s), "
            "nothing new to send")
    if any(d.status != "sent" for d in result.deliveries):
        raise typer.Exit(1)


@alerts_app.command("log")
def log_(config: ConfigOpt = DEFAULT_CONFIG,
         limit: Annotated[int, typer.Option("--limit", help="Deliveries to show.", min=1)] = 50,
         as_json: JsonOpt = False) -> None:
    """The sent log: each delivery of an alert (event key, channel, status, attempts, time)."""
    from .alerts import alert_log
    with reader(config) as store:
        frame = alert_log(store, limit=limit)
    records: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso",
                                                             force_ascii=False))
    if as_json:
        print_json(records)
        return
    if not records:
        say("nothing sent yet: 'tierwise alerts send' sends the latest run's alerts")
        return
    out.print(table("Sent log (newest first)",
                    ["at", "event", "channel", "status", "attempts", "error"],
                    [[str(r["at"])[:19], r["event_key"], r["channel"], r["status"],
                      r["attempts"], r["error"] or ""] for r in records]))


@alerts_app.command("digest")
def digest(config: ConfigOpt = DEFAULT_CONFIG, today: TodayOpt = None,
           dry_run: DryRunOpt = False, as_json: JsonOpt = False) -> None:
    """Send this week's digest to each person in [alerts] people (once per week)."""
    from .alerts import send_digests
    cfg = load(config)
    result = send_digests(cfg, today=_today(today), dry_run=dry_run)
    if as_json:
        print_json(result.to_dict())
        return
    for person, lines in result.digests.items():
        out.print(f"[bold]{person}[/bold] ({result.addresses.get(person) or 'no address'})",
                  highlight=False)
        out.print("\n".join(lines), markup=False, highlight=False)
    for d in result.deliveries:
        say(f"{d['key']} by {d['channel']}: {d['status']}"
            + (f" ({d['error']})" if d.get("error") else ""))
    if result.skipped:
        say(f"no address for {', '.join(result.skipped)}: add them to [alerts] people")
    if not result.digests:
        say(f"week {result.week}: nothing for anyone")


def watch(
    config: ConfigOpt = DEFAULT_CONFIG,
    once: Annotated[bool, typer.Option("--once", help="One pass, then stop (for cron or a "
                                                      "systemd timer).")] = False,
    interval: Annotated[float | None, typer.Option(
        "--interval", help="Minutes between passes (default: watch.interval_minutes).",
        min=0.01, show_default=False)] = None,
    today: TodayOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Pick up exports dropped into the inbox, ingest them, run the periods that are due and
    send alerts; again every few minutes (stop with Ctrl-C), or once with --once."""
    from .watch import describe, watch as watch_loop, watch_once
    cfg = load(config)
    if once:
        with progress("watch") as log:
            result = watch_once(cfg, today=_today(today), progress=log)
        summary = result.to_dict()
        if as_json:
            print_json(summary)
        else:
            _show_pass(summary)
            _line(describe(summary))
        return
    minutes = interval or cfg.watch.interval_minutes
    say(f"watching {cfg.resolve(cfg.watch.inbox)} every {minutes:g} min (Ctrl-C stops)")
    with progress("watch") as log:
        watch_loop(cfg, interval=minutes * 60, today=lambda: _today(today), progress=log,
                   on_pass=lambda p: (print_json(p.to_dict()) if as_json
                                      else _line(describe(p.to_dict()))),
                   on_error=lambda exc: err.print(f"[red]error:[/red] {exc}", highlight=False))


def _line(text: str) -> None:
    """One unwrapped line on stderr (a log line stays one line, however narrow the output)."""
    if not state["quiet"]:
        err.print(text, markup=False, highlight=False, soft_wrap=True)


def _show_pass(summary: dict[str, Any]) -> None:
    if summary["files"]:
        out.print(table("Inbox", ["file", "kind", "status", "rows in", "accepted", "rejected",
                                  "detail"],
                        [[f["file"], f["kind"], f["status"], f.get("rows_in"),
                          f.get("accepted"), f.get("rejected"),
                          f.get("detail") or f.get("rejects_file") or ""]
                         for f in summary["files"]]))
    for problem in summary["problems"]:
        err.print(f"warning: {problem}", markup=False, highlight=False)


__all__ = ["alerts_app", "watch"]

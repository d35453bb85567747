"""``tierwise tasks ...``: the tasks each run makes, and the outcomes staff record.

Mounted by ``tierwise.cli`` with ``app.add_typer(tasks_app, name="tasks")``; calls
:mod:`tierwise.tasks` and only presents what it returns.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

import typer

from .cli_common import DEFAULT_CONFIG, ConfigOpt, JsonOpt, load, out, parse_date, print_json, say, table

tasks_app = typer.Typer(
    help="Tasks from each run's advice (calls, wake-ups, warnings, anniversaries) and their "
         "outcomes.",
    no_args_is_help=True,
)

LangOpt = Annotated[Literal["zh", "en"] | None, typer.Option(
    "--lang", help="Language of the words (default: the latest run's).")]


def _language(store: Any, lang: str | None) -> str:
    if lang:
        return lang
    try:
        return store.run_info("latest")["meta"].get("language") or "en"
    except Exception:  # no run yet: English
        return "en"


def _records(frame: Any, lang: str) -> list[dict[str, Any]]:
    from .tasks import task_words

    rows = []
    for row in frame.to_dict(orient="records"):
        item = task_words(row, lang)
        for key in ("due", "as_of"):
            item[key] = None if item.get(key) is None else str(item[key])[:10]
        for key in ("created_at", "closed_at"):
            value = item.get(key)
            item[key] = None if value is None or value != value else str(value)
        item["name"] = None if item.get("name") != item.get("name") else item.get("name")
        args = item.get("reason_args")
        item["reason_args"] = json.loads(args) if isinstance(args, str) else args
        item.pop("phone", None)
        item.pop("customer_key", None)
        rows.append(item)
    return rows


@tasks_app.command("list")
def list_command(
    config: ConfigOpt = DEFAULT_CONFIG,
    assignee: Annotated[str | None, typer.Option(
        "--assignee", help="Only the tasks of this person (as the task names them).")] = None,
    status: Annotated[Literal["open", "done", "closed", "all"], typer.Option(
        "--status", help="open (default), done, closed or all.")] = "open",
    customer: Annotated[str | None, typer.Option(
        "--customer", help="Only the tasks of this customer id.")] = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List tasks by due date, then priority."""
    from .store import Store
    from .tasks import list_tasks

    cfg = load(config)
    with Store(cfg.store_path, read_only=True) as store:
        frame = list_tasks(store, assignee=assignee, status=None if status == "all" else status,
                           customer_id=customer)
        words = _language(store, lang)
    rows = _records(frame, words)
    if as_json:
        print_json({"tasks": rows, "total": len(rows)})
        return
    if not rows:
        say("no tasks" + (f" for {assignee}" if assignee else ""))
        return
    out.print(table(f"Tasks ({status})", ["id", "due", "priority", "customer", "name",
                                          "assignee", "reason", "status"],
                    [[r["task_id"], r["due"], r["priority_name"], r["customer_id"], r["name"],
                      r["assignee"], r["reason_text"], r["status_name"]] for r in rows]))


@tasks_app.command("done")
def done_command(
    task_id: Annotated[int, typer.Argument(help="The task's id ('tierwise tasks list').")],
    outcome: Annotated[str, typer.Option(
        "--outcome", help="reached, no_answer, visited, will_come_back, lost_to_competitor, "
                          "moved_away, complaint or other.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    note: Annotated[str | None, typer.Option("--note", help="What was said or agreed.")] = None,
    next_date: Annotated[str | None, typer.Option(
        "--next", help="Next contact date YYYY-MM-DD: a follow-up task due then.")] = None,
    on: Annotated[str | None, typer.Option(
        "--on", help="The day it happened YYYY-MM-DD (default: today).")] = None,
    by: Annotated[str, typer.Option("--by", help="Who records it.", envvar="USER")] = "unknown",
    as_json: JsonOpt = False,
) -> None:
    """Record the outcome of a task; the next 'tierwise run' acts on it."""
    from .store import Store
    from .tasks import record_outcome

    cfg = load(config)
    day = parse_date(on, "--on") or dt.date.today()
    with Store(cfg.store_path) as store:
        result = record_outcome(store, task_id, outcome.strip().replace("-", "_").replace(" ", "_"),
                                on=day, by=by, note=note,
                                next_contact=parse_date(next_date, "--next"))
    if as_json:
        print_json(result)
        return
    say(f"task {task_id} done: {result['outcome']} ({result['customer_id']})"
        + (f"; follow-up task {result['follow_up_task_id']} due {next_date}"
           if result["follow_up_task_id"] else "")
        + "; the next 'tierwise run' acts on it")


__all__ = ["tasks_app"]

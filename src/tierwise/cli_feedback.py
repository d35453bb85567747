"""``tierwise feedback``: satisfaction and feedback by value, as the report's section shows it.

Mounted by ``tierwise.cli`` with ``app.command("feedback")(feedback)``; calls
:func:`tierwise.reports.feedback.feedback_report` and only presents what it returns.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer

from .cli_common import DEFAULT_CONFIG, ConfigOpt, JsonOpt, RunOpt, out, print_json, reader, say
from .cli_common import table as make_table

SECTIONS = ("satisfaction", "trend", "counts", "open", "keywords")


def _cell(value: Any, fmt: str) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if fmt == "percent":
        return f"{value:.1%}"
    if fmt == "number" and isinstance(value, float):
        return f"{value:.2f}"
    return value


def feedback(
    config: ConfigOpt = DEFAULT_CONFIG,
    run_id: RunOpt = "latest",
    lang: Annotated[Literal["zh", "en"] | None, typer.Option(
        "--lang", help="zh | en (default: the run's language).", show_default=False)] = None,
    show: Annotated[list[str] | None, typer.Option(
        "--show", help="Tables to print: satisfaction, trend, counts, open, keywords "
                       "(repeat the option; default: all).", show_default=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Satisfaction and feedback by value: CSAT / NPS and response rate per tier, segment,
    store and account manager with their trend; complaints by category and tier; the open
    complaints of key and major customers; comment keywords."""
    from .errors import ConfigError
    from .reports.feedback import feedback_report, section_data

    unknown = [s for s in show or [] if s not in SECTIONS]
    if unknown:
        raise ConfigError(f"--show {unknown[0]!r} is not a table of this command",
                          f"use one of: {', '.join(SECTIONS)}")
    with reader(config) as store:
        section = feedback_report(store, run=run_id, lang=lang)
        info = store.run_info(run_id)
    tables = [tab for tab in section.tables if not show or tab.key in show]
    if as_json:
        data = section_data(section)
        data["tables"] = [tab for tab in data["tables"] if not show or tab["key"] in show]
        print_json({"run_id": info["run_id"], "period": info["period"], **data})
        return
    say(f"{section.title} (run {info['run_id']}, {info['period']})")
    if section.message:
        say(section.message)
        return
    for fig in section.figures:
        out.print(f"{fig.label}: {_cell(fig.value, fig.format)}")
    for tab in tables:
        columns = list(tab.frame.columns)
        out.print(make_table(tab.title, [tab.header(c) for c in columns],
                             [[_cell(v, tab.format(c)) for c, v in zip(columns, row, strict=True)]
                              for row in tab.frame.itertuples(index=False, name=None)]))


__all__ = ["feedback"]

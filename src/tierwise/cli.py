"""The ``tierwise`` command: parse, call the library, present. No logic lives here."""

from __future__ import annotations

import datetime as dt
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from .cli_alerts import alerts_app
from .cli_alerts import watch as watch_command
from .cli_campaigns import campaign_app
from .cli_contracts import contracts as contracts_command
from .cli_contracts import pnl as pnl_command
from .cli_loyalty import loyalty_app
from .cli_selection import register as register_selection
from .cli_feedback import feedback as feedback_command
from .cli_tasks import tasks_app
from .cli_common import (
    DEFAULT_CONFIG,
    ConfigOpt,
    JsonOpt,
    RunOpt,
    err,
    out,
    run_app,
    state,
)
from .cli_common import fmt as _fmt
from .cli_common import load as _load
from .cli_common import parse_date as _parse_date
from .cli_common import print_json as _print_json
from .cli_common import progress as _progress
from .cli_common import reader as _reader
from .cli_common import say as _say
from .cli_common import table as _table
from .cli_prospects import prospects_app
from .cli_web import serve, users_app
from .errors import ConfigError

app = typer.Typer(
    name="tierwise",
    help="Customer segmentation, tiering and key-account management.\n\n"
         "Start with 'tierwise demo', or 'tierwise init' to write a config for your own data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
export_app = typer.Typer(help="Write results to files.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(campaign_app, name="campaign")
app.add_typer(loyalty_app, name="loyalty")
app.add_typer(tasks_app, name="tasks")
app.add_typer(prospects_app, name="prospects")
app.add_typer(users_app, name="users")
app.command("serve")(serve)
app.add_typer(alerts_app, name="alerts")
app.command("watch")(watch_command)
app.command("feedback")(feedback_command)
app.command("contracts")(contracts_command)
app.command("pnl")(pnl_command)

def _show_version(value: bool) -> None:
    if value:
        from . import __version__

        sys.stdout.write(f"tierwise {__version__}\n")
        raise typer.Exit()


@app.callback()
def _options(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only results and errors.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and stop.",
                                          is_eager=True, callback=_show_version)] = False,
) -> None:
    state["quiet"], state["debug"] = quiet, debug


def command_name() -> str:
    """How to run tierwise again from here: ``tierwise`` when that is on PATH, else the path of
    the running executable (``.venv/bin/tierwise``), else ``python -m tierwise``."""
    import os
    import shlex
    import shutil

    def shown(path: str) -> str:
        relative = os.path.relpath(path)
        text = relative if not relative.startswith("..") else path
        return shlex.quote(text if os.sep in text else f".{os.sep}{text}")

    running = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if running is not None and running.name in ("tierwise", "tierwise.exe"):
        on_path = shutil.which("tierwise")
        if on_path and Path(on_path).resolve() == running.resolve():
            return "tierwise"
        return shown(str(running))
    return f"{shown(sys.executable)} -m tierwise"


TodayOpt = Annotated[str | None, typer.Option(
    "--today", help="The day of ingest YYYY-MM-DD (default: today's date): rows dated after it "
                    "are rejected.", show_default=False)]


def _today(value: str | None) -> dt.date:
    return _parse_date(value, "--today") or dt.date.today()


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the config.")] = DEFAULT_CONFIG,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    from_file: Annotated[Path | None, typer.Option(
        "--from", help="An orders export (CSV, .xlsx, .parquet): write a config for it that "
                       "works with no editing, and print what was found.",
        show_default=False)] = None,
    customers: Annotated[Path | None, typer.Option(
        "--customers", help="With --from: a customers / members export to include.",
        show_default=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a config: a commented example, or one made for your export (--from)."""
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists", "pass --force to overwrite it")
    if customers is not None and from_file is None:
        raise ConfigError("--customers needs --from", "give the orders export with --from FILE")
    if from_file is None:
        text = resources.files("tierwise").joinpath("templates/tierwise.toml").read_text("utf-8")
        path.write_text(text, encoding="utf-8")
        _say(f"wrote {escape(str(path))}; edit \\[sources.orders] to point at your orders file, "
             "then run 'tierwise validate'")
        return
    from .io.detect import detect_source, render_config
    found = [detect_source(from_file, kind="orders")]
    if customers is not None:
        found.append(detect_source(customers, kind="customers"))
    path.write_text(render_config(found[0], found[1] if len(found) > 1 else None,
                                  config_dir=path.resolve().parent), encoding="utf-8")
    if as_json:
        _print_json({"config": str(path), "detected": [d.to_dict() for d in found]})
    else:
        for det in found:
            out.print(_table(f"{det.kind}: {det.path.name}", ["what", "found", "how"],
                             [[f.what, f.found, f.how] for f in det.findings]))
            for warning in det.warnings:
                err.print(f"  warning: {warning}", markup=False, highlight=False)
    missing = [f"{d.kind}: {', '.join(d.missing)}" for d in found if d.missing]
    if missing:
        raise ConfigError(f"wrote {path}, but required columns were not found ({'; '.join(missing)})",
                          f"add them under [sources.<kind>.columns] in {path}")
    _say(f"wrote {escape(str(path))}; next: 'tierwise validate', 'tierwise ingest', 'tierwise run'")


@app.command()
def validate(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False,
             today: TodayOpt = None) -> None:
    """Check the config and every input: exit 2 for problems that stop an ingest; rows that
    ingest would reject are counted and explained, and do not fail."""
    from .validation import validate_config
    cfg = _load(config)
    with _progress("validating") as log:
        found = validate_config(cfg, today=_today(today), progress=log)
    if as_json:
        _print_json({"config": str(config), **found.to_dict()})
    else:
        if found.problems:
            err.print(f"[red]{len(found.problems)} problem(s):[/red]")
            for p in found.problems:
                err.print(f"  - {p}", markup=False, highlight=False)
        if found.row_problems:
            rejected = sum(r["rejected"] for r in found.rows.values())
            rows_in = sum(r["rows_in"] for r in found.rows.values())
            err.print(f"[yellow]{rejected:,} of {rows_in:,} row(s) will be rejected by ingest "
                      "(each with its reason in a rejects file):[/yellow]")
            for p in found.row_problems:
                err.print(f"  - {p}", markup=False, highlight=False)
        for w in found.warnings:
            err.print(f"  warning: {w}", markup=False, highlight=False)
        if found.ok:
            _say(f"[green]{escape(str(config))}: the config is sound"
                 + (" and the inputs look good" if not found.row_problems else "") + "[/green]")
    if not found.ok:
        raise typer.Exit(2)


@app.command()
def ingest(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False,
           today: TodayOpt = None) -> None:
    """Read the configured inputs into the store; rejected rows go to rejects files."""
    from .pipeline import ingest as run_ingest
    cfg = _load(config)
    with _progress("ingesting") as log:
        result = run_ingest(cfg, today=_today(today), progress=log)
    items = result.to_dicts()
    if as_json:
        _print_json(items)
        return
    rows = [[i["kind"], Path(str(i["source"])).name, i["rows_in"], i["accepted"], i["rejected"],
             i.get("inserted"), i.get("replaced"), i["rejects_file"] or "-"] for i in items]
    out.print(_table("Ingest", ["input", "file", "rows in", "accepted", "rejected", "inserted",
                                "replaced", "rejects file"], rows))
    _say(f"store {cfg.store_path}: {result.totals['customers']:,} customers, "
         f"{result.totals['orders']:,} orders")


@app.command()
def run(
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="As-of date YYYY-MM-DD (default: config as_of, else the last order date).",
        show_default=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compute every per-customer result as of a date and keep it as a snapshot."""
    from .pipeline import run as run_pipeline
    cfg = _load(config)
    with _progress("run") as log:
        result = run_pipeline(cfg, as_of=_parse_date(as_of, "--as-of"), progress=log)
    data = {"run_id": result.run_id, "period": result.period, "as_of": result.as_of.isoformat(),
            "engine": result.engine, "customers": result.n_customers, **result.summary}
    for message in result.warnings:
        err.print(f"warning: {message}", markup=False, highlight=False)
    if as_json:
        _print_json(data)
        return
    out.print(_table(f"Run {result.run_id}", ["key", "value"], [[k, v] for k, v in data.items()]))


@app.command()
def backtest(
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="End of the comparison YYYY-MM-DD (default: config as_of, else the last "
                        "order date); the advice is replayed one horizon before it.",
        show_default=False)] = None,
    horizon: Annotated[int | None, typer.Option(
        "--horizon", help="Days between the replay and the as-of date (default: backtest."
                          "horizon_days, else activity.policy_horizon_days).",
        show_default=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Did the advice hold? Replay it one horizon back and compare with what customers did."""
    from .backtest import headline
    from .pipeline import backtest as run_backtest
    cfg = _load(config)
    with _progress("backtest") as log:
        result = run_backtest(cfg, as_of=_parse_date(as_of, "--as-of"), horizon_days=horizon,
                              progress=log)
    if as_json:
        _print_json(result.to_dict())
        return
    _say(headline(result.meta, "zh" if cfg.language == "zh" else "en"))
    if result.meta.get("status") != "ran":
        return
    out.print(_table("Who bought again", ["by", "group", "customers", "bought again", "share",
                                          "expected", "revenue"],
                     [[r.dimension, r.group, f"{r.customers:,}", f"{r.bought_again:,}",
                       f"{100 * r.bought_again_share:.1f} %", _percent(r.expected_share),
                       f"{r.revenue:,.0f}"] for r in result.groups.itertuples()]))
    out.print(_table("Purchase likelihood: predicted vs actual", ["decile", "customers",
                                                                  "predicted", "actual"],
                     [[r.decile, f"{r.customers:,}", f"{100 * r.predicted:.1f} %",
                       f"{100 * r.actual:.1f} %"] for r in result.calibration.itertuples()]))


def _percent(value: float | None) -> str:
    return "-" if value is None or value != value else f"{100 * value:.1f} %"


@app.command()
def runs(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """List the snapshots in the store, each with its summary figures (in --json)."""
    from .runview import RunView

    with _reader(config) as store:
        frame = store.runs()
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        for record in records:
            record["summary"] = RunView(store.con, record["run_id"]).summary()
    if as_json:
        _print_json(records)
        return
    if not records:
        _say("no runs yet: 'tierwise run' makes one")
        return
    out.print(_table("Runs", ["run", "period", "as of", "customers", "engine", "created"],
                     [[int(r["run_id"]), r["period"], str(r["as_of"])[:10], int(r["n_customers"]),
                       r["engine"], str(r["created_at"])[:19]] for r in records]))


@export_app.command("customers")
def export_customers(
    config: ConfigOpt = DEFAULT_CONFIG,
    run_id: RunOpt = "latest",
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv | parquet | xlsx")] = "csv",
    out_path: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Output file (default: customers-<run>.<format>).")] = None,
    with_contacts: Annotated[bool, typer.Option(
        "--with-contacts", help="Write full phone numbers and e-mails (masked by default).")] = False,
) -> None:
    """Write the per-customer result table of a run (the stable export contract)."""
    from .io.export import export_customers as do_export
    with _reader(config) as store:
        written = do_export(store, run=run_id, fmt=fmt, out=out_path, with_contacts=with_contacts)
    _say(f"wrote {written.rows:,} customers to {written.path}")


REPORT_FORMATS = ("xlsx", "html")


@app.command()
def report(
    config: ConfigOpt = DEFAULT_CONFIG,
    run_id: RunOpt = "latest",
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="xlsx (Excel workbook, one sheet per topic) or html (one "
                               "self-contained page with charts, opens offline).")] = "xlsx",
    lang: Annotated[str | None, typer.Option(
        "--lang", help="zh | en (default: the run's language: zh when the data has Chinese "
                       "headers, else en, unless the config sets language).",
        show_default=False)] = None,
    out_path: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Output file (default: report-run<run>.<format>).")] = None,
) -> None:
    """Write a report people read: the pyramid, who to call this week and why, value, activity."""
    from .reports import build_report, render_html, render_xlsx
    if fmt not in REPORT_FORMATS:
        raise ConfigError(f"--format {fmt!r} is not supported",
                          f"use one of: {', '.join(REPORT_FORMATS)}")
    with _reader(config) as store:
        with _progress("building the report"):
            built = build_report(store, run=run_id, lang=lang)
    render = render_xlsx if fmt == "xlsx" else render_html
    path = render(built, out_path or Path(f"report-run{built.run_id}.{fmt}"))
    _say(f"wrote the report of run {built.run_id} ({built.period}, {built.language}) to {path}")


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to write demo data and stores.")]
    = Path("tierwise-demo"),
    members: Annotated[int, typer.Option(help="Restaurant members to generate.", min=50)] = 2000,
    accounts: Annotated[int, typer.Option(help="B2B accounts to generate.", min=20)] = 300,
    as_json: JsonOpt = False,
) -> None:
    """Generate the bundled demo data (a restaurant chain and a B2B supplier), run everything and
    write each business's latest report (report.xlsx and report.html)."""
    from .demo.walkthrough import run_demo
    with _progress("demo") as log:
        result = run_demo(directory, members=members, accounts=accounts, progress=log)
    if as_json:
        _print_json(result)
        return
    for name, item in result["businesses"].items():
        rows = [[i["kind"], Path(i["source"]).name, i["rows_in"], i["accepted"], i["rejected"]]
                for i in item["ingest"]]
        out.print(_table(f"{name}: ingest", ["input", "file", "rows in", "accepted", "rejected"],
                         rows))
        out.print(_table(f"{name}: runs", ["run", "period", "as of", "customers"],
                         [[r["run_id"], r["period"], r["as_of"], r["customers"]]
                          for r in item["runs"]]))
        _say(f"  config: {item['config']}  store: {item['store']}")
        _say(f"  reports: {'  '.join(item['reports'])}")
    _say(f"[green]done in {result['seconds']:.1f} s[/green]; try: {escape(command_name())} runs "
         f"-c {result['businesses']['restaurant']['config']}")


@app.command("validate-model")
def validate_model(
    config: ConfigOpt = DEFAULT_CONFIG,
    holdout_days: Annotated[int | None, typer.Option(
        help="Days held out at the end (default: value.holdout_days, else a third of history).",
        min=1, show_default=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check every purchase model on a calibration/holdout split and say which predicts best."""
    from .history import validate_value_model
    from .store import Store
    cfg = _load(config)
    with _progress("validating the value models") as log, \
            Store(cfg.store_path, read_only=True) as store:
        log("fitting on the calibration period")
        result = validate_value_model(store, cfg, holdout_days=holdout_days)
    if as_json:
        _print_json({**result, "by_frequency": {k: v.to_dict(orient="records")
                                                for k, v in result["by_frequency"].items()}})
        return
    selection = result["selection"]
    rows = [[m["model"], _fmt4(m.get("purchases_mae")), _fmt4(m.get("purchases_rmse")),
             _pct(m.get("purchases_bias")), _fmt(m.get("log_likelihood")),
             _fmt(m.get("fit_seconds")), _fmt(m.get("purchases_predicted")),
             _fmt(m.get("purchases_actual")), m.get("error") or ""]
            for m in selection["metrics"]]
    out.print(_table(f"Holdout of {result['holdout_days']} days ending {result['as_of']}",
                     ["model", "MAE purchases", "RMSE", "total bias", "log-likelihood",
                      "fit s", "predicted", "actual", "error"], rows))
    for name, table in result["by_frequency"].items():
        if name != selection["chosen"]:
            continue  # every model's table is in --json
        out.print(_table(f"{name}: mean purchases per customer in the holdout, by calibration "
                         "frequency", ["frequency", "customers", "actual", "predicted",
                                       "spend actual", "spend predicted"],
                         [[r["frequency_bucket"], int(r["n_customers"]),
                           _fmt(r["purchases_actual_mean"]), _fmt(r["purchases_predicted_mean"]),
                           _fmt(r["spend_actual_mean"]), _fmt(r["spend_predicted_mean"])]
                          for r in table.to_dict(orient="records")]))
    blend = selection.get("blend")
    if blend:
        _say(f"blend {blend['model']} (equal weights): MAE {blend['purchases_mae']:.4f} vs "
             f"{blend['best_single_mae']:.4f} for the best single model: "
             + ("kept" if blend["won"] else "not kept"))
    _say(f"chosen: {selection['reason']}")
    regularity = result["regularity"]
    _say(regularity["message_zh" if cfg.language == "zh" else "message_en"]
         + (f" ({regularity['n_customers']} customers with three or more purchase days)"
            if regularity["k"] is not None and cfg.language != "zh" else ""))


@app.command()
def warnings(
    config: ConfigOpt = DEFAULT_CONFIG,
    run_id: RunOpt = "latest",
    as_json: JsonOpt = False,
) -> None:
    """Early warnings: key and major accounts whose orders fell off or who went silent."""
    from .history import run_warnings
    with _reader(config) as store:
        info, table = run_warnings(store, run_id)
    records = json.loads(table.to_json(orient="records", force_ascii=False)) if len(table) else []
    if as_json:
        _print_json({"run_id": info["run_id"], "period": info["period"], "warnings": records})
        return
    if not records:
        _say(f"run {info['run_id']} ({info['period']}): no warnings")
        return
    lang_key = "message_zh" if info["meta"].get("language") == "zh" else "message_en"
    out.print(_table(f"Warnings, run {info['run_id']} ({info['period']})",
                     ["customer", "name", "manager", "tier", "severity", "what happened"],
                     [[r.get("customer_id"), r.get("name"), r.get("account_manager"), r.get("tier"),
                       r.get("severity"), r.get(lang_key)] for r in records]))


@app.command()
def migration(
    config: ConfigOpt = DEFAULT_CONFIG,
    by: Annotated[str, typer.Option(
        help="tier | activity_state | segment | rfm_segment | lifecycle_stage")] = "tier",
    from_run: Annotated[str | None, typer.Option(
        "--from", help="Earlier run id (default: the run before --to).", show_default=False)] = None,
    to_run: Annotated[str, typer.Option("--to", help="Later run id, or 'latest'.")] = "latest",
    as_json: JsonOpt = False,
) -> None:
    """Who moved up, down, in and out between two snapshots, with their value."""
    from .history import compare_runs
    with _reader(config) as store:
        cmp = compare_runs(store, column=by, from_run=from_run, to_run=to_run)
    summary = json.loads(cmp.summary.to_json(orient="records", force_ascii=False))
    matrix = json.loads(cmp.counts.to_json(orient="split", force_ascii=False))
    if as_json:
        _print_json({"from_run": cmp.from_run["run_id"], "to_run": cmp.to_run["run_id"],
                     "column": by, "summary": summary, "counts": matrix})
        return
    title = (f"{by}: run {cmp.from_run['run_id']} ({cmp.from_run['period']}) -> "
             f"run {cmp.to_run['run_id']} ({cmp.to_run['period']})")
    out.print(_table(title, ["movement", "customers", "value before", "value after", "change"],
                     [[r["movement_en"], int(r["customers"]), _fmt(r["value_prev"]),
                       _fmt(r["value_curr"]), _fmt(r["value_change"])] for r in summary]))
    out.print(_table("from (rows) x to (columns)", ["from", *map(str, matrix["columns"])],
                     [[idx, *row] for idx, row in zip(matrix["index"], matrix["data"],
                                                       strict=True)]))


@app.command()
def pyramid(
    config: ConfigOpt = DEFAULT_CONFIG,
    run_id: RunOpt = "latest",
    as_json: JsonOpt = False,
) -> None:
    """The customer pyramid of a run: customers and value per level, with each level's service policy."""
    import pandas as pd

    from .runview import RunView
    from .tiering.policies import TIER_NAMES

    with _reader(config) as store:
        info = store.run_info(run_id)
        levels = pd.DataFrame(RunView(store.con, info["run_id"]).pyramid())
        policies = store.run_table(info["run_id"], "service_policies")
    lang = (info.get("meta") or {}).get("language") or "en"
    levels.insert(1, "name", [TIER_NAMES[t].get(lang, t) for t in levels["tier"]])
    merged = levels.merge(policies, on="tier", how="left", suffixes=("", "_policy")) \
        if policies is not None else levels
    records = json.loads(merged.to_json(orient="records", force_ascii=False))
    if as_json:
        _print_json({"run_id": info["run_id"], "period": info["period"], "levels": records})
        return
    policy_cols = [c for c in merged.columns if c not in levels.columns]
    out.print(_table(f"Pyramid, run {info['run_id']} ({info['period']})",
                     ["level", "customers", "customer share", "value", "value share", "policy"],
                     [[r["name"], int(r["customers"]), _share(r["customer_share"]),
                       _fmt(r["value"]), _share(r["value_share"]),
                       "; ".join(str(r[c]) for c in policy_cols if r.get(c))] for r in records]))


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


@app.command()
def attendance(
    config: ConfigOpt = DEFAULT_CONFIG,
    run_id: RunOpt = "latest",
    as_json: JsonOpt = False,
) -> None:
    """The attendance sheet (客户考勤表): top customers' visits per 10-day bucket, absences marked."""
    from .lifecycle import attendance_table
    with _reader(config) as store:
        info = store.run_info(run_id)
        sheet = store.run_table(info["run_id"], "attendance")
    if sheet is None or sheet.empty:
        _say(f"run {info['run_id']} has no attendance sheet")
        return
    if as_json:
        _print_json(json.loads(sheet.to_json(orient="records", force_ascii=False)))
        return
    wide = attendance_table(sheet)
    buckets = [c.removesuffix(" visits") for c in wide.columns if str(c).endswith(" visits")]
    cells = [[f"{int(r[b + ' visits'])}{r[b + ' mark'] or ''}" for b in buckets]
             for _, r in wide.iterrows()]
    marker = _load(config).attendance.absence_marker
    out.print(_table(f"Attendance sheet (visits per 10-day bucket; {marker} = absent), "
                     f"run {info['run_id']} ({info['period']})",
                     ["#", "customer", "name", "spend", *[b[5:] for b in buckets]],
                     [[int(r["rank"]), r["customer_id"], r["name"], _fmt(r["total_spend"]), *c]
                      for (_, r), c in zip(wide.iterrows(), cells, strict=True)]))
    _say("full sheet with mean spend per bucket: tierwise attendance --json")


key_app = typer.Typer(help="Key accounts: add, remove and list them by hand (kept with who, when, "
                      "why), and review them (growth, value, channels, satisfaction, managers).",
                      no_args_is_help=True)
app.add_typer(key_app, name="key-accounts")
register_selection(key_app)


def _override(config: Path, customer_id: str, action: str, reason: str, by: str) -> None:
    from .history import override_key_account
    from .store import Store
    cfg = _load(config)
    with Store(cfg.store_path) as store:
        override_key_account(store, customer_id, action, reason, by)
    _say(f"{action}: {customer_id} (by {by}); the next 'tierwise run' honours it")


ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept with the change).")]
ByOpt = Annotated[str, typer.Option("--by", help="Who makes the change.", envvar="USER")]


@key_app.command("add")
def key_add(customer_id: str, reason: ReasonOpt, config: ConfigOpt = DEFAULT_CONFIG,
            by: ByOpt = "unknown") -> None:
    """Make a customer a key account whatever the gates and the cap say."""
    _override(config, customer_id, "add", reason, by)


@key_app.command("remove")
def key_remove(customer_id: str, reason: ReasonOpt, config: ConfigOpt = DEFAULT_CONFIG,
               by: ByOpt = "unknown") -> None:
    """Keep a customer off the key-account list whatever its score."""
    _override(config, customer_id, "remove", reason, by)


@key_app.command("list")
def key_list(config: ConfigOpt = DEFAULT_CONFIG,
             run_id: RunOpt = "latest",
             as_json: JsonOpt = False) -> None:
    """The key accounts of a run with type, score and reason, and the manual changes."""
    with _reader(config) as store:
        snap = store.snapshot(run_id)
        overrides = store.key_account_overrides()
    keys = snap[snap["key_account"].fillna(False).astype(bool)].sort_values("key_account_rank")
    cols = ["customer_id", "name", "account_manager", "key_account_type", "key_account_score",
            "key_account_rank", "key_account_reason", "tier"]
    records = json.loads(keys[cols].to_json(orient="records", force_ascii=False))
    changes = json.loads(overrides.to_json(orient="records", date_format="iso", force_ascii=False))
    if as_json:
        _print_json({"key_accounts": records, "overrides": changes})
        return
    out.print(_table(f"Key accounts ({len(records)})", ["customer", "name", "manager", "type",
                                                        "score", "why"],
                     [[r["customer_id"], r["name"], r["account_manager"], r["key_account_type"],
                       _fmt(r["key_account_score"]), r["key_account_reason"]] for r in records]))
    if changes:
        out.print(_table("Manual changes", ["customer", "action", "by", "at", "reason"],
                         [[c["customer_id"], c["action"], c["by"], str(c["at"])[:19], c["reason"]]
                          for c in changes]))


REVIEW_TABLES = ("key_account_review", "manager_performance", "channel_contribution")
_REVIEW_VIEWS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "key_account_review": ("Key-account review", [
        ("customer", "customer_id"), ("name", "name"), ("manager", "account_manager"),
        ("yoy %", "growth_yoy_pct"), ("vs prev %", "growth_prev_pct"), ("revenue", "revenue"),
        ("margin rate", "margin_rate"), ("days since last", "days_since_last"),
        ("top channel", "top_channel"), ("share", "top_channel_share"),
        ("satisfaction", "satisfaction_latest"), ("trend", "satisfaction_trend"),
        ("tier move", "tier_movement"), ("warnings", "open_warnings")]),
    "manager_performance": ("Account managers", [
        ("manager", "account_manager"), ("accounts", "accounts"), ("key", "key_accounts"),
        ("revenue period", "revenue_period"), ("yoy %", "growth_yoy_pct"),
        ("vs prev %", "growth_prev_pct"), ("up", "moved_up"), ("down", "moved_down"),
        ("stayed", "stayed"), ("warnings", "warnings"),
        ("satisfaction", "satisfaction_mean_12m")]),
    "channel_contribution": ("Channel and agent contribution", [
        ("window", "window"), ("scope", "scope"), ("by", "dimension"), ("value", "value"),
        ("revenue", "revenue"), ("share", "revenue_share"), ("margin", "margin"),
        ("margin share", "margin_share")]),
}


@key_app.command("review")
def key_review(
    config: ConfigOpt = DEFAULT_CONFIG,
    run_id: RunOpt = "latest",
    as_json: JsonOpt = False,
) -> None:
    """Big-account analyses of a run: key-account review, account managers, channels and agents."""
    with _reader(config) as store:
        info = store.run_info(run_id)
        tables = {name: store.run_table(info["run_id"], name) for name in REVIEW_TABLES}
    records = {name: None if t is None else json.loads(t.to_json(orient="records",
                                                                   force_ascii=False))
               for name, t in tables.items()}
    if as_json:
        _print_json({"run_id": info["run_id"], "period": info["period"], **records})
        return
    for name, rows in records.items():
        title, cols = _REVIEW_VIEWS[name]
        if rows is None:
            _say(f"run {info['run_id']}: no {name} table (its inputs were missing, or the run "
                 "is older than this command: run 'tierwise run' again)")
            continue
        out.print(_table(f"{title}, run {info['run_id']} ({info['period']})",
                         [c for c, _ in cols],
                         [[_fmt(r.get(key)) for _, key in cols] for r in rows]))


def _pct(value: Any) -> str:
    return "" if value is None or value != value else f"{value:+.1%}"


def _fmt4(value: Any) -> str:
    return "" if value is None or value != value else f"{value:.4f}"


def main(argv: list[str] | None = None) -> int:
    """Entry point: library errors become one clear line and an exit code (``--debug``: traceback)."""
    return run_app(app, sys.argv[1:] if argv is None else argv)


def entry() -> None:
    """The ``tierwise`` executable and ``python -m tierwise``: :func:`main`, then leave at once.

    The interpreter's own shutdown tears down modules and then the C++ libraries' static
    objects while their native worker threads (Arrow's thread pools, which started for a CSV
    read or a conversion, OpenMP and BLAS pools) may still be alive; a worker that wants the
    GIL after shutdown began is ended by ``pthread_exit``, which unwinds through C++ code that
    may not unwind, and the process dies with SIGABRT ("terminate called without an active
    exception") after its output is complete. So the exit handlers run while everything is
    still alive, the output is flushed, and the process ends with ``os._exit``.
    """
    import atexit
    import os

    code = main()
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()

"""``tierwise prospects ...``: prospects graded apart, and how each grade converts.

Mounted by ``tierwise.cli`` with ``app.add_typer(prospects_app, name="prospects")``; calls
:func:`tierwise.history.run_prospects` and only presents what it returns.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import typer

from .cli_common import DEFAULT_CONFIG, ConfigOpt, JsonOpt, RunOpt, out, print_json, reader, say, table

prospects_app = typer.Typer(
    help="Prospects (customers without purchases, leads) graded A-D by their own scorecard, "
         "and the leads that converted.",
    invoke_without_command=True,
)

LangOpt = Annotated[Literal["zh", "en"] | None, typer.Option(
    "--lang", help="Language of the words (default: the run's).")]


def _records(frame: Any) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", force_ascii=False)) if len(frame) else []


def _view(config: Any, run_id: str, grade: str | None, lang: str | None) -> tuple[Any, str]:
    from .history import run_prospects

    with reader(config) as store:
        view = run_prospects(store, run_id, grade=grade, lang=lang)
    return view, lang or (view.info.get("meta") or {}).get("language") or "en"


@prospects_app.callback()
def prospects(
    ctx: typer.Context,
    config: ConfigOpt = DEFAULT_CONFIG,
    run_id: RunOpt = "latest",
    grade: Annotated[Literal["A", "B", "C", "D"] | None, typer.Option(
        "--grade", help="Only the prospects of this grade.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Show at most this many rows.")] = 50,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The open prospects of a run, best score first: grade, score and its points per criterion."""
    if ctx.invoked_subcommand is not None:
        return
    from .i18n import name_of, t

    view, words = _view(config, run_id, grade, lang)
    rows = _records(view.prospects)
    if as_json:
        print_json({"run_id": view.info["run_id"], "period": view.info["period"],
                    "grade": grade, "prospects": rows, "total": len(rows), **view.meta})
        return
    if not rows:
        say(t("prospects.none_of_grade", words, grade=grade) if view.meta and grade
            else t("prospects.none", words))
        return
    heads = ["customer_id", "name", "origin", "grade", "score", "explained", "account_manager"]
    out.print(table(
        f"{t('prospects.open', words)} ({view.info['period']})",
        [t(f"col.{h}", words) for h in heads],
        [[r["customer_id"], r.get("name"), name_of("prospect_origin", r["origin"], words),
          r.get("grade"), r.get("score"), r.get("explained"), r.get("account_manager")]
         for r in rows[:limit]]))
    cuts = view.meta.get("grade_cuts") or []
    if len(cuts) == 3:
        say(t("prospects.cuts", words, a=cuts[0], b=cuts[1], c=cuts[2]))


@prospects_app.command("conversion")
def conversion(
    config: ConfigOpt = DEFAULT_CONFIG,
    run_id: RunOpt = "latest",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Conversion rate per grade (does grade A convert more than D?) and the converted leads."""
    from .i18n import t

    view, words = _view(config, run_id, None, lang)
    check, won = _records(view.check), _records(view.conversions)
    if as_json:
        print_json({"run_id": view.info["run_id"], "period": view.info["period"],
                    "check": check, "conversions": won})
        return
    if not check:
        say(t("prospects.none", words))
        return
    heads = ["grade", "leads", "converted", "conversion_rate", "median_days_to_convert",
             "mean_first_revenue"]
    out.print(table(f"{t('prospects.check', words)} ({view.info['period']})",
                    [t(f"col.{h}", words) for h in heads],
                    [[r["grade"], r["leads"], r["converted"], _pct(r["conversion_rate"]),
                      _int(r["median_days_to_convert"]), r["mean_first_revenue"]]
                     for r in check]))
    heads = ["customer_id", "name", "grade", "captured_at", "first_order", "days_to_convert",
             "first_revenue"]
    out.print(table(t("prospects.conversions", words), [t(f"col.{h}", words) for h in heads],
                    [[_int(r[h]) if h == "days_to_convert" else r[h] for h in heads]
                     for r in won[-20:]]))


def _int(value: Any) -> int | None:
    return None if value is None else round(value)


def _pct(value: Any) -> str:
    return "" if value is None else f"{100 * value:.1f} %"

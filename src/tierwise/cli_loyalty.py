"""``tierwise loyalty ...``: loyalty levels and rewards. Parse, call :mod:`tierwise.loyalty`,
present.

Mounted by ``tierwise.cli`` with ``app.add_typer(loyalty_app, name="loyalty")``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import typer

from .cli_common import DEFAULT_CONFIG, ConfigOpt, JsonOpt, RunOpt, load, out, print_json, say, \
    table
from .errors import ConfigError
from .i18n import t

loyalty_app = typer.Typer(
    help="Loyalty levels (customers per level, the spend missing to the next one) and rewards "
         "issued by rule with their effect against a control group.",
    invoke_without_command=True,
)

LangOpt = Annotated[Literal["zh", "en"] | None, typer.Option(
    "--lang", help="Language of the words (default: the run's).")]


def _run_ref(value: str) -> int | str:
    if value == "latest":
        return value
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"--run {value!r} is neither a run id nor 'latest'",
                          "list the runs with 'tierwise runs'") from None


def _money(value: Any) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


@loyalty_app.callback()
def levels(
    ctx: typer.Context,
    config: ConfigOpt = DEFAULT_CONFIG,
    run_id: RunOpt = "latest",
    customer: Annotated[str | None, typer.Option(
        "--customer", help="One customer's level, the next one and the spend missing.")] = None,
    top: Annotated[int, typer.Option("--top", min=1, max=1000,
                                     help="Customers closest to the next level to list.")] = 20,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Customers per loyalty level (in grace, near the next level) and those closest to the
    next level, as of a run; with --customer, one customer's level in sentences."""
    if ctx.invoked_subcommand is not None:
        return
    from .loyalty import run_loyalty
    from .loyalty.view import levels_view
    from .store import Store

    cfg = load(config)
    with Store(cfg.store_path, read_only=True) as store:
        info = store.run_info(_run_ref(run_id))
        loyalty = run_loyalty(info["meta"])
        if not loyalty.level:
            raise ConfigError(f"run {info['run_id']} was made without [loyalty] levels",
                              "add [[loyalty.level]] to the config (see docs/loyalty.md) and "
                              "run 'tierwise run' again")
        words = lang or info["meta"].get("language") or "en"
        data = levels_view(store.con, int(info["run_id"]), loyalty, words, near=top,
                           customer_id=customer)
    data["run"] = {"run_id": int(info["run_id"]), "as_of": str(info["as_of"])[:10]}
    if customer is not None and data["customer"] is None:
        raise ConfigError(f"customer {customer!r} has no loyalty level in run "
                          f"{info['run_id']} (no purchase, or not in the store)",
                          "check the id with 'tierwise show'")
    if as_json:
        print_json(data)
        return
    if customer is not None:
        row = data["customer"]
        out.print(f"{customer}: " + "; ".join(row["sentences"]))
        return
    out.print(table(f"loyalty levels, run {info['run_id']} ({data['run']['as_of']})",
                    ["level", "threshold", "customers", "spend this window", "in grace",
                     "near next"],
                    [[r["level_name"], _money(r["min_spend"]), r["customers"],
                      _money(r["spend_window"]), r["in_grace"], r["near_next"]]
                     for r in data["levels"]]))
    out.print(table("closest to the next level", ["customer", "name", "level", "spend missing",
                                                  "sentence"],
                    [[r["customer_id"], r["name"], r["level_name"],
                      _money(r["loyalty_distance"]), r["sentence"]] for r in data["near"]]))


@loyalty_app.command("rewards")
def rewards(
    config: ConfigOpt = DEFAULT_CONFIG,
    run_id: RunOpt = "latest",
    no_issue: Annotated[bool, typer.Option(
        "--no-issue", help="Only show; do not keep new months' rewards first.")] = False,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Keep each reward rule's qualifying customers per month as a reward campaign (months
    already kept stay as they are), then show the rewards issued, used, their cost and the
    return rate of recipients against the held-out control group."""
    from .loyalty import issue_rewards
    from .loyalty.view import rewards_view
    from .store import Store

    cfg = load(config)
    if not cfg.loyalty.reward:
        raise ConfigError(f"{cfg.config_file}: no [[loyalty.reward]] rule",
                          "add one (see docs/loyalty.md), e.g. kind = 'single_order', "
                          "min_amount = 2000, cost = 100")
    with Store(cfg.store_path, read_only=no_issue) as store:
        issued = None if no_issue else issue_rewards(store, cfg, run=_run_ref(run_id))
        words = lang or store.run_info(_run_ref(run_id))["meta"].get("language") or "en"
        items = rewards_view(store, cfg.loyalty, words, cfg.campaigns)
    data = {"issued": None if issued is None else issued.to_dict(), "rewards": items}
    if as_json:
        print_json(data)
        return
    if issued is not None:
        say(f"kept {len(issued.created)} new reward month(s); {issued.kept} already kept")
    out.print(table("rewards", ["reward", "months", "issued", "used", "cost", "recipients back",
                                "control back"],
                    [[r["reward_name"], " ".join(r["months"]) or "-", r["issued"], r["used"],
                      _money(r["cost"]), _pct(r["target_rate"]), _pct(r["control_rate"])]
                     for r in items]))
    for r in items:
        out.print(f"{r['reward_name']}: {r['verdict']}")
        if r["pending"]:
            say(f"{r['reward_name']}: " + t("loyalty.pending", words,
                                             months=", ".join(r["pending"])))

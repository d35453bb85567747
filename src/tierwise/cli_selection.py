"""``tierwise key-accounts learn | proposal | proposals | accept | reject``: the selection matrix
that learns from the best.

Registered on the ``key-accounts`` sub-app by ``tierwise.cli``; calls
:mod:`tierwise.tiering.selection_proposals` and only presents what it returns, in the language of
the latest run (or ``--lang``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.markup import escape

from .cli_common import DEFAULT_CONFIG, ConfigOpt, JsonOpt, fmt, load, out, print_json, say, table
from .errors import ConfigError

LangOpt = Annotated[Literal["zh", "en"] | None, typer.Option(
    "--lang", help="Language of the words (default: the latest run's).")]
ByOpt = Annotated[str, typer.Option("--by", help="Who does it (kept with the proposal).",
                                    envvar="USER")]
NoteOpt = Annotated[str, typer.Option("--note", help="Why (kept with the decision).")]
IdArg = Annotated[str, typer.Argument(help="Proposal id (see 'key-accounts proposals').")]


def _language(store: Any, lang: str | None) -> str:
    if lang:
        return lang
    try:
        return store.run_info("latest")["meta"].get("language") or "en"
    except Exception:  # no run yet: English
        return "en"


def _jsonable(proposal: dict[str, Any]) -> dict[str, Any]:
    from .tiering.selection_proposals import accepted_toml

    return json.loads(json.dumps({**proposal, "toml": accepted_toml(proposal)}, default=str))


def _num(value: Any, pattern: str = "{:.3f}") -> str:
    return "" if value is None or value != value else pattern.format(value)


def _show(proposal: dict[str, Any], lang: str, config_hash: str | None = None) -> None:
    """Print a proposal: figures, evidence, comparison, growers, look-alikes, TOML."""
    from .i18n import name_of, t
    from .tiering.selection_proposals import accepted_toml, proposal_frames

    body = proposal["body"]
    frames = proposal_frames(proposal)
    status = t(f"val.status_{proposal['status']}", lang)
    say(f"{t('fig.proposal', lang)} {proposal['proposal_id']}: {status}"
        + (f" ({proposal['decided_by']}, {str(proposal['decided_at'])[:16]})"
           if proposal.get("decided_by") else "")
        + f"; {t('fig.periods_learned', lang)}: {', '.join(body['periods'])}; "
          f"{t('fig.accounts_learned', lang)}: {body['accounts']}; "
          f"{t('fig.growers', lang)}: {body['growers']}; "
          f"{t('fig.config_hash', lang)}: {proposal['config_hash']}")
    if config_hash and config_hash != proposal["config_hash"]:
        say("[yellow]" + t("selection.config_changed", lang, then=proposal["config_hash"],
                           now=config_hash) + "[/yellow]")
    if "no_signal" in (body.get("notes") or []):
        say(t("selection.no_signal", lang))
    ev = frames["evidence"]
    cols = ["criterion_name", "configured_weight", "proposed_weight",
            *(["accepted_weight"] if "accepted_weight" in ev else []), "rho", "p_value",
            "mean_growers", "mean_rest", "n"]
    out.print(table(t("selection.evidence", lang),
                    [t(f"col.{c}", lang) for c in cols],
                    [[r["criterion_name"] + (" *" if r["candidate"] else ""),
                      *[_num(r[c], "{:.1%}") for c in cols[1:-5]], _num(r["rho"]),
                      _num(r["p_value"], "{:.4f}"), _num(r["mean_growers"], "{:.1f}"),
                      _num(r["mean_rest"], "{:.1f}"), int(r["n"])]
                     for r in ev.to_dict("records")]))
    say(f"* {t('col.candidate', lang)}")
    cmp = frames["comparison"]
    out.print(table(t("selection.comparison", lang),
                    [t(f"col.{c}", lang) for c in cmp.columns],
                    [[t(f"selection.measure_{r['measure']}", lang), _num(r["configured"]),
                      _num(r["proposed"]), _num(r["proposed_out_of_sample"])]
                     for r in cmp.to_dict("records")]))
    look = frames["lookalikes"]
    if len(look):
        out.print(table(t("selection.lookalikes", lang),
                        [t("col.customer_id", lang), t("col.name", lang),
                         t("col.account_manager", lang), t("col.tier", lang),
                         t("col.proposed_score", lang), t("col.current_score", lang),
                         t("col.key_account", lang)],
                        [[r.get("customer_id"), r.get("name"), r.get("account_manager"),
                          name_of("tier", r.get("tier"), lang), fmt(r.get("proposed_score")),
                          fmt(r.get("key_account_score")),
                          t("val.yes" if r.get("key_account") else "val.no", lang)]
                         for r in look.to_dict("records")]))
    toml = accepted_toml(proposal)
    if toml:
        say(t("selection.toml", lang) + ":")
        out.print(toml, markup=False, highlight=False)


def learn(
    config: ConfigOpt = DEFAULT_CONFIG,
    periods: Annotated[int, typer.Option(help="Snapshots (periods) to learn growth from.",
                                         min=1)] = 4,
    top_share: Annotated[float, typer.Option(
        "--top-share", help="Share of the accounts that count as growers.", min=0.01,
        max=0.9)] = 0.2,
    candidate: Annotated[list[str] | None, typer.Option(
        "--candidate", help="A customer column to try as a new criterion (repeatable; default: "
                            "every numeric column of the customers file the matrix does not "
                            "use).", show_default=False)] = None,
    lookalikes: Annotated[int, typer.Option(help="Current accounts to list.", min=0)] = 10,
    by: ByOpt = "unknown",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Learn selection-matrix weights from the accounts that grew most, and keep the proposal."""
    from .i18n import t
    from .store import Store
    from .tiering.selection_proposals import learn_proposal

    cfg = load(config)
    with Store(cfg.store_path) as store:
        proposal = learn_proposal(store, cfg, by=by, periods=periods, top_share=top_share,
                                  candidates=candidate or None, lookalikes=lookalikes)
        lang = _language(store, lang)
    if as_json:
        print_json(_jsonable(proposal))
        return
    _show(proposal, lang)
    say(escape(t("selection.cli_next", lang, id=proposal["proposal_id"])))


def show(
    proposal_id: Annotated[str, typer.Argument(help="Proposal id, or 'latest'.")] = "latest",
    config: ConfigOpt = DEFAULT_CONFIG,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One selection-matrix proposal: evidence, comparison, look-alike accounts, accepted TOML."""
    from .store import Store
    from .tiering.selection_proposals import get_proposal

    cfg = load(config)
    with Store(cfg.store_path, read_only=True) as store:
        proposal = get_proposal(store, proposal_id)
        lang = _language(store, lang)
    if as_json:
        print_json(_jsonable(proposal))
        return
    _show(proposal, lang, cfg.config_hash())


def proposals(
    config: ConfigOpt = DEFAULT_CONFIG,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every selection-matrix proposal, newest first, with who decided what."""
    from .i18n import t
    from .store import Store
    from .tiering.selection_proposals import list_proposals

    with Store(load(config).store_path, read_only=True) as store:
        frame = list_proposals(store)
        lang = _language(store, lang)
    records = json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))
    if as_json:
        print_json(records)
        return
    out.print(table(t("selection.title", lang),
                    [t("fig.proposal", lang), t("fig.proposal_status", lang), t("col.at", lang),
                     t("col.by", lang), t("fig.config_hash", lang), t("col.runs", lang),
                     t("fig.decided", lang)],
                    [[r["proposal_id"], t(f"val.status_{r['status']}", lang),
                      str(r["created_at"])[:16], r["created_by"], r["config_hash"],
                      f"{r['from_run']}-{r['to_run']}",
                      f"{r['decided_by'] or ''} {str(r['decided_at'] or '')[:16]}".strip()]
                     for r in records]))


def _edits(weights: list[str] | None) -> dict[str, float]:
    edits: dict[str, float] = {}
    for item in weights or []:
        name, sep, value = item.partition("=")
        try:
            edits[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise ConfigError(f"--weight {item!r} is not name=value",
                              "write e.g. --weight willingness_to_partner=0.3")
    return edits


def accept(
    proposal_id: IdArg,
    weight: Annotated[list[str] | None, typer.Option(
        "--weight", help="Edit a weight: name=value (repeatable; 0 leaves the criterion out); "
                         "the weights are rescaled to sum to 1.", show_default=False)] = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    by: ByOpt = "unknown",
    note: NoteOpt = "",
    toml_out: Annotated[Path | None, typer.Option(
        "--toml", help="Also write the [[key_accounts.criteria]] TOML to this file (your config "
                       "is not changed).", show_default=False)] = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept a proposal (optionally with edited weights): prints the TOML to paste."""
    from .i18n import t
    from .store import Store
    from .tiering.selection_proposals import accepted_toml, decide_proposal

    cfg = load(config)
    with Store(cfg.store_path) as store:
        proposal = decide_proposal(store, proposal_id, "accepted", by=by, edits=_edits(weight),
                                   note=note)
        lang = _language(store, lang)
    toml = accepted_toml(proposal)
    if toml_out is not None:
        toml_out.write_text(toml, encoding="utf-8")
    if as_json:
        print_json(_jsonable(proposal))
        return
    _show(proposal, lang)
    say(escape(t("selection.cli_paste", lang, config=config)
               + (t("selection.cli_written", lang, path=toml_out) if toml_out else "")))


def reject(
    proposal_id: IdArg,
    config: ConfigOpt = DEFAULT_CONFIG,
    by: ByOpt = "unknown",
    note: NoteOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reject a proposal (kept, with who and why)."""
    from .i18n import t
    from .store import Store
    from .tiering.selection_proposals import decide_proposal

    with Store(load(config).store_path) as store:
        proposal = decide_proposal(store, proposal_id, "rejected", by=by, note=note)
        lang = _language(store, lang)
    if as_json:
        print_json(_jsonable(proposal))
        return
    say(escape(t("selection.cli_rejected", lang, id=proposal["proposal_id"], by=by)))


def register(key_app: typer.Typer) -> None:
    """Add the commands to the ``key-accounts`` sub-app."""
    key_app.command("learn")(learn)
    key_app.command("proposal")(show)
    key_app.command("proposals")(proposals)
    key_app.command("accept")(accept)
    key_app.command("reject")(reject)


__all__ = ["register"]

"""``tierwise campaign ...``: win-back campaigns. Parse, call :mod:`tierwise.campaigns`, present.

Mounted by ``tierwise.cli`` with ``app.add_typer(campaign_app, name="campaign")``. The shared
helpers (console, options, JSON printing, config loading) come from :mod:`tierwise.cli_common`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from .cli_common import DEFAULT_CONFIG, ConfigOpt, JsonOpt, load, out, parse_date, print_json, say, table
from .errors import ConfigError

campaign_app = typer.Typer(
    help="Win-back campaigns: audience with a control group, target list, results, evaluation.",
    no_args_is_help=True,
)



def _date(value: str | None, option: str) -> dt.date | None:
    return parse_date(value, option)


def _split(values: list[str] | None) -> list[str] | None:
    """``--state resting,dormant --state shock`` -> ``['resting', 'dormant', 'shock']``."""
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _states(values: list[str] | None) -> list[str] | None:
    """``--exclude-state none`` -> ``[]`` (contact every state); otherwise as :func:`_split`."""
    states = _split(values)
    return [] if states == ["none"] else states


def _run_ref(value: str) -> int | str:
    if value == "latest":
        return value
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"--run {value!r} is neither a run id nor 'latest'",
                          "list the runs with 'tierwise runs'") from None


def _rows(data: dict[str, Any]) -> list[list[Any]]:
    return [[k, v] for k, v in data.items() if not isinstance(v, dict | list)]


@campaign_app.command("create")
def create(
    config: ConfigOpt = DEFAULT_CONFIG,
    name: Annotated[str | None, typer.Option(help="A label (default: win-back <start>).")] = None,
    run_id: Annotated[str, typer.Option("--run", help="Snapshot: a run id, or 'latest'.")]
    = "latest",
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Snapshot: the newest run on this as-of date (YYYY-MM-DD).")] = None,
    min_days: Annotated[int | None, typer.Option(
        "--min-days-since-last", help="No purchase for at least N days.")] = None,
    max_days: Annotated[int | None, typer.Option(
        "--max-days-since-last", help="Last purchase at most N days ago.")] = None,
    state: Annotated[list[str] | None, typer.Option(
        "--state", help="Activity states, comma-separated (resting,dormant,shock).")] = None,
    tier: Annotated[list[str] | None, typer.Option(
        "--tier", help="Pyramid tiers, comma-separated.")] = None,
    segment: Annotated[list[str] | None, typer.Option(
        "--segment", help="Segments, comma-separated.")] = None,
    where: Annotated[str | None, typer.Option(
        "--where", help="A rule in the segment rule language, e.g. 'city = \"上海\"'.")] = None,
    face_value: Annotated[float | None, typer.Option(
        "--face-value", help="Coupon face value (campaigns.face_value).")] = None,
    message_cost: Annotated[float | None, typer.Option(
        "--message-cost", help="Cost of one message (campaigns.message_unit_cost).")] = None,
    margin: Annotated[float | None, typer.Option(
        "--margin", help="Gross margin as a share, 0.6 = 60 % (campaigns.gross_margin).")]
    = None,
    control_share: Annotated[float | None, typer.Option(
        "--control-share", help="Share held out as control (campaigns.control_share).")]
    = None,
    seed: Annotated[int | None, typer.Option(
        help="Seed of the control draw (default: campaigns.seed, else the campaign id).")]
    = None,
    cooldown_days: Annotated[int | None, typer.Option(
        "--cooldown-days", help="Skip customers contacted by another campaign this recently.")]
    = None,
    exclude_state: Annotated[list[str] | None, typer.Option(
        "--exclude-state", help="States never contacted, or 'none' (default: campaigns."
                                "exclude_states).")]
    = None,
    start: Annotated[str | None, typer.Option(
        help="Window start (default: the day after the snapshot's as-of date).")] = None,
    end: Annotated[str | None, typer.Option(
        help="Window end (default: start + campaigns.window_days - 1).")] = None,
    message: Annotated[str | None, typer.Option(
        "--message", help="Message text merged per target in the export, e.g. "
                          "'{name}您好，{favourite_product|招牌菜}等您回来', or 'playbook' for each "
                          "segment's playbook message (campaigns.message).")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """Draw a campaign's audience from a snapshot, hold out a control group, store it."""
    from .campaigns import AudienceFilter, campaign_settings, create_campaign
    from .store import Store
    cfg = load(config)
    filt = AudienceFilter(min_days_since_last=min_days, max_days_since_last=max_days,
                          states=_split(state), tiers=_split(tier), segments=_split(segment),
                          where=where)
    if filt.is_empty():
        raise ConfigError("no audience filter given", "pass e.g. --min-days-since-last 40 or "
                          "--state resting,dormant,shock")
    settings = campaign_settings(
        cfg.campaigns, face_value=face_value, message_unit_cost=message_cost,
        gross_margin=margin, control_share=control_share, seed=seed,
        cooldown_days=cooldown_days, exclude_states=_states(exclude_state), message=message)
    with Store(cfg.store_path) as store:
        campaign = create_campaign(store, filt, settings, name=name, run=_run_ref(run_id),
                                   as_of=_date(as_of, "--as-of"), start=_date(start, "--start"),
                                   end=_date(end, "--end"), segments=cfg.segments)
    data = campaign.to_dict()
    if as_json:
        print_json(data)
        return
    out.print(table(f"Campaign {campaign.campaign_id}", ["key", "value"],
                                 _rows(data) + [["filter", campaign.meta["filter"]]]))
    for reason, count in campaign.meta["exclusions"].items():
        say(f"excluded ({reason}): {count:,}")
    for warning in campaign.meta["warnings"]:
        say(f"[yellow]warning:[/yellow] {warning}")
    say(f"next: tierwise campaign export {campaign.campaign_id}")


@campaign_app.command("follow-up")
def follow_up_step(
    campaign_id: Annotated[int, typer.Argument(help="The campaign id (any of its steps).")],
    config: ConfigOpt = DEFAULT_CONFIG,
    after_days: Annotated[int | None, typer.Option(
        "--after-days", help="Days after the previous step's start (default: its window "
                             "length, i.e. the day after its window ends).")] = None,
    window_days: Annotated[int | None, typer.Option(
        "--window-days", help="The step's window length (default: the previous step's).")]
    = None,
    name: Annotated[str | None, typer.Option(help="A label (default: <campaign> · step N).")]
    = None,
    face_value: Annotated[float | None, typer.Option(
        "--face-value", help="Coupon face value (default: the previous step's).")] = None,
    message_cost: Annotated[float | None, typer.Option(
        "--message-cost", help="Cost of one message (default: the previous step's).")] = None,
    control_share: Annotated[float | None, typer.Option(
        "--control-share", help="Share held out as this step's control group (default: the "
                                "previous step's).")] = None,
    seed: Annotated[int | None, typer.Option(
        help="Seed of this step's control draw (default: the step's campaign id).")] = None,
    responders: Annotated[bool, typer.Option(
        "--responders", help="Follow up the targets who did buy in the previous step's window "
                             "(default: those who did not).")] = False,
    min_order: Annotated[float | None, typer.Option(
        "--min-order", help="With --responders: only those with one order of at least this "
                            "amount (e.g. another coupon for a meal over 2000).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a follow-up step for the targets who did not buy in the previous step's window (or,
    with --responders, for those who did)."""
    from .campaigns import add_follow_up
    from .store import Store
    cfg = load(config)
    with Store(cfg.store_path) as store:
        step = add_follow_up(store, campaign_id, cfg.campaigns, after_days=after_days,
                             window_days=window_days, name=name, face_value=face_value,
                             message_unit_cost=message_cost, control_share=control_share,
                             seed=seed, for_responders=responders, min_order=min_order)
    data = step.to_dict()
    if as_json:
        print_json(data)
        return
    out.print(table(f"Campaign {step.series}, step {step.step} (campaign {step.campaign_id})",
                    ["key", "value"], _rows(data) + [["audience", step.meta["filter"]]]))
    for reason, count in step.meta["exclusions"].items():
        say(f"excluded ({reason}): {count:,}")
    for warning in step.meta["warnings"]:
        say(f"[yellow]warning:[/yellow] {warning}")
    say(f"next: tierwise campaign export {step.campaign_id}")


@campaign_app.command("list")
def list_(config: ConfigOpt = DEFAULT_CONFIG, as_json: JsonOpt = False) -> None:
    """List the campaigns in the store."""
    from .campaigns import list_campaigns
    from .store import Store
    cfg = load(config)
    with Store(cfg.store_path, read_only=True) as store:
        items = [c.to_dict() for c in list_campaigns(store)]
    if as_json:
        print_json(items)
        return
    if not items:
        say("no campaigns yet: 'tierwise campaign create' makes one")
        return
    out.print(table("Campaigns", ["campaign", "step", "name", "run", "window", "targets",
                                               "control", "face value"],
                                 [[c["campaign_id"], _step_label(c), c["name"], c["run_id"],
                                   f"{c['window_start']} .. {c['window_end']}", c["n_target"],
                                   c["n_control"], c["face_value"]] for c in items]))


def _step_label(c: dict[str, Any]) -> str:
    """``1``, or ``2 of 7`` for a follow-up step of campaign 7."""
    step = c.get("step") or 1
    series = c.get("series_id")
    return str(step) if step == 1 or series is None else f"{step} of {series}"


@campaign_app.command("export")
def export(
    campaign_id: Annotated[int, typer.Argument(help="The campaign id.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv | xlsx")] = "csv",
    out_path: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Output file (default: campaign-<id>-targets.<format>).")] = None,
    with_contacts: Annotated[bool, typer.Option(
        "--with-contacts", help="Write full phone numbers (masked by default).")] = False,
    lang: Annotated[str | None, typer.Option(
        "--lang", help="zh | en (default: the campaign run's language).", show_default=False)]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the target list (never the control group) for an SMS or marketing tool, with the
    campaign's message text merged per target (column message) when it has one."""
    from .campaigns import export_targets, get_campaign
    from .campaigns.messages import SMS_SEGMENT_CHARS
    from .i18n import t
    from .store import Store
    cfg = load(config)
    if lang not in (None, "zh", "en"):
        raise ConfigError(f"--lang {lang!r} is not a language", "use zh or en")
    with Store(cfg.store_path, read_only=True) as store:
        written = export_targets(store, campaign_id, fmt=fmt, out=out_path,
                                 with_contacts=with_contacts)
        if lang is None:
            run = get_campaign(store, campaign_id).run_id
            lang = (store.run_info(run).get("meta") or {}).get("language") or "en"
    lang = lang if lang in ("zh", "en") else "en"
    if as_json:
        print_json({"path": str(written.path), "rows": written.rows,
                    "contacts": "full" if with_contacts else "masked",
                    "control_not_listed": written.control, "messages": written.messages})
        return
    say(t("campaign_message.written", lang, rows=written.rows, path=written.path)
        + ("" if with_contacts else t("campaign_message.masked", lang)))
    say(t("campaign_message.control", lang, control=written.control))
    msgs = written.messages
    if msgs is None:
        say(t("campaign_message.none", lang))
        return
    say(t("campaign_message.count", lang, messages=msgs["messages"], longest=msgs["longest"]))
    if msgs.get("no_text"):
        say("[yellow]" + t("campaign_message.no_text", lang, count=msgs["no_text"])
            + "[/yellow]")
    if msgs["over_one_sms"]:
        say("[yellow]" + t("campaign_message.over", lang, over=msgs["over_one_sms"],
                           limit=SMS_SEGMENT_CHARS) + "[/yellow]")
    for name, count in msgs["empty_fields"].items():
        say("[yellow]" + t("campaign_message.empty", lang, count=count, field=name)
            + "[/yellow]")


@campaign_app.command("results")
def results(
    campaign_id: Annotated[int, typer.Argument(help="The campaign id.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    file: Annotated[Path | None, typer.Option(
        "--file", help="Sends or redemptions (CSV in UTF-8/GBK, or .xlsx). Without it: derive "
                       "redemptions from the orders in the campaign window.")] = None,
    kind: Annotated[str, typer.Option(help="auto | sends | redemptions")] = "auto",
    column: Annotated[list[str] | None, typer.Option(
        "--column", help="Map a column: NAME=HEADER, e.g. used_at=核销时间 (repeatable).")]
    = None,
    encoding: Annotated[str, typer.Option(help="auto | utf-8 | gbk | gb18030 | ...")] = "auto",
    sheet: Annotated[str, typer.Option(help="Excel sheet name or 0-based index.")] = "0",
    as_json: JsonOpt = False,
) -> None:
    """Import a campaign's sends or redemptions; rejected rows go to a rejects file."""
    from .campaigns import derive_redemptions, import_results
    from .store import Store
    cfg = load(config)
    mapping = {}
    for item in column or []:
        key, sep, header = item.partition("=")
        if not sep or not key.strip() or not header.strip():
            raise ConfigError(f"--column {item!r} is not NAME=HEADER", "e.g. --column used_at=核销时间")
        mapping[key.strip()] = header.strip()
    with Store(cfg.store_path) as store:
        if file is None:
            done = derive_redemptions(store, campaign_id)
        else:
            done = import_results(store, campaign_id, file, kind=kind,  # type: ignore[arg-type]
                                  intake=cfg.intake, timezone=cfg.timezone,
                                  rejects_dir=cfg.rejects_dir, columns=mapping,
                                  encoding=encoding, sheet=int(sheet) if sheet.isdigit() else sheet)
    data = done.to_dict()
    if as_json:
        print_json(data)
        return
    out.print(table(f"Campaign {campaign_id}: {done.kind}",
                                 ["source", "rows in", "accepted", "rejected", "replaced",
                                  "rejects file"],
                                 [[data["source"], data["rows_in"], data["accepted"],
                                   data["rejected"], data["replaced"],
                                   data["rejects_file"] or "-"]]))
    for warning in data["warnings"]:
        say(f"[yellow]warning:[/yellow] {warning}")


def _calculator(issued: int | None, used: int | None, face_value: float | None,
                message_cost: float | None, revenue: float | None, margin: float | None,
                sent: int | None, regulars: list[str] | None) -> dict[str, Any]:
    from .campaigns import campaign_figures, parse_regulars, project_yearly_revenue
    from .config import CampaignDefaultsConfig

    given = {"--issued": issued, "--used": used, "--face-value": face_value,
             "--revenue": revenue, "--margin": margin}
    data: dict[str, Any] = {"mode": "calculator"}
    if any(v is not None for v in given.values()) or not regulars:
        missing = [k for k, v in given.items() if v is None]
        if missing:
            raise ConfigError(f"the calculator needs {', '.join(missing)}",
                              "e.g. tierwise campaign evaluate --issued 3260 --used 752 "
                              "--face-value 48 --message-cost 0.1 --revenue 193642 --margin 0.6")
        unit = CampaignDefaultsConfig().message_unit_cost if message_cost is None else message_cost
        figures = campaign_figures(issued=int(issued or 0), used=int(used or 0),
                                   face_value=float(face_value or 0), message_unit_cost=unit,
                                   revenue=float(revenue or 0), gross_margin=float(margin or 0),
                                   sent=sent)
        data["figures"] = figures.to_dict()
    if regulars:
        groups = [parse_regulars(r) for r in regulars]
        data["follow_up"] = {"groups": [g.to_dict() for g in groups],
                             "projected_yearly_revenue": round(project_yearly_revenue(groups), 2)}
    return data


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _present_figures(f: dict[str, Any]) -> None:
    rows = [["coupons issued", _num(f["issued"])], ["messages sent", _num(f["sent"])],
            ["coupons used", _num(f["used"])],
            ["redemption rate (used / issued)", f"{f['redemption_rate_pct']} %"],
            ["revenue from coupon users", _num(f["revenue"])],
            ["coupon cost (used x face value)", _num(f["coupon_cost"])],
            ["message cost (sent x unit cost)", _num(f["message_cost"])],
            ["gross profit (revenue x margin - coupon cost - message cost)",
             _num(f["gross_profit"])],
            [f"return on cost: gross profit / ({f['cost_basis']})", _num(f["return_on_cost"])],
            [f"gross profit / {f['message_cost_basis']}", _num(f["return_on_message_cost"], 1)]]
    out.print(table("Figures", ["figure", "value"], rows))


def _present(data: dict[str, Any]) -> None:
    if "campaign" in data:
        c = data["campaign"]
        out.print(f"campaign {c['campaign_id']} {c['name']}: window {c['window_start']} .. "
                        f"{c['window_end']}; {data['basis']}", markup=False, highlight=False)
    if "figures" in data:
        _present_figures(data["figures"])
    if "lift" in data:
        lift = data["lift"]
        rows = [[g, _num(lift[g]["customers"]), _num(lift[g]["reactivated"]),
                 _pct(lift[g]["reactivation_rate"]), _num(lift[g]["margin_per_customer"])]
                for g in ("target", "control")]
        out.print(table("Lift against the control group",
                                     ["group", "customers", "reactivated", "rate",
                                      "margin per customer"], rows))
        out.print(lift["message"], markup=False, highlight=False)
        if lift.get("incremental_profit") is not None:
            out.print(f"incremental margin {_num(lift['incremental_margin'])}, after "
                            f"campaign costs {_num(lift['incremental_profit'])}", highlight=False)
    follow = data.get("follow_up")
    if follow:
        rows = [[_num(g["customers"]), _num(g["mean_spend"]), _num(g["monthly_visits"]),
                 _num(g["yearly_revenue"])] for g in follow["groups"]]
        out.print(table("Follow-up: regulars", ["customers", "mean spend",
                                                             "monthly visits", "yearly revenue"],
                                     rows))
        if follow.get("note"):
            say(follow["note"])
        if "regulars" in follow:
            out.print(f"{follow['regulars']} of {follow['reactivated']} reactivated "
                            f"customers became regulars ({follow['months']} months from "
                            f"{follow['start']})", highlight=False)
        out.print(f"projected yearly revenue: "
                        f"{_num(follow['projected_yearly_revenue'])}", highlight=False)
    for warning in data.get("warnings", []):
        say(f"[yellow]warning:[/yellow] {warning}")
    if data.get("series"):
        _present_series(data["series"])


def _present_series(series: dict[str, Any]) -> None:
    """Each step and the total: treated vs control, uplift, incremental revenue, ROI."""
    rows = []
    for s in [*series["steps"], series["total"]]:
        up = s["uplift"]
        rows.append([s["step"], f"{s['start']} .. {s['end']}",
                     f"{_num(s['treated'])}: {_pct(s['treated_rate'])}",
                     f"{_num(s['control'])}: {_pct(s['control_rate'])}",
                     "-" if up is None else f"{100 * up['estimate']:+.1f} pts "
                     f"({100 * up['low']:+.1f} .. {100 * up['high']:+.1f})",
                     _num(s["incremental_revenue"]), _num(s["cost"]), _num(s["roi"])])
    out.print(table("Steps: bought in the window, treated vs control",
                    ["step", "window", "treated", "control", "uplift", "incremental revenue",
                     "cost", "ROI"], rows))
    out.print(f"ROI = {series['roi_formula']}; cost = {series['cost_basis']}. The total "
              "compares the first step's targets with its control group over every step's "
              "window.", markup=False, highlight=False)
    for warning in series.get("warnings", []):
        say(f"[yellow]warning:[/yellow] {warning}")


@campaign_app.command("evaluate")
def evaluate(
    campaign_id: Annotated[int | None, typer.Argument(
        help="The campaign id; leave out to use the calculator flags.")] = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    issued: Annotated[int | None, typer.Option(help="Calculator: coupons issued.")] = None,
    used: Annotated[int | None, typer.Option(help="Calculator: coupons used.")] = None,
    face_value: Annotated[float | None, typer.Option(
        "--face-value", help="Calculator: coupon face value.")] = None,
    message_cost: Annotated[float | None, typer.Option(
        "--message-cost", help="Calculator: cost of one message.")] = None,
    revenue: Annotated[float | None, typer.Option(
        help="Calculator: revenue from the coupon users.")] = None,
    margin: Annotated[float | None, typer.Option(
        help="Calculator: gross margin as a share (0.6).")] = None,
    sent: Annotated[int | None, typer.Option(
        help="Calculator: messages sent (default: issued).")] = None,
    regulars: Annotated[list[str] | None, typer.Option(
        "--regulars", help="Calculator: CUSTOMERS:MEAN_SPEND:MONTHLY_VISITS (repeatable).")]
    = None,
    follow_up_months: Annotated[int | None, typer.Option(
        "--follow-up-months", help="Months of follow-up (campaigns.follow_up_months).")]
    = None,
    regular_min_visits: Annotated[float | None, typer.Option(
        "--regular-min-visits", help="Visits in every follow-up month that make a regular.")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """Redemption, costs, gross profit, lift against the control group, follow-up; for a
    campaign with follow-up steps also each step and the total."""
    calculator = [issued, used, face_value, message_cost, revenue, margin, sent, regulars]
    if campaign_id is None:
        data = _calculator(issued, used, face_value, message_cost, revenue, margin, sent,
                           regulars)
    else:
        if any(v is not None for v in calculator):
            raise ConfigError("give a campaign id or the calculator flags, not both",
                              "drop the id to use --issued/--used/... as a calculator")
        from .campaigns import campaign_settings, evaluate_campaign, evaluate_series
        from .campaigns.repository import series
        from .store import Store

        cfg = load(config)
        settings = campaign_settings(cfg.campaigns, follow_up_months=follow_up_months,
                                     regular_min_visits=regular_min_visits)
        with Store(cfg.store_path, read_only=True) as store:
            data = evaluate_campaign(store, campaign_id, settings).to_dict()
            if len(series(store, campaign_id)) > 1:  # one step: shown as it always was
                data["series"] = evaluate_series(store, campaign_id, settings).to_dict()
    if as_json:
        print_json(data)
        return
    _present(data)


__all__ = ["campaign_app"]

"""Who a win-back campaign reaches: a filter over a snapshot, exclusions, a random control group.

The flow of :func:`create_campaign`:

1. **filter** (:class:`AudienceFilter`) over one snapshot (a run): structured conditions such as
   ``days_since_last >= 40``, ``activity_state in [resting, dormant, shock]``, ``tier``,
   ``segment``, and optionally a ``where`` rule in the segment rule language (parsed, never
   ``eval``'d);
2. **exclusions**, first rule wins, each with a reason kept in the store: customers in an activity
   policy never contacted (do not contact and archive by default: under the purchase-probability
   floor; optionally states in ``exclude_states``), customers
   contacted by another campaign within the cooldown, and customers held out as control by a
   campaign whose window is still running (contacting them would spoil that campaign's lift);
3. **control group**: a share of what is left, drawn at random with a recorded seed; the control
   group is never contacted and never exported;
4. the campaign and its frozen audience are stored (:mod:`tierwise.campaigns.repository`).

:func:`export_targets` writes the target list (never the control group) for an SMS or marketing
tool, with phone numbers masked unless asked for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config import PYRAMID_TIERS, CampaignDefaultsConfig
from ..errors import ConfigError, DataContractError
from ..io.export import Written, replacing
from ..io.sheets import neutralise_frame, write_frame_xlsx
from ..privacy import mask_phone
from ..store import Store
from . import repository as repo
from .messages import (
    PLACEHOLDERS,
    PLAYBOOK,
    Messages,
    Template,
    parse_template,
    playbook_templates,
    render_messages,
)
from .repository import Campaign

EXPORT_FORMATS = ("csv", "xlsx")
STATE_COLUMN = "activity_state"
#: Which snapshot column each structured filter reads.
FILTER_COLUMNS = {"min_days_since_last": "days_since_last",
                  "max_days_since_last": "days_since_last",
                  "states": STATE_COLUMN, "tiers": "tier", "segments": "segment"}
_FLAGS = {"min_days_since_last": "--min-days-since-last", "max_days_since_last":
          "--max-days-since-last", "states": "--state", "tiers": "--tier",
          "segments": "--segment", "where": "--where"}


class AudienceFilter(BaseModel):
    """Which customers of a snapshot a campaign is for (all given conditions must hold).

    Examples
    --------
    >>> AudienceFilter(min_days_since_last=40).describe()
    'days_since_last >= 40'
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_days_since_last: int | None = Field(None, ge=0, description="no purchase for at least "
                                            "this many days (days_since_last >= N)")
    max_days_since_last: int | None = Field(None, ge=0, description="days_since_last <= N")
    states: list[str] | None = Field(None, description="activity_state in these states")
    tiers: list[str] | None = Field(None, description="tier in these pyramid levels")
    segments: list[str] | None = Field(None, description="segment in these segments")
    where: str | None = Field(None, description="a rule in the segment rule language")

    def is_empty(self) -> bool:
        return all(v in (None, []) for v in self.model_dump().values())

    def columns(self) -> list[str]:
        """The snapshot columns the structured conditions read (``where`` checks its own)."""
        cols = [FILTER_COLUMNS[k] for k, v in self.model_dump().items()
                if k in FILTER_COLUMNS and v not in (None, [])]
        return list(dict.fromkeys(cols))

    def describe(self) -> str:
        """The filter in words, e.g. ``days_since_last >= 40 and activity_state in [...]``."""
        parts = []
        if self.min_days_since_last is not None:
            parts.append(f"days_since_last >= {self.min_days_since_last}")
        if self.max_days_since_last is not None:
            parts.append(f"days_since_last <= {self.max_days_since_last}")
        for key in ("states", "tiers", "segments"):
            values = getattr(self, key)
            if values:
                parts.append(f"{FILTER_COLUMNS[key]} in [{', '.join(values)}]")
        if self.where:
            parts.append(f"({self.where})")
        return " and ".join(parts) or "every customer"


def _parse_where(text: str) -> Any:
    try:
        from ..segments.rules import parse_rule
    except ImportError:
        raise ConfigError("--where needs the segment rule language (tierwise.segments.rules), "
                          "which this installation lacks",
                          "use --min-days-since-last, --state, --tier and --segment") from None
    return parse_rule(text)


def _check_values(filt: AudienceFilter) -> None:
    try:
        from ..lifecycle.policies import ACTIVITY_STATES
    except ImportError:  # lifecycle not installed: the snapshot's values decide
        ACTIVITY_STATES = ()
    for key, valid in (("states", ACTIVITY_STATES), ("tiers", PYRAMID_TIERS)):
        bad = [v for v in getattr(filt, key) or [] if valid and v not in valid]
        if bad:
            raise ConfigError(f"{_FLAGS[key]} {','.join(bad)}: unknown value(s)",
                              f"valid: {', '.join(valid)}")


def match_audience(snapshot: pd.DataFrame, filt: AudienceFilter, *, where: str = "the snapshot"
                   ) -> pd.Series:
    """Which rows of ``snapshot`` the filter matches (bool Series on its index).

    Raises
    ------
    DataContractError
        When a condition names a column the snapshot lacks; the message lists the columns it has.
    ConfigError
        When a state or tier is not a known value, or the ``where`` rule does not read.
    """
    _check_values(filt)
    missing = [c for c in filt.columns() if c not in snapshot.columns]
    if missing:
        flags = [_FLAGS[k] for k, c in FILTER_COLUMNS.items() if c in missing
                 and getattr(filt, k) not in (None, [])]
        raise DataContractError(
            f"{where} has no column {', '.join(missing)}, which {' / '.join(flags)} filters on",
            f"available columns: {', '.join(map(str, snapshot.columns))}")
    mask = pd.Series(True, index=snapshot.index)
    if filt.min_days_since_last is not None or filt.max_days_since_last is not None:
        days = pd.to_numeric(snapshot["days_since_last"], errors="coerce")
        if filt.min_days_since_last is not None:
            mask &= (days >= filt.min_days_since_last).fillna(False).astype(bool)
        if filt.max_days_since_last is not None:
            mask &= (days <= filt.max_days_since_last).fillna(False).astype(bool)
    for key in ("states", "tiers", "segments"):
        values = getattr(filt, key)
        if values:
            column = snapshot[FILTER_COLUMNS[key]].astype("object")
            mask &= column.isin(values).fillna(False).astype(bool)
    if filt.where:
        mask &= _parse_where(filt.where).evaluate(snapshot, where="--where")
    return mask


# ---- exclusions and the control group ----------------------------------------------------------

def find_exclusions(matched: pd.DataFrame, contacts: pd.DataFrame, *, start: dt.date,
                    settings: CampaignDefaultsConfig) -> tuple[pd.DataFrame, list[str]]:
    """Customers of ``matched`` not to contact, with a rule and a reason each; and warnings.

    Rules, first match wins: ``policy`` (activity policy in ``exclude_policies``: do not contact
    and archive by default, i.e. under the purchase-probability floor), ``state`` (activity state
    in ``exclude_states``, none by default), ``cooldown``
    (a target of another campaign whose contact date is fewer than ``cooldown_days`` from
    ``start``), ``control_hold`` (in the control group of a campaign whose window contains
    ``start``).
    """
    warnings: list[str] = []
    found: list[pd.DataFrame] = []
    base = matched[["customer_key", "customer_id"]]
    policies = getattr(settings, "exclude_policies", [])
    if policies and "activity_policy" in matched.columns:
        policy = matched["activity_policy"].astype("object")
        hit = policy.isin(policies).fillna(False).astype(bool)
        found.append(base[hit].assign(rule="policy", reason=[
            f"activity policy {p}: unlikely to buy again, not contacted ([campaigns] "
            "exclude_policies)" for p in policy[hit]]))
    elif policies:
        warnings.append("the snapshot has no activity_policy column, so customers told "
                        f"{', '.join(policies)} could not be excluded")
    if settings.exclude_states:
        if STATE_COLUMN in matched.columns and len(matched) and matched[STATE_COLUMN].isna().all():
            warnings.append(f"{STATE_COLUMN} is empty in the snapshot, so customers in state "
                            f"{', '.join(settings.exclude_states)} could not be excluded")
        elif STATE_COLUMN in matched.columns:
            state = matched[STATE_COLUMN].astype("object")
            hit = state.isin(settings.exclude_states).fillna(False).astype(bool)
            found.append(base[hit].assign(rule="state", reason=[
                f"activity state {s}: not contacted ([campaigns] exclude_states)"
                for s in state[hit]]))
        else:
            warnings.append(f"the snapshot has no {STATE_COLUMN} column, so customers in state "
                            f"{', '.join(settings.exclude_states)} could not be excluded")
    if len(contacts):
        found += _contact_exclusions(base, contacts, start, settings.cooldown_days)
    columns = ["customer_key", "customer_id", "rule", "reason"]
    out = pd.concat([f[columns] for f in found if len(f)] or [pd.DataFrame(columns=columns)],
                    ignore_index=True)
    return out.drop_duplicates("customer_key", keep="first").reset_index(drop=True), warnings


def _contact_exclusions(base: pd.DataFrame, contacts: pd.DataFrame, start: dt.date,
                        cooldown_days: int) -> list[pd.DataFrame]:
    """The ``cooldown`` and ``control_hold`` exclusions among ``base`` (see find_exclusions)."""
    contact = pd.to_datetime(contacts["contact_date"]).dt.date
    gap = contact.map(lambda d: abs((start - d).days))
    ends = pd.to_datetime(contacts["window_end"]).dt.date
    cool = contacts[(contacts["group"] == "target") & (gap < cooldown_days)]
    cool = base.merge(cool.assign(gap=gap).sort_values("gap").drop_duplicates("customer_key"),
                      on="customer_key")
    cool["rule"] = "cooldown"
    cool["reason"] = [f"contacted by campaign {c} on {pd.Timestamp(d).date()} (cooldown "
                      f"{cooldown_days} days)" for c, d in zip(cool["campaign_id"],
                                                              cool["contact_date"])]
    held = contacts[(contacts["group"] == "control") & (contact <= start) & (ends >= start)]
    held = base.merge(held.drop_duplicates("customer_key"), on="customer_key")
    held["rule"] = "control_hold"
    held["reason"] = [f"held out as control by campaign {c} until {pd.Timestamp(e).date()}"
                      for c, e in zip(held["campaign_id"], held["window_end"])]
    return [cool, held]


def split_control(keys: np.ndarray | pd.Series, share: float, seed: int) -> np.ndarray:
    """``'target'`` / ``'control'`` per key: ``round(share x n)`` keys (halves rounded up) drawn at random.

    The draw depends only on the set of keys, the share and the seed (keys are sorted first), so
    it can be repeated from what the store records.

    Examples
    --------
    >>> split_control([3, 1, 2, 4], 0.5, seed=7).tolist().count("control")
    2
    """
    keys = np.asarray(keys)
    n = len(keys)
    n_control = int(np.floor(share * n + 0.5))
    order = np.argsort(keys, kind="stable")
    chosen = order[np.random.default_rng(seed).permutation(n)[:n_control]]
    groups = np.full(n, "target", dtype=object)
    groups[chosen] = "control"
    return groups


@dataclass
class Audience:
    """The outcome of filter + exclusions + control draw, before it is stored."""

    members: pd.DataFrame  # customer_key, customer_id, group
    exclusions: pd.DataFrame  # customer_key, customer_id, rule, reason
    n_matched: int
    warnings: list[str] = field(default_factory=list)

    @property
    def n_target(self) -> int:
        return int((self.members["group"] == "target").sum())

    @property
    def n_control(self) -> int:
        return int((self.members["group"] == "control").sum())

    def exclusion_counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.exclusions["rule"].value_counts().items()}


def build_audience(snapshot: pd.DataFrame, filt: AudienceFilter, contacts: pd.DataFrame, *,
                   start: dt.date, settings: CampaignDefaultsConfig, seed: int,
                   where: str = "the snapshot") -> Audience:
    """Filter, exclude and split a snapshot into target and control (nothing is stored)."""
    matched = snapshot[match_audience(snapshot, filt, where=where)]
    excluded, warnings = find_exclusions(matched, contacts, start=start, settings=settings)
    kept = matched[~matched["customer_key"].isin(excluded["customer_key"])]
    kept = kept[["customer_key", "customer_id"]].sort_values("customer_key").reset_index(drop=True)
    kept["group"] = split_control(kept["customer_key"].to_numpy(), settings.control_share, seed)
    if settings.control_share > 0 and not (kept["group"] == "control").any():
        warnings.append("the control group is empty (audience too small for the control share): "
                        "the lift cannot be measured")
    return Audience(kept, excluded, len(matched), warnings)


# ---- creating a campaign ------------------------------------------------------------------------

def campaign_settings(defaults: CampaignDefaultsConfig | None = None, **overrides: Any
                      ) -> CampaignDefaultsConfig:
    """The ``[campaigns]`` defaults with the given overrides (None: keep the default), validated.

    Raises
    ------
    ConfigError
        Naming every bad value, e.g. ``control_share (got 1.5): Input should be less than 1``.
    """
    data = (defaults or CampaignDefaultsConfig()).model_dump()
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return CampaignDefaultsConfig.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))} (got {e.get('input')!r}): {e['msg']}"
                    for e in exc.errors()]
        raise ConfigError("invalid campaign settings: " + "; ".join(problems),
                          "see [campaigns] in docs/configuration.md", problems=problems) from None


def pick_run(store: Store, run: int | str = "latest", as_of: dt.date | None = None
             ) -> dict[str, Any]:
    """The run an audience is drawn from: an id, ``'latest'``, or the newest run on ``as_of``."""
    if as_of is None:
        return store.run_info(run)
    runs = store.runs()
    on_day = runs[pd.to_datetime(runs["as_of"]).dt.date == as_of]
    if not len(on_day):
        days = sorted({str(pd.Timestamp(d).date()) for d in runs["as_of"]}) or ["none"]
        raise ConfigError(f"no snapshot as of {as_of} in {store.path} (as-of dates: "
                          f"{', '.join(days)})", "pick one of them, or make one with "
                          f"'tierwise run --as-of {as_of}'")
    return store.run_info(int(on_day["run_id"].max()))


def _window(as_of: dt.date, start: dt.date | None, end: dt.date | None,
            days: int) -> tuple[dt.date, dt.date]:
    start = start or as_of + dt.timedelta(days=1)
    end = end or start + dt.timedelta(days=days - 1)
    if start <= as_of:
        raise ConfigError(f"the campaign window starts on {start}, not after the snapshot's as-of "
                          f"date {as_of}", "start it later, or draw the audience from an "
                          "earlier snapshot (--as-of / --run)")
    if end < start:
        raise ConfigError(f"the campaign window ends ({end}) before it starts ({start})",
                          "give --end on or after --start")
    return start, end


def create_campaign(store: Store, filt: AudienceFilter, settings: CampaignDefaultsConfig, *,
                    name: str | None = None, run: int | str = "latest",
                    as_of: dt.date | None = None, start: dt.date | None = None,
                    end: dt.date | None = None, segments: Any = None) -> Campaign:
    """Draw a campaign's audience from a snapshot and store it with its settings.

    Parameters
    ----------
    store
        A store opened for writing.
    filt
        Who the campaign is for.
    settings
        ``[campaigns]`` settings (see :func:`campaign_settings`); ``face_value`` must be set.
    name
        A label (default: ``win-back <start>``).
    run, as_of
        The snapshot: a run id or ``'latest'``, or the newest run on the ``as_of`` date.
    start, end
        The campaign window (default: the day after the snapshot's as-of date, for
        ``window_days`` days).
    segments
        The ``[segments]`` config: needed when ``settings.message`` is ``'playbook'`` (each
        target gets its segment's playbook message as the template).

    Returns
    -------
    Campaign
        As stored; ``meta`` holds the exclusion counts, warnings and the filter in words.

    Examples
    --------
    >>> with Store("tierwise.duckdb") as store:                    # doctest: +SKIP
    ...     c = create_campaign(store, AudienceFilter(min_days_since_last=40),
    ...                         campaign_settings(face_value=48))
    """
    if settings.face_value is None:
        raise ConfigError("the campaign has no coupon face value",
                          "pass --face-value (0 for a message without a coupon) or set "
                          "face_value in [campaigns]")
    info = pick_run(store, run, as_of)
    snap_as_of = pd.Timestamp(info["as_of"]).date()
    start, end = _window(snap_as_of, start, end, settings.window_days)
    snapshot = store.snapshot(info["run_id"])
    contacts = repo.contact_history(store)
    campaign_id = repo.next_campaign_id(store)
    seed = settings.seed if settings.seed is not None else campaign_id
    audience = build_audience(snapshot, filt, contacts, start=start, settings=settings, seed=seed,
                              where=f"the snapshot of run {info['run_id']} (as of {snap_as_of})")
    if audience.n_target == 0:
        raise ConfigError(
            f"no customer left to contact: the filter ({filt.describe()}) matched "
            f"{audience.n_matched}, {len(audience.exclusions)} excluded "
            f"({audience.exclusion_counts() or 'none'})", "loosen the filter or pick another "
            "snapshot")
    campaign = Campaign(
        campaign_id=campaign_id, name=name or f"win-back {start}", created_at=repo.utc_now(),
        run_id=int(info["run_id"]), as_of=snap_as_of, window_start=start, window_end=end,
        face_value=float(settings.face_value), message_unit_cost=settings.message_unit_cost,
        gross_margin=settings.gross_margin, control_share=settings.control_share, seed=int(seed),
        cooldown_days=settings.cooldown_days, audience=filt.model_dump(exclude_none=True),
        n_matched=audience.n_matched, n_excluded=len(audience.exclusions),
        n_target=audience.n_target, n_control=audience.n_control,
        meta={"filter": filt.describe(), "exclude_states": settings.exclude_states,
              "exclude_policies": getattr(settings, "exclude_policies", []),
              "exclusions": audience.exclusion_counts(), "warnings": audience.warnings,
              **_message_meta(settings.message, segments)},
        series_id=campaign_id, step=1)
    repo.insert_campaign(store, campaign, audience.members, audience.exclusions)
    return campaign


# ---- export -------------------------------------------------------------------------------------

def target_list(store: Store, campaign_id: int, *, with_contacts: bool = False) -> pd.DataFrame:
    """The rows an SMS / marketing tool gets: target members only, phone masked by default.

    Columns: ``customer_id``, ``name``, ``phone``, ``face_value``, ``valid_from``,
    ``valid_until``, ``campaign``, then what every sales list carries, from the campaign's run
    (:meth:`tierwise.runview.RunView.outlook`): ``purchase_likelihood`` (a purchase in the run's
    purchase horizon, to 4 decimals: a long fraction could read as a phone number) and ``next_purchase_expected`` (last purchase + the customer's own
    expected gap), and ``cross_sell`` when the run has hints from order lines (what the
    customer's tier buys and they never did). Nothing in it tells who is in the control group.
    A campaign with a message template (``meta["message"]``) adds ``message``: the text merged
    for each target (:mod:`tierwise.campaigns.messages`); its counts are in
    ``frame.attrs["messages"]``.
    """
    from ..runview import RunView

    campaign = repo.get_campaign(store, campaign_id)
    frame = repo.targets_with_contacts(store, campaign_id)
    if not with_contacts:
        frame["phone"] = frame["phone"].map(mask_phone)
    ids = frame["customer_id"].astype(str)
    view = RunView(store.con, campaign.run_id)
    outlook = view.outlook(ids.tolist()).set_index("customer_id")
    out = frame.assign(face_value=campaign.face_value, valid_from=campaign.window_start,
                       valid_until=campaign.window_end, campaign=campaign.name,
                       purchase_likelihood=ids.map(outlook["purchase_likelihood"])
                       .round(4).to_numpy(),
                       next_purchase_expected=ids.map(outlook["next_purchase_expected"])
                       .dt.date.to_numpy())
    hints = view.items(ids.tolist()).set_index("customer_id")["cross_sell"]
    if hints.notna().any():  # order lines: what to offer with the coupon
        out["cross_sell"] = ids.map(hints).to_numpy()
    if campaign.meta.get("message"):
        merged = target_messages(store, campaign, ids)
        out["message"] = merged.texts
        out.attrs["messages"] = merged.to_dict()
    return out


def _message_meta(message: str | None, segments: Any) -> dict[str, Any]:
    """What a campaign stores of its message: the template, or every segment's (``playbook``)."""
    if not message:
        return {}
    if message != PLAYBOOK:
        return {"message": message}
    by_segment = playbook_templates(segments) if segments is not None else {}
    if not by_segment:
        raise ConfigError("--message playbook: no segment in [segments] has a playbook message",
                          "set message in a segment's playbook, or give the text itself")
    return {"message": PLAYBOOK, "message_by_segment": by_segment}


def target_messages(store: Store, campaign: Campaign, ids: pd.Series) -> Messages:
    """The campaign's message merged for the customers ``ids`` (values from its run's snapshot)."""
    where = f"campaign {campaign.campaign_id}"
    template: Template | dict[str, Template]
    if campaign.meta["message"] == PLAYBOOK:
        template = {seg: parse_template(text, where=f"{where}, segment {seg!r}")
                    for seg, text in campaign.meta.get("message_by_segment", {}).items()}
    else:
        template = parse_template(campaign.meta["message"], where=where)
    snap = store.snapshot(campaign.run_id).drop_duplicates("customer_id")
    snap = snap.assign(customer_id=snap["customer_id"].astype(str)).set_index("customer_id")
    rows = pd.DataFrame(index=range(len(ids)))
    for name in PLACEHOLDERS:
        if name == "favourite_product":
            col = snap["favourite_products"].str.split(";").str[0].str.strip() \
                if "favourite_products" in snap else None
        else:
            col = snap[name] if name in snap else None
        rows[name] = ids.map(col).to_numpy() if col is not None else None
    rows["face_value"] = campaign.face_value
    rows["valid_until"] = campaign.window_end.isoformat()
    rows["campaign"] = campaign.name
    return render_messages(template, rows)


def export_targets(store: Store, campaign_id: int, *, fmt: str = "csv", out: Path | None = None,
                   with_contacts: bool = False) -> Written:
    """Write the target list as CSV (UTF-8 with BOM, for Excel) or XLSX; never the control group.

    Phone numbers are masked (``138****1234``) unless ``with_contacts``; text a spreadsheet
    would run as a formula is neutralised (:func:`tierwise.io.sheets.neutralise`).
    """
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"--format {fmt!r} is not supported",
                          f"use one of: {', '.join(EXPORT_FORMATS)}")
    frame = target_list(store, campaign_id, with_contacts=with_contacts)
    messages = frame.attrs.get("messages")
    path = Path(out) if out else Path(f"campaign-{campaign_id}-targets.{fmt}")
    with replacing(path) as tmp:
        if fmt == "csv":
            neutralise_frame(frame).to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            text = frame.astype("object").where(frame.notna(), None)
            write_frame_xlsx(text, tmp, sheet_name="targets")
    return TargetsWritten(path, len(frame), messages=messages,
                          control=repo.get_campaign(store, campaign_id).n_control)


@dataclass(frozen=True)
class TargetsWritten(Written):
    """A written target list: its messages' counts (None: no message) and the control group's
    size (held out: not in the list, no message)."""

    messages: dict[str, Any] | None = None
    control: int = 0


__all__ = [
    "EXPORT_FORMATS",
    "Audience",
    "AudienceFilter",
    "TargetsWritten",
    "build_audience",
    "campaign_settings",
    "create_campaign",
    "export_targets",
    "find_exclusions",
    "match_audience",
    "pick_run",
    "split_control",
    "target_messages",
    "target_list",
]

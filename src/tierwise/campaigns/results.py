"""Campaign results: imported sends and redemptions, or redemptions derived from the orders.

Imports follow the intake rules of orders (``tierwise.io``): CSV in UTF-8 / GBK / GB18030 or
Excel .xlsx, Chinese or English headers, every row either accepted or written to a rejects file
with its source line and a reason, and ``rows_in == accepted + rejected``. The readers, the
encoding detection, the value parsers, the row checks and the rejects file are those of
:mod:`tierwise.io`; only the columns differ:

* **sends** (who got the message): ``customer_id`` (required), ``sent_at``, ``coupon_code``,
  ``channel``. A send to a control-group member or to someone outside the audience is rejected.
* **redemptions** (coupons used): ``customer_id`` or ``coupon_code`` (a code is traced to its
  customer through the imported sends), ``used_at`` and ``amount`` (required), ``order_id``. A
  redemption by a control-group member, a coupon used twice, an order counted twice, a use before
  the campaign started or a negative amount is rejected.

Without a file, :func:`derive_redemptions` counts a target customer with a purchase in the
campaign window as having used the coupon; its revenue is the net amount of its window orders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..config import IntakeConfig
from ..errors import ConfigError, DataContractError
from ..io import IntakeReport
from ..io.contracts import RowChecks, summarise_bad_rows
from ..io.headers import BUILTIN_ALIASES, normalize_header
from ..io.readers import RawTable, read_file
from ..io.rejects import FIXED, rejects_path, write_rejects
from ..io.values import clean_id, clean_text, parse_amount, parse_date, raw_text
from ..store import Store
from . import repository as repo
from .repository import Campaign

Kind = Literal["auto", "sends", "redemptions"]
KINDS = ("sends", "redemptions")

_DATES = ("日期", "时间", "date", "time", "timestamp")
_SENT_AT = ("发送时间", "发送日期", "下发时间", "sent_at", "sent at", "send_time", "send_date",
            "sent_date")
_USED_AT = ("使用时间", "核销时间", "用券时间", "使用日期", "核销日期", "used_at", "used at",
            "redeemed_at", "redemption_date")
_COUPON = ("券码", "优惠券码", "优惠券号", "券号", "代金券号", "代金券码", "coupon_code", "coupon code",
           "coupon", "voucher_code", "voucher", "code")
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "sends": {
        "customer_id": BUILTIN_ALIASES["customer_id"],
        "sent_at": (*_SENT_AT, *_DATES),
        "coupon_code": _COUPON,
        "channel": BUILTIN_ALIASES["channel"],
    },
    "redemptions": {
        "customer_id": BUILTIN_ALIASES["customer_id"],
        "coupon_code": _COUPON,
        "used_at": (*_USED_AT, *BUILTIN_ALIASES["ordered_at"], *_DATES),
        "order_id": BUILTIN_ALIASES["order_id"],
        "amount": BUILTIN_ALIASES["amount"],
    },
}
REQUIRED = {"sends": ("customer_id",), "redemptions": ("used_at", "amount")}


@dataclass
class ResultsImport:
    """What one results import (or derivation) did."""

    campaign_id: int
    kind: str
    report: IntakeReport
    replaced: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "kind": self.kind, "replaced": self.replaced,
                **self.report.to_dict()}


# ---- headers ------------------------------------------------------------------------------------

@dataclass
class _Columns:
    kind: str
    positions: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def detect_kind(headers: list[str], *, label: str = "the file") -> str:
    """``redemptions`` when a header reads as an amount, a use date or an order id; ``sends``
    when one reads as a send date; otherwise (or both) a :class:`DataContractError`."""
    norms = {normalize_header(h) for h in headers}

    def found(names: tuple[str, ...]) -> bool:
        return bool(norms & {normalize_header(a) for a in names})

    used = found((*BUILTIN_ALIASES["amount"], *_USED_AT, *BUILTIN_ALIASES["order_id"]))
    sent = found(_SENT_AT)
    if used != sent:
        return "redemptions" if used else "sends"
    raise DataContractError(f"{label}: cannot tell whether it holds sends or redemptions "
                            f"(headers: {', '.join(map(repr, headers))})",
                            "pass --kind sends or --kind redemptions")


def _map_columns(raw: RawTable, kind: str, explicit: dict[str, str]) -> _Columns:
    aliases = ALIASES[kind]
    unknown = sorted(set(explicit) - set(aliases))
    if unknown:
        raise ConfigError(f"--column {', '.join(unknown)}: not a {kind} column",
                          f"{kind} columns: {', '.join(aliases)}")
    norms = [normalize_header(h) for h in raw.headers]
    free = set(range(len(raw.headers)))
    out = _Columns(kind)
    for name, header in explicit.items():
        hits = [i for i in sorted(free) if norms[i] == normalize_header(header)]
        if not hits:
            raise DataContractError(f"{raw.label}: --column {name}={header} but the file has no "
                                    f"such header (headers: {', '.join(map(repr, raw.headers))})",
                                    "use one of the file's headers")
        out.positions[name] = hits[0]
        free.discard(hits[0])
    for name, names in aliases.items():
        if name in out.positions:
            continue
        targets = [normalize_header(a) for a in (name, *names)]
        hits = sorted((targets.index(norms[i]), i) for i in free if norms[i] in targets)
        if hits:
            out.positions[name] = hits[0][1]
            free.discard(hits[0][1])
    missing = [c for c in REQUIRED[kind] if c not in out.positions]
    if kind == "redemptions" and not {"customer_id", "coupon_code"} & set(out.positions):
        missing.insert(0, "customer_id or coupon_code")
    if missing:
        raise DataContractError(
            f"{raw.label}: {kind} need column(s) {', '.join(missing)}, not found among the headers "
            f"{', '.join(map(repr, raw.headers))}",
            "rename the header, or map it with --column NAME=HEADER (e.g. --column used_at=核销时间)")
    if free:
        out.warnings.append(f"{raw.label}: columns not used for {kind} and ignored: "
                            + ", ".join(repr(raw.headers[i]) for i in sorted(free)))
    return out


# ---- rows ---------------------------------------------------------------------------------------

@dataclass
class _Rows:
    raw: RawTable
    cols: _Columns
    keep: np.ndarray
    lines: np.ndarray
    checks: RowChecks

    @property
    def n(self) -> int:
        return len(self.keep)

    def series(self, name: str) -> pd.Series | None:
        pos = self.cols.positions.get(name)
        return None if pos is None else self.raw.frame[f"c{pos}"].iloc[self.keep].reset_index(
            drop=True)

    def label(self, name: str) -> str:
        header = self.raw.headers[self.cols.positions[name]]
        return f"column {header!r}" if header == name else f"column {header!r} ({name})"

    def text(self, name: str, *, as_id: bool = False) -> np.ndarray:
        s = self.series(name)
        if s is None:
            return np.full(self.n, "", dtype=object)
        arr = clean_id(s) if as_id else clean_text(s)
        return np.asarray(arr.to_pylist(), dtype=object)

    def reject(self, code: str, mask: np.ndarray, reasons: list[str], summary: str) -> None:
        self.checks.add(code, mask, reasons, summary, None, "")


def _non_blank(raw: RawTable) -> np.ndarray:
    blank = np.ones(len(raw.frame), dtype=bool)
    for c in raw.frame.columns:
        blank &= pc.equal(clean_text(raw.frame[c]), "").to_numpy(zero_copy_only=False)
    return np.flatnonzero(~blank)


def _unique_or_blank(values: np.ndarray) -> pd.Series:
    """Values for a duplicate check where blanks never count as duplicates of each other."""
    return pd.Series([v if v else f"\0blank{i}" for i, v in enumerate(values)])


def _membership(r: _Rows, keys: np.ndarray, shown: np.ndarray, members: pd.DataFrame,
                campaign: Campaign, *, sends: bool) -> None:
    group = pd.Series(keys).map(members.set_index("customer_key")["group"]).to_numpy(object)
    ok = ~r.checks.rejected & (keys >= 0)
    outside = ok & pd.isna(group)
    r.reject("not_member", outside, [
        f"customer {v!r} is not in campaign {campaign.campaign_id}'s audience: check the "
        "campaign id or the file" for v in shown[outside]], "outside the audience")
    control = ok & (group == "control")
    fix = ("the control group must never be contacted: remove the row and check the send list"
           if sends else "the control group got no coupon: check the coupon list")
    r.reject("control", control, [
        f"customer {v!r} is in campaign {campaign.campaign_id}'s control group: {fix}"
        for v in shown[control]], "in the control group")


def _resolve(r: _Rows, store: Store, campaign: Campaign, *, sends: bool
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """customer_key (-1 when unresolved), customer_id and coupon_code of every row."""
    ids = r.text("customer_id", as_id=True)
    codes = r.text("coupon_code")
    known = repo.customer_keys(store).set_index("customer_id")["customer_key"]
    keys = pd.Series(ids).map(known).fillna(-1).to_numpy(np.int64)
    by_code = pd.Series(dtype="int64")
    if not sends:
        sent = repo.sends(store, campaign.campaign_id)
        sent = sent[sent["coupon_code"].notna()].drop_duplicates("coupon_code")
        by_code = sent.set_index("coupon_code")["customer_key"]
    code_keys = pd.Series(codes).map(by_code).fillna(-1).to_numpy(np.int64)
    has_id, has_code = ids != "", codes != ""
    where = "customer_id" if sends or "customer_id" in r.cols.positions else "coupon_code"
    neither = ~has_id if sends else ~has_id & ~has_code
    empty = f"no customer: {where} is empty: fill it in or remove the row"
    r.reject("no_customer", neither, [empty] * int(neither.sum()), "without a customer")
    unknown = has_id & (keys < 0)
    r.reject("unknown_customer", unknown, [f"customer_id {v!r} is not a stored customer: ingest "
                                           "the customers first, or fix the id"
                                           for v in ids[unknown]], "with an unknown customer")
    by_code_only = np.zeros(r.n, dtype=bool) if sends else has_code
    bad_code = by_code_only & (code_keys < 0) & ~has_id
    r.reject("unknown_code", bad_code, [
        f"coupon code {v!r} was not sent by campaign {campaign.campaign_id}: import the sends with "
        "their coupon codes first, or give customer_id" for v in codes[bad_code]],
        "with an unknown coupon code")
    clash = by_code_only & has_id & (keys >= 0) & (code_keys >= 0) & (keys != code_keys)
    r.reject("code_clash", clash, [f"coupon code {c!r} was sent to another customer than {i!r}: "
                                   "fix the code or the customer"
                                   for c, i in zip(codes[clash], ids[clash])],
             "whose coupon code belongs to another customer")
    keys = np.where(has_id, keys, code_keys)
    shown = np.where(has_id, ids, codes)
    unresolved = ~r.checks.rejected & (keys < 0)
    r.reject("unresolved", unresolved, [f"customer of {v!r} could not be found: give "
                                        "customer_id" for v in shown[unresolved]],
             "whose customer could not be found")
    audience = repo.members(store, campaign.campaign_id)
    _membership(r, keys, shown, audience, campaign, sends=sends)
    key_to_id = audience.set_index("customer_key")["customer_id"]
    cids = pd.Series(keys).map(key_to_id).fillna("").to_numpy(object)
    return keys, cids, codes


def _date_column(r: _Rows, name: str, timezone: str, intake: IntakeConfig, *, required: bool
                 ) -> np.ndarray:
    """Dates as ``datetime.date`` objects (None where empty / invalid)."""
    s = r.series(name)
    if s is None:
        return np.full(r.n, None, dtype=object)
    parsed = parse_date(s, timezone=timezone, date_format=intake.date_format,
                        label=f"{r.raw.label}: {r.label(name)}", lines=r.lines)
    if required:
        r.checks.empty(parsed.empty, r.label(name), name)
    r.checks.invalid(parsed, r.label(name), name, "a date")
    epoch = dt.date(1970, 1, 1)
    good = ~(parsed.empty | parsed.invalid)
    return np.array([epoch + dt.timedelta(days=int(d)) if g else None
                     for d, g in zip(parsed.values, good)], dtype=object)


def _sends(r: _Rows, store: Store, campaign: Campaign, timezone: str, intake: IntakeConfig
           ) -> pd.DataFrame:
    keys, cids, codes = _resolve(r, store, campaign, sends=True)
    sent_at = _date_column(r, "sent_at", timezone, intake, required=False)
    if "coupon_code" in r.cols.positions:
        r.checks.duplicates(_unique_or_blank(codes), r.label("coupon_code"), "coupon_code")
    sent_at = np.array([d if d is not None else campaign.window_start for d in sent_at], object)
    return pd.DataFrame({"customer_key": keys, "customer_id": cids, "sent_at": sent_at,
                         "coupon_code": [c or None for c in codes],
                         "channel": [c or None for c in r.text("channel")]})


def _already_counted(r: _Rows, store: Store, campaign: Campaign, values: np.ndarray,
                     column: str) -> None:
    """Reject order ids / coupon codes already stored from another imported file."""
    if column not in r.cols.positions:
        return
    stored = repo.redemptions(store, campaign.campaign_id)
    stored = stored[(stored["source"] != r.raw.label)
                    & ~stored["source"].str.startswith(repo.DERIVED_PREFIX)
                    & stored[column].notna()].drop_duplicates(column).set_index(column)
    where = pd.Series(values).map(stored["source"] + " line " + stored["line"].astype(str))
    hit = ~r.checks.rejected & (values != "") & where.notna().to_numpy()
    r.reject(f"{column}_counted", hit, [
        f"{column} {v!r} is already counted (imported from {w}): remove the repeated row"
        for v, w in zip(values[hit], where[hit])], f"with a {column} already imported")


def _redemptions(r: _Rows, store: Store, campaign: Campaign, timezone: str,
                 intake: IntakeConfig) -> tuple[pd.DataFrame, list[str]]:
    amount = parse_amount(r.series("amount"), decimal=intake.decimal,
                          machine=r.cols.positions["amount"] in r.raw.machine)
    r.checks.empty(amount.empty, r.label("amount"), "amount")
    r.checks.invalid(amount, r.label("amount"), "amount", "a number")
    negative = np.nan_to_num(amount.values, nan=0.0) < 0
    r.reject("amount_negative", negative, [
        f"{r.label('amount')}: {v:g} is negative: a redemption's amount is what the customer spent "
        "(leave refunds to the orders)" for v in amount.values[negative]], "with a negative amount")
    used_at = _date_column(r, "used_at", timezone, intake, required=True)
    early = np.array([d is not None and d < campaign.window_start for d in used_at])
    r.reject("before_start", early, [
        f"{r.label('used_at')}: {d} is before the campaign started on {campaign.window_start}: "
        "fix the date or the campaign id" for d in used_at[early]], "used before the start")
    keys, cids, codes = _resolve(r, store, campaign, sends=False)
    order_ids = r.text("order_id")
    if "order_id" in r.cols.positions:
        r.checks.duplicates(_unique_or_blank(order_ids), r.label("order_id"), "order_id")
    if "coupon_code" in r.cols.positions:
        r.checks.duplicates(_unique_or_blank(codes), r.label("coupon_code"), "coupon_code")
    _already_counted(r, store, campaign, order_ids, "order_id")
    _already_counted(r, store, campaign, codes, "coupon_code")
    late = ~r.checks.rejected & np.array([d is not None and d > campaign.window_end
                                          for d in used_at])
    warnings = [(f"{r.raw.label}: {int(late.sum())} redemption(s) after the window's end "
                 f"{campaign.window_end} (kept)")] if late.any() else []
    frame = pd.DataFrame({"customer_key": keys, "customer_id": cids,
                          "coupon_code": [c or None for c in codes], "used_at": used_at,
                          "order_id": [o or None for o in order_ids], "amount": amount.values})
    return frame, warnings


def _rejects(r: _Rows) -> pd.DataFrame:
    raw = r.raw
    rows = r.keep[r.checks.rejected]
    names = list(raw.frame.columns)
    parts = [pd.DataFrame({"source": raw.label, "line": r.lines[r.checks.rejected],
                           "reason": r.checks.reasons(),
                           **{c: raw_text(raw.frame[c]).take(pa.array(rows)).to_pylist()
                              for c in names}})]
    if raw.bad is not None and len(raw.bad):
        bad = raw.bad.rename(columns={"_line": "line", "_reason": "reason"})
        bad.insert(0, "source", raw.label)
        parts.append(bad[["source", "line", "reason", *names]])
    out = pd.concat(parts, ignore_index=True).sort_values("line", kind="stable")
    out.columns = [*FIXED, *raw.headers]
    return out.reset_index(drop=True)


def import_results(store: Store, campaign_id: int, path: Path | str, *, kind: Kind = "auto",
                   intake: IntakeConfig | None = None, timezone: str = "Asia/Shanghai",
                   rejects_dir: Path | str = "rejects", columns: dict[str, str] | None = None,
                   encoding: str = "auto", sheet: str | int = 0) -> ResultsImport:
    """Import a sends or redemptions file into a campaign; rejected rows go to a rejects file.

    Parameters
    ----------
    store
        A store opened for writing.
    campaign_id
        The campaign the results belong to.
    path
        CSV (any encoding :mod:`tierwise.io` detects: UTF-8, GBK, GB18030 ...) or .xlsx.
    kind
        ``sends``, ``redemptions`` or ``auto`` (redemptions when a header reads as an amount).
    intake
        Decimal mark and date format, as for orders (``[intake]``).
    timezone
        Business time zone: timestamps with an offset become local dates in it.
    rejects_dir
        Folder of ``<file stem>.campaign<ID>-<kind>.rejects.csv``.
    columns
        Explicit mapping canonical name -> header, e.g. ``{"used_at": "核销时间"}``.

    Returns
    -------
    ResultsImport
        Its ``report`` satisfies ``rows_in == accepted + rejected``. Re-importing the same file
        replaces its earlier rows (and any redemptions derived from the orders).
    """
    intake = intake or IntakeConfig()
    campaign = repo.get_campaign(store, campaign_id)
    path = Path(path)
    raw = read_file(path, label=path.name, encoding=encoding, sheet=sheet,
                    section="campaign results")
    if not raw.headers:
        raise DataContractError(f"{raw.label}: the file is empty (no header row)",
                                "export the results again with a header row")
    if kind == "auto":
        kind = detect_kind(raw.headers, label=raw.label)  # type: ignore[assignment]
    if kind not in KINDS:
        raise ConfigError(f"--kind {kind!r} is not a kind of results", "use sends or redemptions")
    cols = _map_columns(raw, kind, dict(columns or {}))
    keep = _non_blank(raw)
    lines = raw.lines[keep]
    r = _Rows(raw, cols, keep, lines, RowChecks(len(keep), lines, raw.label))
    warnings = list(raw.warnings) + cols.warnings
    if len(keep) < len(raw.frame):
        warnings.append(f"{raw.label}: {len(raw.frame) - len(keep)} empty row(s) skipped")
    if kind == "sends":
        frame = _sends(r, store, campaign, timezone, intake)
    else:
        frame, late = _redemptions(r, store, campaign, timezone, intake)
        warnings += late
    ok = ~r.checks.rejected
    accepted = frame[ok].assign(source=raw.label, line=lines[ok].astype(np.int64))
    n_bad = 0 if raw.bad is None else len(raw.bad)
    report = IntakeReport(source=raw.label, kind=f"campaign {kind}", rows_in=r.n + n_bad,
                          accepted=int(ok.sum()), rejected=int((~ok).sum()) + n_bad,
                          encoding=raw.encoding,
                          columns={raw.headers[p]: n for n, p in cols.positions.items()},
                          warnings=warnings + summarise_bad_rows(raw.bad, raw.label))
    target = rejects_path(Path(rejects_dir), raw.stem, f"campaign{campaign.campaign_id}-{kind}")
    report.rejects_file = write_rejects(_rejects(r), target)
    replaced = repo.replace_results(store, campaign.campaign_id, kind, accepted,
                                    source=raw.label, report=report.to_dict())
    return ResultsImport(campaign.campaign_id, kind, report, replaced)


# ---- derived from the orders --------------------------------------------------------------------

def derived_redemptions(store: Store, campaign: Campaign) -> pd.DataFrame:
    """One row per target customer with a purchase in the window (redemption columns).

    ``used_at`` and ``order_id`` are those of the first purchase; ``amount`` is the net amount
    (refunds deducted) of all the customer's orders in the window.
    """
    orders = repo.member_orders(store, campaign.campaign_id, campaign.window_start,
                                campaign.window_end)
    orders = orders[orders["group"] == "target"]
    buyers = orders.loc[~orders["is_refund"].astype(bool), "customer_key"].unique()
    orders = orders[orders["customer_key"].isin(buyers)]
    first = orders[~orders["is_refund"].astype(bool)].sort_values(["ordered_at", "order_id"]) \
        .drop_duplicates("customer_key").set_index("customer_key")
    net = orders.groupby("customer_key")["amount"].sum()
    out = pd.DataFrame({"customer_key": first.index.to_numpy(np.int64),
                        "customer_id": first["customer_id"].to_numpy(object),
                        "coupon_code": None,
                        "used_at": pd.to_datetime(first["ordered_at"]).dt.date.to_numpy(object),
                        "order_id": first["order_id"].to_numpy(object),
                        "amount": net.reindex(first.index).to_numpy(np.float64)})
    return out.assign(source=f"{repo.DERIVED_PREFIX}{campaign.window_start}..{campaign.window_end}",
                      line=None)


def derive_redemptions(store: Store, campaign_id: int) -> ResultsImport:
    """Store redemptions derived from the orders in the campaign window (replacing any others).

    A target customer with a purchase in the window counts as reactivated and as having used
    the coupon; its revenue is the window's net order amount. Control customers are reactivated
    the same way when the lift is evaluated, but have no coupon to use.
    """
    campaign = repo.get_campaign(store, campaign_id)
    frame = derived_redemptions(store, campaign)
    source = str(frame["source"].iloc[0]) if len(frame) else \
        f"{repo.DERIVED_PREFIX}{campaign.window_start}..{campaign.window_end}"
    warnings = []
    last = repo.last_order_date(store)
    if last is None or last < campaign.window_end:
        warnings.append(f"orders in the store end on {last or 'no date'}, before the window's end "
                        f"{campaign.window_end}: ingest the later orders and derive again")
    report = IntakeReport(source=source, kind="campaign redemptions", rows_in=len(frame),
                          accepted=len(frame), rejected=0, warnings=warnings)
    replaced = repo.replace_results(store, campaign.campaign_id, "redemptions", frame,
                                    source=source, report=report.to_dict(), replace_all=True)
    return ResultsImport(campaign.campaign_id, "redemptions", report, replaced)


__all__ = ["ALIASES", "KINDS", "ResultsImport", "derive_redemptions", "derived_redemptions",
           "detect_kind", "import_results"]

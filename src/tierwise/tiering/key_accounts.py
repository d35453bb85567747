"""Key accounts 关键客户: a selection matrix, gates, a cap, two kinds, manual overrides.

:func:`select_key_accounts` decides, for every customer of one period:

1. **Score** on a selection matrix (a :class:`~tierwise.tiering.Scorecard`; default criteria
   revenue, margin, growth_potential, strategic_fit, market_position, mutual_trust, those present,
   their weights rescaled to sum to 1).
2. **Gates** exclude whatever the score: the DOMAIN rule that a key account is not simply the
   biggest customer (default: ``growth_potential < 3`` excludes, and so does an unrated growth
   potential). Gates are structured data (column, operator from a fixed set, value), never code.
   Lost accounts (``lifecycle_stage`` ``lost``) and archived ones (``activity_policy``
   ``archive``) are not candidates either, unless added by hand: attention goes to accounts
   that still buy.
3. **Cap**: a mature company names at most 30 key accounts, a young one at most 5 (fewer than 6);
   ``max_accounts`` overrides. For a small base the cap is also at most ``max_share`` (default
   10 %) of the graded customers (``tier`` one of the pyramid levels), at least 1: a 60-customer
   shop names 5, not 30. Eligible customers are ranked by score (ties broken by
   ``customer_id`` so the result is reproducible) and the top ones fill the seats.
4. **Manual overrides** (``customer_id, action, reason, by, at``), honoured on every run they are
   passed to: the latest override of a customer wins. *Remove*: never a key account. *Add*: a key
   account even when gated or below the cap line. **Manual adds take seats**: the cap bounds the
   attention the company can give, so automatic picks fill only ``cap - adds`` seats. When the adds
   alone exceed the cap they all stay and the report says by how much (``cap_exceeded_by``). An
   override of a customer no longer in the data is reported (``unknown_overrides``), not an error.
5. **Kind**: ``strategic`` when ``growth_potential >= 4`` (``type_column``, ``strategic_min``),
   else ``core``; each kind has pricing guidance (:func:`pricing_guidance`).

References
----------
.. [1] The key-account article in the seeds (关键客户: not simply the biggest; selection matrix;
   mature firms at most 30, young firms fewer than 6; strategic vs core by growth potential).
"""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import KEY_ACCOUNT_CAPS, GateConfig, KeyAccountsConfig
from ..errors import ConfigError, DataContractError
from ..i18n import t
from ..i18n.render import plain_number as fmt
from ..i18n.render import render_notes
from ._common import Lang, check_lang, customer_ids, purchases
from .policies import KEY_ACCOUNT_TYPE_NAMES, PRICING_GUIDANCE
from .scorecard import Scorecard

OVERRIDE_COLUMNS = ("customer_id", "action", "reason", "by", "at")
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}
PREFIX = "key_account_score"


@dataclass
class KeyAccountReport:
    """What a selection did, for the people who have to answer for it."""

    company_stage: str
    cap: int
    cap_rule: str = ""
    graded: int = 0
    excluded_lost: int = 0
    excluded_archived: int = 0
    key_accounts: int = 0
    automatic: int = 0
    manual_adds: int = 0
    manual_removes: int = 0
    cap_exceeded_by: int = 0
    unknown_overrides: list[dict[str, Any]] = field(default_factory=list)
    dropped_criteria: list[str] = field(default_factory=list)
    skipped_gates: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class KeyAccountResult:
    """The selected frame (a copy of the input with the key-account columns) and its report."""

    frame: pd.DataFrame
    report: KeyAccountReport
    scorecard: Scorecard


def select_key_accounts(frame: pd.DataFrame, config: KeyAccountsConfig | None = None,
                        overrides: pd.DataFrame | None = None, *,
                        scorecard: Scorecard | None = None, lang: Lang = "en"
                        ) -> KeyAccountResult:
    """Choose the key accounts of one period.

    Parameters
    ----------
    frame
        One row per customer: ``customer_id``, the criteria's and gates' columns.
    config
        The ``[key_accounts]`` section; default :class:`~tierwise.config.KeyAccountsConfig`.
    overrides
        Manual changes with columns ``customer_id, action (add | remove), reason, by, at``.
    scorecard
        A Scorecard fitted on an earlier period to score this one with; by default a scorecard of
        ``config.criteria`` is fitted on ``frame``.
    lang
        Language of ``key_account_reason``: ``"en"`` or ``"zh"``.

    Returns
    -------
    KeyAccountResult
        ``frame``: a copy of the input plus ``key_account`` (bool), ``key_account_type``
        (strategic / core / None), ``key_account_score`` and its ``key_account_score_<name>``
        contributions and flags, ``key_account_rank`` (rank among the eligible),
        ``key_account_reason``; ``report``: a :class:`KeyAccountReport`.

    Raises
    ------
    ConfigError
        A required criterion's or gate's column is missing (named, with the columns there).
    DataContractError
        ``customer_id`` is missing, or the overrides lack a column or have an unknown action.
    """
    cfg = config if config is not None else KeyAccountsConfig()
    lang = check_lang(lang)
    ids = customer_ids(frame).to_numpy(dtype=object)
    card = scorecard if scorecard is not None else Scorecard(cfg.criteria)
    if not hasattr(card, "params_"):
        card.fit(frame)
    scores = card.transform(frame, prefix=PREFIX)
    cap, rule, graded = _cap(frame, cfg)
    report = KeyAccountReport(cfg.company_stage, cap, rule, graded,
                              dropped_criteria=list(card.dropped_))
    gates = _apply_gates(frame, cfg.gates, report)
    gated = _gated(gates, _status_parts(frame, report))
    adds, removes = _read_overrides(overrides, set(ids), report)
    blocked = np.full(len(ids), "", dtype=object)
    blocked[list(gated)] = "x"
    decision = _decide(ids, scores[PREFIX].to_numpy(dtype=float), blocked, adds, removes, cap)
    out = frame.copy()
    out[list(scores.columns)] = scores
    out["key_account"] = decision["key"]
    out["key_account_type"] = _kinds(frame, cfg, decision["key"], report)
    out["key_account_rank"] = pd.array(decision["rank"], dtype="Int64")
    args, words = _reasons(ids, out, gated, adds, removes, decision, lang)
    out["key_account_reason_args"] = args.tolist()  # a list: the column's dtype as before
    out["key_account_reason"] = words
    _fill_report(report, decision, adds, removes, cap)
    return KeyAccountResult(out, report, card)


def pricing_guidance(kind: str, lang: Lang = "en", config: KeyAccountsConfig | None = None) -> str:
    """The pricing guidance for a kind of key account (``strategic`` or ``core``).

    The built-in text (:data:`~tierwise.tiering.policies.PRICING_GUIDANCE`) unless
    ``config.pricing`` changes it.

    Examples
    --------
    >>> pricing_guidance("strategic").startswith("Strategic account")
    True
    """
    lang = check_lang(lang)
    if kind not in PRICING_GUIDANCE:
        raise ConfigError(f"no pricing guidance for key-account kind {kind!r}",
                          f"use one of {list(PRICING_GUIDANCE)}")
    change = (config or KeyAccountsConfig()).pricing.get(kind)
    text = getattr(change, lang, None) if change is not None else None
    return text if text is not None else PRICING_GUIDANCE[kind][lang]


def pricing_table(lang: Lang = "en", config: KeyAccountsConfig | None = None) -> pd.DataFrame:
    """Both kinds of key account with their names and pricing guidance."""
    lang = check_lang(lang)
    return pd.DataFrame([{"type": k, "name": KEY_ACCOUNT_TYPE_NAMES[k][lang],
                          "pricing": pricing_guidance(k, lang, config)}
                         for k in KEY_ACCOUNT_TYPE_NAMES])


# ---- cap and status -----------------------------------------------------------------------
GRADED_TIERS = ("key", "major", "ordinary", "long_tail")


def _cap(frame: pd.DataFrame, cfg: KeyAccountsConfig) -> tuple[int, str, int]:
    """The cap, the rule that set it, and the number of graded customers."""
    stage = (cfg.max_accounts if cfg.max_accounts is not None
             else KEY_ACCOUNT_CAPS[cfg.company_stage])
    source = ("max_accounts" if cfg.max_accounts is not None
              else f"company_stage = {cfg.company_stage}")
    if "tier" in frame.columns:
        graded = int(frame["tier"].isin(GRADED_TIERS).sum())
    elif "frequency" in frame.columns:
        graded = int((purchases(frame) >= 2).sum())
    else:  # nothing says who is graded: the stage cap alone
        return stage, source, len(frame)
    share = max(1, int(np.floor(cfg.max_share * graded + 1e-9)))
    if share < stage:
        return share, f"{cfg.max_share:.0%} of {graded} graded customers", graded
    return stage, source, graded


def _status_parts(frame: pd.DataFrame, report: KeyAccountReport) -> dict[int, list[Any]]:
    """Why its status excludes a row, as catalogue parts, for the rows it excludes (by
    position): lost (``ka.status.lost``) or archived (``ka.status.archived``)."""
    parts: dict[int, list[Any]] = {}
    checks = (("lifecycle_stage", "lost", "ka.status.lost", "excluded_lost"),
              ("activity_policy", "archive", "ka.status.archived", "excluded_archived"))
    for column, value, key, counter in checks:
        if column in frame.columns:
            hit = (frame[column].astype("string") == value).fillna(False).to_numpy(dtype=bool)
            setattr(report, counter, int(hit.sum()))
            for i in np.flatnonzero(hit).tolist():
                parts.setdefault(i, []).append([key, {}])
    return parts


def _gated(gates: np.ndarray, status: dict[int, list[Any]]) -> dict[int, list[Any]]:
    """The rows a gate or their status keeps out (by position), each with its parts: the
    failed gates (``ka.gate``) then the status. Rows not named pass (most of them: no list is
    made for those, issue 16)."""
    rows = sorted(set(np.flatnonzero(gates != "").tolist()) | set(status))
    gated = {i: [["ka.gate", {"text": g}] for g in gates[i].split("; ") if g]
             + status.get(i, []) for i in rows}
    return {i: g for i, g in gated.items() if g}


# ---- gates --------------------------------------------------------------------------------
def _apply_gates(frame: pd.DataFrame, gates: list[GateConfig],
                 report: KeyAccountReport) -> np.ndarray:
    """Per row, the gates it fails as text ('' when it passes them all)."""
    texts = np.full(len(frame), "", dtype=object)
    absent = [g for g in gates if g.column not in frame.columns]
    if any(g.if_column_absent == "error" for g in absent):
        names = [g.column for g in absent if g.if_column_absent == "error"]
        raise ConfigError(f"key-account gate column(s) {names} not in the data",
                          f"available columns: {sorted(map(str, frame.columns))}")
    for g in absent:
        report.skipped_gates.append(f"{g.column} {g.op} {g.value!r}")
        report.warnings.append(f"gate '{g.column} {g.op} {g.value!r}' skipped: no column "
                               f"'{g.column}' in the data")
    for g in gates:
        if g.column in frame.columns:
            hit = _gate_texts(frame[g.column], g)
            texts = np.where(hit == "", texts,
                             np.where(texts == "", hit, texts + "; " + hit))
    return texts


def _gate_texts(raw: pd.Series, gate: GateConfig) -> np.ndarray:
    values = gate.value if isinstance(gate.value, list) else [gate.value]
    numeric = all(isinstance(v, float | int) for v in values)
    column = (pd.to_numeric(raw, errors="coerce") if numeric
              else raw.astype("string").str.strip())
    null = column.isna().to_numpy()
    data = column.to_numpy(dtype=float, na_value=np.nan) if numeric \
        else column.to_numpy(dtype=object, na_value=None)
    if gate.op in ("in", "not in"):
        wanted = {float(v) for v in values} if numeric else {str(v).strip() for v in values}
        inside = np.array([x in wanted for x in data], dtype=bool)
        match = inside if gate.op == "in" else ~inside
    else:
        other = float(gate.value) if numeric else str(gate.value).strip()
        with np.errstate(invalid="ignore"):
            match = np.array([bool(_OPS[gate.op](x, other)) if not n else False
                              for x, n in zip(data, null)], dtype=bool)
    shown = fmt(float(gate.value)) if numeric and not isinstance(gate.value, list) \
        else repr(gate.value)
    texts = np.full(len(raw), "", dtype=object)
    idx = np.flatnonzero(match & ~null)
    texts[idx] = [f"{gate.column} {_show(data[i])} {gate.op} {shown}" for i in idx]
    if gate.if_null == "exclude":
        texts[null] = f"{gate.column} not rated"
    return texts


def _show(x: Any) -> str:
    return fmt(x) if isinstance(x, float) else str(x)


# ---- overrides ----------------------------------------------------------------------------
def _read_overrides(overrides: pd.DataFrame | None, known: set[str],
                    report: KeyAccountReport) -> tuple[dict[str, dict], dict[str, dict]]:
    """The latest add / remove per known customer; unknown customers go to the report."""
    if overrides is None or len(overrides) == 0:
        return {}, {}
    missing = [c for c in OVERRIDE_COLUMNS if c not in overrides.columns]
    if missing:
        raise DataContractError(f"key-account overrides lack column(s) {missing}",
                                f"give the columns {list(OVERRIDE_COLUMNS)}")
    table = overrides.loc[:, list(OVERRIDE_COLUMNS)].copy()
    table["customer_id"] = table["customer_id"].astype("string").str.strip()
    table["action"] = table["action"].astype("string").str.strip().str.lower()
    bad = ~table["action"].isin(["add", "remove"]).fillna(False)
    if bad.any():
        rows = [f"row {i + 1}: {v!r}" for i, v in zip(np.flatnonzero(bad), table["action"][bad])]
        raise DataContractError(f"key-account overrides have unknown actions ({', '.join(rows)})",
                                "action must be 'add' or 'remove'")
    table["_at"] = pd.to_datetime(table["at"], errors="coerce")
    table["_order"] = np.arange(len(table))
    table = table.sort_values(["_at", "_order"], na_position="first", kind="stable")
    latest = table.drop_duplicates("customer_id", keep="last")
    adds, removes = {}, {}
    for row in latest.to_dict("records"):
        entry = {k: row[k] for k in OVERRIDE_COLUMNS} | {"when": _when(row["at"], row["_at"])}
        if row["customer_id"] not in known:
            report.unknown_overrides.append(
                entry | {"note": "customer not in this period's data; override not applied"})
        else:
            (adds if row["action"] == "add" else removes)[row["customer_id"]] = entry
    if report.unknown_overrides:
        report.warnings.append(f"{len(report.unknown_overrides)} override(s) name customers not "
                               "in the data: " + ", ".join(
                                   str(u["customer_id"]) for u in report.unknown_overrides))
    return adds, removes


def _when(raw: Any, parsed: Any) -> str:
    if pd.isna(parsed):
        return "" if raw is None or pd.isna(raw) else str(raw)
    stamp = pd.Timestamp(parsed)
    return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() \
        else stamp.strftime("%Y-%m-%d %H:%M")


# ---- decision -----------------------------------------------------------------------------
def _decide(ids: np.ndarray, score: np.ndarray, gated: np.ndarray, adds: dict, removes: dict,
            cap: int) -> dict[str, Any]:
    added = pd.Index(ids, dtype=object).isin(list(adds)) if adds \
        else np.zeros(len(ids), dtype=bool)
    removed = pd.Index(ids, dtype=object).isin(list(removes)) if removes \
        else np.zeros(len(ids), dtype=bool)
    eligible = (gated == "") & ~added & ~removed
    seats = max(cap - int(added.sum()), 0)
    order = np.lexsort((ids.astype(str), -score))
    order = order[eligible[order]]
    rank = np.full(len(ids), None, dtype=object)
    rank[order] = np.arange(1, len(order) + 1)
    ranked = np.zeros(len(ids), dtype=np.int64)
    ranked[order] = np.arange(1, len(order) + 1)
    automatic = eligible & (ranked >= 1) & (ranked <= seats)
    return {"key": added | automatic, "automatic": automatic, "added": added,
            "removed": removed, "rank": rank, "seats": seats, "score": score}


def _kinds(frame: pd.DataFrame, cfg: KeyAccountsConfig, key: np.ndarray,
           report: KeyAccountReport) -> pd.Series:
    if cfg.type_column in frame.columns:
        growth = pd.to_numeric(frame[cfg.type_column], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan)
    else:
        growth = np.full(len(frame), np.nan)
        if key.any():
            report.warnings.append(f"no column '{cfg.type_column}': every key account is core")
    with np.errstate(invalid="ignore"):
        kind = np.where(growth >= cfg.strategic_min, "strategic", "core")
    return pd.Series(np.where(key, kind, None), index=frame.index, dtype=object)


_MARK = "\x00rank\x00"


def _reasons(ids: np.ndarray, out: pd.DataFrame, gated: dict[int, list[Any]], adds: dict,
             removes: dict, d: dict[str, Any], lang: Lang) -> tuple[pd.Series, pd.Series]:
    """Per customer, why in or out, as catalogue parts (JSON) and in words (``lang``, as
    :func:`tierwise.i18n.render.render_note` words the parts).

    The common case, ranked below the seats (``ka.cap``), is written a column at a time: the
    JSON and the words of the seats once, the rank per row (issue 16; compared with
    :func:`_reason_of` row by row in tests/test_tiering_key_accounts.py).
    """
    n = len(ids)
    n_added = int(d["added"].sum())
    fields = {"seats": d["seats"], "added": n_added} if n_added else {"seats": d["seats"]}
    key = "ka.cap_added" if n_added else "ka.cap"
    common = ~(d["removed"] | d["added"] | d["automatic"])
    common[list(gated)] = False
    rows = np.flatnonzero(common)
    rank = d["rank"][rows].astype(np.int64).astype(str).astype(object)
    head, tail = json.dumps([[key, {"rank": _MARK, **fields}]]).split(json.dumps(_MARK))
    args = np.empty(n, dtype=object)
    args[rows] = head + rank + tail
    words_head, words_tail = t(key, lang, rank=_MARK, **fields).split(_MARK)
    words = np.empty(n, dtype=object)
    words[rows] = words_head + rank + words_tail
    rest = np.flatnonzero(~common)
    kinds = out["key_account_type"].to_numpy(dtype=object)
    args[rest] = [_reason_of(i, ids[i], kinds[i], gated.get(i, []), adds, removes, d)
                  for i in rest.tolist()]
    words[rest] = render_notes(pd.Series(args[rest], dtype=object), lang).to_numpy(dtype=object)
    return (pd.Series(args, index=out.index, dtype=object),
            pd.Series(words, index=out.index, dtype=object))


def _reason_of(i: int, cid: Any, kind: Any, gated: list[Any], adds: dict, removes: dict,
               d: dict[str, Any]) -> str:
    """One customer's reason as catalogue parts (JSON), the rule for every case."""
    if not (d["removed"][i] or d["added"][i] or gated or d["automatic"][i]):
        n_added = int(d["added"].sum())
        seats = json.dumps(d["seats"])
        cap = ('[["ka.cap_added", {"rank": %d, "seats": ' + seats + f', "added": {n_added}}}]]'
               if n_added else '[["ka.cap", {"rank": %d, "seats": ' + seats + "}]]")
        return cap % int(d["rank"][i])
    if d["removed"][i]:
        part = ["ka.manual_remove", _manual_fields(removes[cid])]
    elif d["added"][i]:
        part = ["ka.manual_add_gated", {**_manual_fields(adds[cid]), "gates": gated}] \
            if gated else ["ka.manual_add", _manual_fields(adds[cid])]
    elif gated:
        part = ["ka.gated", {"gates": gated}]
    else:  # automatic
        part = ["ka.rank", {"rank": int(d["rank"][i]), "seats": d["seats"],
                            "score": fmt(d["score"][i]), "kind": kind}]
    return json.dumps([part], ensure_ascii=False)


def _manual_fields(entry: dict[str, Any]) -> dict[str, str]:
    return {"by": "" if pd.isna(entry["by"]) else str(entry["by"]), "when": str(entry["when"]),
            "reason": "" if pd.isna(entry["reason"]) else str(entry["reason"])}


def _fill_report(report: KeyAccountReport, d: dict[str, Any], adds: dict, removes: dict,
                 cap: int) -> None:
    report.key_accounts = int(d["key"].sum())
    report.automatic = int(d["automatic"].sum())
    report.manual_adds = len(adds)
    report.manual_removes = len(removes)
    report.cap_exceeded_by = max(len(adds) - cap, 0)
    if report.cap_exceeded_by:
        report.warnings.append(
            f"manual adds ({len(adds)}) exceed the cap of {cap} by {report.cap_exceeded_by}: "
            "all kept, no automatic key account this run")


__all__ = [
    "OVERRIDE_COLUMNS",
    "KeyAccountReport",
    "KeyAccountResult",
    "pricing_guidance",
    "pricing_table",
    "select_key_accounts",
]

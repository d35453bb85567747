"""Selection-matrix proposals in the store: learn one, read them, accept (with edits) or reject.

A proposal (:func:`tierwise.tiering.selection_learning.learn_selection`) is kept with the config
hash it was learned under, the runs it learned from, its evidence and look-alike accounts, and
what people decided: ``proposed`` until someone accepts it (possibly with edited weights) or
rejects it. Accepting never rewrites the user's config file: it returns the
``[[key_accounts.criteria]]`` TOML to paste, and the store keeps the accepted weights.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import ValidationError

from ..config import CriterionConfig, KeyAccountsConfig
from ..errors import ConfigError, StoreError
from .selection_learning import learn_selection, proposed_criteria

if TYPE_CHECKING:
    from ..config import Config
    from ..store import Store

STATUSES = ("proposed", "accepted", "rejected")
LIST_COLUMNS = ["proposal_id", "created_at", "created_by", "config_hash", "from_run", "to_run",
                "status", "decided_by", "decided_at"]


def _has_table(store: Store) -> bool:
    """False for a store written before proposals existed (opened read-only, not migrated)."""
    return bool(store.con.execute("SELECT count(*) FROM information_schema.tables "
                                  "WHERE table_name = 'selection_proposals'").fetchall()[0][0])


def learning_runs(store: Store, periods: int = 4) -> list[dict[str, Any]]:
    """The runs to learn from: the newest run of each period, the last ``periods`` of them."""
    runs = store.runs()
    if runs.empty:
        raise StoreError(f"store {store.path} has no runs yet", "run 'tierwise run' first")
    newest = runs.sort_values(["as_of", "run_id"]).drop_duplicates("period", keep="last")
    chosen = newest.sort_values("as_of").tail(max(1, periods))
    return [store.run_info(int(r)) for r in chosen["run_id"]]


def learn_proposal(store: Store, cfg: Config, *, by: str, periods: int = 4,
                   top_share: float = 0.2, candidates: list[str] | None = None,
                   lookalikes: int = 10) -> dict[str, Any]:
    """Learn a proposal from the store's snapshots and keep it; returns it as stored."""
    infos = learning_runs(store, periods)
    snaps = [store.snapshot(i["run_id"], words=False) for i in infos]
    proposal = learn_selection(
        snaps, snaps[-1], cfg.key_accounts, top_share=top_share, candidates=candidates,
        lookalikes=lookalikes, runs=[int(i["run_id"]) for i in infos],
        periods=[str(i["period"]) for i in infos])
    body = proposal.to_dict()
    with store.transaction() as con:
        pid = int(con.execute("SELECT nextval('selection_proposal_id_seq')").fetchall()[0][0])
        con.execute(
            "INSERT INTO selection_proposals (proposal_id, created_at, created_by, config_hash, "
            "from_run, to_run, status, proposed, body) VALUES (?, ?, ?, ?, ?, ?, 'proposed', ?, ?)",
            [pid, _now(), by, cfg.config_hash(), infos[0]["run_id"], infos[-1]["run_id"],
             json.dumps(proposal.weights()), json.dumps(body, ensure_ascii=False)])
    return get_proposal(store, pid)


def list_proposals(store: Store) -> pd.DataFrame:
    """Every proposal, newest first (without the evidence)."""
    if not _has_table(store):
        return pd.DataFrame(columns=LIST_COLUMNS)
    return store.con.execute(f"SELECT {', '.join(LIST_COLUMNS)} FROM selection_proposals "
                             "ORDER BY proposal_id DESC").df()


def get_proposal(store: Store, proposal_id: int | str = "latest") -> dict[str, Any]:
    """One proposal with its evidence (``"latest"``: the newest); a StoreError when none."""
    if not _has_table(store):
        raise StoreError("this store has no selection proposals yet",
                         "run 'tierwise key-accounts learn' first")
    if proposal_id == "latest":
        rows = store.con.execute("SELECT * FROM selection_proposals "
                                 "ORDER BY proposal_id DESC LIMIT 1").fetchall()
    else:
        rows = store.con.execute("SELECT * FROM selection_proposals WHERE proposal_id = ?",
                                 [_id(proposal_id)]).fetchall()
    if not rows:
        raise StoreError(f"no selection proposal {proposal_id}",
                         "list them with 'tierwise key-accounts proposals', or learn one with "
                         "'tierwise key-accounts learn'")
    names = [d[0] for d in store.con.description]
    row = dict(zip(names, rows[0], strict=True))
    for key in ("proposed", "accepted", "body"):
        row[key] = json.loads(row[key]) if row.get(key) else None
    return row


def _id(value: int | str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"proposal id {value!r} is not a number",
                          "give the number 'tierwise key-accounts proposals' lists") from None


def final_weights(proposal: dict[str, Any], edits: dict[str, float] | None = None
                  ) -> tuple[dict[str, float], list[CriterionConfig]]:
    """The proposal's weights with people's edits, summing to 1, and the criteria.

    ``edits``: ``name -> weight`` for any criterion of the proposal's evidence (0 leaves it out).
    Edited weights are kept as given and the other criteria share the rest in their proposed
    proportions; when the edits leave nothing to share (or every criterion is edited) all the
    weights are rescaled to sum to 1.
    """
    evidence = proposal["body"]["criteria"]
    weights = dict(proposal["proposed"])
    known = [e["name"] for e in evidence]
    for name, value in (edits or {}).items():
        if name not in known:
            raise ConfigError(f"criterion {name!r} is not in proposal {proposal['proposal_id']}",
                              f"edit one of {known}")
        if not value >= 0:
            raise ConfigError(f"weight of {name} is {value}: a weight is 0 or more",
                              "give e.g. --weight revenue=0.3 (0 leaves the criterion out)")
        weights[name] = float(value)
    weights = {k: v for k, v in weights.items() if v > 0}
    if sum(weights.values()) <= 0:
        raise ConfigError("no criterion would have a weight",
                          "give at least one criterion a weight above 0 with --weight name=value")
    weights = _rescaled(weights, {k for k in (edits or {}) if k in weights})
    top = max(weights, key=weights.__getitem__)
    weights[top] = round(weights[top] + 1.0 - sum(weights.values()), 4)
    criteria = proposed_criteria(evidence, weights)
    try:
        KeyAccountsConfig(criteria=criteria)
    except ValidationError as exc:
        raise ConfigError("the edited selection matrix is not valid: "
                          + "; ".join(e["msg"] for e in exc.errors()),
                          "keep at most 8 criteria with weights above 0") from None
    return weights, criteria


def _rescaled(weights: dict[str, float], edited: set[str]) -> dict[str, float]:
    """Weights summing to 1: edited ones kept as given while they leave room for the others
    (which share what is left in their proposed proportions); otherwise all rescaled."""
    fixed = sum(weights[k] for k in edited)
    rest = sum(v for k, v in weights.items() if k not in edited)
    if edited and fixed < 1 and rest > 0:
        return {k: round(v if k in edited else v / rest * (1 - fixed), 4)
                for k, v in weights.items()}
    total = sum(weights.values())
    return {k: round(v / total, 4) for k, v in weights.items()}


def decide_proposal(store: Store, proposal_id: int | str, status: str, *, by: str,
                    edits: dict[str, float] | None = None, note: str = "") -> dict[str, Any]:
    """Accept (with optional edits) or reject a proposal; a decided one stays decided."""
    if status not in ("accepted", "rejected"):
        raise ConfigError(f"decision {status!r} is not accepted or rejected")
    proposal = get_proposal(store, proposal_id)
    if proposal["status"] != "proposed":
        raise StoreError(f"proposal {proposal['proposal_id']} was already {proposal['status']} "
                         f"by {proposal['decided_by']}",
                         "learn a new one with 'tierwise key-accounts learn'")
    accepted = final_weights(proposal, edits)[0] if status == "accepted" else None
    with store.transaction() as con:
        con.execute("UPDATE selection_proposals SET status = ?, accepted = ?, decided_by = ?, "
                    "decided_at = ?, note = ? WHERE proposal_id = ? AND status = 'proposed'",
                    [status, json.dumps(accepted) if accepted else None, by, _now(),
                     note or None, proposal["proposal_id"]])
    return get_proposal(store, proposal["proposal_id"])


def criteria_toml(criteria: list[CriterionConfig], *, header: str = "") -> str:
    """``[[key_accounts.criteria]]`` tables to paste into the config, one per criterion."""
    lines = [f"# {header}"] if header else []
    for c in criteria:
        lines += ["[[key_accounts.criteria]]", f'name = "{c.name}"', f'source = "{c.source}"',
                  f'normalise = "{c.normalise}"', f"weight = {c.weight:g}"]
        if c.direction != "higher_better":
            lines.append(f'direction = "{c.direction}"')
        if c.bounds is not None:
            lines.append(f"bounds = [{c.bounds[0]:g}, {c.bounds[1]:g}]")
        if c.mapping:
            pairs = ", ".join(f'"{k}" = {v:g}' for k, v in c.mapping.items())
            lines.append(f"mapping = {{ {pairs} }}")
        lines += ["optional = true", ""]
    return "\n".join(lines)


def accepted_toml(proposal: dict[str, Any]) -> str:
    """The TOML of an accepted proposal's weights ('' when it is not accepted)."""
    if proposal.get("status") != "accepted" or not proposal.get("accepted"):
        return ""
    criteria = proposed_criteria(proposal["body"]["criteria"], proposal["accepted"])
    return criteria_toml(criteria, header=f"selection matrix accepted from proposal "
                                          f"{proposal['proposal_id']}")


#: The columns of a proposal's evidence table, in reading order.
EVIDENCE_COLUMNS = ["criterion_name", "source", "candidate", "configured_weight",
                    "proposed_weight", "accepted_weight", "rho", "p_value", "coefficient",
                    "mean_growers", "mean_rest", "n"]
#: The measures the comparison table compares the weights on.
MEASURES = ("rho", "top")


def proposal_frames(proposal: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """A stored proposal as tables (codes and figures; the CLI, report and web word them).

    Returns
    -------
    dict of str -> pandas.DataFrame
        ``evidence`` (one row per criterion, :data:`EVIDENCE_COLUMNS`), ``comparison`` (one row
        per measure: ``measure``, ``configured``, ``proposed``, ``proposed_out_of_sample``),
        ``growers`` and ``lookalikes``.
    """
    body = proposal["body"]
    accepted = proposal.get("accepted") or {}
    evidence = pd.DataFrame([{
        "criterion_name": e["name"], "source": e["source"], "candidate": bool(e["candidate"]),
        "configured_weight": e["configured_weight"], "proposed_weight": e["proposed_weight"],
        "accepted_weight": accepted.get(e["name"], 0.0) if accepted else None,
        "rho": e["rho"], "p_value": e["p_value"], "coefficient": e["coefficient"],
        "mean_growers": e["mean_growers"], "mean_rest": e["mean_rest"], "n": e["n"]}
        for e in body["criteria"]], columns=EVIDENCE_COLUMNS)
    if not accepted:
        evidence = evidence.drop(columns=["accepted_weight"])
    cmp = body["comparison"]
    comparison = pd.DataFrame([
        {"measure": "rho", "configured": cmp["configured_rho"], "proposed": cmp["proposed_rho"],
         "proposed_out_of_sample": cmp.get("proposed_rho_out_of_sample")},
        {"measure": "top", "configured": cmp["configured_growers_in_top"],
         "proposed": cmp["proposed_growers_in_top"],
         "proposed_out_of_sample": cmp.get("proposed_growers_in_top_out_of_sample")}])
    return {"evidence": evidence, "comparison": comparison,
            "growers": pd.DataFrame(body.get("top_growers") or []),
            "lookalikes": pd.DataFrame(body.get("lookalikes") or [])}


def proposal_for_run(store: Store, run_id: int) -> dict[str, Any] | None:
    """The newest proposal learned from snapshots up to ``run_id`` (None when there is none)."""
    if not _has_table(store):
        return None
    rows = store.con.execute("SELECT proposal_id FROM selection_proposals WHERE to_run <= ? "
                             "ORDER BY proposal_id DESC LIMIT 1", [int(run_id)]).fetchall()
    return get_proposal(store, rows[0][0]) if rows else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


__all__ = [
    "EVIDENCE_COLUMNS",
    "MEASURES",
    "STATUSES",
    "accepted_toml",
    "criteria_toml",
    "decide_proposal",
    "final_weights",
    "get_proposal",
    "learn_proposal",
    "learning_runs",
    "list_proposals",
    "proposal_for_run",
    "proposal_frames",
]

"""The selection matrix that learns from the best, on the dashboard (/key-accounts/selection).

Reads and writes the store itself (proposals are not in the server's copy), opened briefly
through :class:`~tierwise.web.snapshots.StoreFile`, and calls
:mod:`tierwise.tiering.selection_proposals` as the CLI does. Rules of the dashboard:

* every role sees a proposal's evidence and comparison (figures about criteria, no person);
* the accounts it lists (the growers, the look-alikes) are scoped like everything else: a
  manager or an owner sees those among their own customers of the proposal's latest run;
* only an admin accepts (with edited weights) or rejects a proposal: the selection matrix is the
  whole company's, as campaigns are.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from ..errors import StoreError
from ..store import Store
from ..tiering.selection_proposals import (
    accepted_toml,
    decide_proposal,
    get_proposal,
    list_proposals,
    proposal_frames,
)
from .access import Viewer
from .errors import Forbidden, NotFound
from .queries import json_safe


def _mine(con: duckdb.DuckDBPyConnection, viewer: Viewer, run_id: int) -> set[str] | None:
    """The viewer's customer ids in the run (None: everyone)."""
    if viewer.scope_terms() is None:
        return None
    scope, params = viewer.scope()
    return {r[0] for r in con.execute(
        f"SELECT customer_id FROM snapshot_customers WHERE run_id = ? AND {scope}",
        [run_id, *params]).fetchall()}


def selection(store: Store, con: duckdb.DuckDBPyConnection, viewer: Viewer,
              proposal_id: int | str = "latest", *, config_hash: str | None = None
              ) -> dict[str, Any]:
    """A proposal as the page and its JSON twin show it (``proposal`` None when there is none).

    ``con`` holds the snapshots (the server's copy), which decide the viewer's customers.
    """
    history = json.loads(list_proposals(store).to_json(orient="records", date_format="iso"))
    try:
        proposal = get_proposal(store, proposal_id)
    except StoreError:
        if proposal_id != "latest":
            raise NotFound(f"no selection proposal {proposal_id}",
                           "open the latest one at /key-accounts/selection") from None
        return {"proposal": None, "history": history, "can_decide": viewer.is_admin}
    frames = proposal_frames(proposal)
    mine = _mine(con, viewer, int(proposal["to_run"]))
    people = {}
    for key in ("growers", "lookalikes"):
        rows = frames[key].to_dict(orient="records")
        people[key] = [r for r in rows if mine is None or str(r.get("customer_id")) in mine]
    body = proposal["body"]
    return json_safe(json.loads(json.dumps({
        "proposal": {k: proposal[k] for k in ("proposal_id", "created_at", "created_by",
                                              "config_hash", "from_run", "to_run", "status",
                                              "proposed", "accepted", "decided_by",
                                              "decided_at", "note")},
        "periods": body["periods"], "accounts": body["accounts"], "growers_count": body["growers"],
        "left_out_new": body["left_out_new"], "top_share": body["top_share"],
        "no_signal": "no_signal" in (body.get("notes") or []),
        "config_changed": bool(config_hash and config_hash != proposal["config_hash"]),
        "config_hash_now": config_hash,
        "evidence": frames["evidence"].to_dict(orient="records"),
        "comparison": frames["comparison"].to_dict(orient="records"),
        "growers": people["growers"], "lookalikes": people["lookalikes"],
        "toml": accepted_toml(proposal), "history": history,
        "can_decide": viewer.is_admin and proposal["status"] == "proposed"}, default=str)))


def decide(store: Store, viewer: Viewer, proposal_id: int, status: str, *,
           weights: dict[str, float] | None = None, note: str = "") -> dict[str, Any]:
    """Accept (with the weights as edited) or reject a proposal (admins only).

    ``weights``: the form's weights; only those that differ from the proposal count as edits.
    """
    if not viewer.is_admin:
        raise Forbidden("only an admin can accept or reject a selection-matrix proposal",
                        "ask an admin, or use 'tierwise key-accounts accept'")
    try:
        proposal = get_proposal(store, proposal_id)
    except StoreError:
        raise NotFound(f"no selection proposal {proposal_id}",
                       "open the latest one at /key-accounts/selection") from None
    proposed = proposal["proposed"] or {}
    edits = {k: v for k, v in (weights or {}).items()
             if abs(v - float(proposed.get(k, 0.0))) > 1e-9}
    decided = decide_proposal(store, proposal_id, status, by=viewer.name, edits=edits or None,
                              note=note)
    return {"proposal_id": decided["proposal_id"], "status": decided["status"]}


__all__ = ["decide", "selection"]

"""The report section "selection matrix learned from the best" (选择矩阵学习).

Read from the newest selection-matrix proposal learned from this run's snapshots or earlier ones
(:func:`tierwise.tiering.selection_proposals.proposal_for_run`): its evidence per criterion,
how the configured and the proposed weights rank the growers, the accounts that grew most, the
current accounts that look like them, and (once accepted) the TOML to paste into the config.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..tiering.selection_proposals import accepted_toml, proposal_for_run, proposal_frames
from .structure import Figure

#: How the section's own columns are shown (the others come from structure.FORMATS).
SELECTION_FORMATS = {
    "configured_weight": "percent", "proposed_weight": "percent", "accepted_weight": "percent",
    "rho": "number", "p_value": "number", "coefficient": "number", "mean_growers": "number",
    "mean_rest": "number", "n": "integer", "configured": "number", "proposed": "number",
    "proposed_out_of_sample": "number", "revenue_ly": "currency", "growth": "percent",
    "proposed_score": "number"}


def selection_section(c: Any) -> Any:
    """The section from the newest proposal up to this run (``c``: the builders' context)."""
    proposal = proposal_for_run(c.store, int(c.run_id))
    if proposal is None:
        return c.missing("selection", "why.no_selection_proposal", top="20 %", periods="-")
    body = proposal["body"]
    s = c.section("selection", top=f"{body['top_share']:.0%}", periods=len(body["periods"]))
    status = c.t(f"val.status_{proposal['status']}")
    if proposal.get("decided_by"):
        status += f" ({proposal['decided_by']}, {str(proposal['decided_at'])[:16]})"
    s.figures += [
        Figure("proposal", c.t("fig.proposal"), int(proposal["proposal_id"]), "integer"),
        Figure("proposal_status", c.t("fig.proposal_status"), status, "text"),
        Figure("periods_learned", c.t("fig.periods_learned"), ", ".join(body["periods"]), "text"),
        Figure("accounts_learned", c.t("fig.accounts_learned"), body["accounts"], "integer"),
        Figure("growers", c.t("fig.growers"), body["growers"], "integer"),
        Figure("left_out_new", c.t("fig.left_out_new"), body["left_out_new"], "integer"),
        Figure("config_hash", c.t("fig.config_hash"), proposal["config_hash"], "text")]
    if "no_signal" in (body.get("notes") or []):
        s.figures.append(Figure("notes", c.t("fig.notes"), c.t("selection.no_signal"), "text"))
    frames = proposal_frames(proposal)
    evidence = frames["evidence"].assign(
        candidate=lambda f: f["candidate"].map(lambda v: c.t("val.yes" if v else "val.no")))
    comparison = frames["comparison"].assign(
        measure=lambda f: f["measure"].map(lambda m: c.t(f"selection.measure_{m}")))
    for key, title, frame in (("evidence", "selection.evidence", evidence),
                              ("comparison", "selection.comparison", comparison),
                              ("growers", "selection.growers", frames["growers"]),
                              ("lookalikes", "selection.lookalikes", _yes_no(c, frames))):
        if len(frame):
            table = c.make(key, title, frame, {
                "source": c.t("col.criterion_source"),
                "key_account_score": c.t("col.current_score")})
            table.formats.update({k: v for k, v in SELECTION_FORMATS.items() if k in frame})
            s.tables.append(table)
    toml = accepted_toml(proposal)
    if toml:
        s.tables.append(c.make("toml", "selection.toml",
                               pd.DataFrame({"toml": toml.splitlines()}),
                               {"toml": c.t("selection.toml")}))
    return s


def _yes_no(c: Any, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    look = frames["lookalikes"]
    if "key_account" in look:
        look = look.assign(key_account=look["key_account"].map(
            lambda v: c.t("val.yes" if v else "val.no")))
    if "tier" in look:
        from ..i18n import name_of
        look = look.assign(tier=look["tier"].map(lambda v: name_of("tier", v, c.lang)))
    return look

"""Win-back campaigns from the dashboard: list, create from a filter, evaluate, export targets.

These read and write the store itself (campaigns are not in the server's copy: evaluating one
reads the orders), opened briefly through :class:`~tierwise.web.snapshots.StoreFile`, and they
call :mod:`tierwise.campaigns` as the CLI does. Rules of the dashboard:

* every role sees the campaign list, a campaign and its evaluation (counts and money, nothing
  about a person);
* the target list is scoped like everything else: a manager or an owner gets the targets among
  their own customers of the campaign's run; phone numbers are masked unless the role may see
  them in full;
* only an admin creates campaigns or adds a follow-up step (an audience spans every manager's
  customers);
* a campaign with follow-up steps shows each step and the total
  (:func:`tierwise.campaigns.evaluate_series`).
"""

from __future__ import annotations

from typing import Any

import duckdb

from ..campaigns import (
    AudienceFilter,
    add_follow_up,
    campaign_settings,
    create_campaign,
    evaluate_campaign,
    evaluate_series,
    get_campaign,
    list_campaigns,
    target_list,
)
from ..campaigns.repository import series
from ..config import CampaignDefaultsConfig
from ..errors import ConfigError
from ..store import Store
from .access import Viewer
from .errors import Forbidden
from .models import CampaignIn
from .queries import json_safe


def campaigns(store: Store) -> list[dict[str, Any]]:
    """Every campaign, oldest first (empty for a store written before campaigns existed)."""
    tables = {r[0] for r in store.con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    if "campaigns" not in tables:
        return []
    return [c.to_dict() for c in list_campaigns(store)]


def campaign_detail(store: Store, campaign_id: int, settings: CampaignDefaultsConfig
                    ) -> dict[str, Any]:
    """A campaign and its evaluation (figures, lift, follow-up) as the CLI computes them."""
    evaluation = evaluate_campaign(store, campaign_id, settings)
    steps = len(series(store, campaign_id)) > 1
    return {"campaign": evaluation.campaign.to_dict(), "evaluation": json_safe(
        evaluation.to_dict()), "series": json_safe(evaluate_series(
            store, campaign_id, settings).to_dict()) if steps else None}


def follow_up(store: Store, viewer: Viewer, campaign_id: int, defaults: CampaignDefaultsConfig,
              *, after_days: int | None = None, window_days: int | None = None
              ) -> dict[str, Any]:
    """Add a follow-up step for the campaign's non-responders (admins only)."""
    if not viewer.is_admin:
        raise Forbidden("only an admin can add a follow-up step",
                        "ask an admin, or use 'tierwise campaign follow-up'")
    return add_follow_up(store, campaign_id, defaults, after_days=after_days,
                         window_days=window_days).to_dict()


def targets(store: Store, con: duckdb.DuckDBPyConnection, viewer: Viewer, campaign_id: int
            ) -> dict[str, Any]:
    """The campaign's target list among the viewer's customers (never the control group).

    ``con`` holds the snapshots (the server's copy), which decide the viewer's customers in the
    campaign's run.
    """
    campaign = get_campaign(store, campaign_id)
    frame = target_list(store, campaign_id, with_contacts=viewer.full_contacts)
    if not viewer.is_admin:
        scope, params = viewer.scope()
        mine = {r[0] for r in con.execute(
            f"SELECT customer_id FROM snapshot_customers WHERE run_id = ? AND {scope}",
            [campaign.run_id, *params]).fetchall()}
        frame = frame[frame["customer_id"].astype(str).isin(mine)]
    items = json_safe(frame.to_dict(orient="records"))
    return {"campaign_id": campaign.campaign_id, "total": len(items), "items": items}


def create(store: Store, viewer: Viewer, data: CampaignIn,
           defaults: CampaignDefaultsConfig, segments: Any = None) -> dict[str, Any]:
    """Create a campaign from a filter (admins only); settings left empty come from the config.

    Raises
    ------
    Forbidden
        For a viewer who is not an admin.
    ConfigError
        For an empty filter, bad settings, or a filter that leaves nobody to contact.
    """
    if not viewer.is_admin:
        raise Forbidden("only an admin can create campaigns",
                        "ask an admin, or use 'tierwise campaign create'")
    filt = AudienceFilter(min_days_since_last=data.min_days_since_last,
                          max_days_since_last=data.max_days_since_last,
                          states=data.states or None, tiers=data.tiers or None,
                          segments=data.segments or None, where=data.where or None)
    if filt.is_empty():
        raise ConfigError("no audience filter given",
                          "give at least one of: days since the last purchase, states, tiers, "
                          "segments, a rule")
    settings = campaign_settings(defaults, face_value=data.face_value,
                                 message_unit_cost=data.message_unit_cost,
                                 gross_margin=data.gross_margin,
                                 control_share=data.control_share, message=data.message or None)
    campaign = create_campaign(store, filt, settings, name=data.name or None,
                               run=data.run_id if data.run_id is not None else "latest",
                               segments=segments)
    return campaign.to_dict()


__all__ = ["campaign_detail", "campaigns", "create", "follow_up", "targets"]

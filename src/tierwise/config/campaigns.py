"""Win-back campaign defaults: ``[campaigns]``."""

from __future__ import annotations


from pydantic import Field, field_validator

from ..errors import ConfigError

from ._base import _Section, _known_codes


class CampaignDefaultsConfig(_Section):
    """Win-back campaigns (``[campaigns]``): defaults that 'tierwise campaign create' flags override."""

    face_value: float | None = Field(
        None, ge=0, description="coupon face value per target customer; not set: give "
                                "--face-value to 'campaign create' (0 = a message without coupon)")
    message_unit_cost: float = Field(
        0.1, ge=0, description="cost of one message (SMS) sent, in the config's currency")
    gross_margin: float = Field(
        0.6, ge=0, le=1, description="gross margin on campaign revenue, as a share (60 % = 0.6)")
    control_share: float = Field(
        0.1, ge=0, lt=1, description="share of the audience held out at random as a control "
                                     "group (never contacted, never exported)")
    seed: int | None = Field(
        None, description="seed of the control-group draw; not set: the campaign's id, so "
                          "campaigns draw different control groups (the seed used is recorded)")
    cooldown_days: int = Field(
        30, ge=0, description="exclude customers contacted by another campaign fewer than this "
                              "many days before (or after) the new campaign's start")
    exclude_policies: list[str] = Field(
        default_factory=lambda: ["do_not_contact", "archive"],
        description="activity policies never contacted (customers unlikely to buy again)")
    exclude_states: list[str] = Field(
        default_factory=list,
        description="activity states never contacted, besides the policies (this used to be "
                    "['dead']; set it to keep excluding by state)")
    message: str | None = Field(
        None, description="message text for the SMS gateway, merged per target in the target "
                          "list: placeholders {name}, {favourite_product|招牌菜} (with a default) "
                          "... see docs/campaigns.md; 'playbook': each target's segment playbook "
                          "message; not set: no message column")
    window_days: int = Field(
        30, ge=1, description="campaign window length when no end date is given (start: the day "
                              "after the snapshot's as-of date)")
    follow_up_months: int = Field(
        3, ge=1, le=24, description="months after the window in which reactivated customers are "
                                    "followed up")
    regular_min_visits: float = Field(
        1.0, gt=0, description="a reactivated customer is a regular with at least this many "
                               "visits in every follow-up month")
    min_group_size: int = Field(
        30, ge=2, description="target or control smaller than this: the lift is reported as "
                              "too small to tell")
    confidence: float = Field(
        0.95, gt=0, lt=1, description="confidence level of the lift intervals")

    @field_validator("exclude_policies")
    @classmethod
    def _known_policies(cls, value: list[str]) -> list[str]:
        from ..lifecycle.policies import POLICY_CODES  # data module; imported late

        return _known_codes(value, POLICY_CODES, "activity policy(ies)")

    @field_validator("message")
    @classmethod
    def _message_reads(cls, value: str | None) -> str | None:
        if value is not None and value != "playbook":
            from ..campaigns.messages import parse_template  # the template lives with campaigns

            try:
                parse_template(value, where="message")
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("exclude_states")
    @classmethod
    def _known_states(cls, value: list[str]) -> list[str]:
        from ..lifecycle.policies import ACTIVITY_STATES  # data module; imported late

        return _known_codes(value, ACTIVITY_STATES, "activity state(s)")


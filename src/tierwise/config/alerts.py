"""Alerts and scheduled work: ``[alerts]`` and ``[watch]``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_serializer, field_validator, model_validator

from ._base import _Section, _known_codes
from .tiering import PYRAMID_TIERS

#: The rules an ``[alerts]`` section can switch on (docs/alerts.md).
ALERT_RULES = ("tier", "state", "segment", "warning", "likelihood", "task_overdue")
#: How a webhook's body is shaped: plain JSON, or a group robot's message.
WEBHOOK_FORMATS = ("json", "wecom", "dingtalk", "feishu")
#: ``smtp://`` plain (STARTTLS when the server offers it is not assumed), ``smtp+starttls://``
#: upgraded with STARTTLS, ``smtps://`` TLS from the first byte.
SMTP_SCHEMES = ("smtp", "smtp+starttls", "smtps")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIER_CODES = (*PYRAMID_TIERS, "new", "prospect")
_STATE_CODES = ("normal", "resting", "dormant", "shock", "dead", "buried")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


def masked_url(url: str) -> str:
    """``url`` with its password and query replaced by ``***`` (for logs and dumps).

    Examples
    --------
    >>> masked_url("smtp://ann:secret@mail.example.com:587")
    'smtp://ann:***@mail.example.com:587'
    >>> masked_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc")
    'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?***'
    """
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = "***" if parts.query else ""
    return parts._replace(netloc=netloc, query=query).geturl()


class AlertsConfig(_Section):
    """Who hears about changes between runs, and how (``tierwise alerts send``, ``tierwise
    watch``): e-mail over SMTP, a webhook (plain JSON or a WeCom / DingTalk / Feishu group robot),
    the rules that raise an alert, retries, and the weekly digest per person."""

    smtp_url: str | None = Field(
        None, description="mail server: smtp://host:port, smtp+starttls://host:587 or "
                          "smtps://host:465, with user:password@ before the host when it needs "
                          "a sign-in (keep the file private then); not set: no e-mail")
    email_from: str = Field("tierwise@localhost", description="the From address of alerts")
    email_to: list[str] = Field(default_factory=list,
                                description="who receives every alert by e-mail (the team)")
    webhook_url: str | None = Field(
        None, description="http(s) URL alerts are posted to (a group robot's URL for wecom, "
                          "dingtalk, feishu); not set: no webhook")
    webhook_format: Literal["json", "wecom", "dingtalk", "feishu"] = Field(
        "json", description="the webhook body: json (tierwise's own), wecom (企业微信 group "
                            "robot), dingtalk (钉钉), feishu (飞书)")
    rules: list[str] = Field(
        default_factory=lambda: list(ALERT_RULES),
        description="rules that raise alerts: tier (moved into or out of a tier in tiers), "
                    "state (into or out of a state in states), segment (changed segment), "
                    "warning (a key or major account's early warning), likelihood (purchase "
                    "likelihood fell under likelihood_threshold), task_overdue (an open task "
                    "past its due date)")
    tiers: list[str] = Field(default_factory=lambda: ["key", "major"],
                             description="the tier rule: a customer moving into or out of one "
                                         "of these tiers")
    states: list[str] = Field(default_factory=lambda: ["dormant", "shock", "dead"],
                              description="the state rule: a customer moving into or out of "
                                          "one of these activity states")
    watch_tiers: list[str] = Field(
        default_factory=lambda: ["key", "major"],
        description="the state, segment and likelihood rules look at customers in these tiers "
                    "(in the run or the one before); [] looks at every customer")
    likelihood_threshold: float = Field(
        0.3, gt=0, lt=1, description="the likelihood rule: purchase likelihood at or above this "
                                     "in the previous run and below it now")
    max_lines: int = Field(30, ge=1, le=500,
                           description="alerts listed in one message; the rest are counted")
    language: Literal["auto", "zh", "en"] = Field(
        "auto", description="language of alert texts; auto: the run's language")
    retries: int = Field(3, ge=0, le=20,
                         description="attempts after the first when a delivery fails (a refused "
                                     "connection, a timeout, an error status)")
    backoff_seconds: float = Field(2.0, ge=0, le=600,
                                   description="pause before the first retry, doubled each time")
    timeout_seconds: float = Field(10.0, gt=0, le=300,
                                   description="how long one delivery attempt may take")
    people: dict[str, str] = Field(
        default_factory=dict,
        description="the weekly digest: account manager or segment owner name -> e-mail, e.g. "
                    "'张伟' = 'zhang.wei@example.com'")
    digest_weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                            "sunday"] = Field(
        "monday", description="from this day of the week on, 'tierwise watch' sends the week's "
                              "digest (once per week)")

    @field_serializer("smtp_url", "webhook_url")
    def _masked(self, value: str | None) -> str | None:
        """Dumps (a run's meta keeps the config) never carry a password or a robot's key."""
        return None if value is None else masked_url(value)

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in SMTP_SCHEMES or not parts.hostname:
            raise ValueError(f"write it as smtp://host:port, smtp+starttls://host:port or "
                             f"smtps://host:port (schemes: {', '.join(SMTP_SCHEMES)})")
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ValueError("the port is not a number") from None
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("write it as an http:// or https:// URL")
        return value

    @field_validator("email_from")
    @classmethod
    def _from(cls, value: str) -> str:
        if not _EMAIL.match(value.strip()):
            raise ValueError("not an e-mail address; write e.g. 'tierwise@example.com'")
        return value.strip()

    @field_validator("email_to")
    @classmethod
    def _to(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not _EMAIL.match(v.strip())]
        if bad:
            raise ValueError(f"not e-mail addresses: {bad}")
        return [v.strip() for v in value]

    @field_validator("people")
    @classmethod
    def _people(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {k: v for k, v in value.items() if not _EMAIL.match(v.strip())}
        if bad:
            raise ValueError(f"not e-mail addresses: {bad}")
        return {k.strip(): v.strip() for k, v in value.items()}

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: list[str]) -> list[str]:
        return _known_codes(value, ALERT_RULES, "rule(s)")

    @field_validator("tiers", "watch_tiers")
    @classmethod
    def _tiers(cls, value: list[str]) -> list[str]:
        return _known_codes(value, _TIER_CODES, "tier(s)")

    @field_validator("states")
    @classmethod
    def _states(cls, value: list[str]) -> list[str]:
        return _known_codes(value, _STATE_CODES, "state(s)")

    @model_validator(mode="after")
    def _mail_needs_both(self) -> AlertsConfig:
        if self.smtp_url and not self.email_to:
            raise ValueError("smtp_url is set but email_to is empty: list who receives alerts, "
                             "e.g. email_to = ['sales@example.com']")
        if self.email_to and not self.smtp_url:
            raise ValueError("email_to is set but smtp_url is not: give the mail server, e.g. "
                             "smtp_url = 'smtp://127.0.0.1:25'")
        return self


class WatchConfig(_Section):
    """Scheduled work (``tierwise watch``, ``tierwise serve --schedule``): the inbox folder new
    exports are dropped into, and how often it is looked at."""

    inbox: Path = Field(Path("inbox"), description="folder new export files are dropped into, "
                                                   "relative to the config file")
    processed: Path | None = Field(
        None, description="where ingested files are moved (default: <inbox>/processed)")
    failed: Path | None = Field(
        None, description="where files that could not be ingested are moved (default: "
                          "<inbox>/failed), with the reason in 'tierwise watch --once --json'")
    patterns: list[str] = Field(
        default_factory=lambda: ["*.csv", "*.txt", "*.xlsx", "*.parquet"],
        description="file names the inbox takes (others are left alone)")
    customers_files: list[str] = Field(
        default_factory=lambda: ["customers*", "members*", "客户*", "会员*"],
        description="names of customer / member exports (read like [sources.customers]); "
                    "every other file is an orders export (read like [sources.orders])")
    leads_files: list[str] = Field(
        default_factory=lambda: ["leads*", "线索*"],
        description="names of lead exports (read like [sources.leads]; docs/prospects.md)")
    survey_files: list[str] = Field(
        default_factory=lambda: ["survey*", "问卷*"],
        description="names of survey answer exports (read like [sources.survey])")
    feedback_files: list[str] = Field(
        default_factory=lambda: ["feedback*", "reviews*", "评价*", "反馈*"],
        description="names of feedback / review exports (read like [sources.feedback]; "
                    "docs/feedback.md)")
    contracts_files: list[str] = Field(
        default_factory=lambda: ["contracts*", "合同*"],
        description="names of contract exports (read like [sources.contracts]; "
                    "docs/contracts.md)")
    costs_files: list[str] = Field(
        default_factory=lambda: ["costs*", "费用*", "成本*"],
        description="names of cost-to-serve exports (read like [sources.costs]; "
                    "docs/contracts.md)")
    interval_minutes: float = Field(15.0, gt=0, description="minutes between two passes of "
                                                            "'tierwise watch' (--interval "
                                                            "overrides)")
    settle_seconds: float = Field(
        10.0, ge=0, description="a file changed less than this many seconds ago is still being "
                                "copied: it waits for the next pass")
    send_alerts: bool = Field(True, description="send alerts (and the weekly digest) after each "
                                                "pass")

    @field_validator("patterns", "customers_files", "leads_files", "survey_files",
                     "feedback_files", "contracts_files", "costs_files")
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not v.strip() or "/" in v or "\\" in v]
        if bad:
            raise ValueError(f"write file name patterns such as '*.csv' (no folders): {bad}")
        return value

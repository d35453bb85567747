"""Delivering a message: e-mail over SMTP (the standard library) and webhooks (httpx), with
retries.

A delivery that fails for a reason that may pass (a refused connection, a timeout, a server
error, HTTP 429) is tried again ``[alerts] retries`` times, pausing ``backoff_seconds`` and
doubling the pause each time; one that cannot pass by waiting (a wrong password, HTTP 404, a
robot that answers with an error code) stops at once. Either way the result says how many
attempts were made and the last error, for the sent log.

Webhook bodies (``[alerts] webhook_format``):

* ``json``: ``{"source": "tierwise", "subject", "text", "period", "as_of", "events": [...]}``,
  each event with its ``key``, ``code``, ``params`` and ``text``;
* ``wecom`` (企业微信 group robot): ``{"msgtype": "markdown", "markdown": {"content"}}``, the
  content cut to the robot's 4,096 bytes;
* ``dingtalk`` (钉钉): ``{"msgtype": "markdown", "markdown": {"title", "text"}}``;
* ``feishu`` (飞书): ``{"msg_type": "text", "content": {"text"}}``.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

from ..config import AlertsConfig
from ..config.alerts import masked_url
from ..errors import MissingDependencyError
from .render import Message

#: The WeCom robot's limit on a markdown message, in bytes of UTF-8.
WECOM_MAX_BYTES = 4096


class DeliveryError(Exception):
    """One failed attempt; ``retry`` says whether trying again may help."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Delivery:
    """How a delivery ended: ``sent`` or ``failed``, after ``attempts`` tries."""

    channel: str
    status: str
    attempts: int
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "status": self.status, "attempts": self.attempts,
                "error": self.error}


def with_retries(channel: str, attempt: Callable[[], None], *, retries: int, backoff: float,
                 sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """Call ``attempt`` until it succeeds, fails for good, or ``retries`` more tries are spent."""
    pause, tries = backoff, 0
    while True:
        tries += 1
        try:
            attempt()
            return Delivery(channel, "sent", tries)
        except DeliveryError as exc:
            if not exc.retry or tries > retries:
                return Delivery(channel, "failed", tries, str(exc))
        sleep(pause)
        pause *= 2


# -- e-mail ------------------------------------------------------------------------------------
def email_message(message: Message, *, sender: str, to: list[str]) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1] or "tierwise")
    mail.set_content(message.text() + "\n", charset="utf-8")
    return mail


def send_email(cfg: AlertsConfig, message: Message, to: list[str] | None = None, *,
               sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """Send ``message`` to ``to`` (default ``[alerts] email_to``) over ``[alerts] smtp_url``."""
    if not cfg.smtp_url:
        return Delivery("email", "failed", 0, "no smtp_url in [alerts]")
    recipients = list(to or cfg.email_to)
    mail = email_message(message, sender=cfg.email_from, to=recipients)
    url = urlsplit(cfg.smtp_url)
    shown = masked_url(cfg.smtp_url)

    def attempt() -> None:
        try:
            if url.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    url.hostname or "", url.port or 465, timeout=cfg.timeout_seconds,
                    context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(url.hostname or "", url.port or 25,
                                      timeout=cfg.timeout_seconds)
            with client:
                if url.scheme == "smtp+starttls":
                    client.starttls(context=ssl.create_default_context())
                if url.username:
                    client.login(unquote(url.username), unquote(url.password or ""))
                client.send_message(mail, from_addr=cfg.email_from, to_addrs=recipients)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{shown} refused the sign-in ({exc.smtp_code}): check the user "
                                "and password in smtp_url", retry=False) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"{shown} refused the recipients {sorted(exc.recipients)}",
                                retry=False) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{shown}: {type(exc).__name__}: {exc}") from None

    return with_retries("email", attempt, retries=cfg.retries, backoff=cfg.backoff_seconds,
                        sleep=sleep)


# -- webhooks ----------------------------------------------------------------------------------
def _markdown(message: Message) -> str:
    return "\n".join([f"### {message.subject}", message.heading, "",
                      *(f"- {line}" for line in message.lines)])


def _cut(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit - 3].decode("utf-8", errors="ignore").rstrip() + "..."


def webhook_payload(message: Message, fmt: str) -> dict[str, Any]:
    """The body posted for ``message`` in ``fmt`` (json, wecom, dingtalk, feishu).

    Examples
    --------
    >>> m = Message("tierwise alerts: 1 change(s) in 2026-10", "Acme: what changed", ["C1: up"])
    >>> webhook_payload(m, "feishu")["content"]["text"].splitlines()[-1]
    '- C1: up'
    """
    if fmt == "wecom":
        return {"msgtype": "markdown",
                "markdown": {"content": _cut(_markdown(message), WECOM_MAX_BYTES)}}
    if fmt == "dingtalk":
        return {"msgtype": "markdown",
                "markdown": {"title": message.subject, "text": _markdown(message)}}
    if fmt == "feishu":
        return {"msg_type": "text",
                "content": {"text": f"{message.subject}\n{message.text()}"}}
    return {"source": "tierwise", "subject": message.subject, "text": message.text(),
            **message.data}


def _robot_error(fmt: str, body: Any) -> str | None:
    """The error a group robot answered with HTTP 200 (errcode / code not 0), or None."""
    if not isinstance(body, dict) or fmt == "json":
        return None
    code = body.get("errcode", body.get("code", body.get("StatusCode", 0)))
    if code in (0, None, "0"):
        return None
    return f"the robot answered code {code}: {body.get('errmsg') or body.get('msg') or body}"


def post_webhook(cfg: AlertsConfig, message: Message, *,
                 sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """Post ``message`` to ``[alerts] webhook_url`` in ``webhook_format``."""
    try:
        import httpx
    except ImportError:
        raise MissingDependencyError("httpx", "alerts", "Webhook alerts") from None
    if not cfg.webhook_url:
        return Delivery("webhook", "failed", 0, "no webhook_url in [alerts]")
    url, fmt = cfg.webhook_url, cfg.webhook_format
    payload = webhook_payload(message, fmt)
    shown = masked_url(url)

    def attempt() -> None:
        try:
            answer = httpx.post(url, json=payload, timeout=cfg.timeout_seconds)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{shown}: {type(exc).__name__}: {exc}") from None
        if answer.status_code >= 400:
            raise DeliveryError(f"{shown} answered HTTP {answer.status_code}",
                                retry=answer.status_code in (408, 429)
                                or answer.status_code >= 500)
        try:
            body = answer.json()
        except ValueError:
            body = None
        problem = _robot_error(fmt, body)
        if problem:
            raise DeliveryError(f"{shown}: {problem}", retry=False)

    return with_retries("webhook", attempt, retries=cfg.retries, backoff=cfg.backoff_seconds,
                        sleep=sleep)


__all__ = ["Delivery", "DeliveryError", "WECOM_MAX_BYTES", "email_message", "post_webhook",
           "send_email", "webhook_payload", "with_retries"]

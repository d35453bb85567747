"""Alerts: rules over what changed between runs, delivered by e-mail and webhook, once each.

=============  ==================================================================================
module         what
=============  ==================================================================================
``rules``      the events a run raises against the run before it (codes and parameters)
``render``     events into Chinese or English lines and messages, at send time
``channels``   SMTP e-mail and webhooks (JSON, WeCom, DingTalk, Feishu), with retries
``log``        the sent log: events raised and every delivery (event key, channel, status)
``send``       one pass: raise, send what each channel has not carried, log
``digest``     the weekly digest per person, from sections (alerts; more can register)
=============  ==================================================================================

See docs/alerts.md.
"""

from .channels import Delivery, post_webhook, send_email, webhook_payload
from .digest import DIGEST_SECTIONS, DigestPass, register_digest_section, send_digests
from .log import alert_log
from .render import Message, alert_message, event_text
from .rules import AlertEvent, alert_events
from .send import AlertPass, channels, send_alerts

__all__ = ["DIGEST_SECTIONS", "AlertEvent", "AlertPass", "Delivery", "DigestPass", "Message",
           "alert_events", "alert_log", "alert_message", "channels", "event_text",
           "post_webhook", "register_digest_section", "send_alerts", "send_digests",
           "send_email", "webhook_payload"]

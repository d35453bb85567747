"""Security headers on every answer of the dashboard, pages and API alike.

* ``Content-Security-Policy``: scripts, styles, images, fonts and form targets from this site
  only; no inline script at all (the pages have none) and no plug-ins; inline ``style``
  attributes are allowed (bar widths and heat-map shades are set that way), style elements are
  not. ``frame-ancestors 'none'`` (and ``X-Frame-Options: DENY`` for older browsers): no other
  site can frame a page to trick a click.
* ``X-Content-Type-Options: nosniff``: a download is never run as a page or a script.
* ``Referrer-Policy: same-origin``: addresses (``/customers/C10254``) do not leave the site.
* ``Cache-Control: no-store`` on everything but the style sheet: pages, API answers and
  downloads carry personal data, which no browser or proxy cache should keep.

A plain ASGI wrapper, like :class:`tierwise.web.app.RequestLog`: it adds the headers when the
answer starts and costs no task per request.
"""

from __future__ import annotations

from typing import Any

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
#: Sent with every answer.
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
NO_STORE = (b"cache-control", b"no-store")
#: Answers a cache may keep: the style sheet (nothing personal in it).
CACHEABLE_PREFIX = "/static/"


class SecurityHeaders:
    """Adds :data:`HEADERS`, and ``Cache-Control: no-store`` outside ``/static/``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = scope["path"].startswith(CACHEABLE_PREFIX)

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if cacheable or k.lower() != b"cache-control"]
                headers += HEADERS
                if not cacheable:
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


__all__ = ["CONTENT_SECURITY_POLICY", "HEADERS", "SecurityHeaders"]

"""Real local receivers for alert tests: an HTTP server that keeps what it is posted, and an
SMTP server (aiosmtpd) that keeps the mail it is sent."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    """A port nothing listens on (bound and released at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver:
    """A local HTTP server in a thread; ``posts`` holds each JSON body it was posted."""

    def __init__(self, port: int | None = None, answer: dict[str, Any] | None = None,
                 status: int = 200) -> None:
        self.posts: list[Any] = []
        self.paths: list[str] = []
        received, paths = self.posts, self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length).decode("utf-8")))
                paths.append(self.path)
                body = json.dumps(answer if answer is not None else {"ok": True}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """A real SMTP server (aiosmtpd) on a local port; ``messages`` holds what it received."""

    def __init__(self, port: int | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[dict[str, Any]] = []
        kept = self.messages

        class Handler:
            async def handle_DATA(self, server: Any, session: Any,  # noqa: N802 - aiosmtpd API
                                  envelope: Any) -> str:
                kept.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                             "data": envelope.content})
                return "250 OK"

        self.port = port or free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.url = f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

"""The web dashboard: ``[web]``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ._base import _Section, _known_codes


# ---- the web dashboard (tierwise serve) ----
#: Who can sign in to the dashboard: admin sees everything, a segment owner the customers of the
#: segments they own, an account manager the customers assigned to them.
WEB_ROLES = ("admin", "owner", "manager")


class WebConfig(_Section):
    """The web dashboard and its API (``tierwise serve``): sign-in, privacy, the snapshot cache."""

    host: str = Field("127.0.0.1", description="address 'tierwise serve' listens on (--host "
                                               "overrides); 0.0.0.0 opens it to the network")
    port: int = Field(8000, ge=1, le=65535, description="port 'tierwise serve' listens on "
                                                        "(--port overrides)")
    full_phone_roles: list[str] = Field(
        default_factory=lambda: ["admin"],
        description="roles that see full phone numbers and e-mails; the others see them "
                    "masked (138****1234)")
    secret_key_file: Path | None = Field(
        None, description="file holding the key that signs sign-in cookies, created on first "
                          "serve (default: next to the store, <store file>.web-secret); the "
                          "TIERWISE_SECRET_KEY environment variable takes precedence")
    session_hours: float = Field(12.0, gt=0, description="a sign-in lasts this many hours")
    cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto", description="the Secure flag of cookies: auto = when the page is served over "
                            "https (behind a proxy listed in trusted_proxies: when it sends "
                            "X-Forwarded-Proto: https)")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks (10.0.0.0/8) of reverse proxies in front of the "
                    "server: only a request from one of them may say, in X-Forwarded-For and "
                    "X-Forwarded-Proto, whom and over what it forwards; from anyone else these "
                    "headers are ignored, so the sign-in limit counts the real address. Empty "
                    "(the default): no proxy is trusted")
    login_max_failures: int = Field(
        5, ge=1, description="failed sign-ins per user name and address before sign-in is "
                             "refused for a while (HTTP 429)")
    login_window_minutes: float = Field(
        5.0, gt=0, description="failed sign-ins count within this many minutes")
    min_password_length: int = Field(8, ge=1, description="shortest password 'tierwise users' "
                                                          "accepts")
    page_size: int = Field(50, ge=1, le=500, description="customers per page in the list")
    refresh_seconds: float = Field(
        2.0, gt=0, description="how often the server looks whether the store changed (a new "
                               "run, a new user) and copies what changed")
    cache_dir: Path | None = Field(
        None, description="folder of the server's private copy of the snapshots (default: a "
                          "temporary folder, removed when the server stops)")
    threads: int = Field(
        8, ge=1, le=256, description="requests that read the copy (older runs, overview, key "
                                     "accounts, campaigns) served at the same time, the others "
                                     "wait; queries run outside Python's lock, so about two to "
                                     "four per CPU core. Requests answered from memory do not "
                                     "use a thread")
    call_list_size: int = Field(
        30, ge=1, description="wake-up candidates on 'this week's calls', per signed-in person")
    upload_max_mb: int = Field(
        200, ge=1, le=10_000, description="largest export an admin may upload on the setup "
                                          "page (/setup), in MB")

    @field_validator("full_phone_roles")
    @classmethod
    def _known_roles(cls, value: list[str]) -> list[str]:
        return _known_codes(value, WEB_ROLES, "role(s)")

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        import ipaddress

        bad = []
        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                bad.append(item)
        if bad:
            raise ValueError(f"not an IP address or network: {bad}; write e.g. '127.0.0.1' or "
                             "'10.0.0.0/8'")
        return [item.strip() for item in value]

"""Test helpers for the browser tests: Debian's Chromium driven by Playwright (no browser download).

``chromium()`` finds the browser (``TIERWISE_TEST_CHROMIUM``, else ``chromium`` on PATH). When it is
missing and ``TIERWISE_REQUIRE_BROWSER=1`` (CI sets it), the test setup installs Debian's
``chromium`` package (and ``fonts-noto-cjk``, so that Chinese screenshots are readable) with
apt-get, as root, and fails if that does not work; otherwise the test is skipped with the command
that installs it. Screenshots go to ``TIERWISE_ARTIFACTS`` (default
``test-artifacts/`` in the project folder), kept after the run.

Usage::

    from _browser import browser_page, artifact

    def test_page(tmp_path):
        with browser_page() as (page, console_errors):
            page.goto(url)
            page.screenshot(path=artifact("page.png"))
        assert not console_errors
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Flags for a headless Chromium on a machine with a closed network and no sandbox support.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
INSTALL_HINT = "sudo apt-get install chromium (Debian/Ubuntu)"


def browser_required() -> bool:
    return os.environ.get("TIERWISE_REQUIRE_BROWSER", "").strip() == "1"


def _find() -> str | None:
    explicit = os.environ.get("TIERWISE_TEST_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _install() -> str:
    """apt-get install chromium; returns what went wrong ('' when it worked)."""
    if not shutil.which("apt-get"):
        return "apt-get is not available on this machine"
    if os.geteuid() != 0:
        return "installing Debian's chromium needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium",
                 "fonts-noto-cjk"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            return f"{' '.join(cmd)} failed: {done.stderr.strip()[-500:]}"
    return ""


def chromium() -> str:
    """The Chromium executable, installing it when required; skips the test when unavailable."""
    found = _find()
    if found:
        return found
    if not browser_required():
        pytest.skip(f"Chromium not found ({INSTALL_HINT}, or set TIERWISE_TEST_CHROMIUM); "
                    "TIERWISE_REQUIRE_BROWSER=1 makes the test setup install it")
    problem = _install()
    found = _find()
    if not found:
        pytest.fail(f"Chromium is required (TIERWISE_REQUIRE_BROWSER=1) and could not be "
                    f"installed: {problem or 'still not on PATH after apt-get'}", pytrace=False)
    return found


def artifact(name: str) -> Path:
    """A path for a test artifact (a screenshot) that is kept after the run."""
    folder = Path(os.environ.get("TIERWISE_ARTIFACTS", ROOT / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


@contextmanager
def browser_page(**context: Any) -> Iterator[tuple[Any, list[str]]]:
    """A fresh page in headless Chromium, and the list its console errors are collected in.

    Page errors (uncaught exceptions), failed requests and HTTP answers of 400 and above are
    collected too.
    """
    executable = chromium()
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is a dev dependency: pip install -e '.[dev]'")
    errors: list[str] = []
    with sync_api.sync_playwright() as play:
        browser = play.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            ctx = browser.new_context(**context)
            page = ctx.new_page()
            page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}")
                    if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
            page.on("requestfailed", lambda req: errors.append(
                f"request failed: {req.url} ({req.failure})"))
            page.on("response", lambda res: errors.append(f"HTTP {res.status}: {res.url}")
                    if res.status >= 400 else None)
            yield page, errors
            ctx.close()
        finally:
            browser.close()

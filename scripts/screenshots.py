"""Take the screenshots in docs/images/ from the demo B2B supplier (not a test).

Run from the repository root, with Debian's chromium installed::

    PYTHONPATH=src python scripts/screenshots.py

It runs ``tierwise demo`` into a temporary folder, adds an admin and one account manager, starts
``tierwise serve`` on a free loopback port and photographs the pages with Playwright, plus the
first screen of the HTML report.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
PASSWORD = "screenshot-password"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def tierwise(*args: str, stdin: str | None = None) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([sys.executable, "-m", "tierwise", *args], input=stdin, text=True, env=env,
                   check=True, capture_output=True)


def main() -> None:
    chromium = shutil.which("chromium")
    if not chromium:
        raise SystemExit("needs Debian's chromium: apt-get install chromium fonts-noto-cjk")
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tierwise("--quiet", "demo", "--dir", tmp)
        config = str(Path(tmp) / "b2b" / "tierwise.toml")
        tierwise("users", "add", "boss", "--role", "admin", "--password-stdin", "-c", config,
                 stdin=PASSWORD + "\n")
        tierwise("users", "add", "sunli", "--role", "manager", "--manager", "孙丽",
                 "--password-stdin", "-c", config, stdin=PASSWORD + "\n")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-m", "tierwise", "serve", "-c", config,
                                   "--port", str(port)],
                                  env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(240):
                try:
                    if httpx.get(f"{base}/api/health", timeout=2).json()["status"] == "ok":
                        break
                except (httpx.HTTPError, ValueError, KeyError):
                    pass
                time.sleep(0.5)
            _shoot(chromium, base, Path(tmp) / "b2b" / "report.html")
        finally:
            server.terminate()
            server.wait(timeout=30)


def _shoot(chromium: str, base: str, report: Path) -> None:
    with sync_playwright() as play:
        browser = play.chromium.launch(executable_path=chromium, args=ARGS)
        for user, shots in (("boss", [("/?lang=en", "web-overview"),
                                      ("/key-accounts?lang=en", "web-key-accounts")]),
                            ("sunli", [("/customers?lang=zh", "web-customers-manager"),
                                       ("/calls?lang=zh", "web-calls-manager")])):
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(f"{base}/login")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", PASSWORD)
            page.click("#login-submit")
            page.wait_for_load_state("networkidle")
            for path, name in shots:
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(IMAGES / f"{name}.png"))
            if user == "sunli":
                first = page.get_attribute("#calls-page tr[data-customer-id]", "data-customer-id")
                if first:
                    page.goto(f"{base}/customers/{first}?lang=zh")
                    page.screenshot(path=str(IMAGES / "web-customer-detail.png"))
                phone = browser.new_page(viewport={"width": 390, "height": 844})
                phone.context.add_cookies(page.context.cookies())
                phone.goto(f"{base}/?lang=zh")
                phone.screenshot(path=str(IMAGES / "web-overview-phone.png"))
            page.close()
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(report.as_uri())
        page.wait_for_function("() => [...document.querySelectorAll('.chart')]"
                               ".every(el => el.dataset.rendered === 'true')")
        page.locator("#section-pyramid").screenshot(path=str(IMAGES / "report-pyramid.png"))
        page.locator("#section-key").screenshot(path=str(IMAGES / "report-key-accounts.png"))
        browser.close()
    for image in sorted(IMAGES.glob("*.png")):
        print(f"{image.relative_to(ROOT)}  {image.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()

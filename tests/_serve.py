"""``tierwise serve`` as a real process for the tests that talk to it over HTTP.

Usage::

    from _serve import serving

    with serving("--config", str(config)) as (base, proc):
        httpx.get(f"{base}/api/health")
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A port nothing listens on at the moment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(*args: str, cwd: Path | None = None, log: Path | None = None,
            timeout: float = 120) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``tierwise serve ARGS --port <free>`` until ``/api/health`` answers; yields its address
    and the process, and stops it afterwards. Its output goes to ``log`` (else a pipe), and the
    test fails with that output when the server stops or is not ready within ``timeout``."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = log.open("w") if log is not None else subprocess.PIPE
    proc = subprocess.Popen([sys.executable, "-m", "tierwise", "serve", *args, "--port",
                             str(port)], cwd=cwd, env=env, stdout=out,
                            stderr=subprocess.STDOUT, text=True)

    def output() -> str:
        if log is not None:
            return log.read_text()
        return proc.stdout.read() if proc.stdout and proc.poll() is not None else ""

    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"tierwise serve stopped: {output()}")
            try:
                if httpx.get(f"{base}/api/health", timeout=2).json().get("status") == "ok":
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"tierwise serve did not get ready in {timeout:.0f} s")
            time.sleep(0.3)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log is not None:
            out.close()  # type: ignore[union-attr]

"""The core install carries neither the web stack nor plotly: importing the core never loads
them, the HTML report uses the plotly.js shipped in the package, and the web commands without
the ``[web]`` extra stop with one line saying what to install."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

HEAVY = ("fastapi", "starlette", "uvicorn", "argon2", "itsdangerous", "python_multipart",
         "plotly")


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin",
                               "NO_COLOR": "1", "COLUMNS": "200"})


def test_the_core_does_not_import_the_web_stack(tmp_path: Path) -> None:
    code = ("import sys, json\n"
            "import tierwise, tierwise.cli, tierwise.pipeline, tierwise.reports, "
            "tierwise.reports.html, tierwise.campaigns, tierwise.io.export, tierwise.history\n"
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_web_commands_without_the_web_extra_say_what_to_install(tmp_path: Path) -> None:
    for blocked in ("fastapi", "argon2"):
        for args in (["serve"], ["users", "list"]):
            code = (f"import sys; sys.modules[{blocked!r}] = None\n"
                    "from tierwise.cli import main\n"
                    f"sys.exit(main({args!r}))")
            done = _python(code, tmp_path)
            assert done.returncode == 4, done.stderr
            assert "Traceback" not in done.stderr
            assert "pip install 'tierwise[web]'" in done.stderr, done.stderr


def test_the_report_inlines_the_shipped_plotly_js() -> None:
    from tierwise.reports import html

    text = html.plotly_js()
    assert text.lstrip().startswith("/**") and f"plotly.js v{html.PLOTLY_JS_VERSION}" in text[:200]
    assert len(text) > 1_000_000
    static = ROOT / "src" / "tierwise" / "reports" / "static"
    assert "MIT" in (static / "plotly.js-LICENSE.txt").read_text(encoding="utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"**/*.js"' in pyproject and '"reports/static/*.txt"' in pyproject
    assert '"plotly' not in pyproject.split("[project.optional-dependencies]")[0]

"""The README's Python example runs as written."""

from __future__ import annotations

import re

from conftest import ROOT


def test_readme_python_example_runs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    for code in blocks:
        namespace: dict = {}
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own docs
        if "bg" in namespace:
            params = namespace["bg"].params_
            assert set(params) == {"r", "alpha", "a", "b"}
            assert abs(params["r"] - 0.25) < 0.1

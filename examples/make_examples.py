"""Regenerate the committed sample files in this folder.

    python examples/make_examples.py          (with tierwise installed, or PYTHONPATH=src)

The files are small versions of the demo data sets (see README.md). They are byte-for-byte
reproducible: ``tests/test_demo.py`` regenerates them and fails when they drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# folder under examples/ -> (generator name, keyword arguments)
EXAMPLES: dict[str, tuple[str, dict[str, int]]] = {
    "restaurant": ("generate_restaurant", {"members": 150, "years": 1}),
    "b2b": ("generate_b2b", {"accounts": 40, "years": 2}),
}


def make_examples(root: Path = HERE) -> dict[str, dict[str, list]]:
    """Write every example folder under ``root``; returns the manifests by folder."""
    try:
        from tierwise import demo
    except ImportError:  # running from a source checkout without installing
        sys.path.insert(0, str(HERE.parent / "src"))
        from tierwise import demo
    return {folder: getattr(demo, func)(root / folder, **kwargs)
            for folder, (func, kwargs) in EXAMPLES.items()}


if __name__ == "__main__":
    for folder, manifest in make_examples().items():
        print(f"examples/{folder}: {', '.join(manifest['files'])}")

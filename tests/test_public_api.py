"""The top-level API: every name in __all__ resolves, and each module's own __all__ resolves."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import tierwise

PACKAGES = ["tierwise.io", "tierwise.models", "tierwise.tiering", "tierwise.lifecycle",
            "tierwise.segments", "tierwise.store", "tierwise.features", "tierwise.engine",
            "tierwise.alerts"]


@pytest.mark.parametrize("name", tierwise.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(tierwise, name) is not None


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_all_is_complete(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert hasattr(module, name), f"{package}.{name}"


def test_importing_tierwise_is_cheap() -> None:
    code = "import sys, tierwise; print(int('pandas' in sys.modules or 'ibis' in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "0"


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        tierwise.NoSuchThing  # noqa: B018

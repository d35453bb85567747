"""``python -m tierwise``: the same as the ``tierwise`` command."""

from .cli import entry

entry()

"""The DuckDB store: named migrations, ingested data, run snapshots written atomically."""

from .migrations import MIGRATIONS
from .store import Store

__all__ = ["Store", "MIGRATIONS"]

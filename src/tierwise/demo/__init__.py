"""Seeded generators of the demo data sets (a restaurant chain and a B2B supplier).

``rhythm`` generates plain order histories of businesses whose customers come back on a rhythm
(weekly diners, monthly shoppers, quarterly B2B orders) for benchmarks and backtests.

Each generator writes realistic, slightly messy input files plus a ``manifest.json`` naming what was
planted in them (member/account ids, order ids, line numbers), and returns that manifest as a plain
``dict[str, list]``. The same seed gives byte-identical files.
"""

from __future__ import annotations

from .b2b import generate_b2b
from .restaurant import generate_restaurant
from .retail_lines import generate_retail_lines
from .rhythm import generate_rhythm_business, write_rhythm_business

__all__ = ["generate_b2b", "generate_restaurant", "generate_retail_lines",
           "generate_rhythm_business", "write_rhythm_business"]

"""``tierwise validate``: check the config and every input, and list every problem at once.

Two kinds of findings are kept apart: *problems* stop an ingest (a missing file, an unknown
encoding, a required column that is not there, a missing engine package) and make ``validate`` fail;
*row problems* are rows an ingest would reject with a reason (an empty customer id, a date that
does not exist): the config is sound, ``validate`` says how many and why, and succeeds.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import Config

_ENGINE_PACKAGES = {"spark": ("pyspark", "spark"), "postgres": ("psycopg", "postgres"),
                    "mysql": ("pymysql", "mysql")}


@dataclass
class Validation:
    """The findings of :func:`validate_config`."""

    problems: list[str] = field(default_factory=list)
    row_problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when an ingest can run (rows may still be rejected)."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": list(self.problems),
                "row_problems": list(self.row_problems), "warnings": list(self.warnings),
                "rows": dict(self.rows)}


def validate_config(cfg: Config, *, today: dt.date | None = None,
                    progress: Callable[[str], None] = lambda _: None) -> Validation:
    """Read every configured source as ``ingest`` would (``today``: the day of ingest, see
    :func:`tierwise.io.read_source`) and check the settings; writes nothing."""
    from .io import check_source

    where = str(cfg.config_file or "config")
    found = Validation()
    if cfg.sources.orders is None:
        found.problems.append(f"{where}: no [sources.orders] section: add one with "
                              "path = 'orders.csv'")
    for kind in ("customers", "orders", "survey", "leads", "feedback", "contracts", "costs"):
        source = getattr(cfg.sources, kind)
        if source is None:
            continue
        progress(f"checking {kind}")
        check = check_source(source, kind=kind, intake=cfg.intake, timezone=cfg.timezone,
                             as_of=cfg.as_of, base_dir=cfg.base_dir, today=today)
        found.problems += check.problems
        found.row_problems += check.row_problems
        found.warnings += check.warnings
        if not check.problems:
            found.rows[kind] = {"rows_in": check.rows_in, "rejected": check.rejected}
    found.problems += _setting_problems(cfg, where)
    return found


def _setting_problems(cfg: Config, where: str) -> list[str]:
    problems = []
    backend = cfg.engine.backend
    if backend in _ENGINE_PACKAGES:
        package, extra = _ENGINE_PACKAGES[backend]
        if importlib.util.find_spec(package) is None:
            problems.append(f"{where}: engine.backend = {backend!r} needs the package '{package}': "
                            f"pip install 'tierwise[{extra}]'")
        if backend in ("postgres", "mysql") and not cfg.engine.url:
            problems.append(f"{where}: engine.backend = {backend!r} needs engine.url, "
                            f"e.g. url = '{backend}://user@host/db'")
    store_dir = cfg.store_path.parent
    if store_dir.exists() and not store_dir.is_dir():
        problems.append(f"{where}: store.path {cfg.store_path}: its folder is not a directory")
    return problems


def validate_all(cfg: Config, *, today: dt.date | None = None,
                 progress: Callable[[str], None] = lambda _: None) -> list[str]:
    """Every problem found in the config's sources and settings, row problems included (empty
    when all is well)."""
    found = validate_config(cfg, today=today, progress=progress)
    return found.problems + found.row_problems

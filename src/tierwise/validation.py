"""``tierwise validate``: check the config and every input, and list every problem at once."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from .config import Config

_ENGINE_PACKAGES = {"spark": ("pyspark", "spark"), "postgres": ("psycopg", "postgres"),
                    "mysql": ("pymysql", "mysql")}


def validate_all(cfg: Config, *, progress: Callable[[str], None] = lambda _: None) -> list[str]:
    """Every problem found in the config's sources and settings (empty when all is well)."""
    from .io import inspect_source

    where = str(cfg.config_file or "config")
    problems: list[str] = []
    if cfg.sources.orders is None:
        problems.append(f"{where}: no [sources.orders] section: add one with path = 'orders.csv'")
    for kind in ("customers", "orders", "survey"):
        source = getattr(cfg.sources, kind)
        if source is None:
            continue
        progress(f"checking {kind}")
        problems += inspect_source(source, kind=kind, intake=cfg.intake, timezone=cfg.timezone,
                                   as_of=cfg.as_of, base_dir=cfg.base_dir)
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

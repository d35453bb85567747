"""tierwise: customer segmentation, tiering and key-account management.

The public API, importable from the top level. Names load on first use, so ``import tierwise``
stays cheap for the command line.

Examples
--------
>>> import tierwise
>>> cfg = tierwise.load_config("tierwise.toml")          # doctest: +SKIP
>>> tierwise.ingest(cfg); tierwise.run(cfg)               # doctest: +SKIP
>>> bg = tierwise.BetaGeo().fit(summary)                  # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # errors
    "TierwiseError": "errors", "ConfigError": "errors", "DataContractError": "errors",
    "MissingDependencyError": "errors", "StoreError": "errors", "NotFittedError": "errors",
    "FitError": "errors", "StoreBusyError": "errors", "DiskFullError": "errors",
    # config, pipeline, store
    "Config": "config", "load_config": "config", "parse_config": "config",
    "ingest": "pipeline", "run": "pipeline", "Store": "store",
    "read_source": "io", "export_customers": "io.export",
    "feature_expr": "features", "connect_engine": "engine",
    # value
    "BetaGeo": "models", "ParetoNBD": "models", "GammaGamma": "models",
    "ModifiedBetaGeo": "models", "MBGCNBD": "models", "BGCNBD": "models",
    "estimate_regularity": "models",
    "fit_value_models": "models", "predicted_clv": "models", "select_model": "models",
    "RFMScorer": "models.rfm", "rfm_table": "models.rfm", "historical_clv": "models.historical",
    "pareto_curve": "models.pareto", "top_share": "models.pareto",
    # tiers, activity, segments
    "Pyramid": "tiering", "Scorecard": "tiering", "select_key_accounts": "tiering",
    "key_account_review": "tiering", "channel_contribution": "tiering",
    "manager_performance": "tiering", "learn_selection": "tiering",
    "grade_prospects": "tiering", "run_prospects": "history",
    "classify_activity": "lifecycle", "attendance_sheet": "lifecycle",
    "migration_matrix": "lifecycle", "early_warnings": "lifecycle",
    "Scheme": "segments", "parse_rule": "segments", "BehaviourClusters": "segments",
    "run_demo": "demo.walkthrough",
    # campaigns
    "create_campaign": "campaigns", "evaluate_campaign": "campaigns",
    "campaign_figures": "campaigns", "AudienceFilter": "campaigns",
    # loyalty levels and rewards
    "compute_levels": "loyalty", "issue_rewards": "loyalty", "reward_effects": "loyalty",
    # alerts and scheduled work
    "send_alerts": "alerts", "send_digests": "alerts", "alert_events": "alerts",
    "watch_once": "watch",
    # the web dashboard
    "create_app": "web",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tierwise' has no attribute {name!r}")
    value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__

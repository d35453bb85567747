"""The report section "did last period's advice hold?" (上期建议是否应验).

Read from the run's stored backtest (:func:`tierwise.backtest.stored_backtest`: the run tables
``backtest`` and ``backtest_calibration`` and ``meta["backtest"]``): per policy, activity state,
tier, RFM segment and warning, how many customers the product labelled one horizon back and how
many of them bought since; and the predicted purchase probability per decile beside the share who
really bought.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..lifecycle.policies import POLICIES, WARNING_KINDS
from .structure import Figure, label_names

#: Backtest dimension -> (table key, title key), in reading order.
GROUP_TABLES = {"activity_policy": ("policies", "backtest.policies"),
                "activity_state": ("states", "backtest.states"),
                "tier": ("tiers", "backtest.tiers"),
                "rfm_segment": ("rfm", "backtest.rfm"),
                "warning": ("warnings", "backtest.warnings"),
                "all": ("all", "backtest.all")}
#: Probability -> (table key, title key).
CALIBRATION_TABLES = {"purchase_likelihood": ("calibration", "backtest.calibration"),
                      "policy_probability": ("policy_calibration", "backtest.policy_calibration")}
GROUP_COLUMNS = ["group", "customers", "bought_again", "bought_again_share", "expected_share",
                 "revenue", "revenue_share"]
DECILE_COLUMNS = ["decile", "customers", "predicted", "actual", "gap"]


def backtest_section(c: Any) -> Any:
    """The section from the run's stored backtest (``c``: the builders' context)."""

    view = c.view.backtest()  # the read model's (tierwise.runview.RunView)
    if view["status"] == "none":
        return c.missing("backtest", "why.no_backtest", replay="-", horizon="-")
    if view["status"] != "ran":
        section = c.section("backtest", replay="-", horizon="-")
        section.message = c.t("report.not_available_because",
                              why=view["reason_zh"] if c.lang == "zh" else view["reason_en"])
        return section
    s = c.section("backtest", replay=view["replay_as_of"], horizon=view["horizon_days"])
    s.figures += [Figure("headline", c.t("fig.backtest_headline"),
                         view["headline_zh"] if c.lang == "zh" else view["headline_en"], "text"),
                  Figure("replay_as_of", c.t("fig.replay_as_of"), view["replay_as_of"], "text"),
                  Figure("horizon_days", c.t("fig.horizon_days"), view["horizon_days"],
                         "integer")]
    if view["silenced_share"] is not None:
        s.figures += [Figure("silenced_customers", c.t("fig.silenced_customers"),
                             view["silenced_customers"], "integer"),
                      Figure("silenced_share", c.t("fig.silenced_share"),
                             view["silenced_share"], "percent")]
    if view["policies_ordered"] is not None:
        s.figures.append(Figure("policies_ordered", c.t("fig.policies_ordered"),
                                c.t("val.yes" if view["policies_ordered"] else "val.no"), "text"))
    for key in ("calibration_max_gap", "policy_calibration_max_gap"):
        if view[key] is not None:
            s.figures.append(Figure(key, c.t(f"fig.{key}"), view[key], "percent"))
    names = _group_names(c)
    for dim, (key, title) in GROUP_TABLES.items():
        rows = view["groups"].get(dim)
        if rows:
            frame = pd.DataFrame(rows).reindex(columns=GROUP_COLUMNS)  # old runs: no expected
            frame["group"] = frame["group"].map(lambda g, d=dim: names.get(d, {}).get(g, g))
            s.tables.append(c.make(key, title, frame))
    for score, (key, title) in CALIBRATION_TABLES.items():
        rows = view["calibration"].get(score)
        if rows:
            s.tables.append(c.make(key, title, pd.DataFrame(rows)[DECILE_COLUMNS]))
    return s


def _group_names(c: Any) -> dict[str, dict[str, str]]:
    """Codes of each dimension to their names in the report's language."""
    lang = 0 if c.lang == "zh" else 1
    return {"activity_policy": {p["policy"]: p["policy_zh" if lang == 0 else "policy_en"]
                                for p in POLICIES},
            "activity_state": label_names(c, "state"),
            "tier": label_names(c, "tier"),
            "warning": {k: v[lang] for k, v in WARNING_KINDS.items()},
            "all": {"all": c.t("backtest.everyone")}}


__all__ = ["backtest_section", "GROUP_TABLES", "CALIBRATION_TABLES"]

"""The report section "satisfaction and feedback" (满意度与客户反馈), also what
``tierwise feedback`` prints and the web page ``/feedback`` shows.

Read from the run's tables (:meth:`tierwise.runview.RunView.feedback`): codes (tiers, grouping
names) become words here, in the report's language.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..i18n import name_of
from .structure import Figure, Section

SATISFACTION_SHOWN = ["grouping", "group_name", "customers", "buyers", "respondents",
                      "response_rate", "answers", "csat", "satisfied", "nps_answers", "nps"]
TREND_SHOWN = ["month", "group_name", "answers", "csat", "satisfied", "nps_answers", "nps"]
COUNTS_SHOWN = ["category", "tier", "items", "complaints", "open_complaints"]
OPEN_SHOWN = ["customer_id", "name", "tier", "store", "account_manager", "received_at",
              "days_open", "channel", "category", "text"]
KEYWORDS_SHOWN = ["grouping", "group_name", "keyword", "comments", "share", "complaints",
                  "open_complaints", "example"]


def _names(c: Any, by: str, group: Any) -> Any:
    if by == "all":
        return c.t("feedback.everyone")
    if by == "tier":
        return name_of("tier", group, c.lang)
    return group


def _grouped(c: Any, frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(grouping=[c.t(f"feedback.by_{b}") for b in frame["by"]],
                        group_name=[_names(c, b, g) for b, g in
                                    zip(frame["by"], frame["group"], strict=True)])


def _category(c: Any, value: Any) -> Any:
    return c.t("feedback.no_category") if value in (None, "(none)") or value != value else value


def feedback_section(c: Any) -> Section:
    """The section from the run's satisfaction and feedback tables (``c``: the builders'
    context)."""
    as_of = str(c.info["as_of"])[:10]
    config = (c.meta.get("config") or {}).get("feedback") or {}
    days = config.get("window_days", 365)
    tables = c.view.feedback()
    if not tables:
        return c.missing("feedback", "why.no_feedback", as_of=as_of, days=days)
    s = c.section("feedback", as_of=as_of, days=days)
    if "satisfaction" in tables:
        sat = tables["satisfaction"]
        everyone = sat[sat["by"] == "all"]
        if len(everyone):
            row = everyone.iloc[0]
            for key, fmt in (("csat", "number"), ("nps", "number"),
                             ("response_rate", "percent")):
                if row[key] is not None and row[key] == row[key]:
                    s.figures.append(Figure(key, c.t(f"fig.{key}"), float(row[key]), fmt))
        s.tables.append(c.make("satisfaction", "feedback.satisfaction",
                               _grouped(c, sat)[SATISFACTION_SHOWN]))
    if "satisfaction_trend" in tables:
        trend = _grouped(c, tables["satisfaction_trend"])
        s.tables.append(c.make("trend", "feedback.trend", trend[TREND_SHOWN]))
    if "open_complaints" in tables:
        open_ = tables["open_complaints"]
        s.figures.append(Figure("open_complaints", c.t("fig.open_complaints"), len(open_),
                                "integer"))
    if "feedback_keywords" in tables:
        words = tables["feedback_keywords"]
        complaints = words[(words["by"] == "all") & (words["complaints"] > 0)]
        if len(complaints):
            top = complaints.sort_values(["complaints", "keyword"],
                                         ascending=[False, True]).iloc[0]
            s.figures.append(Figure("top_keyword", c.t("fig.top_keyword"),
                                    str(top["keyword"]), "text"))
    if "feedback_counts" in tables:
        counts = tables["feedback_counts"]
        counts = counts.assign(category=[_category(c, v) for v in counts["category"]],
                               tier=[c.t("feedback.none") if v == "(none)"
                                     else name_of("tier", v, c.lang) for v in counts["tier"]])
        s.tables.append(c.make("counts", "feedback.counts", counts[COUNTS_SHOWN]))
    if "open_complaints" in tables:
        open_ = tables["open_complaints"]
        open_ = open_.assign(tier=[name_of("tier", v, c.lang) for v in open_["tier"]],
                             category=[_category(c, v) for v in open_["category"]])
        s.tables.append(c.make("open", "feedback.open", open_.reindex(columns=OPEN_SHOWN)))
    if "feedback_keywords" in tables:
        words = tables["feedback_keywords"]
        frame = _grouped(c, words)
        frame["group_name"] = [_category(c, g) if b == "category" else g
                               for b, g in zip(words["by"], frame["group_name"], strict=True)]
        s.tables.append(c.make("keywords", "feedback.keywords", frame[KEYWORDS_SHOWN]))
    return s


def feedback_report(store: Any, run: int | str = "latest", lang: str | None = None) -> Section:
    """The satisfaction and feedback section of one run alone (``tierwise feedback``, the web
    page), in ``lang`` (default: the run's language)."""
    from .builders import section_context

    return feedback_section(section_context(store, run, lang))


__all__ = ["feedback_report", "feedback_section"]

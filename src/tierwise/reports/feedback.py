"""The report section "satisfaction and feedback" (满意度与客户反馈), also what
``tierwise feedback`` prints and the web page ``/feedback`` shows.

Read from the run's tables (:meth:`tierwise.runview.RunView.feedback`): codes (tiers, grouping
names) become words here, in the report's language.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from ..errors import ConfigError
from ..feedback.satisfaction import ASPECTS
from ..i18n import LANGUAGES, MESSAGES, name_of, t
from ..runview import RunView
from .structure import Figure, Section, Table

SATISFACTION_SHOWN = ["grouping", "group_name", "customers", "buyers", "respondents",
                      "response_rate", "answers", "csat", "satisfied", "nps_answers", "nps"]
TREND_SHOWN = ["month", "group_name", "answers", "csat", "satisfied", "nps_answers", "nps"]
COUNTS_SHOWN = ["category", "tier", "items", "complaints", "open_complaints"]
OPEN_SHOWN = ["customer_id", "name", "tier", "store", "account_manager", "received_at",
              "open_days", "channel", "category", "text"]
KEYWORDS_SHOWN = ["grouping", "group_name", "keyword", "comments", "share", "complaints",
                  "open_complaints", "example"]


def _aspects(frame: pd.DataFrame, shown: list[str]) -> list[str]:
    """``shown`` plus the aspect scores (taste, service, setting) some answer carries; runs
    stored before aspects were read have none."""
    return shown + [a for a in ASPECTS if a in frame and frame[a].notna().any()]


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
                               _grouped(c, sat)[_aspects(sat, SATISFACTION_SHOWN)]))
    if "satisfaction_trend" in tables:
        trend = _grouped(c, tables["satisfaction_trend"])
        s.tables.append(c.make("trend", "feedback.trend", trend[_aspects(trend, TREND_SHOWN)]))
    if "open_complaints" in tables:
        open_ = tables["open_complaints"]
        s.figures.append(Figure("open_complaints", c.t("fig.open_complaints"), len(open_),
                                "integer"))
    if "feedback_keywords" in tables:
        words = tables["feedback_keywords"]
        pending = words[(words["by"] == "all") & (words["open_complaints"] > 0)]
        if len(pending):
            top = pending.sort_values(["open_complaints", "complaints", "keyword"],
                                      ascending=[False, False, True]).iloc[0]
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


class _ViewContext:
    """What :func:`feedback_section` reads, from a read model alone (the CLI's store, the web
    server's copy under the viewer's scope): the builders' context without the rest."""

    def __init__(self, view: RunView, as_of: Any, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ConfigError(f"language {lang!r} is not supported",
                              f"use one of: {', '.join(LANGUAGES)}")
        self.view, self.lang = view, lang
        self.meta = view.meta()
        self.info = {"as_of": as_of}

    def t(self, key: str, **fields: Any) -> str:
        return t(key, self.lang, **fields)

    def section(self, key: str, **fields: Any) -> Section:
        return Section(key, self.t(f"{key}.title"), self.t(f"{key}.intro", **fields))

    def missing(self, key: str, why: str, **fields: Any) -> Section:
        section = self.section(key, **fields)
        section.message = self.t("report.not_available_because", why=self.t(why))
        return section

    def make(self, key: str, title_key: str, frame: pd.DataFrame) -> Table:
        heads = {c: self.t(f"col.{c}") for c in frame.columns if f"col.{c}" in MESSAGES}
        return Table(key, self.t(title_key), frame.reset_index(drop=True), heads)


def feedback_view(view: RunView, as_of: Any, lang: str | None = None) -> Section:
    """The section over one read model (``lang`` default: the run's language)."""
    return feedback_section(_ViewContext(view, as_of, lang or view.meta().get("language")
                                         or "en"))


def feedback_report(store: Any, run: int | str = "latest", lang: str | None = None) -> Section:
    """The satisfaction and feedback section of one run of ``store`` (``tierwise feedback``)."""
    info = store.run_info(run)
    return feedback_view(RunView(store.con, info["run_id"]), str(info["as_of"])[:10], lang)


def section_data(section: Section) -> dict[str, Any]:
    """The section as JSON-ready data: what the web page and ``--json`` show."""
    return {"title": section.title, "intro": section.intro, "message": section.message,
            "figures": [{"key": f.key, "label": f.label, "value": f.value,
                         "format": f.format} for f in section.figures],
            "tables": [{"key": tab.key, "title": tab.title,
                        "columns": [{"key": str(c), "header": tab.header(c),
                                     "format": tab.format(c)} for c in tab.frame.columns],
                        "rows": json.loads(tab.frame.to_json(orient="values",
                                                             force_ascii=False))}
                       for tab in section.tables]}


__all__ = ["feedback_report", "feedback_section", "feedback_view", "section_data"]

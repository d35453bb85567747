"""The words of alerts and the weekly digest (:mod:`tierwise.alerts`).

An alert is stored as a code and its parameters (``alert_events``); these sentences turn it into
Chinese or English when it is sent.
"""

from __future__ import annotations

ALERT_MESSAGES: dict[str, dict[str, str]] = {
    "alert.who": {"zh": "{name}（{id}）", "en": "{name} ({id})"},
    "alert.who_manager": {"zh": "{name}（{id}，客户经理 {manager}）",
                          "en": "{name} ({id}, account manager {manager})"},
    "alert.nobody": {"zh": "无", "en": "none"},
    "alert.tier": {"zh": "{who}：客户层级 {before} → {after}",
                   "en": "{who}: tier {before} -> {after}"},
    "alert.state": {"zh": "{who}：活跃状态 {before} → {after}",
                    "en": "{who}: activity state {before} -> {after}"},
    "alert.segment": {"zh": "{who}：细分 {before} → {after}",
                      "en": "{who}: segment {before} -> {after}"},
    "alert.warning": {"zh": "{who}：预警（{severity}）{message}",
                      "en": "{who}: early warning ({severity}): {message}"},
    "alert.likelihood": {"zh": "{who}：购买可能性由 {before} 降至 {after}（阈值 {threshold}）",
                         "en": "{who}: purchase likelihood fell from {before} to {after} "
                               "(threshold {threshold})"},
    "alert.task_overdue": {"zh": "{who}：任务逾期 {days} 天（{reason}；应于 {due} 完成，负责人 "
                                 "{assignee}）",
                           "en": "{who}: task {days} day(s) overdue ({reason}; due {due}, "
                                 "assigned to {assignee})"},
    "alert.subject": {"zh": "tierwise 提醒：{period} 有 {n} 条变化",
                      "en": "tierwise alerts: {n} change(s) in {period}"},
    "alert.heading": {"zh": "{name}：{period} 与上一期相比的变化（截至 {as_of}）",
                      "en": "{name}: what changed in {period} since the run before (as of "
                            "{as_of})"},
    "alert.more": {"zh": "……另有 {n} 条：运行 tierwise alerts log 查看",
                   "en": "... and {n} more: see 'tierwise alerts log'"},
    "digest.subject": {"zh": "tierwise 每周摘要：{person}（{week}）",
                       "en": "tierwise weekly digest for {person} ({week})"},
    "digest.heading": {"zh": "{person}，您本周（{week}）的摘要：",
                       "en": "{person}, your week ({week}):"},
    "digest.alerts": {"zh": "本周 {n} 条提醒：", "en": "{n} alert(s) this week:"},
    "digest.calls": {"zh": "本周您有 {n} 个电话/任务要完成：", "en": "your {n} calls this week:"},
    "digest.call": {"zh": "{due}：{who}：{reason}", "en": "{due}: {who}: {reason}"},
    "digest.overdue": {"zh": "（已逾期）", "en": "(overdue)"},
    "digest.combined": {"zh": "tierwise 每周摘要（{week}）",
                        "en": "tierwise weekly digest ({week})"},
}

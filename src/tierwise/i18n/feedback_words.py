"""Words of satisfaction and feedback (part of :mod:`tierwise.i18n`): the report section, the
``tierwise feedback`` command and the web page ``/feedback`` all use these."""

from __future__ import annotations

FEEDBACK_MESSAGES: dict[str, dict[str, str]] = {
    "feedback.title": {"zh": "满意度与客户反馈", "en": "Satisfaction and feedback"},
    "feedback.intro": {
        "zh": "按价值看满意度：满意度调查（CSAT 1-5 分：平均分与 4-5 分的比例；NPS 0-10 分：推荐者 "
              "9-10 分减贬损者 0-6 分）与回复率（近 {days} 天有消费的客户中作答的比例），按层级、细分、"
              "门店（客户消费天数最多的门店）和客户经理列出；投诉与意见按类别和层级计数，重要/主要客户"
              "未解决的投诉列为任务；意见文本按关键词归组（中文用 jieba 分词）。截至 {as_of}。",
        "en": "Satisfaction by value: survey scores (CSAT 1-5: the mean and the share scoring "
              "4-5; NPS 0-10: promoters 9-10 minus detractors 0-6) and the response rate (of "
              "the customers who bought in the last {days} days, the share who answered) by "
              "tier, segment, store (the store of most of a customer's purchase days) and "
              "account manager; complaints and comments counted by category and tier, the open "
              "complaints of key and major customers listed (they become tasks); the comments "
              "grouped by keyword (Chinese segmented with jieba). As of {as_of}."},
    "feedback.satisfaction": {"zh": "满意度与回复率", "en": "Satisfaction and response rate"},
    "feedback.trend": {"zh": "满意度趋势（按月；层级为截至本期的层级）",
                       "en": "Satisfaction trend (by month; tiers as of this run)"},
    "feedback.counts": {"zh": "投诉与意见：类别 × 层级", "en": "Complaints and comments: "
                                                          "category x tier"},
    "feedback.open": {"zh": "未解决的投诉（重要/主要客户，最早的在前）",
                      "en": "Open complaints (key and major customers, oldest first)"},
    "feedback.keywords": {"zh": "意见关键词（按全部、层级、门店、类别归组）",
                          "en": "Comment keywords (grouped for everyone, by tier, store, "
                                "category)"},
    "feedback.by_all": {"zh": "全部", "en": "All"},
    "feedback.by_tier": {"zh": "层级", "en": "Tier"},
    "feedback.by_segment": {"zh": "细分", "en": "Segment"},
    "feedback.by_store": {"zh": "门店", "en": "Store"},
    "feedback.by_account_manager": {"zh": "客户经理", "en": "Account manager"},
    "feedback.by_category": {"zh": "类别", "en": "Category"},
    "feedback.everyone": {"zh": "全部客户", "en": "every customer"},
    "feedback.no_category": {"zh": "（未分类）", "en": "(no category)"},
    "feedback.none": {"zh": "（无）", "en": "(none)"},
    "why.no_feedback": {"zh": "没有满意度调查或客户反馈：在配置中加入 [sources.survey] 或 "
                              "[sources.feedback]，导入后重新运行。",
                        "en": "no survey answers or feedback: add [sources.survey] or "
                              "[sources.feedback] to the config, ingest, and run again."},
    "fig.csat": {"zh": "CSAT 平均分", "en": "CSAT (mean)"},
    "fig.nps": {"zh": "NPS", "en": "NPS"},
    "fig.response_rate": {"zh": "回复率", "en": "Response rate"},
    "fig.open_complaints": {"zh": "重要/主要客户未解决投诉", "en": "Open complaints, key and "
                                                           "major"},
    "fig.top_keyword": {"zh": "未解决投诉中最常见的关键词",
                        "en": "Most frequent keyword of open complaints"},
    "col.buyers": {"zh": "期内有消费", "en": "Bought"},
    "col.respondents": {"zh": "作答客户", "en": "Respondents"},
    "col.response_rate": {"zh": "回复率", "en": "Response rate"},
    "col.answers": {"zh": "答卷", "en": "Answers"},
    "col.csat_answers": {"zh": "CSAT 答卷", "en": "CSAT answers"},
    "col.csat": {"zh": "CSAT", "en": "CSAT"},
    "col.satisfied": {"zh": "满意（4-5 分）", "en": "Satisfied (4-5)"},
    "col.nps_answers": {"zh": "NPS 答卷", "en": "NPS answers"},
    "col.nps": {"zh": "NPS", "en": "NPS"},
    "col.taste": {"zh": "口味", "en": "Taste"},
    "col.service": {"zh": "服务", "en": "Service"},
    "col.setting": {"zh": "环境", "en": "Setting"},
    "col.month": {"zh": "月份", "en": "Month"},
    "col.category": {"zh": "类别", "en": "Category"},
    "col.items": {"zh": "条数", "en": "Items"},
    "col.complaints": {"zh": "投诉", "en": "Complaints"},
    "col.open_complaints": {"zh": "未解决", "en": "Open"},
    "col.store": {"zh": "门店", "en": "Store"},
    "col.received_at": {"zh": "反馈日期", "en": "Received"},
    "col.open_days": {"zh": "未解决天数", "en": "Days open"},
    "col.text": {"zh": "内容", "en": "Text"},
    "col.keyword": {"zh": "关键词", "en": "Keyword"},
    "col.comments": {"zh": "条数", "en": "Comments"},
    "col.example": {"zh": "示例", "en": "Example"},
    # the web page
    "nav.feedback": {"zh": "满意度", "en": "Satisfaction"},
    "setup.kind.feedback": {"zh": "客户反馈（投诉与意见）", "en": "Feedback (complaints, comments)"},
    "val.feedback": {"zh": "客户反馈", "en": "feedback"},
}

__all__ = ["FEEDBACK_MESSAGES"]

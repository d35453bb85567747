"""Words of the people loop: task reasons, outcomes, closing notes, the timeline (part of
:mod:`tierwise.i18n`, merged into the code names of :mod:`.codes`).

Tasks and outcomes are stored as codes and figures (``reason = 'warning'`` with its figures in
``reason_args``); :mod:`tierwise.tasks.words` words them here, in either language, when they are
shown.
"""

from __future__ import annotations

TASK_MESSAGES: dict[str, dict[str, str]] = {
    # -- why a task exists (tasks.reason + reason_args) -------------------------------------
    "task_reason.warning": {"zh": "预警：{message}", "en": "early warning: {message}"},
    "task_reason.call": {"zh": "重要/主要客户，可能流失：由客户经理致电了解情况",
                         "en": "key or major account unlikely to buy: call to find out"},
    "task_reason.visit": {"zh": "关键客户计划拜访：{since}",
                          "en": "planned visit to a key account: {since}"},
    "task_reason.visit_since": {"zh": "已 {days} 天没有联系记录",
                                "en": "no contact recorded for {days} days"},
    "task_reason.visit_never": {"zh": "还没有联系记录", "en": "no contact recorded yet"},
    "task_reason.wake_up": {"zh": "唤醒：{state}，已 {days} 天未消费",
                            "en": "wake up: {state}, no purchase for {days} days"},
    "task_reason.birthday": {"zh": "{date} 生日", "en": "birthday on {date}"},
    "task_reason.joined": {"zh": "{date} 入会 {years} 周年",
                           "en": "{years} year(s) since joining, on {date}"},
    "task_reason.first_purchase": {"zh": "{date} 首次消费 {years} 周年",
                                   "en": "{years} year(s) since the first purchase, on {date}"},
    "task_reason.campaign_follow_up": {
        "zh": "活动“{campaign}”中使用了优惠券：回访，争取成为常客",
        "en": "used the coupon of campaign '{campaign}': follow up to make them a regular"},
    "task_reason.contract_renewal": {
        "zh": "合同 {contract_id} 将于 {ends_at} 到期（还有 {days} 天）：商谈续约",
        "en": "contract {contract_id} ends on {ends_at} ({days} days left): talk renewal"},
    "task_reason.contract_overdue": {
        "zh": "合同 {contract_id} 已于 {ends_at} 到期，尚未续约：尽快商谈续约",
        "en": "contract {contract_id} ended on {ends_at} and is not renewed: talk renewal now"},
    "task_reason.follow_up": {"zh": "约定的回访（{on} 记录：{outcome}）",
                              "en": "follow-up agreed on {on} ({outcome})"},
    "task_reason.complaint": {"zh": "投诉跟进（{on}）：按服务等级优先处理",
                              "en": "complaint follow-up ({on}): the service level's attention"},
    "task_reason.promise_unkept": {"zh": "{on} 说会再来，{days} 天内没有订单",
                                   "en": "said on {on} they would come back; no order in "
                                         "{days} days"},
    "task_reason.prospect_followup": {
        "zh": "{grade} 级潜在客户（评分 {score}）：尽快联系，争取首单",
        "en": "grade {grade} prospect (score {score}): contact them for a first order"},
    "task_reason.open_complaint": {
        "zh": "未解决的投诉（{category}，{on} 起，共 {count} 条）：按服务等级优先处理",
        "en": "open complaint ({category}, since {on}, {count} open): the service level's "
              "attention"},
    # -- short names of the reasons (lists, filters) ----------------------------------------
    "task_kind.warning": {"zh": "预警", "en": "early warning"},
    "task_kind.call": {"zh": "致电", "en": "call"},
    "task_kind.visit": {"zh": "计划拜访", "en": "planned visit"},
    "task_kind.wake_up": {"zh": "唤醒", "en": "wake-up"},
    "task_kind.birthday": {"zh": "生日", "en": "birthday"},
    "task_kind.joined": {"zh": "入会周年", "en": "joining anniversary"},
    "task_kind.first_purchase": {"zh": "首次消费周年", "en": "first-purchase anniversary"},
    "task_kind.campaign_follow_up": {"zh": "活动回访", "en": "campaign follow-up"},
    "task_kind.prospect_followup": {"zh": "潜在客户跟进", "en": "prospect follow-up"},
    "task_kind.contract_renewal": {"zh": "合同续约", "en": "contract renewal"},
    "task_kind.follow_up": {"zh": "约定回访", "en": "follow-up"},
    "task_kind.complaint": {"zh": "投诉跟进", "en": "complaint follow-up"},
    "task_kind.promise_unkept": {"zh": "未如约回来", "en": "did not come back"},
    "task_kind.open_complaint": {"zh": "未解决投诉", "en": "open complaint"},
    # -- outcomes -------------------------------------------------------------------------------
    "outcome.reached": {"zh": "已联系上", "en": "reached"},
    "outcome.no_answer": {"zh": "无人接听", "en": "no answer"},
    "outcome.visited": {"zh": "已拜访", "en": "visited"},
    "outcome.will_come_back": {"zh": "会再来", "en": "will come back"},
    "outcome.lost_to_competitor": {"zh": "流失给竞争对手", "en": "lost to a competitor"},
    "outcome.moved_away": {"zh": "已搬离", "en": "moved away"},
    "outcome.complaint": {"zh": "投诉", "en": "complaint"},
    "outcome.other": {"zh": "其他", "en": "other"},
    # -- what the next run found for "will come back" ---------------------------------------
    "outcome_check.came_back": {"zh": "已回来（{on} 有订单）",
                                "en": "came back (order on {on})"},
    "outcome_check.not_back": {"zh": "{days} 天内没有回来", "en": "not back within {days} days"},
    # -- why a task closed by itself (tasks.close_note) -------------------------------------
    "task_close.reason_gone": {"zh": "原因已消除，自动关闭", "en": "closed: the reason is gone"},
    "task_close.archived": {"zh": "客户已归档，自动关闭",
                            "en": "closed: the customer is archived"},
    "task_close.done": {"zh": "已记录结果", "en": "outcome recorded"},
    # -- priorities and statuses ------------------------------------------------------------
    "task_priority.1": {"zh": "高", "en": "high"},
    "task_priority.2": {"zh": "中", "en": "medium"},
    "task_priority.3": {"zh": "低", "en": "low"},
    "task_status.open": {"zh": "待办", "en": "open"},
    "task_status.done": {"zh": "已完成", "en": "done"},
    "task_status.closed": {"zh": "已关闭", "en": "closed"},
    # -- the reason a customer is archived by an outcome (policy_reason part) ---------------
    "reason.outcome": {"zh": "{on} 记录：{outcome}（{by}）", "en": "{outcome}, recorded on {on} "
                                                                "by {by}"},
    # -- the customer timeline --------------------------------------------------------------
    "timeline.order": {"zh": "订单 {amount}", "en": "order {amount}"},
    "timeline.refund": {"zh": "退款 {amount}", "en": "refund {amount}"},
    "timeline.snapshot": {"zh": "{period}：{tier}，{state}", "en": "{period}: {tier}, {state}"},
    "timeline.task": {"zh": "任务（{assignee}，{due} 前）：{reason}",
                      "en": "task for {assignee}, due {due}: {reason}"},
    "timeline.task_closed": {"zh": "任务关闭：{reason}（{note}）",
                             "en": "task closed: {reason} ({note})"},
    "timeline.outcome": {"zh": "{by} 记录结果：{outcome}", "en": "{by} recorded: {outcome}"},
    "timeline.campaign": {"zh": "活动“{campaign}”（{group}）", "en": "campaign '{campaign}' "
                                                                    "({group})"},
    "timeline.redeemed": {"zh": "使用活动“{campaign}”优惠券 {amount}",
                          "en": "used the coupon of '{campaign}': {amount}"},
    "timeline.group.target": {"zh": "目标组", "en": "target group"},
    "timeline.group.control": {"zh": "对照组，未联系", "en": "control group, not contacted"},
    "timeline.next": {"zh": "下次联系：{date}", "en": "next contact: {date}"},
}

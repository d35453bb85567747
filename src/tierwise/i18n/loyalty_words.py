"""The words of loyalty levels and rewards (:mod:`tierwise.loyalty`), in Chinese and English.

Level and reward names are the user's own (``[loyalty]`` in the config); these are the sentences
and headers around them.
"""

from __future__ import annotations

LOYALTY_MESSAGES: dict[str, dict[str, str]] = {
    # -- windows and sentences ---------------------------------------------------------------
    "loyalty_window.month": {"zh": "本月", "en": "this month"},
    "loyalty_window.quarter": {"zh": "本季度", "en": "this quarter"},
    "loyalty_window.year": {"zh": "今年", "en": "this year"},
    "loyalty.level_is": {"zh": "会员等级：{level}", "en": "Loyalty level: {level}"},
    "loyalty.to_next": {"zh": "{window}再消费 {amount} 即可升级为{level}",
                        "en": "spend {amount} more {window} to become {level}"},
    "loyalty.at_top": {"zh": "已是最高等级", "en": "already at the top level"},
    "loyalty.to_keep": {"zh": "{date} 前再消费 {amount} 可保住{level}",
                        "en": "spend {amount} more by {date} to keep {level}"},
    "loyalty.in_grace": {"zh": "自 {date} 起处于保级宽限期（上一期消费未达门槛）",
                         "en": "in grace since {date} (the last window's spend fell short)"},
    # -- report / page -----------------------------------------------------------------------
    "loyalty.title": {"zh": "会员等级与奖励", "en": "Loyalty levels and rewards"},
    "loyalty.intro": {"zh": "按{window}净消费划分的会员等级：每级人数、保级宽限期中的人数、距下一级不远的人数；"
                            "按规则发放的奖励及其与对照组相比的效果。",
                      "en": "Loyalty levels by net spend {window}: customers per level, those in "
                            "grace, those near the next level; rewards issued by rule and their "
                            "effect against a control group."},
    "loyalty.levels_title": {"zh": "各等级人数", "en": "Customers per level"},
    "loyalty.near_title": {"zh": "距下一级最近的客户", "en": "Closest to the next level"},
    "loyalty.rewards_title": {"zh": "规则奖励的效果（各月合计）",
                              "en": "Rule-based rewards: effect (months pooled)"},
    "loyalty.reward_note": {"zh": "奖励成本按已使用的奖励计（每次使用计一次成本）；回访率比较奖励发放月之后窗口内的"
                                  "回访：领取者对比按客户编号哈希留出的对照组。",
                            "en": "Reward cost counts rewards used (one cost per use); the return "
                                  "rates compare the window after each issue month: recipients "
                                  "against the customers held out by a hash of their id."},
    "loyalty.pending": {"zh": "{months} 暂不计入（订单尚未覆盖该月之后的回访窗口）",
                        "en": "{months} not pooled yet (the orders do not cover the window "
                              "after the month)"},
    "loyalty.no_rewards": {"zh": "还没有发放奖励：运行 tierwise loyalty rewards。",
                           "en": "No rewards kept yet: run 'tierwise loyalty rewards'."},
    "why.no_loyalty": {"zh": "配置中没有 [loyalty] 等级（见 docs/loyalty.md）",
                       "en": "the config has no [loyalty] levels (see docs/loyalty.md)"},
    "nav.loyalty": {"zh": "会员等级", "en": "Loyalty"},
    "loyalty.verdict_up": {"zh": "领取者回访率 {target}，对照组 {control}：高出 {points} 个百分点，不是偶然",
                           "en": "recipients came back at {target}, the control group at "
                                 "{control}: {points} points more, not chance"},
    "loyalty.verdict_down": {"zh": "领取者回访率 {target}，对照组 {control}：低了 {points} 个百分点，不是偶然",
                             "en": "recipients came back at {target}, the control group at "
                                   "{control}: {points} points fewer, not chance"},
    "loyalty.verdict_none": {"zh": "领取者回访率 {target}，对照组 {control}：差异无法与偶然区分",
                             "en": "recipients came back at {target}, the control group at "
                                   "{control}: no difference that can be told from chance"},
    "loyalty.verdict_small": {"zh": "样本太小，无法判断（领取者 {target}，对照组 {control}）",
                              "en": "too small to tell (recipients {target}, control {control})"},
    # -- columns ------------------------------------------------------------------------------
    "col.level": {"zh": "等级", "en": "level"},
    "col.min_spend": {"zh": "门槛", "en": "threshold"},
    "col.spend_window": {"zh": "本期消费", "en": "spend this window"},
    "col.in_grace": {"zh": "宽限期中", "en": "in grace"},
    "col.near_next": {"zh": "接近下一级", "en": "near next level"},
    "col.next_level": {"zh": "下一级", "en": "next level"},
    "col.distance": {"zh": "还差", "en": "spend missing"},
    "col.reward": {"zh": "奖励", "en": "reward"},
    "col.months": {"zh": "月份", "en": "months"},
    "col.issued": {"zh": "发放", "en": "issued"},
    "col.cost": {"zh": "成本", "en": "cost"},
    "col.sentence": {"zh": "还需", "en": "what it takes"},
    "col.verdict": {"zh": "结论", "en": "verdict"},
}

__all__ = ["LOYALTY_MESSAGES"]

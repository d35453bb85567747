"""The names of every code the store holds, and the sentences built from codes and figures.

Stored tables hold codes (``tier = 'long_tail'``, ``activity_state = 'dormant'``) and, where a
sentence has variable parts, a code and its figures (``policy_reason_code`` +
``policy_reason_args``). The words live here, under ``<family>.<code>``; :mod:`.render` puts them
back at the edge, in either language. A test enumerates every code the code base can store and
checks both languages are here.
"""

from __future__ import annotations

from .loyalty_words import LOYALTY_MESSAGES
from .task_words import TASK_MESSAGES

_WAKE_UP = {"zh": "登门拜访、纪念日电话问候、针对性优惠",
            "en": "visit in person, call on an anniversary, targeted offer"}

CODE_MESSAGES: dict[str, dict[str, str]] = {
    # -- pyramid tiers and key-account types -----------------------------------------------------
    "tier.key": {"zh": "重要客户", "en": "key"},
    "tier.major": {"zh": "主要客户", "en": "major"},
    "tier.ordinary": {"zh": "普通客户", "en": "ordinary"},
    "tier.long_tail": {"zh": "长尾客户", "en": "long tail"},
    "tier.new": {"zh": "新客户", "en": "new"},
    "tier.prospect": {"zh": "潜在客户", "en": "prospect"},
    "key_account_type.strategic": {"zh": "战略客户", "en": "strategic"},
    "key_account_type.core": {"zh": "核心客户", "en": "core"},
    # -- activity states, policies and what staff do ------------------------------------------
    "state.normal": {"zh": "正常", "en": "normal"},
    "state.resting": {"zh": "休息", "en": "resting"},
    "state.dormant": {"zh": "休眠", "en": "dormant"},
    "state.shock": {"zh": "休克", "en": "shock"},
    "state.dead": {"zh": "死亡", "en": "dead"},
    "state.buried": {"zh": "埋葬", "en": "buried"},
    "policy.maintain": {"zh": "维护", "en": "maintain"},
    "policy.wake_up": {"zh": "唤醒", "en": "wake up"},
    "policy.call": {"zh": "客户经理致电", "en": "account manager calls"},
    "policy.do_not_contact": {"zh": "不打扰", "en": "do not contact"},
    "policy.archive": {"zh": "归档", "en": "archive"},
    "actions.maintain": {"zh": "正常维护，保持日常服务", "en": "keep up the usual service"},
    "actions.wake_up": _WAKE_UP,
    "actions.call": {"zh": "重要/主要客户：客户经理亲自致电或拜访，了解原因",
                     "en": "key or major account: its manager calls or visits to find out why"},
    "actions.do_not_contact": {"zh": "不再联系", "en": "no more calls or messages"},
    "actions.archive": {"zh": "归档，移出活跃名单", "en": "move out of the active lists"},
    "basis.model": {"zh": "购买模型", "en": "purchase model"},
    "basis.rhythm": {"zh": "消费节奏", "en": "purchase rhythm"},
    "stage.prospect": {"zh": "潜在客户", "en": "prospect"},
    "stage.new": {"zh": "新客户", "en": "new"},
    "stage.active": {"zh": "活跃客户", "en": "active"},
    "stage.at_risk": {"zh": "有流失风险", "en": "at risk"},
    "stage.lost": {"zh": "已流失", "en": "lost"},
    "bucket.1": {"zh": "上旬", "en": "days 1-10"},
    "bucket.2": {"zh": "中旬", "en": "days 11-20"},
    "bucket.3": {"zh": "下旬", "en": "days 21-end"},
    "movement.up": {"zh": "上升", "en": "moved up"},
    "movement.down": {"zh": "下降", "en": "moved down"},
    "movement.stayed": {"zh": "不变", "en": "stayed"},
    "movement.moved": {"zh": "变动", "en": "moved"},
    "movement.new": {"zh": "新进入", "en": "new in"},
    "movement.gone": {"zh": "离开", "en": "gone"},
    # -- early warnings ------------------------------------------------------------------------
    "warning_kind.yoy_drop": {"zh": "同比大幅下降", "en": "down on the same period last year"},
    "warning_kind.trailing_drop": {"zh": "低于近期平均", "en": "down on its trailing average"},
    "warning_kind.silence": {"zh": "长时间未下单", "en": "silent for longer than usual"},
    "warning_kind.unlikely": {"zh": "再次下单可能性低", "en": "unlikely to order again"},
    "severity.high": {"zh": "高", "en": "high"},
    "severity.medium": {"zh": "中", "en": "medium"},
    "period_this.month": {"zh": "本月", "en": "this month"},
    "period_this.quarter": {"zh": "本季度", "en": "this quarter"},
    "period_unit.month": {"zh": "月", "en": "month"},
    "period_unit.quarter": {"zh": "季度", "en": "quarter"},
    "warning.yoy_drop": {"zh": "{this}订单额 {current}，去年同{unit} {reference}（{change}%）",
                         "en": "orders {this} {current} vs {reference} same {unit} last year "
                               "({change} %)"},
    "warning.trailing_drop": {"zh": "{this}订单额 {current}，前 {window} 个{unit}平均 {reference}"
                                    "（{change}%）",
                              "en": "orders {this} {current} vs {reference} on average over the "
                                    "previous {window} {unit}s ({change} %)"},
    "warning.silence": {"zh": "已 {current} 天未下单，平时约每 {reference} 天一单（平时间隔的 "
                              "{ratio} 倍）",
                        "en": "no order for {current} days, usually one every {reference} days "
                              "({ratio} x the usual gap)"},
    "warning.unlikely": {"zh": "{window} 天内下单的概率仅 {current}%（底线 {reference}%），"
                               "请客户经理致电了解原因",
                         "en": "only {current} % chance of an order in {window} days (floor "
                               "{reference} %): its manager should call"},
    # -- RFM: problem groups, the eight classes, the default segment map -------------------------
    "problem_group.frequent_small": {"zh": "高频低客单", "en": "frequent visits, small tickets"},
    "problem_group.big_rare": {"zh": "大额低频", "en": "big tickets, rare visits"},
    "rfm_class.重要价值客户": {"zh": "重要价值客户", "en": "Important value"},
    "rfm_class.重要发展客户": {"zh": "重要发展客户", "en": "Important to develop"},
    "rfm_class.重要保持客户": {"zh": "重要保持客户", "en": "Important to keep"},
    "rfm_class.重要挽留客户": {"zh": "重要挽留客户", "en": "Important to win back"},
    "rfm_class.一般价值客户": {"zh": "一般价值客户", "en": "General value"},
    "rfm_class.一般发展客户": {"zh": "一般发展客户", "en": "General to develop"},
    "rfm_class.一般保持客户": {"zh": "一般保持客户", "en": "General to keep"},
    "rfm_class.一般挽留客户": {"zh": "一般挽留客户", "en": "General to win back"},
    "rfm_segment.Champions": {"zh": "冠军客户", "en": "Champions"},
    "rfm_segment.Loyal": {"zh": "忠诚客户", "en": "Loyal"},
    "rfm_segment.Potential Loyalist": {"zh": "潜在忠诚客户", "en": "Potential Loyalist"},
    "rfm_segment.New": {"zh": "新客户", "en": "New"},
    "rfm_segment.Promising": {"zh": "有潜力客户", "en": "Promising"},
    "rfm_segment.Need Attention": {"zh": "需要关注客户", "en": "Need Attention"},
    "rfm_segment.About to Sleep": {"zh": "即将沉睡客户", "en": "About to Sleep"},
    "rfm_segment.Cannot Lose Them": {"zh": "不能失去的客户", "en": "Cannot Lose Them"},
    "rfm_segment.At Risk": {"zh": "有流失风险客户", "en": "At Risk"},
    "rfm_segment.Hibernating": {"zh": "休眠客户", "en": "Hibernating"},
    "rfm_segment.Lost": {"zh": "已流失客户", "en": "Lost"},
    "rfm_segment.Other": {"zh": "其他", "en": "Other"},
    # -- why a policy: the parts of policy_reason ----------------------------------------------
    "reason.chance": {"zh": "{horizon} 天内再次购买的概率 {p}（{basis}），{cmp}底线 {floor}",
                      "en": "{p} chance of a purchase in {horizon} days ({basis}), {cmp} floor "
                            "{floor}"},
    "reason.below": {"zh": "低于", "en": "<"},
    "reason.not_below": {"zh": "不低于", "en": ">="},
    "reason.rhythm": {"zh": "已沉默约 {missed} 个平时间隔（约 {gap} 天）",
                      "en": "silent {missed} x its usual gap of {gap} days"},
    "reason.alive": {"zh": "仍活跃概率 {p}", "en": "P(alive) {p}"},
    "reason.protected": {"zh": "重要/主要客户：不按规则放弃，由客户经理致电",
                         "en": "key or major account: never silenced by rule, its manager calls"},
    "reason.warning": {"zh": "预警：{message}", "en": "early warning: {message}"},
    "reason.text": {"zh": "{text}", "en": "{text}"},
    # -- why in or out of the key accounts (key_account_reason) -----------------------------
    "ka.rank": {"zh": "按选择矩阵得分 {score} 排名第 {rank}（名额 {seats}）；{kind}",
                "en": "rank {rank} of {seats} by selection score {score}; {kind}"},
    "ka.cap": {"zh": "超出名额：排名第 {rank}，名额 {seats}", "en": "cap: rank {rank} of {seats}"},
    "ka.cap_added": {"zh": "超出名额：排名第 {rank}，名额 {seats}（{added} 个名额已被手动加入占用）",
                     "en": "cap: rank {rank} of {seats} ({added} seat(s) taken by manual adds)"},
    "ka.gated": {"zh": "门槛排除：{gates}", "en": "gated: {gates}"},
    "ka.gate": {"zh": "{text}", "en": "{text}"},
    "ka.status.lost": {"zh": "已流失客户", "en": "lost account"},
    "ka.status.archived": {"zh": "已归档（活跃度策略）", "en": "archived (activity policy)"},
    "ka.manual_add": {"zh": "{by} 于 {when} 手动加入：{reason}",
                      "en": "manual add by {by} on {when}: {reason}"},
    "ka.manual_add_gated": {"zh": "{by} 于 {when} 手动加入：{reason}（不受门槛限制：{gates}）",
                            "en": "manual add by {by} on {when}: {reason} (overrides gate: "
                                  "{gates})"},
    "ka.manual_remove": {"zh": "{by} 于 {when} 手动移除：{reason}",
                         "en": "manual remove by {by} on {when}: {reason}"},
    # -- why a pyramid level (tier_reason) --------------------------------------------------
    "column.clv_predicted": {"zh": "预测CLV", "en": "predicted CLV"},
    "column.clv_historical": {"zh": "历史CLV", "en": "historical CLV"},
    "column.total_amount": {"zh": "消费总额", "en": "total amount"},
    "column.margin_total": {"zh": "毛利", "en": "margin"},
    "column.frequency": {"zh": "复购次数", "en": "repeat purchases"},
    "column.value_period": {"zh": "本期价值", "en": "value this period"},
    "column.score": {"zh": "评分卡得分", "en": "scorecard score"},
    "tier_reason.top": {"zh": "按{name}排名前{hi}", "en": "top {hi} by {name}"},
    "tier_reason.span": {"zh": "按{name}排名前{lo}-{hi}", "en": "top {lo}-{hi} by {name}"},
    "tier_reason.bottom": {"zh": "按{name}排名后{lo}", "en": "bottom {lo} by {name}"},
    "tier_reason.first": {"zh": "累计贡献前{hi}的{name}", "en": "in the first {hi} of {name}"},
    "tier_reason.within": {"zh": "累计贡献{lo}-{hi}的{name}", "en": "in {lo}-{hi} of {name}"},
    "tier_reason.last": {"zh": "累计贡献最后{lo}的{name}", "en": "in the last {lo} of {name}"},
    "tier_reason.at_threshold": {"zh": "{name}达到{tier}门槛",
                                 "en": "{name} at or above the {tier} threshold"},
    "tier_reason.below_threshold": {"zh": "{name}低于{tier}门槛",
                                    "en": "{name} below the {tier} threshold"},
    "tier_reason.cut_above": {"zh": "（{v} ≥ 分界 {cut}）", "en": " ({v} >= cut {cut})"},
    "tier_reason.cut_below": {"zh": "（{v} < 分界 {cut}）", "en": " ({v} < cut {cut})"},
    "tier_reason.held": {"zh": "保持{tier}（防抖）：{v} 越过分界 {cut} 未达 {margin}",
                         "en": "stays {tier} (hysteresis): {v} has not passed the cut {cut} by "
                               "the margin of {margin}"},
    "tier_reason.points": {"zh": "{margin} 个百分点", "en": "{margin} percentile points"},
    "tier_reason.prospect": {"zh": "尚无购买：潜在客户，不参与分级",
                             "en": "no purchase yet: prospect, not graded"},
    "tier_reason.new": {"zh": "仅 {count} 次购买（满 {needed} 次才分级）：新客户",
                        "en": "{count} purchase(s), fewer than the {needed} needed to be graded: "
                              "new customer"},
    "tier_reason.not_graded": {"zh": "未分级：无{name}数值", "en": "not graded: no {name} value"},
    "tier_reason.null_lowest": {"zh": "无{name}数值：归入最低层级",
                                "en": "no {name} value: placed in the lowest level"},
    "tier_reason.no_spread": {"zh": "拟合期所有参与分级的客户{name}相同（{v}），相对分界无法区分，"
                                    "均为普通客户",
                              "en": "every graded customer of the fit period had the same {name} "
                                    "({v}): a relative cut cannot rank them, so all are ordinary"},
    # -- the backtest's headline (run meta ``backtest``: figures, worded when read) ----------
    "bt_headline.ran": {"zh": "{start} 的建议，{horizon} 天后：{silenced}{calibration}",
                        "en": "advice of {start}, {horizon} days on: {silenced}{calibration}"},
    "bt_headline.none_silenced": {"zh": "无客户被标为不打扰/归档",
                                  "en": "no one was told to be left alone"},
    "bt_headline.silenced": {"zh": "被标为不打扰/归档的 {n} 人中 {share}% 再次购买",
                             "en": "{share} % of the {n} told 'do not contact'/'archive' bought "
                                   "again"},
    "bt_headline.calibration": {"zh": "；购买可能性与实际最多相差 {gap} 个百分点",
                                "en": "; purchase likelihood off by at most {gap} points"},
    "bt_headline.policy_calibration": {"zh": "；对策所依据的概率（消费节奏）最多相差 {gap} 个百分点",
                                       "en": "; the policies' probability (from the rhythm) by at "
                                             "most {gap}"},
    "bt_headline.skipped": {"zh": "未回测：{why}", "en": "no backtest: {why}"},
    "bt_skip.disabled": {"zh": "配置中关闭了回测（[backtest] enabled = false）",
                         "en": "[backtest] enabled = false"},
    "bt_skip.short_history": {"zh": "{start} 之前只有 {have} 天的订单（需要 {need} 天）",
                              "en": "only {have} days of orders before {start} (need {need})"},
    # -- how regular the customers are (tierwise models: Wheat & Morrison's k) ---------------
    "regularity.rhythm": {"zh": "您的客户按节奏回访（k 约为 {k}）：长时间不来比泊松模型（BG/NBD、"
                                "Pareto/NBD）估计的更说明问题，节奏模型（MBG/CNBD-k、BG/CNBD-k）"
                                "正适合这种情况",
                          "en": "your customers come back on a rhythm (k about {k}): a long "
                                "silence means more than the Poisson models (BG/NBD, Pareto/NBD) "
                                "assume; the rhythm models (MBG/CNBD-k, BG/CNBD-k) are built for "
                                "this"},
    "regularity.random": {"zh": "您的客户消费时间没有固定节奏（k 约为 {k}，接近随机到达）：泊松模型的"
                                "假设成立",
                          "en": "your customers buy at irregular times (k about {k}, as random "
                                "arrivals): the Poisson models' assumption holds"},
    "regularity.bursts": {"zh": "您的客户集中消费（k 约为 {k}，小于 1）：几次消费挨得很近，然后长时间"
                                "停顿",
                          "en": "your customers buy in bursts (k about {k}, below 1): several "
                                "purchases close together, then long pauses"},
    "regularity.few": {"zh": "未估计规律性：消费三天及以上的客户只有 {n} 位（少于 {min}）",
                       "en": "regularity not estimated: only {n} customers with three or more "
                             "purchase days (< {min})"},
    "regularity.no_spread": {"zh": "未估计规律性：最近两次间隔的比例完全相同",
                             "en": "regularity not estimated: the last two gaps are always in the "
                                   "same proportion"},
    # -- why values come from a fallback (clv_note) -----------------------------------------
    "clv_note.historical_rate": {"zh": "未用拟合模型（{why}）：按客户自己的购买频率估算",
                                 "en": "no fitted model ({why}): values from the customer's own "
                                       "purchase rate"},
    "clv_note.model_fallback": {"zh": "{failed} 拟合退化：改用 {model} 估算",
                                "en": "{failed} fit was degenerate: values from {model}"},
    "clv_note.spend_outside_model": {"zh": "复购金额合计为零或负：每次消费按客户自己的金额（0）计，"
                                           "不用 Gamma-Gamma 估算",
                                     "en": "repeat purchases net to zero or less: spend per "
                                           "purchase is the customer's own (0), not a Gamma-Gamma "
                                           "estimate"},
    "clv_note.spend_own_mean": {"zh": "未拟合 Gamma-Gamma：每次消费按客户自己的均值估算",
                                "en": "Gamma-Gamma not fitted: spend per purchase is the "
                                      "customer's own mean"},
    "clv_note.prospect": {"zh": "尚无购买：潜在客户，不适用价值模型",
                          "en": "no purchase yet: a prospect, no value model applies"},
    **TASK_MESSAGES,
    **LOYALTY_MESSAGES,
}

#: Every stored code column -> the catalogue family that names its values.
CODE_FAMILIES: dict[str, str] = {
    "tier": "tier", "key_account_type": "key_account_type", "activity_state": "state",
    "state": "state", "activity_policy": "policy", "policy": "policy",
    "lifecycle_stage": "stage", "problem_group": "problem_group", "rfm_class_cn": "rfm_class",
    "rfm_segment": "rfm_segment", "kind": "warning_kind", "severity": "severity",
    "movement": "movement", "bucket": "bucket",
}

"""Service policies per pyramid tier and pricing guidance per kind of key account, as data.

These are the built-in texts; ``[pyramid.policies.<tier>]`` and ``[key_accounts.pricing.<kind>]``
in ``tierwise.toml`` change them key by key (:func:`tierwise.tiering.service_policy` and
:func:`tierwise.tiering.pricing_guidance` lay the config over them).

The texts follow the seeds' account of tiered customer management (客户分级管理): key customers
get a dedicated account manager, the strongest resources and priority service; ordinary
customers are kept at low cost and encouraged to move up; small customers are served through
cheap channels, with price or cost-to-serve adjusted rather than dropped outright. Pricing
guidance follows the key-account article: strategic accounts may be served at low margins, even
break-even; core accounts aim for optimal margins.

Names of tiers and key-account types come from the one catalogue (:mod:`tierwise.i18n`).
"""

from __future__ import annotations

from typing import Any

from ..i18n import t

#: English and Chinese name of every tier (the four levels, then the two ungraded groups).
TIER_NAMES: dict[str, dict[str, str]] = {
    tier: {"en": t(f"tier.{tier}", "en"), "zh": t(f"tier.{tier}", "zh")}
    for tier in ("key", "major", "ordinary", "long_tail", "new", "prospect")}

#: English and Chinese name of the two kinds of key account.
KEY_ACCOUNT_TYPE_NAMES: dict[str, dict[str, str]] = {
    kind: {"en": t(f"key_account_type.{kind}", "en"), "zh": t(f"key_account_type.{kind}", "zh")}
    for kind in ("strategic", "core")}

#: Built-in service policy per tier (the keys of :class:`tierwise.config.ServicePolicyConfig`).
SERVICE_POLICIES: dict[str, dict[str, Any]] = {
    "key": {
        "benefits_en": "dedicated account manager; priority production and delivery; customised "
                       "solutions; invited to co-design products; preferential prices and "
                       "discounts; planned regular visits",
        "benefits_zh": "专属客户经理；优先排产与交付；定制化方案；邀请参与产品研发与决策；"
                       "优惠价格与折扣；有计划的定期拜访",
        "response_time_en": "within 2 hours, 24/7 hotline",
        "response_time_zh": "2 小时内响应，7×24 专线",
        "dedicated_manager": True,
        "payment_terms_en": "monthly statement, net 60 days, credit line",
        "payment_terms_zh": "月结 60 天，给予信用额度",
    },
    "major": {
        "benefits_en": "named account team; volume discounts; rewards for moving up to key; "
                       "quarterly business review",
        "benefits_zh": "客户经理团队对接；批量折扣；升级奖励；季度业务回顾",
        "response_time_en": "within 4 working hours",
        "response_time_zh": "4 个工作小时内响应",
        "dedicated_manager": False,
        "payment_terms_en": "net 30 days",
        "payment_terms_zh": "月结 30 天",
    },
    "ordinary": {
        "benefits_en": "standard service; cumulative-purchase rewards that encourage moving up",
        "benefits_zh": "标准服务；累计购买奖励，鼓励升级",
        "response_time_en": "within 1 working day",
        "response_time_zh": "1 个工作日内响应",
        "dedicated_manager": False,
        "payment_terms_en": "payment on delivery",
        "payment_terms_zh": "现款（货到付款）",
    },
    "long_tail": {
        "benefits_en": "self-service channels, no special offers; check for upgrade potential "
                       "before raising the price of service or lowering its cost",
        "benefits_zh": "自助服务渠道，不提供特殊优惠；先分析有无升级可能，"
                       "再考虑提高服务价格或降低服务成本",
        "response_time_en": "within 3 working days",
        "response_time_zh": "3 个工作日内响应",
        "dedicated_manager": False,
        "payment_terms_en": "payment in advance",
        "payment_terms_zh": "预付款",
    },
    "new": {
        "benefits_en": "welcome offer; follow-up call after the first purchase; incentive for a "
                       "second purchase",
        "benefits_zh": "欢迎礼包；首购后回访；二次购买激励",
        "response_time_en": "within 1 working day",
        "response_time_zh": "1 个工作日内响应",
        "dedicated_manager": False,
        "payment_terms_en": "payment on delivery",
        "payment_terms_zh": "现款（货到付款）",
    },
    "prospect": {
        "benefits_en": "sales qualification; purchase-likelihood score on the sales list",
        "benefits_zh": "销售资格评估；销售名单附购买可能性评分",
        "response_time_en": "within 2 working days",
        "response_time_zh": "2 个工作日内响应",
        "dedicated_manager": False,
        "payment_terms_en": "payment in advance or on delivery",
        "payment_terms_zh": "预付款或货到付款",
    },
}

#: Built-in pricing guidance per kind of key account (the keys of PricingGuidanceConfig).
PRICING_GUIDANCE: dict[str, dict[str, str]] = {
    "strategic": {
        "en": "Strategic account: large expected growth in revenue and profit. Low margins are "
              "acceptable, even break-even, to win share and open new markets together; review "
              "the price against the growth every quarter.",
        "zh": "战略客户：预计收入和利润大幅增长。为扩大份额、共同开拓新市场，可接受低利润率，"
              "甚至保本；每季度对照增长情况复核价格。",
    },
    "core": {
        "en": "Core account: moderate growth in a mutual-growth partnership. Aim for optimal "
              "margins: price for the value delivered, and trade discounts only for volume or "
              "commitment.",
        "zh": "核心客户：增长适中，互利共赢的合作伙伴关系。追求最优利润率：按交付的价值定价，"
              "折扣只换取销量或承诺。",
    },
}

__all__ = ["KEY_ACCOUNT_TYPE_NAMES", "PRICING_GUIDANCE", "SERVICE_POLICIES", "TIER_NAMES"]

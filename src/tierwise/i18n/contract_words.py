"""Words of contracts and cost to serve (part of :mod:`tierwise.i18n`): the statuses, checks and
cost types stored as codes, and the titles and headers of the report sections, the web page and
the CLI (docs/contracts.md)."""

from __future__ import annotations

CONTRACT_MESSAGES: dict[str, dict[str, str]] = {
    # -- codes ----------------------------------------------------------------------------------
    "contract_status.due": {"zh": "即将到期", "en": "due for renewal"},
    "contract_status.overdue": {"zh": "已到期未续", "en": "ended, renewal open"},
    "contract_status.active": {"zh": "履约中", "en": "active"},
    "contract_status.upcoming": {"zh": "未开始", "en": "not started"},
    "contract_status.renewed": {"zh": "已续约", "en": "renewed"},
    "contract_status.lapsed": {"zh": "未续约", "en": "lapsed"},
    "margin_check.below_guidance": {"zh": "低于定价指引", "en": "below pricing guidance"},
    "margin_check.near_break_even": {"zh": "接近保本", "en": "near break-even"},
    "margin_check.ok": {"zh": "符合", "en": "ok"},
    "margin_check.no_revenue": {"zh": "期内无收入", "en": "no revenue in the window"},
    "pnl_status.below_break_even": {"zh": "低于保本", "en": "below break-even"},
    "pnl_status.near_break_even": {"zh": "接近保本", "en": "near break-even"},
    "pnl_status.above_break_even": {"zh": "高于保本", "en": "above break-even"},
    "cost_type.visits": {"zh": "拜访", "en": "visits"},
    "cost_type.discounts": {"zh": "折扣", "en": "discounts"},
    "cost_type.service": {"zh": "服务", "en": "service"},
    "cost_type.logistics": {"zh": "物流", "en": "logistics"},
    "cost_type.other": {"zh": "其他", "en": "other"},
    "val.contracts": {"zh": "合同", "en": "contracts"},
    "val.costs": {"zh": "服务成本", "en": "costs to serve"},
    # -- report: contracts and renewals ---------------------------------------------------------
    "contracts.title": {"zh": "合同与续约", "en": "Contracts and renewals"},
    "contracts.intro": {
        "zh": "{reminder_days} 天内到期且未续约的合同需提醒客户经理商谈续约（已生成任务）；"
              "续约率：截至 {as_of} 前一年内到期的合同中已续约的比例，按客户当前层级统计。",
        "en": "Contracts ending within {reminder_days} days and not yet renewed: the account "
              "manager talks renewal (a task is made). Renewal rate: the share of contracts that "
              "ended in the year to {as_of} that were renewed, by the customer's tier."},
    "contracts.reminders": {"zh": "续约提醒", "en": "Renewal reminders"},
    "contracts.rates": {"zh": "各层级续约率", "en": "Renewal rate by tier"},
    "contracts.all_tiers": {"zh": "全部", "en": "all tiers"},
    "contracts.every": {"zh": "全部合同", "en": "every contract"},
    "contracts.none_due": {"zh": "提醒期内没有需要续约的合同。",
                           "en": "No contract is due for renewal in the reminder window."},
    # -- report: segment P&L and cost to serve --------------------------------------------------
    "pnl.title": {"zh": "细分损益与服务成本", "en": "Segment P&L and cost to serve"},
    "pnl.intro": {
        "zh": "{start} 至 {as_of}：收入、毛利、各类服务成本（拜访、折扣、服务、物流）、贡献"
              "（毛利 − 服务成本）与保本收入（服务成本 ÷ 毛利率）。关键客户扣除服务成本后的利润"
              "对照定价指引：战略客户可接近保本（不低于收入的 {strategic_min}），核心客户须不低于 "
              "{core_min}。",
        "en": "{start} to {as_of}: revenue, gross margin, costs to serve by type (visits, "
              "discounts, service, logistics), contribution (gross margin - costs) and break-even "
              "revenue (costs / gross-margin rate). Key accounts' margin after cost to serve is "
              "checked against the pricing guidance: strategic accounts may run near break-even "
              "(not below {strategic_min} of revenue), core accounts must keep {core_min}."},
    "pnl.segments": {"zh": "各细分损益", "en": "P&L by segment"},
    "pnl.key_accounts": {"zh": "关键客户：扣除服务成本后的利润",
                         "en": "Key accounts: margin after cost to serve"},
    "pnl.total": {"zh": "合计", "en": "total"},
    "pnl.unassigned": {"zh": "（未分细分）", "en": "(no segment)"},
    "why.no_contracts": {"zh": "没有合同数据：在配置中加入 [sources.contracts]（见 docs/contracts.md）。",
                         "en": "no contracts: add [sources.contracts] to the config "
                               "(docs/contracts.md)."},
    "why.no_costs": {"zh": "没有服务成本数据：在配置中加入 [sources.costs]（见 docs/contracts.md）。",
                     "en": "no costs to serve: add [sources.costs] to the config "
                           "(docs/contracts.md)."},
    "fig.contracts_due": {"zh": "待续约合同", "en": "contracts due for renewal"},
    "fig.contracts_due_value": {"zh": "待续约合同金额", "en": "value due for renewal"},
    "fig.renewal_rate": {"zh": "续约率（近一年）", "en": "renewal rate (past year)"},
    "fig.costs_total": {"zh": "服务成本合计", "en": "costs to serve"},
    "fig.contribution": {"zh": "贡献合计", "en": "contribution"},
    "fig.below_guidance": {"zh": "低于定价指引的关键客户", "en": "key accounts below guidance"},
    # -- columns --------------------------------------------------------------------------------
    "col.contract_id": {"zh": "合同编号", "en": "Contract"},
    "col.product": {"zh": "产品", "en": "Product"},
    "col.starts_at": {"zh": "开始日期", "en": "Starts"},
    "col.ends_at": {"zh": "到期日期", "en": "Ends"},
    "col.days_left": {"zh": "剩余天数", "en": "Days left"},
    "col.contract_status": {"zh": "状态", "en": "Status"},
    "col.renewed_by": {"zh": "续约合同", "en": "Renewed by"},
    "col.due": {"zh": "任务截止", "en": "Task due"},
    "col.ended": {"zh": "到期合同数", "en": "Contracts ended"},
    "col.renewed": {"zh": "已续约", "en": "Renewed"},
    "col.renewal_rate": {"zh": "续约率", "en": "Renewal rate"},
    "col.ended_value": {"zh": "到期金额", "en": "Value ended"},
    "col.renewed_value": {"zh": "续约金额", "en": "Value renewed"},
    "col.renewal_rate_value": {"zh": "续约率（按金额）", "en": "Renewal rate (value)"},
    "col.gross_margin": {"zh": "毛利", "en": "Gross margin"},
    "col.gross_margin_rate": {"zh": "毛利率", "en": "Gross margin rate"},
    "col.cost_visits": {"zh": "拜访成本", "en": "Visits"},
    "col.cost_discounts": {"zh": "折扣", "en": "Discounts"},
    "col.cost_service": {"zh": "服务费用", "en": "Service"},
    "col.cost_logistics": {"zh": "物流成本", "en": "Logistics"},
    "col.cost_other": {"zh": "其他成本", "en": "Other costs"},
    "col.costs": {"zh": "服务成本合计", "en": "Costs to serve"},
    "col.contribution": {"zh": "贡献", "en": "Contribution"},
    "col.contribution_rate": {"zh": "贡献率", "en": "Contribution rate"},
    "col.break_even_revenue": {"zh": "保本收入", "en": "Break-even revenue"},
    "col.break_even_gap": {"zh": "高于保本", "en": "Above break-even by"},
    "col.pnl_status": {"zh": "保本情况", "en": "Break-even"},
    "col.cost_to_serve": {"zh": "服务成本", "en": "Cost to serve"},
    "col.margin_after_cost": {"zh": "扣除服务成本后利润", "en": "Margin after cost"},
    "col.margin_after_cost_rate": {"zh": "扣除服务成本后利润率", "en": "Margin rate after cost"},
    "col.floor": {"zh": "指引下限", "en": "Guidance floor"},
    "col.margin_check": {"zh": "对照定价指引", "en": "Against pricing guidance"},
    "col.contract_end": {"zh": "合同到期", "en": "Contract ends"},
    "col.days_to_renewal": {"zh": "距续约天数", "en": "Days to renewal"},
    # -- web ------------------------------------------------------------------------------------
    "nav.contracts": {"zh": "合同与成本", "en": "Contracts & costs"},
    "web.contracts.title": {"zh": "合同续约与服务成本", "en": "Contract renewals and cost to serve"},
    "web.contracts.whole_only": {"zh": "细分损益只对管理员显示（涵盖全部客户）。",
                                 "en": "The segment P&L covers every customer: admins see it."},
}

__all__ = ["CONTRACT_MESSAGES"]

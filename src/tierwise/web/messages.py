"""The dashboard's words in Chinese and English.

Labels the report already has (key figures ``fig.*``, column headers ``col.*``) come from the
report catalogue, so the dashboard and the report name things the same way; the dashboard's own
words (navigation, buttons, page titles) are here. ``t(key, lang)`` looks in both.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("zh", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "app.title": {"zh": "客户分层看板", "en": "tierwise dashboard"},
    "nav.overview": {"zh": "概览", "en": "Overview"},
    "nav.customers": {"zh": "客户", "en": "Customers"},
    "nav.key_accounts": {"zh": "关键客户", "en": "Key accounts"},
    "nav.calls": {"zh": "本周联系", "en": "This week's calls"},
    "nav.migration": {"zh": "迁移", "en": "Migration"},
    "nav.campaigns": {"zh": "唤醒活动", "en": "Campaigns"},
    "nav.runs": {"zh": "各期快照", "en": "Runs"},
    "nav.sign_out": {"zh": "退出", "en": "Sign out"},
    "nav.signed_in_as": {"zh": "当前用户", "en": "Signed in as"},
    "role.admin": {"zh": "管理员", "en": "admin"},
    "role.owner": {"zh": "细分负责人", "en": "segment owner"},
    "role.manager": {"zh": "客户经理", "en": "account manager"},
    "login.title": {"zh": "登录", "en": "Sign in"},
    "login.username": {"zh": "用户名", "en": "User name"},
    "login.password": {"zh": "密码", "en": "Password"},
    "login.submit": {"zh": "登录", "en": "Sign in"},
    "login.failed": {"zh": "用户名或密码不正确。", "en": "Wrong user name or password."},
    "login.too_many": {"zh": "失败次数过多，请 {seconds} 秒后再试。",
                       "en": "Too many failed attempts; try again in {seconds} s."},
    "run.label": {"zh": "第 {run} 期（{period}，截至 {as_of}）",
                  "en": "Run {run} ({period}, as of {as_of})"},
    "run.choose": {"zh": "查看期次", "en": "Run"},
    "overview.title": {"zh": "概览", "en": "Overview"},
    "overview.scope_all": {"zh": "全部客户", "en": "All customers"},
    "overview.scope_yours": {"zh": "您负责的客户", "en": "Your customers"},
    "overview.pareto_note": {"zh": "前 {top} 的客户贡献了 {share} 的消费额。",
                             "en": "The top {top} of customers bring {share} of the spend."},
    "overview.quality": {"zh": "本期数据质量", "en": "Data quality of this run"},
    "customers.title": {"zh": "客户", "en": "Customers"},
    "customers.search": {"zh": "编号、姓名或手机号", "en": "Id, name or phone"},
    "customers.filter": {"zh": "筛选", "en": "Filter"},
    "customers.any": {"zh": "全部", "en": "any"},
    "customers.key_only": {"zh": "仅关键客户", "en": "Key accounts only"},
    "customers.not_key": {"zh": "非关键客户", "en": "Not key accounts"},
    "customers.count": {"zh": "共 {total} 位客户，第 {page}/{pages} 页",
                        "en": "{total} customers, page {page} of {pages}"},
    "customers.none": {"zh": "没有符合条件的客户。", "en": "No customer matches."},
    "pager.previous": {"zh": "上一页", "en": "Previous"},
    "pager.next": {"zh": "下一页", "en": "Next"},
    "customer.metrics": {"zh": "消费行为", "en": "Behaviour"},
    "customer.value": {"zh": "客户价值", "en": "Value"},
    "customer.scores": {"zh": "评分及各指标贡献", "en": "Scores and what made them"},
    "customer.key_account": {"zh": "关键客户评估", "en": "Key-account selection"},
    "customer.history": {"zh": "历次快照", "en": "History across runs"},
    "customer.next": {"zh": "下一步怎么做", "en": "What to do next"},
    "customer.playbook": {"zh": "细分执行方案", "en": "Segment playbook"},
    "customer.state_policy": {"zh": "活跃状态对策", "en": "Activity-state policy"},
    "customer.service": {"zh": "层级服务政策", "en": "Service policy of the tier"},
    "customer.criterion": {"zh": "指标", "en": "Criterion"},
    "customer.points": {"zh": "贡献分", "en": "Points"},
    "customer.reason": {"zh": "原因", "en": "Why"},
    "key.title": {"zh": "关键客户矩阵", "en": "Key-account matrix"},
    "key.none": {"zh": "本期您负责的客户中没有关键客户。",
                 "en": "None of your customers is a key account in this run."},
    "calls.title": {"zh": "本周联系名单", "en": "This week's calls"},
    "calls.warnings": {"zh": "先处理：有预警的客户", "en": "First: customers with a warning"},
    "calls.wake_up": {"zh": "再唤醒：价值最高的休息、休眠、休克客户",
                      "en": "Then wake up: the most valuable resting, dormant and shock customers"},
    "calls.none": {"zh": "没有需要联系的客户。", "en": "Nobody to call."},
    "migration.title": {"zh": "两期之间的迁移", "en": "Migration between two runs"},
    "migration.from": {"zh": "从", "en": "From"},
    "migration.to": {"zh": "到", "en": "To"},
    "migration.by": {"zh": "按", "en": "By"},
    "migration.show": {"zh": "查看", "en": "Show"},
    "migration.matrix": {"zh": "上期（行）× 本期（列）的客户数",
                         "en": "Customers: before (rows) x now (columns)"},
    "campaigns.title": {"zh": "唤醒活动", "en": "Win-back campaigns"},
    "campaigns.none": {"zh": "还没有活动。", "en": "No campaign yet."},
    "campaigns.create": {"zh": "按条件创建活动", "en": "Create a campaign from a filter"},
    "campaigns.name": {"zh": "名称", "en": "Name"},
    "campaigns.min_days": {"zh": "至少多少天未消费", "en": "No purchase for at least (days)"},
    "campaigns.max_days": {"zh": "最近一次消费不超过（天）", "en": "Last purchase at most (days ago)"},
    "campaigns.states": {"zh": "活跃状态", "en": "Activity states"},
    "campaigns.tiers": {"zh": "层级", "en": "Tiers"},
    "campaigns.segments": {"zh": "细分", "en": "Segments"},
    "campaigns.face_value": {"zh": "券面值", "en": "Coupon face value"},
    "campaigns.message_cost": {"zh": "每条短信成本", "en": "Cost per message"},
    "campaigns.margin": {"zh": "毛利率（0-1）", "en": "Gross margin (0-1)"},
    "campaigns.control_share": {"zh": "对照组比例（0-1）", "en": "Control share (0-1)"},
    "campaigns.submit": {"zh": "创建", "en": "Create"},
    "campaigns.only_admin": {"zh": "只有管理员可以创建活动。",
                             "en": "Only an admin can create campaigns."},
    "campaigns.targets": {"zh": "导出目标名单（CSV）", "en": "Export the target list (CSV)"},
    "campaigns.evaluation": {"zh": "效果评估", "en": "Evaluation"},
    "campaigns.window": {"zh": "活动期", "en": "Window"},
    "campaigns.audience": {"zh": "目标 / 对照", "en": "Target / control"},
    "runs.title": {"zh": "各期快照", "en": "Runs (snapshots)"},
    "runs.excel": {"zh": "Excel 报告", "en": "Excel report"},
    "runs.html": {"zh": "HTML 报告", "en": "HTML report"},
    "runs.admin_only": {"zh": "报告包含全部客户，只有管理员可以下载。",
                        "en": "Reports cover every customer: only an admin can download them."},
    "error.title": {"zh": "出错了", "en": "Something went wrong"},
    "error.401": {"zh": "请先登录。", "en": "Please sign in."},
    "error.403": {"zh": "您没有权限执行此操作。", "en": "You are not allowed to do this."},
    "error.404": {"zh": "找不到该页面或该客户。", "en": "There is no such page or customer."},
    "error.429": {"zh": "请求过于频繁，请稍后再试。", "en": "Too many attempts; try again later."},
    "error.500": {"zh": "服务器出错，已记录，请稍后再试。",
                  "en": "The server ran into a problem; it was logged. Please try again later."},
    "error.503": {"zh": "数据正在更新，请稍后刷新。",
                  "en": "The data is being updated; reload in a moment."},
    "error.back": {"zh": "返回概览", "en": "Back to the overview"},
    "word.yes": {"zh": "是", "en": "yes"},
    "word.no": {"zh": "否", "en": "no"},
    "word.movement": {"zh": "变动", "en": "Movement"},
    "word.message": {"zh": "说明", "en": "What happened"},
    "word.severity": {"zh": "严重程度", "en": "Severity"},
    "word.type": {"zh": "类型", "en": "Type"},
    "word.phone": {"zh": "手机号", "en": "Phone"},
    "word.email": {"zh": "邮箱", "en": "E-mail"},
    "word.score": {"zh": "评分", "en": "Score"},
    "word.days_since_last": {"zh": "未消费天数", "en": "Days since last purchase"},
    "word.last_purchase": {"zh": "最近消费", "en": "Last purchase"},
    "word.value_prev": {"zh": "上期消费额", "en": "Spend before"},
    "word.value_curr": {"zh": "本期消费额", "en": "Spend now"},
    "word.download": {"zh": "下载", "en": "Download"},
}


def t(key: str, lang: str, **fields: Any) -> str:
    """The text of ``key`` in ``lang`` (the dashboard's own words, then the report's)."""
    from ..reports.catalogue import MESSAGES as REPORT

    entry = MESSAGES.get(key) or REPORT.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry.get("en") or key
    return text.format(**fields) if fields else text


__all__ = ["LANGUAGES", "MESSAGES", "t"]

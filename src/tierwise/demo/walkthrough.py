"""``tierwise demo``: generate both demo businesses, ingest them and run a few periods each."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import SourceConfig, SourcesConfig, load_config
from ..pipeline import ingest, run

RESTAURANT_END = dt.date(2026, 10, 31)
B2B_END = dt.date(2026, 9, 30)

RESTAURANT_CONFIG = """\
# Demo: a restaurant chain's members and visits (GBK CSV with Chinese headers).
# 示例：餐饮连锁的会员与消费记录（GBK 编码、中文表头的 CSV）。
name = "示例餐饮连锁 Demo restaurant chain"
currency = "CNY"
timezone = "Asia/Shanghai"
as_of = "{end}"
period = "month"
language = "zh"

[sources.orders]
path = "visits.csv"

[sources.customers]
path = "members.csv"

# Satisfaction survey (CSAT 1-5) and complaints / comments; rows that cannot be read go to
# the rejects files. 满意度调查（1-5 分）与投诉/意见；无法读取的行进入拒收文件。
[sources.survey]
path = "survey.csv"

[sources.feedback]
path = "feedback.csv"

# Words counted as one keyword when grouping comments. 归为同一关键词的说法。
[feedback]
synonyms = {{ "上菜慢" = ["上菜", "出餐慢", "太慢", "特别慢", "slow service"] }}

[store]
path = "tierwise.duckdb"

# Exclusive segments: first match wins; each has an owner and a playbook for front-line staff.
# 客户细分：按顺序匹配，先到先得；每个细分有负责人和一线执行方案。
[[segments.segment]]
name = "Banquet hosts"
name_zh = "宴请大客"
rule = 'tags contains "商务宴请" and mean_amount >= 300'
owner = "王经理 (banquet sales)"
playbook = {{ offer = "private room upgrade on the next booking", channel = "phone call by the store manager", message = "感谢您一直以来的信任，下次宴请为您免费升级包间。" }}

[[segments.segment]]
name = "Family regulars"
name_zh = "家庭常客"
rule = 'tags contains "家庭聚餐" and frequency >= 12'
owner = "李店长 (stores)"
playbook = {{ offer = "kids eat free on weekday evenings", channel = "WeChat mini-program", message = "工作日晚餐儿童免费，欢迎全家再来。" }}

[[segments.segment]]
name = "Everyone else"
name_zh = "其他会员"
default = true
owner = "张总监 (marketing)"
playbook = {{ offer = "member-day coupon", channel = "SMS", message = "会员日专享优惠券已到账。" }}

# Loyalty levels by net spend this quarter; one quarter below the level is forgiven (grace).
# 会员等级：按本季度净消费升级；低于门槛的第一个季度为保级宽限期。
[loyalty]
window = "quarter"
grace_periods = 1
reward_months = 4

[[loyalty.level]]
code = "member"
name = "Member"
name_zh = "普通会员"
min_spend = 0

[[loyalty.level]]
code = "silver"
name = "Silver"
name_zh = "银卡会员"
min_spend = 1000

[[loyalty.level]]
code = "gold"
name = "Gold"
name_zh = "金卡会员"
min_spend = 3000

[[loyalty.level]]
code = "diamond"
name = "Diamond"
name_zh = "钻石会员"
min_spend = 8000

# A coupon of 100 after a meal of 2,000 or more; a quarter of the diners are held out by a hash
# of their card number, so the coupon's effect can be told from chance.
# 单笔消费满 2,000 元赠 100 元券；按会员卡号哈希留出四分之一作对照组。
[[loyalty.reward]]
code = "big_meal"
name = "Big-meal coupon"
name_zh = "大额消费赠券"
kind = "single_order"
min_amount = 2000
cost = 100
control_share = {share}
seed = {seed}
window_days = 30

[[loyalty.reward]]
code = "spend_10k"
name = "10,000 club gift"
name_zh = "累计消费满万礼"
kind = "cumulative"
min_amount = 10000
cost = 88
control_share = {share}
seed = {seed}
"""

B2B_CONFIG = """\
# Demo: a B2B supplier's accounts (CSV) and orders (Excel).
# 示例：B2B 供应商的客户（CSV）与订单（Excel）。
name = "Demo B2B supplier"
currency = "CNY"
timezone = "Asia/Shanghai"
as_of = "{end}"
period = "quarter"
language = "en"

[sources.orders]
path = "orders.xlsx"
sheet = "orders"

[[segments.segment]]
name = "Public sector"
name_zh = "政府客户"
rule = 'kind == "government"'
owner = "Director, public sector"
playbook = {{ offer = "framework agreement with fixed yearly prices", channel = "key-account manager visit", message = "Annual framework review: lock in next year's prices." }}

[[segments.segment]]
name = "Manufacturing"
name_zh = "制造业"
rule = 'industry in ["汽车零部件", "电子制造", "机械设备", "化工"]'
owner = "Director, industry accounts"
playbook = {{ offer = "volume rebate above the yearly target", channel = "account manager + technical support", message = "Plan next quarter's volumes together to reach the rebate tier." }}

[[segments.segment]]
name = "Other accounts"
name_zh = "其他客户"
default = true
owner = "Head of sales"
playbook = {{ offer = "standard price list", channel = "inside sales call", message = "Quarterly check-in: anything we can quote for you?" }}

# Activity: the default [activity] mode = "auto" sees that the accounts order every few weeks
# to months, and judges each against its own rhythm (the run meta says so), as on real data.
# 活跃状态：默认的 mode = "auto" 会发现客户下单间隔为数周到数月，按各客户自身节奏判断（运行记录中注明原因）。

[sources.customers]
path = "accounts.csv"

# Satisfaction survey (CSAT 1-5): answers of unknown accounts go to the rejects file.
# 满意度调查（1-5 分）：未知客户的答卷进入拒收文件。
[sources.survey]
path = "survey.csv"

# Contracts and costs to serve (docs/contracts.md): renewals due within 90 days become tasks;
# each segment's P&L and each key account's margin after cost to serve, against its pricing.
# 合同与服务成本：90 天内到期的合同生成续约任务；细分损益与关键客户扣除服务成本后的利润。
[sources.contracts]
path = "contracts.csv"

[sources.costs]
path = "costs.csv"

[contracts]
reminder_days = 90

[store]
path = "tierwise.duckdb"
"""


def _month_ends(end: dt.date, n: int) -> list[dt.date]:
    out, first = [], end.replace(day=1)
    for _ in range(n):
        out.append(first - dt.timedelta(days=1) if out else end)
        first = out[-1].replace(day=1)
    return sorted(out)


def _quarter_ends(end: dt.date, n: int) -> list[dt.date]:
    out = [end]
    while len(out) < n:
        first = out[-1].replace(day=1)
        month = first.month - 2
        year = first.year
        if month < 1:
            month, year = month + 12, year - 1
        out.append(dt.date(year, month, 1) - dt.timedelta(days=1))
    return sorted(out)


def _business(folder: Path, config_text: str, as_ofs: list[dt.date],
              progress: Callable[[str], None]) -> dict[str, Any]:
    config_path = folder / "tierwise.toml"
    config_path.write_text(config_text, encoding="utf-8")
    store = folder / "tierwise.duckdb"
    store.unlink(missing_ok=True)
    cfg = load_config(config_path)
    ingested = ingest(cfg, progress=progress)
    extra = _extra_sources(folder)
    if extra is not None:  # the loyalty demo's own members and visits (tierwise.demo.loyalty)
        ingested.reports += ingest(cfg, progress=progress, sources=extra).reports
    runs = []
    for as_of in as_ofs:
        result = run(cfg, as_of=as_of, progress=progress)
        runs.append({"run_id": result.run_id, "period": result.period,
                     "as_of": result.as_of.isoformat(), "customers": result.n_customers,
                     **result.summary})
    progress(f"{folder.name}: reports")
    reports = _reports(cfg.store_path, folder)
    return {"config": str(config_path), "store": str(store), "ingest": ingested.to_dicts(),
            "runs": runs, "reports": [str(path) for path in reports]}


def _extra_sources(folder: Path) -> SourcesConfig | None:
    """The loyalty demo's files as sources; absolute, since a relative source path is read
    relative to the config file (``tierwise demo`` run in the current folder passes a relative
    ``folder``, which would be counted twice)."""
    folder = folder.resolve()
    if not (folder / "loyalty_visits.csv").is_file():
        return None
    folder = folder.resolve()  # 'tierwise demo --dir .': not read relative to the config again
    return SourcesConfig(orders=SourceConfig(path=folder / "loyalty_visits.csv"),
                         customers=SourceConfig(path=folder / "loyalty_members.csv"))


def _reports(store_path: Path, folder: Path) -> list[Path]:
    """The latest run's report, as a workbook and as a web page, in the run's language."""
    from ..reports import build_report, render_html, render_xlsx
    from ..store import Store

    with Store(store_path, read_only=True) as store:
        report = build_report(store)
    return [render_xlsx(report, folder / "report.xlsx"), render_html(report, folder / "report.html")]


def run_demo(directory: Path | str, *, members: int = 2000, accounts: int = 300,
             progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Generate, ingest and run both demo businesses under ``directory``; returns a summary.

    The restaurant gets the last three month-end snapshots, the B2B supplier the last four
    quarter-end snapshots, so migrations between periods have something to compare; each gets
    the latest run's report as ``report.xlsx`` and ``report.html``.
    """
    from . import generate_b2b, generate_restaurant
    from .loyalty import REWARD_SEED, REWARD_SHARE, generate_loyalty

    started = time.perf_counter()
    root = Path(directory)
    restaurant, b2b = root / "restaurant", root / "b2b"
    progress("generating the restaurant chain")
    generate_restaurant(restaurant, members=members, end=RESTAURANT_END)
    generate_loyalty(restaurant, end=RESTAURANT_END)
    progress("generating the B2B supplier")
    generate_b2b(b2b, accounts=accounts, end=B2B_END)
    businesses = {
        "restaurant": _business(restaurant, RESTAURANT_CONFIG.format(
            end=RESTAURANT_END, share=REWARD_SHARE, seed=REWARD_SEED),
                                _month_ends(RESTAURANT_END, 3), progress),
        "b2b": _business(b2b, B2B_CONFIG.format(end=B2B_END), _quarter_ends(B2B_END, 4), progress),
    }
    return {"directory": str(root), "businesses": businesses,
            "seconds": time.perf_counter() - started}

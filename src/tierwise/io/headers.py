"""Header mapping: source headers -> canonical column names.

Precedence: the source's explicit ``columns`` mapping (canonical = header) > ``intake.aliases`` >
the built-in alias table :data:`BUILTIN_ALIASES` (common Chinese and English export headers).
Matching ignores case, spaces, underscores and hyphens, a BOM, zero-width characters and full-width
forms (NFKC), and, as a second try, a trailing unit in brackets (``消费金额(元)``).

When two headers match one canonical name, the explicit one (or the earlier alias) wins and a
warning names both. Unmatched headers are kept as extra attributes for customers and ignored for
orders and the survey (listed in a warning).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ..config import CANONICAL_CUSTOMER_COLUMNS, CANONICAL_LEAD_COLUMNS, CANONICAL_ORDER_COLUMNS
from ..errors import DataContractError

BUILTIN_ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": ("会员卡号", "会员编号", "会员ID", "会员号", "卡号", "客户编号",
                    "客户ID", "客户代码", "客户号", "用户ID", "customer id", "customer_id", "member_id", "client_id",
                    "cust_id", "account_id", "customer no", "customer_no",
                    "线索编号", "线索ID", "lead_id", "lead id"),
    "name": ("客户名称", "会员姓名", "客户姓名", "姓名", "名称", "customer name", "customer_name",
             "name"),
    "kind": ("客户类型", "客户性质", "customer type", "kind"),
    "phone": ("手机号", "手机号码", "手机", "电话", "联系电话", "mobile", "phone", "telephone"),
    "ordered_at": ("消费时间", "下单时间", "交易时间", "订单时间", "支付时间",
                   "消费日期", "下单日期", "订单日期", "交易日期", "日期", "order date", "order_date", "order time",
                   "ordered_at", "paid_at", "purchase_date", "date", "timestamp", "created_at", "invoicedate",
                   "invoice date"),
    "amount": ("实付金额", "实收金额", "消费金额", "订单金额", "支付金额", "交易金额", "金额", "销售额",
               "amount", "total", "revenue", "sales"),
    "order_id": ("订单号", "订单编号", "流水号", "单号", "小票号", "order id", "order_id",
                 "order_no", "transaction_id", "invoiceno", "invoice no", "invoice_no",
                 "invoice"),
    "store": ("门店", "门店名称", "店铺", "店铺名称", "store"),
    "channel": ("渠道", "销售渠道", "来源", "channel"),
    "cost": ("成本", "cost"),
    "margin": ("毛利", "毛利额", "margin", "gross_profit"),
    "status": ("状态", "订单状态", "status"),
    "agent": ("代理商", "经销商", "agent", "distributor"),
    "quantity": ("数量", "销售数量", "购买数量", "商品数量", "件数", "quantity", "qty"),
    "unit_price": ("单价", "销售单价", "商品单价", "售价", "unit price", "unit_price", "unitprice",
                   "price"),
    "line_amount": ("小计", "金额小计", "行金额", "商品金额", "line amount", "line_amount",
                    "line total", "subtotal"),
    "product_id": ("商品编码", "商品编号", "商品ID", "商品代码", "产品编码", "产品编号", "货号",
                   "菜品编码", "stockcode", "stock code", "product id", "product_id", "sku",
                   "item_id", "item code"),
    "product_name": ("商品名称", "商品名", "品名", "产品名称", "菜品", "菜品名称", "菜名",
                     "description", "product name", "product_name", "product", "item name",
                     "item_name", "item"),
    "category": ("品类", "类别", "类目", "商品类别", "商品分类", "分类", "category",
                 "product category"),
    "region": ("区域", "大区", "地区", "region"),
    "city": ("城市", "city"),
    "industry": ("行业", "所属行业", "industry"),
    "size": ("规模", "企业规模", "size"),
    "gender": ("性别", "gender", "sex"),
    "age": ("年龄", "age"),
    "joined_at": ("注册日期", "注册时间", "入会日期", "入会时间", "开户日期", "joined_at",
                  "signup_date", "join date"),
    "birthday": ("生日", "出生日期", "会员生日", "birthday", "date_of_birth", "birth date", "dob"),
    "tags": ("标签", "tags"),
    "credit_rating": ("信用等级", "信用评级", "credit rating", "credit_rating"),
    "account_manager": ("客户经理", "销售代表", "account_manager", "account manager", "sales_rep"),
    "email": ("邮箱", "电子邮箱", "email", "e-mail"),
    "answered_at": ("调查日期", "调查时间", "回答时间", "填写时间", "提交时间", "日期", "answered_at",
                    "answer_date", "survey_date", "date"),
    "score": ("满意度", "评分", "满意度评分", "得分", "score", "csat", "nps", "rating"),
    "comment": ("评价", "意见", "评语", "comment", "comments", "feedback"),
    # optional aspect scores of a survey answer (1-5), e.g. a restaurant's questionnaire
    "taste": ("口味", "菜品口味", "口味评分", "taste", "food"),
    "service": ("服务", "服务质量", "服务评分", "service"),
    "setting": ("环境", "用餐环境", "环境评分", "setting", "ambience", "atmosphere"),
    # leads (docs/prospects.md): a lead's id is the id it buys under once it converts
    "captured_at": ("获取日期", "线索日期", "录入日期", "创建日期", "创建时间", "captured_at",
                    "lead_date", "created", "created_at", "date"),
    "lead_source": ("线索来源", "来源", "获客渠道", "lead_source", "lead source", "source",
                    "origin"),
    "fit": ("匹配度", "契合度", "fit", "fit_score", "icp_fit"),
    "engagement": ("互动次数", "互动", "活跃度", "engagement", "interactions", "touches"),
    "received_at": ("反馈日期", "反馈时间", "投诉日期", "投诉时间", "受理日期", "受理时间", "日期",
                    "received_at", "feedback_date", "complaint_date", "date", "created_at"),
    "text": ("反馈内容", "投诉内容", "内容", "评价内容", "意见内容", "描述", "text", "content",
             "description", "comment", "feedback"),
    "resolved": ("是否解决", "是否已解决", "已解决", "处理结果", "处理状态", "resolved",
                 "is_resolved", "closed"),
    "contract_id": ("合同编号", "合同号", "合同ID", "合同代码", "contract id", "contract_id",
                    "contract_no", "contract"),
    "starts_at": ("开始日期", "合同开始日期", "起始日期", "生效日期", "签约日期", "start",
                  "start_date", "starts_at", "start date", "begin_date"),
    "ends_at": ("结束日期", "合同结束日期", "到期日期", "到期日", "终止日期", "截止日期", "end",
                "end_date", "ends_at", "end date", "expiry", "expiry_date", "expires_at"),
    "value": ("合同金额", "合同价值", "合同额", "金额", "value", "contract value",
              "contract_value", "amount"),
    "product": ("产品", "合同产品", "产品名称", "产品线", "product", "product_name",
                "product line"),
    "segment": ("细分", "客户细分", "细分市场", "客户群", "segment"),
    "period": ("期间", "月份", "会计期间", "费用月份", "日期", "period", "month", "date"),
    "cost_type": ("费用类型", "成本类型", "费用类别", "费用项目", "类型", "cost type",
                  "cost_type", "type", "category"),
}

#: Optional aspect scores (1-5) a survey answer may carry beside its overall score.
SURVEY_ASPECTS = ("taste", "service", "setting")
#: Canonical columns of the optional survey input (CSAT 1-5 or NPS 0-10 scores).
SURVEY_COLUMNS = ("customer_id", "answered_at", "score", "comment", *SURVEY_ASPECTS)
#: Canonical columns of the optional feedback input (complaints and comments).
FEEDBACK_COLUMNS = ("customer_id", "received_at", "channel", "category", "text", "resolved")
#: Canonical columns of the optional contracts input (docs/contracts.md).
CONTRACT_COLUMNS = ("contract_id", "customer_id", "starts_at", "ends_at", "value", "product")
#: Canonical columns of the optional costs input: a cost to serve a customer or a segment.
COST_COLUMNS = ("customer_id", "segment", "period", "cost_type", "amount")

REQUIRED: dict[str, tuple[str, ...]] = {
    "orders": ("customer_id", "ordered_at", "amount"),
    "customers": ("customer_id",),
    "survey": ("customer_id", "answered_at", "score"),
    "leads": ("customer_id", "captured_at"),
    "feedback": ("customer_id", "received_at", "text"),
    "contracts": ("customer_id", "starts_at", "ends_at", "value"),
    "costs": ("period", "cost_type", "amount"),
}
CANONICAL: dict[str, tuple[str, ...]] = {
    "orders": CANONICAL_ORDER_COLUMNS,
    "customers": CANONICAL_CUSTOMER_COLUMNS,
    "survey": SURVEY_COLUMNS,
    "leads": CANONICAL_LEAD_COLUMNS,
    "feedback": FEEDBACK_COLUMNS,
    "contracts": CONTRACT_COLUMNS,
    "costs": COST_COLUMNS,
}
#: How messages name one row of a kind whose unmatched headers are ignored, and the kind itself.
_NOUNS = {"orders": ("an order", "orders"), "survey": ("a survey", "the survey"),
          "leads": ("a lead", "leads"), "feedback": ("a feedback", "the feedback"),
          "contracts": ("a contract", "the contracts"), "costs": ("a cost", "the costs")}
RESERVED = frozenset({"_source", "_line", "created_from_orders", "is_refund"})


def normalize_header(text: object) -> str:
    """The form headers are compared in: NFKC, case-folded, no spaces / underscores / hyphens."""
    t = unicodedata.normalize("NFKC", str(text))
    t = t.replace("\ufeff", "").replace("\u200b", "").casefold()
    return re.sub(r"[\s_\-]+", "", t)


def _strip_unit(norm: str) -> str:
    return re.sub(r"(\([^()]*\)|\[[^\[\]]*\])$", "", norm)


@dataclass
class HeaderMap:
    """Where each canonical column comes from (positions into the header list)."""

    headers: list[str]
    canonical: dict[str, int] = field(default_factory=dict)
    extras: dict[int, str] = field(default_factory=dict)
    ignored: list[int] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def header_of(self, name: str) -> str:
        return self.headers[self.canonical[name]]

    def label(self, name: str) -> str:
        """``'消费金额' (amount)`` for messages."""
        header = self.header_of(name)
        return f"column {header!r}" if header == name else f"column {header!r} ({name})"

    def columns(self) -> dict[str, str]:
        """Source header -> name used in the frame (canonical or extra)."""
        out = {self.headers[pos]: name for name, pos in self.canonical.items()}
        out.update({self.headers[pos]: name for pos, name in self.extras.items()})
        return out


def _positions(norms: list[str], target: str, free: set[int]) -> list[int]:
    return [i for i, n in enumerate(norms) if n == target and i in free]


def map_headers(headers: list[str], *, kind: str, explicit: dict[str, str],
                aliases: dict[str, list[str]], label: str, section: str) -> HeaderMap:
    """Map ``headers`` for ``kind`` ('orders' / 'customers' / 'survey' / 'contracts' /
    'costs'); never raises.

    Problems (an explicit header that is not there, required columns not found) are collected in
    ``problems`` / ``missing``; :func:`raise_problems` turns them into one DataContractError.
    """
    hm = HeaderMap(headers=list(headers))
    norms = [normalize_header(h) for h in headers]
    free = set(range(len(headers)))
    known = CANONICAL[kind]
    renames: dict[str, int] = {}
    for name, header in explicit.items():
        hits = [i for i, h in enumerate(headers) if h == header and i in free]
        hits = hits or _positions(norms, normalize_header(header), free)
        if not hits:
            hm.problems.append(
                f"{label}: columns.{name} = {header!r} under [{section}.columns], but the file has "
                f"no such header (headers: {_listing(headers)})")
            continue
        if name not in known and kind != "customers":
            row = _NOUNS[kind][0]
            hm.warnings.append(f"{label}: columns.{name} is not {row} column and is ignored "
                               f"({row.split()[1]} columns: {', '.join(known)})")
            continue
        pos = hits[0]
        free.discard(pos)
        (hm.canonical if name in known else renames)[name] = pos
    for name in known:
        _match_alias(hm, name, norms, free, aliases.get(name, []), label)
    if kind == "customers":
        for name, extra_aliases in aliases.items():
            if name not in known and name not in renames:
                hits = _alias_hits(norms, free, list(extra_aliases))
                if hits:
                    renames[name] = hits[0][1]
                    free.discard(hits[0][1])
        _assign_extras(hm, renames, free, label)
    else:
        hm.ignored = sorted(free)
        if free:
            shown = ", ".join(repr(headers[i]) for i in hm.ignored)
            hm.warnings.append(f"{label}: columns not used for {_NOUNS[kind][1]} and ignored: "
                               f"{shown}")
    hm.missing = [c for c in REQUIRED[kind] if c not in hm.canonical]
    return hm


def _alias_hits(norms, free, names: list[str]) -> list[tuple[tuple[int, int], int]]:
    """(rank, position) of every free header matching one of ``names``, best first."""
    targets = [normalize_header(a) for a in names]
    hits = []
    for pos in sorted(free):
        n = norms[pos]
        for level, cand in enumerate((n, _strip_unit(n))):
            if cand in targets:
                hits.append(((level, targets.index(cand)), pos))
                break
    return sorted(hits)


def _match_alias(hm: HeaderMap, name: str, norms, free, user_aliases, label) -> None:
    ordered = [name, *user_aliases, *BUILTIN_ALIASES.get(name, ())]
    hits = _alias_hits(norms, free, ordered)
    if not hits:
        return
    headers = hm.headers
    if name in hm.canonical:
        chosen = headers[hm.canonical[name]]
        for _, pos in hits:
            hm.warnings.append(f"{label}: headers {chosen!r} and {headers[pos]!r} both map to "
                               f"{name}; using {chosen!r} (set in columns)")
        return
    pos = hits[0][1]
    hm.canonical[name] = pos
    free.discard(pos)
    for _, other in hits[1:]:
        hm.warnings.append(f"{label}: headers {headers[pos]!r} and {headers[other]!r} both map to "
                           f"{name}; using {headers[pos]!r} (set columns.{name} to choose)")


def _assign_extras(hm: HeaderMap, renames: dict[str, int], free: set[int], label: str) -> None:
    used = set(hm.canonical) | set(RESERVED)
    for name, pos in renames.items():
        hm.extras[pos] = name
        used.add(name)
    for pos in sorted(free):
        base = str(hm.headers[pos]).replace("\ufeff", "").strip() or f"column_{pos + 1}"
        name, k = base, 2
        while name in used:
            name, k = f"{base}_{k}", k + 1
        if name != base:
            hm.warnings.append(f"{label}: extra column {hm.headers[pos]!r} kept as {name!r} "
                               "(its name is already taken)")
        hm.extras[pos] = name
        used.add(name)


# ------------------------------------------------------------------- detection by meaning
#: Rules that recognise headers by what they mean, for ``tierwise init --from`` only (``ingest``
#: never guesses: it uses the explicit mapping and the exact aliases above). Per canonical name,
#: ordered best first: (pattern on the normalised header, why). 实收金额 (received) comes before
#: 应收金额 (receivable): revenue is what was paid.
MEANINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "customer_id": (
        (r"(卡号|会员号|会员编号|会员id|会员代码)$", "ends with 卡号/会员号: a card or member number"),
        (r"(客户|顾客|用户)(编号|号|id|代码|编码)$", "a customer number"),
        (r"^(customer|cust|client|member|account|card)(id|no|number|code|num)?$",
         "a customer / member number"),
        (r"(customer|client|member)(id|no|number|code)$", "a customer / member number"),
    ),
    "ordered_at": (
        (r"(时间|日期)$", "ends with 时间/日期: when it happened"),
        (r"(date|time|datetime|timestamp|day)$", "a date / time"),
    ),
    "amount": (
        (r"^实(收|付)(金额|款|额)?$", "实收/实付: what was paid, preferred over 应收"),
        (r"(金额|总额|合计|总价|小计)$", "an amount"),
        (r"^(net|paid)(amount|total|sales)?$", "what was paid"),
        (r"(amount|total|revenue|sales)$", "an amount"),
        (r"^应(收|付)", "应收: what was due (no paid amount in the file)"),
    ),
    "order_id": (
        (r"(单号|订单编号|流水号|小票号|票号|单据号)$", "an order / receipt number"),
        (r"^(invoice|order|receipt|transaction|bill|ticket)(no|number|id|num|code)?$",
         "an order / invoice number"),
    ),
    "quantity": (
        (r"(数量|件数|销量)$", "a quantity"),
        (r"^(quantity|qty|units?)$|quantity$", "a quantity"),
    ),
    "unit_price": (
        (r"(单价|售价|零售价)$", "a unit price"),
        (r"^(unit)?price$|unitprice$", "a unit price"),
    ),
    "product_id": (
        (r"^(商品|产品|货品|药品|物料|菜品)(编码|编号|代码|id|条码)$", "a product code"),
        (r"^(stockcode|sku|productid|productcode|itemid|itemcode|itemno|articleno)$",
         "a product code"),
    ),
    "product_name": (
        (r"^(商品|产品|货品|药品|菜品)(名称|名)$", "a product name"),
        (r"^(description|productname|itemname|product|item)$", "a product name"),
    ),
    "category": (
        (r"(品类|类别|分类|类目)$", "a category"),
        (r"^(product)?category$", "a category"),
    ),
    "store": ((r"(门店|店铺|店名|分店)", "a store"), (r"^(store|shop|branch)(name)?$", "a store")),
    "status": ((r"(状态)$", "a status"), (r"^(order)?status$", "a status")),
}


def propose_headers(headers: list[str], names: list[str], taken: set[int]
                    ) -> dict[str, list[tuple[int, str]]]:
    """Candidates by meaning for each canonical name in ``names``: (position, why), best first.

    Headers at ``taken`` positions (already mapped) are not proposed. The caller checks the
    values and picks; nothing here reads data.
    """
    norms = [normalize_header(h) for h in headers]
    out: dict[str, list[tuple[int, str]]] = {}
    for name in names:
        hits: list[tuple[int, int, str]] = []
        for rank, (pattern, why) in enumerate(MEANINGS.get(name, ())):
            for pos, norm in enumerate(norms):
                if pos not in taken and re.search(pattern, _strip_unit(norm)):
                    hits.append((rank, pos, why))
        seen: set[int] = set()
        out[name] = [(pos, why) for _, pos, why in sorted(hits)
                     if not (pos in seen or seen.add(pos))]
    return out


def _listing(headers: list[str]) -> str:
    return ", ".join(repr(h) for h in headers) if headers else "none"


def missing_message(hm: HeaderMap, *, label: str, section: str) -> str:
    """The message for required columns that were not found (all of them, with the fix)."""
    fix = "; ".join(f"{c} = '<header>'" for c in hm.missing)
    return (f"{label}: required column{'s' if len(hm.missing) > 1 else ''} "
            f"{', '.join(hm.missing)} not found; the headers are: {_listing(hm.headers)}. "
            f"Add {fix} under [{section}.columns], using one of those headers")


def raise_problems(hm: HeaderMap, *, label: str, section: str) -> None:
    """Raise one DataContractError listing every header problem, if there are any."""
    problems = list(hm.problems)
    if hm.missing:
        problems.append(missing_message(hm, label=label, section=section))
    if problems:
        raise DataContractError("\n".join(problems),
                                "nothing was read from this source; fix the mapping and run again")


__all__ = [
    "BUILTIN_ALIASES",
    "CANONICAL",
    "CONTRACT_COLUMNS",
    "COST_COLUMNS",
    "REQUIRED",
    "SURVEY_COLUMNS",
    "HeaderMap",
    "MEANINGS",
    "map_headers",
    "missing_message",
    "normalize_header",
    "propose_headers",
    "raise_problems",
]

"""Header aliases and mapping precedence."""

from __future__ import annotations

import pytest

from tierwise.errors import DataContractError
from tierwise.config import LINE_COLUMNS
from tierwise.io.headers import BUILTIN_ALIASES, map_headers, normalize_header, raise_problems


def mapped(headers, kind="orders", explicit=None, aliases=None):
    return map_headers(headers, kind=kind, explicit=explicit or {}, aliases=aliases or {},
                       label="orders.csv", section=f"sources.{kind}")


def test_chinese_pos_export_maps_to_canonical_names():
    hm = mapped(["会员卡号", "消费时间", "消费金额", "订单号", "门店", "渠道", "状态", "成本"])
    assert {n: hm.headers[p] for n, p in hm.canonical.items()} == {
        "customer_id": "会员卡号", "ordered_at": "消费时间", "amount": "消费金额",
        "order_id": "订单号", "store": "门店", "channel": "渠道", "status": "状态", "cost": "成本"}
    assert hm.missing == [] and hm.problems == [] and hm.warnings == []


@pytest.mark.parametrize("header, canonical", [
    ("Customer ID", "customer_id"), ("CUSTOMER_ID", "customer_id"), (" member_id ", "customer_id"),
    ("\ufeff会员编号", "customer_id"), ("Order Date", "ordered_at"), ("TOTAL", "amount"),
    ("实付金额(元)", "amount"), ("消费金额（元）", "amount"), ("transaction_id", "order_id"),
    ("gross_profit", "margin"), ("Distributor", "agent"), ("客户ID", "customer_id"),
])
def test_aliases_ignore_case_space_underscore_bom_and_units(header, canonical):
    hm = mapped([header])
    assert hm.canonical.get(canonical) == 0


def test_every_builtin_alias_maps_to_its_canonical_name():
    for canonical, aliases in BUILTIN_ALIASES.items():
        kind = "orders" if canonical in ("ordered_at", "amount", "order_id", "store", "channel",
                                         "cost", "margin", "status", "agent", *LINE_COLUMNS) \
            else "customers"
        kind = "survey" if canonical in ("answered_at", "score", "comment", "taste", "service",
                                         "setting") else kind
        kind = "leads" if canonical in ("captured_at", "lead_source", "fit", "engagement") \
            else kind
        kind = "feedback" if canonical in ("received_at", "text", "resolved") else kind
        kind = "contracts" if canonical in ("contract_id", "starts_at", "ends_at", "value",
                                            "product") else kind
        kind = "costs" if canonical in ("segment", "period", "cost_type") else kind
        for alias in aliases:
            hm = mapped([alias], kind=kind)
            assert hm.canonical.get(canonical) == 0, (alias, canonical)


def test_normalize_header():
    assert normalize_header(" Customer_ID\u3000") == normalize_header("customerid")
    assert normalize_header("ＡＢ") == "ab"


def test_precedence_explicit_over_config_aliases_over_builtins():
    headers = ["会员卡号", "卡号2", "手机号", "消费时间", "金额"]
    hm = mapped(headers, explicit={"customer_id": "手机号"}, aliases={"amount": ["金额"]})
    assert hm.header_of("customer_id") == "手机号"
    assert any("'手机号' and '会员卡号' both map to customer_id" in w for w in hm.warnings)
    hm2 = mapped(["card", "会员卡号", "t", "a"], aliases={"customer_id": ["card"],
                                                          "ordered_at": ["t"], "amount": ["a"]})
    assert hm2.header_of("customer_id") == "card"
    assert any("both map to customer_id; using 'card'" in w for w in hm2.warnings)


def test_two_builtin_matches_warn_and_use_the_better_alias():
    hm = mapped(["会员卡号", "订单金额", "实付金额", "日期"])
    assert hm.header_of("amount") == "实付金额"
    assert any("'实付金额' and '订单金额' both map to amount" in w for w in hm.warnings)


def test_missing_required_lists_all_with_headers_and_fix():
    hm = mapped(["编号", "时间", "钱"])
    assert hm.missing == ["customer_id", "ordered_at", "amount"]
    with pytest.raises(DataContractError) as err:
        raise_problems(hm, label="orders.csv", section="sources.orders")
    msg = str(err.value)
    assert "customer_id, ordered_at, amount not found" in msg
    assert "'编号', '时间', '钱'" in msg
    assert "customer_id = '<header>'" in msg and "[sources.orders.columns]" in msg


def test_explicit_header_that_is_not_there_is_a_problem():
    hm = mapped(["会员卡号", "消费时间", "消费金额"], explicit={"store": "分店"})
    assert hm.problems and "columns.store = '分店'" in hm.problems[0]
    assert "'会员卡号'" in hm.problems[0]


def test_orders_ignore_unknown_headers_customers_keep_them():
    orders = mapped(["会员卡号", "消费时间", "消费金额", "备注"])
    assert orders.ignored == [3]
    assert any("ignored: '备注'" in w for w in orders.warnings)
    cust = mapped(["客户编号", "成长潜力", "", "customer_id"], kind="customers",
                  aliases={"growth_potential": ["成长潜力"]})
    assert cust.header_of("customer_id") == "customer_id"
    assert cust.extras == {0: "客户编号", 1: "growth_potential", 2: "column_3"}
    assert cust.columns()["成长潜力"] == "growth_potential"


def test_extra_column_named_like_a_reserved_column_is_renamed():
    cust = mapped(["客户编号", "_line", "is_refund"], kind="customers")
    assert cust.extras == {1: "_line_2", 2: "is_refund_2"}

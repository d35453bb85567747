"""The one message catalogue: every code the store can hold has words in both languages."""

from __future__ import annotations

import json
import string

import pytest
from tierwise.i18n import CODE_FAMILIES, LANGUAGES, MESSAGES, name_of, pair, t
from tierwise.i18n.alert_words import ALERT_MESSAGES
from tierwise.i18n.campaign_words import CAMPAIGN_MESSAGES
from tierwise.i18n.codes import CODE_MESSAGES
from tierwise.i18n.feedback_words import FEEDBACK_MESSAGES
from tierwise.i18n.contract_words import CONTRACT_MESSAGES
from tierwise.i18n.render import (
    WORD_COLUMNS,
    add_words,
    add_words_to_rows,
    render_reason,
    warning_message,
)
from tierwise.i18n.report_words import REPORT_MESSAGES
from tierwise.i18n.web_words import WEB_MESSAGES
from tierwise.lifecycle.policies import (
    ACTIVITY_STATES,
    BUCKETS,
    LIFECYCLE_STAGES,
    POLICY_BASES,
    POLICY_CODES,
    SEVERITIES,
    WARNING_KINDS,
)
from tierwise.lifecycle.migration import MOVEMENTS
from tierwise.lifecycle.renewals import CONTRACT_STATUSES
from tierwise.config import COST_TYPES
from tierwise.segments.cost_to_serve import MARGIN_CHECKS, PNL_STATUSES
from tierwise.models.clv import NOTES
from tierwise.models.segment_maps import DEFAULT_SEGMENT, DEFAULT_SEGMENT_MAP, EIGHT_CLASSES, \
    PROBLEM_GROUPS
from tierwise.tiering.policies import KEY_ACCOUNT_TYPE_NAMES, TIER_NAMES


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_key_has_both_languages_with_the_same_fields() -> None:
    for key, entry in MESSAGES.items():
        assert set(entry) == set(LANGUAGES), key
        assert all(entry[lang].strip() for lang in LANGUAGES), key
        assert _fields(entry["zh"]) == _fields(entry["en"]), key


def test_the_parts_do_not_shadow_each_other() -> None:
    parts = [set(CODE_MESSAGES), set(REPORT_MESSAGES), set(WEB_MESSAGES), set(ALERT_MESSAGES),
             set(FEEDBACK_MESSAGES), set(CONTRACT_MESSAGES), set(CAMPAIGN_MESSAGES)]
    assert sum(map(len, parts)) == len(MESSAGES)


def _storable_codes() -> dict[str, list[str]]:
    """Every code the code base can write into a stored code column, by catalogue family."""
    return {
        "tier": list(TIER_NAMES),
        "key_account_type": list(KEY_ACCOUNT_TYPE_NAMES),
        "state": list(ACTIVITY_STATES),
        "policy": list(POLICY_CODES),
        "actions": list(POLICY_CODES),
        "basis": list(POLICY_BASES),
        "stage": list(LIFECYCLE_STAGES),
        "bucket": [str(b) for b in BUCKETS],
        "warning_kind": list(WARNING_KINDS),
        "severity": list(SEVERITIES),
        "movement": list(MOVEMENTS),
        "problem_group": list(PROBLEM_GROUPS),
        "rfm_class": [c["name_zh"] for c in EIGHT_CLASSES],
        "rfm_segment": [r["name_en"] for r in DEFAULT_SEGMENT_MAP] + [DEFAULT_SEGMENT[0]],
        "clv_note": [*NOTES, "prospect"],
        "warning": list(WARNING_KINDS),
        "period_this": ["month", "quarter"],
        "period_unit": ["month", "quarter"],
        "reason": ["chance", "below", "not_below", "rhythm", "alive", "protected", "warning",
                   "text"],
        "contract_status": list(CONTRACT_STATUSES),
        "margin_check": list(MARGIN_CHECKS),
        "pnl_status": list(PNL_STATUSES),
        "cost_type": list(COST_TYPES),
        "ka": ["rank", "cap", "cap_added", "gated", "gate", "status.lost", "status.archived",
               "manual_add", "manual_add_gated", "manual_remove"],
    }


def test_every_storable_code_is_in_the_catalogue() -> None:
    missing = [f"{family}.{code}" for family, codes in _storable_codes().items()
               for code in codes if f"{family}.{code}" not in MESSAGES]
    assert missing == []
    assert set(CODE_FAMILIES.values()) <= set(_storable_codes())
    assert {family for _, family in WORD_COLUMNS.values() if family} <= set(_storable_codes())


def test_the_domain_tables_are_the_catalogue_words() -> None:
    assert TIER_NAMES["long_tail"] == {"en": "long tail", "zh": "长尾客户"}
    assert [name_of("state", s, "zh") for s in ACTIVITY_STATES] == \
        ["正常", "休息", "休眠", "休克", "死亡", "埋葬"]
    for rule in DEFAULT_SEGMENT_MAP:  # the default map's names are the catalogue's
        assert t(f"rfm_segment.{rule['name_en']}", "zh") == rule["name_zh"]
    for cls in EIGHT_CLASSES:
        assert t(f"rfm_class.{cls['name_zh']}", "en") == cls["name_en"]


def test_reasons_and_warnings_are_worded_from_codes_and_figures() -> None:
    parts = [["reason.protected", {}],
             ["reason.chance", {"p": 0.0999, "horizon": 90, "basis": "rhythm", "floor": 0.1}],
             ["reason.rhythm", {"missed": 3.44, "gap": 18.2}]]
    assert render_reason(json.dumps(parts), "en") == (
        "key or major account: never silenced by rule, its manager calls; 10 % chance of a "
        "purchase in 90 days (purchase rhythm), < floor 10 %; silent 3.4 x its usual gap of "
        "18 days")
    assert render_reason(json.dumps(parts), "zh") == (
        "重要/主要客户：不按规则放弃，由客户经理致电；90 天内再次购买的概率 10 %（消费节奏），"
        "低于底线 10 %；已沉默约 3.4 个平时间隔（约 18 天）")
    row = {"kind": "trailing_drop", "period": "2026-03", "current": 1200.0,
           "reference": 5000.0, "change_pct": -76.0, "window": 4}
    assert warning_message(row, "en") == \
        "orders this month 1,200 vs 5,000 on average over the previous 4 months (-76 %)"
    assert warning_message(row, "zh") == "本月订单额 1,200，前 4 个月平均 5,000（-76%）"
    with pytest.raises(KeyError, match="not in the catalogue"):
        t("tier.unheard_of", "en")


def test_a_new_run_stores_codes_and_every_reader_words_them(tmp_path_factory) -> None:
    """The demo B2B store (made by this code): no word columns in what is stored; the export,
    the report and the dashboard show the words they showed before."""
    pytest.importorskip("fastapi")
    import duckdb
    from _web_store import client, client_class, shared_web_store
    from tierwise import load_config
    from tierwise.reports import build_report
    from tierwise.store import Store
    from tierwise.web import create_app

    config = shared_web_store(tmp_path_factory)
    path = load_config(config).store_path
    con = duckdb.connect(str(path), read_only=True)
    try:
        stored = [r[0] for r in con.execute(
            "SELECT column_name FROM (DESCRIBE snapshot_customers)").fetchall()]
        tables = {n: json.loads(d)["columns"] for n, d in con.execute(
            "SELECT name, data FROM run_tables").fetchall()}
    finally:
        con.close()
    assert [c for c in stored if c.endswith(("_zh", "_en"))] == []
    assert {n: [c for c in cols if c.endswith(("_zh", "_en"))] for n, cols in tables.items()
            if any(c.endswith(("_zh", "_en")) for c in cols)} == {}
    with Store(path, read_only=True) as store:
        snap = store.snapshot()
        raw = store.snapshot(words=False)
        names = store.run_table("latest", "names", words=False)
    rows = json.loads(raw.head(30).to_json(orient="records", force_ascii=False, date_format="iso"))
    framed = json.loads(add_words(raw.head(30), names).to_json(orient="records", date_format="iso",
                                                                force_ascii=False))
    assert add_words_to_rows(rows, names) == framed  # the dashboard's fast path: same words
    assert list(add_words_to_rows(rows, names)[0]) == list(framed[0])  # in the same order
    with Store(path, read_only=True) as store:
        warnings = store.run_table("latest", "warnings")
        zh, en = build_report(store, lang="zh"), build_report(store, lang="en")
    tail = snap[snap["tier"] == "long_tail"].iloc[0]
    assert tail["tier_zh"] == "长尾客户"
    assert snap["policy_reason"].dropna().str.match(
        r"^(key or major account: never silenced by rule, its manager calls; |early warning: "
        r"[^;]+; )?(\d+|\?) % chance of a purchase in 90 days \(purchase (model|rhythm)\), "
        r"(<|>=) floor 10 %").all()
    assert snap["policy_reason_zh"].dropna().str.contains("天内再次购买的概率").all()
    assert len(warnings) and warnings["message_zh"].notna().all()
    assert set(warnings["kind_zh"]) <= {pair("warning_kind", k)[0] for k in WARNING_KINDS}

    def cells(report, key):
        section = report[key]
        return {str(v) for table in section.tables for v in table.frame.to_numpy().ravel()}

    assert "长尾客户" in cells(zh, "pyramid") and "long tail" in cells(en, "pyramid")
    app = create_app(load_config(config))
    with client_class()(app):
        admin = client(app, "admin")
        item = admin.get("/api/customers", params={"tier": "long_tail"}).json()["items"][0]
        assert item["tier_zh"] == "长尾客户"
        assert item["activity_state_zh"] == name_of("state", item["activity_state"], "zh")
        assert "长尾客户" in admin.get("/customers", params={"lang": "zh"}).text
        assert "long tail" in admin.get("/customers", params={"lang": "en"}).text

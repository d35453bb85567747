"""Satisfaction and feedback by value (docs/feedback.md).

Unit checks of the definitions against hand-computed figures on a real store (CSAT, NPS,
response rate, complaints, keywords), the feedback intake (every row accepted or rejected with
line and reason), and the demo restaurant end to end through the real CLI: the planted story
(key customers of 上海徐家汇店 complain that the food comes slowly) is found by the keyword
grouping, the counts and the task loop, and reaches the report, the command and the web page in
both languages.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import run_cli
from tierwise.config import IntakeConfig, SourceConfig, parse_config
from tierwise.errors import ConfigError
from tierwise.feedback import (
    classify,
    comment_keywords,
    feedback_counts,
    feedback_rows,
    keyword_table,
    open_complaints,
    satisfaction_table,
    satisfaction_trend,
)
from tierwise.io import read_source
from tierwise.store import Store

AS_OF = dt.date(2026, 10, 31)


# -- keywords ---------------------------------------------------------------------------------
def test_chinese_comments_are_segmented_and_synonyms_fold_words() -> None:
    assert comment_keywords("上菜太慢了，等了四十分钟") == ["上菜", "太慢", "四十分钟"]
    folded = comment_keywords("上菜太慢了，等了四十分钟", synonyms={"上菜慢": ["上菜", "太慢"]})
    assert folded == ["上菜慢", "四十分钟"]  # one keyword however many of its words appear
    # a word the segmenter would split stays whole once it is a synonym
    assert comment_keywords("出餐慢", synonyms={"上菜慢": ["出餐慢"]}) == ["上菜慢"]


def test_english_comments_drop_stop_words_and_match_phrases() -> None:
    assert comment_keywords("The waiter was rude, and the soup was cold") == [
        "waiter", "rude", "soup", "cold"]
    assert comment_keywords("Slow service, slow kitchen",
                            synonyms={"slow food": ["slow service"]}) == [
        "slow food", "slow", "kitchen"]
    assert comment_keywords(None) == [] and comment_keywords(float("nan")) == []
    assert comment_keywords("桌子没擦干净", stopwords=["桌子"]) == ["没擦", "干净"]


def test_keyword_table_counts_comments_per_group() -> None:
    rows = pd.DataFrame({
        "text": ["上菜太慢了", "上菜慢", "服务员态度差", "菜很好吃，上菜快", "Slow service"],
        "complaint": [True, True, True, False, True],
        "open": [True, False, True, False, True],
        "tier": ["key", "key", "major", "key", "key"],
        "store": ["A", "A", "B", "B", "A"],
        "category": ["上菜速度", "上菜速度", "服务态度", "表扬", "上菜速度"]})
    rows = rows.astype({c: "str" for c in ("text", "tier", "store", "category")})  # as read
    table = keyword_table(rows, synonyms={"上菜慢": ["上菜", "slow service"]}, min_mentions=2)
    first = table[table["by"] == "all"].iloc[0]
    # 上菜 / 上菜慢 in three comments (the praise too), 'slow service' in one
    assert (first["keyword"], first["comments"], first["complaints"],
            first["open_complaints"]) == ("上菜慢", 4, 3, 2)
    assert first["share"] == pytest.approx(4 / 5)
    store_a = table[(table["by"] == "store") & (table["group"] == "A")]
    assert list(store_a["keyword"]) == ["上菜慢"] and store_a["share"].iloc[0] == 1.0
    assert (table["comments"] >= 2).all()  # min_mentions
    assert keyword_table(rows.iloc[:0]).empty
    assert keyword_table(rows, min_mentions=9).empty  # no grouping has a keyword that often


# -- complaints -----------------------------------------------------------------------------------
def _feedback_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_key": [1, 1, 2, 3, 3],
        "customer_id": ["c1", "c1", "c2", "c3", "c3"],
        "name": ["甲", "甲", "乙", "丙", "丙"],
        "received_at": pd.to_datetime(["2026-09-01", "2026-10-20", "2026-10-01", "2026-10-05",
                                       "2026-10-30"]).date,
        "channel": ["电话"] * 5,
        "category": ["上菜速度", "表扬", "上菜速度", None, "Praise"],
        "text": ["上菜慢", "很好", "太慢", "不干净", "great"],
        "resolved": pd.array([False, None, True, None, None], dtype="boolean"),
        "tier": ["key", "key", "major", "ordinary", "ordinary"],
        "store": ["A"] * 5, "account_manager": [None] * 5})


def test_complaints_are_rows_not_in_the_comment_categories_and_open_until_resolved() -> None:
    rows = classify(_feedback_frame(), ["表扬", "praise"])
    # no category: a complaint; 'Praise' matches 'praise' whatever the case
    assert rows["complaint"].tolist() == [True, False, True, True, False]
    assert rows["open"].tolist() == [True, False, False, True, False]
    counts = feedback_counts(rows).set_index(["category", "tier"])
    assert counts.loc[("上菜速度", "key")].tolist() == [1, 1, 1]
    assert counts.loc[("上菜速度", "major")].tolist() == [1, 1, 0]
    assert counts.loc[("(none)", "ordinary")].tolist() == [1, 1, 1]
    assert counts.loc[("表扬", "key")].tolist() == [1, 0, 0]
    listed = open_complaints(rows, AS_OF, ["key", "major"])
    assert listed[["customer_id", "open_days"]].values.tolist() == [["c1", 60]]


# -- satisfaction on a real store -------------------------------------------------------------------
@pytest.fixture
def small_store(tmp_path: Path) -> Store:
    """Four customers, their orders and survey answers, written as an ingest writes them."""
    store = Store(tmp_path / "tierwise.duckdb")
    con = store.con
    for key in range(1, 5):
        con.execute("INSERT INTO customers (customer_key, customer_id) VALUES (?, ?)",
                    [key, f"c{key}"])
    orders = [(1, "2026-10-01", "A"), (1, "2026-10-05", "A"), (1, "2026-10-09", "B"),
              (2, "2026-09-01", "B"), (3, "2026-08-01", "A"), (4, "2024-01-01", "A")]
    for i, (key, day, shop) in enumerate(orders):
        con.execute("INSERT INTO orders (order_id, customer_key, ordered_at, amount, store, "
                    "is_refund) VALUES (?, ?, ?, 100, ?, FALSE)", [f"o{i}", key, day, shop])
    # (customer, day, score, source, taste, service, setting): aspects where asked
    answers = [(1, "2026-10-02", 5, "csat.csv", 5, 4, None),
               (1, "2026-10-10", 3, "csat.csv", 4, 2, None),
               (2, "2026-09-03", 4, "csat.csv", None, 3, 5),
               (4, "2024-01-05", 1, "csat.csv", 1, 1, 1),
               (1, "2026-10-11", 10, "nps.csv", None, None, None),
               (3, "2026-08-02", 8, "nps.csv", None, 1, None),
               (3, "2026-08-03", 2, "nps.csv", None, None, None)]
    for i, (key, day, score, source, *aspects) in enumerate(answers):
        con.execute("INSERT INTO surveys (customer_key, customer_id, answered_at, score, "
                    "source, line, taste, service, setting) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [key, f"c{key}", day, score, source, i + 2, *aspects])
    yield store
    store.close()


CUSTOMERS = pd.DataFrame({"customer_key": [1, 2, 3, 4], "tier": ["key", "key", "major", None],
                          "segment": ["S", "S", "S", "S"],
                          "account_manager": ["王", None, "王", None]})


def test_satisfaction_by_hand(small_store: Store) -> None:
    table = satisfaction_table(small_store.con, AS_OF, CUSTOMERS, window_days=365)
    rows = table.set_index(["by", "group"])
    everyone = rows.loc[("all", "all")]
    # window: 2025-11-01 .. 2026-10-31; customer 4's order and answer are older
    assert (everyone["customers"], everyone["buyers"], everyone["respondents"]) == (4, 3, 3)
    assert everyone["response_rate"] == pytest.approx(3 / 3)
    # csat.csv (max 5) is CSAT: 5, 3, 4; nps.csv (max 10) is NPS: one promoter 10, one
    # passive 8, one detractor 2 -> (1 - 1) / 3
    assert everyone["csat_answers"] == 3 and everyone["csat"] == pytest.approx(4.0)
    assert everyone["satisfied"] == pytest.approx(2 / 3)
    assert everyone["nps_answers"] == 3 and everyone["nps"] == pytest.approx(0.0)
    key = rows.loc[("tier", "key")]
    assert key["csat"] == pytest.approx(4.0) and key["nps"] == pytest.approx(100.0)
    major = rows.loc[("tier", "major")]
    assert pd.isna(major["csat"]) and major["nps"] == pytest.approx(-50.0)  # passive, detractor
    # main store: the store of most purchase days (customer 1: A twice, B once)
    assert rows.loc[("store", "A")]["customers"] == 3  # customers 1, 3 and 4
    assert rows.loc[("account_manager", "王")]["respondents"] == 2
    # aspect means over the answers that carry them (customer 4's 2024 answer is outside)
    assert (everyone["taste"], everyone["service"], everyone["setting"]) == pytest.approx(
        (4.5, 2.5, 5.0))  # taste 5, 4; service 4, 2, 3, 1; setting 5
    assert (key["taste"], key["service"]) == pytest.approx((4.5, 3.0))
    assert pd.isna(major["taste"]) and major["service"] == pytest.approx(1.0)
    assert rows.loc[("store", "B")]["service"] == pytest.approx(3.0)  # customer 2
    forced = satisfaction_table(small_store.con, AS_OF, CUSTOMERS, scale="csat")
    assert forced.loc[forced["by"] == "all", "nps_answers"].item() == 0


def test_satisfaction_trend_by_month(small_store: Store) -> None:
    trend = satisfaction_trend(small_store.con, AS_OF, CUSTOMERS, months=3)
    everyone = trend[trend["by"] == "all"].set_index("month")
    assert list(everyone.index) == ["2026-08", "2026-09", "2026-10"]
    assert everyone.loc["2026-10", "csat"] == pytest.approx(4.0)
    assert everyone.loc["2026-10", "nps"] == pytest.approx(100.0)
    assert everyone.loc["2026-08", "nps"] == pytest.approx(-50.0)  # 8 passive, 2 detractor
    assert everyone.loc["2026-10", "service"] == pytest.approx(3.0)  # 4 and 2
    assert pd.isna(everyone.loc["2026-08", "taste"])


# -- intake ---------------------------------------------------------------------------------------
def test_survey_aspect_columns_are_read_and_checked_like_the_score(tmp_path: Path) -> None:
    text = ("会员卡号,调查日期,满意度,口味,服务,环境,评价\n"
            "8801,2026-10-01,4,5,2,4,上菜慢\n"
            "8802,2026-10-02,5,,,,\n"
            "8803,2026-10-03,3,4,7,3,\n"
            "8804,2026-10-04,4,好,3,3,\n"
            "8805,2026-10-05,2,3,1,0,太吵\n")
    (tmp_path / "问卷.csv").write_text(text, encoding="utf-8")
    result = read_source(SourceConfig(path=Path("问卷.csv")), kind="survey",
                         intake=IntakeConfig(), timezone="Asia/Shanghai", as_of=AS_OF,
                         base_dir=tmp_path, rejects_dir=tmp_path / "rejects")
    report = result.report
    assert (report.rows_in, report.accepted, report.rejected) == (5, 2, 3)
    assert report.columns["口味"] == "taste" and report.columns["环境"] == "setting"
    frame = result.frame
    assert frame[["taste", "service", "setting"]].iloc[0].tolist() == [5.0, 2.0, 4.0]
    assert frame[["taste", "service", "setting"]].iloc[1].isna().all()  # not asked: empty
    rejects = pd.read_csv(report.rejects_file, dtype=str, encoding="utf-8-sig")
    reasons = dict(zip(rejects["line"].astype(int), rejects["reason"], strict=True))
    assert sorted(reasons) == [4, 5, 6]
    assert "服务" in reasons[4] and "1-5" in reasons[4]
    assert "口味" in reasons[5] and "not a number" in reasons[5]
    assert "环境" in reasons[6] and "1-5" in reasons[6]


def test_feedback_intake_accepts_or_rejects_every_row_with_line_and_reason(tmp_path: Path) -> None:
    text = ("会员卡号,投诉日期,渠道,类别,投诉内容,是否解决\r\n"
            "8801,2026-10-01,电话,上菜速度,上菜太慢,否\r\n"
            "8802,2026/10/02,小程序,表扬,很好吃,\r\n"
            ",2026-10-03,电话,价格,太贵,是\r\n"
            "8803,2026-10-04,电话,服务态度,,否\r\n"
            "8804,2026-10-05,电话,服务态度,态度差,也许\r\n"
            "8805,明天,电话,服务态度,态度差,yes\r\n"
            "8806,2026-12-01,电话,环境卫生,桌子脏,已解决\r\n")
    (tmp_path / "投诉.csv").write_bytes(text.encode("gbk"))
    result = read_source(SourceConfig(path=Path("投诉.csv")), kind="feedback",
                         intake=IntakeConfig(), timezone="Asia/Shanghai", as_of=AS_OF,
                         base_dir=tmp_path, rejects_dir=tmp_path / "rejects")
    report = result.report
    assert (report.rows_in, report.accepted, report.rejected) == (7, 2, 5)
    assert report.encoding in ("gbk", "gb18030")
    resolved = result.frame["resolved"]
    assert resolved.isna().tolist() == [False, True] and not resolved.iloc[0]
    assert result.frame["_line"].tolist() == [2, 3]
    rejects = pd.read_csv(report.rejects_file, dtype=str, encoding="utf-8-sig")
    reasons = dict(zip(rejects["line"].astype(int), rejects["reason"], strict=True))
    assert sorted(reasons) == [4, 5, 6, 7, 8]
    assert "customer_id" in reasons[4] and "empty" in reasons[4]
    assert "投诉内容" in reasons[5] and "empty" in reasons[5]
    assert "'也许' is not yes/no" in reasons[6] and "是/否" in reasons[6]
    assert "not a date" in reasons[7]
    assert "after as_of" in reasons[8]


def test_bad_feedback_settings_name_the_key_and_the_valid_values() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"feedback": {"task_tiers": ["vip"], "scale": "stars"}})
    message = str(caught.value)
    assert "feedback.task_tiers" in message and "key, major, ordinary, long_tail" in message
    assert "feedback.scale" in message and "'csat'" in message
    with pytest.raises(ConfigError, match="sources.feedback"):
        parse_config({"sources": {"feedback": {}}})


# -- the demo restaurant, end to end ----------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("feedback")
    done = run_cli("demo", "--dir", str(root), "--members", "300", "--accounts", "30", "--json",
                   cwd=root)
    assert done.code == 0, done.stderr
    return root / "restaurant"


@pytest.fixture(scope="module")
def manifest(demo: Path) -> dict:
    return json.loads((demo / "manifest.json").read_text(encoding="utf-8"))


def _latest(demo: Path) -> tuple[dict, pd.DataFrame, dict]:
    from tierwise.runview import RunView

    with Store(demo / "tierwise.duckdb", read_only=True) as store:
        info = store.run_info("latest")
        tables = RunView(store.con, info["run_id"]).feedback()
        snap = store.snapshot(info["run_id"], words=False)
    return info, snap, tables


@pytest.mark.slow
def test_the_demo_carries_the_planted_rows_and_the_messy_ones(demo: Path, manifest: dict
                                                             ) -> None:
    assert manifest["files"] == ["members.csv", "visits.csv", "survey.csv", "feedback.csv",
                                 "manifest.json"]
    assert len(manifest["feedback_planted_customers"]) >= 2
    for name, lines in (("survey", manifest["survey_messy_lines"]),
                        ("feedback", manifest["feedback_messy_lines"])):
        rejects = pd.read_csv(demo / "rejects" / f"{name}.{name}.rejects.csv", dtype=str,
                              encoding="utf-8-sig")
        assert sorted(rejects["line"].astype(int)) == sorted(lines)
    with Store(demo / "tierwise.duckdb", read_only=True) as store:
        ingests = store.con.execute(
            "SELECT kind, rows_in, accepted, rejected FROM ingests WHERE kind IN "
            "('survey', 'feedback')").fetchall()
    assert {k for k, *_ in ingests} == {"survey", "feedback"}
    assert all(rows_in == accepted + rejected for _, rows_in, accepted, rejected in ingests)


@pytest.mark.slow
def test_the_planted_story_is_found(demo: Path, manifest: dict) -> None:
    from tierwise import load_config

    info, snap, tables = _latest(demo)
    store_name = manifest["feedback_planted_store"][0]
    keywords = tables["feedback_keywords"]
    # the demo config folds 上菜 / 太慢 / 特别慢 ... into 上菜慢: the store's top keyword
    top = keywords[(keywords["by"] == "store") & (keywords["group"] == store_name)].iloc[0]
    assert top["keyword"] == "上菜慢" and top["share"] > 0.5
    everyone = keywords[keywords["by"] == "all"]
    assert everyone.sort_values("open_complaints").iloc[-1]["keyword"] == "上菜慢"
    key_tier = keywords[(keywords["by"] == "tier") & (keywords["group"] == "key")].iloc[0]
    assert key_tier["keyword"] == "上菜慢"
    # without any synonym the segmenter alone finds the planted word
    cfg = load_config(demo / "tierwise.toml")
    plain = cfg.feedback.model_copy(update={"synonyms": {}})
    with Store(demo / "tierwise.duckdb", read_only=True) as store:
        rows = feedback_rows(store.con, info["as_of"], snap, plain)
    bare = keyword_table(rows, top=3)
    bare_top = bare[(bare["by"] == "store") & (bare["group"] == store_name)].iloc[0]
    assert bare_top["keyword"] == manifest["feedback_planted_keyword"][0]
    # counts: the planted category has the most open complaints of key and major customers
    counts = tables["feedback_counts"]
    valuable = counts[counts["tier"].isin(["key", "major"])]
    by_category = valuable.groupby("category")["open_complaints"].sum()
    assert by_category.idxmax() == manifest["feedback_planted_category"][0]
    # the store's survey scores of the last 90 days are the lowest of the stores (with answers)
    with Store(demo / "tierwise.duckdb", read_only=True) as store:
        recent = satisfaction_table(store.con, info["as_of"], snap, window_days=90)
    stores = recent[(recent["by"] == "store") & (recent["csat_answers"] >= 5)].set_index("group")
    assert stores["csat"].idxmin() == store_name
    # and of its aspects service (服务) is the one that falls: the lowest of the stores, and
    # at the store well under taste and setting (slow food, not bad food)
    aspect = manifest["survey_planted_aspect"][0]
    assert aspect == "service" and stores["service"].idxmin() == store_name
    planted = stores.loc[store_name]
    assert planted["service"] <= min(planted["taste"], planted["setting"]) - 0.5
    others = stores.drop(index=store_name)
    assert ((others["service"] - others["taste"]).abs() < 0.5).all()
    assert tables["satisfaction"].loc[0, "by"] == "all"


@pytest.mark.slow
def test_open_complaints_of_key_and_major_customers_become_tasks(demo: Path, manifest: dict
                                                                 ) -> None:
    info, snap, tables = _latest(demo)
    planted = snap[snap["customer_id"].isin(manifest["feedback_planted_customers"])]
    valuable = set(planted.loc[planted["tier"].isin(["key", "major"]), "customer_id"])
    assert len(valuable) >= len(planted) / 2  # the planted complainers are mostly key or major
    listed = tables["open_complaints"]
    assert set(listed["tier"]) <= {"key", "major"}
    assert valuable <= set(listed["customer_id"])
    with Store(demo / "tierwise.duckdb", read_only=True) as store:
        tasks = store.con.execute("SELECT customer_id, reason_args, priority FROM tasks "
                                  "WHERE reason = 'open_complaint' AND status = 'open'").df()
    assert set(tasks["customer_id"]) == set(listed["customer_id"])
    assert (tasks["priority"] == 1).all()
    args = json.loads(tasks["reason_args"].iloc[0])
    assert set(args) == {"on", "count", "category"}
    shown = run_cli("tasks", "list", "--lang", "zh", "--json", cwd=demo)
    assert shown.code == 0, shown.stderr
    texts = [t["reason_text"] for t in shown.json()["tasks"] if t["reason"] == "open_complaint"]
    assert texts and all("未解决的投诉" in x for x in texts)


@pytest.mark.slow
def test_resolving_the_complaints_closes_their_tasks(demo: Path, manifest: dict,
                                                     tmp_path: Path) -> None:
    copy = tmp_path / "restaurant"
    shutil.copytree(demo, copy)
    path = copy / "feedback.csv"
    rows = pd.read_csv(path, dtype=str, encoding="gbk", keep_default_na=False)
    rows.loc[rows["会员卡号"].isin(manifest["feedback_planted_customers"]), "是否解决"] = "是"
    rows.to_csv(path, index=False, encoding="gbk", lineterminator="\r\n")
    for args in (("ingest",), ("run",)):
        done = run_cli(*args, cwd=copy)
        assert done.code == 0, done.stderr
    with Store(copy / "tierwise.duckdb", read_only=True) as store:
        closed = store.con.execute(
            "SELECT customer_id FROM tasks WHERE reason = 'open_complaint' "
            "AND status = 'closed' AND close_note = 'reason_gone'").df()
        still = store.con.execute("SELECT customer_id FROM tasks WHERE reason = "
                                  "'open_complaint' AND status = 'open'").df()
    planted = set(manifest["feedback_planted_customers"])
    assert planted & set(closed["customer_id"])
    assert not planted & set(still["customer_id"])


@pytest.mark.slow
def test_the_command_shows_the_section_in_both_languages(demo: Path) -> None:
    zh = run_cli("feedback", "--lang", "zh", cwd=demo)
    assert zh.code == 0, zh.stderr
    assert "满意度与回复率" in zh.stdout and "上菜慢" in zh.stdout and "未解决的投诉" in zh.stdout
    en = run_cli("feedback", "--lang", "en", "--show", "counts", "--json", cwd=demo)
    assert en.code == 0, en.stderr
    data = en.json()
    assert data["title"] == "Satisfaction and feedback"
    assert [t["key"] for t in data["tables"]] == ["counts"]
    assert [c["header"] for c in data["tables"][0]["columns"]] == [
        "Category", "Tier", "Items", "Complaints", "Open"]
    aspects = run_cli("feedback", "--lang", "en", "--show", "satisfaction", "--json", cwd=demo)
    assert aspects.code == 0, aspects.stderr
    headers = [c["header"] for c in aspects.json()["tables"][0]["columns"]]
    assert headers[-3:] == ["Taste", "Service", "Setting"]
    assert "口味" in zh.stdout and "环境" in zh.stdout
    bad = run_cli("feedback", "--show", "everything", cwd=demo)
    assert bad.code != 0 and "use one of: satisfaction, trend" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.slow
def test_the_report_has_the_section_in_both_languages(demo: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    for lang, title, header in (("zh", "满意度与客户反馈", "回复率"),
                                ("en", "Satisfaction and feedback", "Response rate")):
        for fmt in ("html", "xlsx"):
            done = run_cli("report", "-f", fmt, "--lang", lang, "-o",
                           str(tmp_path / f"r-{lang}.{fmt}"), cwd=demo)
            assert done.code == 0, done.stderr
        page = (tmp_path / f"r-{lang}.html").read_text(encoding="utf-8")
        assert title in page and header in page and "上菜慢" in page
        assert {"zh": "口味", "en": "Taste"}[lang] in page
        book = load_workbook(tmp_path / f"r-{lang}.xlsx")
        assert title in book.sheetnames
        cells = [c for row in book[title].iter_rows(values_only=True) for c in row if c]
        assert header in cells


@pytest.mark.slow
def test_the_web_page_and_its_json_twin(demo: Path, tmp_path: Path) -> None:
    pytest.importorskip("fastapi")
    from _web_store import add_users, client, client_class
    from tierwise import load_config
    from tierwise.web import create_app

    shutil.copytree(demo, tmp_path / "web")
    config = tmp_path / "web" / "tierwise.toml"
    add_users(config)
    cli = run_cli("feedback", "--lang", "en", "--json", cwd=tmp_path / "web")
    assert cli.code == 0, cli.stderr
    app = create_app(load_config(config))
    with client_class()(app):
        admin = client(app, "admin")
        api = admin.get("/api/feedback?lang=en")
        assert api.status_code == 200, api.text
        data = api.json()
        expected = cli.json()
        assert [t["key"] for t in data["tables"]] == [t["key"] for t in expected["tables"]]
        assert data["tables"] == expected["tables"] and data["figures"] == expected["figures"]
        zh = admin.get("/feedback?lang=zh").text
        assert "满意度与客户反馈" in zh and 'id="feedback-keywords"' in zh and "上菜慢" in zh
        assert 'id="nav-feedback"' in zh
        en = admin.get("/feedback?lang=en").text
        assert "Open complaints (key and major customers, oldest first)" in en
        assert "Service" in en and "Setting" in en  # the aspect columns
        # an account manager sees only their customers' open complaints, no business-wide table
        manager = client(app, "sunli").get("/api/feedback").json()
        assert [t["key"] for t in manager["tables"]] == ["open"]
        assert manager["tables"][0]["rows"] == []
        assert client(app).get("/api/feedback").status_code == 401


def test_a_feedback_export_can_be_uploaded_on_the_setup_page() -> None:
    from conftest import ROOT
    from tierwise.uploads import KINDS, preview_upload

    assert "feedback" in KINDS
    shown = preview_upload(ROOT / "examples" / "restaurant" / "feedback.csv", kind="feedback",
                           intake=IntakeConfig(), timezone="Asia/Shanghai")
    assert shown.columns == {"customer_id": "会员卡号", "received_at": "反馈日期",
                             "channel": "渠道", "category": "类别", "text": "反馈内容",
                             "resolved": "是否解决"}
    assert shown.missing == []

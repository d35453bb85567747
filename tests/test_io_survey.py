"""The optional survey input: intake rules, rejects, unknown customers, the store, idempotency."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_cli
from tierwise.config import IntakeConfig, SourceConfig, load_config
from tierwise.errors import DataContractError
from tierwise.io import read_rejects, read_source, reject_unknown_customers
from tierwise.pipeline import ingest
from tierwise.store import MIGRATIONS, Store
from tierwise.validation import validate_all

AS_OF = dt.date(2026, 3, 31)

SURVEY = """customer_id,answered_at,score,comment
C1,2026-01-05,4,good
C2,2026/02/01,abc,
C3,someday,3,
C1,2026-03-01,11,
,2026-03-02,3,
C2,2026-04-30,5,after as_of
C2,2026-03-03,-1,
C1,2026-03-10,0,NPS detractor
C2,2026-03-11,10,NPS promoter
"""


def read(tmp_path: Path, text: str, name: str = "survey.csv", encoding: str = "utf-8",
         intake: IntakeConfig | None = None, **source):
    (tmp_path / name).write_bytes(text.encode(encoding))
    return read_source(SourceConfig(path=Path(name), **source), kind="survey",
                       intake=intake or IntakeConfig(), timezone="Asia/Shanghai", as_of=AS_OF,
                       base_dir=tmp_path, rejects_dir=tmp_path / "rejects")


def test_gbk_file_with_chinese_headers_is_read(tmp_path: Path) -> None:
    text = "客户编号,调查日期,满意度,评价\nC1,2026年1月5日,5,服务及时\nC2,2026-02-01,2,交期延误\n"
    res = read(tmp_path, text, encoding="gbk")
    assert res.report.encoding in ("gbk", "gb18030")
    assert res.report.columns == {"客户编号": "customer_id", "调查日期": "answered_at",
                                  "满意度": "score", "评价": "comment"}
    f = res.frame
    assert f["customer_id"].tolist() == ["C1", "C2"]
    assert f["answered_at"].tolist() == [dt.date(2026, 1, 5), dt.date(2026, 2, 1)]
    assert f["score"].tolist() == [5.0, 2.0]
    assert f["comment"].tolist() == ["服务及时", "交期延误"]
    assert f["_line"].tolist() == [2, 3]
    assert res.report.kind == "survey" and res.report.rejects_file is None


def test_other_aliases_map_too(tmp_path: Path) -> None:
    res = read(tmp_path, "会员卡号,日期,评分,意见\n001,2026-01-05,4,ok\n")
    assert res.report.columns["评分"] == "score" and res.report.columns["日期"] == "answered_at"
    assert res.frame["customer_id"].tolist() == ["001"]  # leading zeros kept


def test_bad_rows_are_rejected_with_line_and_reason(tmp_path: Path) -> None:
    res = read(tmp_path, SURVEY)
    rep = res.report
    assert (rep.rows_in, rep.accepted, rep.rejected) == (9, 3, 6)
    assert rep.rows_in == rep.accepted + rep.rejected
    assert res.frame["score"].tolist() == [4.0, 0.0, 10.0]  # CSAT and NPS ends accepted
    assert rep.rejects_file == tmp_path / "rejects" / "survey.survey.rejects.csv"
    rej = read_rejects(rep.rejects_file)
    assert list(rej.columns) == ["source", "line", "reason", "customer_id", "answered_at",
                                 "score", "comment"]
    reasons = dict(zip(rej["line"], rej["reason"], strict=True))
    assert sorted(reasons, key=int) == ["3", "4", "5", "6", "7", "8"]
    assert "'abc' is not a number" in reasons["3"]
    assert "'someday' is not a date" in reasons["4"]
    assert "11 is outside 0-10" in reasons["5"] and "CSAT 1-5 or NPS 0-10" in reasons["5"]
    assert "column 'customer_id' is empty" in reasons["6"]
    assert "2026-04-30 is after as_of 2026-03-31" in reasons["7"]
    assert "-1 is outside 0-10" in reasons["8"]
    assert rej.loc[rej["line"] == "3", "score"].item() == "abc"  # original value kept


def test_missing_score_column_refuses_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataContractError, match="required column score not found"):
        read(tmp_path, "customer_id,answered_at\nC1,2026-01-05\n")


def test_unknown_customers_are_rejected_and_appended(tmp_path: Path) -> None:
    res = read(tmp_path, SURVEY)
    out = reject_unknown_customers(res, {"C1"}, rejects_dir=tmp_path / "rejects")
    assert out.frame["customer_id"].tolist() == ["C1", "C1"]
    assert (out.report.accepted, out.report.rejected) == (2, 7)
    assert out.report.rows_in == out.report.accepted + out.report.rejected
    rej = read_rejects(out.report.rejects_file)
    last = rej[rej["line"] == "10"]
    assert "customer_id 'C2' is not a known customer" in last["reason"].item()
    assert last["comment"].item() == "NPS promoter"


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.integers(-3, 13).map(str), st.sampled_from(["", "x", "4.5", "5分"])),
                min_size=1, max_size=12))
def test_every_row_is_accepted_or_rejected(tmp_path: Path, scores: list[str]) -> None:
    text = "customer_id,answered_at,score\n" + "".join(f"C{i},2026-01-05,{s}\n"
                                                       for i, s in enumerate(scores))
    res = read(tmp_path, text)
    assert res.report.rows_in == len(scores) == res.report.accepted + res.report.rejected
    assert res.frame["score"].between(0, 10).all()


# ------------------------------------------------------------------------------ ingest + store

CONFIG = """
as_of = "2026-03-31"
[sources.customers]
path = "customers.csv"
[sources.orders]
path = "orders.csv"
[sources.survey]
path = "survey.csv"
[store]
path = "t.duckdb"
"""


def _project(tmp_path: Path, survey: str) -> Path:
    (tmp_path / "customers.csv").write_text("customer_id,name\nC1,A\nC2,B\n", encoding="utf-8")
    (tmp_path / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\nO1,C1,2026-01-02,100\nO2,C3,2026-01-03,50\n",
        encoding="utf-8")
    (tmp_path / "survey.csv").write_text(survey, encoding="gbk")
    (tmp_path / "tierwise.toml").write_text(CONFIG, encoding="utf-8")
    return tmp_path / "tierwise.toml"


SURVEY_B = ("客户编号,调查日期,满意度,评价\nC1,2026-01-05,4,好\nC3,2026-02-01,3,\n"
            "C9,2026-02-02,2,谁\nC2,2026-02-03,9.5,\nC2,2026-02-04,高,\n")


def test_ingest_rejects_unknown_customers_and_is_idempotent(tmp_path: Path) -> None:
    cfg = load_config(_project(tmp_path, SURVEY_B))
    first = ingest(cfg)
    survey = next(r for r in first.to_dicts() if r["kind"] == "survey")
    assert (survey["rows_in"], survey["accepted"], survey["rejected"]) == (5, 3, 2)
    assert (survey["inserted"], survey["replaced"]) == (3, 0)
    rej = read_rejects(survey["rejects_file"]).set_index("line")
    assert sorted(rej.index) == ["4", "6"]  # C9 unknown (C3 came with an order), '高'
    assert "customer_id 'C9' is not a known customer" in rej.loc["4", "reason"]
    assert "'高' is not a number" in rej.loc["6", "reason"]
    again = ingest(cfg)
    survey = next(r for r in again.to_dicts() if r["kind"] == "survey")
    assert (survey["inserted"], survey["replaced"], survey["removed"]) == (0, 3, 0)
    with Store(cfg.store_path, read_only=True) as store:
        frame = store.surveys_frame()
        kinds = store.con.execute("SELECT kind FROM ingests ORDER BY ingest_id").fetchall()
    assert frame["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert frame["score"].tolist() == [4.0, 9.5, 3.0]
    assert frame["line"].tolist() == [2, 5, 3]
    assert [k[0] for k in kinds].count("survey") == 2


def test_a_shorter_survey_file_replaces_the_stored_answers(tmp_path: Path) -> None:
    cfg = load_config(_project(tmp_path, SURVEY_B))
    ingest(cfg)
    (tmp_path / "survey.csv").write_text("客户编号,调查日期,满意度\nC1,2026-01-05,4\n",
                                         encoding="gbk")
    survey = next(r for r in ingest(cfg).to_dicts() if r["kind"] == "survey")
    assert (survey["inserted"], survey["replaced"], survey["removed"]) == (0, 1, 2)
    assert survey["rejects_file"] is None
    with Store(cfg.store_path, read_only=True) as store:
        assert len(store.surveys_frame()) == 1
        assert len(store.surveys_frame(dt.date(2026, 1, 4))) == 0


def test_store_migration_order_and_orders_frame_columns(tmp_path: Path) -> None:
    names = [name for name, _ in MIGRATIONS]
    assert names[names.index("0003_results_columns") + 1] == "0004_surveys"
    cfg = load_config(_project(tmp_path, SURVEY_B))
    ingest(cfg)
    with Store(cfg.store_path, read_only=True) as store:
        assert "0004_surveys" in store.applied_migrations()
        default = store.orders_frame(AS_OF)
        wide = store.orders_frame(AS_OF, columns=["customer_key", "amount", "channel", "agent"])
        with pytest.raises(ValueError, match="unknown column"):
            store.orders_frame(AS_OF, columns=["amount", "nope"])
    assert list(default.columns) == ["customer_key", "ordered_at", "amount", "is_refund"]
    assert list(wide.columns) == ["customer_key", "amount", "channel", "agent"]
    assert wide["amount"].tolist() == [100.0, 50.0]


def test_validate_checks_the_survey(tmp_path: Path) -> None:
    cfg = load_config(_project(tmp_path, SURVEY_B))
    problems = validate_all(cfg)
    assert any("survey.csv: 1 row with a score that is not a number" in p for p in problems)


def test_cli_ingest_json_reports_the_survey(tmp_path: Path) -> None:
    _project(tmp_path, SURVEY_B)
    result = run_cli("ingest", "--json", cwd=tmp_path)
    assert result.code == 0, result.stderr
    items = {i["kind"]: i for i in json.loads(result.stdout)}
    assert set(items) == {"customers", "orders", "survey"}
    assert items["survey"]["rows_in"] == items["survey"]["accepted"] + items["survey"]["rejected"]
    assert items["survey"]["rejected"] == 2

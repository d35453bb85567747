"""Importing campaign results with the intake rules of orders: nothing lost, rejects explained."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_campaigns_flow import SETTINGS, build_store, campaign_cli, plant_outcomes
from tierwise.campaigns import (
    AudienceFilter,
    create_campaign,
    derive_redemptions,
    evaluate_campaign,
    import_results,
    members,
)
from tierwise.campaigns.repository import redemptions, sends
from tierwise.config import IntakeConfig
from tierwise.errors import DataContractError
from tierwise.io import read_rejects
from tierwise.store import Store


@pytest.fixture
def setup(tmp_path: Path):
    path = build_store(tmp_path / "tierwise.duckdb")
    with Store(path) as store:
        c = create_campaign(store, AudienceFilter(min_days_since_last=40), SETTINGS)
        frame = members(store, c.campaign_id)
    target = frame.loc[frame["group"] == "target", "customer_id"].tolist()
    control = frame.loc[frame["group"] == "control", "customer_id"].tolist()
    return path, c.campaign_id, target, control


def redemption_csv(target: list[str], control: list[str]) -> tuple[str, dict[int, str]]:
    """A GBK-style POS export: Chinese headers, messy rows; returns text and line -> reason."""
    t = target
    lines = [
        "会员卡号,核销时间,订单号,消费金额,备注",
        f"{t[0]},2026-09-05 12:30,O1,200,",                    # 2 ok
        f"{t[1]},2026/9/6,O2,\"￥1,234.50\",周末",               # 3 ok
        f"{control[0]},2026-09-07,O3,180,",                    # 4 control group
        "X999,2026-09-07,O4,90,",                              # 5 unknown customer
        "M0001,2026-09-08,O5,120,",                            # 6 not in the audience
        "",                                                    # 7 blank: skipped
        f"{t[2]},2026-09-08,O6,abc,",                          # 8 amount not a number
        f"{t[3]},2026-09-09,O1,150,",                          # 9 duplicate order id
        ",2026-09-09,O7,150,",                                 # 10 no customer
        f"{t[4]},2026-08-20,O8,150,",                          # 11 before the start
        f"{t[5]},2026-09-10,O9,-50,",                          # 12 negative amount
        f"{t[6]},2026-09-10,O10,99,x,extra",                   # 13 too many fields
        f"{t[7]},2026-10-15,O11,300,",                         # 14 ok, after the window: warned
    ]
    reasons = {4: "control group", 5: "not a stored customer", 6: "not in campaign",
               8: "is not a number", 9: "duplicate order_id", 10: "no customer",
               11: "before the campaign started", 12: "is negative", 13: "field"}
    return "\r\n".join(lines) + "\r\n", reasons


def test_gbk_redemptions_every_row_accepted_or_rejected_with_line_and_reason(
        setup, tmp_path: Path) -> None:
    path, cid, target, control = setup
    text, reasons = redemption_csv(target, control)
    src = tmp_path / "核销记录.csv"
    src.write_bytes(text.encode("gbk"))
    with Store(path) as store:
        done = import_results(store, cid, src, intake=IntakeConfig(), timezone="Asia/Shanghai",
                              rejects_dir=tmp_path / "rejects")
        stored = redemptions(store, cid)
        again = import_results(store, cid, src, rejects_dir=tmp_path / "rejects")
        assert len(redemptions(store, cid)) == len(stored)  # re-import replaces, never doubles
    r = done.report
    assert done.kind == "redemptions" and r.encoding.lower() in ("gbk", "gb18030")
    assert (r.rows_in, r.accepted, r.rejected) == (12, 3, 9)
    assert r.rows_in == r.accepted + r.rejected
    assert again.replaced == 3
    rejects = read_rejects(r.rejects_file)
    got = dict(zip(rejects["line"].astype(int), rejects["reason"]))
    assert sorted(got) == sorted(reasons)
    for line, words in reasons.items():
        assert words in got[line], (line, got[line])
    assert rejects.columns.tolist()[:4] == ["source", "line", "reason", "会员卡号"]
    assert set(stored["customer_id"]) == {target[0], target[1], target[7]}
    assert sorted(stored["amount"]) == [200.0, 300.0, 1234.5]
    assert sorted(stored["line"]) == [2, 3, 14]
    assert any("after the window" in w for w in r.warnings)
    assert any("备注" in w for w in r.warnings)  # the ignored column is named
    (tmp_path / "again.csv").write_text(f"会员卡号,核销时间,订单号,消费金额\n{target[9]},2026-09-09,O2,50\n",
                                        encoding="utf-8")
    with Store(path) as store:  # the same order in another file is not counted twice
        other = import_results(store, cid, tmp_path / "again.csv", rejects_dir=tmp_path)
    assert other.report.rejected == 1
    assert "order_id 'O2' is already counted (imported from 核销记录.csv line 3)" in read_rejects(
        other.report.rejects_file)["reason"][0]


def test_xlsx_sends_with_codes_then_redemptions_by_code(setup, tmp_path: Path) -> None:
    path, cid, target, control = setup
    sent = pd.DataFrame({"会员卡号": target[:50] + [control[0]],
                         "券码": [f"WB{i:03d}" for i in range(51)],
                         "发送时间": ["2026-09-01 10:00"] * 51})
    sent.to_excel(tmp_path / "sends.xlsx", index=False)
    (tmp_path / "used.csv").write_text(
        "券码,使用日期,金额\nWB001,2026-09-03,210\nWB002,2026-09-04,150\nZZZ,2026-09-04,99\n"
        "WB001,2026-09-05,80\n", encoding="utf-8")
    with Store(path) as store:
        s = import_results(store, cid, tmp_path / "sends.xlsx", rejects_dir=tmp_path / "rj")
        u = import_results(store, cid, tmp_path / "used.csv", rejects_dir=tmp_path / "rj")
        stored_sends, stored_used = sends(store, cid), redemptions(store, cid)
        ev = evaluate_campaign(store, cid)
    assert s.kind == "sends" and (s.report.accepted, s.report.rejected) == (50, 1)
    sends_rejects = read_rejects(s.report.rejects_file)
    assert sends_rejects["line"].tolist() == ["52"]  # the spreadsheet's row number
    assert "must never be contacted" in sends_rejects["reason"][0]
    assert (stored_sends["sent_at"] == pd.Timestamp("2026-09-01")).all()
    assert u.kind == "redemptions" and (u.report.accepted, u.report.rejected) == (2, 2)
    reasons = read_rejects(u.report.rejects_file).set_index("line")["reason"]
    assert reasons["4"].startswith("coupon code 'ZZZ' was not sent by campaign")
    assert "duplicate coupon_code" in reasons["5"]
    assert stored_used["customer_id"].tolist() == [target[1], target[2]]
    assert (ev.figures.issued, ev.figures.sent, ev.figures.used) == (50, 50, 2)
    assert ev.figures.revenue == 360 and "sends: imported" in ev.basis
    assert ev.basis.endswith("redemptions: imported")


def test_imported_redemptions_replace_the_derived_ones(setup, tmp_path: Path) -> None:
    path, cid, target, _ = setup
    (tmp_path / "r.csv").write_text(f"customer_id,used_at,amount\n{target[0]},2026-09-02,500\n",
                                    encoding="utf-8")
    with Store(path) as store:
        plant_outcomes(store, cid)
        derived = derive_redemptions(store, cid)
        assert len(redemptions(store, cid)) == derived.report.accepted > 1
        import_results(store, cid, tmp_path / "r.csv", rejects_dir=tmp_path)
        left = redemptions(store, cid)
    assert left["customer_id"].tolist() == [target[0]] and left["amount"].tolist() == [500.0]


def test_missing_columns_are_named_and_can_be_mapped(setup, tmp_path: Path) -> None:
    path, cid, target, _ = setup
    src = tmp_path / "r.csv"
    src.write_text(f"会员卡号,核销日,实收\n{target[0]},2026-09-02,88\n", encoding="utf-8")
    with Store(path) as store:
        with pytest.raises(DataContractError, match="cannot tell whether") as err:
            import_results(store, cid, src, rejects_dir=tmp_path)
        assert "--kind" in err.value.hint
        with pytest.raises(DataContractError) as err:
            import_results(store, cid, src, rejects_dir=tmp_path, kind="redemptions")
        assert "used_at" in err.value.message and "'核销日'" in err.value.message
        assert "--column" in err.value.hint
        done = import_results(store, cid, src, rejects_dir=tmp_path,
                              columns={"used_at": "核销日", "amount": "实收"}, kind="redemptions")
    assert done.report.accepted == 1 and done.report.rejects_file is None


def test_results_from_the_command_line(setup, tmp_path: Path) -> None:
    path, cid, target, control = setup
    (path.parent / "tierwise.toml").write_text('[store]\npath = "tierwise.duckdb"\n',
                                               encoding="utf-8")
    text, _ = redemption_csv(target, control)
    (path.parent / "used.csv").write_bytes(text.encode("gbk"))
    done = campaign_cli("campaign", "results", str(cid), "--file", "used.csv", "--json",
                        cwd=path.parent)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["rows_in"] == data["accepted"] + data["rejected"] == 12
    assert Path(data["rejects_file"]).is_file()
    assert Path(data["rejects_file"]).parent == path.parent / "rejects"


ROW = st.tuples(
    st.sampled_from(["target", "control", "unknown", "outside", "empty"]),
    st.sampled_from(["2026-09-03", "2026/9/20 18:05", "2026-08-01", "2026-13-45", ""]),
    st.sampled_from(["100", "1,234.5", "￥88", "abc", "-5", ""]),
    st.booleans())  # repeat the previous row's order id


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=1, max_size=25), encoding=st.sampled_from(["gbk", "utf-8"]))
def test_nothing_is_lost_whatever_the_rows(setup, tmp_path: Path, rows, encoding: str) -> None:
    path, cid, target, control = setup
    who = {"target": target[0], "control": control[0], "unknown": "NOPE", "outside": "M0001",
           "empty": ""}
    lines = ["会员卡号,使用时间,订单号,金额"]
    for i, (kind, day, amount, repeat) in enumerate(rows):
        order = f"{encoding}{len(rows)}-{i - 1 if repeat and i else i}"
        lines.append(f"{who[kind]},{day},{order},\"{amount}\"")
    src = tmp_path / f"r-{encoding}-{len(rows)}.csv"
    src.write_bytes("\n".join(lines).encode(encoding))
    with Store(path) as store:
        done = import_results(store, cid, src, rejects_dir=tmp_path / "rj")
        stored = redemptions(store, cid)
    r = done.report
    assert r.rows_in == len(rows) == r.accepted + r.rejected
    rejected = (set(read_rejects(r.rejects_file)["line"].astype(int)) if r.rejects_file
                else set())
    kept = set(stored.loc[stored["source"] == src.name, "line"].astype(int))
    assert len(rejected) == r.rejected and len(kept) == r.accepted
    assert rejected | kept == set(range(2, len(rows) + 2)) and not rejected & kept
    assert set(stored.loc[stored["source"] == src.name, "customer_id"]) <= {target[0]}

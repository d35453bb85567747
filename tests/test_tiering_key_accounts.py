"""Key accounts: gates, cap by company stage, strategic vs core, manual overrides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from tierwise.config import GateConfig, KeyAccountsConfig
from tierwise.errors import ConfigError, DataContractError
from tierwise.tiering import Scorecard, pricing_guidance, pricing_table, select_key_accounts


def accounts(n: int = 40, growth: float | list[float] = 4.0) -> pd.DataFrame:
    """``n`` accounts, a000 the biggest and best scored, revenue falling with the number."""
    revenue = np.linspace(1_000_000, 10_000, n)
    return pd.DataFrame({
        "customer_id": [f"a{i:03d}" for i in range(n)],
        "total_amount": revenue, "margin_total": revenue * 0.3,
        "growth_potential": growth if np.ndim(growth) else [growth] * n,
        "strategic_fit": 4.0,
        "market_position": 3.0, "mutual_trust": 4.0, "industry": "steel",
    })


def overrides(*rows: tuple[str, str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "action", "reason", "by", "at"])


def chosen(result) -> list[str]:
    return result.frame.loc[result.frame["key_account"], "customer_id"].tolist()


# ---- gates -----------------------------------------------------------------------------------
def test_a_very_profitable_low_growth_customer_is_gated_out() -> None:
    frame = accounts(10)
    frame.loc[0, "growth_potential"] = 1.0  # the biggest and most profitable account
    result = select_key_accounts(frame)
    row = result.frame.iloc[0]
    assert not row["key_account"]
    assert row["key_account_reason"] == "gated: growth_potential 1 < 3"
    assert row["key_account_score_revenue"] == result.frame["key_account_score_revenue"].max()
    assert pd.isna(row["key_account_rank"]) and row["key_account_type"] is None
    assert len(chosen(result)) == 9


def test_an_unrated_growth_potential_is_gated_too() -> None:
    frame = accounts(5)
    frame.loc[2, "growth_potential"] = np.nan
    result = select_key_accounts(frame)
    assert result.frame.loc[2, "key_account_reason"] == "gated: growth_potential not rated"


def test_gates_are_structured_data_with_a_fixed_set_of_operators() -> None:
    cfg = KeyAccountsConfig(gates=[
        GateConfig(column="industry", op="in", value=["tobacco", "gambling"]),
        GateConfig(column="mutual_trust", op="<=", value=2, if_null="pass")])
    frame = accounts(6)
    frame.loc[1, "industry"] = "tobacco"
    frame.loc[2, "mutual_trust"] = 2.0
    frame.loc[3, "mutual_trust"] = np.nan
    reasons = select_key_accounts(frame, cfg).frame["key_account_reason"]
    assert reasons[1] == "gated: industry tobacco in ['tobacco', 'gambling']"
    assert reasons[2] == "gated: mutual_trust 2 <= 2"
    assert not reasons[3].startswith("gated")
    with pytest.raises(ValidationError, match="'<' compares numbers"):
        GateConfig(column="industry", op="<", value="steel")
    with pytest.raises(ValidationError):
        GateConfig(column="x", op="=~", value=1)
    with pytest.raises(ValidationError, match="needs a list"):
        GateConfig(column="x", op="in", value=1)


def test_a_gate_on_an_absent_column_is_an_error_unless_it_may_be_skipped() -> None:
    frame = accounts(5).drop(columns=["growth_potential"])
    with pytest.raises(ConfigError, match="'region'.*available columns"):
        select_key_accounts(frame, KeyAccountsConfig(
            gates=[GateConfig(column="region", op="==", value="east")]))
    result = select_key_accounts(frame)  # the default growth gate is skipped, and says so
    assert result.report.skipped_gates == ["growth_potential < 3.0"]
    assert any("skipped" in w for w in result.report.warnings)


# ---- cap -------------------------------------------------------------------------------------
def test_a_mature_company_names_at_most_thirty() -> None:
    result = select_key_accounts(accounts(40))
    assert result.report.cap == 30 and len(chosen(result)) == 30
    assert result.frame.loc[30, "key_account_reason"] == "cap: rank 31 of 30"
    assert result.frame.loc[0, "key_account_reason"].startswith("rank 1 of 30 by selection score")


def test_a_young_company_names_fewer_than_six() -> None:
    result = select_key_accounts(accounts(40), KeyAccountsConfig(company_stage="young"))
    assert result.report.cap == 5 and len(chosen(result)) == 5


def test_max_accounts_overrides_the_stage_cap() -> None:
    cfg = KeyAccountsConfig(company_stage="young", max_accounts=8)
    assert len(chosen(select_key_accounts(accounts(40), cfg))) == 8
    assert len(chosen(select_key_accounts(accounts(40), KeyAccountsConfig(max_accounts=0)))) == 0


def test_the_highest_scores_take_the_seats() -> None:
    frame = accounts(12)
    result = select_key_accounts(frame, KeyAccountsConfig(max_accounts=4))
    top = result.frame.sort_values("key_account_score", ascending=False)["customer_id"][:4]
    assert sorted(chosen(result)) == sorted(top)


# ---- kinds and pricing -------------------------------------------------------------------------
def test_strategic_versus_core_by_growth_potential() -> None:
    frame = accounts(4, growth=[5.0, 4.0, 3.0, 3.5])
    result = select_key_accounts(frame)
    assert result.frame["key_account_type"].tolist() == ["strategic", "strategic", "core", "core"]
    cfg = KeyAccountsConfig(strategic_min=5)
    assert select_key_accounts(frame, cfg).frame["key_account_type"].tolist()[:2] == [
        "strategic", "core"]
    assert "break-even" in pricing_guidance("strategic")
    assert "optimal margins" in pricing_guidance("core")
    assert "保本" in pricing_guidance("strategic", "zh")
    assert pricing_table("zh")["name"].tolist() == ["战略客户", "核心客户"]
    mine = KeyAccountsConfig.model_validate({"pricing": {"core": {"en": "list price"}}})
    assert pricing_guidance("core", config=mine) == "list price"
    assert pricing_guidance("core", "zh", config=mine) == pricing_guidance("core", "zh")


# ---- manual overrides --------------------------------------------------------------------------
def test_a_manual_add_of_a_gated_customer_makes_it_a_key_account_and_takes_a_seat() -> None:
    frame = accounts(10)
    frame.loc[9, "growth_potential"] = 1.0
    extra = overrides(("a009", "add", "opens the EU market", "王经理", "2026-10-01"))
    result = select_key_accounts(frame, KeyAccountsConfig(company_stage="young"), extra)
    assert "a009" in chosen(result) and len(chosen(result)) == 5
    assert result.frame.loc[9, "key_account_reason"] == (
        "manual add by 王经理 on 2026-10-01: opens the EU market "
        "(overrides gate: growth_potential 1 < 3)")
    assert result.frame.loc[9, "key_account_type"] == "core"
    assert result.report.manual_adds == 1 and result.report.automatic == 4
    assert result.frame.loc[4, "key_account_reason"] == (
        "cap: rank 5 of 4 (1 seat(s) taken by manual adds)")


def test_manual_adds_beyond_the_cap_are_kept_and_reported() -> None:
    extra = overrides(*[(f"a03{i}", "add", "board decision", "CEO", "2026-09-30")
                        for i in range(7)])
    result = select_key_accounts(accounts(40), KeyAccountsConfig(company_stage="young"), extra)
    assert len(chosen(result)) == 7 and result.report.automatic == 0
    assert result.report.cap_exceeded_by == 2
    assert any("exceed the cap of 5 by 2" in w for w in result.report.warnings)


def test_a_manual_remove_is_never_a_key_account_and_frees_its_seat() -> None:
    extra = overrides(("a000", "remove", "in dispute", "李总", "2026-10-02"))
    result = select_key_accounts(accounts(10), KeyAccountsConfig(max_accounts=3), extra)
    assert chosen(result) == ["a001", "a002", "a003"]
    assert result.frame.loc[0, "key_account_reason"] == (
        "manual remove by 李总 on 2026-10-02: in dispute")
    zh = select_key_accounts(accounts(10), KeyAccountsConfig(max_accounts=3), extra, lang="zh")
    assert zh.frame.loc[0, "key_account_reason"] == "李总 于 2026-10-02 手动移除：in dispute"


def test_the_latest_override_of_a_customer_wins() -> None:
    extra = overrides(("a001", "remove", "paused", "李总", "2026-10-05"),
                      ("a001", "add", "first try", "王经理", "2026-09-01"))
    result = select_key_accounts(accounts(5), overrides=extra)
    assert "a001" not in chosen(result)
    assert result.report.manual_removes == 1 and result.report.manual_adds == 0


def test_an_override_of_a_customer_that_no_longer_exists_is_reported_not_an_error() -> None:
    extra = overrides(("gone", "remove", "went bankrupt", "李总", "2026-03-01"),
                      ("a001", "add", "keep", "王经理", "2026-03-01"))
    result = select_key_accounts(accounts(5), overrides=extra)
    assert [u["customer_id"] for u in result.report.unknown_overrides] == ["gone"]
    assert "a001" in chosen(result)
    assert any("gone" in w for w in result.report.warnings)


def test_malformed_overrides_are_a_data_contract_error() -> None:
    with pytest.raises(DataContractError, match="'delete'"):
        select_key_accounts(accounts(3), overrides=overrides(("a001", "delete", "", "x", "")))
    with pytest.raises(DataContractError, match="reason"):
        select_key_accounts(accounts(3), overrides=pd.DataFrame(
            {"customer_id": ["a001"], "action": ["add"]}))


# ---- the selection matrix ----------------------------------------------------------------------
def test_default_criteria_use_only_the_columns_present() -> None:
    frame = accounts(6)[["customer_id", "total_amount", "growth_potential"]]
    result = select_key_accounts(frame)
    assert [c.name for c in result.scorecard.criteria_] == ["revenue", "growth_potential"]
    assert sum(c.weight for c in result.scorecard.criteria_) == pytest.approx(1.0)
    assert len(result.report.dropped_criteria) == 4
    assert {"key_account_score_revenue", "key_account_score_flags"} <= set(result.frame.columns)


def test_a_scorecard_fitted_on_last_period_scores_this_one() -> None:
    last = accounts(10)
    card = Scorecard(KeyAccountsConfig().criteria).fit(last)
    now = accounts(10)
    now["total_amount"] = now["total_amount"] * 200  # all grew past last period's maximum
    result = select_key_accounts(now, scorecard=card)
    assert result.scorecard is card
    assert (result.frame["key_account_score_revenue"] == 25.0).all()


def test_chinese_reasons() -> None:
    result = select_key_accounts(accounts(40), lang="zh")
    assert result.frame.loc[30, "key_account_reason"] == "超出名额：排名第 31，名额 30"
    assert result.frame.loc[0, "key_account_reason"].startswith("按选择矩阵得分")


# ---- small bases, lost and archived accounts ---------------------------------------------------
def graded(n: int) -> pd.DataFrame:
    return accounts(n).assign(tier="ordinary")


@pytest.mark.parametrize(("n", "cap"), [(20, 2), (60, 6), (299, 29), (300, 30), (1000, 30),
                                        (5, 1)])
def test_a_small_base_names_at_most_a_share_of_its_graded_customers(n, cap) -> None:
    result = select_key_accounts(graded(n))
    assert result.report.cap == cap == len(chosen(result))
    assert result.report.graded == n
    assert ("of " + str(n) + " graded") in result.report.cap_rule if cap < 30 \
        else result.report.cap_rule == "company_stage = mature"


def test_the_share_counts_only_graded_customers_and_is_configurable() -> None:
    frame = graded(60)
    frame.loc[30:, "tier"] = ["new", "prospect"] * 15  # 30 graded
    assert select_key_accounts(frame).report.cap == 3
    assert select_key_accounts(frame, KeyAccountsConfig(max_share=0.5)).report.cap == 15
    with pytest.raises(ValidationError):
        KeyAccountsConfig(max_share=0)


def test_lost_and_archived_accounts_are_not_candidates_unless_added_by_hand() -> None:
    frame = graded(400).assign(lifecycle_stage="active", activity_policy="maintain")
    frame.loc[0, "lifecycle_stage"] = "lost"
    frame.loc[1, "activity_policy"] = "archive"
    frame.loc[2, ["lifecycle_stage", "activity_policy"]] = ["lost", "archive"]
    result = select_key_accounts(frame)
    assert not result.frame.loc[[0, 1, 2], "key_account"].any()
    assert result.frame.loc[0, "key_account_reason"] == "gated: lost account"
    assert result.frame.loc[1, "key_account_reason"] == "gated: archived (activity policy)"
    assert result.frame.loc[2, "key_account_reason"] == \
        "gated: lost account; archived (activity policy)"
    assert chosen(result) == [f"a{i:03d}" for i in range(3, 33)]
    assert (result.report.excluded_lost, result.report.excluded_archived) == (2, 2)
    added = select_key_accounts(frame, overrides=overrides(
        ("a000", "add", "winning them back", "cfo", "2026-01-01")))
    assert "a000" in chosen(added)
    assert "overrides gate: lost account" in added.frame.loc[0, "key_account_reason"]
    zh = select_key_accounts(frame, lang="zh").frame
    assert "已流失客户" in zh.loc[0, "key_account_reason"]


# ---- the column-at-a-time reasons give what the per-row code gave (issue 16) -----------------
def _decide_per_row(ids, score, gated, adds, removes, cap):
    """The per-row decision the column form replaced (kept as the reference)."""
    added = np.array([i in adds for i in ids], dtype=bool)
    removed = np.array([i in removes for i in ids], dtype=bool)
    eligible = (gated == "") & ~added & ~removed
    seats = max(cap - int(added.sum()), 0)
    order = [i for i in np.lexsort((ids.astype(str), -score)) if eligible[i]]
    rank = np.full(len(ids), None, dtype=object)
    rank[order] = np.arange(1, len(order) + 1)
    automatic = eligible & np.array([r is not None and r <= seats for r in rank], dtype=bool)
    return {"key": added | automatic, "automatic": automatic, "added": added,
            "removed": removed, "rank": rank, "seats": seats, "score": score}


def _reasons_per_row(frame, cfg, overrides_, lang):
    """``key_account``, rank and reason (JSON and words) as the per-row code made them: a list
    per customer for its gates and status, a dict and ``json.dumps`` per reason, each reason
    worded by ``render_note``."""
    import json

    from tierwise.i18n.render import plain_number, render_note
    from tierwise.tiering import key_accounts as ka

    ids = ka.customer_ids(frame).to_numpy(dtype=object)
    card = Scorecard(cfg.criteria).fit(frame)
    scores = card.transform(frame, prefix=ka.PREFIX)
    cap, rule, graded = ka._cap(frame, cfg)
    report = ka.KeyAccountReport(cfg.company_stage, cap, rule, graded)
    gates = ka._apply_gates(frame, cfg.gates, report)
    status = [[] for _ in range(len(frame))]
    for column, value, key in (("lifecycle_stage", "lost", "ka.status.lost"),
                               ("activity_policy", "archive", "ka.status.archived")):
        if column in frame.columns:
            hit = (frame[column].astype("string") == value).fillna(False).to_numpy(dtype=bool)
            for i in np.flatnonzero(hit):
                status[i].append([key, {}])
    gated = [[["ka.gate", {"text": t}] for t in g.split("; ") if t] + s
             for g, s in zip(gates, status, strict=True)]
    adds, removes = ka._read_overrides(overrides_, set(ids), report)
    d = _decide_per_row(ids, scores[ka.PREFIX].to_numpy(dtype=float),
                        np.array(["x" if g else "" for g in gated], dtype=object), adds,
                        removes, cap)
    kinds = ka._kinds(frame, cfg, d["key"], report).to_numpy(dtype=object)
    n_added = int(d["added"].sum())
    seats = json.dumps(d["seats"])
    cap_text = ('[["ka.cap_added", {"rank": %d, "seats": ' + seats + f', "added": {n_added}}}]]'
                if n_added else '[["ka.cap", {"rank": %d, "seats": ' + seats + "}]]")
    args = []
    for i, cid in enumerate(ids):
        if not (d["removed"][i] or d["added"][i] or gated[i] or d["automatic"][i]):
            args.append(cap_text % int(d["rank"][i]))
            continue
        if d["removed"][i]:
            part = ["ka.manual_remove", ka._manual_fields(removes[cid])]
        elif d["added"][i]:
            part = ["ka.manual_add_gated", {**ka._manual_fields(adds[cid]), "gates": gated[i]}] \
                if gated[i] else ["ka.manual_add", ka._manual_fields(adds[cid])]
        elif gated[i]:
            part = ["ka.gated", {"gates": gated[i]}]
        else:
            part = ["ka.rank", {"rank": int(d["rank"][i]), "seats": d["seats"],
                                "score": plain_number(d["score"][i]), "kind": kinds[i]}]
        args.append(json.dumps([part], ensure_ascii=False))
    out = pd.DataFrame({"key_account": d["key"]}, index=frame.index)
    out["key_account_type"] = pd.Series(np.where(d["key"], kinds, None), index=frame.index,
                                        dtype=object)
    out["key_account_rank"] = pd.array(d["rank"], dtype="Int64")
    out["key_account_reason_args"] = args  # a list, as the per-row code set it
    out["key_account_reason"] = pd.Series([render_note(a, lang) for a in args],
                                          index=frame.index, dtype=object)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_the_column_reasons_are_the_per_row_reasons(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 7, 300, 4000]))
    frame = accounts(n, growth=list(rng.choice([1.0, 2.0, 4.0, 5.0, np.nan], n)))
    frame["total_amount"] = rng.choice([10.0, 500.0, 1e6], n) if seed % 2 \
        else rng.lognormal(8, 2, n)  # ties in the score when the amounts repeat
    frame["mutual_trust"] = rng.choice([1.0, 3.0, np.nan], n)
    frame["industry"] = rng.choice(["steel", "tobacco", None], n)
    frame["lifecycle_stage"] = rng.choice(["active", "lost", None], n, p=[0.8, 0.1, 0.1])
    frame["activity_policy"] = rng.choice(["keep", "archive"], n, p=[0.9, 0.1])
    frame["tier"] = rng.choice(["key", "major", "ordinary", "long_tail", "new"], n)
    frame.index = rng.permutation(n) * 3  # not a range index
    cfg = KeyAccountsConfig(
        max_accounts=[None, 3, 50, 0][seed % 4],
        gates=[GateConfig(column="growth_potential", op="<", value=3),
               GateConfig(column="industry", op="in", value=["tobacco"]),
               GateConfig(column="mutual_trust", op="<=", value=1, if_null="pass")])
    ids = frame["customer_id"].tolist()
    picks = rng.choice(n, min(n, 6), replace=False)
    rows = [(ids[i], ["add", "remove"][k % 2], f"why {k}", "ann", f"2026-0{1 + k % 3}-02")
            for k, i in enumerate(picks)] + [("nobody", "add", "", "bo", "2026-01-01")]
    ov = overrides(*rows) if seed % 3 else None
    for lang in ("en", "zh"):
        got = select_key_accounts(frame, cfg, ov, lang=lang).frame
        want = _reasons_per_row(frame, cfg, ov, lang)
        pd.testing.assert_frame_equal(got[list(want.columns)], want)

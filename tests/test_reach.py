"""What a run computes reaches the people who act on it (issue 19, item 1): the 8-class RFM
model, the problem groups, cluster profiles, pricing guidance, mean spend per 10-day bucket,
purchase likelihood and the expected next purchase, in the report (zh and en), on the customer
page, in the call list and in the campaign target list, each equal to the stored snapshot's."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from tierwise import load_config
from tierwise.i18n import name_of, t
from tierwise.lifecycle.next_purchase import expected_next_purchase
from tierwise.reports import build_report
from tierwise.runview import RunView
from tierwise.store import Store
from tierwise.tiering.key_accounts import pricing_guidance

from _web_store import client, client_class, shared_web_store

HORIZON = 90  # the demo's [value] purchase_horizon_days (the default)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_web_store(tmp_path_factory)


@pytest.fixture(scope="module")
def store(config: Path):
    with Store(load_config(config).store_path, read_only=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def snap(store: Store) -> pd.DataFrame:
    """The latest run's stored snapshot (with its words), by customer id."""
    frame = store.snapshot("latest")
    frame["next_day"] = expected_next_purchase(frame["last_purchase"],
                                               frame["expected_gap_days"]).dt.strftime("%Y-%m-%d")
    return frame.set_index("customer_id")


@pytest.fixture(scope="module")
def reports(store: Store):
    return {lang: build_report(store, lang=lang) for lang in ("zh", "en")}


@pytest.fixture(scope="module")
def admin(config: Path):
    from tierwise.web import create_app

    app = create_app(load_config(config))
    with client_class()(app):
        yield client(app, "admin")


def _same(a: object, b: object) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return a == pytest.approx(b, rel=1e-12) if isinstance(a, float) else a == b


# -- the definition and the read model -------------------------------------------------------------
def test_next_purchase_is_last_purchase_plus_own_gap_in_sql_and_python(store: Store, snap) -> None:
    view = RunView(store.con, store.run_info("latest")["run_id"])
    outlook = view.outlook().set_index("customer_id")
    assert len(outlook) == len(snap)
    dated = snap["next_day"].dropna()
    assert len(dated) > 0.8 * len(snap)
    assert (outlook.loc[dated.index, "next_purchase_expected"].dt.strftime("%Y-%m-%d")
            == dated).all()
    row = snap.dropna(subset=["expected_gap_days"]).iloc[0]
    assert pd.Timestamp(row["next_day"]) == (pd.Timestamp(row["last_purchase"]).normalize()
                                             + pd.Timedelta(days=round(row["expected_gap_days"])))
    for column in ("purchase_likelihood", "rfm_class_cn", "problem_group", "cluster_profile",
                   "key_account_type"):
        stored = snap[column].reindex(outlook.index)
        assert all(_same(a, b) for a, b in zip(outlook[column], stored, strict=True)), column
    assert view.purchase_horizon_days() == HORIZON
    one = view.outlook(["C10001"]).set_index("customer_id").loc["C10001"]
    assert all(_same(one[c], outlook.at["C10001", c]) for c in one.index)


# -- the report, in both languages ------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_rfm_classes_and_problem_groups_count_the_snapshot(reports, snap, lang) -> None:
    rfm = reports[lang]["rfm"]
    scored = snap.dropna(subset=["rfm_r", "rfm_f"])
    for key, column, family in (("classes", "rfm_class_cn", "rfm_class"),
                                ("problem_groups", "problem_group", "problem_group")):
        table = rfm.table(key)
        got = table.frame.set_index("class")
        truth = scored.dropna(subset=[column]).groupby(column)
        counts = {name_of(family, code, lang): n for code, n in truth.size().items()}
        assert got["customers"].to_dict() == counts
        likely = {name_of(family, code, lang): v
                  for code, v in truth["purchase_likelihood"].mean().items()}
        assert got["purchase_likelihood"].to_dict() == pytest.approx(likely)
        assert table.header("purchase_likelihood") == t("col.purchase_likelihood_n", lang,
                                                       n=HORIZON)
    if lang == "zh":
        assert "重要价值客户" in rfm.table("classes").frame["class"].tolist()
        assert "大额低频" in rfm.table("problem_groups").frame["class"].tolist() or \
            "高频低客单" in rfm.table("problem_groups").frame["class"].tolist()
    else:
        assert "Important value" in rfm.table("classes").frame["class"].tolist()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_key_accounts_carry_pricing_guidance(reports, snap, lang) -> None:
    key = reports[lang]["key"]
    pricing = key.table("pricing").frame
    keys = snap[snap["key_account"].fillna(False).astype(bool)]
    assert len(keys)
    for kind in ("strategic", "core"):
        row = pricing[pricing["key_account_type"] == t(f"val.{kind}", lang)].iloc[0]
        assert row["pricing"] == pricing_guidance(kind, lang)
        assert row["key_accounts"] == int((keys["key_account_type"] == kind).sum())
    listed = key.table("list").frame.set_index("customer_id")
    for cid, row in listed.iterrows():
        assert _same(row["purchase_likelihood"], snap.at[cid, "purchase_likelihood"])
        assert row["next_purchase_expected"] == snap.at[cid, "next_day"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_cluster_profiles_in_the_reports_language(reports, snap, lang) -> None:
    table = reports[lang]["segments"].table("clusters")
    frame = table.frame.set_index("cluster")
    column = "cluster_profile_zh" if lang == "zh" else "cluster_profile"
    clustered = snap.dropna(subset=["cluster"])
    truth = clustered.groupby(clustered["cluster"].astype(str))
    assert frame["customers"].to_dict() == truth.size().to_dict()
    assert frame["cluster_profile"].to_dict() == truth[column].first().to_dict()
    if lang == "zh":  # the run kept the profiles' Chinese names (its names table)
        assert all(re.search(r"[\u4e00-\u9fff]", p) for p in frame["cluster_profile"])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_attendance_shows_mean_spend_per_bucket(store: Store, reports, lang) -> None:
    section = reports[lang]["attendance"]
    spend = section.table("spend").frame.set_index("customer_id")
    sheet = store.run_table(store.run_info("latest")["run_id"], "attendance")
    bucket = "bucket_zh" if lang == "zh" else "bucket_en"
    checked = 0
    for row in sheet.dropna(subset=["mean_spend"]).itertuples():
        column = f"{row.month} {getattr(row, bucket)}"
        assert spend.at[row.customer_id, column] == pytest.approx(row.mean_spend)
        checked += 1
    assert checked > 10
    heads = [section.table("spend").header(c) for c in spend.columns]
    assert any(("上旬" if lang == "zh" else "days 1-10") in h for h in heads)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_call_list_carries_likelihood_next_purchase_and_classes(reports, snap,
                                                                       lang) -> None:
    call = reports[lang]["call"]
    checked = 0
    for key in ("warnings", "wake_up"):
        try:
            table = call.table(key)
        except KeyError:
            continue
        assert table.header("purchase_likelihood") == t("col.purchase_likelihood_n", lang,
                                                       n=HORIZON)
        assert table.header("next_purchase_expected") == t("col.next_purchase_expected", lang)
        for row in table.frame.itertuples():
            truth = snap.loc[row.customer_id]
            assert _same(row.purchase_likelihood, truth["purchase_likelihood"])
            assert row.next_purchase_expected == truth["next_day"]
            assert row.rfm_class == name_of("rfm_class", truth["rfm_class_cn"], lang)
            assert _same(row.problem_group, name_of("problem_group", truth["problem_group"],
                                                    lang))
            checked += 1
    assert checked > 5


# -- the web: customer page, calls, targets --------------------------------------------------------
def test_customer_page_shows_the_outlook(admin, snap) -> None:
    keys = snap[snap["key_account"].fillna(False).astype(bool)
                & snap["problem_group"].notna()]
    cid = (keys if len(keys) else snap[snap["key_account"].fillna(False).astype(bool)]).index[0]
    truth = snap.loc[cid]
    data = admin.get(f"/api/customers/{cid}").json()["outlook"]
    assert _same(data["purchase_likelihood"], truth["purchase_likelihood"])
    assert data["purchase_horizon_days"] == HORIZON
    assert data["next_purchase_expected"] == truth["next_day"]
    assert data["rfm_class_cn"] == truth["rfm_class_cn"]
    assert data["problem_group"] == (truth["problem_group"] or None)
    assert data["cluster_profile_zh"] == truth["cluster_profile_zh"]
    assert [(b["visits"], b["mean_spend"]) for b in data["buckets"]] == [
        (None if pd.isna(truth[f"visits_b{b}"]) else int(truth[f"visits_b{b}"]),
         None if pd.isna(truth[f"spend_b{b}"]) else pytest.approx(truth[f"spend_b{b}"]))
        for b in (1, 2, 3)]
    kind = truth["key_account_type"]
    for lang in ("zh", "en"):
        html = admin.get(f"/customers/{cid}", params={"lang": lang}).text
        card = html.split('id="outlook"', 1)[1].split("</section>", 1)[0]
        likely = re.search(r'id="outlook-likelihood" data-value="([^"]*)"', card).group(1)
        assert float(likely) == pytest.approx(truth["purchase_likelihood"])
        assert t("col.purchase_likelihood_n", lang, n=HORIZON) in card
        assert f'data-date="{truth["next_day"]}"' in card
        assert f'>{truth["next_day"]}' in card
        assert name_of("rfm_class", truth["rfm_class_cn"], lang) in card
        if truth["problem_group"]:
            assert name_of("problem_group", truth["problem_group"], lang) in card
        profile = truth["cluster_profile_zh"] if lang == "zh" else truth["cluster_profile"]
        assert profile in card
        assert pricing_guidance(kind, lang) in card
        assert t("bucket.1", lang) in card
        behind = dt.date.fromisoformat(truth["next_day"]) < dt.date(2026, 9, 30)
        assert ('id="behind-rhythm"' in card) == behind


def test_calls_carry_likelihood_and_next_purchase(admin, snap) -> None:
    data = admin.get("/api/calls").json()
    assert data["purchase_horizon_days"] == HORIZON
    rows = data["warnings"] + data["wake_up"]
    assert len(rows) > 5
    for row in rows:
        truth = snap.loc[row["customer_id"]]
        assert _same(row["purchase_likelihood"], truth["purchase_likelihood"])
        assert row["next_purchase_expected"] == truth["next_day"]
        assert row["rfm_class_cn"] == truth["rfm_class_cn"]
    for lang in ("zh", "en"):
        html = admin.get("/calls", params={"lang": lang}).text
        assert t("col.purchase_likelihood_n", lang, n=HORIZON) in html
        for table in ("calls-warnings", "calls-wake-up"):
            body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
            found = re.findall(r'<tr data-customer-id="([^"]+)".*?class="num likelihood" '
                               r'data-value="([^"]*)".*?data-date="([^"]*)"', body, re.S)
            assert found, table
            for cid, likely, day in found:
                assert float(likely) == pytest.approx(snap.at[cid, "purchase_likelihood"])
                assert day == snap.at[cid, "next_day"]


def test_target_list_carries_likelihood_and_next_purchase(admin, store: Store,
                                                          tmp_path: Path) -> None:
    from tierwise.campaigns import export_targets, get_campaign

    campaign = get_campaign(store, 1)
    truth = store.snapshot(campaign.run_id).set_index("customer_id")
    nxt = expected_next_purchase(truth["last_purchase"], truth["expected_gap_days"])
    answer = admin.get("/campaigns/1/targets.csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    written = export_targets(store, 1, out=tmp_path / "targets.csv")
    exported = list(csv.DictReader(open(written.path, encoding="utf-8-sig")))
    assert len(rows) == len(exported) == campaign.n_target > 0
    for found in (rows, exported):
        for row in found:
            cid = row["customer_id"]
            assert float(row["purchase_likelihood"]) == pytest.approx(
                truth.at[cid, "purchase_likelihood"], abs=5e-5)
            assert row["next_purchase_expected"] == nxt[cid].strftime("%Y-%m-%d")

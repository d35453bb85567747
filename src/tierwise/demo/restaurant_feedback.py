"""The restaurant demo's survey answers and complaints, with a planted story.

Drawn from their own seeded generator (``seed + 3041``: 1009 feeds the loyalty demo), after the
member and visit files, so those stay byte-identical. Both files look like the other exports
(GBK, Chinese headers, CRLF):

* ``survey.csv`` (会员卡号, 调查日期, 满意度, 评价, 口味, 服务, 环境): CSAT 1-5 answers of about a
  third of the members who visited in the last year, on or just after a visit, with aspect
  scores drawn afterwards from their own generator (``seed + 3049``);
* ``feedback.csv`` (会员卡号, 反馈日期, 渠道, 类别, 反馈内容, 是否解决): complaints and comments of
  about one member in ten, in seven categories, most older complaints resolved.

The planted story: the most valuable recent members whose main store is 上海徐家汇店 complain in
the last 60 days that the food comes slowly (category 上菜速度, texts about 上菜慢, none
resolved), they score 1-2 in the survey, and that store's other survey scores drop in the last
90 days, where the service aspect scores 1-2 while taste and setting score as at the other
stores (elsewhere each aspect follows the answer's score). The manifest names them
(``feedback_planted_customers``), the store and the keyword (``上菜``), and the lines of the
messy rows each file carries (an unknown member, an empty text, a resolved value that is not
yes/no; a score of 11).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from . import _names as N

SURVEY_HEADERS = ["会员卡号", "调查日期", "满意度", "评价"]
#: Aspect scores (1-5) each answer carries after 评价: taste, service, setting.
ASPECT_HEADERS = ["口味", "服务", "环境"]
PLANTED_ASPECT = "service"
FEEDBACK_HEADERS = ["会员卡号", "反馈日期", "渠道", "类别", "反馈内容", "是否解决"]
PLANTED_STORE = "上海徐家汇店"
PLANTED_CATEGORY = "上菜速度"
PLANTED_KEYWORD = "上菜"
FEEDBACK_CHANNELS = ("电话", "小程序", "大众点评", "门店意见簿")
#: Background complaint and comment texts per category (none mentions 上菜 but 上菜速度's few).
TEXTS = {
    "上菜速度": ("高峰期上菜有点慢", "等位时间太长了"),
    "菜品质量": ("鱼不新鲜，有腥味", "菜太咸了", "今天的红烧肉偏肥", "汤是温的不够热"),
    "服务态度": ("服务员态度冷淡", "叫了几次都没人理", "结账时收银员不耐烦"),
    "环境卫生": ("桌子没擦干净", "洗手间有异味", "餐具有水渍"),
    "价格": ("价格比以前贵了不少", "套餐分量变少了"),
    "表扬": ("服务很周到，谢谢店长", "菜品一如既往的好吃", "生日送了长寿面，很贴心"),
    "建议": ("希望增加儿童座椅", "建议推出小份菜", "希望停车能优惠"),
}
CATEGORY_P = np.array([0.06, 0.26, 0.2, 0.12, 0.1, 0.16, 0.1])
PLANTED_TEXTS = ("上菜太慢了，等了四十分钟", "周末上菜特别慢，催了三次", "上菜慢，菜都凉了",
                 "请客吃饭上菜慢得尴尬", "上菜速度太慢，孩子都饿哭了")
SURVEY_COMMENTS = ("", "", "", "不错", "味道好", "服务好", "上菜有点慢", "环境一般")
CSAT_P = np.array([0.03, 0.07, 0.2, 0.4, 0.3])
CSAT_P_LOW = np.array([0.15, 0.3, 0.3, 0.15, 0.1])  # the planted store, last 90 days


def _member_table(visits: pd.DataFrame, ids: np.ndarray, ndays: int) -> pd.DataFrame:
    """Per member who visited in the last year: spend in it, last visit day, main store."""
    recent = visits[visits["t"] > ndays - 1 - 365]
    stores = np.array([s for s, _ in N.STORES])
    days = recent.drop_duplicates(["m", "t", "store"]).groupby(["m", "store"]).size()
    main = days.reset_index().sort_values(["m", 0, "store"], ascending=[True, False, True]) \
        .drop_duplicates("m").set_index("m")["store"]
    out = recent.groupby("m").agg(spend=("amount", "sum"), last=("t", "max"))
    out["store"] = stores[main.reindex(out.index).to_numpy()]
    out["id"] = ids[out.index.to_numpy()]
    return out.sort_values(["spend", "id"], ascending=[False, True])


def _planted(members: pd.DataFrame, ndays: int) -> pd.DataFrame:
    """The planted complainers: of the top fifth by spend, active in the last 60 days, those of
    the planted store (at least two: the store's best spenders if the top fifth has fewer)."""
    top = members.head(max(2, len(members) // 5))
    pick = top[(top["store"] == PLANTED_STORE) & (top["last"] >= ndays - 60)].head(10)
    if len(pick) < 2:
        pick = members[members["store"] == PLANTED_STORE].head(2)
    return pick


def _survey(rng: np.random.Generator, visits: pd.DataFrame, members: pd.DataFrame,
            planted: pd.DataFrame, start: date, ndays: int) -> tuple[pd.DataFrame, list[int]]:
    answering = members[rng.random(len(members)) < 0.35]
    rows = []
    recent = visits[visits["t"] > ndays - 1 - 365]
    by_member = recent.groupby("m")["t"].apply(np.array)
    for m, row in answering.iterrows():
        days = by_member[m]
        for t in np.sort(rng.choice(days, min(len(days), rng.integers(1, 4)), replace=False)):
            t = int(min(t + rng.integers(0, 3), ndays - 1))
            low = row["store"] == PLANTED_STORE and t >= ndays - 90
            score = int(rng.choice(5, p=CSAT_P_LOW if low else CSAT_P)) + 1
            comment = SURVEY_COMMENTS[rng.integers(len(SURVEY_COMMENTS))]
            rows.append((row["id"], start + timedelta(days=t), str(score), comment))
    for _, row in planted.iterrows():  # the complainers answer too, and say so
        for _ in range(int(rng.integers(1, 3))):
            t = ndays - 1 - int(rng.integers(0, 60))
            rows.append((row["id"], start + timedelta(days=t), str(int(rng.integers(1, 3))),
                         "上菜太慢"))
    frame = pd.DataFrame(rows, columns=SURVEY_HEADERS)
    messy = pd.DataFrame([("86000001", start + timedelta(days=ndays - 20), "4", "不错"),
                          (answering["id"].iloc[0], start + timedelta(days=ndays - 10), "11",
                           "")], columns=SURVEY_HEADERS)
    return _with_messy(frame, messy, "调查日期")


def _with_aspects(rng: np.random.Generator, survey: pd.DataFrame, members: pd.DataFrame,
                  start: date, ndays: int) -> pd.DataFrame:
    """口味, 服务 and 环境 beside each answer's score: mostly the score, a point off in three
    answers of ten; but at the planted store in the last 90 days service scores 1 or 2 (the
    food comes slowly) while taste and setting score as anywhere else.
    ``rng`` is the aspects' own generator, so the other columns stay as they were."""
    n = len(survey)
    score = pd.to_numeric(survey["满意度"]).clip(1, 5).to_numpy()
    store = survey["会员卡号"].map(members.set_index("id")["store"]).to_numpy()
    day = np.array([(date.fromisoformat(d) - start).days for d in survey["调查日期"]])
    low = (store == PLANTED_STORE) & (day >= ndays - 90)
    taste, service, setting = (np.clip(score + rng.choice([-1, 0, 1], n, p=[0.15, 0.7, 0.15]),
                                       1, 5) for _ in range(3))
    # the planted store: food and room as good as anywhere, service slow
    taste = np.where(low, rng.choice(5, n, p=CSAT_P) + 1, taste)
    setting = np.where(low, rng.choice(5, n, p=CSAT_P) + 1, setting)
    service = np.where(low, rng.choice([1, 2], n, p=[0.6, 0.4]), service)
    return survey.assign(**{h: v.astype(int).astype(str) for h, v in
                            zip(ASPECT_HEADERS, (taste, service, setting), strict=True)})


def _feedback(rng: np.random.Generator, members: pd.DataFrame, planted: pd.DataFrame,
              start: date, ndays: int) -> tuple[pd.DataFrame, list[int]]:
    cats = list(TEXTS)
    writers = members[(rng.random(len(members)) < 0.12) & ~members.index.isin(planted.index)]
    rows = []
    for _, row in writers.iterrows():
        cat = cats[int(rng.choice(len(cats), p=CATEGORY_P))]
        t = int(rng.integers(0, min(365, ndays)))
        day = ndays - 1 - t
        text = TEXTS[cat][rng.integers(len(TEXTS[cat]))]
        comment = cat in ("表扬", "建议")
        resolved = "" if comment else ("是" if rng.random() < (0.9 if t > 30 else 0.5) else "否")
        rows.append((row["id"], start + timedelta(days=day),
                     FEEDBACK_CHANNELS[rng.integers(len(FEEDBACK_CHANNELS))], cat, text,
                     resolved))
    for _, row in planted.iterrows():
        for _ in range(int(rng.integers(1, 3))):
            day = ndays - 1 - int(rng.integers(0, 60))
            rows.append((row["id"], start + timedelta(days=day),
                         FEEDBACK_CHANNELS[rng.integers(len(FEEDBACK_CHANNELS))],
                         PLANTED_CATEGORY, PLANTED_TEXTS[rng.integers(len(PLANTED_TEXTS))], "否"))
    frame = pd.DataFrame(rows, columns=FEEDBACK_HEADERS)
    some = members["id"].iloc[-1]
    late = start + timedelta(days=ndays - 5)
    messy = pd.DataFrame([("86000002", late, "电话", "菜品质量", "菜太咸了", "否"),
                          (some, late, "小程序", "服务态度", "", "否"),
                          (some, late, "电话", "价格", "价格比以前贵了不少", "也许")],
                         columns=FEEDBACK_HEADERS)
    return _with_messy(frame, messy, "反馈日期")


def _with_messy(frame: pd.DataFrame, messy: pd.DataFrame, date_col: str
                ) -> tuple[pd.DataFrame, list[int]]:
    """Rows sorted by date (messy rows among them); the messy rows' lines (header = line 1)."""
    both = pd.concat([frame.assign(_messy=False), messy.assign(_messy=True)], ignore_index=True)
    both = both.sort_values([date_col, "会员卡号"], kind="stable", ignore_index=True)
    lines = (np.flatnonzero(both["_messy"].to_numpy()) + 2).tolist()
    both[date_col] = [d.isoformat() for d in both[date_col]]
    return both.drop(columns="_messy"), lines


def write_restaurant_feedback(out: Path, *, visits: pd.DataFrame, ids: np.ndarray, start: date,
                              ndays: int, seed: int) -> dict[str, list]:
    """Write ``survey.csv`` and ``feedback.csv`` into ``out``; returns their manifest entries.

    ``visits`` holds the clean visits (``m`` member index, ``t`` day index, ``store`` index,
    ``amount``) of :func:`tierwise.demo.generate_restaurant`, ``ids`` the member ids.
    """
    rng = np.random.default_rng(seed + 3041)  # not 1009: the loyalty demo draws from that
    members = _member_table(visits, ids, ndays)
    planted = _planted(members, ndays)
    survey, survey_messy = _survey(rng, visits, members, planted, start, ndays)
    feedback, feedback_messy = _feedback(rng, members, planted, start, ndays)
    survey = _with_aspects(np.random.default_rng(seed + 3049), survey, members, start, ndays)
    for name, frame in (("survey.csv", survey), ("feedback.csv", feedback)):
        frame.to_csv(out / name, index=False, encoding="gbk", lineterminator="\r\n")
    return {"feedback_planted_customers": sorted(planted["id"].tolist()),
            "feedback_planted_store": [PLANTED_STORE],
            "feedback_planted_category": [PLANTED_CATEGORY],
            "feedback_planted_keyword": [PLANTED_KEYWORD],
            "survey_planted_aspect": [PLANTED_ASPECT],
            "survey_messy_lines": survey_messy, "feedback_messy_lines": feedback_messy}


__all__ = ["ASPECT_HEADERS", "FEEDBACK_HEADERS", "PLANTED_KEYWORD", "PLANTED_STORE",
           "SURVEY_HEADERS", "write_restaurant_feedback"]

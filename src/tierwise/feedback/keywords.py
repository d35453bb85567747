"""Simple keyword grouping of comments, in Chinese (segmented with jieba) and English.

Each comment becomes a set of keywords: Chinese runs are cut into words by jieba, English into
lower-case words; single Chinese characters, English words under three letters, numbers and
stop words are dropped. ``[feedback] synonyms`` folds words into one keyword (上菜慢 =
['上菜', '出餐慢', 'slow service']): a comment containing any of the words counts once for the
keyword, and the Chinese words are taught to the segmenter so that it keeps them whole.

A comment counts once per keyword; the keyword table (:func:`keyword_table`) counts comments per
keyword within each group (everyone, tier, store, category), so a planted story such as "key
customers of one store complain that the food comes slowly" shows as that store's top keyword.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

KEYWORD_COLUMNS = ["by", "group", "keyword", "comments", "share", "complaints",
                   "open_complaints", "example"]
#: The groupings of the keyword table, in the order they are shown.
KEYWORD_BY: tuple[str, ...] = ("all", "tier", "store", "category")

ZH_STOPWORDS = frozenset(
    "我们 你们 他们 她们 它们 自己 这个 那个 这些 那些 这里 那里 什么 怎么 为什么 因为 所以 但是 "
    "而且 然后 如果 虽然 还是 或者 就是 只是 不是 没有 已经 可以 可能 应该 需要 一个 一些 一下 一次 "
    "有点 非常 特别 比较 真的 感觉 觉得 今天 昨天 这次 上次 每次 时候 还有 东西 问题 希望 下次 "
    "我们的 你们的 一直 还是 太多 很多 一点 不错 挺好".split())
EN_STOPWORDS = frozenset(
    "the and for but not you your our are was were has have had this that with from they them "
    "their there then than too very just really also again when what which who why how all any "
    "some more most other into out over only own same can could would should will shall did "
    "does done been being about after before because while here its it's i'm we're don't "
    "didn't isn't wasn't it's get got one two time times today yesterday visit".split())

_RUNS = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z][A-Za-z']*")


@lru_cache(maxsize=8)
def _segmenter(words: tuple[str, ...]) -> Any:
    """A jieba tokenizer taught ``words`` (cached: building one reads jieba's dictionary)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary loading at DEBUG to stderr
    tokenizer = jieba.Tokenizer()
    for word in words:
        tokenizer.add_word(word, freq=100_000)
    return tokenizer


@dataclass(frozen=True)
class _Rules:
    """What one keyword grouping needs, built once: the folded synonyms, the phrases among
    them, the stop words and the taught segmenter."""

    folded: dict[str, str]
    phrases: tuple[str, ...]
    stop: frozenset[str]
    tokenizer: Any


@lru_cache(maxsize=32)
def _rules(synonyms: tuple[tuple[str, tuple[str, ...]], ...], stopwords: tuple[str, ...]
           ) -> _Rules:
    folded: dict[str, str] = {}
    for keyword, words in synonyms:
        for word in (keyword, *words):
            folded.setdefault(word.casefold(), keyword)
    return _Rules(folded, tuple(w for w in folded if " " in w),
                  frozenset(w.casefold() for w in stopwords),
                  _segmenter(tuple(sorted(w for w in folded if _is_chinese(w)))))


def _rules_of(synonyms: dict[str, list[str]] | None, stopwords: Iterable[str]) -> _Rules:
    return _rules(tuple((k, tuple(v)) for k, v in sorted((synonyms or {}).items())),
                  tuple(sorted(stopwords)))


def comment_keywords(text: Any, *, synonyms: dict[str, list[str]] | None = None,
                     stopwords: Iterable[str] = ()) -> list[str]:
    """The keywords of one comment, in order of first appearance, each once.

    Examples
    --------
    >>> comment_keywords("上菜太慢了，等了四十分钟", synonyms={"上菜慢": ["上菜", "太慢"]})
    ['上菜慢', '四十分钟']
    >>> comment_keywords("Slow service, the waiter forgot our order")
    ['slow', 'service', 'waiter', 'forgot', 'order']
    """
    return _keywords(text, _rules_of(synonyms, stopwords))


def _keywords(text: Any, rules: _Rules) -> list[str]:
    if text is None or (isinstance(text, float) and text != text):
        return []
    text = str(text)
    found: list[str] = []
    lower = text.casefold()
    phrases = sorted((lower.find(w), w) for w in rules.phrases if w in lower)
    for _, phrase in phrases:  # a phrase ("slow service"): matched as written, then taken out
        found.append(rules.folded[phrase])
        text = re.sub(re.escape(phrase), " ", text, flags=re.IGNORECASE)
    for run in _RUNS.findall(text):
        tokens = rules.tokenizer.cut(run) if _is_chinese(run) else [run]
        for token in tokens:
            key = token.casefold()
            if key in rules.folded:
                found.append(rules.folded[key])
            elif key not in rules.stop and _content_word(key):
                found.append(key)
    return list(dict.fromkeys(found))


def _is_chinese(text: str) -> bool:
    return bool(text) and "\u4e00" <= text[0] <= "\u9fff"


def _content_word(word: str) -> bool:
    if _is_chinese(word):
        return len(word) >= 2 and word not in ZH_STOPWORDS
    return len(word) >= 3 and word not in EN_STOPWORDS


def keyword_table(feedback: pd.DataFrame, *, synonyms: dict[str, list[str]] | None = None,
                  stopwords: Iterable[str] = (), top: int = 10,
                  min_mentions: int = 2) -> pd.DataFrame:
    """The most frequent keywords of the comments, overall and per tier, store and category.

    Parameters
    ----------
    feedback
        One row per comment: ``text``, ``complaint`` (bool), ``open`` (bool) and the group
        columns ``tier``, ``store``, ``category`` (a missing column leaves its rows out).
    synonyms, stopwords
        ``[feedback] synonyms`` and ``stopwords`` (module notes).
    top
        Keywords kept per group, most comments first (ties: the keyword in sort order).
    min_mentions
        A keyword needs at least this many comments in the group.

    Returns
    -------
    pandas.DataFrame
        :data:`KEYWORD_COLUMNS`: ``by`` (:data:`KEYWORD_BY`), ``group``, ``keyword``,
        ``comments`` (comments of the group with the keyword), ``share`` (of the group's
        comments), ``complaints``, ``open_complaints`` and one ``example`` comment (the last
        one given).
    """
    if not len(feedback):
        return pd.DataFrame(columns=KEYWORD_COLUMNS)
    rules = _rules_of(synonyms, stopwords)
    frame = feedback.reset_index(drop=True).assign(all="all")
    texts = frame["text"].astype(object).where(frame["text"].notna(), None)
    known = {t: _keywords(t, rules) for t in dict.fromkeys(texts)}  # each text cut once
    words = [known[t] for t in texts]
    rows = np.repeat(np.arange(len(frame)), [len(w) for w in words])
    long = frame.iloc[rows].assign(keyword=[w for ws in words for w in ws])
    parts = []
    for by in (b for b in KEYWORD_BY if b in frame):
        sizes = frame.groupby(by).size()
        stats = long.groupby([by, "keyword"]).agg(
            comments=("text", "size"), complaints=("complaint", "sum"),
            open_complaints=("open", "sum"), example=("text", "last")).reset_index()
        stats = stats[stats["comments"] >= min_mentions]
        stats = stats.sort_values([by, "comments", "keyword"], ascending=[True, False, True])
        stats = stats.groupby(by, sort=False).head(top).rename(columns={by: "group"})
        stats["share"] = (stats["comments"].to_numpy(dtype=float)
                          / sizes.reindex(stats["group"].to_numpy()).to_numpy(dtype=float))
        parts.append(stats.assign(by=by))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if not len(out):
        return pd.DataFrame(columns=KEYWORD_COLUMNS)
    for column in ("comments", "complaints", "open_complaints"):
        out[column] = out[column].astype("int64")
    return out[KEYWORD_COLUMNS]


__all__ = ["KEYWORD_BY", "KEYWORD_COLUMNS", "comment_keywords", "keyword_table"]

"""RFM segment maps, as data.

Two tables live here, both plain lists of dicts so a config file can replace them:

* :data:`DEFAULT_SEGMENT_MAP`: the common English 11-segment map (Champions ... Lost) as rules over
  the R score and the FM score (the mean of the F and M scores, so 1, 1.5, ..., 5): the widely used
  "R against FM average" grid. Rules are tried in order and the **first match wins**; a customer no
  rule matches falls into the catch-all :data:`DEFAULT_SEGMENT` ("Other" / "其他"), so every
  customer gets exactly one segment. The default map covers every (R, FM) cell, so with it "Other"
  never occurs; it only catches gaps in a custom map.
* :data:`EIGHT_CLASSES`: the Chinese 8-class model (重要价值客户 ...), one row per combination of
  R, F, M being "high" or "low" against the population centre (see
  :class:`tierwise.models.rfm.RFMEightClass`).

The default grid (R rows, FM columns; FM = (F + M) / 2):

=====  ==============  ==================  ===============  ================
R      FM 1-1.5        FM 2-2.5            FM 3-3.5         FM 4-5
=====  ==============  ==================  ===============  ================
5      New             Potential Loyalist  Loyal            Champions
4      Promising       Potential Loyalist  Loyal            Champions
3      About to Sleep  Need Attention      Loyal            Loyal
2      Hibernating     At Risk             At Risk          At Risk
1      Lost            At Risk             At Risk          Cannot Lose Them
=====  ==============  ==================  ===============  ================

It follows the usual published grid (Putler's "RFM analysis" R/FM table), with its overlapping
ranges resolved so that every segment is reachable and the rules do not depend on luck.

References
----------
.. [1] Putler, "RFM Analysis For Successful Customer Segmentation" (the 11 segments and their
   R / FM ranges).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError
from ..i18n import pair

SCORE_MIN, SCORE_MAX = 1, 5

#: The catch-all segment (English, Chinese) for customers no rule matches.
DEFAULT_SEGMENT: tuple[str, str] = ("Other", "其他")

#: The common English 11-segment map; ``r`` and ``fm`` are inclusive [low, high] score ranges.
DEFAULT_SEGMENT_MAP: list[dict[str, Any]] = [
    {"name_en": "Champions", "name_zh": "冠军客户", "r": [4, 5], "fm": [4, 5]},
    {"name_en": "Loyal", "name_zh": "忠诚客户", "r": [3, 5], "fm": [3, 5]},
    {"name_en": "Potential Loyalist", "name_zh": "潜在忠诚客户", "r": [4, 5], "fm": [2, 2.5]},
    {"name_en": "New", "name_zh": "新客户", "r": [5, 5], "fm": [1, 1.5]},
    {"name_en": "Promising", "name_zh": "有潜力客户", "r": [4, 4], "fm": [1, 1.5]},
    {"name_en": "Need Attention", "name_zh": "需要关注客户", "r": [3, 3], "fm": [2, 2.5]},
    {"name_en": "About to Sleep", "name_zh": "即将沉睡客户", "r": [3, 3], "fm": [1, 1.5]},
    {"name_en": "Cannot Lose Them", "name_zh": "不能失去的客户", "r": [1, 1], "fm": [4, 5]},
    {"name_en": "At Risk", "name_zh": "有流失风险客户", "r": [1, 2], "fm": [2, 5]},
    {"name_en": "Hibernating", "name_zh": "休眠客户", "r": [2, 2], "fm": [1, 1.5]},
    {"name_en": "Lost", "name_zh": "已流失客户", "r": [1, 1], "fm": [1, 1.5]},
]

#: The Chinese 8-class model: R / F / M "high" (True) or "low" (False) against the centre.
#: "R high" means bought recently (fewer days since the last purchase than the centre).
EIGHT_CLASSES: list[dict[str, Any]] = [
    {"name_zh": "重要价值客户", "name_en": "Important value", "r": True, "f": True, "m": True},
    {"name_zh": "重要发展客户", "name_en": "Important to develop", "r": True, "f": False, "m": True},
    {"name_zh": "重要保持客户", "name_en": "Important to keep", "r": False, "f": True, "m": True},
    {"name_zh": "重要挽留客户", "name_en": "Important to win back", "r": False, "f": False,
     "m": True},
    {"name_zh": "一般价值客户", "name_en": "General value", "r": True, "f": True, "m": False},
    {"name_zh": "一般发展客户", "name_en": "General to develop", "r": True, "f": False, "m": False},
    {"name_zh": "一般保持客户", "name_en": "General to keep", "r": False, "f": True, "m": False},
    {"name_zh": "一般挽留客户", "name_en": "General to win back", "r": False, "f": False,
     "m": False},
]

#: The two problem groups the seeds call out: code -> (Chinese label, English label).
PROBLEM_GROUPS: dict[str, tuple[str, str]] = {
    g: pair("problem_group", g) for g in ("frequent_small", "big_rare")}

_RULE_KEYS = ("name_en", "name_zh", "r", "fm")


def _range_problems(where: str, key: str, value: Any) -> list[str]:
    """Problems with one ``[low, high]`` score range (empty list when it is valid)."""
    ok_shape = (isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value))
    if not ok_shape:
        return [f"{where}.{key} = {value!r}: give a range [low, high] of two numbers"]
    lo, hi = value
    problems = []
    if not (SCORE_MIN <= lo <= SCORE_MAX and SCORE_MIN <= hi <= SCORE_MAX):
        problems.append(f"{where}.{key} = {list(value)!r}: both ends must lie within "
                        f"{SCORE_MIN}..{SCORE_MAX} (scores are {SCORE_MIN}-{SCORE_MAX})")
    if lo > hi:
        problems.append(f"{where}.{key} = {list(value)!r}: low end is above high end")
    return problems


def _rule_problems(where: str, rule: Any) -> list[str]:
    """Problems with one rule of a segment map."""
    if not isinstance(rule, Mapping):
        return [f"{where} = {rule!r}: each rule is a table with keys {', '.join(_RULE_KEYS)}"]
    problems = [f"{where}: missing key '{k}'" for k in _RULE_KEYS if k not in rule]
    problems += [f"{where}: unknown key '{k}' (valid keys: {', '.join(_RULE_KEYS)})"
                 for k in rule if k not in _RULE_KEYS]
    for key in ("name_en", "name_zh"):
        if key in rule and (not isinstance(rule[key], str) or not rule[key].strip()):
            problems.append(f"{where}.{key} = {rule[key]!r}: give a non-empty name")
    for key in ("r", "fm"):
        if key in rule:
            problems += _range_problems(where, key, rule[key])
    return problems


def validate_segment_map(rules: Any, *, default: tuple[str, str] = DEFAULT_SEGMENT,
                         source: str = "segment_map") -> list[dict[str, Any]]:
    """Check a segment map and return it normalised (names stripped, ranges as float pairs).

    Parameters
    ----------
    rules
        A list of ``{name_en, name_zh, r: [lo, hi], fm: [lo, hi]}`` tables, tried in order.
    default
        The catch-all segment (English, Chinese); no rule may reuse its names.
    source
        How to name the map in messages (e.g. the config key).

    Returns
    -------
    list of dict
        The rules, normalised.

    Raises
    ------
    ConfigError
        Listing every problem: not a list, missing or unknown keys, empty names, ranges outside
        1..5 or reversed, duplicate English or Chinese names.

    Examples
    --------
    >>> validate_segment_map([{"name_en": "Best", "name_zh": "最佳", "r": [5, 5], "fm": [5, 5]}])
    [{'name_en': 'Best', 'name_zh': '最佳', 'r': (5.0, 5.0), 'fm': (5.0, 5.0)}]
    """
    if isinstance(rules, str | bytes) or not isinstance(rules, Sequence) or not rules:
        raise ConfigError(f"{source} = {rules!r} is not a segment map",
                          "give a non-empty list of rules {name_en, name_zh, r: [lo, hi], "
                          "fm: [lo, hi]}")
    problems: list[str] = []
    for i, rule in enumerate(rules):
        problems += _rule_problems(f"{source}[{i}]", rule)
    for key, reserved in (("name_en", default[0]), ("name_zh", default[1])):
        seen: dict[str, int] = {}
        for i, rule in enumerate(rules):
            name = rule.get(key) if isinstance(rule, Mapping) else None
            if not isinstance(name, str):
                continue
            name = name.strip()
            if name == reserved:
                problems.append(f"{source}[{i}].{key} = {name!r} is the catch-all segment's name; "
                                "choose another name")
            elif name in seen:
                problems.append(f"{source}[{i}].{key} = {name!r} repeats {source}[{seen[name]}]; "
                                "names must be unique")
            seen.setdefault(name, i)
    if problems:
        raise ConfigError(f"{source} has {len(problems)} problem(s):\n  " + "\n  ".join(problems),
                          problems=problems)
    return [{"name_en": r["name_en"].strip(), "name_zh": r["name_zh"].strip(),
             "r": (float(r["r"][0]), float(r["r"][1])),
             "fm": (float(r["fm"][0]), float(r["fm"][1]))} for r in rules]


__all__ = ["DEFAULT_SEGMENT", "DEFAULT_SEGMENT_MAP", "EIGHT_CLASSES", "PROBLEM_GROUPS",
           "validate_segment_map"]

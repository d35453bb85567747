"""Segment schemes: ordered rules, first match wins, every customer in exactly one segment.

A scheme is an ordered list of segments. Each segment has a name (and optionally a Chinese name),
a rule in the language of :mod:`tierwise.segments.rules` (or ``default = true``), an **owner** (the
senior manager answerable for its profit and loss) and a **playbook** (offer, product, channel,
message: what front-line staff do with these customers).

Assignment, for every customer:

1. the segments are tried in order and the **first** whose rule matches wins;
2. a customer no rule matches falls into the **default** segment. A scheme has at most one
   default and it must be the last segment; when a scheme has none, an automatic catch-all
   "Other" / "其他" (``segments.other_name`` / ``other_name_zh``) is appended, so nobody is left out;
3. when the winning segment has ``children`` (a finer scheme), the same happens inside it. The
   result names the full path, ``"华东/大客户"``, and its first level, ``"华东"``.

So each customer lands in exactly one leaf of the tree. A nested segment without its own owner or
playbook inherits its parent's (a playbook field by field).

Examples
--------
>>> import pandas as pd
>>> scheme = Scheme.from_config({"segment": [
...     {"name": "华东", "rule": 'region = "华东"', "owner": "王总",
...      "children": [{"name": "大客户", "rule": "total_amount >= 5000"}]},
...     {"name": "其他地区", "default": True, "owner": "李总"}]})
>>> frame = pd.DataFrame({"region": ["华东", "华东", "华北"], "total_amount": [8000, 100, 9000]})
>>> scheme.assign(frame)["segment"].tolist()
['华东/大客户', '华东/Other', '其他地区']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..config import SegmentConfig, SegmentsConfig, _describe, scheme_problems
from ..errors import ConfigError, DataContractError
from .rules import Rule, parse_rule

OUTPUT_COLUMNS = ("segment", "segment_level1", "segment_zh", "segment_owner", "playbook")


@dataclass(frozen=True)
class Playbook:
    """What front-line staff do: which offer, which product, which channel, which message."""

    offer: str | None = None
    product: str | None = None
    channel: str | None = None
    message: str | None = None

    def line(self) -> str:
        """The playbook as one line, ``offer / product / channel / message`` (blanks left out)."""
        parts = (self.offer, self.product, self.channel, self.message)
        return " / ".join(p.strip() for p in parts if p and p.strip())

    def over(self, parent: Playbook) -> Playbook:
        """This playbook with its blank fields taken from ``parent``."""
        return Playbook(*(mine or theirs for mine, theirs in zip(
            (self.offer, self.product, self.channel, self.message),
            (parent.offer, parent.product, parent.channel, parent.message), strict=True)))


@dataclass(frozen=True)
class Segment:
    """One segment: ``rule`` is None for the default (catch-all) segment."""

    name: str
    rule: Rule | None = None
    name_zh: str | None = None
    owner: str | None = None
    playbook: Playbook = field(default_factory=Playbook)
    children: tuple[Segment, ...] = ()
    automatic: bool = False

    @property
    def is_default(self) -> bool:
        return self.rule is None


@dataclass(frozen=True)
class SegmentNode:
    """A segment in place: its full path and what it inherited (owner, playbook)."""

    path: str
    path_zh: str
    level1: str
    depth: int
    owner: str | None
    playbook: Playbook
    segment: Segment

    @property
    def is_leaf(self) -> bool:
        return not self.segment.children


# ---- building ---------------------------------------------------------------------------------

def _segment(cfg: SegmentConfig, scheme: SegmentsConfig) -> Segment:
    rule = None if cfg.rule is None else parse_rule(cfg.rule)
    children = _level(cfg.children, scheme, top=False) if cfg.children else ()
    pb = cfg.playbook
    return Segment(name=cfg.name, rule=rule, name_zh=cfg.name_zh, owner=cfg.owner,
                   playbook=Playbook(pb.offer, pb.product, pb.channel, pb.message),
                   children=children)


def _level(segments: Sequence[SegmentConfig], scheme: SegmentsConfig, *, top: bool
           ) -> tuple[Segment, ...]:
    built = [_segment(s, scheme) for s in segments]
    if not built or not built[-1].is_default:
        built.append(Segment(name=scheme.other_name, name_zh=scheme.other_name_zh,
                             owner=scheme.other_owner if top else None, automatic=True))
    return tuple(built)


def _as_config(spec: Any) -> SegmentsConfig:
    if isinstance(spec, SegmentsConfig):
        return spec
    data = {"segment": list(spec)} if isinstance(spec, Sequence) else dict(spec)
    try:
        return SegmentsConfig.model_validate(data)
    except ValidationError as exc:
        problems = [f"segments: {_describe(e)}" for e in exc.errors()]
        raise ConfigError(f"the segment scheme has {len(problems)} problem(s):\n  "
                          + "\n  ".join(problems), problems=problems) from None


# ---- the scheme ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scheme:
    """An ordered, exclusive segment scheme. Build one with :meth:`from_config`.

    Attributes
    ----------
    name : str
        The scheme's name, used in messages.
    segments : tuple of Segment
        The top-level segments in order; the last is the default (automatic when none was given).
    separator : str
        Joins nested names into a path.
    pnl_revenue : str
        The revenue column :func:`segment_pnl` uses by default.
    """

    name: str
    segments: tuple[Segment, ...]
    separator: str = "/"
    pnl_revenue: str = "total_amount"

    @classmethod
    def from_config(cls, spec: SegmentsConfig | Mapping[str, Any] | Sequence[Mapping[str, Any]]
                    ) -> Scheme:
        """Build a scheme from ``[segments]`` config, a mapping like it, or a list of segments.

        Raises
        ------
        ConfigError
            When the scheme has no segment, or a name, default or rule is wrong (all listed).
        """
        cfg = _as_config(spec)
        if not cfg.segment:
            raise ConfigError(f"scheme {cfg.name!r} has no segment",
                              "add at least one [[segments.segment]] with a name and a rule")
        return cls(cfg.name, _level(cfg.segment, cfg, top=True), cfg.separator,
                   cfg.pnl_revenue)

    def nodes(self) -> list[SegmentNode]:
        """Every segment in place, depth first in scheme order (parents before children)."""
        out: list[SegmentNode] = []

        def walk(segments: tuple[Segment, ...], parent: SegmentNode | None) -> None:
            for seg in segments:
                zh = seg.name_zh or seg.name
                node = SegmentNode(
                    path=f"{parent.path}{self.separator}{seg.name}" if parent else seg.name,
                    path_zh=f"{parent.path_zh}{self.separator}{zh}" if parent else zh,
                    level1=parent.level1 if parent else seg.name,
                    depth=parent.depth + 1 if parent else 1,
                    owner=seg.owner or (parent.owner if parent else None),
                    playbook=seg.playbook.over(parent.playbook) if parent else seg.playbook,
                    segment=seg)
                out.append(node)
                walk(seg.children, node)

        walk(self.segments, None)
        return out

    def leaves(self) -> list[SegmentNode]:
        """The segments a customer can end in (paths of the ``segment`` column), in order."""
        return [n for n in self.nodes() if n.is_leaf]

    def problems(self, frame: pd.DataFrame) -> list[ConfigError]:
        """Every rule problem with ``frame`` (unknown columns, mismatched types), all at once."""
        kinds: dict[str, str] = {}
        return [problem for node in self.nodes() if node.segment.rule is not None
                for problem in node.segment.rule.problems(
                    frame, where=f"segment {node.path!r} of scheme {self.name!r}", kinds=kinds)]

    def validate(self, frame: pd.DataFrame) -> None:
        """Check every rule against ``frame`` before anything runs; raise one ConfigError."""
        problems = self.problems(frame)
        if len(problems) == 1:
            raise problems[0]
        if problems:
            texts = [str(p) for p in problems]
            raise ConfigError(f"scheme {self.name!r} has {len(problems)} rule problems with this "
                              "data:\n" + "\n".join(texts), problems=texts)

    def codes(self, frame: pd.DataFrame) -> np.ndarray:
        """For each row, the index of its leaf in :meth:`leaves` (validated first)."""
        self.validate(frame)
        kinds: dict[str, str] = {}
        leaf_index = {id(n.segment): i for i, n in enumerate(self.leaves())}
        codes = np.full(len(frame), -1, dtype=np.int64)

        def place(segments: tuple[Segment, ...], remaining: np.ndarray) -> None:
            for seg in segments:
                if seg.rule is None:
                    hit = remaining.copy()
                else:
                    hit = remaining & seg.rule.evaluate(frame, kinds=kinds).to_numpy()
                remaining &= ~hit
                if seg.children:
                    place(seg.children, hit)
                else:
                    codes[hit] = leaf_index[id(seg)]

        place(self.segments, np.ones(len(frame), dtype=bool))
        return codes

    def assign(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with the segment columns added (replacing any already there).

        Returns
        -------
        pandas.DataFrame
            A copy of ``frame`` plus ``segment`` (full path, e.g. ``"华东/大客户"``),
            ``segment_level1`` (``"华东"``), ``segment_zh`` (the path in Chinese names),
            ``segment_owner`` and ``playbook`` (one line: offer / product / channel / message).
        """
        leaves = self.leaves()
        codes = self.codes(frame)

        def column(values: list[Any]) -> np.ndarray:
            return np.asarray(values, dtype=object)[codes]

        return frame.assign(
            segment=column([n.path for n in leaves]),
            segment_level1=column([n.level1 for n in leaves]),
            segment_zh=column([n.path_zh for n in leaves]),
            segment_owner=column([n.owner for n in leaves]),
            playbook=column([n.playbook.line() for n in leaves]),
        )


SchemeSpec = Scheme | SegmentsConfig | Mapping[str, Any] | Sequence[Mapping[str, Any]]


def assign_segments(frame: pd.DataFrame, scheme: SchemeSpec) -> pd.DataFrame:
    """Put every customer of ``frame`` in exactly one segment of ``scheme``.

    Parameters
    ----------
    frame
        The per-customer frame (features and attributes).
    scheme
        A :class:`Scheme`, or anything :meth:`Scheme.from_config` accepts.

    Returns
    -------
    pandas.DataFrame
        See :meth:`Scheme.assign`.
    """
    if not isinstance(scheme, Scheme):
        scheme = Scheme.from_config(scheme)
    return scheme.assign(frame)


# ---- segment P&L --------------------------------------------------------------------------------

def _pnl_labels(frame: pd.DataFrame, column: str, scheme: Scheme | None) -> pd.DataFrame:
    """One row per segment label with its Chinese name, owner and playbook (scheme order)."""
    if scheme is not None and column in ("segment", "segment_level1"):
        nodes = [n for n in scheme.nodes()
                 if (n.depth == 1 if column == "segment_level1" else n.is_leaf)]
        rows = [(n.path, n.path_zh, n.owner, n.playbook.line()) for n in nodes]
        return pd.DataFrame(rows, columns=["segment", "segment_zh", "owner", "playbook"])
    keys = pd.Series(frame[column].unique(), name="segment")
    out = pd.DataFrame({"segment": keys})
    for source, target in (("segment_zh", "segment_zh"), ("segment_owner", "owner"),
                           ("playbook", "playbook")):
        if column == "segment" and source in frame.columns:
            first = frame.groupby(column, dropna=False, sort=False)[source].first()
            out[target] = keys.map(first).to_numpy(dtype=object)
        else:
            out[target] = None
    return out


def segment_pnl(frame: pd.DataFrame, column: str = "segment", *, scheme: Scheme | None = None,
                revenue: str | None = None, margin: str = "margin_total") -> pd.DataFrame:
    """The profit and loss of each segment: customers, revenue, margin, shares, owner.

    Parameters
    ----------
    frame
        Customers with a segment column (see :meth:`Scheme.assign`).
    column
        ``"segment"`` (leaves) or ``"segment_level1"`` (first level), or any label column.
    scheme
        When given, rows follow the scheme's order, empty segments show with zeros, and owners
        and playbooks come from the scheme.
    revenue
        The revenue column; default: the scheme's ``pnl_revenue``, else ``segments.pnl_revenue``.
    margin
        The margin column; missing values are left out of the sum (NaN when none is known).

    Returns
    -------
    pandas.DataFrame
        ``segment, segment_zh, owner, playbook, customers, customer_share, revenue,
        revenue_share, margin``. Customers and revenue sum to the frame's totals.
    """
    if revenue is None:
        revenue = (scheme.pnl_revenue if scheme is not None
                   else SegmentsConfig.model_fields["pnl_revenue"].default)
    for needed in (column, revenue):
        if needed not in frame.columns:
            raise DataContractError(f"segment P&L needs the column {needed!r}, which the frame "
                                    "lacks", "assign segments first, or set segments.pnl_revenue")
    grouped = frame.groupby(column, dropna=False, sort=False)
    margins = (frame[margin].astype(float) if margin in frame.columns
               else pd.Series(np.nan, index=frame.index))
    stats = pd.DataFrame({
        "customers": grouped.size(),
        "revenue": grouped[revenue].sum(min_count=0).astype(float),
        "margin": margins.groupby(frame[column], dropna=False, sort=False).sum(min_count=1),
    })
    out = _pnl_labels(frame, column, scheme)
    extra = [k for k in stats.index if k not in set(out["segment"])]
    if extra:
        out = pd.concat([out, pd.DataFrame({"segment": extra})], ignore_index=True)
    out = out.join(stats, on="segment")
    out["customers"] = out["customers"].fillna(0).astype(np.int64)
    out["revenue"] = out["revenue"].fillna(0.0)
    total_customers, total_revenue = len(frame), float(frame[revenue].sum())
    out["customer_share"] = out["customers"] / total_customers if total_customers else np.nan
    out["revenue_share"] = out["revenue"] / total_revenue if total_revenue else np.nan
    if scheme is None:
        out = out.sort_values("revenue", ascending=False, kind="stable", ignore_index=True)
    return out[["segment", "segment_zh", "owner", "playbook", "customers", "customer_share",
                "revenue", "revenue_share", "margin"]]


__all__ = ["Scheme", "Segment", "SegmentNode", "Playbook", "assign_segments", "segment_pnl",
           "scheme_problems", "OUTPUT_COLUMNS"]

"""How regularly a business's customers come back: the Wheat & Morrison (1990) estimate.

Take each customer's last two gaps between purchase days, ``t1`` (the one-but-last, feature
``gap_prev``) and ``t2`` (the last, ``gap_last``), and form ``M = t1 / (t1 + t2)``. If gaps are
Erlang-k with a customer-specific rate, ``M`` is ``Beta(k, k)`` whatever the rate, with variance
``1 / (4 (2k + 1))``; solving for ``k`` gives the estimate ``k = 1 / (8 var(M)) - 1/2`` over the
customers with at least three purchase days. ``k`` about 1 means purchases at random (Poisson)
times, the assumption of BG/NBD and Pareto/NBD; 2 or more a rhythm; below 1 bursts.

References
----------
Wheat, R. D. and Morrison, D. G. (1990). "Estimating purchase regularity with two interpurchase
times". Journal of Marketing Research 27(1), 87-93. BTYDplus ``estimateRegularity(method="wheat")``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from tierwise.errors import DataContractError

MIN_CUSTOMERS = 30


@dataclass(frozen=True)
class Regularity:
    """The estimate, how many customers it rests on, and what it means in a sentence."""

    k: float | None
    n_customers: int
    kind: str            # "rhythm", "random", "bursts" or "unknown"
    message_en: str
    message_zh: str

    def to_dict(self) -> dict:
        return asdict(self)


def estimate_regularity(summary: pd.DataFrame, min_customers: int = MIN_CUSTOMERS) -> Regularity:
    """Wheat & Morrison's ``k`` from the ``gap_prev`` and ``gap_last`` columns of a summary.

    Customers without two gaps (NULL/NaN) are left out; below ``min_customers`` usable customers
    (or without any spread in ``M``) the estimate is ``None`` and the sentence says why.

    Examples
    --------
    >>> df = pd.DataFrame({"gap_prev": [7.0, 6, 8, 7] * 10, "gap_last": [7.0, 8, 6, 7] * 10})
    >>> reg = estimate_regularity(df)
    >>> round(reg.k), reg.kind
    (24, 'rhythm')
    """
    missing = [c for c in ("gap_prev", "gap_last") if c not in summary.columns]
    if missing:
        raise DataContractError(f"the regularity estimate needs column(s) {missing}",
                                "pass the features of tierwise.features (gap_prev, gap_last)")
    t1 = pd.to_numeric(summary["gap_prev"], errors="coerce").to_numpy(dtype=float)
    t2 = pd.to_numeric(summary["gap_last"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(t1) & np.isfinite(t2) & (t1 + t2 > 0)
    n = int(ok.sum())
    m = t1[ok] / (t1[ok] + t2[ok])
    var = float(np.var(m, ddof=1)) if n > 1 else 0.0
    if n < min_customers or var <= 0:
        why = (f"only {n} customers with three or more purchase days (< {min_customers})"
               if n < min_customers else "the last two gaps are always in the same proportion")
        return Regularity(None, n, "unknown", f"regularity not estimated: {why}",
                          f"未估计规律性：{_zh_reason(n, min_customers)}")
    k = 1.0 / (8.0 * var) - 0.5
    return Regularity(k, n, *_describe(k))


def _zh_reason(n: int, min_customers: int) -> str:
    if n < min_customers:
        return f"消费三天及以上的客户只有 {n} 位（少于 {min_customers}）"
    return "最近两次间隔的比例完全相同"


def _describe(k: float) -> tuple[str, str, str]:
    shown = f"{k:.1f}" if k < 10 else f"{k:.0f}"
    if k >= 1.5:
        return ("rhythm",
                f"your customers come back on a rhythm (k about {shown}): a long silence means "
                "more than the Poisson models (BG/NBD, Pareto/NBD) assume; the rhythm models "
                "(MBG/CNBD-k, BG/CNBD-k) are built for this",
                f"您的客户按节奏回访（k 约为 {shown}）：长时间不来比泊松模型（BG/NBD、Pareto/NBD）"
                "估计的更说明问题，节奏模型（MBG/CNBD-k、BG/CNBD-k）正适合这种情况")
    if k >= 0.75:
        return ("random",
                f"your customers buy at irregular times (k about {shown}, as random arrivals): "
                "the Poisson models' assumption holds",
                f"您的客户消费时间没有固定节奏（k 约为 {shown}，接近随机到达）：泊松模型的假设成立")
    return ("bursts",
            f"your customers buy in bursts (k about {shown}, below 1): several purchases close "
            "together, then long pauses",
            f"您的客户集中消费（k 约为 {shown}，小于 1）：几次消费挨得很近，然后长时间停顿")

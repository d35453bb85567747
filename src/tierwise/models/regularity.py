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
from tierwise.i18n import t

MIN_CUSTOMERS = 30


@dataclass(frozen=True)
class Regularity:
    """The estimate, how many customers it rests on, and what it means (a catalogue code).

    ``kind`` is ``rhythm``, ``random``, ``bursts`` or ``unknown``; ``reason`` says why an
    ``unknown`` was not estimated (``few`` customers or ``no_spread``). :meth:`message` words it.
    """

    k: float | None
    n_customers: int
    kind: str
    reason: str | None = None
    min_customers: int = MIN_CUSTOMERS

    def message(self, lang: str = "en") -> str:
        """What the estimate means, in a sentence (``zh`` or ``en``)."""
        if self.k is None:
            return t(f"regularity.{self.reason}", lang, n=self.n_customers,
                     min=self.min_customers)
        shown = f"{self.k:.1f}" if self.k < 10 else f"{self.k:.0f}"
        return t(f"regularity.{self.kind}", lang, k=shown)

    @property
    def message_en(self) -> str:
        return self.message("en")

    @property
    def message_zh(self) -> str:
        return self.message("zh")

    def to_dict(self) -> dict:
        """The estimate with its sentence in both languages (for ``--json``)."""
        return {**asdict(self), "message_en": self.message_en, "message_zh": self.message_zh}


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
        return Regularity(None, n, "unknown", "few" if n < min_customers else "no_spread",
                          min_customers)
    k = 1.0 / (8.0 * var) - 0.5
    kind = "rhythm" if k >= 1.5 else "random" if k >= 0.75 else "bursts"
    return Regularity(k, n, kind, None, min_customers)

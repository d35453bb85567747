"""What to do with each customer: the policy, on the probability that they buy again.

:func:`assign_policies` turns the activity state and the purchase probability into a policy, the
basis of the probability and a reason in words, first rule that applies:

1. no purchase yet: no policy;
2. the probability of any purchase in ``[activity] policy_horizon_days`` (90) is under
   ``policy_floor`` (10 %) and the state is not normal: **archive** when buried, else
   **do not contact**;
3. the state is normal: **maintain**;
4. behind their rhythm (resting ... buried) with a probability at or above the floor: **wake up**.

Then :func:`protect_accounts`: a customer of a tier in ``protect_tiers`` (key, major) or a key
account is never silenced by rule: a would-be "do not contact" / "archive" becomes **call** (its
account manager calls to find out), and so does any such account with an early warning
(:func:`call_on_warnings`).

The probability comes from the fitted purchase model (``policy_basis = "model"``), or from the
rhythm (``"rhythm"``) when no model can be trusted (the value step fell back to the historical
rate, or its confidence is low): then from a curve of gaps missed learnt on the business's own
history one horizon back (:class:`~tierwise.lifecycle.rhythm_curve.RhythmCurve`), and only
without enough history from the formula :func:`~tierwise.lifecycle.rhythm.rhythm_probability`.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from .._json import json_figures
from ..config import ActivityConfig, Config
from .policies import POLICY_BASES
from .rhythm import rhythm_probability
from ._frames import _num, _require, _section

SILENCED = ("do_not_contact", "archive")


def policy_basis(value_info: dict[str, Any] | None) -> tuple[str, str]:
    """``("model" | "rhythm", why)`` from the value step's run-level info."""
    info = value_info or {}
    method, level = info.get("method"), info.get("confidence")
    if not method or method == "historical-rate" or info.get("model") is None:
        why = info.get("fallback_reason") or "no purchase model was fitted"
        return "rhythm", f"no purchase model to trust ({why}): probability from the rhythm"
    if level == "low":
        return "rhythm", (f"the purchase model ({info.get('model')}) has low confidence: "
                          "probability from the rhythm")
    return "model", f"the fitted purchase model ({info.get('model')}, confidence {level})"


def _reasons(frame: pd.DataFrame, policy: np.ndarray, prob: pd.Series, basis: str,
             cfg: ActivityConfig) -> list[str | None]:
    """Per customer, the figures behind the policy as stored reason parts (a JSON list of
    ``[catalogue key, fields]``; :func:`tierwise.i18n.render.render_reason` words them)."""
    h, floor = cfg.policy_horizon_days, cfg.policy_floor
    nan = pd.Series(np.nan, index=frame.index)
    missed = _num(frame, "gaps_missed") if "gaps_missed" in frame else nan
    gap = _num(frame, "expected_gap_days") if "expected_gap_days" in frame else nan
    alive = _num(frame, "p_alive") if "p_alive" in frame else nan
    # the JSON of each row, as json.dumps(parts) writes it, built a column at a time
    chance = (f', "horizon": {json.dumps(h)}, "basis": {json.dumps(basis)}, '
              f'"floor": {json.dumps(floor)}}}]')
    p_txt, m_txt, g_txt, a_txt = (json_figures(np.asarray(v, dtype=float), nonfinite="null")
                                  for v in (prob, missed, gap, alive))
    has_m, has_a = np.isfinite(missed.to_numpy(dtype=float)), np.isfinite(alive.to_numpy(dtype=float))
    out = np.full(len(policy), None, dtype=object)
    rows = np.flatnonzero(pd.notna(np.asarray(policy, dtype=object)))
    if not len(rows):
        return out.tolist()

    def column(texts: list[str]) -> np.ndarray:
        return np.array(texts, dtype=object)[rows]

    rhythm = np.where(has_m[rows], ', ["reason.rhythm", {"missed": ' + column(m_txt) + ', "gap": '
                      + column(g_txt) + "}]", "")
    alive_part = np.where(has_a[rows], ', ["reason.alive", {"p": ' + column(a_txt) + "}]", "")
    out[rows] = '[["reason.chance", {"p": ' + column(p_txt) + chance + rhythm + alive_part + "]"
    return out.tolist()


def _prepend(args: pd.Series, part: list[Any]) -> pd.Series:
    return args.map(lambda a: json.dumps([part, *json.loads(a)]))


def assign_policies(frame: pd.DataFrame, config: Config | ActivityConfig | None = None, *, basis: str = "model",
                    curve: Any = None) -> pd.DataFrame:
    """Policy, its probability, basis and reason per customer (rules in the module notes).

    Parameters
    ----------
    frame
        ``activity_state`` and, for ``basis = "model"``, ``policy_probability`` (the fitted model's
        P(any purchase in the policy horizon)); for ``"rhythm"``, ``days_since_last`` and
        ``expected_gap_days``. ``gaps_missed`` and ``p_alive`` go into the reason when present.
    config
        The whole Config or an :class:`~tierwise.config.ActivityConfig`.
    basis
        ``"model"`` or ``"rhythm"`` (see :func:`policy_basis`).
    curve
        For ``basis = "rhythm"``: a fitted :class:`~tierwise.lifecycle.rhythm_curve.RhythmCurve`
        (the chance of a purchase by gaps missed, learnt from the business's own history; needs
        ``frequency`` and ``gaps_missed``). Without one, the formula
        :func:`~tierwise.lifecycle.rhythm.rhythm_probability` is used.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with ``activity_policy``, ``policy_probability``, ``policy_basis``,
        ``policy_reason_code`` (``chance``) and ``policy_reason_args`` (the figures, as JSON
        parts the catalogue words: :func:`tierwise.i18n.render.render_reason`).

    Examples
    --------
    >>> f = pd.DataFrame({"activity_state": ["normal", "dead", "dead", None],
    ...                   "policy_probability": [0.6, 0.3, 0.04, None]})
    >>> assign_policies(f)["activity_policy"].tolist()
    ['maintain', 'wake_up', 'do_not_contact', None]
    """
    cfg = _section(config, "activity", ActivityConfig)
    if basis not in POLICY_BASES:
        raise ValueError(f"basis={basis!r}; valid: {', '.join(POLICY_BASES)}")
    _require(frame, ["activity_state"], "the customer frame")
    if basis == "rhythm":
        if curve is not None:
            prob = curve.predict(frame)
        else:
            _require(frame, ["days_since_last", "expected_gap_days"], "the customer frame")
            prob = rhythm_probability(frame["days_since_last"], frame["expected_gap_days"],
                                      cfg.policy_horizon_days)
    else:
        _require(frame, ["policy_probability"], "the customer frame")
        prob = _num(frame, "policy_probability")
    state = frame["activity_state"].astype("object")
    has = state.notna().to_numpy()
    low = (prob < cfg.policy_floor).to_numpy()
    normal = (state == "normal").to_numpy()
    policy = np.select([~has, low & ~normal & (state == "buried").to_numpy(), low & ~normal,
                        normal], [None, "archive", "do_not_contact", "maintain"],
                       default="wake_up")
    out = frame.copy()
    out["activity_policy"] = pd.Series(policy, index=frame.index, dtype="object")
    out["policy_probability"] = prob.where(has).to_numpy()
    out["policy_basis"] = np.where(has, basis, None)
    out["policy_reason_args"] = _reasons(out, policy, prob, basis, cfg)
    out["policy_reason_code"] = np.where(has, "chance", None)
    return out


def _protected(frame: pd.DataFrame, cfg: ActivityConfig) -> pd.Series:
    mask = pd.Series(False, index=frame.index)
    if "tier" in frame:
        mask |= frame["tier"].isin(cfg.protect_tiers).fillna(False).astype(bool)
    if "key_account" in frame:
        mask |= frame["key_account"].fillna(False).astype(bool)
    return mask


def _recorded(frame: pd.DataFrame) -> pd.Series:
    """Customers archived by an outcome staff recorded (lost, moved away): no rule undoes it."""
    if "policy_reason_code" not in frame:
        return pd.Series(False, index=frame.index)
    return (frame["policy_reason_code"] == "outcome").fillna(False).astype(bool)


def protect_accounts(frame: pd.DataFrame, config: Config | ActivityConfig | None = None
                     ) -> pd.DataFrame:
    """Key and major accounts (``protect_tiers``, or ``key_account``) are never silenced by rule.

    Their would-be "do not contact" or "archive" becomes ``call``, the reason says so; an archive
    that comes from a recorded outcome (lost to a competitor, moved away) stays.
    """
    cfg = _section(config, "activity", ActivityConfig)
    out = frame.copy()
    hit = _protected(out, cfg) & out["activity_policy"].isin(SILENCED) & ~_recorded(out)
    out.loc[hit, "policy_reason_args"] = _prepend(out.loc[hit, "policy_reason_args"],
                                                  ["reason.protected", {}])
    out.loc[hit, "policy_reason_code"] = "protected"
    out.loc[hit, "activity_policy"] = "call"
    return out


def call_on_warnings(frame: pd.DataFrame, warnings: pd.DataFrame | None,
                     config: Config | ActivityConfig | None = None) -> pd.DataFrame:
    """A protected account with an early warning gets a ``call``, the warning in the reason."""
    cfg = _section(config, "activity", ActivityConfig)
    if warnings is None or not len(warnings) or "customer_key" not in warnings:
        return frame
    first = warnings.drop_duplicates("customer_key").set_index("customer_key")
    out = frame.copy()
    warned = out["customer_key"].isin(first.index) & _protected(out, cfg) \
        & out["activity_policy"].notna() & (out["activity_policy"] != "call") & ~_recorded(out)
    fields = [c for c in WARNING_FIELDS if c in first]
    # one assignment for every warned row (a cell at a time costs ms each on Arrow columns)
    hit = out.loc[warned, ["customer_key", "policy_reason_args"]]
    # the warning's reason part of the warned customers only (not of every warning's row)
    rows = first.loc[first.index.isin(hit["customer_key"]), fields]
    parts = {k: ["reason.warning", {c: _plain(v) for c, v in zip(fields, values, strict=True)}]
             for k, values in zip(rows.index, rows.itertuples(index=False, name=None),
                                  strict=True)}
    out.loc[warned, "policy_reason_args"] = [
        json.dumps([parts[key], *json.loads(args)])
        for key, args in zip(hit["customer_key"], hit["policy_reason_args"], strict=True)]
    out.loc[warned, "policy_reason_code"] = "warning"
    out.loc[warned, "activity_policy"] = "call"
    return out


#: The figures of an early warning its sentence is worded from (:mod:`tierwise.i18n.render`).
WARNING_FIELDS = ("kind", "period", "current", "reference", "change_pct", "window")


def _plain(x: Any) -> Any:
    if isinstance(x, (np.integer, np.floating)):
        x = x.item()
    return None if isinstance(x, float) and not np.isfinite(x) else x


__all__ = ["assign_policies", "call_on_warnings", "policy_basis", "protect_accounts", "SILENCED"]

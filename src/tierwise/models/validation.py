"""Checking value models: calibration/holdout splits, holdout errors, model choice, confidence.

The test of a purchase model is whether it forecasts purchases it has not seen: fit on the
orders up to ``calibration_end``, predict the ``(calibration_end, holdout_end]`` window, compare
with what happened. :func:`select_model` uses that comparison to choose between the purchase
models of :data:`MODELS` and, when two are close, their average (``model="auto"``);
:func:`fit_confidence` grades a single fit.

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting Your Customers the Easy Way",
Marketing Science 24(2) (figure 4 and table 2: holdout forecasts by calibration frequency).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tierwise.errors import DataContractError, FitError
from tierwise.models.betageo import BetaGeo
from tierwise.models.cnbd import BGCNBD, MBGCNBD, ModifiedBetaGeo
from tierwise.models.ensemble import Blend, blend_members
from tierwise.models.pareto_nbd import ParetoNBD

ORDER_COLUMNS = ("customer_id", "ordered_at", "amount")
MODELS = {"bgnbd": BetaGeo, "pareto": ParetoNBD, "mbgnbd": ModifiedBetaGeo,
          "bgcnbd": BGCNBD, "mbgcnbd": MBGCNBD}
BLEND_WITHIN = 0.05  # a runner-up within 5 % of the best holdout MAE is blended with it
FREQUENCY_BUCKETS = ("0", "1", "2", "3", "4", "5", "6", "7+")
DEFAULT_MIN_REPEAT_BUYERS = 200


def _purchase_days(orders: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and purchase day with the day's spend; refunds are not purchases."""
    missing = [c for c in ORDER_COLUMNS if c not in orders.columns]
    if missing:
        raise DataContractError(f"orders lack column(s) {missing}",
                                "pass canonical orders: customer_id, ordered_at, amount")
    frame = orders.loc[:, list(ORDER_COLUMNS)].copy()
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"]).dt.normalize()
    refund = frame["amount"] < 0
    if "is_refund" in orders.columns:
        refund |= orders["is_refund"].fillna(False).astype(bool)
    days = (frame[~refund].groupby(["customer_id", "ordered_at"], sort=True)["amount"].sum()
            .reset_index())
    return days


def summary_from_orders(orders: pd.DataFrame, as_of) -> pd.DataFrame:
    """Per-customer ``frequency``, ``recency``, ``T`` (days) and ``monetary_value`` as of a date.

    The same definitions as ``tierwise.features``: purchase days (refunds excluded),
    ``frequency`` = purchase days - 1, ``monetary_value`` = mean spend of the repeat purchase
    days (0 for one-time buyers). Orders after ``as_of`` are ignored.
    """
    as_of = pd.Timestamp(as_of).normalize()
    days = _purchase_days(orders)
    return _summarise(days[days["ordered_at"] <= as_of], as_of)


def _summarise(days: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    g = days.groupby("customer_id", sort=True)
    first, last = g["ordered_at"].min(), g["ordered_at"].max()
    n_days = g.size()
    first_spend = days.loc[g["ordered_at"].idxmin(), ["customer_id", "amount"]].set_index(
        "customer_id")["amount"]
    frequency = (n_days - 1).astype(float)
    repeat_spend = g["amount"].sum() - first_spend
    out = pd.DataFrame({
        "frequency": frequency,
        "recency": (last - first).dt.days.astype(float),
        "T": (as_of - first).dt.days.astype(float),
        "monetary_value": np.where(frequency > 0, repeat_spend / frequency.where(frequency > 0),
                                   0.0),
    })
    out = out.join(_gap_columns(days))
    out.index.name = "customer_id"
    return out


def _gap_columns(days: pd.DataFrame) -> pd.DataFrame:
    """``litt``, ``gap_last`` and ``gap_prev`` per customer from sorted purchase days.

    The same definitions as ``tierwise.features``: ``litt`` is the sum of the logs of the days
    between consecutive purchase days (0 without a repeat purchase), ``gap_last`` and ``gap_prev``
    the last two of those gaps (NaN when absent).
    """
    cust = days["customer_id"]
    gap = days["ordered_at"].diff().dt.days.astype(float)
    gap[cust.ne(cust.shift())] = np.nan
    frame = pd.DataFrame({"customer_id": cust, "gap": gap, "log_gap": np.log(gap)})
    g = frame.groupby("customer_id", sort=True)
    last_two = g["gap"].nth([-2, -1])
    rank = frame.loc[last_two.index].groupby("customer_id").cumcount(ascending=False)
    pick = frame.loc[last_two.index].assign(rank=rank.to_numpy())
    return pd.DataFrame({
        "litt": g["log_gap"].sum(min_count=1).fillna(0.0),
        "gap_last": pick[pick["rank"] == 0].set_index("customer_id")["gap"],
        "gap_prev": pick[pick["rank"] == 1].set_index("customer_id")["gap"],
    })


@dataclass
class CalibrationHoldout:
    """A calibration summary with what each customer did in the holdout window.

    ``summary`` has ``frequency``, ``recency``, ``T``, ``monetary_value`` as of
    ``calibration_end`` plus ``purchases_holdout`` (purchase days in the holdout) and
    ``spend_holdout`` (their spend), for every customer who bought by ``calibration_end``.
    """

    summary: pd.DataFrame
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp

    @property
    def holdout_days(self) -> int:
        return int((self.holdout_end - self.calibration_end).days)


def calibration_holdout(orders: pd.DataFrame, calibration_end, holdout_end) -> CalibrationHoldout:
    """Split orders (``customer_id``, ``ordered_at``, ``amount``) at ``calibration_end``.

    Customers whose first purchase is after ``calibration_end`` are left out: the models say
    nothing about customers not yet acquired.
    """
    cal, hold = pd.Timestamp(calibration_end).normalize(), pd.Timestamp(holdout_end).normalize()
    if not cal < hold:
        raise ValueError(f"calibration_end {cal.date()} must be before holdout_end {hold.date()}")
    days = _purchase_days(orders)
    summary = _summarise(days[days["ordered_at"] <= cal], cal)
    if summary.empty:
        raise DataContractError(f"no purchases on or before calibration_end {cal.date()}",
                                "choose a later calibration_end")
    window = days[(days["ordered_at"] > cal) & (days["ordered_at"] <= hold)]
    g = window.groupby("customer_id")
    summary["purchases_holdout"] = g.size().reindex(summary.index, fill_value=0).astype(float)
    summary["spend_holdout"] = g["amount"].sum().reindex(summary.index, fill_value=0.0)
    return CalibrationHoldout(summary, cal, hold)


def frequency_bucket(frequency: pd.Series) -> pd.Series:
    """``"0"`` .. ``"6"`` and ``"7+"`` labels of calibration frequency."""
    return pd.Series(np.where(frequency >= 7, "7+", frequency.clip(upper=7).astype(int)
                              .astype(str)), index=frequency.index, name="frequency_bucket")


@dataclass
class HoldoutReport:
    """Predicted against actual holdout purchases and spend."""

    per_customer: pd.DataFrame
    aggregate: dict
    by_frequency: pd.DataFrame


def holdout_errors(model, ch: CalibrationHoldout, spend_model=None) -> HoldoutReport:
    """Compare a model fitted on ``ch.summary`` with the holdout, per customer and in total.

    Predicted spend is expected purchases times the expected spend per purchase (the
    Gamma-Gamma conditional expectation when ``spend_model`` is given, else the customer's
    ``monetary_value``, or the repeat buyers' mean for one-time buyers).
    """
    s = ch.summary
    pred = model.expected_purchases(s, ch.holdout_days).to_numpy()
    if spend_model is not None:
        per_purchase = spend_model.conditional_expected_average_profit(s).to_numpy()
    else:
        m = s["monetary_value"].to_numpy()
        per_purchase = np.where(s["frequency"] > 0, m, m[s["frequency"] > 0].mean())
    table = pd.DataFrame({
        "frequency_bucket": frequency_bucket(s["frequency"]),
        "purchases_predicted": pred, "purchases_actual": s["purchases_holdout"],
        "spend_predicted": pred * per_purchase, "spend_actual": s["spend_holdout"],
    }, index=s.index)
    table["purchases_error"] = table["purchases_predicted"] - table["purchases_actual"]
    table["spend_error"] = table["spend_predicted"] - table["spend_actual"]
    return HoldoutReport(table, _aggregate(table, ch), _by_frequency(table))


def _aggregate(t: pd.DataFrame, ch: CalibrationHoldout) -> dict:
    def rel(pred, act):
        return float(pred / act - 1.0) if act else None

    pe, se = t["purchases_error"], t["spend_error"]
    return {
        "n_customers": len(t), "holdout_days": ch.holdout_days,
        "purchases_mae": float(pe.abs().mean()), "purchases_rmse": float(np.sqrt((pe ** 2).mean())),
        "purchases_predicted": float(t["purchases_predicted"].sum()),
        "purchases_actual": float(t["purchases_actual"].sum()),
        "purchases_total_relative_error": rel(t["purchases_predicted"].sum(),
                                              t["purchases_actual"].sum()),
        "spend_mae": float(se.abs().mean()),
        "spend_predicted": float(t["spend_predicted"].sum()),
        "spend_actual": float(t["spend_actual"].sum()),
        "spend_total_relative_error": rel(t["spend_predicted"].sum(), t["spend_actual"].sum()),
    }


def _by_frequency(t: pd.DataFrame) -> pd.DataFrame:
    g = t.groupby("frequency_bucket")
    out = pd.DataFrame({
        "n_customers": g.size(),
        "purchases_actual_mean": g["purchases_actual"].mean(),
        "purchases_predicted_mean": g["purchases_predicted"].mean(),
        "spend_actual_mean": g["spend_actual"].mean(),
        "spend_predicted_mean": g["spend_predicted"].mean(),
    })
    return out.reindex(list(FREQUENCY_BUCKETS)).dropna(how="all")


@dataclass
class Selection:
    """Outcome of :func:`select_model`: the chosen model name, why, and the numbers.

    ``metrics`` has one row per candidate (and one for the blend when it was tried);
    ``blend`` says which blend was tried and how it did (None when no two models were close).
    """

    chosen: str
    reason: str
    metrics: pd.DataFrame
    reports: dict = field(default_factory=dict)
    blend: dict | None = None

    def to_dict(self) -> dict:
        metrics = self.metrics.astype(object).where(self.metrics.notna(), None)
        return {"chosen": self.chosen, "reason": self.reason, "blend": self.blend,
                "metrics": metrics.reset_index().to_dict(orient="records")}


def make_model(name: str, penalizer: float = 0.0, time_unit: str = "days"):
    """An unfitted purchase model by name: a key of :data:`MODELS` or ``"blend:a+b"``."""
    members = blend_members(name)
    if members is None:
        if name not in MODELS:
            raise ValueError(f"model {name!r} is not one of {sorted(MODELS)}")
        return MODELS[name](penalizer=penalizer, time_unit=time_unit)
    return Blend([make_model(m, penalizer, time_unit) for m in members])


def select_model(orders: pd.DataFrame, calibration_end, holdout_end,
                 candidates: tuple[str, ...] | None = None, penalizer: float = 0.0,
                 time_unit: str = "days", blend_within: float = BLEND_WITHIN) -> Selection:
    """Fit each candidate on the calibration period; pick the lowest holdout purchase MAE.

    The criterion is the mean absolute error of per-customer purchases in the holdout, the
    quantity the sales lists act on. Candidates that fail to fit are reported, not chosen.
    Every candidate's row carries MAE, RMSE, the total bias (predicted / actual - 1), the
    log-likelihood and the fit time. When the runner-up (with different forecasts) is within
    ``blend_within`` (relative) of the best MAE, the equal-weight average of the two is tried
    too (see :mod:`tierwise.models.ensemble`) and chosen only if its MAE is lower still.

    Parameters
    ----------
    candidates
        Model names (keys of :data:`MODELS`); default all of them.

    Raises
    ------
    FitError
        When no candidate can be fitted.
    """
    ch = calibration_holdout(orders, calibration_end, holdout_end)
    rows, reports, fitted_models = [], {}, {}
    for name in candidates or tuple(MODELS):
        started = time.perf_counter()
        try:
            model = make_model(name, penalizer, time_unit).fit(ch.summary)
        except FitError as exc:
            rows.append({"model": name, "error": str(exc)})
            continue
        seconds = time.perf_counter() - started
        reports[name], fitted_models[name] = holdout_errors(model, ch), model
        rows.append(_metrics_row(name, reports[name], model.log_likelihood_, seconds))
    metrics = pd.DataFrame(rows).set_index("model")
    fitted = metrics[metrics["error"].isna()] if "purchases_mae" in metrics else metrics.iloc[:0]
    if fitted.empty:
        raise FitError("no purchase model could be fitted on the calibration period: "
                       + "; ".join(metrics["error"].astype(str)), "use the historical-rate CLV")
    maes = fitted["purchases_mae"].astype(float).sort_values(kind="stable")
    blend = _try_blend(maes, reports, fitted_models, ch, blend_within)
    if blend is not None:
        reports[blend["model"]] = blend.pop("report")
        metrics = pd.concat([metrics, pd.DataFrame([blend.pop("row")]).set_index("model")])
        maes = pd.concat([maes, pd.Series({blend["model"]: blend["purchases_mae"]})])
    chosen = str(maes.idxmin())
    others = ", ".join(f"{m} {v:.4f}" for m, v in maes.items() if m != chosen)
    reason = (f"{chosen}: lowest holdout MAE of purchases per customer "
              f"({maes[chosen]:.4f}" + (f" vs {others}" if others else "")
              + f"; {len(ch.summary)} customers, {ch.holdout_days}-day holdout after "
              f"{ch.calibration_end.date()})")
    return Selection(chosen, reason, metrics, reports, blend)


def _metrics_row(name: str, report: HoldoutReport, log_likelihood: float, seconds) -> dict:
    agg = report.aggregate
    return {"model": name, "error": None, "purchases_mae": agg["purchases_mae"],
            "purchases_rmse": agg["purchases_rmse"],
            "purchases_predicted": agg["purchases_predicted"],
            "purchases_actual": agg["purchases_actual"],
            "purchases_bias": agg["purchases_total_relative_error"],
            "log_likelihood": log_likelihood, "fit_seconds": seconds}


def _try_blend(maes: pd.Series, reports: dict, models: dict, ch: CalibrationHoldout,
               within: float) -> dict | None:
    """Equal-weight blend of the best model and the best one that forecasts differently.

    Returns None when there is no such runner-up within ``within`` of the best MAE; otherwise
    the blend's name, members, MAE, whether it won, its metrics row and holdout report.
    """
    best = maes.index[0]
    best_pred = reports[best].per_customer["purchases_predicted"].to_numpy()
    for other in maes.index[1:]:
        if maes[other] > maes[best] * (1.0 + within):
            return None
        pred = reports[other].per_customer["purchases_predicted"].to_numpy()
        if np.allclose(pred, best_pred, rtol=1e-6, atol=1e-9):
            continue  # the same forecasts (e.g. MBG/CNBD-k that chose k = 1 and MBG/NBD)
        blend = Blend([models[best], models[other]])
        report = holdout_errors(blend, ch)
        mae = report.aggregate["purchases_mae"]
        return {"model": blend.name, "members": [best, other], "weights": [0.5, 0.5],
                "purchases_mae": mae, "best_single_mae": float(maes[best]),
                "won": bool(mae < maes[best]), "report": report,
                "row": _metrics_row(blend.name, report, float("nan"), 0.0)}
    return None


def fit_confidence(model, min_repeat_buyers: int = DEFAULT_MIN_REPEAT_BUYERS,
                   max_relative_se: float = 1.0) -> tuple[str, list[str]]:
    """Grade a fitted model ``"high"``, ``"medium"`` or ``"low"`` with the reasons.

    * low: not converged; a degenerate fit (:func:`fit_degeneracy`: a parameter at the optimiser
      bound or at an extreme, standard errors unavailable or more than
      :data:`HUGE_RELATIVE_SE` times their parameter); fewer repeat buyers than
      ``min_repeat_buyers``.
    * medium: a standard error larger than ``max_relative_se`` times its parameter (wide).
    * high: none of the above.

    The default of 200 repeat buyers: on CDNOW (946 repeat buyers) the BG/NBD relative standard
    errors run from 5 % (r) to 29 % (b); they grow as ``1/sqrt(n)``, so at 200 repeat buyers the
    widest is about 65 %, still below 1, and below ~100 they pass 1 and a, b are not identified.
    """
    reasons, severe = [], False
    if not getattr(model, "converged_", False):
        reasons.append("the optimiser did not converge")
        severe = True
    degenerate = fit_degeneracy(model)
    if degenerate:
        reasons += degenerate
        severe = True
    n_repeat = getattr(model, "n_repeat_buyers_", getattr(model, "n_customers_", 0))
    if n_repeat < min_repeat_buyers:
        reasons.append(f"only {n_repeat} repeat buyers (< min_repeat_buyers={min_repeat_buyers})")
        severe = True
    se = model.standard_errors_
    wide = [f"{k} (se {se[k]:.3g} vs {v:.3g})" for k, v in model.params_.items()
            if np.isfinite(se[k]) and max_relative_se * abs(v) < se[k] <= HUGE_RELATIVE_SE * abs(v)]
    if wide:
        reasons.append("wide standard errors: " + ", ".join(wide))
    level = "low" if severe else ("medium" if wide else "high")
    return level, reasons


#: A standard error above this many times its parameter: the likelihood is flat in that direction.
HUGE_RELATIVE_SE = 10.0
#: ``|ln theta|`` beyond this (theta under 6e-6 or over 1.6e5, with the optimiser box at 18): a
#: parameter run off to an extreme the data cannot pin down (BG/NBD's a -> 0, b -> infinity:
#: nobody ever drops out, so P(alive) is 1 for everyone).
EXTREME_LOG_PARAM = 12.0


def fit_degeneracy(model, huge_relative_se: float = HUGE_RELATIVE_SE,
                   extreme_log_param: float = EXTREME_LOG_PARAM) -> list[str]:
    """Why a fitted model is degenerate (an empty list when it is not).

    A fit is degenerate when the data do not identify it, so its predictions are an artefact of
    where the optimiser stopped: a parameter at the optimiser bound (``at_bounds_``) or beyond
    ``exp(+-extreme_log_param)``; standard errors unavailable (the Hessian is not positive
    definite: a flat or saddle-shaped likelihood); or a standard error above
    ``huge_relative_se`` times its parameter (a flat likelihood along that parameter).

    Examples
    --------
    An Online Retail export gave BG/NBD ``a = 8e-7``, ``b = 23,606`` with huge standard
    errors: P(alive) was 100 % for every customer, however long their silence.
    """
    reasons = []
    params, se = model.params_, model.standard_errors_
    for name, flag in getattr(model, "at_bounds_", {}).items():
        if flag:
            reasons.append(f"parameter {name} ended at the optimiser bound: the data do not "
                           "identify it (try a penalizer)")
    extreme = [f"{k} = {v:.3g}" for k, v in params.items()
               if v > 0 and abs(np.log(v)) > extreme_log_param
               and not getattr(model, "at_bounds_", {}).get(k)]
    if extreme:
        reasons.append("parameter(s) at an extreme: " + ", ".join(extreme))
    if any(not np.isfinite(v) for v in se.values()):
        reasons.append("standard errors unavailable: the likelihood is flat or saddle-shaped")
    huge = [f"{k} (se {se[k]:.3g} vs {v:.3g})" for k, v in params.items()
            if np.isfinite(se[k]) and se[k] > huge_relative_se * abs(v)]
    if huge:
        reasons.append("huge standard errors (flat likelihood): " + ", ".join(huge))
    return reasons

"""Predicted customer lifetime value: discounted expected margin over a horizon.

DOMAIN "Value": ``CLV = sum_{t=1..H} P(alive_t) x E[purchases_t] x E[margin per purchase] / (1+d)^t``.
With BG/NBD or Pareto/NBD the product ``P(alive_t) x E[purchases_t]`` is the increment of the
conditional expectation ``E[N(0, t_k)] - E[N(0, t_(k-1))]`` (that expectation already weighs
every future path by the chance the customer is still alive). :func:`historical_rate_clv` is the
fallback for data too small to fit a model.

**Discounting.** The horizon is cut into steps of ``step_days`` (the last step may be shorter);
step ``k`` ends at ``t_k = min(k * step_days, horizon_days)`` days and its value is discounted
at its end by ``(1 + d) ** (t_k / 365)``, ``d`` the annual rate. For whole steps this is the
per-step rate ``(1 + d) ** (step_days / 365) - 1`` compounded ``k`` times (d = 10 % a year is
0.787 % per 30-day step), not ``d * step_days / 365``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tierwise.errors import DataContractError, FitError
from tierwise.i18n import MESSAGES
from tierwise.models._summary import (
    FIT_SAMPLE_SEED,
    SUMMARY_COLUMNS,
    compress,
    fit_sample_rows,
    summary_arrays,
    time_divisor,
)
from tierwise.models.gamma_gamma import GammaGamma
from tierwise.models.validation import (
    DEFAULT_MIN_REPEAT_BUYERS,
    MODELS,
    fit_confidence,
    fit_degeneracy,
    make_model,
    select_model,
)

DAYS_PER_YEAR = 365.0


def step_ends(horizon_days: float, step_days: float) -> np.ndarray:
    """Ends ``t_1 .. t_K`` (days) of the discounting steps covering ``horizon_days``."""
    if not (horizon_days > 0 and step_days > 0):
        raise ValueError(f"horizon_days and step_days must be positive, got {horizon_days!r} "
                         f"and {step_days!r}")
    n_steps = math.ceil(horizon_days / step_days - 1e-9)
    return np.minimum(np.arange(1, n_steps + 1) * float(step_days), float(horizon_days))


def discount_factors(ends_days: np.ndarray, discount_rate_annual: float) -> np.ndarray:
    """``(1 + d) ** -(t_k / 365)`` for each step end."""
    if not discount_rate_annual > -1:
        raise ValueError(f"discount_rate_annual must be > -1, got {discount_rate_annual!r}")
    return (1.0 + discount_rate_annual) ** (-np.asarray(ends_days) / DAYS_PER_YEAR)


def _aligned(value, df: pd.DataFrame, name: str) -> np.ndarray:
    """A scalar or a Series aligned on ``df.index`` as a float array."""
    if isinstance(value, pd.Series):
        out = value.reindex(df.index).to_numpy(dtype=float)
        if np.isnan(out).any():
            raise DataContractError(f"{name} has no value for {int(np.isnan(out).sum())} "
                                    "customer(s) of the summary", "align it on the same index")
        return out
    return np.full(len(df), float(value))


def _value_per_purchase(spend, df: pd.DataFrame, margin) -> np.ndarray:
    """Margin per purchase: model spend (GammaGamma) or given spend, times ``margin``."""
    if hasattr(spend, "conditional_expected_average_profit"):
        spend = spend.conditional_expected_average_profit(df)
    return _aligned(spend, df, "spend per purchase") * _aligned(margin, df, "margin")


def predicted_clv(transaction_model, spend_model_or_value_per_purchase, df: pd.DataFrame,
                  horizon_days: float, discount_rate_annual: float, step_days: float = 30,
                  margin=1.0) -> pd.Series:
    """Discounted expected margin over ``horizon_days`` per customer (see the module notes).

    Parameters
    ----------
    transaction_model
        A fitted :class:`~tierwise.models.BetaGeo` or :class:`~tierwise.models.ParetoNBD`.
    spend_model_or_value_per_purchase
        A fitted :class:`~tierwise.models.GammaGamma` (its conditional expected spend per
        purchase is used), or a number or Series (index of ``df``) of spend per purchase.
    df
        Per-customer summary: ``frequency``, ``recency``, ``T`` in days (+ ``monetary_value``
        for Gamma-Gamma).
    horizon_days, step_days
        Forecast horizon and discounting step, in days.
    discount_rate_annual
        Annual discount rate ``d`` (0.1 for 10 %).
    margin
        Gross margin rate applied to spend (number or per-customer Series); 1.0 when the spend
        figures already are margins.

    Returns
    -------
    pandas.Series
        ``clv_predicted`` on ``df.index``.

    Examples
    --------
    >>> predicted_clv(bgnbd, gg, summary, 365, 0.10, margin=0.3)  # doctest: +SKIP
    """
    per_purchase = _value_per_purchase(spend_model_or_value_per_purchase, df, margin)
    ends = step_ends(horizon_days, step_days)
    factors = discount_factors(ends, discount_rate_annual)
    x, rec, T = transaction_model._unit_arrays(df)
    comp = compress(x, rec, T)
    div = time_divisor(transaction_model.time_unit)  # days per model time unit
    weighted = np.zeros(comp.n_rows)
    previous = np.zeros(comp.n_rows)
    for end, factor in zip(ends, factors):
        cumulative = transaction_model._expected_arrays(*comp.columns, end / div)
        weighted += (cumulative - previous) * factor
        previous = cumulative
    return pd.Series(weighted[comp.inverse] * per_purchase, index=df.index,
                     name="clv_predicted")


def historical_rate_clv(df: pd.DataFrame, horizon_days: float, discount_rate_annual: float,
                        step_days: float = 30, margin=1.0, value_per_purchase=None,
                        purchase_horizon_days: float | None = None) -> pd.DataFrame:
    """The fallback CLV for small data: each customer's own history, no fitted model.

    * ``gap`` = ``recency / frequency``: the customer's mean days between purchase days.
      One-time buyers get the median gap of the repeat buyers (or the horizon if none).
    * ``p_alive = exp(-(T - recency) / gap)``: the chance a customer still buying every
      ``gap`` days on average (Poisson) would have stayed silent this long. It is held constant
      over the horizon, which is optimistic for long horizons.
    * ``rate`` = ``frequency / T`` repeat purchase days per day of tenure; one-time buyers (and
      ``T = 0``) get the pooled rate ``sum(frequency) / sum(T)``.
    * expected purchases in a step of ``dt`` days: ``p_alive x rate x dt``; the purchase
      likelihood over ``N`` days: ``p_alive x (1 - exp(-rate N))``.
    * spend per purchase: ``value_per_purchase`` if given, else ``monetary_value`` for repeat
      buyers and its mean over repeat buyers for the others. Discounting as in
      :func:`predicted_clv`.

    Returns
    -------
    pandas.DataFrame
        ``p_alive``, ``rate_per_day``, ``expected_spend``, ``clv_predicted`` and, with
        ``purchase_horizon_days``, ``expected_purchases`` and ``purchase_likelihood``.
    """
    x, rec, T = summary_arrays(df, SUMMARY_COLUMNS, error=DataContractError)
    repeat = x > 0
    gaps = rec[repeat] / x[repeat]
    default_gap = float(np.median(gaps)) if gaps.size and np.median(gaps) > 0 else horizon_days
    gap = np.full(len(x), default_gap)
    gap[repeat] = np.maximum(gaps, 1e-9)
    p_alive = np.exp(-(T - rec) / gap)
    pooled = float(x.sum() / T.sum()) if T.sum() > 0 else 0.0
    rate = np.full(len(x), pooled)
    own = repeat & (T > 0)
    rate[own] = x[own] / T[own]
    spend = _fallback_spend(df, x, value_per_purchase)
    ends = step_ends(horizon_days, step_days)
    steps = np.diff(np.concatenate([[0.0], ends]))
    discounted_days = float(steps @ discount_factors(ends, discount_rate_annual))
    clv = p_alive * rate * discounted_days * spend * _aligned(margin, df, "margin")
    out = pd.DataFrame({"p_alive": p_alive, "rate_per_day": rate, "expected_spend": spend,
                        "clv_predicted": clv}, index=df.index)
    if purchase_horizon_days is not None:
        out["expected_purchases"] = p_alive * rate * purchase_horizon_days
        out["purchase_likelihood"] = p_alive * -np.expm1(-rate * purchase_horizon_days)
    return out


def _fallback_spend(df: pd.DataFrame, x: np.ndarray, value_per_purchase) -> np.ndarray:
    if value_per_purchase is not None:
        return _aligned(value_per_purchase, df, "value_per_purchase")
    if "monetary_value" not in df.columns:
        raise DataContractError("the historical-rate CLV needs monetary_value or "
                                "value_per_purchase", "pass the summary from tierwise.features")
    m = df["monetary_value"].to_numpy(dtype=float)
    repeat = (x > 0) & np.isfinite(m)
    mean = float(m[repeat].mean()) if repeat.any() else 0.0
    return np.where(repeat, m, mean)


# --------------------------------------------------------------------------- the whole pipeline
MODEL_CHOICES = (*MODELS, "auto")
SHORT_HISTORY_DAYS = 30
_LEVELS = ("low", "medium", "high")
#: Share of repeat buyers with zero or negative repeat spend above which the run's confidence
#: drops to medium: their spend is a fallback, not a fit.
SPEND_OUTSIDE_MODEL_SHARE = 0.05
#: The per-customer ``clv_note`` texts (only customers whose values come from a fallback have
#: one). ``{model}``, ``{failed}`` and ``{why}`` are filled in.
NOTES = {code: (MESSAGES[f"clv_note.{code}"]["en"], MESSAGES[f"clv_note.{code}"]["zh"])
         for code in ("historical_rate", "model_fallback", "spend_outside_model", "spend_own_mean")}


def clv_note(code: str, lang: str = "en", **fields) -> str:
    """The short per-customer explanation of a fallback (see :data:`NOTES`)."""
    return NOTES[code][0 if lang == "en" else 1].format(**fields)


def _note_part(code: str, **fields) -> str:
    """A note as the store keeps it: JSON parts ``[[catalogue key, fields]]``."""
    return json.dumps([[f"clv_note.{code}", fields]])


def _worded_notes(parts: pd.Series, lang: str) -> pd.Series:
    """``clv_note`` in ``lang`` from the stored parts (:func:`tierwise.i18n.render.render_note`)."""
    from tierwise.i18n.render import render_notes

    return render_notes(parts, lang)


@dataclass
class ValueModelResult:
    """What :func:`fit_value_models` returns.

    ``customers`` holds the per-customer columns (index of the summary); ``info`` the run-level
    facts as a JSON-serialisable dict (method, parameters, standard errors, log-likelihood,
    confidence and reasons, model selection, degenerate fits replaced, settings).
    ``transaction_model`` is the purchase model the values come from (None for the
    historical-rate fallback): call its ``purchase_probability(summary, days)`` for another
    horizon.
    """

    customers: pd.DataFrame
    info: dict
    transaction_model: object | None = None
    spend_model: GammaGamma | None = None

    def to_dict(self) -> dict:
        return self.info


def fit_value_models(summary: pd.DataFrame, model: str = "auto", *, horizon_days: float = 365,
                     purchase_horizon_days: float = 90, discount_rate_annual: float = 0.10,
                     step_days: float = 30, margin=1.0, penalizer: float = 0.0,
                     time_unit: str = "days",
                     min_repeat_buyers: int = DEFAULT_MIN_REPEAT_BUYERS,
                     orders: pd.DataFrame | None = None,
                     holdout_days: float | None = None, lang: str = "en",
                     fit_sample: int | None = None,
                     customer_ids: pd.Series | None = None) -> ValueModelResult:
    """Fit the purchase and spend models and score every customer.

    Parameters
    ----------
    summary
        Per-customer ``frequency``, ``recency``, ``T`` (days) and ``monetary_value``.
    model
        ``"bgnbd"``, ``"pareto"``, ``"mbgnbd"``, ``"bgcnbd"``, ``"mbgcnbd"`` or ``"auto"``
        (see docs/models.md). ``"auto"`` with ``orders`` runs
        :func:`~tierwise.models.select_model` on a calibration/holdout split of the orders
        (holdout: the last ``holdout_days``, default a third of the order history, at least
        30 days) and refits the winner (a model or a blend of two) on ``summary``; without
        ``orders`` it fits every model and keeps the highest log-likelihood.
    horizon_days, discount_rate_annual, step_days, margin
        CLV horizon, annual discount rate, discounting step and gross margin rate
        (see :func:`predicted_clv`).
    purchase_horizon_days
        ``N`` of the ``expected_purchases_<N>d`` and ``purchase_likelihood_<N>d`` columns.
    penalizer, time_unit
        Passed to the purchase model.
    min_repeat_buyers
        Below this many repeat buyers no model is fitted: every customer gets the
        historical-rate CLV (:func:`historical_rate_clv`), and the reason is recorded.
    lang
        Language of ``clv_note``: ``"en"`` or ``"zh"``.
    fit_sample
        When ``summary`` has more customers than this, the purchase model is chosen and fitted
        on a seeded random sample of that many of them (:data:`FIT_SAMPLE_SEED`: the same data
        give the same sample), and every customer is scored with it. ``None``: all of them.
    customer_ids
        The customer of each ``summary`` row (aligned with it), as in ``orders["customer_id"]``:
        with ``fit_sample``, the holdout selection then reads the sampled customers' orders only.

    Returns
    -------
    ValueModelResult
        ``customers`` columns: ``p_alive``, ``expected_purchases_<N>d``,
        ``purchase_likelihood_<N>d``, ``expected_spend``, ``clv_predicted``,
        ``clv_confidence`` (low/medium/high), ``clv_method`` (``bgnbd+gg``, ``pareto+gg``,
        ``<model>+mean-spend`` when Gamma-Gamma cannot be fitted, or ``historical-rate``) and
        ``clv_note`` (why a customer's values come from a fallback, in ``lang``; NULL otherwise)
        and ``clv_note_args`` (the same as catalogue parts, what the store keeps).

    Notes
    -----
    Failing gracefully: a purchase model whose fit is degenerate (:func:`fit_degeneracy`) is
    replaced by another model whose fit is not, else by the historical-rate CLV, and
    ``info["degenerate"]`` keeps what was replaced and why. Gamma-Gamma is fitted on the repeat
    buyers with positive spend; repeat buyers whose repeat purchases net to zero or less keep
    their own mean spend (0), with a note and low confidence.
    """
    if model not in MODEL_CHOICES:
        raise ValueError(f"model={model!r} is not one of {list(MODEL_CHOICES)}")
    x, _, _ = summary_arrays(summary, SUMMARY_COLUMNS, error=DataContractError)
    if "monetary_value" not in summary.columns:
        raise DataContractError("the value models need a monetary_value column",
                                "pass the summary from tierwise.features")
    settings = {"model": model, "horizon_days": horizon_days,
                "purchase_horizon_days": purchase_horizon_days,
                "discount_rate_annual": discount_rate_annual, "step_days": step_days,
                "penalizer": penalizer, "time_unit": time_unit,
                "min_repeat_buyers": min_repeat_buyers}
    if not isinstance(margin, pd.Series):
        settings["margin"] = margin
    n_repeat = int(np.sum(x > 0))
    info = {"n_customers": len(summary), "n_repeat_buyers": n_repeat, "settings": settings,
            "degenerate": None}
    if n_repeat < min_repeat_buyers:
        reason = f"only {n_repeat} repeat buyers (< min_repeat_buyers={min_repeat_buyers})"
        return _fallback(summary, info, reason, settings, margin, lang)
    fit_on, fit_orders = _fit_sample(summary, orders, fit_sample, customer_ids)
    if len(fit_on) < len(summary):
        info["fit_sample"] = {"customers": len(fit_on), "seed": FIT_SAMPLE_SEED,
                              "setting": fit_sample}
    try:
        tm, info["selection"] = _transaction_model(fit_on, model, penalizer, time_unit,
                                                   fit_orders, holdout_days)
        tm, info["degenerate"] = _trusted_model(fit_on, tm, penalizer, time_unit)
    except FitError as exc:
        info["degenerate"] = getattr(exc, "degenerate", None)
        return _fallback(summary, info, str(exc), settings, margin, lang,
                         short=f"the {info['degenerate']['model']} fit was degenerate"
                         if info["degenerate"] else None)
    return _score(summary, tm, info, settings, margin, min_repeat_buyers, lang)


def _fit_sample(summary: pd.DataFrame, orders: pd.DataFrame | None, size: int | None,
                customer_ids: pd.Series | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The rows (and their orders) the purchase model is fitted on: all, or a seeded sample."""
    if size is None or len(summary) <= size:
        return summary, orders
    rows = fit_sample_rows(len(summary), size)
    if orders is not None and customer_ids is not None:
        keep = pd.Index(np.asarray(customer_ids)[rows])
        orders = orders[orders["customer_id"].isin(keep)]
    return summary.iloc[rows], orders


def _trusted_model(summary, tm, penalizer, time_unit):
    """``tm`` when its fit is not degenerate, else another model's fit that is not.

    Returns the model and a description of the replaced fit (None when nothing was replaced);
    raises :class:`FitError` (with the description attached as ``degenerate``) when every
    model's fit is degenerate or fails.
    """
    problems = fit_degeneracy(tm)
    if not problems:
        return tm, None
    replaced = {"model": tm.name, "params": tm.params_, "standard_errors": tm.standard_errors_,
                "problems": problems, "tried": {}}
    for name, cls in MODELS.items():
        if name == tm.name:
            continue
        try:
            alt = cls(penalizer=penalizer, time_unit=time_unit).fit(summary)
        except (FitError, DataContractError) as exc:  # rhythm models need litt to choose k
            replaced["tried"][name] = f"could not be fitted: {exc}"
            continue
        alt_problems = fit_degeneracy(alt)
        if not alt_problems:
            replaced["used"] = name
            return alt, replaced
        replaced["tried"][name] = "degenerate too: " + "; ".join(alt_problems)
    err = FitError(f"the {tm.name} fit is degenerate ({'; '.join(problems)}) and no other "
                   "model fits: " + "; ".join(f"{k} {v}" for k, v in replaced["tried"].items()),
                   "use the historical-rate CLV")
    err.degenerate = replaced
    raise err


def _transaction_model(summary, model, penalizer, time_unit, orders, holdout_days):
    """The fitted purchase model and a description of how it was chosen."""
    if model != "auto":
        return MODELS[model](penalizer=penalizer, time_unit=time_unit).fit(summary), None
    if orders is not None:
        as_of = pd.to_datetime(orders["ordered_at"]).max().normalize()
        first = pd.to_datetime(orders["ordered_at"]).min().normalize()
        days = holdout_days or max(30, (as_of - first).days // 3)
        sel = select_model(orders, as_of - pd.Timedelta(days=days), as_of,
                           penalizer=penalizer, time_unit=time_unit)
        fitted = make_model(sel.chosen, penalizer, time_unit).fit(summary)
        return fitted, sel.to_dict()
    fits, errors = {}, {}
    for name, cls in MODELS.items():
        try:
            fits[name] = cls(penalizer=penalizer, time_unit=time_unit).fit(summary)
        except (FitError, DataContractError) as exc:  # rhythm models need litt to choose k
            errors[name] = str(exc)
    if not fits:
        raise FitError("no purchase model could be fitted: "
                       + "; ".join(errors.values()), "use the historical-rate CLV")
    chosen = max(fits, key=lambda k: fits[k].log_likelihood_)
    lls = ", ".join(f"{k} {v.log_likelihood_:.1f}" for k, v in fits.items())
    reason = (f"{chosen}: highest log-likelihood on the summary ({lls}); pass orders for a "
              "holdout test")
    return fits[chosen], {"chosen": chosen, "reason": reason, "errors": errors}


def _score(summary, tm, info, settings, margin, min_repeat_buyers, lang) -> ValueModelResult:
    """Per-customer columns and run-level info for a fitted purchase model."""
    n = settings["purchase_horizon_days"]
    level, reasons = fit_confidence(tm, min_repeat_buyers)
    note = pd.Series(None, index=summary.index, dtype=object)
    replaced = info.get("degenerate")
    if replaced:
        level = "low"
        reasons.insert(0, f"the {replaced['model']} fit was degenerate "
                          f"({'; '.join(replaced['problems'])}): values from {tm.name}")
        note[:] = _note_part("model_fallback", failed=replaced["model"], model=tm.name)
    spend, spend_model, spend_info, spend_note, outside = _spend(summary, lang)
    if spend_model is not None:
        sp_level, sp_reasons = fit_confidence(spend_model, min_repeat_buyers)
        if spend_info["n_outside_model"] > SPEND_OUTSIDE_MODEL_SHARE * info["n_repeat_buyers"]:
            sp_level = min(sp_level, "medium", key=_LEVELS.index)
        level = min(level, sp_level, key=_LEVELS.index)
        reasons += [f"Gamma-Gamma: {r}" for r in sp_reasons]
    if spend_info.get("reason"):
        reasons.append(spend_info["reason"])
    clv = predicted_clv(tm, spend, summary, settings["horizon_days"],
                        settings["discount_rate_annual"], settings["step_days"], margin)
    method = f"{tm.name}+gg" if spend_model is not None else f"{tm.name}+mean-spend"
    confidence = customer_confidence(summary, level)
    confidence[outside] = "low"
    customers = pd.DataFrame({
        "p_alive": tm.p_alive(summary),
        f"expected_purchases_{n:g}d": tm.expected_purchases(summary, n),
        f"purchase_likelihood_{n:g}d": tm.purchase_probability(summary, n),
        "expected_spend": spend, "clv_predicted": clv,
        "clv_confidence": confidence, "clv_method": method,
        "clv_note_args": _join_notes(note, spend_note),
    }, index=summary.index)
    customers["clv_note"] = _worded_notes(customers["clv_note_args"], lang)
    info.update({"method": method, "model": tm.name, "params": tm.params_,
                 "standard_errors": tm.standard_errors_, "log_likelihood": tm.log_likelihood_,
                 "mean_log_likelihood": tm.mean_log_likelihood_, "confidence": level,
                 "reasons": reasons, "spend": spend_info, "fallback_reason": None})
    return ValueModelResult(customers, _jsonable(info), tm, spend_model)


def _join_notes(first: pd.Series, second: pd.Series) -> pd.Series:
    both = first.notna() & second.notna()
    out = first.where(first.notna(), second)
    out[both] = [json.dumps([*json.loads(a), *json.loads(b)])
                 for a, b in zip(first[both], second[both], strict=True)]
    return out


def _spend(summary, lang):
    """Spend per purchase, the Gamma-Gamma model (or None), its description, per-customer notes.

    Repeat buyers outside the model (``monetary_value <= 0``) keep their own mean, floored at 0
    (on CDNOW master's holdout that beats the population mean for them: ``bench/
    value_fallbacks.py``); when Gamma-Gamma cannot be fitted at all, everyone gets
    :func:`_fallback_spend`.
    """
    spend_model, spend_info = _spend_model(summary)
    note = pd.Series(None, index=summary.index, dtype=object)
    if spend_model is None:
        x = summary["frequency"].to_numpy(float)
        note[:] = _note_part("spend_own_mean")
        spend_info["n_outside_model"] = 0
        return (pd.Series(_fallback_spend(summary, x, None), index=summary.index,
                          name="expected_spend"), None, spend_info, note,
                pd.Series(False, index=summary.index))
    spend = spend_model.conditional_expected_average_profit(summary)
    outside = GammaGamma.spend_outside_model(summary)
    spend[outside] = summary.loc[outside, "monetary_value"].clip(lower=0.0)
    note[outside] = _note_part("spend_outside_model")
    k = int(outside.sum())
    spend_info["n_outside_model"] = k
    if k:
        spend_info["outside_model"] = (
            f"{k} repeat buyer(s) whose repeat purchases net to zero or less (free items, or "
            "refunds that cancel purchases) were left out of the Gamma-Gamma fit and keep their "
            "own mean spend")
    return spend, spend_model, spend_info, note, outside


def _spend_model(summary):
    """Fitted Gamma-Gamma and a description, or ``(None, reason)`` when it cannot be fitted."""
    repeat = summary[summary["frequency"] > 0]
    corr = (float(np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1])
            if len(repeat) > 2 and repeat["monetary_value"].std() > 0 else None)
    try:
        gg = GammaGamma().fit(summary)
        if gg.params_["q"] <= 1.0:
            raise FitError(f"Gamma-Gamma q = {gg.params_['q']:.3g} <= 1: the expected spend "
                           "is infinite")
    except FitError as exc:
        return None, {"model": None, "reason": f"spend from own mean: {exc}",
                      "frequency_spend_correlation": corr}
    out = {"model": "gamma_gamma", "params": gg.params_, "standard_errors": gg.standard_errors_,
           "log_likelihood": gg.log_likelihood_, "n_customers": gg.n_customers_,
           "frequency_spend_correlation": corr, "reason": None}
    if corr is not None and abs(corr) > 0.3:
        out["reason"] = (f"frequency and monetary_value correlate ({corr:.2f}): Gamma-Gamma "
                         "assumes they are independent")
    return gg, out


def customer_confidence(summary: pd.DataFrame, run_level: str = "high",
                        short_history_days: float = SHORT_HISTORY_DAYS) -> pd.Series:
    """Per-customer confidence, capped by the run's.

    low: no repeat purchase yet (``frequency == 0``) or less than ``short_history_days`` of
    history (``T``): the forecast is mostly the population average. medium: 1-2 repeat
    purchases. high: 3 or more.
    """
    x, T = summary["frequency"].to_numpy(), summary["T"].to_numpy()
    own = np.where((x == 0) | (T < short_history_days), 0, np.where(x <= 2, 1, 2))
    cap = _LEVELS.index(run_level)
    return pd.Series(np.array(_LEVELS)[np.minimum(own, cap)], index=summary.index,
                     name="clv_confidence")


def _fallback(summary, info, reason, settings, margin, lang="en", short=None
              ) -> ValueModelResult:
    n = settings["purchase_horizon_days"]
    hist = historical_rate_clv(summary, settings["horizon_days"],
                               settings["discount_rate_annual"], settings["step_days"], margin,
                               purchase_horizon_days=n)
    why = short or (reason if len(reason) <= 80 else reason[:77] + "...")
    customers = pd.DataFrame({
        "p_alive": hist["p_alive"], f"expected_purchases_{n:g}d": hist["expected_purchases"],
        f"purchase_likelihood_{n:g}d": hist["purchase_likelihood"],
        "expected_spend": hist["expected_spend"], "clv_predicted": hist["clv_predicted"],
        "clv_confidence": "low", "clv_method": "historical-rate",
        "clv_note_args": _note_part("historical_rate", why=why),
    }, index=summary.index)
    customers["clv_note"] = _worded_notes(customers["clv_note_args"], lang)
    info.update({"method": "historical-rate", "model": None, "params": None,
                 "standard_errors": None, "log_likelihood": None, "mean_log_likelihood": None,
                 "confidence": "low", "reasons": [f"historical-rate fallback: {reason}"],
                 "fallback_reason": reason})
    return ValueModelResult(customers, _jsonable(info))


def _jsonable(obj):
    """Plain Python types; NaN and infinities become None."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj

"""Value models: purchase (BG/NBD, Pareto/NBD, MBG/NBD, (M)BG/CNBD-k), spend (Gamma-Gamma), predicted CLV, validation.

Every fitted model follows the estimator contract: parameters in ``__init__``, ``fit(summary)``
returns ``self``, learned state ends in ``_`` (``params_``, ``standard_errors_``,
``log_likelihood_``), and predicting before ``fit`` raises :class:`~tierwise.errors.NotFittedError`.
Inputs are the per-customer summaries of :mod:`tierwise.features` (``frequency``, ``recency``,
``T`` in days, ``monetary_value``). RFM scoring, historical CLV and the 80/20 curve live in
:mod:`tierwise.models.rfm`, :mod:`tierwise.models.historical` and :mod:`tierwise.models.pareto`.
"""

from tierwise.models.betageo import BetaGeo, simulate_bgnbd
from tierwise.models.calibration import LikelihoodCalibration, calibrate_on_history
from tierwise.models.clv import (
    ValueModelResult,
    customer_confidence,
    fit_value_models,
    historical_rate_clv,
    predicted_clv,
)
from tierwise.models.cnbd import BGCNBD, MBGCNBD, ModifiedBetaGeo, simulate_cnbd
from tierwise.models.gamma_gamma import GammaGamma, simulate_gamma_gamma
from tierwise.models.ensemble import Blend
from tierwise.models.pareto_nbd import ParetoNBD, simulate_pareto_nbd
from tierwise.models.regularity import Regularity, estimate_regularity
from tierwise.models.validation import (
    CalibrationHoldout,
    HoldoutReport,
    Selection,
    calibration_holdout,
    fit_confidence,
    fit_degeneracy,
    holdout_errors,
    make_model,
    select_model,
    summary_from_orders,
)

__all__ = [
    "BGCNBD",
    "BetaGeo",
    "Blend",
    "CalibrationHoldout",
    "GammaGamma",
    "HoldoutReport",
    "LikelihoodCalibration",
    "MBGCNBD",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "Regularity",
    "Selection",
    "ValueModelResult",
    "calibrate_on_history",
    "calibration_holdout",
    "customer_confidence",
    "estimate_regularity",
    "fit_confidence",
    "fit_degeneracy",
    "fit_value_models",
    "historical_rate_clv",
    "holdout_errors",
    "make_model",
    "predicted_clv",
    "select_model",
    "simulate_bgnbd",
    "simulate_cnbd",
    "simulate_gamma_gamma",
    "simulate_pareto_nbd",
    "summary_from_orders",
]

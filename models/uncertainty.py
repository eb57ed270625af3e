"""Per-family predictive uncertainty of a PMT: a calibrated spread of the prediction error.

Method (`ResidualUncertainty`):
1. out-of-fold residuals r = log_pcexp - prediction on the survey sample (`out_of_fold_predictions`:
   each family predicted by a model that did not see it);
2. a small LightGBM regression of |r| on the features gives a raw spread s(x) = E|r| * sqrt(pi/2)
   (the sd of a normal with that mean absolute deviation); method 'constant' uses one spread for all;
3. calibration: one scale factor c so that, on out-of-fold spreads (cross-fitted, so that the spread
   model never scores its own training rows), the interval prediction ± z * c * s(x) covers exactly
   `calibration_coverage` of the survey weight.

The predictive distribution of log_pcexp is normal(prediction, sd(x)) with sd(x) = max(c * s(x),
min_sd), in log units. `prob_below` gives P(value < threshold) under it; `interval` the central
interval at a coverage.
"""

from __future__ import annotations

from collections.abc import Callable

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import norm

from config.pmt import UncertaintyConfig
from features.build import REGION_COLUMNS
from models.lgbm import predict_frame

FitPredict = Callable[[pd.DataFrame, np.ndarray, np.ndarray, pd.DataFrame], np.ndarray]
SQRT_PI_OVER_2 = float(np.sqrt(np.pi / 2.0))
# LightGBM threads of the spread model, fitting and predicting alike. Unset at predict time, LightGBM
# ran OpenMP on every core and its idle thread spun after each call: a 16-family ranking call used
# 17.4 ms of CPU for 10.4 ms of wall time, and two scoring processes slowed each other 1.65x. With one
# thread CPU equals wall time and they no longer do.
SPREAD_THREADS = 1


def fold_ids(n: int, n_folds: int, seed: int) -> np.ndarray:
    """A seeded random fold number 0..n_folds-1 for each of n rows (balanced sizes)."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(n) % n_folds)


def out_of_fold_predictions(
    fit_predict: FitPredict, X: pd.DataFrame, y: npt.ArrayLike, sample_weight: npt.ArrayLike,
    n_folds: int, seed: int,
) -> np.ndarray:
    """Predictions (n,) where row i comes from `fit_predict(X_train, y_train, w_train, X_test)` fitted
    on the folds that exclude i."""
    y_arr = np.asarray(y, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    folds = fold_ids(len(X), n_folds, seed)
    out = np.full(len(X), np.nan)
    for k in range(n_folds):
        test = folds == k
        out[test] = fit_predict(X[~test], y_arr[~test], w[~test], X[test])
    return out


def weighted_quantile(values: npt.ArrayLike, weights: npt.ArrayLike, q: float) -> float:
    """The smallest value whose cumulative weight share reaches q (0 < q <= 1)."""
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    idx = min(int(np.searchsorted(cum, q * cum[-1], side="left")), len(v) - 1)
    return float(v[order][idx])


def z_for_coverage(coverage: float) -> float:
    """Standard-normal half-width of the central interval with this coverage (0.8 -> 1.2816)."""
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must be in (0, 1), got {coverage}")
    return float(norm.ppf(0.5 + coverage / 2.0))


def prob_below(pred: npt.ArrayLike, sd: npt.ArrayLike, threshold: npt.ArrayLike) -> np.ndarray:
    """P(value < threshold) for value ~ normal(pred, sd); arrays broadcast; result in [0, 1]."""
    p = np.asarray(pred, dtype=np.float64)
    s = np.asarray(sd, dtype=np.float64)
    return norm.cdf((np.asarray(threshold, dtype=np.float64) - p) / s)


class ResidualUncertainty:
    """Calibrated spread of a PMT's prediction error (see module docstring)."""

    def __init__(self, config: UncertaintyConfig | None = None) -> None:
        self.config = config if config is not None else UncertaintyConfig()
        self.booster_: lgb.Booster | None = None
        self.columns_: list[str] = []
        self.constant_: float = 1.0
        self.scale_: float | None = None

    def _params(self, seed: int) -> dict[str, object]:
        cfg = self.config
        return dict(
            objective="regression", learning_rate=cfg.learning_rate, num_leaves=cfg.num_leaves,
            min_data_in_leaf=cfg.min_data_in_leaf, seed=seed, deterministic=True, force_col_wise=True,
            num_threads=SPREAD_THREADS, verbosity=-1, feature_fraction=1.0, bagging_fraction=1.0, bagging_freq=0,
        )

    def _fit_raw(
        self, X: pd.DataFrame, abs_residual: np.ndarray, w: np.ndarray, seed: int
    ) -> tuple[lgb.Booster | None, float]:
        """Fit the raw spread s(x): a LightGBM of |r| (method lgbm_abs) or one constant."""
        const = float(np.average(abs_residual, weights=w)) * SQRT_PI_OVER_2
        if self.config.method == "constant":
            return None, const
        cats = [c for c in X.columns if c in REGION_COLUMNS]
        data = lgb.Dataset(X, abs_residual, weight=w, categorical_feature=cats, free_raw_data=False)
        return lgb.train(self._params(seed), data, num_boost_round=self.config.num_boost_round), const

    def _raw_spread(self, X: pd.DataFrame, booster: lgb.Booster | None, const: float) -> np.ndarray:
        if booster is None:
            return np.full(len(X), const)
        spread = predict_frame(booster, X, self.columns_, num_threads=SPREAD_THREADS)
        return np.maximum(spread * SQRT_PI_OVER_2, self.config.min_sd / 10.0)

    def fit(
        self, X: pd.DataFrame, residual: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None, seed: int = 0,
    ) -> ResidualUncertainty:
        """Fit on out-of-fold residuals (log_pcexp - prediction) of the survey families."""
        r = np.asarray(residual, dtype=np.float64)
        if len(r) != len(X) or np.isnan(r).any():
            raise ValueError("residual must have one non-missing value per row of X")
        w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        abs_r = np.abs(r)
        self.columns_ = list(X.columns)
        # Cross-fitted raw spreads for the calibration scale.
        folds = fold_ids(len(X), self.config.n_folds, seed + 101)
        spread_oof = np.empty(len(X))
        for k in range(self.config.n_folds):
            test = folds == k
            booster, const = self._fit_raw(X[~test], abs_r[~test], w[~test], seed + k)
            spread_oof[test] = self._raw_spread(X[test], booster, const)
        z = z_for_coverage(self.config.calibration_coverage)
        self.scale_ = weighted_quantile(abs_r / spread_oof, w, self.config.calibration_coverage) / z
        # Final spread model on all rows.
        self.booster_, self.constant_ = self._fit_raw(X, abs_r, w, seed)
        return self

    def predictive_sd(self, X: pd.DataFrame) -> np.ndarray:
        """sd (log units, > 0) of the predictive normal for each row of X, shape (n,)."""
        if self.scale_ is None:
            raise RuntimeError("ResidualUncertainty is not fitted; call fit first")
        return np.maximum(self.scale_ * self._raw_spread(X, self.booster_, self.constant_), self.config.min_sd)

    def interval(
        self, pred: npt.ArrayLike, sd: npt.ArrayLike, coverage: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Central predictive interval (low, high) of log_pcexp at `coverage` (default config.coverage)."""
        z = z_for_coverage(self.config.coverage if coverage is None else coverage)
        p = np.asarray(pred, dtype=np.float64)
        s = np.asarray(sd, dtype=np.float64)
        return p - z * s, p + z * s

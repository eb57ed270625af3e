"""The classic PMT: survey-weighted linear regression of log per-capita expenditure on one-hot category
proxies, numeric proxies (NaN filled with the mean plus a missing indicator) and province (or
regency) fixed effects.

Design: a scikit-learn ColumnTransformer with ONE transformer per feature column (OneHotEncoder with
handle_unknown='ignore' for categories and regions; SimpleImputer(add_indicator) + StandardScaler for
numbers), then Ridge with a tiny alpha (only to keep collinear one-hots solvable) fitted with
`sample_weight`. One transformer per column keeps the map design column -> feature column exact,
so contributions are per feature column:

    contribution[f] = sum_{j in design(f)} coef_j * (x_j - mean_j)     (log_pcexp units)
    bias            = intercept + sum_j coef_j * mean_j                 (mean_j: survey-weighted)

and bias + sum_f contribution[f] equals the prediction (up to float rounding).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from config.pmt import OLSConfig
from features.build import CATEGORICAL_COLUMNS, REGION_COLUMNS

# Rows per chunk when predicting: bounds the dense design matrix (~300 columns) to a few hundred MB.
PREDICT_CHUNK_ROWS = 200_000


class OLSPMT:
    """Survey-weighted linear PMT on the `features.build` matrix. Not fitted until `fit`."""

    kind = "ols"

    def __init__(self, config: OLSConfig | None = None) -> None:
        self.config = config if config is not None else OLSConfig()
        self.transformer_: ColumnTransformer | None = None
        self.regression_: Ridge | None = None
        self.feature_columns_: list[str] = []
        self.used_columns_: list[str] = []
        self.design_mean_: np.ndarray | None = None

    # -- design matrix -------------------------------------------------------------------------
    def _used_columns(self, columns: list[str]) -> list[str]:
        dropped = {"regency_code"} if self.config.region_effects == "province" else set()
        return [c for c in columns if c not in dropped]

    def _prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.used_columns_ if c not in X.columns]
        if missing:
            raise ValueError(f"feature matrix lacks columns {missing}; build it with features.build")
        out = X[self.used_columns_].copy()
        for col in self.used_columns_:
            if col in REGION_COLUMNS:
                out[col] = out[col].astype(object).where(out[col].notna(), "missing").astype(str)
            elif col in CATEGORICAL_COLUMNS:
                out[col] = out[col].fillna(-1.0).astype(np.float64)
        return out

    def _make_transformer(self) -> ColumnTransformer:
        parts = []
        for col in self.used_columns_:
            if col in REGION_COLUMNS or col in CATEGORICAL_COLUMNS:
                step = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)
            else:
                step = make_pipeline(
                    SimpleImputer(strategy="mean", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                )
            parts.append((col, step, [col]))
        return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=False)

    # -- fit / predict -------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None) -> OLSPMT:
        """Fit on the survey families. X: build_features output; y: log_pcexp (n,); sample_weight: survey
        weights (n,) or None (equal weights)."""
        y_arr = np.asarray(y, dtype=np.float64)
        if len(y_arr) != len(X) or np.isnan(y_arr).any():
            raise ValueError("y must have one non-missing log_pcexp per row of X")
        w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.feature_columns_ = list(X.columns)
        self.used_columns_ = self._used_columns(self.feature_columns_)
        self.transformer_ = self._make_transformer()
        design = self.transformer_.fit_transform(self._prepare(X))
        self.regression_ = Ridge(alpha=self.config.alpha, solver="auto")
        self.regression_.fit(design, y_arr, sample_weight=w)
        self.design_mean_ = np.average(design, axis=0, weights=w)
        return self

    def _check_fitted(self) -> None:
        if self.transformer_ is None or self.regression_ is None:
            raise RuntimeError("OLSPMT is not fitted; call fit first")

    def _design(self, X: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        return self.transformer_.transform(self._prepare(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted log_pcexp, shape (n,), float64 (computed in chunks to bound the dense design's memory)."""
        self._check_fitted()
        out = np.empty(len(X), dtype=np.float64)
        for start in range(0, len(X), PREDICT_CHUNK_ROWS):
            part = X.iloc[start:start + PREDICT_CHUNK_ROWS]
            out[start:start + len(part)] = self.regression_.predict(self._design(part))
        return out

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-family contributions in log_pcexp units: one column per feature column (0 for columns the
        model does not use) plus 'bias'; each row sums to `predict(X)`."""
        self._check_fitted()
        coef = self.regression_.coef_
        slices = self.transformer_.output_indices_
        out = np.zeros((len(X), len(self.feature_columns_)))
        position = {c: i for i, c in enumerate(self.feature_columns_)}
        for start in range(0, len(X), PREDICT_CHUNK_ROWS):
            part = X.iloc[start:start + PREDICT_CHUNK_ROWS]
            centred = (self._design(part) - self.design_mean_) * coef
            for col in self.used_columns_:
                out[start:start + len(part), position[col]] = centred[:, slices[col]].sum(axis=1)
        frame = pd.DataFrame(out, index=X.index, columns=self.feature_columns_)
        frame["bias"] = float(self.regression_.intercept_ + coef @ self.design_mean_)
        return frame

    def coefficients(self) -> pd.Series:
        """Coefficients on the (standardised / one-hot) design columns, named '<feature>=<level>' etc."""
        names = self.transformer_.get_feature_names_out()
        return pd.Series(self.regression_.coef_, index=names, name="coef")

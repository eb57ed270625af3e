"""LightGBM PMT: gradient-boosted trees of log per-capita expenditure on the `features.build` matrix,
with province (and regency) as LightGBM categoricals and NaN-aware admin signals.

Deterministic: the seed drives the validation split and every LightGBM random stream, with
`deterministic=True`, `force_col_wise=True` and a fixed thread count, so the same seed and data give
bit-identical trees; a different seed gives different bagging/feature sampling and so different
predictions. Early stopping uses a seeded, survey-weighted internal validation split; with
`refit_full` the final model is refitted on every row with the best number of rounds.
Contributions are LightGBM's exact TreeSHAP (`pred_contrib=True`): one column per feature plus
'bias' (the expected value); each row sums to the prediction.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import pandas as pd

from config.pmt import LGBMConfig
from features.build import CATEGORICAL_COLUMNS, REGION_COLUMNS
from features.identity_cache import per_objects

_SAME_CATEGORIES: dict = {}  # (X's categories, training categories) -> equal?
_CATEGORIES_TEXT: dict = {}  # a booster's category lists -> their repr (a shared-matrix key)


def _same_categories(categories: pd.Index, expected: list) -> bool:
    return per_objects(_SAME_CATEGORIES, (categories, expected), lambda: list(categories) == list(expected))


def _categories_text(categories: list[list] | None) -> str:
    """repr of a booster's category lists (boosters with equal lists share matrices)."""
    return per_objects(_CATEGORIES_TEXT, (categories,), lambda: repr(categories))


def booster_matrix(
    X: pd.DataFrame, columns: list[str], pandas_categorical: list[list] | None
) -> np.ndarray | None:
    """The float64 matrix (len(X), len(columns)) that LightGBM builds from the DataFrame `X[columns]` for
    predict, built without its per-call pandas work: float64 columns as they are, pandas categoricals as
    their codes in the booster's training categories (`pandas_categorical`, re-mapped when X's
    categories differ; unknown -> NaN), exactly as lightgbm's `_data_from_pandas`. So
    `booster.predict(booster_matrix(...))` equals `booster.predict(X[columns])` bit for bit.

    Returns None (callers then pass the DataFrame) when X is empty or has a column that is neither
    float64 nor categorical, or when the categorical columns do not pair with `pandas_categorical`.
    """
    if len(X) == 0:
        return None
    dtypes = dict(zip(X.columns, X.dtypes, strict=True))
    expected = list(pandas_categorical or [])
    out = np.empty((len(X), len(columns)), dtype=np.float64)
    numeric: list[str] = []
    numeric_pos: list[int] = []
    n_cat = 0
    for j, col in enumerate(columns):
        dtype = dtypes[col]
        if isinstance(dtype, pd.CategoricalDtype):
            if n_cat >= len(expected):
                return None
            values = X[col]
            if not _same_categories(dtype.categories, expected[n_cat]):
                values = values.cat.set_categories(expected[n_cat])
            n_cat += 1
            codes = values.cat.codes.to_numpy()
            out[:, j] = codes
            out[codes == -1, j] = np.nan
        elif dtype == np.float64:
            numeric.append(col)
            numeric_pos.append(j)
        else:
            return None
    if n_cat != len(expected):
        return None
    if numeric:
        block = X[numeric].to_numpy(dtype=np.float64)
        if numeric_pos == list(range(len(numeric))) and len(numeric) == len(columns):
            return np.ascontiguousarray(block)
        out[:, numeric_pos] = block
    return out


_SHARED = threading.local()  # .matrices: {(id(X), columns, categories): (X, matrix)} inside shared_matrices()


@contextmanager
def shared_matrices() -> Iterator[None]:
    """Within this block (this thread), predict_frame builds the matrix of one frame and column list
    once: the PMT and its spread model read the same 99 columns of the same frame. Only for frames that
    are not modified inside the block."""
    outer = getattr(_SHARED, "matrices", None)
    _SHARED.matrices = {} if outer is None else outer
    try:
        yield
    finally:
        if outer is None:
            _SHARED.matrices = None


def predict_frame(booster: lgb.Booster, X: pd.DataFrame, columns: list[str], **kwargs: object) -> np.ndarray:
    """`booster.predict(X[columns], **kwargs)` through `booster_matrix` when it applies (same values)."""
    cache = getattr(_SHARED, "matrices", None)
    if cache is None:
        matrix = booster_matrix(X, columns, booster.pandas_categorical)
    else:
        key = (id(X), tuple(columns), _categories_text(booster.pandas_categorical))
        hit = cache.get(key)
        if hit is not None and hit[0] is X:
            matrix = hit[1]
        else:
            matrix = booster_matrix(X, columns, booster.pandas_categorical)
            cache[key] = (X, matrix)
    return booster.predict(X[columns] if matrix is None else matrix, **kwargs)


# Keys of LGBMConfig that steer our training loop rather than being LightGBM parameters.
_LOOP_KEYS = frozenset({
    "max_num_boost_round", "early_stopping_rounds", "validation_fraction", "refit_full",
    "categorical_housing", "regency_categorical",
})


class LGBMPMT:
    """LightGBM regression PMT. Not fitted until `fit`."""

    kind = "lgbm"

    def __init__(self, config: LGBMConfig | None = None) -> None:
        self.config = config if config is not None else LGBMConfig()
        self.booster_: lgb.Booster | None = None
        self.feature_columns_: list[str] = []
        self.used_columns_: list[str] = []
        self.categorical_columns_: list[str] = []
        self.best_iteration_: int = 0
        self.seed_: int | None = None

    def params(self, seed: int) -> dict[str, object]:
        """The LightGBM parameter dict for one seed."""
        cfg = self.config.model_dump()
        params = {k: v for k, v in cfg.items() if k not in _LOOP_KEYS}
        params.update(
            seed=seed, bagging_seed=seed + 1, feature_fraction_seed=seed + 2, data_random_seed=seed + 3,
            deterministic=True, force_col_wise=True, verbosity=-1, metric="l2",
        )
        return params

    def _check_columns(self, X: pd.DataFrame) -> None:
        missing = [c for c in self.used_columns_ if c not in X.columns]
        if missing:
            raise ValueError(f"feature matrix lacks columns {missing}; build it with features.build")

    def _prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        self._check_columns(X)
        return X[self.used_columns_]

    def fit(
        self,
        X: pd.DataFrame,
        y: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
        seed: int = 0,
    ) -> LGBMPMT:
        """Fit on the survey families. X: build_features output; y: log_pcexp (n,); sample_weight: survey
        weights (n,) or None; seed: drives the validation split and LightGBM's sampling."""
        y_arr = np.asarray(y, dtype=np.float64)
        if len(y_arr) != len(X) or np.isnan(y_arr).any():
            raise ValueError("y must have one non-missing log_pcexp per row of X")
        w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        cfg = self.config
        self.seed_ = int(seed)
        self.feature_columns_ = list(X.columns)
        self.used_columns_ = [c for c in X.columns if cfg.regency_categorical or c != "regency_code"]
        self.categorical_columns_ = [c for c in self.used_columns_ if c in REGION_COLUMNS] + (
            [c for c in self.used_columns_ if c in CATEGORICAL_COLUMNS] if cfg.categorical_housing else []
        )
        data = self._prepare(X)
        params = self.params(self.seed_)
        rng = np.random.default_rng(self.seed_)
        valid = rng.random(len(X)) < cfg.validation_fraction
        if valid.sum() < 10 or (~valid).sum() < 10:
            raise ValueError(f"too few rows ({len(X)}) for an internal validation split")
        train_set = lgb.Dataset(data[~valid], y_arr[~valid], weight=w[~valid],
                                categorical_feature=self.categorical_columns_, free_raw_data=False)
        valid_set = lgb.Dataset(data[valid], y_arr[valid], weight=w[valid], reference=train_set,
                                categorical_feature=self.categorical_columns_, free_raw_data=False)
        booster = lgb.train(
            params, train_set, num_boost_round=cfg.max_num_boost_round, valid_sets=[valid_set],
            callbacks=[lgb.early_stopping(cfg.early_stopping_rounds, verbose=False)],
        )
        self.best_iteration_ = int(booster.best_iteration or cfg.max_num_boost_round)
        if cfg.refit_full:
            full_set = lgb.Dataset(data, y_arr, weight=w, categorical_feature=self.categorical_columns_,
                                   free_raw_data=False)
            booster = lgb.train(params, full_set, num_boost_round=self.best_iteration_)
        self.booster_ = booster
        return self

    def _check_fitted(self) -> lgb.Booster:
        if self.booster_ is None:
            raise RuntimeError("LGBMPMT is not fitted; call fit first")
        return self.booster_

    def _num_iteration(self) -> int | None:
        return None if self.config.refit_full else self.best_iteration_

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted log_pcexp, shape (n,), float64."""
        booster = self._check_fitted()
        self._check_columns(X)
        return np.asarray(predict_frame(booster, X, self.used_columns_, num_iteration=self._num_iteration(),
                                        num_threads=self.config.num_threads), dtype=np.float64)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """TreeSHAP contributions in log_pcexp units: one column per feature column (0 for unused ones)
        plus 'bias'; each row sums to `predict(X)`."""
        booster = self._check_fitted()
        raw = np.asarray(booster.predict(self._prepare(X), num_iteration=self._num_iteration(),
                                         pred_contrib=True, num_threads=self.config.num_threads))
        frame = pd.DataFrame(0.0, index=X.index, columns=self.feature_columns_)
        frame[self.used_columns_] = raw[:, :-1]
        frame["bias"] = raw[:, -1]
        return frame

    def feature_importance(self, importance_type: str = "gain") -> pd.Series:
        """Total gain (or split count) per feature column, sorted descending."""
        booster = self._check_fitted()
        values = booster.feature_importance(importance_type=importance_type)
        return pd.Series(values, index=booster.feature_name(), name=importance_type).sort_values(ascending=False)

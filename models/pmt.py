"""The PMT model bundle that is trained, registered, served and batch-ranked: feature settings,
fitted estimator (OLS or LightGBM), uncertainty model, national decile cut points and the version of
the house-photo model whose outputs it consumes. Pure core: no file or tracking policy; picklable
with pickle or cloudpickle.

Scales: `predicted_log_pcexp` is log(Rp/capita/month); `welfare` = predicted_log_pcexp - log
provincial poverty line (features.welfare); `cut_points` are 9 welfare values (models.cut_points);
desil = 1 + number of cut points at or below welfare. P(desil <= k) = P(true welfare <
cut_points[k-1]) under the predictive normal(welfare, sd) of models.uncertainty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from config.pmt import PMTConfig, pmt_config
from features.build import FEATURE_COLUMNS, FloatColumns, build_features
from features.welfare import welfare_from_log_pcexp
from models.cut_points import N_DESIL, assign_desil, weighted_cut_points
from models.explain import BASELINE, contributions_by_raw_variable, top_contributions
from models.lgbm import LGBMPMT, shared_matrices
from models.ols import OLSPMT
from models.uncertainty import ResidualUncertainty, out_of_fold_predictions, prob_below

Kind = Literal["ols", "lgbm"]
SURVEY_COLUMNS = ("family_id", "log_pcexp", "survey_weight")
SCORE_COLUMNS = ("family_id", "predicted_log_pcexp", "welfare", "desil", "p_desil_le_4", "p_desil_le_5",
                 "pi_low", "pi_high", "sd")


def make_estimator(kind: Kind, config: PMTConfig) -> OLSPMT | LGBMPMT:
    """An unfitted estimator of this kind with its configured hyper-parameters."""
    if kind == "ols":
        return OLSPMT(config.ols)
    if kind == "lgbm":
        return LGBMPMT(config.lgbm)
    raise ValueError(f"unknown PMT model kind {kind!r}; allowed: 'ols', 'lgbm'")


def _fit_estimator(kind: Kind, config: PMTConfig, X: pd.DataFrame, y: np.ndarray, w: np.ndarray, seed: int):
    est = make_estimator(kind, config)
    if kind == "lgbm":
        return est.fit(X, y, sample_weight=w, seed=seed)
    return est.fit(X, y, sample_weight=w)


@dataclass
class PMTModel:
    """A fitted PMT. Build with `PMTModel.fit`, then `fit_cut_points` on the population it ranks."""

    kind: Kind
    estimator: OLSPMT | LGBMPMT
    uncertainty: ResidualUncertainty
    config: PMTConfig
    seed: int
    feature_columns: list[str] = field(default_factory=lambda: list(FEATURE_COLUMNS))
    cut_points: np.ndarray | None = None
    photo_model_version: str | None = None
    n_training_families: int = 0

    # -- training ------------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        families: pd.DataFrame,
        members: pd.DataFrame,
        survey: pd.DataFrame,
        kind: Kind = "lgbm",
        seed: int = 0,
        config: PMTConfig | None = None,
        photo_features: pd.DataFrame | None = None,
        photo_model_version: str | None = None,
    ) -> PMTModel:
        """Train on the survey families only: survey = (family_id, log_pcexp, survey_weight), one row per
        surveyed family, each present in `families`. Fits the estimator on all of them and the
        uncertainty model on its out-of-fold residuals. Cut points are not set (see fit_cut_points)."""
        cfg = config if config is not None else pmt_config()
        X, y, w = survey_matrix(families, members, survey, photo_features, cfg)
        estimator = _fit_estimator(kind, cfg, X, y, w, seed)

        def fit_predict(X_tr: pd.DataFrame, y_tr: np.ndarray, w_tr: np.ndarray, X_te: pd.DataFrame) -> np.ndarray:
            return _fit_estimator(kind, cfg, X_tr, y_tr, w_tr, seed).predict(X_te)

        oof = out_of_fold_predictions(fit_predict, X, y, w, cfg.uncertainty.n_folds, seed)
        uncertainty = ResidualUncertainty(cfg.uncertainty).fit(X, y - oof, w, seed=seed)
        return cls(kind=kind, estimator=estimator, uncertainty=uncertainty, config=cfg, seed=int(seed),
                   feature_columns=list(X.columns), photo_model_version=photo_model_version,
                   n_training_families=len(X))

    def features(
        self, families: pd.DataFrame, members: pd.DataFrame, photo_features: pd.DataFrame | None = None,
        floats: tuple[FloatColumns, FloatColumns] | None = None,
    ) -> pd.DataFrame:
        """The model matrix with this model's feature settings (features.build.build_features; `floats`:
        validation's float views of these rows, see there)."""
        return build_features(families, members, photo_features, config=self.config.features, floats=floats)

    # -- prediction ----------------------------------------------------------------------------
    def predict_matrix(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted log_pcexp (n,) from a prebuilt model matrix."""
        return self.estimator.predict(X)

    def fit_cut_points(
        self, families: pd.DataFrame, members: pd.DataFrame, photo_features: pd.DataFrame | None = None
    ) -> PMTModel:
        """Set national population-weighted cut points from this model's predictions for the whole
        population it ranks (people = family size). Returns self."""
        X = self.features(families, members, photo_features)
        return self.fit_cut_points_matrix(X)

    def fit_cut_points_matrix(self, X: pd.DataFrame) -> PMTModel:
        """fit_cut_points from a prebuilt model matrix (the population's build_features output)."""
        welfare = welfare_from_log_pcexp(self.predict_matrix(X), X["province_code"])
        self.cut_points = weighted_cut_points(welfare, X["family_size"].to_numpy(), N_DESIL)
        return self

    def score(
        self, families: pd.DataFrame, members: pd.DataFrame, photo_features: pd.DataFrame | None = None,
        floats: tuple[FloatColumns, FloatColumns] | None = None,
    ) -> pd.DataFrame:
        """Rank families: columns SCORE_COLUMNS, one row per family in input order (see module doc).
        pi_low/pi_high: the predictive interval of predicted_log_pcexp at config.uncertainty.coverage;
        sd: the predictive sd (log units). `floats`: as in `features`."""
        return self.score_matrix(self.features(families, members, photo_features, floats))

    def score_matrix(self, X: pd.DataFrame) -> pd.DataFrame:
        """score from a prebuilt model matrix."""
        if self.cut_points is None:
            raise RuntimeError("the model has no cut points; call fit_cut_points on the population it ranks")
        with shared_matrices():  # the PMT and its spread model read the same columns of X
            pred = self.predict_matrix(X)
            sd = self.uncertainty.predictive_sd(X)
        welfare = welfare_from_log_pcexp(pred, X["province_code"])
        low, high = self.uncertainty.interval(pred, sd)
        return pd.DataFrame({
            "family_id": X.index.to_numpy(dtype=object),
            "predicted_log_pcexp": pred,
            "welfare": welfare,
            "desil": assign_desil(welfare, self.cut_points),
            "p_desil_le_4": prob_below(welfare, sd, self.cut_points[3]),
            "p_desil_le_5": prob_below(welfare, sd, self.cut_points[4]),
            "pi_low": low,
            "pi_high": high,
            "sd": sd,
        })

    # -- explanation ---------------------------------------------------------------------------
    def contributions(
        self, families: pd.DataFrame, members: pd.DataFrame, photo_features: pd.DataFrame | None = None,
        by: Literal["raw", "feature"] = "raw",
    ) -> pd.DataFrame:
        """Per-family contributions in log_pcexp units, index family_id: one column per raw variable
        (by='raw', FEATURE_GROUPS keys) or per feature column (by='feature'), plus 'baseline'.
        Each row sums to predicted_log_pcexp."""
        X = self.features(families, members, photo_features)
        return self.contributions_matrix(X, by=by)

    def contributions_matrix(self, X: pd.DataFrame, by: Literal["raw", "feature"] = "raw") -> pd.DataFrame:
        feature_contrib = self.estimator.contributions(X)
        if by == "feature":
            return feature_contrib.rename(columns={"bias": BASELINE})
        if by != "raw":
            raise ValueError(f"by must be 'raw' or 'feature', got {by!r}")
        return contributions_by_raw_variable(feature_contrib)

    def explain(
        self, families: pd.DataFrame, members: pd.DataFrame, top_k: int = 5,
        photo_features: pd.DataFrame | None = None,
    ) -> list[dict[str, object]]:
        """Per family (input order): {family_id, predicted_log_pcexp, desil, baseline, contributions:
        top_k raw variables by |contribution|, each {variable, value, contribution, text}}."""
        X = self.features(families, members, photo_features)
        raw = self.contributions_matrix(X, by="raw")
        pred = raw.sum(axis=1).to_numpy()
        desil = (assign_desil(welfare_from_log_pcexp(pred, X["province_code"]), self.cut_points)
                 if self.cut_points is not None else np.zeros(len(X), dtype=np.int8))
        tops = top_contributions(raw, families.reset_index(drop=True), X, top_k=top_k)
        return [
            {"family_id": fid, "predicted_log_pcexp": float(p), "desil": int(d),
             "baseline": float(b), "contributions": items}
            for fid, p, d, b, items in zip(X.index, pred, desil, raw[BASELINE], tops, strict=True)
        ]

    def params(self) -> dict[str, object]:
        """Flat parameters for tracking (kind, seed, photo model version and the full config)."""
        flat: dict[str, object] = {"kind": self.kind, "seed": self.seed,
                                   "photo_model_version": self.photo_model_version,
                                   "n_training_families": self.n_training_families}
        for section, values in self.config.model_dump().items():
            for key, value in values.items():
                flat[f"{section}.{key}"] = value
        return flat


def survey_matrix(
    families: pd.DataFrame, members: pd.DataFrame, survey: pd.DataFrame,
    photo_features: pd.DataFrame | None = None, config: PMTConfig | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(X, log_pcexp, survey_weight) of the surveyed families, rows in survey order."""
    cfg = config if config is not None else pmt_config()
    missing = [c for c in SURVEY_COLUMNS if c not in survey.columns]
    if missing:
        raise ValueError(f"survey lacks columns {missing}; needs {list(SURVEY_COLUMNS)}")
    ids = survey["family_id"].astype(str)
    if not ids.is_unique:
        raise ValueError(f"survey has duplicated family_id, e.g. {ids[ids.duplicated()].iloc[:5].tolist()}")
    fam_ids = families["family_id"].astype(str)
    position = pd.Index(fam_ids).get_indexer(ids)
    if (position < 0).any():
        raise ValueError(f"{int((position < 0).sum())} surveyed families are not in `families`, e.g. "
                         f"{ids[position < 0].iloc[:5].tolist()}")
    fam = families.iloc[position]
    mem = members[members["family_id"].astype(str).isin(set(ids))]
    X = build_features(fam, mem, photo_features, config=cfg.features)
    y = survey["log_pcexp"].to_numpy(dtype=np.float64)
    w = survey["survey_weight"].to_numpy(dtype=np.float64)
    bad = np.isnan(y) | np.isnan(w) | (w < 0)
    if bad.any():
        raise ValueError(f"survey rows with missing log_pcexp or invalid weight, e.g. family "
                         f"{ids[bad].iloc[0]}: log_pcexp={y[bad][0]}, survey_weight={w[bad][0]}")
    return X, y, w

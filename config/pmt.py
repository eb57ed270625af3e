"""PMT model configuration (`config/pmt.yaml`): feature options, OLS and LightGBM hyper-parameters,
uncertainty settings. A fitted `models.pmt.PMTModel` stores the `PMTConfig` it was trained with."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field

from config import StrictModel, load_yaml


class FeatureConfig(StrictModel):
    """Options of `features.build.build_features` (ages in completed years)."""

    child_age_max: int = Field(default=14, ge=0, le=30)
    under5_age_max: int = Field(default=4, ge=0, le=10)
    elderly_age_min: int = Field(default=65, ge=40, le=120)
    school_age_min: int = Field(default=7, ge=0, le=30)
    school_age_max: int = Field(default=18, ge=0, le=30)
    asset_value_mrp: dict[str, float] = Field(
        default_factory=dict, description="asset column -> replacement value (million Rp) for the asset index"
    )
    livestock_tlu: dict[str, float] = Field(
        default_factory=dict, description="livestock column -> tropical livestock units per head"
    )


class OLSConfig(StrictModel):
    alpha: float = Field(default=1e-3, ge=0)
    region_effects: Literal["province", "regency"] = "province"


class LGBMConfig(StrictModel):
    objective: str = "regression"
    learning_rate: float = Field(default=0.05, gt=0, le=1)
    num_leaves: int = Field(default=31, ge=2)
    min_data_in_leaf: int = Field(default=40, ge=1)
    feature_fraction: float = Field(default=0.8, gt=0, le=1)
    bagging_fraction: float = Field(default=0.8, gt=0, le=1)
    bagging_freq: int = Field(default=1, ge=0)
    lambda_l2: float = Field(default=1.0, ge=0)
    cat_smooth: float = Field(default=10.0, ge=0)
    min_data_per_group: int = Field(default=50, ge=1)
    max_cat_to_onehot: int = Field(default=4, ge=1)
    max_bin: int = Field(default=255, ge=2)
    max_num_boost_round: int = Field(default=2000, ge=1)
    early_stopping_rounds: int = Field(default=50, ge=1)
    validation_fraction: float = Field(default=0.15, gt=0, lt=1)
    refit_full: bool = True
    categorical_housing: bool = True
    regency_categorical: bool = True
    num_threads: int = Field(default=1, ge=1)


class UncertaintyConfig(StrictModel):
    n_folds: int = Field(default=5, ge=2)
    method: Literal["lgbm_abs", "constant"] = "lgbm_abs"
    coverage: float = Field(default=0.8, gt=0, lt=1)
    calibration_coverage: float = Field(default=0.8, gt=0, lt=1)
    learning_rate: float = Field(default=0.05, gt=0, le=1)
    num_leaves: int = Field(default=8, ge=2)
    min_data_in_leaf: int = Field(default=100, ge=1)
    num_boost_round: int = Field(default=150, ge=1)
    min_sd: float = Field(default=0.05, gt=0)


class PMTConfig(StrictModel):
    features: FeatureConfig = FeatureConfig()
    ols: OLSConfig = OLSConfig()
    lgbm: LGBMConfig = LGBMConfig()
    uncertainty: UncertaintyConfig = UncertaintyConfig()


@lru_cache(maxsize=1)
def pmt_config() -> PMTConfig:
    """The validated contents of config/pmt.yaml (env DESIL_CONFIG_PMT names another file)."""
    return PMTConfig(**load_yaml("pmt"))

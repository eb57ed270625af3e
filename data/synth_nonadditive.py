"""Non-additive relations of the synthetic world (config `heterogeneity`, `saturation`, `farm`).

Each mechanism changes how observables depend on latent welfare z, never z itself (so the poverty
calibration of data.synth_plan stays exact), and each has a switch: when off, the generator draws
exactly what the additive generator drew (no extra draws from the block RNG).

- heterogeneity: per-family multiplier of the welfare loading of housing, services and asset latents
  (urban/rural x province group x per-province lognormal factor from default_rng([seed, 2])).
- saturation: welfare enters log floor area and log PLN kWh through a concave piecewise-linear g(z_std).
- farm: land and livestock of farm households driven jointly by one farm-wealth latent; drawn from
  its own stream default_rng([seed, 3, block]) after the members (who tell which households farm).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from config.synth import SynthConfig
from data.synth_context import BlockContext
from data.synth_draws import latent

HETEROGENEITY_STREAM = 2  # default_rng([seed, 2]): per-province loading multipliers
FARM_STREAM = 3  # default_rng([seed, 3, block]): farm land and livestock of block `block`
AGRICULTURE_INDUSTRY = 1  # features.schema industry code of agriculture, forestry and fishing


def province_loading_multipliers(seed: int, province_codes: np.ndarray, config: SynthConfig) -> np.ndarray:
    """(n_provinces,) loading multiplier per province (group factor x lognormal factor), all 1 when off."""
    h = config.heterogeneity
    codes = np.asarray(province_codes, dtype=object)
    if not h.enabled:
        return np.ones(codes.shape[0])
    group = np.select(
        [np.isin(codes, h.java_provinces), np.isin(codes, h.east_provinces)], [h.java_multiplier, h.east_multiplier], 1.0
    )
    rng = np.random.default_rng([seed, HETEROGENEITY_STREAM])
    return group * np.exp(rng.normal(0.0, h.province_log_sd, size=codes.shape[0]))


def family_loading_scale(
    province_multiplier: np.ndarray, province: np.ndarray, urban: np.ndarray, config: SynthConfig
) -> np.ndarray | None:
    """(n,) multiplier of the welfare loadings of one block's families, or None when heterogeneity is off."""
    h = config.heterogeneity
    if not h.enabled:
        return None
    return province_multiplier[province] * np.where(urban, h.urban_multiplier, h.rural_multiplier)


def scaled_loading(loading: float, ctx: BlockContext, config: SynthConfig) -> np.ndarray | float:
    """The welfare loading of a housing/services/asset latent for each family (scalar when off)."""
    if ctx.loading_scale is None:
        return loading
    cap = config.heterogeneity.max_abs_loading
    return np.clip(loading * ctx.loading_scale, -cap, cap)


def saturating(z_std: np.ndarray, slope_above: float, config: SynthConfig) -> np.ndarray:
    """g(z_std): z_std below saturation.knee_z, knee + slope_above * (z_std - knee) above (z_std when off)."""
    s = config.saturation
    if not s.enabled:
        return z_std
    return np.where(z_std > s.knee_z, s.knee_z + slope_above * (z_std - s.knee_z), z_std)


def _above_cut(lat: np.ndarray, share: np.ndarray | float) -> np.ndarray:
    """True where a standard-normal latent is above the cut that leaves `share` above it."""
    return lat > ndtri(np.clip(1.0 - np.asarray(share, dtype=np.float64), 1e-12, 1 - 1e-12))


def farm_assets(
    rng: np.random.Generator, ctx: BlockContext, config: SynthConfig, farm: np.ndarray
) -> dict[str, np.ndarray]:
    """asset_land (bool) and livestock head counts (int32) of one block, farm households (bool, (n,))
    driven by a shared farm-wealth latent; the keys replace those of data.synth_housing.assets."""
    f = config.farm
    a = config.assets
    n = ctx.n
    u = ctx.urban
    fx = ctx.region[:, 2]  # regional level effect on the assets latents (synth_housing.ASSETS)
    wealth = latent(rng, ctx.z_std, f.loading, fx)
    nonfarm_lat = latent(rng, ctx.z_std, f.nonfarm_land_loading, fx)
    land_farm = _above_cut(wealth, np.where(u, f.land_share.urban, f.land_share.rural))
    land_other = _above_cut(nonfarm_lat, np.where(u, f.nonfarm_land_share.urban, f.nonfarm_land_share.rural))
    out: dict[str, np.ndarray] = {"asset_land": np.where(farm, land_farm, land_other)}

    pig_scale = np.where(np.isin(ctx.province_code, a.pig_provinces), 1.0, a.pig_share_elsewhere)
    link = f.livestock_link
    for col, spec in a.livestock.items():
        share = np.where(u, spec.urban, spec.rural) * (pig_scale if col == "livestock_pig" else 1.0)
        farm_lat = link * wealth + np.sqrt(1.0 - link * link) * rng.standard_normal(n)
        keeps = np.where(
            farm,
            _above_cut(farm_lat, np.minimum(share * f.keeper_scale_farm, 1.0)),
            rng.random(n) < np.minimum(share * f.keeper_scale_nonfarm, 1.0),
        )
        extra_mean = (spec.mean_count - 1.0) * np.where(farm, np.exp(f.count_loading * wealth), 1.0)
        count = 1 + rng.poisson(extra_mean)
        out[col] = np.where(keeps, np.minimum(count, 999), 0).astype(np.int32)
    return out

"""Housing, utilities, assets and livestock of synthetic families, and their misreporting.

True values are drawn from welfare (ordered probit per variable, regional level effects; loadings
scaled per family and floor area saturating in welfare when data.synth_nonadditive says so); some
families then report worse housing or hide assets (config `misreport`). Returns both: the reported
columns go to families.parquet, the true ones (and the flags) to truth.parquet, and the true vehicle
counts to the Samsat signal.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from config.synth import OrderedSpec, SynthConfig
from data.synth_context import BlockContext
from data.synth_draws import NULL_CODE, binary, categorical, choice, ordered
from data.synth_nonadditive import saturating, scaled_loading

HOUSING, SERVICES, ASSETS = 0, 1, 2  # columns of BlockContext.region


def _downgrade(rng: np.random.Generator, codes: np.ndarray, spec: OrderedSpec, mask: np.ndarray) -> np.ndarray:
    """Move the codes of masked rows 1 or 2 steps down the spec's best-to-worst order."""
    order = np.asarray(spec.codes, dtype=np.int16)
    pos_of = np.full(int(order.max()) + 1, -1, dtype=np.int64)
    pos_of[order] = np.arange(order.size)
    pos = pos_of[codes]
    steps = rng.integers(1, 3, size=codes.shape[0])
    new_pos = np.minimum(pos + steps * mask, order.size - 1)
    return order[new_pos]


def housing(rng: np.random.Generator, ctx: BlockContext, config: SynthConfig) -> dict[str, np.ndarray]:
    """Reported housing columns plus `true_*` materials, `habitable` and `misreported_housing`."""
    h = config.housing
    z, u = ctx.z_std, ctx.urban
    house_fx = ctx.region[:, HOUSING]
    serv_fx = ctx.region[:, SERVICES]
    out: dict[str, np.ndarray] = {}

    def load(spec: OrderedSpec) -> np.ndarray | float:
        return scaled_loading(spec.loading, ctx, config)

    tenure = categorical(rng, u, h.tenure)
    own = tenure == 1
    land_own = choice(rng, ctx.n, [1, 2, 3, 4], h.land_if_own)
    land_other = choice(rng, ctx.n, [1, 2, 3, 4], h.land_if_not_own)
    out["housing_tenure"] = tenure
    out["land_status"] = np.where(own, land_own, land_other).astype(np.int16)

    fa = h.floor_area
    fa_slope = config.saturation.floor_area_slope_above
    base = np.where(u, fa.base_urban_m2, fa.base_rural_m2)
    log_area = (
        np.log(base) + fa.size_elasticity * np.log(ctx.size)
        + fa.welfare_loading * saturating(z, fa_slope, config) + fa.sd * rng.standard_normal(ctx.n)
    )
    area = np.clip(np.rint(np.exp(log_area)), 6, 999).astype(np.int32)
    out["floor_area_m2"] = area

    floor = ordered(rng, z, u, h.floor, house_fx, load(h.floor))
    wall = ordered(rng, z, u, h.wall, house_fx, load(h.wall))
    roof = ordered(rng, z, u, h.roof, house_fx, load(h.roof))
    out["true_floor_material"], out["true_wall_material"], out["true_roof_material"] = floor, wall, roof
    out["habitable"] = (
        (area / ctx.size >= h.habitable_min_m2_per_person)
        & ~np.isin(floor, h.unhabitable_floor)
        & ~np.isin(wall, h.unhabitable_wall)
        & ~np.isin(roof, h.unhabitable_roof)
    )
    mis = rng.random(ctx.n) < config.misreport.housing_rate
    out["misreported_housing"] = mis
    out["floor_material"] = _downgrade(rng, floor, h.floor, mis)
    out["wall_material"] = _downgrade(rng, wall, h.wall, mis)
    out["roof_material"] = _downgrade(rng, roof, h.roof, mis)

    out["drinking_water"] = ordered(rng, z, u, h.water, serv_fx, load(h.water))
    lighting = ordered(rng, z, u, h.lighting, serv_fx, load(h.lighting))
    out["lighting_source"] = lighting
    power = ordered(rng, z, u, h.power, serv_fx, load(h.power))
    out["true_pln_installed_power"] = np.where(lighting == 1, power, NULL_CODE).astype(np.int16)
    out["cooking_fuel"] = ordered(rng, z, u, h.cooking, serv_fx, load(h.cooking))
    toilet = ordered(rng, z, u, h.toilet, serv_fx, load(h.toilet))
    has_toilet = toilet != 6
    out["toilet_facility"] = toilet
    toilet_type = ordered(rng, z, u, h.toilet_type, serv_fx, load(h.toilet_type))
    out["toilet_type"] = np.where(has_toilet, toilet_type, NULL_CODE).astype(np.int16)
    sewage = ordered(rng, z, u, h.sewage, serv_fx, load(h.sewage))
    out["sewage_disposal"] = np.where(has_toilet, sewage, NULL_CODE).astype(np.int16)
    return out


def assets(rng: np.random.Generator, ctx: BlockContext, config: SynthConfig) -> dict[str, np.ndarray]:
    """True assets (bool), vehicle counts, livestock counts; then reported assets after misreporting.

    Keys: the schema's asset and livestock columns (reported), `true_motorcycles`, `true_cars`,
    `misreported_assets`.
    """
    a = config.assets
    z, u = ctx.z_std, ctx.urban
    fx = ctx.region[:, ASSETS]
    out: dict[str, np.ndarray] = {}
    true_assets = {
        col: binary(rng, z, u, spec, fx, loading=scaled_loading(spec.loading, ctx, config))
        for col, spec in a.binary.items()
    }

    moto_extra = rng.poisson(a.motorcycles.extra_mean * np.exp(a.motorcycles.welfare_loading * z))
    car_extra = rng.poisson(a.cars.extra_mean * np.exp(a.cars.welfare_loading * z))
    out["true_motorcycles"] = np.where(true_assets["asset_motorcycle"], 1 + moto_extra, 0).astype(np.int32)
    out["true_cars"] = np.where(true_assets["asset_car"], 1 + car_extra, 0).astype(np.int32)

    pig_scale = np.where(np.isin(ctx.province_code, a.pig_provinces), 1.0, a.pig_share_elsewhere)
    for col, spec in a.livestock.items():
        scale = pig_scale if col == "livestock_pig" else 1.0
        keeps = binary(
            rng, z, u, spec, fx, share_scale=scale, loading=scaled_loading(spec.loading, ctx, config)
        )
        count = 1 + rng.poisson(spec.mean_count - 1.0, size=ctx.n)
        out[col] = np.where(keeps, np.minimum(count, 999), 0).astype(np.int32)

    m = config.misreport
    p_mis = np.clip(m.assets_rate * 2.0 * ndtr(m.welfare_tilt * z), 0.0, 1.0)
    mis = rng.random(ctx.n) < p_mis
    out["misreported_assets"] = mis
    hidden = set(m.hidden_assets)
    for col, owned in true_assets.items():
        if col in hidden:
            hide = mis & (rng.random(ctx.n) < m.hide_prob)
            out[col] = owned & ~hide
        else:
            out[col] = owned
    return out


def reported_power(
    rng: np.random.Generator, true_power: np.ndarray, misreported_assets: np.ndarray, config: SynthConfig
) -> np.ndarray:
    """Installed power as reported: under-reporting families may claim one class lower (null stays null)."""
    down = misreported_assets & (true_power > 1) & (rng.random(true_power.shape[0]) < config.misreport.power_down_prob)
    return np.where(down, true_power - 1, true_power).astype(np.int16)

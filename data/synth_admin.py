"""Administrative signals of synthetic families (PLN, BPJS-Kesehatan, BPJS-Ketenagakerjaan, Samsat)
and the family-level rule facts (ground-check status, refused program).

Admin values come from the TRUE situation (true installed power, true vehicles, members' formal
jobs), so they disagree with under-reported survey answers; each source matches only a share of
families (null when unmatched).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from config.synth import SynthConfig
from data.synth_context import BlockContext
from data.synth_draws import NULL_CODE, choice
from data.synth_nonadditive import saturating


def admin(
    rng: np.random.Generator,
    ctx: BlockContext,
    config: SynthConfig,
    true_power: np.ndarray,
    true_motorcycles: np.ndarray,
    true_cars: np.ndarray,
    family: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Admin columns of the families table (ints: -1 = null; floats: NaN = null; bools as int8 -1/0/1)."""
    a = config.admin
    n = ctx.n
    z = ctx.z_std
    out: dict[str, np.ndarray] = {}

    # --- PLN: tariff class follows the TRUE installed power --------------------------------
    metered = true_power > 0
    pln_matched = metered & (rng.random(n) < a.pln_match)
    subsidised = rng.random(n) < ndtr(-(z - a.pln_subsidy_threshold) / a.pln_subsidy_spread)
    r3 = rng.random(n) < a.pln_r3_share
    tariff = np.select(
        [true_power == 1, true_power == 2, true_power == 3, true_power == 4, true_power == 5],
        [1, np.where(subsidised, 2, 3), 4, 5, np.where(r3, 7, 6)],
        default=NULL_CODE,
    )
    out["pln_tariff_class"] = np.where(pln_matched, tariff, NULL_CODE).astype(np.int16)
    a_slope = config.saturation.kwh_slope_above
    median = np.asarray(a.pln_kwh_median)[np.clip(true_power - 1, 0, 4)]
    welfare_term = a.kwh_welfare_loading * saturating(z, a_slope, config)
    kwh = np.exp(np.log(median) + welfare_term + a.kwh_sd * rng.standard_normal(n))
    out["pln_kwh_month"] = np.where(pln_matched, np.round(np.clip(kwh, 0.0, 20000.0), 1), np.nan)

    # --- BPJS-Kesehatan segment of the head ------------------------------------------------
    kes_matched = rng.random(n) < a.bpjs_kes_match
    p_pbi = a.pbi_apbn_max * ndtr(-(z - a.pbi_threshold) / a.pbi_spread)
    u = rng.random(n)
    pbi_apbn = u < p_pbi
    pbi_apbd = ~pbi_apbn & (u < p_pbi + (1.0 - p_pbi) * a.pbi_apbd_share * ndtr(-z))
    pbpu_class = np.where(z > a.pbpu_class1_z, 4, np.where(z > a.pbpu_class2_z, 5, 6))
    not_enrolled = rng.random(n) < a.not_enrolled_prob
    segment = np.select(
        [family["head_formal"] | family["any_formal"], pbi_apbn, pbi_apbd, family["any_pensioner"], not_enrolled],
        [3, 1, 2, 7, 8],
        default=pbpu_class,
    )
    out["bpjs_kes_segment"] = np.where(kes_matched, segment, NULL_CODE).astype(np.int16)
    pbpu = kes_matched & np.isin(segment, (4, 5, 6))
    has_arrears = rng.random(n) < a.arrears_prob * 2.0 * ndtr(-z)
    months = rng.geometric(1.0 / a.arrears_mean_months, size=n)
    out["bpjs_kes_arrears_months"] = np.where(pbpu, np.where(has_arrears, np.minimum(months, 240), 0), NULL_CODE).astype(
        np.int32
    )

    # --- BPJS-Ketenagakerjaan ----------------------------------------------------------------
    tk_matched = rng.random(n) < a.bpjs_tk_match
    active = (family["any_formal"] & (rng.random(n) < a.bpjs_tk_formal_active)) | (
        family["any_informal_worker"] & (rng.random(n) < a.bpjs_tk_other_active)
    )
    wage = np.exp(np.log(a.wage_median_rp) + a.wage_welfare_loading * z + a.wage_sd * rng.standard_normal(n))
    out["bpjs_tk_active"] = np.where(tk_matched, active.astype(np.int8), -1).astype(np.int8)
    out["bpjs_tk_wage_rp"] = np.where(tk_matched & active, np.round(wage, -3), np.nan)

    # --- Samsat: registrations of the TRUE vehicles, with lapsed and stale registrations ----
    samsat_matched = rng.random(n) < a.samsat_match
    moto = true_motorcycles - rng.binomial(true_motorcycles, a.samsat_motorcycle_lapsed) + rng.poisson(
        a.samsat_motorcycle_extra, n
    )
    cars = true_cars - rng.binomial(true_cars, a.samsat_car_lapsed) + rng.poisson(a.samsat_car_extra, n)
    out["samsat_motorcycles"] = np.where(samsat_matched, np.minimum(moto, 99), NULL_CODE).astype(np.int32)
    out["samsat_cars"] = np.where(samsat_matched, np.minimum(cars, 99), NULL_CODE).astype(np.int32)
    return out


def rules(rng: np.random.Generator, ctx: BlockContext, config: SynthConfig) -> dict[str, np.ndarray]:
    """Family-level rule facts: ground_check_status (codes 1-4) and refused_program (bool)."""
    r = config.rules
    return {
        "ground_check_status": choice(rng, ctx.n, [1, 2, 3, 4], r.ground_check_pmf),
        "refused_program": rng.random(ctx.n) < r.refused_rate * 2.0 * ndtr(ctx.z_std),
    }

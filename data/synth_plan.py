"""The population-level plan of a synthetic population: everything that is fixed before any block
of families is drawn, so that blocks can be generated independently (and in any order).

- Families are allocated to provinces with probability equal to the province's share of people in
  the BPS March 2024 survey population (`survey_population_mar2024_thousands`, see
  features/reference/README.md); the family-size pmf is the same everywhere, so people shares match
  too. Regencies are equally likely within a province (stated rule); urban with the province's
  urban share.
- Latent real welfare z = log(pcexp / poverty line) = mu[p] + urban_shift * urban + regency effect
  - size_elasticity * log(size / 3) + N(0, sigma). mu[p] is solved with brentq so that the EXACT
  person-weighted poverty rate P(z < 0), a finite mixture of normal CDFs over regency x urban x
  family size, equals the BPS March 2024 rate. No pilot sample is needed.
- Survey inclusion probabilities per province (SUSENAS-like, small provinces over-sampled).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import ndtr

from config.synth import SynthConfig
from data.synth_nonadditive import province_loading_multipliers
from features.regions import provinces, regencies

PLAN_STREAM = 1  # RNG stream of the plan: default_rng([seed, PLAN_STREAM]); blocks use [seed, 0, b]


@dataclass(frozen=True)
class PopulationPlan:
    """Per-province and per-regency parameters of one (seed, config) population.

    Arrays indexed by province position p (0..37, order of features.regions.provinces()) or by
    regency position r (0..513, order of features.regions.regencies()).
    """

    province_codes: np.ndarray  # (38,) str
    family_prob: np.ndarray  # (38,) P(family in province p), sums to 1
    urban_share: np.ndarray  # (38,) 0-1
    log_poverty_line: np.ndarray  # (38,) log Rp/capita/month
    poverty_rate: np.ndarray  # (38,) published rate, 0-1
    mu: np.ndarray  # (38,) calibrated welfare location
    regency_start: np.ndarray  # (38,) first regency position of each province
    regency_count: np.ndarray  # (38,)
    regency_codes: np.ndarray  # (514,) str
    regency_effect: np.ndarray  # (514,) welfare effect (log points), mean 0 within province
    region_effect: np.ndarray  # (514, 3) level effects on housing, services, assets latents
    size_values: np.ndarray  # (K,) 1..K
    size_pmf: np.ndarray  # (K,)
    z_mean: float  # national mean of z over families (closed form)
    z_sd: float  # national sd of z over families (closed form)
    survey_prob: np.ndarray  # (38,) inclusion probability per province
    loading_multiplier: np.ndarray  # (38,) welfare-loading multiplier (data.synth_nonadditive), 1 when off


def _size_shift(config: SynthConfig, sizes: np.ndarray) -> np.ndarray:
    return -config.welfare.size_elasticity * np.log(sizes / 3.0)


def person_poverty_rate(
    mu: float,
    regency_effects: np.ndarray,
    urban_share: float,
    config: SynthConfig,
) -> float:
    """Exact person-weighted P(z < 0) in one province for location mu (mixture of normal CDFs)."""
    sizes = np.arange(1, len(config.family_size_pmf) + 1, dtype=np.float64)
    pmf = np.asarray(config.family_size_pmf)
    w = config.welfare
    # axes: regency (R), urban (2), size (K)
    shift = (
        regency_effects[:, None, None]
        + np.array([0.0, w.urban_shift])[None, :, None]
        + _size_shift(config, sizes)[None, None, :]
    )
    weight = (
        np.full(regency_effects.shape[0], 1.0 / regency_effects.shape[0])[:, None, None]
        * np.array([1.0 - urban_share, urban_share])[None, :, None]
        * (pmf * sizes)[None, None, :]
    )
    return float((weight * ndtr(-(mu + shift) / w.sigma)).sum() / weight.sum())


def build_plan(seed: int, config: SynthConfig) -> PopulationPlan:
    """Allocate, draw regional effects and calibrate mu per province for one seed."""
    prov = provinces()
    reg = regencies()
    codes = np.asarray(prov.index, dtype=object)
    people = prov["survey_population_mar2024_thousands"].to_numpy(dtype=np.float64)
    family_prob = people / people.sum()
    urban_share = prov["urban_share"].to_numpy(dtype=np.float64)
    rate = prov["poverty_rate_mar2024_pct"].to_numpy(dtype=np.float64) / 100.0
    log_pl = np.log(prov["poverty_line_mar2024_rp"].to_numpy(dtype=np.float64))

    reg_prov = reg["province_code"].to_numpy(dtype=object)
    order = pd.Index(codes)
    reg_pos = order.get_indexer(reg_prov)
    if (reg_pos < 0).any() or (np.diff(reg_pos) < 0).any():
        raise ValueError("regencies_2025.csv must list regencies grouped by province in province order")
    regency_count = np.bincount(reg_pos, minlength=len(codes))
    regency_start = np.concatenate([[0], np.cumsum(regency_count)[:-1]])

    rng = np.random.default_rng([seed, PLAN_STREAM])
    raw = rng.normal(0.0, config.welfare.regency_sd, size=len(reg_pos))
    # centre within province so mu keeps its meaning; the calibration uses the centred effects
    centred = raw - (np.bincount(reg_pos, weights=raw) / regency_count)[reg_pos]
    region_effect = rng.normal(0.0, config.welfare.region_effect_sd, size=(len(reg_pos), 3))

    mu = np.empty(len(codes))
    for p in range(len(codes)):
        effects = centred[regency_start[p] : regency_start[p] + regency_count[p]]

        def gap(m: float, effects: np.ndarray = effects, p: int = p) -> float:
            return person_poverty_rate(m, effects, urban_share[p], config) - rate[p]

        mu[p] = brentq(gap, -10.0, 10.0, xtol=1e-12)

    sizes = np.arange(1, len(config.family_size_pmf) + 1, dtype=np.float64)
    pmf = np.asarray(config.family_size_pmf)
    # family-weighted mixture moments of z (for standardising the observables' latent)
    reg_weight = family_prob[reg_pos] / regency_count[reg_pos]
    u_share = urban_share[reg_pos]
    means = (
        (mu[reg_pos] + centred[reg_pos])[:, None, None]
        + np.array([0.0, config.welfare.urban_shift])[None, :, None]
        + _size_shift(config, sizes)[None, None, :]
    )
    weights = reg_weight[:, None, None] * np.stack([1.0 - u_share, u_share], axis=1)[:, :, None] * pmf[None, None, :]
    z_mean = float((weights * means).sum())
    z_var = float((weights * (means - z_mean) ** 2).sum()) + config.welfare.sigma**2

    power = config.survey.allocation_power
    raw_prob = family_prob ** (power - 1.0)
    survey_prob = np.minimum(1.0, raw_prob * config.survey.share / (family_prob * raw_prob).sum())

    return PopulationPlan(
        province_codes=codes,
        family_prob=family_prob,
        urban_share=urban_share,
        log_poverty_line=log_pl,
        poverty_rate=rate,
        mu=mu,
        regency_start=regency_start,
        regency_count=regency_count,
        regency_codes=reg["regency_code"].to_numpy(dtype=object),
        regency_effect=centred,
        region_effect=region_effect,
        size_values=sizes.astype(np.int16),
        size_pmf=pmf,
        z_mean=z_mean,
        z_sd=float(np.sqrt(z_var)),
        survey_prob=survey_prob,
        loading_multiplier=province_loading_multipliers(seed, codes, config),
    )

"""Vectorised random draws of the synthetic population: ordered categories, yes/no facts and
categorical picks driven by a standardised welfare score (Gaussian copula / ordered probit).

All functions take a numpy Generator and arrays of length n (one value per family or person) and
return arrays of length n; none loops over rows in Python.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from config.synth import BinarySpec, CategoricalSpec, OrderedSpec

NULL_CODE = -1  # marks a null integer/category in the generator's int arrays


def latent(
    rng: np.random.Generator, z_std: np.ndarray, loading: np.ndarray | float, shift: np.ndarray | float = 0.0
) -> np.ndarray:
    """A standard-normal latent with correlation `loading` (scalar or per row, |loading| <= 1) to z_std,
    plus a shift (region, urban)."""
    noise = rng.standard_normal(z_std.shape[0])
    return loading * z_std + np.sqrt(1.0 - loading * loading) * noise + shift


def _cut(lat: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Category index 0..k-1 of each latent; index 0 (best) for the highest latent values."""
    cum = np.cumsum(shares)[:-1]
    thresholds = ndtri(np.clip(cum, 1e-12, 1 - 1e-12))
    return np.searchsorted(thresholds, -lat, side="right")


def ordered(
    rng: np.random.Generator,
    z_std: np.ndarray,
    urban: np.ndarray,
    spec: OrderedSpec,
    shift: np.ndarray | float = 0.0,
    loading: np.ndarray | float | None = None,
) -> np.ndarray:
    """Codes (int16) of an ordered category: richer families fall into the earlier (better) codes.

    The shares are the marginal urban/rural shares at zero shift; `shift` (e.g. a regional effect)
    moves the latent up (better) or down. `loading` (per row) replaces spec.loading when given.
    """
    lat = latent(rng, z_std, spec.loading if loading is None else loading, shift)
    codes = np.asarray(spec.codes, dtype=np.int16)
    idx_urban = _cut(lat, np.asarray(spec.urban))
    idx_rural = _cut(lat, np.asarray(spec.rural))
    return codes[np.where(urban, idx_urban, idx_rural)]


def binary(
    rng: np.random.Generator,
    z_std: np.ndarray,
    urban: np.ndarray,
    spec: BinarySpec,
    shift: np.ndarray | float = 0.0,
    share_scale: np.ndarray | float = 1.0,
    loading: np.ndarray | float | None = None,
) -> np.ndarray:
    """Yes/no (bool) with P(yes) ~ the urban/rural share, more likely the higher loading * z_std.

    `loading` (per row) replaces spec.loading when given."""
    share = np.where(urban, spec.urban, spec.rural) * share_scale
    threshold = ndtri(np.clip(1.0 - share, 1e-12, 1 - 1e-12))
    return latent(rng, z_std, spec.loading if loading is None else loading, shift) > threshold


def categorical(rng: np.random.Generator, urban: np.ndarray, spec: CategoricalSpec) -> np.ndarray:
    """Codes (int16) drawn from the urban or rural pmf, independent of welfare."""
    codes = np.asarray(spec.codes, dtype=np.int16)
    u = rng.random(urban.shape[0])
    idx_urban = np.searchsorted(np.cumsum(spec.urban)[:-1], u, side="right")
    idx_rural = np.searchsorted(np.cumsum(spec.rural)[:-1], u, side="right")
    return codes[np.where(urban, idx_urban, idx_rural)]


def choice(rng: np.random.Generator, n: int, codes: list[int] | np.ndarray, pmf: list[float] | np.ndarray) -> np.ndarray:
    """n codes (int16) drawn from a pmf by inverse CDF (one uniform per row)."""
    cum = np.cumsum(np.asarray(pmf, dtype=np.float64))[:-1]
    idx = np.searchsorted(cum, rng.random(n), side="right")
    return np.asarray(codes, dtype=np.int16)[idx]


def prob_probit(base: np.ndarray | float, loading: float, x: np.ndarray) -> np.ndarray:
    """P(yes) = Phi(Phi^-1(base) + loading * x): `base` at x = 0, moving with x on the probit scale."""
    b = np.clip(np.asarray(base, dtype=np.float64), 1e-9, 1 - 1e-9)
    return ndtr(ndtri(b) + loading * x)

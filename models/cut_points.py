"""National population-weighted decile cut points and desil assignment.

A family's weight is its number of people, so desil 1 is the poorest 10 % of *people* (DESIGN §1).
In ascending welfare order, let family i_k be the first whose cumulative people reach k/10 of all
people; cut point c_k is the welfare of the family right after i_k (exact weighted quantiles, no
interpolation, no sampling), so the family that completes a decile stays in it.
desil = 1 + number of cut points at or below the welfare value.

Because whole families cannot be split, a decile holds 10 % of people up to the size of the
families that tie at or straddle a cut point (tiny with real populations: ±0.5 pp is the contract).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

N_DESIL = 10


def weighted_cut_points(welfare: npt.ArrayLike, people: npt.ArrayLike, n_groups: int = N_DESIL) -> np.ndarray:
    """Exact population-weighted quantile cut points.

    welfare: shape (n,), any real scale (e.g. log per-capita expenditure), no NaN.
    people: shape (n,), family sizes (>= 0). Returns float64 array of shape (n_groups - 1,).
    """
    w = np.asarray(welfare, dtype=np.float64)
    p = np.asarray(people, dtype=np.float64)
    if w.shape != p.shape or w.ndim != 1:
        raise ValueError(f"welfare and people must be 1-D of equal length, got {w.shape} and {p.shape}")
    if w.size == 0:
        raise ValueError("cannot compute cut points of an empty population")
    if np.isnan(w).any():
        raise ValueError("welfare contains NaN; score or drop those families before computing cut points")
    if (p < 0).any():
        raise ValueError("people (family size) must be non-negative")
    order = np.argsort(w, kind="stable")
    cum = np.cumsum(p[order])
    total = cum[-1]
    if total <= 0:
        raise ValueError("the population has no people")
    targets = total * np.arange(1, n_groups) / n_groups
    # First family whose cumulative people reach the target stays in the lower group; the cut point
    # is the welfare of the next family (families tied with that one go up with it).
    idx = np.searchsorted(cum, targets, side="left")
    idx = np.minimum(idx + 1, w.size - 1)
    return w[order][idx]


def assign_desil(welfare: npt.ArrayLike, cut_points: npt.ArrayLike) -> np.ndarray:
    """desil (int8, 1..10) = 1 + number of cut points at or below each welfare value."""
    cuts = np.asarray(cut_points, dtype=np.float64)
    if cuts.ndim != 1 or np.any(np.diff(cuts) < 0):
        raise ValueError("cut points must be a 1-D non-decreasing array")
    values = np.asarray(welfare, dtype=np.float64)
    return (1 + np.searchsorted(cuts, values, side="right")).astype(np.int8)


def people_share_by_desil(desil: npt.ArrayLike, people: npt.ArrayLike, n_groups: int = N_DESIL) -> np.ndarray:
    """Share of people in each desil, shape (n_groups,), summing to 1."""
    d = np.asarray(desil, dtype=np.int64)
    p = np.asarray(people, dtype=np.float64)
    counts = np.bincount(d - 1, weights=p, minlength=n_groups)[:n_groups]
    return counts / counts.sum()

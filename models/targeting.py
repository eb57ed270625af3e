"""Targeting accuracy of a ranking against true deciles (DESIGN §1).

For a program taking desil <= K:
- inclusion error = share of families ranked eligible (pred <= K) whose true desil > K;
- exclusion error = share of truly eligible families (true <= K) ranked above K (pred > K).
Person-weighted versions weight each family by its number of people. A share whose denominator is
empty is NaN (no family ranked / truly eligible), never a silent 0.

Stable metric names (MLflow): `{inclusion,exclusion}_error_d{K}_{family,person}` for K in 4, 5.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

N_DESIL = 10
PROGRAM_LINES: tuple[int, ...] = (4, 5)  # PKH takes desil 1-4; Sembako/PBI-JK/ATENSI/PIP take 1-5


def _arrays(true_desil: npt.ArrayLike, pred_desil: npt.ArrayLike,
            people: npt.ArrayLike | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(true_desil, dtype=np.float64)
    p = np.asarray(pred_desil, dtype=np.float64)
    w = np.ones_like(t) if people is None else np.asarray(people, dtype=np.float64)
    if t.ndim != 1 or t.shape != p.shape or t.shape != w.shape:
        raise ValueError(f"true_desil, pred_desil and people must be 1-D of equal length, "
                         f"got {t.shape}, {p.shape}, {w.shape}")
    for name, a in (("true_desil", t), ("pred_desil", p)):
        bad = np.isnan(a) | (a < 1) | (a > N_DESIL) | (a != np.round(a))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name}[{i}] = {a[i]!r}; allowed: an integer in [1, {N_DESIL}]")
    bad_w = np.isnan(w) | (w < 0)
    if bad_w.any():
        i = int(np.flatnonzero(bad_w)[0])
        raise ValueError(f"people[{i}] = {w[i]!r}; allowed: a number >= 0 (family size)")
    return t, p, w


def _share(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def targeting_errors(true_desil: npt.ArrayLike, pred_desil: npt.ArrayLike, people: npt.ArrayLike,
                     max_desil: int) -> dict[str, float]:
    """Inclusion and exclusion error at program line K = max_desil, per family and per person.

    Inputs: shape (n,) each; desil integers 1..10, people = family size (>= 0).
    Returns inclusion_error_{family,person}, exclusion_error_{family,person} (shares in [0, 1] or
    NaN) and the counts behind them: families, people, ranked_eligible_{families,people},
    true_eligible_{families,people}, wrongly_included_{families,people},
    wrongly_excluded_{families,people}.
    """
    if not 1 <= int(max_desil) <= N_DESIL:
        raise ValueError(f"max_desil = {max_desil}; allowed: an integer in [1, {N_DESIL}]")
    t, p, w = _arrays(true_desil, pred_desil, people)
    ranked = p <= max_desil
    truly = t <= max_desil
    incl = ranked & ~truly
    excl = truly & ~ranked
    out: dict[str, float] = {"families": float(t.size), "people": float(w.sum())}
    for unit, weight in (("families", np.ones_like(w)), ("people", w)):
        out[f"ranked_eligible_{unit}"] = float(weight[ranked].sum())
        out[f"true_eligible_{unit}"] = float(weight[truly].sum())
        out[f"wrongly_included_{unit}"] = float(weight[incl].sum())
        out[f"wrongly_excluded_{unit}"] = float(weight[excl].sum())
    for unit, key in (("family", "families"), ("person", "people")):
        out[f"inclusion_error_{unit}"] = _share(out[f"wrongly_included_{key}"], out[f"ranked_eligible_{key}"])
        out[f"exclusion_error_{unit}"] = _share(out[f"wrongly_excluded_{key}"], out[f"true_eligible_{key}"])
    return out


def targeting_metrics(true_desil: npt.ArrayLike, pred_desil: npt.ArrayLike, people: npt.ArrayLike,
                      thresholds: Iterable[int] = PROGRAM_LINES) -> dict[str, float]:
    """Flat stable names: `{inclusion,exclusion}_error_d{K}_{family,person}` for each K (4 and 5)."""
    out: dict[str, float] = {}
    for k in thresholds:
        e = targeting_errors(true_desil, pred_desil, people, k)
        for kind in ("inclusion", "exclusion"):
            for unit in ("family", "person"):
                out[f"{kind}_error_d{k}_{unit}"] = e[f"{kind}_error_{unit}"]
    return out


def decile_accuracy(true_desil: npt.ArrayLike, pred_desil: npt.ArrayLike,
                    people: npt.ArrayLike | None = None) -> dict[str, float]:
    """Share of families (or people, when `people` is given) whose predicted desil is exactly the true
    one (`exact`) and within one decile (`within1`). NaN for an empty input."""
    t, p, w = _arrays(true_desil, pred_desil, people)
    total = w.sum()
    diff = np.abs(t - p)
    return {"exact": _share(w[diff == 0].sum(), total), "within1": _share(w[diff <= 1].sum(), total)}


def targeting_table(true_desil: npt.ArrayLike, pred_desil: npt.ArrayLike, people: npt.ArrayLike,
                    group: pd.Series | None = None, thresholds: Iterable[int] = PROGRAM_LINES) -> pd.DataFrame:
    """Targeting metrics per group (e.g. province code), one row per group value, sorted.

    `group` is aligned by position with the desil arrays (its index is ignored); None gives a single
    row labelled 'national'. Columns: families, people, then for each K in `thresholds` the
    `{inclusion,exclusion}_error_d{K}_{family,person}` shares and the counts
    `{ranked_eligible,true_eligible,wrongly_included,wrongly_excluded}_d{K}_{families,people}`.
    """
    t, p, w = _arrays(true_desil, pred_desil, people)
    if group is None:
        keys = np.full(t.size, "national", dtype=object)
        name = "group"
    else:
        if len(group) != t.size:
            raise ValueError(f"group has {len(group)} rows but the desil arrays have {t.size}")
        if group.isna().any():
            i = int(np.flatnonzero(group.isna().to_numpy())[0])
            raise ValueError(f"group[{i}] is null; every family needs a group value (e.g. province_code)")
        keys = group.to_numpy()
        name = group.name if group.name is not None else "group"
    cols: dict[str, np.ndarray] = {"families": np.ones_like(w), "people": w}
    for k in thresholds:
        ranked, truly = p <= k, t <= k
        for unit, weight in (("families", np.ones_like(w)), ("people", w)):
            cols[f"ranked_eligible_d{k}_{unit}"] = weight * ranked
            cols[f"true_eligible_d{k}_{unit}"] = weight * truly
            cols[f"wrongly_included_d{k}_{unit}"] = weight * (ranked & ~truly)
            cols[f"wrongly_excluded_d{k}_{unit}"] = weight * (truly & ~ranked)
    sums = pd.DataFrame(cols).groupby(pd.Index(keys, name=name), sort=True).sum()
    out = sums[["families", "people"]].copy()
    for k in thresholds:
        for unit, key in (("family", "families"), ("person", "people")):
            ranked_n = sums[f"ranked_eligible_d{k}_{key}"]
            truly_n = sums[f"true_eligible_d{k}_{key}"]
            out[f"inclusion_error_d{k}_{unit}"] = (sums[f"wrongly_included_d{k}_{key}"] / ranked_n).where(ranked_n > 0)
            out[f"exclusion_error_d{k}_{unit}"] = (sums[f"wrongly_excluded_d{k}_{key}"] / truly_n).where(truly_n > 0)
    count_cols = [c for c in sums.columns if c not in ("families", "people")]
    return pd.concat([out, sums[count_cols]], axis=1)

"""The welfare measure that desil ranks: log per-capita expenditure deflated by the regional price level.

BPS compares welfare across regions after the price difference its provincial poverty lines express
(features/reference README). We rank on

    welfare = log_pcexp - log(poverty_line[province])      (dimensionless; 0 = at the poverty line)

so a family at welfare 0 spends exactly its province's poverty line per person per month. The same
function serves the generator's true desil, the model's predicted desil and every evaluation.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.regions import provinces


@lru_cache(maxsize=1)
def _log_lines() -> tuple[pd.Index, np.ndarray]:
    """(province codes as a string Index, log poverty line of each), read once from the reference."""
    lines = provinces()["poverty_line_mar2024_rp"].astype(np.float64)
    return pd.Index(lines.index.astype(str)), np.log(lines.to_numpy())


@lru_cache(maxsize=8)
def _category_lines(categories: tuple[str, ...]) -> np.ndarray:
    """log poverty line of each category of a categorical of province codes, then NaN (for code -1);
    NaN for a category that is no province code."""
    index, log_lines = _log_lines()
    position = index.get_indexer(list(categories))
    return np.append(np.where(position >= 0, log_lines[position], np.nan), np.nan)


def log_poverty_line(province_code: pd.Series | npt.ArrayLike) -> np.ndarray:
    """log of the March 2024 provincial poverty line (Rp/capita/month) for each province code, shape (n,).
    Raises ValueError naming up to 5 unknown codes. A categorical (e.g. build_features' province_code)
    is looked up once per category."""
    if isinstance(getattr(province_code, "dtype", None), pd.CategoricalDtype):
        categorical = pd.Categorical(province_code)
        lines = _category_lines(tuple(str(c) for c in categorical.categories))[categorical.codes]
        if not np.isnan(lines).any():
            return lines
    codes = pd.Series(np.asarray(province_code, dtype=object)).astype("string")
    index, log_lines = _log_lines()
    position = index.get_indexer(codes.to_numpy(dtype=object, na_value=None))
    unknown = position < 0
    if unknown.any():
        bad = sorted(set(codes[unknown].astype(str)))[:5]
        raise ValueError(f"unknown province_code(s) {bad}; allowed: the 38 BPS province codes")
    return log_lines[position]


def welfare_from_log_pcexp(log_pcexp: npt.ArrayLike, province_code: pd.Series | npt.ArrayLike) -> np.ndarray:
    """Real welfare (log ratio to the provincial poverty line) from nominal log per-capita expenditure."""
    return np.asarray(log_pcexp, dtype=np.float64) - log_poverty_line(province_code)

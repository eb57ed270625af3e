"""BPS regions and their published figures, read from `features/reference/` (see its README).

`provinces()` returns one row per province (38) with code, name, survey population, poverty rate,
poor count, poverty line (Rp/capita/month), urban share (imputed where BPS publishes none, see
`URBAN_SHARE_IMPUTATION`) and regency counts. `regencies()` returns the 514 regencies/cities with
their 4-digit codes (province code + 2-digit suffix).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"

# Urban shares BPS does not publish (blank in bps_provinces.csv), a stated assumption:
# Kalimantan Utara takes its parent province's 2025 projection (Kalimantan Timur); the six Papua
# provinces, whose parent has no figure either, take the lowest published provincial share
# (the least urbanised province), since Papua is among the least urbanised regions.
URBAN_SHARE_FROM_PARENT: dict[str, str] = {"65": "64"}
JAVA_PROVINCES: tuple[str, ...] = ("31", "32", "33", "34", "35", "36")


@lru_cache(maxsize=1)
def provinces() -> pd.DataFrame:
    """The 38 provinces, indexed by `province_code` (2-digit string), with an `urban_share` (0-1) column."""
    df = pd.read_csv(REFERENCE_DIR / "bps_provinces.csv", dtype={"province_code": str, "kemendagri_code": str})
    df = df.set_index("province_code")
    share = df["urban_share_2025_pct"].copy()
    for child, parent in URBAN_SHARE_FROM_PARENT.items():
        if pd.isna(share.get(child)):
            share[child] = share[parent]
    share = share.fillna(df["urban_share_2025_pct"].min())
    df["urban_share"] = share / 100.0
    df["urban_share_imputed"] = df["urban_share_2025_pct"].isna()
    return df


@lru_cache(maxsize=1)
def regencies() -> pd.DataFrame:
    """The 514 regencies/cities with `regency_code` (4-digit string), province code, kind and name."""
    df = pd.read_csv(REFERENCE_DIR / "regencies_2025.csv", dtype=str)
    df["regency_code"] = df["province_code"] + df["regency_suffix"].str.zfill(2)
    return df[["regency_code", "province_code", "kind", "name", "kemendagri_code"]]


def province_codes() -> list[str]:
    """The 38 province codes in reference order (a new list per call; the codes are read once)."""
    return list(province_code_tuple())


def regency_codes() -> list[str]:
    """The 514 regency codes in reference order (a new list per call; the codes are read once)."""
    return list(regency_code_tuple())


@lru_cache(maxsize=1)
def province_code_tuple() -> tuple[str, ...]:
    """The 38 province codes in reference order, built once (hashable: usable as a cache key)."""
    return tuple(str(c) for c in provinces().index)


@lru_cache(maxsize=1)
def regency_code_tuple() -> tuple[str, ...]:
    """The 514 regency codes in reference order, built once (hashable: usable as a cache key)."""
    return tuple(str(c) for c in regencies()["regency_code"])

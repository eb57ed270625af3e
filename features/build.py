"""The PMT model matrix: raw families + members (+ optional house-photo model outputs) -> one row of
features per family. The SAME function serves training, batch ranking and the online service.

Contract of `build_features`:
- one row per family, in the order of `families`, index = `family_id` (string);
- a fixed column set and order (`FEATURE_COLUMNS`), independent of the data: a field missing from
  the input (e.g. admin signals not matched, no photo model) still yields its columns, as NaN;
- all columns float64 except `province_code` and `regency_code`, which are pandas `category`
  with the fixed BPS code lists of `features.regions` as categories (identical encoding between
  training and scoring);
- columns in `CATEGORICAL_COLUMNS` hold integer category codes (0 = not applicable, e.g. no metered
  PLN connection, head not working; NaN = unknown/unmatched) for one-hot or categorical encoding;
- reads only the ground-check, asset, livestock, admin and geography fields of the schema: never
  truth, survey (`log_pcexp`, `survey_weight`), rule (`negative_list`, `ground_check_status`,
  `refused_program`) or identity columns beyond the join key;
- invariant to the order of member rows (the head is the member with relationship 1 and the
  lowest `member_no`; a family without one takes its lowest `member_no`).

`FEATURE_GROUPS` maps each raw variable to the feature columns derived from it; every feature column
belongs to exactly one group, so summing contributions per group keeps their total. Group keys are
raw schema field names (`asset_car`, `members.age`, `photos.wall_label`) plus a few composite keys
for features that combine several fields (`assets.movable_count`, `assets.value_index`,
`livestock.tlu`, `members.family_size` = the number of member rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import numpy as np
import pandas as pd

from config.pmt import FeatureConfig, pmt_config
from features.regions import province_code_tuple, regency_code_tuple
from features.schema import (
    FLOOR_CLASSES,
    IMMOVABLE_ASSETS,
    LIVESTOCK,
    MOVABLE_ASSETS,
    ROOF_CLASSES,
    WALL_CLASSES,
)

# ---------------------------------------------------------------------------------------------
# Column lists (data-independent)
# ---------------------------------------------------------------------------------------------
REGION_COLUMNS: tuple[str, ...] = ("province_code", "regency_code")

# Family category fields copied as integer codes (NaN filled with 0 = not applicable where the
# schema makes the field conditional).
HOUSING_CATEGORY_FIELDS: tuple[str, ...] = (
    "housing_tenure", "land_status", "floor_material", "wall_material", "roof_material",
    "drinking_water", "lighting_source", "pln_installed_power", "cooking_fuel", "toilet_facility",
    "toilet_type", "sewage_disposal",
)
NOT_APPLICABLE_ZERO: frozenset[str] = frozenset({"pln_installed_power", "toilet_type", "sewage_disposal"})
ADMIN_CATEGORY_FIELDS: tuple[str, ...] = ("pln_tariff_class", "bpjs_kes_segment")
HEAD_CATEGORY_COLUMNS: tuple[str, ...] = ("head_marital_status", "head_employment_status", "head_industry")

CATEGORICAL_COLUMNS: tuple[str, ...] = HOUSING_CATEGORY_FIELDS + ADMIN_CATEGORY_FIELDS + HEAD_CATEGORY_COLUMNS

# Substandard housing (the reference rule): roof substandard unless concrete (1) or clay tile (2);
# wall substandard unless masonry (1) or plastered bamboo/wire (2); floor substandard unless marble/
# granite (1), ceramic (2), parquet/vinyl (3) or tile/terrazzo (4).
DECENT_ROOF_CODES: tuple[int, ...] = (1, 2)
DECENT_WALL_CODES: tuple[int, ...] = (1, 2)
DECENT_FLOOR_CODES: tuple[int, ...] = (1, 2, 3, 4)

# PLN installed power code -> volt-ampere (code 5 '> 2,200 VA' taken as 3,500 VA, the next R-2 step).
PLN_POWER_VA: dict[int, float] = {1: 450.0, 2: 900.0, 3: 1300.0, 4: 2200.0, 5: 3500.0}

# BPS formal employment: employer with permanent paid workers (3) or employee (4).
FORMAL_EMPLOYMENT_CODES: tuple[int, ...] = (3, 4)
AGRICULTURE_INDUSTRY_CODE = 1

ASSET_COLUMNS: tuple[str, ...] = tuple(c for c, _, _ in MOVABLE_ASSETS) + tuple(c for c, _, _ in IMMOVABLE_ASSETS)
MOVABLE_ASSET_COLUMNS: tuple[str, ...] = tuple(c for c, _, _ in MOVABLE_ASSETS)
LIVESTOCK_COLUMNS: tuple[str, ...] = tuple(c for c, _, _ in LIVESTOCK)

PHOTO_COLUMNS: tuple[str, ...] = (
    tuple(f"photo_wall_{c}" for c in WALL_CLASSES)
    + tuple(f"photo_roof_{c}" for c in ROOF_CLASSES)
    + tuple(f"photo_floor_{c}" for c in FLOOR_CLASSES)
    + ("photo_habitable",)
)

FEATURE_GROUPS: dict[str, list[str]] = {
    # members (aggregated per family)
    "members.family_size": ["family_size", "log_family_size"],
    "members.age": ["n_children", "n_under5", "n_elderly", "n_working_age", "dependency_ratio", "head_age"],
    "members.sex": ["head_female", "share_female"],
    "members.marital_status": ["head_marital_status"],
    "members.highest_certificate": ["head_certificate", "max_certificate", "mean_adult_certificate"],
    "members.school_participation": ["n_in_school", "n_school_age_out_of_school"],
    "members.works": ["head_works", "n_workers", "share_adults_working"],
    "members.employment_status": ["head_employment_status", "head_formal", "share_workers_formal"],
    "members.industry": ["head_industry", "share_workers_agriculture"],
    "members.owns_business": ["n_business_owners"],
    "members.disability": ["n_disability"],
    "members.chronic_illness": ["n_chronic_illness"],
    # geography
    "province_code": ["province_code"],
    "regency_code": ["regency_code"],
    "urban": ["urban"],
    # housing
    "housing_tenure": ["housing_tenure"],
    "land_status": ["land_status"],
    "floor_area_m2": ["floor_area_m2", "floor_area_per_capita", "log_floor_area_per_capita"],
    "floor_material": ["floor_material", "floor_substandard"],
    "wall_material": ["wall_material", "wall_substandard"],
    "roof_material": ["roof_material", "roof_substandard"],
    "drinking_water": ["drinking_water"],
    "lighting_source": ["lighting_source"],
    "pln_installed_power": ["pln_installed_power", "pln_power_va"],
    "cooking_fuel": ["cooking_fuel"],
    "toilet_facility": ["toilet_facility"],
    "toilet_type": ["toilet_type"],
    "sewage_disposal": ["sewage_disposal"],
    # assets and livestock
    **{col: [col] for col in ASSET_COLUMNS},
    "assets.movable_count": ["movable_asset_count"],
    "assets.value_index": ["asset_value_index"],
    **{col: [col] for col in LIVESTOCK_COLUMNS},
    "livestock.tlu": ["livestock_tlu"],
    # administrative signals (NaN when not matched; *_matched says whether the match succeeded)
    "pln_tariff_class": ["pln_matched", "pln_tariff_class"],
    "pln_kwh_month": ["pln_kwh_month", "log_pln_kwh_per_capita"],
    "bpjs_kes_segment": ["bpjs_kes_matched", "bpjs_kes_segment"],
    "bpjs_kes_arrears_months": ["bpjs_kes_arrears_months"],
    "bpjs_tk_active": ["bpjs_tk_matched", "bpjs_tk_active"],
    "bpjs_tk_wage_rp": ["log_bpjs_tk_wage"],
    "samsat_motorcycles": ["samsat_matched", "samsat_motorcycles"],
    "samsat_cars": ["samsat_cars"],
    # house-photo model outputs (NaN without photos; photo_available 0/1)
    "photos.available": ["photo_available"],
    "photos.wall_label": [c for c in PHOTO_COLUMNS if c.startswith("photo_wall_")],
    "photos.roof_label": [c for c in PHOTO_COLUMNS if c.startswith("photo_roof_")],
    "photos.floor_label": [c for c in PHOTO_COLUMNS if c.startswith("photo_floor_")],
    "photos.habitable": ["photo_habitable"],
}

FEATURE_COLUMNS: tuple[str, ...] = tuple(col for cols in FEATURE_GROUPS.values() for col in cols)
NUMERIC_COLUMNS: tuple[str, ...] = tuple(
    c for c in FEATURE_COLUMNS if c not in REGION_COLUMNS and c not in CATEGORICAL_COLUMNS
)
COLUMN_GROUP: dict[str, str] = {col: group for group, cols in FEATURE_GROUPS.items() for col in cols}

if len(set(FEATURE_COLUMNS)) != len(FEATURE_COLUMNS):  # pragma: no cover - a wiring error, caught at import
    raise RuntimeError("a feature column belongs to two FEATURE_GROUPS entries")


# ---------------------------------------------------------------------------------------------
# Helpers on raw columns
# ---------------------------------------------------------------------------------------------
# Float views of a table's columns that the caller already has (features.validation's
# ValidationResult.family_floats / member_floats): column -> float64 array, NaN for null, row for row.
FloatColumns = Mapping[str, np.ndarray]


def _num(df: pd.DataFrame, col: str, floats: FloatColumns | None = None) -> np.ndarray:
    """A column as float64 with NaN for null (all NaN when the column is absent); a copy of
    `floats[col]` when given (the same values, without converting the column again)."""
    if floats is not None and col in floats:
        values = floats[col]
        if len(values) != len(df):
            raise ValueError(f"float view of {col!r} has {len(values)} rows for a table of {len(df)}")
        return np.array(values, dtype=np.float64)
    if col not in df.columns:
        return np.full(len(df), np.nan)
    s = df[col]
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    elif pd.api.types.is_numeric_dtype(s.dtype):  # numbers and bools: to_numeric would return them as is
        return s.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)  # own memory, as to_numeric gives
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _isin(values: np.ndarray, codes: tuple[int, ...]) -> np.ndarray:
    """1.0 where the code is one of `codes`, 0.0 where it is another code, NaN where unknown."""
    out = np.isin(values, np.asarray(codes, dtype=np.float64)).astype(np.float64)
    out[np.isnan(values)] = np.nan
    return out


@lru_cache(maxsize=8)
def _region_lookup(allowed: tuple[str, ...]) -> tuple[pd.Index, pd.CategoricalDtype]:
    """(index to look codes up in, categorical dtype) of one fixed code list, built once."""
    return pd.Index(allowed), pd.CategoricalDtype(categories=list(allowed))


def _region(families: pd.DataFrame, col: str, allowed: tuple[str, ...]) -> pd.Categorical:
    if col not in families.columns:
        raise ValueError(f"families has no column {col!r}; the region is required for every family")
    values = families[col].astype("string").to_numpy(dtype=object, na_value=None)
    lookup, dtype = _region_lookup(allowed)
    codes = lookup.get_indexer(values)
    bad = codes < 0
    if bad.any():
        ids = families["family_id"].to_numpy()[bad][:5]
        vals = values[bad][:5]
        listed = ", ".join(f"family {i}: {col}={v!r}" for i, v in zip(ids, vals, strict=True))
        raise ValueError(f"{int(bad.sum())} families with an unknown {col} ({listed}); "
                         f"allowed: the BPS codes listed in features/reference")
    return pd.Categorical.from_codes(codes, dtype=dtype)


def family_size(members: pd.DataFrame) -> pd.Series:
    """Number of member rows per family (people), index = family_id, int64, sorted by family_id."""
    return members.groupby("family_id", sort=True, observed=True).size().astype(np.int64).rename("family_size")


def _family_codes(families: pd.DataFrame, members: pd.DataFrame) -> np.ndarray:
    """Position of each member's family in `families` (int64); raises on members of unknown families."""
    index = pd.Index(families["family_id"].astype("string"))
    if not index.is_unique:
        dup = index[index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"families.family_id must be unique; duplicated: {dup}")
    codes = index.get_indexer(members["family_id"].astype("string"))
    if (codes < 0).any():
        orphans = pd.unique(members["family_id"].to_numpy()[codes < 0])[:5].tolist()
        raise ValueError(f"{int((codes < 0).sum())} member rows belong to families not in `families`, "
                         f"e.g. family_id {orphans}")
    return codes.astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Member aggregates
# ---------------------------------------------------------------------------------------------
def _member_features(
    families: pd.DataFrame, members: pd.DataFrame, cfg: FeatureConfig, floats: FloatColumns | None = None
) -> dict[str, np.ndarray]:
    n = len(families)
    codes = _family_codes(families, members)

    def total(x: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=np.nan_to_num(x, nan=0.0), minlength=n).astype(np.float64)

    size = np.bincount(codes, minlength=n).astype(np.float64)
    if (size == 0).any():
        ids = families["family_id"].to_numpy()[size == 0][:5].tolist()
        raise ValueError(f"{int((size == 0).sum())} families have no member rows, e.g. family_id {ids}; "
                         "every family needs at least its head in `members`")

    age = _num(members, "age", floats)
    sex = _num(members, "sex", floats)
    works = _num(members, "works", floats)
    cert = _num(members, "highest_certificate", floats)
    status = _num(members, "employment_status", floats)
    industry = _num(members, "industry", floats)
    school = _num(members, "school_participation", floats)
    adult = age >= 15
    is_child = age <= cfg.child_age_max
    is_elderly = age >= cfg.elderly_age_min
    working_age = ~is_child & ~is_elderly & ~np.isnan(age)
    worker = works == 1
    in_school_age = (age >= cfg.school_age_min) & (age <= cfg.school_age_max)

    out: dict[str, np.ndarray] = {}
    out["family_size"] = size
    out["log_family_size"] = np.log(size)
    n_children = total(is_child)
    n_elderly = total(is_elderly)
    n_working = total(working_age)
    out["n_children"] = n_children
    out["n_under5"] = total(age <= cfg.under5_age_max)
    out["n_elderly"] = n_elderly
    out["n_working_age"] = n_working
    # (children + elderly) / working-age members; a family without working-age members divides by 1.
    out["dependency_ratio"] = (n_children + n_elderly) / np.maximum(n_working, 1.0)
    out["share_female"] = total(sex == 2) / size
    n_adults = total(adult)
    n_workers = total(worker)
    out["n_workers"] = n_workers
    out["share_adults_working"] = np.where(n_adults > 0, total(worker & adult) / np.maximum(n_adults, 1), 0.0)
    out["share_workers_formal"] = np.where(
        n_workers > 0, total(worker & np.isin(status, FORMAL_EMPLOYMENT_CODES)) / np.maximum(n_workers, 1), 0.0)
    out["share_workers_agriculture"] = np.where(
        n_workers > 0, total(worker & (industry == AGRICULTURE_INDUSTRY_CODE)) / np.maximum(n_workers, 1), 0.0)
    cert0 = np.nan_to_num(cert, nan=0.0)
    max_cert = np.full(n, -np.inf)
    np.maximum.at(max_cert, codes, cert0)
    out["max_certificate"] = max_cert
    out["mean_adult_certificate"] = np.where(n_adults > 0, total(cert0 * adult) / np.maximum(n_adults, 1), np.nan)
    out["n_in_school"] = total(school == 2)
    out["n_school_age_out_of_school"] = total(in_school_age & (school != 2))
    out["n_business_owners"] = total(_num(members, "owns_business", floats) == 1)
    out["n_disability"] = total(_num(members, "disability", floats) == 1)
    out["n_chronic_illness"] = total(_num(members, "chronic_illness", floats) == 1)

    # The head: relationship 1 with the lowest member_no, else the lowest member_no (order-invariant).
    rel = _num(members, "relationship", floats)
    member_no = np.nan_to_num(_num(members, "member_no", floats), nan=999.0).clip(0, 999)
    key = codes * 2048 + np.where(rel == 1, 0, 1024) + member_no.astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_codes = codes[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = sorted_codes[1:] != sorted_codes[:-1]
    head = np.empty(n, dtype=np.int64)
    head[sorted_codes[first]] = order[first]
    head_works = works[head] == 1
    out["head_female"] = (sex[head] == 2).astype(np.float64)
    out["head_age"] = age[head]
    out["head_marital_status"] = _num(members, "marital_status", floats)[head]
    out["head_certificate"] = cert0[head]
    out["head_works"] = head_works.astype(np.float64)
    out["head_employment_status"] = np.where(head_works, np.nan_to_num(status[head], nan=0.0), 0.0)
    out["head_formal"] = (head_works & np.isin(status[head], FORMAL_EMPLOYMENT_CODES)).astype(np.float64)
    out["head_industry"] = np.where(head_works, np.nan_to_num(industry[head], nan=0.0), 0.0)
    return out


# ---------------------------------------------------------------------------------------------
# Family-level features
# ---------------------------------------------------------------------------------------------
def _family_features(families: pd.DataFrame, size: np.ndarray, cfg: FeatureConfig,
                     floats: FloatColumns | None = None) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    out["urban"] = _num(families, "urban", floats)
    for col in HOUSING_CATEGORY_FIELDS:
        values = _num(families, col, floats)
        out[col] = np.nan_to_num(values, nan=0.0) if col in NOT_APPLICABLE_ZERO else values
    area = _num(families, "floor_area_m2", floats)
    out["floor_area_m2"] = area
    out["floor_area_per_capita"] = area / size
    out["log_floor_area_per_capita"] = np.log(np.maximum(area, 1.0) / size)
    out["floor_substandard"] = 1.0 - _isin(out["floor_material"], DECENT_FLOOR_CODES)
    out["wall_substandard"] = 1.0 - _isin(out["wall_material"], DECENT_WALL_CODES)
    out["roof_substandard"] = 1.0 - _isin(out["roof_material"], DECENT_ROOF_CODES)
    power = out["pln_installed_power"]
    lut = np.zeros(max(PLN_POWER_VA) + 1)
    for code, va in PLN_POWER_VA.items():
        lut[code] = va
    known = np.isin(power, np.asarray(list(PLN_POWER_VA), dtype=np.float64))
    out["pln_power_va"] = np.where(known, lut[np.where(known, power, 0).astype(np.int64)], 0.0)

    assets = {col: _num(families, col, floats) for col in ASSET_COLUMNS}
    out.update(assets)
    out["movable_asset_count"] = np.nansum(np.column_stack([assets[c] for c in MOVABLE_ASSET_COLUMNS]), axis=1)
    unknown = [c for c in cfg.asset_value_mrp if c not in assets]
    if unknown:
        raise ValueError(f"config features.asset_value_mrp names unknown asset columns {unknown}")
    index = np.zeros(len(families))
    for col, value in cfg.asset_value_mrp.items():
        index += np.nan_to_num(assets[col], nan=0.0) * value
    out["asset_value_index"] = np.log1p(index)
    livestock = {col: _num(families, col, floats) for col in LIVESTOCK_COLUMNS}
    out.update(livestock)
    tlu = np.zeros(len(families))
    for col, units in cfg.livestock_tlu.items():
        if col not in livestock:
            raise ValueError(f"config features.livestock_tlu names unknown livestock column {col!r}")
        tlu += np.nan_to_num(livestock[col], nan=0.0) * units
    out["livestock_tlu"] = tlu

    tariff = _num(families, "pln_tariff_class", floats)
    kwh = _num(families, "pln_kwh_month", floats)
    out["pln_matched"] = (~np.isnan(tariff) | ~np.isnan(kwh)).astype(np.float64)
    out["pln_tariff_class"] = tariff
    out["pln_kwh_month"] = kwh
    out["log_pln_kwh_per_capita"] = np.log1p(kwh / size)
    segment = _num(families, "bpjs_kes_segment", floats)
    out["bpjs_kes_matched"] = (~np.isnan(segment)).astype(np.float64)
    out["bpjs_kes_segment"] = segment
    out["bpjs_kes_arrears_months"] = _num(families, "bpjs_kes_arrears_months", floats)
    tk_active = _num(families, "bpjs_tk_active", floats)
    out["bpjs_tk_matched"] = (~np.isnan(tk_active)).astype(np.float64)
    out["bpjs_tk_active"] = tk_active
    out["log_bpjs_tk_wage"] = np.log1p(_num(families, "bpjs_tk_wage_rp", floats))
    motorcycles = _num(families, "samsat_motorcycles", floats)
    cars = _num(families, "samsat_cars", floats)
    out["samsat_matched"] = (~np.isnan(motorcycles) | ~np.isnan(cars)).astype(np.float64)
    out["samsat_motorcycles"] = motorcycles
    out["samsat_cars"] = cars
    return out


def _photo_features(families: pd.DataFrame, photo_features: pd.DataFrame | None) -> dict[str, np.ndarray]:
    n = len(families)
    if photo_features is None or len(photo_features) == 0:
        out = {col: np.full(n, np.nan) for col in PHOTO_COLUMNS}
        out["photo_available"] = np.zeros(n)
        return out
    photos = photo_features
    if "family_id" in photos.columns:
        photos = photos.set_index("family_id")
    unknown = sorted(c for c in photos.columns if str(c).startswith("photo_") and c not in PHOTO_COLUMNS)
    if unknown:
        raise ValueError(f"photo_features has unknown columns {unknown}; allowed: {list(PHOTO_COLUMNS)}")
    if not photos.index.is_unique:
        dup = photos.index[photos.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"photo_features must have one row per family_id; duplicated: {dup}")
    photos = photos.set_axis(photos.index.astype(str), axis=0)
    aligned = photos.reindex(families["family_id"].astype(str).to_numpy())
    out = {col: _num(aligned, col) for col in PHOTO_COLUMNS}
    block = np.column_stack([out[c] for c in PHOTO_COLUMNS])
    outside = (block < 0) | (block > 1)
    if outside.any():
        row, col = np.argwhere(outside)[0]
        raise ValueError(f"photo_features for family {families['family_id'].iloc[row]}: "
                         f"{PHOTO_COLUMNS[col]}={block[row, col]} is not a probability in [0, 1]")
    out["photo_available"] = (~np.isnan(block)).any(axis=1).astype(np.float64)
    return out


def build_features(
    families: pd.DataFrame,
    members: pd.DataFrame,
    photo_features: pd.DataFrame | None = None,
    config: FeatureConfig | None = None,
    floats: tuple[FloatColumns, FloatColumns] | None = None,
) -> pd.DataFrame:
    """The model matrix: shape (len(families), len(FEATURE_COLUMNS)), index = family_id in input order.

    families: the `families` table (needs family_id, province_code, regency_code; any other schema
    field missing gives NaN features). members: the `members` table of these families (every member
    must belong to a listed family; every family needs at least one member). photo_features:
    optional house-photo model outputs, index (or column) family_id, columns among PHOTO_COLUMNS
    (probabilities in [0, 1]); families without a row get NaN and photo_available = 0.
    config: feature options; default config/pmt.yaml `features`.
    floats: optional (families, members) float views of these very rows (features.validation's
    `family_floats`, `member_floats`), read instead of converting those columns again; same result.
    """
    cfg = config if config is not None else pmt_config().features
    if "family_id" not in families.columns or "family_id" not in members.columns:
        raise ValueError("families and members both need a family_id column")
    columns: dict[str, np.ndarray | pd.Categorical] = {}
    family_floats, member_floats = floats if floats is not None else (None, None)
    member_cols = _member_features(families, members, cfg, member_floats)
    columns.update(member_cols)
    columns.update(_family_features(families, member_cols["family_size"], cfg, family_floats))
    columns.update(_photo_features(families, photo_features))
    columns["province_code"] = _region(families, "province_code", province_code_tuple())
    columns["regency_code"] = _region(families, "regency_code", regency_code_tuple())
    index = pd.Index(families["family_id"].astype(str).to_numpy(), name="family_id", dtype=object)
    # The float64 columns as one 2-D block (what the models read: a block selects and converts to a
    # matrix in one step, where one block per column costs ~1 ms per call even for a handful of rows),
    # then the region categoricals at their places.
    numeric = [col for col in FEATURE_COLUMNS if col not in REGION_COLUMNS]
    block = np.empty((len(index), len(numeric)), dtype=np.float64)
    for j, col in enumerate(numeric):
        block[:, j] = columns[col]
    frame = pd.DataFrame(block, index=index, columns=numeric, copy=False)
    for col in REGION_COLUMNS:
        frame.insert(FEATURE_COLUMNS.index(col), col, columns[col])
    return frame

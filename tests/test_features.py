"""features.build: the model matrix contract (columns, order, dtypes, invariances, no truth leakage)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.build import (
    CATEGORICAL_COLUMNS,
    FEATURE_COLUMNS,
    FEATURE_GROUPS,
    PHOTO_COLUMNS,
    build_features,
    family_size,
)
from features.regions import province_codes, regency_codes
from features.schema import ADMIN_FIELDS, FLOOR_CLASSES, ROOF_CLASSES, WALL_CLASSES


def _tables(pop):
    return pop.families, pop.members


@pytest.fixture(scope="module")
def tables(small_population):
    return _tables(small_population)


@pytest.fixture(scope="module")
def features(tables):
    families, members = tables
    return build_features(families, members)


def test_columns_fixed_order_and_dtypes(tables, features):
    families, _ = tables
    assert list(features.columns) == list(FEATURE_COLUMNS)
    assert features.index.name == "family_id"
    assert list(features.index) == families["family_id"].astype(str).tolist()
    for col in FEATURE_COLUMNS:
        if col in ("province_code", "regency_code"):
            assert isinstance(features[col].dtype, pd.CategoricalDtype)
        else:
            assert features[col].dtype == np.float64, col
    assert list(features["province_code"].cat.categories) == province_codes()
    assert list(features["regency_code"].cat.categories) == regency_codes()
    # the column set does not depend on the data: a 5-family subset gives the same columns and categories
    sub = families.iloc[:5]
    _, members = tables
    small = build_features(sub, members[members["family_id"].isin(sub["family_id"])])
    assert list(small.columns) == list(FEATURE_COLUMNS)
    assert small["regency_code"].cat.categories.equals(features["regency_code"].cat.categories)


def test_feature_groups_partition_the_columns():
    listed = [c for cols in FEATURE_GROUPS.values() for c in cols]
    assert sorted(listed) == sorted(FEATURE_COLUMNS)
    assert len(listed) == len(set(listed))
    assert set(CATEGORICAL_COLUMNS) <= set(FEATURE_COLUMNS)
    expected_photo = ([f"photo_wall_{c}" for c in WALL_CLASSES] + [f"photo_roof_{c}" for c in ROOF_CLASSES]
                      + [f"photo_floor_{c}" for c in FLOOR_CLASSES] + ["photo_habitable"])
    assert list(PHOTO_COLUMNS) == expected_photo


def test_invariant_to_member_and_family_row_order(tables, features):
    families, members = tables
    shuffled_members = members.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(build_features(families, shuffled_members), features)
    shuffled_families = families.sample(frac=1.0, random_state=4)
    out = build_features(shuffled_families, shuffled_members)
    assert list(out.index) == shuffled_families["family_id"].astype(str).tolist()
    pd.testing.assert_frame_equal(out.loc[features.index], features)


def test_no_truth_survey_or_rule_columns_used(small_population, tables, features):
    families, members = tables
    rng = np.random.default_rng(0)
    poisoned = families.copy()
    for col in ("log_pcexp", "survey_weight", "welfare", "desil", "true_desil", "pcexp"):
        poisoned[col] = rng.normal(size=len(families))
    if "ground_check_status" in poisoned:
        poisoned["ground_check_status"] = 2
    if "refused_program" in poisoned:
        poisoned["refused_program"] = True
    poisoned_members = members.copy()
    poisoned_members["negative_list"] = 1
    pd.testing.assert_frame_equal(build_features(poisoned, poisoned_members), features)
    truth_cols = set(small_population.truth.columns) - {"family_id"}
    assert not truth_cols & set(FEATURE_COLUMNS)


def test_family_size_and_member_aggregates(tables, features):
    families, members = tables
    sizes = family_size(members).reindex(features.index)
    np.testing.assert_array_equal(features["family_size"].to_numpy(), sizes.to_numpy(dtype=float))
    assert (features["n_children"] + features["n_working_age"] + features["n_elderly"]
            <= features["family_size"]).all()
    assert features["share_adults_working"].between(0, 1).all()
    assert features["share_workers_formal"].between(0, 1).all()
    # head's sex: the member with relationship 1
    heads = members[members["relationship"] == 1].drop_duplicates("family_id").set_index("family_id")
    expected = (heads["sex"].astype(float) == 2).astype(float).reindex(features.index)
    known = expected.notna()
    np.testing.assert_array_equal(features.loc[known, "head_female"].to_numpy(), expected[known].to_numpy())


def test_substandard_housing_rule(tables):
    families, members = tables
    fam = families.iloc[:8].copy()
    mem = members[members["family_id"].isin(fam["family_id"])]
    fam["roof_material"] = pd.array([1, 2, 3, 4, 5, 6, 7, 8], dtype="Int16")
    fam["wall_material"] = pd.array([1, 2, 3, 4, 5, 6, 7, 1], dtype="Int16")
    fam["floor_material"] = pd.array([1, 2, 3, 4, 5, 6, 7, 8], dtype="Int16")
    out = build_features(fam, mem)
    assert out["roof_substandard"].tolist() == [0, 0, 1, 1, 1, 1, 1, 1]
    assert out["wall_substandard"].tolist() == [0, 0, 1, 1, 1, 1, 1, 0]
    assert out["floor_substandard"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_admin_signals_missing_match_indicators(tables):
    families, members = tables
    fam = families.iloc[:20].copy()
    mem = members[members["family_id"].isin(fam["family_id"])]
    for col in ("pln_tariff_class", "pln_kwh_month"):
        fam[col] = fam[col].mask(pd.Series(True, index=fam.index))
    out = build_features(fam, mem)
    assert (out["pln_matched"] == 0).all() and out["pln_kwh_month"].isna().all()
    # admin columns absent altogether: still columns, NaN, indicators 0
    bare = build_features(fam.drop(columns=[c for c in ADMIN_FIELDS if c in fam]), mem)
    assert list(bare.columns) == list(FEATURE_COLUMNS)
    for col in ("pln_matched", "bpjs_kes_matched", "bpjs_tk_matched", "samsat_matched"):
        assert (bare[col] == 0).all()
    assert bare[["samsat_cars", "log_bpjs_tk_wage", "bpjs_kes_segment"]].isna().all().all()


def test_photo_columns_nan_without_photos_and_aligned_with(tables, features):
    families, members = tables
    assert features[list(PHOTO_COLUMNS)].isna().all().all()
    assert (features["photo_available"] == 0).all()
    ids = families["family_id"].astype(str).iloc[[5, 2]].tolist()
    photos = pd.DataFrame({"photo_wall_masonry": [0.9, 0.2], "photo_habitable": [0.7, 0.1]},
                          index=pd.Index(ids, name="family_id"))
    out = build_features(families, members, photo_features=photos)
    assert out.loc[ids[0], "photo_wall_masonry"] == 0.9 and out.loc[ids[1], "photo_habitable"] == 0.1
    assert out["photo_available"].sum() == 2 and out.loc[ids, "photo_available"].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="photo_wall_brick"):
        build_features(families, members, photo_features=photos.rename(
            columns={"photo_wall_masonry": "photo_wall_brick"}))


def test_bad_input_errors_name_the_family(tables):
    families, members = tables
    orphan = members.iloc[:1].copy()
    orphan["family_id"] = "ORPHAN-0001"
    with pytest.raises(ValueError, match="ORPHAN-0001"):
        build_features(families, pd.concat([members, orphan]))
    bad = families.iloc[:3].copy()
    bad["province_code"] = bad["province_code"].astype("string")
    bad.loc[bad.index[1], "province_code"] = "99"
    fid = str(bad["family_id"].iloc[1])
    with pytest.raises(ValueError, match=f"{fid}.*province_code='99'"):
        build_features(bad, members[members["family_id"].isin(bad["family_id"])])
    lonely = families.iloc[:2]
    with pytest.raises(ValueError, match="no member rows"):
        build_features(lonely, members[members["family_id"] == lonely["family_id"].iloc[0]])

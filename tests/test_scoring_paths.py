"""The fast paths of scoring give exactly what the plain paths give: LightGBM on a pre-built float
matrix equals LightGBM on the DataFrame (categories re-mapped, unknown regions NaN), and the vectorised
identifier check agrees with the per-value check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.build import build_features
from features.validation import SMALL_STRING_INPUT, _identifier_like, _identifier_like_values
from models.lgbm import _SHARED, LGBMPMT, booster_matrix, predict_frame, shared_matrices


@pytest.fixture(scope="module")
def fitted(small_population):
    pop = small_population
    X = build_features(pop.families, pop.members)
    y = pop.truth.set_index("family_id").loc[X.index, "true_log_pcexp"].to_numpy()
    model = LGBMPMT()
    model.fit(X, y, seed=3)
    return model, X


def test_matrix_path_equals_dataframe_path(fitted):
    model, X = fitted
    booster = model.booster_
    cols = model.used_columns_
    matrix = booster_matrix(X, cols, booster.pandas_categorical)
    assert matrix is not None
    np.testing.assert_array_equal(booster.predict(matrix), booster.predict(X[cols]))


def test_shared_matrices_build_one_matrix_per_frame_only_inside_the_block(fitted):
    model, X = fitted
    booster, cols = model.booster_, model.used_columns_
    plain = predict_frame(booster, X, cols)
    assert getattr(_SHARED, "matrices", None) is None  # no caching outside the block
    with shared_matrices():
        first = predict_frame(booster, X, cols)
        second = predict_frame(booster, X, cols)
        other = X.head(30).copy()  # another frame gets its own matrix
        head = predict_frame(booster, other, cols)
        assert len(_SHARED.matrices) == 2
    assert getattr(_SHARED, "matrices", None) is None
    np.testing.assert_array_equal(first, plain)
    np.testing.assert_array_equal(second, plain)
    np.testing.assert_array_equal(head, plain[:30])


def test_matrix_path_remaps_categories_that_differ_from_training(fitted):
    model, X = fitted
    booster, cols = model.booster_, model.used_columns_
    sub = X.head(50).copy()
    for col in sub.columns:
        if isinstance(sub[col].dtype, pd.CategoricalDtype):
            cats = list(sub[col].cat.categories)
            sub[col] = sub[col].cat.set_categories(cats[::-1])  # same values, other category order
    matrix = booster_matrix(sub, cols, booster.pandas_categorical)
    assert matrix is not None
    np.testing.assert_array_equal(booster.predict(matrix), booster.predict(X.head(50)[cols]))
    np.testing.assert_array_equal(model.predict(sub), model.predict(X.head(50)))


@pytest.mark.parametrize("values", [
    ["3201234567890123", "F0000000001", " 320123456789012 ", "12345678901234", "K" + "1" * 20,
     "\u0663\u0662\u0660\u0661" * 4, "320123456789012\u00a0", "", "0" * 15],
])
def test_vectorised_identifier_check_agrees_with_the_plain_one(values):
    expected = [v for v in values if _identifier_like(v)]
    assert _identifier_like_values(pd.Series(values, dtype="string")) == expected  # small input: Python loop
    many = values * (SMALL_STRING_INPUT // len(values) + 1)  # past the small-input size: pyarrow RE2
    assert len(many) > SMALL_STRING_INPUT
    assert _identifier_like_values(pd.Series(many, dtype="string")) == [v for v in many if _identifier_like(v)]
    assert "3201234567890123" in expected and "F0000000001" not in expected


@pytest.mark.parametrize("broken", [False, True])
def test_features_from_validation_floats_equal_features_from_the_frames(small_population, broken):
    """build_features reading validation's float views gives the very matrix it builds from the valid
    frames, also when validation dropped some families (the views are filtered with them)."""
    from features.validation import validate_population

    families, members = small_population.families.copy(), small_population.members.copy()
    if broken:
        families.loc[families.index[[3, 10, 11]], "floor_area_m2"] = -5.0
        members.loc[members.index[members["family_id"] == families["family_id"].iloc[20]], "age"] = 999
    result = validate_population(families, members)
    assert len(result.rejected_family_ids) == (4 if broken else 0)
    floats = (result.family_floats, result.member_floats)
    assert floats[0] and floats[1]
    plain = build_features(result.valid_families, result.valid_members)
    viewed = build_features(result.valid_families, result.valid_members, floats=floats)
    pd.testing.assert_frame_equal(viewed, plain, check_exact=True)
    with pytest.raises(ValueError, match="rows for a table of"):
        build_features(result.valid_families.iloc[:-1], result.valid_members[
            result.valid_members["family_id"].isin(result.valid_families["family_id"].iloc[:-1])], floats=floats)


def test_poverty_lines_of_a_categorical_equal_those_of_its_strings():
    """log_poverty_line looks a categorical up once per category: same values as the strings, and the
    same refusal of an unknown or missing code (an unknown category that no row uses is no error)."""
    from features.regions import province_code_tuple
    from features.welfare import log_poverty_line

    codes = ["11", "32", "94", "32", "51"]
    categorical = pd.Series(pd.Categorical(codes, categories=[*province_code_tuple(), "99"]))
    np.testing.assert_array_equal(log_poverty_line(categorical), log_poverty_line(codes))
    for bad in (["11", "99"], ["11", None]):
        with pytest.raises(ValueError, match="unknown province_code") as from_strings:
            log_poverty_line(bad)
        with pytest.raises(ValueError, match="unknown province_code") as from_categorical:
            log_poverty_line(pd.Series(pd.Categorical(bad, categories=[*province_code_tuple(), "99"])))
        assert str(from_categorical.value) == str(from_strings.value)

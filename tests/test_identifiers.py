"""Identifiers never leak: an id shaped like a NIK / family-card number is refused and never echoed,
and a ranking batch keeps its fixed columns even when every family is rejected."""

from __future__ import annotations

import pandas as pd
import pytest

from features.validation import WITHHELD, validate_population
from models.ranking import output_columns, rank_families

NIK_LIKE = "3201234567890123"


def _with_id(population, new_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    families, members = population.families.copy(), population.members.copy()
    old = families.loc[0, "family_id"]
    families.loc[0, "family_id"] = new_id
    members.loc[members["family_id"] == old, "family_id"] = new_id
    return families, members


def test_nik_shaped_family_id_is_rejected_without_echoing_it(small_population):
    families, members = _with_id(small_population, NIK_LIKE)
    result = validate_population(families.head(20), members[members["family_id"].isin(families.head(20)["family_id"])])
    assert NIK_LIKE in result.rejected_family_ids
    assert len(result.valid_families) == 19
    text = " ".join(str(v) for v in result.problems.to_numpy().ravel())
    assert NIK_LIKE not in text
    assert (result.problems["value"] == WITHHELD).any()


@pytest.mark.parametrize("family_id", ["F9999999999", "K" + "7" * 20, "12345678901234"])
def test_pseudonymous_and_short_numeric_ids_pass(small_population, family_id):
    families, members = _with_id(small_population, family_id)
    head = families.head(3)
    result = validate_population(head, members[members["family_id"].isin(head["family_id"])])
    assert result.ok, result.problems["message"].tolist()


def test_all_rejected_batch_keeps_the_fixed_columns(small_population):
    families = small_population.families.head(4).copy()
    families["floor_material"] = 77
    members = small_population.members[small_population.members["family_id"].isin(families["family_id"])]
    out = rank_families(None, families, members)  # no family reaches the model
    assert list(out.columns) == output_columns()
    assert out["family_id"].tolist() == families["family_id"].tolist()
    assert out["error"].str.contains("floor_material").all()
    assert out["desil"].isna().all()

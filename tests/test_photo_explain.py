"""Explanations of a photo-consuming PMT use the photo features exactly as ranking does: the same
house-cnn version check, and contributions that add up to the prediction `rank` returns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.nested_input import to_json_records
from features.photo_features import PHOTO_FEATURE_COLUMNS
from models.pmt import PMTModel
from serving.family_payload import explain_records, rank_records

CNN_VERSION = "7"


@pytest.fixture(scope="module")
def photo_world(small_population):
    """An OLS PMT trained with photo features (seeded random probabilities standing in for CNN output)
    and the JSON records of 12 families carrying those photo fields."""
    pop = small_population
    rng = np.random.default_rng(5)
    ids = pop.families["family_id"].to_numpy()
    photos = pd.DataFrame(rng.uniform(0.0, 1.0, (len(ids), len(PHOTO_FEATURE_COLUMNS))),
                          index=pd.Index(ids, name="family_id"), columns=PHOTO_FEATURE_COLUMNS)
    model = PMTModel.fit(pop.families, pop.members, pop.survey, kind="ols", seed=0,
                         photo_features=photos, photo_model_version=CNN_VERSION)
    model.fit_cut_points(pop.families, pop.members, photos)
    fam = pop.families.head(12)
    records = to_json_records(fam, pop.members[pop.members["family_id"].isin(fam["family_id"])])
    for rec in records:
        rec.update({c: float(v) for c, v in photos.loc[rec["family_id"]].items()})
    return model, records


def test_explanation_adds_up_to_the_ranked_prediction_with_photos(photo_world):
    model, records = photo_world
    ranked = rank_records(model, records, CNN_VERSION)
    explained = explain_records(model, records, 5, CNN_VERSION)
    assert [r["family_id"] for r in explained] == [r["family_id"] for r in records]
    assert all(r.get("error") is None for r in ranked + explained), (ranked, explained)
    np.testing.assert_allclose([e["predicted_log_pcexp"] for e in explained],
                               [r["predicted_log_pcexp"] for r in ranked], rtol=0, atol=1e-9)
    assert [e["desil"] for e in explained] == [r["desil"] for r in ranked]
    # the photo fields do move the prediction: without them the explanation answers something else
    no_photos = [{k: v for k, v in r.items() if not k.startswith("photo_")} for r in records]
    plain = explain_records(model, no_photos, 5)
    gaps = np.abs(np.array([p["predicted_log_pcexp"] for p in plain])
                  - np.array([e["predicted_log_pcexp"] for e in explained]))
    assert gaps.max() > 1e-6


def test_explain_refuses_photos_from_another_cnn_version(photo_world):
    model, records = photo_world
    for version in (None, "6"):
        out = explain_records(model, records[:3], 5, version)
        assert len(out) == 3
        assert all("house-cnn version" in r["error"] for r in out), out

"""rank_records on families gathered from several requests (the rank_family batches): an exact copy of
a family is scored once and gets an equal result, a family_id sent again with other content is scored on
its own, and within one request a repeated family_id is still refused on every copy."""

from __future__ import annotations

import copy

import pytest

import serving.family_payload as family_payload
from features.nested_input import to_json_records
from models.pmt import PMTModel
from serving.family_payload import rank_records


@pytest.fixture(scope="module")
def world(small_population):
    pop = small_population
    model = PMTModel.fit(pop.families, pop.members, pop.survey, kind="ols", seed=0)
    model.fit_cut_points(pop.families, pop.members)
    fam = pop.families.head(4)
    return model, to_json_records(fam, pop.members[pop.members["family_id"].isin(fam["family_id"])])


@pytest.fixture
def scoring_calls(monkeypatch):
    """Counts the scoring calls rank_records makes (each call goes on to the real rank_tables)."""
    calls: list[int] = []
    real = family_payload.rank_tables

    def counted(model, families, members, photo_model_version):
        calls.append(len(families))
        return real(model, families, members, photo_model_version)

    monkeypatch.setattr(family_payload, "rank_tables", counted)
    return calls


def test_gathered_copies_are_scored_once_and_changed_copies_on_their_own(world, scoring_calls):
    model, records = world
    a, b, c = records[:3]
    changed = copy.deepcopy(a)
    changed["floor_area_m2"] = 4.0 * float(a["floor_area_m2"] or 10.0) + 50.0
    gathered = [a, b, copy.deepcopy(a), c, changed, copy.deepcopy(b)]

    out = rank_records(model, gathered, None, one_request=False)

    assert [r["family_id"] for r in out] == [f["family_id"] for f in gathered]
    assert all(r["error"] is None for r in out), out
    assert scoring_calls == [3, 1]  # {a, b, c} together, then the changed a alone
    assert out[2] == out[0] and out[2] is not out[0]
    assert out[5] == out[1]
    alone = rank_records(model, [changed], None)[0]
    assert out[4] == alone and out[4]["predicted_log_pcexp"] != out[0]["predicted_log_pcexp"]


def test_a_copy_of_a_rejected_family_gets_the_same_error(world, scoring_calls):
    model, records = world
    bad = copy.deepcopy(records[0])
    bad["floor_area_m2"] = "lots"
    out = rank_records(model, [bad, copy.deepcopy(bad), records[1]], None, one_request=False)
    assert scoring_calls == [2]
    assert out[0] == out[1] and "floor_area_m2" in out[0]["error"]
    assert out[2]["error"] is None


def test_within_one_request_every_copy_is_refused(world, scoring_calls):
    model, records = world
    a, b = records[:2]
    out = rank_records(model, [a, b, copy.deepcopy(a)], None)
    assert [r["error"] is None for r in out] == [False, True, False]
    assert "appears 2 times in the request" in out[0]["error"]
    assert scoring_calls == [1]

"""Targeting errors (DESIGN §1) on hand-built cases whose answers are worked out in the comments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from models.targeting import decile_accuracy, targeting_errors, targeting_metrics, targeting_table

# Four families:            A  B  C  D
TRUE = np.array([2, 5, 4, 7])
PRED = np.array([3, 4, 6, 5])
PEOPLE = np.array([4, 2, 5, 3])


def test_line_4_by_hand():
    e = targeting_errors(TRUE, PRED, PEOPLE, 4)
    # Ranked eligible (pred <= 4): A, B. Of them B is truly desil 5 -> inclusion 1/2 families,
    # people 2 / (4 + 2).
    assert e["inclusion_error_family"] == pytest.approx(1 / 2)
    assert e["inclusion_error_person"] == pytest.approx(2 / 6)
    # Truly eligible (true <= 4): A, C. C is ranked desil 6 -> exclusion 1/2, people 5 / (4 + 5).
    assert e["exclusion_error_family"] == pytest.approx(1 / 2)
    assert e["exclusion_error_person"] == pytest.approx(5 / 9)
    assert (e["ranked_eligible_families"], e["true_eligible_families"]) == (2, 2)
    assert (e["wrongly_included_people"], e["wrongly_excluded_people"]) == (2, 5)
    assert (e["families"], e["people"]) == (4, 14)


def test_line_5_by_hand():
    e = targeting_errors(TRUE, PRED, PEOPLE, 5)
    # Ranked eligible: A, B, D; D truly 7 -> 1/3 families, 3 / (4 + 2 + 3) people.
    assert e["inclusion_error_family"] == pytest.approx(1 / 3)
    assert e["inclusion_error_person"] == pytest.approx(3 / 9)
    # Truly eligible: A, B, C; C ranked 6 -> 1/3 families, 5 / 11 people.
    assert e["exclusion_error_family"] == pytest.approx(1 / 3)
    assert e["exclusion_error_person"] == pytest.approx(5 / 11)


def test_flat_metric_names_are_stable():
    m = targeting_metrics(TRUE, PRED, PEOPLE)
    assert set(m) == {f"{k}_error_d{d}_{u}" for k in ("inclusion", "exclusion") for d in (4, 5)
                      for u in ("family", "person")}
    assert m["exclusion_error_d4_person"] == pytest.approx(5 / 9)
    assert m["inclusion_error_d5_family"] == pytest.approx(1 / 3)


def test_perfect_ranking_and_empty_denominators():
    e = targeting_errors(TRUE, TRUE, PEOPLE, 4)
    assert e["inclusion_error_family"] == 0 and e["exclusion_error_person"] == 0
    # Nobody ranked eligible and nobody truly eligible: shares are undefined, not 0.
    e = targeting_errors([8, 9], [7, 10], [1, 1], 4)
    assert math.isnan(e["inclusion_error_family"]) and math.isnan(e["exclusion_error_person"])


def test_decile_accuracy_by_hand():
    # |true - pred| = 1, 1, 2, 2 -> exact 0, within one 2/4; person-weighted within one (4+2)/14.
    assert decile_accuracy(TRUE, PRED) == {"exact": 0.0, "within1": 0.5}
    acc = decile_accuracy(TRUE, PRED, PEOPLE)
    assert acc["within1"] == pytest.approx(6 / 14)
    assert decile_accuracy([3, 3], [3, 4]) == {"exact": 0.5, "within1": 1.0}


def test_targeting_table_per_group_by_hand():
    group = pd.Series(["11", "11", "12", "12"], index=[10, 11, 12, 13], name="province_code")
    t = targeting_table(TRUE, PRED, PEOPLE, group=group, thresholds=(4,))
    assert list(t.index) == ["11", "12"] and t.index.name == "province_code"
    # Province 11 = A, B: line 4 ranked eligible A, B (B wrongly) -> 1/2; truly eligible A ranked in -> 0.
    assert t.loc["11", "inclusion_error_d4_family"] == pytest.approx(1 / 2)
    assert t.loc["11", "exclusion_error_d4_person"] == 0
    # Province 12 = C, D: nobody ranked <= 4 -> NaN; truly eligible C excluded -> 1.
    assert np.isnan(t.loc["12", "inclusion_error_d4_family"])
    assert t.loc["12", "exclusion_error_d4_family"] == 1
    assert t["families"].tolist() == [2, 2] and t["people"].tolist() == [6, 8]


def test_national_table_equals_flat_metrics_on_random_data():
    rng = np.random.default_rng(3)
    true = rng.integers(1, 11, 500)
    pred = np.clip(true + rng.integers(-2, 3, 500), 1, 10)
    people = rng.integers(1, 8, 500)
    row = targeting_table(true, pred, people).loc["national"]
    for name, value in targeting_metrics(true, pred, people).items():
        assert row[name] == pytest.approx(value)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"pred_desil\[1\]"):
        targeting_errors([1, 2], [1, 0], [1, 1], 4)
    with pytest.raises(ValueError, match="equal length"):
        targeting_errors([1, 2], [1], [1, 1], 4)
    with pytest.raises(ValueError, match="people"):
        targeting_errors([1, 2], [1, 2], [1, -1], 4)

"""Period-over-period transitions: matrix totals equal populations, flow reasons on hand-built cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.transitions import flow_summary, program_flows, transition_matrix


def _ranking(rows) -> pd.DataFrame:
    """rows: (family_id, province_code, desil, people, exclusion_rule or None)."""
    return pd.DataFrame({
        "family_id": [r[0] for r in rows], "province_code": [r[1] for r in rows],
        "desil": [r[2] for r in rows], "people": [r[3] for r in rows],
        "exclusion_rule": pd.array([r[4] for r in rows], dtype="string"),
    })


PREV = _ranking([
    ("fam-1", "11", 2, 4, None),  # stays desil 2: stays in PKH
    ("fam-2", "11", 4, 3, None),  # desil 4 -> 6: leaves PKH (desil moved), a graduation
    ("fam-3", "12", 5, 5, None),  # desil 5 -> 3: enters PKH (desil moved)
    ("fam-4", "12", 7, 2, None),  # gone, was not eligible: no flow
    ("fam-5", "12", 3, 6, "refused_program"),  # rule lifted: enters PKH (exclusion_rule)
    ("fam-8", "11", 1, 2, None),  # gone while eligible: leaves (family_gone)
    ("fam-9", "12", 2, 3, None),  # a member becomes a certified teacher: leaves (exclusion_rule)
])
CURR = _ranking([
    ("fam-1", "11", 2, 5, None),
    ("fam-2", "11", 6, 3, None),
    ("fam-3", "12", 3, 5, None),
    ("fam-5", "12", 3, 6, None),
    ("fam-6", "11", 1, 7, None),  # new and eligible: enters (new_family)
    ("fam-7", "12", 9, 1, None),  # new but not eligible: no flow
    ("fam-9", "12", 2, 3, "certified_teacher"),
])


def test_transition_matrix_by_hand():
    t = transition_matrix(PREV, CURR)
    # In both: fam-1 (2->2), fam-2 (4->6), fam-3 (5->3), fam-5 (3->3), fam-9 (2->2).
    assert t.in_both == 5 and int(t.families.to_numpy().sum()) == 5
    assert t.families.loc[2, 2] == 2 and t.families.loc[4, 6] == 1 and t.families.loc[5, 3] == 1
    assert t.families.loc[3, 3] == 1
    assert t.people.loc[2, 2] == 5 + 3  # current sizes of fam-1 and fam-9
    assert t.families.shape == (10, 10) and t.families.index.name == "desil_previous"
    assert (t.new_families, t.gone_families) == (2, 2)
    assert (t.new_people, t.gone_people) == (8, 4)
    assert t.previous_families == t.in_both + t.gone_families == len(PREV)
    assert t.current_families == t.in_both + t.new_families == len(CURR)


def test_pkh_flows_reasons_by_hand():
    flows = program_flows(PREV, CURR, "PKH").set_index("family_id")
    assert set(flows.index) == {"fam-2", "fam-3", "fam-5", "fam-6", "fam-8", "fam-9"}
    expected = {
        "fam-3": ("entering", "desil_moved"), "fam-5": ("entering", "exclusion_rule"),
        "fam-6": ("entering", "new_family"), "fam-2": ("leaving", "desil_moved"),
        "fam-8": ("leaving", "family_gone"), "fam-9": ("leaving", "exclusion_rule"),
    }
    for fid, (direction, reason) in expected.items():
        assert (flows.loc[fid, "direction"], flows.loc[fid, "reason"]) == (direction, reason), fid
    assert flows["graduated"].to_dict() == {f: f == "fam-2" for f in flows.index}
    assert flows.loc["fam-6", "people"] == 7 and flows.loc["fam-8", "people"] == 2
    assert flows.loc["fam-9", "exclusion_rule_current"] == "certified_teacher"
    assert flows.loc["fam-8", "province_code"] == "11"


def test_line_5_program_sees_fam3_as_staying():
    # Sembako takes desil 1-5: fam-3 (5 -> 3) was already eligible, fam-2 (4 -> 6) still leaves.
    flows = program_flows(PREV, CURR, "Sembako").set_index("family_id")
    assert "fam-3" not in flows.index
    assert flows.loc["fam-2", "reason"] == "desil_moved"


def test_flow_summary_per_province_by_hand_and_reconciled():
    s = flow_summary(PREV, CURR).set_index(["province_code", "program"])
    pkh11, pkh12 = s.loc[("11", "PKH")], s.loc[("12", "PKH")]
    # Province 11: fam-6 enters (new); fam-2 (desil) and fam-8 (gone) leave; fam-2 graduates.
    assert (pkh11["entering"], pkh11["entering_new_family"]) == (1, 1)
    assert (pkh11["leaving"], pkh11["leaving_desil_moved"], pkh11["leaving_family_gone"]) == (2, 1, 1)
    assert pkh11["graduations"] == 1 and pkh11["people_leaving"] == 3 + 2
    # Province 12: fam-3 (desil) and fam-5 (rule lifted) enter; fam-9 leaves by rule.
    assert (pkh12["entering_desil_moved"], pkh12["entering_exclusion_rule"], pkh12["leaving_exclusion_rule"]) == (1, 1, 1)
    assert pkh12["graduations"] == 0
    national = s.groupby(level="program").sum()
    assert (national["eligible_previous"] + national["entering"] - national["leaving"]
            == national["eligible_current"]).all()


def _random_ranking(rng, ids, prefix_rule=0.05) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "family_id": ids, "province_code": rng.choice(["11", "31", "94"], n),
        "desil": rng.integers(1, 11, n), "people": rng.integers(1, 9, n),
        "exclusion_rule": pd.array(np.where(rng.random(n) < prefix_rule, "state_official", None), dtype="string"),
    })


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_totals_reconcile_on_random_rankings(seed):
    rng = np.random.default_rng(seed)
    prev_ids = [f"fam-{i:05d}" for i in range(0, 1500)]
    curr_ids = [f"fam-{i:05d}" for i in range(300, 1700)]
    prev, curr = _random_ranking(rng, prev_ids), _random_ranking(rng, curr_ids)
    t = transition_matrix(prev, curr)
    assert int(t.families.to_numpy().sum()) == t.in_both == 1200
    assert t.previous_families + t.new_families - t.gone_families == t.current_families == len(curr)
    both_ids = curr_ids[:1200]
    assert int(t.people.to_numpy().sum()) == int(curr.set_index("family_id").loc[both_ids, "people"].sum())
    assert t.current_people == int(t.people.to_numpy().sum()) + t.new_people == int(curr["people"].sum())
    assert t.previous_people == int(prev.set_index("family_id").loc[both_ids, "people"].sum()) + t.gone_people
    s = flow_summary(prev, curr)
    national = s.groupby("program").sum(numeric_only=True)
    assert (national["eligible_previous"] + national["entering"] - national["leaving"]
            == national["eligible_current"]).all()
    for reason_cols, total in ((["entering_desil_moved", "entering_exclusion_rule", "entering_new_family"],
                                "entering"),
                               (["leaving_desil_moved", "leaving_exclusion_rule", "leaving_family_gone"],
                                "leaving")):
        assert (s[reason_cols].sum(axis=1) == s[total]).all()
    # New families only enter and gone families only leave, never the other way round.
    flows = program_flows(prev, curr, "PKH")
    assert set(flows.loc[flows["reason"] == "new_family", "family_id"]) <= set(curr_ids[1200:])
    assert set(flows.loc[flows["reason"] == "family_gone", "family_id"]) <= set(prev_ids[:300])


def test_duplicates_and_bad_desil_are_refused():
    with pytest.raises(ValueError, match="more than once"):
        transition_matrix(pd.concat([PREV, PREV.iloc[:1]]), CURR)
    bad = CURR.copy()
    bad.loc[0, "desil"] = 0
    with pytest.raises(ValueError, match=r"desil.*'fam-1'"):
        transition_matrix(PREV, bad)
    with pytest.raises(ValueError, match="province_code"):
        flow_summary(PREV.drop(columns="province_code"), CURR)

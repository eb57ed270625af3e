"""Program rules: every Kepmensos 79/2025 exclusion rule, its precedence, and eligibility by desil."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from config import programs_config
from features.schema import GROUND_CHECK_STATUS, NEGATIVE_LIST
from models.programs import (
    EXCLUSION_RULES,
    eligible_column,
    eligible_programs,
    exclusion_rule,
    rule_text,
)


def _families(ids, ground=None, refused=None) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({
        "family_id": pd.array(ids, dtype="string"),
        "ground_check_status": pd.array(ground if ground is not None else [1] * n, dtype="Int16"),
        "refused_program": pd.array(refused if refused is not None else [False] * n, dtype="boolean"),
    })


def _members(rows) -> pd.DataFrame:
    return pd.DataFrame({"family_id": pd.array([r[0] for r in rows], dtype="string"),
                         "negative_list": pd.array([r[1] for r in rows], dtype="Int16")})


def test_every_schema_exclusion_code_has_a_stable_snake_case_rule():
    names = [r.name for r in EXCLUSION_RULES]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names)
    neg = {(r.code, r.label_en) for r in EXCLUSION_RULES if r.field == "negative_list"}
    assert neg == {(c.code, c.label_en) for c in NEGATIVE_LIST if c.code != 0}
    ground = {(r.code, r.label_en) for r in EXCLUSION_RULES if r.field == "ground_check_status"}
    assert ground == {(c.code, c.label_en) for c in GROUND_CHECK_STATUS if c.code != 1}
    assert rule_text("certified_teacher") == "certified teacher"
    assert rule_text("certified_teacher", "id") == "Guru bersertifikat"
    with pytest.raises(KeyError, match="unknown exclusion rule"):
        rule_text("not_a_rule")


@pytest.mark.parametrize("rule", EXCLUSION_RULES, ids=lambda r: r.name)
def test_each_rule_excludes_its_family_and_only_it(rule):
    ground = [1, 1, 1]
    refused = [False, False, False]
    members = [("fam-clean", 0), ("fam-clean", 0), ("fam-hit", 0), ("fam-other", 0)]
    if rule.field == "ground_check_status":
        ground[1] = rule.code
    elif rule.field == "refused_program":
        refused[1] = True
    else:
        # A non-head member holding the fact excludes the whole family ("family member of").
        members.append(("fam-hit", rule.code))
    out = exclusion_rule(_families(["fam-clean", "fam-hit", "fam-other"], ground, refused), _members(members))
    assert out.name == "exclusion_rule"
    assert list(out.index) == ["fam-clean", "fam-hit", "fam-other"]
    assert out["fam-hit"] == rule.name
    assert out.isna().tolist() == [True, False, True]


def test_first_applicable_rule_wins():
    fams = _families(["fam-a", "fam-b", "fam-c", "fam-d"], ground=[3, 1, 1, 1], refused=[True, True, False, False])
    members = _members([("fam-a", 1), ("fam-b", 2), ("fam-c", 8), ("fam-c", 3), ("fam-c", 0), ("fam-d", 0)])
    out = exclusion_rule(fams, members)
    assert out["fam-a"] == "family_not_found"  # ground check before refusal and member facts
    assert out["fam-b"] == "refused_program"  # refusal before member facts
    assert out["fam-c"] == "state_official"  # lowest negative-list code among members (3 < 8)
    assert pd.isna(out["fam-d"])


def test_family_without_members_has_only_family_rules():
    out = exclusion_rule(_families(["fam-a", "fam-b"], ground=[1, 4]), _members([]))
    assert pd.isna(out["fam-a"]) and out["fam-b"] == "deceased"


def test_bad_codes_and_orphans_name_family_field_and_value():
    with pytest.raises(ValueError, match=r"negative_list.*'fam-b'.*13"):
        exclusion_rule(_families(["fam-a", "fam-b"]), _members([("fam-a", 0), ("fam-b", 13)]))
    with pytest.raises(ValueError, match=r"ground_check_status.*'fam-a'"):
        exclusion_rule(_families(["fam-a"], ground=[9]), _members([]))
    with pytest.raises(ValueError, match=r"'fam-x' is not in families"):
        exclusion_rule(_families(["fam-a"]), _members([("fam-x", 0)]))
    with pytest.raises(ValueError, match="more than once"):
        exclusion_rule(_families(["fam-a", "fam-a"]), _members([]))


def test_eligibility_follows_the_configured_program_lines():
    table = programs_config().programs
    desil = np.arange(1, 11)
    rules = pd.Series([pd.NA] * 10, index=pd.Index([f"fam-{i}" for i in desil]), dtype="string")
    rules.iloc[0] = "refused_program"  # desil 1 but excluded
    out = eligible_programs(desil, rules)
    assert list(out.index) == list(rules.index)
    assert list(out.columns) == [eligible_column(p.name) for p in table] + ["programs"]
    for prog in table:
        expected = (desil <= prog.max_desil) & rules.isna().to_numpy()
        assert out[eligible_column(prog.name)].tolist() == expected.tolist()
    assert out["eligible_PKH"].sum() == 3  # desil 2-4 (desil 1 is excluded)
    assert out["programs"].iloc[0] == ""
    assert out["programs"].iloc[3] == ";".join(p.name for p in table)  # desil 4: all programs
    assert out["programs"].iloc[4] == ";".join(p.name for p in table if p.max_desil >= 5)
    assert (out["programs"].iloc[5:] == "").all()


def test_eligible_programs_rejects_bad_desil():
    rules = pd.Series([pd.NA, pd.NA], index=["fam-a", "fam-b"], dtype="string")
    with pytest.raises(ValueError, match=r"'fam-b'.*11"):
        eligible_programs(np.array([3, 11]), rules)
    with pytest.raises(ValueError, match="shape"):
        eligible_programs(np.array([3]), rules)

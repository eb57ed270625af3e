"""Validation of the data contract: each kind of bad value, structure checks, mixed batches, identifier
columns, the JSON path, Parquet round trips, and the generated population."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features import schema
from features.json_schema import example_family
from features.regions import regencies
from features.validation import (
    CONDITIONAL_RULES,
    ERROR,
    PROBLEM_COLUMNS,
    WARNING,
    ValidationResult,
    validate_family_json,
    validate_population,
    validate_table,
)


# --------------------------------------------------------------------------------------------
# valid input built by hand (varied so that the conditional rules are exercised on good data)
# --------------------------------------------------------------------------------------------
def valid_families(n: int, seed: int = 0) -> list[dict]:
    """`n` valid JSON families with ids F0000..., varied region, lighting, toilet and work status."""
    rng = np.random.default_rng(seed)
    regs = regencies()
    out = []
    for i in range(n):
        fam = example_family(f"F{i:05d}")
        reg = regs.iloc[int(rng.integers(len(regs)))]
        fam["province_code"], fam["regency_code"] = reg["province_code"], reg["regency_code"]
        fam["urban"] = bool(rng.integers(2))
        fam["lighting_source"] = int(rng.integers(1, 5))
        fam["pln_installed_power"] = int(rng.integers(1, 6)) if fam["lighting_source"] == 1 else None
        if rng.random() < 0.3:
            fam["toilet_facility"], fam["toilet_type"], fam["sewage_disposal"] = 6, None, None
        fam["floor_area_m2"] = int(rng.integers(1, 1000))
        fam["pln_kwh_month"] = None if rng.random() < 0.3 else float(rng.uniform(0, 500))
        members = fam["members"]  # three members: the bad cases address members 0-2
        for m in members:
            if m["relationship"] != 1 and rng.random() < 0.5:
                m["works"], m["industry"], m["employment_status"] = False, None, None
        if rng.random() < 0.3:
            members[-1]["school_participation"], members[-1]["school_level"] = 1, None
        fam["members"] = members
        out.append(fam)
    return out


def frames(families: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Families and members DataFrames built directly (not through the JSON path)."""
    fam_rows, mem_rows = [], []
    for fam in copy.deepcopy(families):
        members = fam.pop("members")
        fam_rows.append(fam)
        mem_rows += [{"family_id": fam["family_id"], **m} for m in members]
    return pd.DataFrame(fam_rows), pd.DataFrame(mem_rows)


def typed_frames(families: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """As `frames`, in storage dtypes (what a Parquet file of the contract holds)."""
    fam, mem = frames(families)
    return schema.coerce_dtypes(fam, "families"), schema.coerce_dtypes(mem, "members")


def assert_partition(result: ValidationResult, ids: list[str]) -> None:
    """Every input family id is exactly once in valid or rejected."""
    valid = list(result.valid_families["family_id"])
    assert len(valid) == len(set(valid))
    assert set(valid).isdisjoint(result.rejected_family_ids)
    assert set(valid) | set(result.rejected_family_ids) == set(ids)
    assert set(result.valid_members["family_id"]) <= set(valid)


# --------------------------------------------------------------------------------------------
# mutations: one kind of bad value each. (table, field, member index or None, mutate, check)
# --------------------------------------------------------------------------------------------
def _set(field: str, value: object, member: int | None = None) -> Callable[[dict], None]:
    def mutate(fam: dict) -> None:
        target = fam if member is None else fam["members"][member]
        target[field] = value
    return mutate


def _lighting(light: int, power: object) -> Callable[[dict], None]:
    def mutate(fam: dict) -> None:
        fam["lighting_source"], fam["pln_installed_power"] = light, power
    return mutate


def _no_toilet_but_type(fam: dict) -> None:
    fam["toilet_facility"], fam["toilet_type"], fam["sewage_disposal"] = 6, 1, None


def _toilet_without_type(fam: dict) -> None:
    fam["toilet_facility"], fam["toilet_type"], fam["sewage_disposal"] = 1, None, 1


def _jobless_with_industry(fam: dict) -> None:
    fam["members"][0].update(works=False, industry=3, employment_status=None)


def _worker_without_status(fam: dict) -> None:
    fam["members"][0].update(works=True, industry=3, employment_status=None)


def _never_schooled_with_level(fam: dict) -> None:
    fam["members"][0].update(school_participation=1, school_level=2)


def _foreign_regency(fam: dict) -> None:
    fam["province_code"], fam["regency_code"] = "33", "3501"


BAD_CASES: list[tuple[str, str, int | None, Callable[[dict], None], str]] = [
    ("families", "floor_material", None, _set("floor_material", 99), "category"),
    ("families", "floor_material", None, _set("floor_material", "tile"), "type"),
    ("families", "floor_area_m2", None, _set("floor_area_m2", 0), "range"),
    ("families", "floor_area_m2", None, _set("floor_area_m2", 1000), "range"),
    ("families", "floor_area_m2", None, _set("floor_area_m2", 12.5), "type"),
    ("families", "urban", None, _set("urban", "maybe"), "type"),
    ("families", "housing_tenure", None, _set("housing_tenure", None), "null"),
    ("families", "asset_car", None, _set("asset_car", 2), "type"),
    ("families", "livestock_goat", None, _set("livestock_goat", -1), "range"),
    ("families", "province_code", None, _set("province_code", "99"), "region"),
    ("families", "regency_code", None, _set("regency_code", "9999"), "region"),
    ("families", "regency_code", None, _foreign_regency, "region"),
    ("families", "pln_kwh_month", None, _set("pln_kwh_month", -5.0), "range"),
    ("families", "bpjs_kes_segment", None, _set("bpjs_kes_segment", 0), "category"),
    ("families", "pln_installed_power", None, _lighting(1, None), "conditional"),
    ("families", "pln_installed_power", None, _lighting(4, 2), "conditional"),
    ("families", "toilet_type", None, _no_toilet_but_type, "conditional"),
    ("families", "toilet_type", None, _toilet_without_type, "conditional"),
    ("members", "age", 0, _set("age", 130, 0), "range"),
    ("members", "age", 1, _set("age", -1, 1), "range"),
    ("members", "sex", 1, _set("sex", 3, 1), "category"),
    ("members", "works", 1, _set("works", "sometimes", 1), "type"),
    ("members", "marital_status", 0, _set("marital_status", None, 0), "null"),
    ("members", "industry", 0, _jobless_with_industry, "conditional"),
    ("members", "employment_status", 0, _worker_without_status, "conditional"),
    ("members", "school_level", 0, _never_schooled_with_level, "conditional"),
    ("members", "member_no", 1, _set("member_no", 0, 1), "range"),
    ("members", "negative_list", 2, _set("negative_list", 13, 2), "category"),
]


def _expected_allowed(table: str, field: str, check: str) -> str | None:
    if check == "conditional":
        return next(r.text() for r in CONDITIONAL_RULES if r.table == table and r.field == field)
    if check == "region":
        return None  # region messages add the reference file / the province
    return schema.field_map(table)[field].allowed_text()


@pytest.mark.parametrize(("table", "field", "member", "mutate", "check"), BAD_CASES,
                         ids=[f"{c[0]}.{c[1]}-{c[4]}-{i}" for i, c in enumerate(BAD_CASES)])
def test_each_kind_of_bad_value_is_rejected_with_a_full_message(table, field, member, mutate, check):
    families = valid_families(4, seed=1)
    bad = families[2]
    mutate(bad)
    fam, mem = frames(families)
    result = validate_population(fam, mem)

    assert result.rejected_family_ids == [bad["family_id"]]
    assert_partition(result, [f["family_id"] for f in families])
    errors = result.errors
    hit = errors[(errors["field"] == field) & (errors["check"] == check)]
    assert len(hit) == 1, errors[["field", "check", "message"]].to_string()
    row = hit.iloc[0]
    assert row["family_id"] == bad["family_id"]
    assert row["table"] == table
    target = bad if member is None else bad["members"][member]
    expected_value = "null" if target[field] is None else str(target[field])
    assert row["value"] == expected_value
    expected_allowed = _expected_allowed(table, field, check)
    if expected_allowed is not None:
        assert row["allowed"] == expected_allowed
    message = row["message"]
    for part in (bad["family_id"], field, repr(expected_value), row["allowed"]):
        assert part in message
    if member is not None and field != "member_no":
        assert row["member_no"] == bad["members"][member]["member_no"]
        assert f"member {bad['members'][member]['member_no']}" in message
    # nothing else of the batch was touched
    assert len(result.valid_families) == 3
    assert set(result.valid_members["family_id"]) == {f["family_id"] for f in families} - {bad["family_id"]}


def test_valid_population_has_no_problems_and_storage_dtypes():
    families = valid_families(40, seed=3)
    fam, mem = frames(families)
    result = validate_population(fam, mem)
    assert result.problems.empty, result.problems["message"].tolist()
    assert len(result.valid_families) == 40 and len(result.valid_members) == len(mem)
    assert list(result.valid_families.columns) == [f.name for f in schema.FAMILY_FIELDS]
    for spec in schema.MEMBER_FIELDS:
        assert str(result.valid_members[spec.name].dtype) == spec.pandas_dtype(), spec.name
    for spec in schema.FAMILY_FIELDS:
        assert str(result.valid_families[spec.name].dtype) == spec.pandas_dtype(), spec.name
    assert list(result.problems.columns) == list(PROBLEM_COLUMNS)


def test_every_problem_is_returned_not_the_first():
    families = valid_families(30, seed=4)
    expected = 0
    for i, (_, _, _, mutate, _) in enumerate(BAD_CASES):
        mutate(families[i])
        expected += 1
    fam, mem = frames(families)
    result = validate_population(fam, mem)
    # each mutation yields at least one error on its own family; count the families
    assert set(result.rejected_family_ids) == {f["family_id"] for f in families[:expected]}
    assert len(result.valid_families) == 30 - expected
    for i, (table, field, _, _, check) in enumerate(BAD_CASES):
        errs = result.errors
        assert ((errs["family_id"] == families[i]["family_id"]) & (errs["field"] == field)
                & (errs["check"] == check) & (errs["table"] == table)).sum() == 1, (i, field)


def test_many_bad_cells_in_one_row_are_all_reported():
    families = valid_families(2, seed=5)
    families[0].update(floor_material=99, wall_material=0, roof_material="x", floor_area_m2=-3)
    families[0]["members"][0].update(age=500, sex=9)
    fam, mem = frames(families)
    problems = validate_table(fam, "families")
    assert set(problems["field"]) == {"floor_material", "wall_material", "roof_material", "floor_area_m2"}
    problems = validate_table(mem, "members")
    assert set(problems["field"]) == {"age", "sex"}


# --------------------------------------------------------------------------------------------
# structure
# --------------------------------------------------------------------------------------------
def test_duplicate_family_id_rejects_both_rows():
    families = valid_families(3, seed=6)
    families[2]["family_id"] = families[1]["family_id"]
    fam, mem = frames(families)
    result = validate_population(fam, mem)
    dup = result.errors[(result.errors["check"] == "duplicate") & (result.errors["table"] == "families")]
    assert list(dup["row"]) == [1, 2] and set(dup["family_id"]) == {families[1]["family_id"]}
    assert "appears 2 times" in dup["message"].iloc[0]
    assert result.rejected_family_ids == [families[1]["family_id"]]


def test_duplicate_member_no_and_head_count():
    families = valid_families(4, seed=7)
    for fam in families:
        fam["members"] = example_family(fam["family_id"])["members"]
    families[0]["members"][2]["member_no"] = 2  # duplicate member_no
    families[1]["members"][1]["relationship"] = 1  # two heads
    families[2]["members"][0]["relationship"] = 3  # no head
    fam, mem = frames(families)
    result = validate_population(fam, mem)
    errs = result.errors
    dup = errs[errs["check"] == "duplicate"]
    assert set(dup["family_id"]) == {families[0]["family_id"]} and list(dup["member_no"]) == [2, 2]
    heads = errs[errs["check"] == "one_head"].set_index("family_id")["value"].to_dict()
    assert heads == {families[1]["family_id"]: "2 heads", families[2]["family_id"]: "0 heads"}
    assert result.rejected_family_ids == sorted(f["family_id"] for f in families[:3])


def test_orphan_members_and_families_without_members():
    families = valid_families(3, seed=8)
    fam, mem = frames(families)
    mem.loc[mem["family_id"] == families[0]["family_id"], "family_id"] = "Fnowhere"
    result = validate_population(fam, mem)
    errs = result.errors
    assert set(errs.loc[errs["check"] == "orphan", "family_id"]) == {"Fnowhere"}
    assert list(errs.loc[errs["check"] == "no_members", "family_id"]) == [families[0]["family_id"]]
    assert_partition(result, [f["family_id"] for f in families] + ["Fnowhere"])
    assert validate_table(mem, "members", families=fam)["check"].tolist().count("orphan") == (
        mem["family_id"] == "Fnowhere").sum()


def test_rows_without_family_id_are_reported_by_row_number():
    families = valid_families(3, seed=9)
    fam, mem = frames(families)
    fam.loc[1, "family_id"] = None
    result = validate_population(fam, mem)
    null_id = result.errors[(result.errors["field"] == "family_id") & (result.errors["check"] == "null")]
    assert list(null_id["row"]) == [1]
    assert "row 1 (no family_id)" in null_id["message"].iloc[0]
    # the members of that family are orphans now and are rejected with their id
    assert families[1]["family_id"] in result.rejected_family_ids
    assert len(result.valid_families) == 2


# --------------------------------------------------------------------------------------------
# columns: identifiers, missing, unknown
# --------------------------------------------------------------------------------------------
def test_identifier_columns_are_refused_without_echoing_values():
    families = valid_families(3, seed=10)
    fam, mem = frames(families)
    secrets = ["3201019876543210", "3201011111222233", "3201014444555566"]
    fam["NIK"] = secrets
    fam["No KK"] = secrets[::-1]
    mem["Nama"] = [f"Siti Rahayu {i}" for i in range(len(mem))]
    result = validate_population(fam, mem)
    forbidden = result.errors[result.errors["check"] == "forbidden_column"]
    assert sorted(forbidden["field"]) == ["NIK", "Nama", "No KK"]
    assert forbidden["family_id"].isna().all() and (forbidden["value"] == "<withheld>").all()
    assert all("pseudonymise" in m for m in forbidden["message"])
    dump = result.problems.to_csv()
    for secret in [*secrets, "Siti Rahayu"]:
        assert secret not in dump
    assert result.valid_families.empty and result.valid_members.empty
    assert_partition(result, [f["family_id"] for f in families])
    assert "NIK" not in result.valid_families.columns


def test_missing_required_column_is_one_problem_and_rejects_the_table():
    families = valid_families(3, seed=11)
    fam, mem = frames(families)
    fam = fam.drop(columns=["floor_material", "roof_material"])
    problems = validate_table(fam, "families")
    missing = problems[problems["check"] == "missing_column"]
    assert sorted(missing["field"]) == ["floor_material", "roof_material"]
    assert missing["family_id"].isna().all() and (missing["severity"] == ERROR).all()
    result = validate_population(fam, mem)
    assert result.valid_families.empty and len(result.rejected_family_ids) == 3


def test_missing_nullable_and_unknown_columns_are_warnings():
    families = valid_families(3, seed=12)
    fam, mem = frames(families)
    fam = fam.drop(columns=["pln_kwh_month"])
    fam["enumerator_note"] = "ok"
    result = validate_population(fam, mem)
    assert result.ok and len(result.valid_families) == 3
    warn = result.warnings.set_index("field")["check"].to_dict()
    assert warn == {"pln_kwh_month": "missing_column", "enumerator_note": "unknown_column"}
    assert (result.warnings["severity"] == WARNING).all()
    assert "enumerator_note" not in result.valid_families.columns
    assert result.valid_families["pln_kwh_month"].isna().all()


# --------------------------------------------------------------------------------------------
# JSON path == DataFrame path; Parquet
# --------------------------------------------------------------------------------------------
def test_json_path_equals_dataframe_path():
    families = valid_families(12, seed=13)
    for i, (_, _, _, mutate, _) in enumerate(BAD_CASES[:8]):
        mutate(families[i])
    from_json = validate_family_json(copy.deepcopy(families))
    fam, mem = frames(families)
    from_frames = validate_population(fam, mem)
    pd.testing.assert_frame_equal(from_json.problems, from_frames.problems)
    pd.testing.assert_frame_equal(from_json.valid_families, from_frames.valid_families)
    pd.testing.assert_frame_equal(from_json.valid_members, from_frames.valid_members)
    assert from_json.rejected_family_ids == from_frames.rejected_family_ids


def test_json_single_family_and_member_family_id():
    good = example_family("Kjson0001")
    assert validate_family_json(good).ok
    with_ids = copy.deepcopy(good)
    for m in with_ids["members"]:
        m["family_id"] = "Kjson0001"
    assert validate_family_json(with_ids).ok
    wrong = copy.deepcopy(good)
    wrong["members"][1]["family_id"] = "Kother0001"
    result = validate_family_json(wrong)
    err = result.errors[result.errors["check"] == "json_family_id"]
    assert len(err) == 1 and err["member_no"].iloc[0] == 2 and "Kother0001" in err["message"].iloc[0]
    assert result.rejected_family_ids == ["Kjson0001"]
    no_members = copy.deepcopy(good)
    del no_members["members"]
    result = validate_family_json(no_members)
    assert list(result.errors["check"]) == ["no_members"]
    with pytest.raises(TypeError, match="not a JSON object"):
        validate_family_json(["not a family"])  # type: ignore[list-item]


def test_parquet_round_trip_of_valid_frames(tmp_path):
    families = valid_families(25, seed=14)
    families[3]["members"][0]["age"] = 200
    fam, mem = typed_frames(families)
    fam.to_parquet(tmp_path / "families.parquet")
    mem.to_parquet(tmp_path / "members.parquet")
    result = validate_population(pd.read_parquet(tmp_path / "families.parquet"),
                                 pd.read_parquet(tmp_path / "members.parquet"))
    assert result.rejected_family_ids == [families[3]["family_id"]]
    result.valid_families.to_parquet(tmp_path / "valid_families.parquet")
    result.valid_members.to_parquet(tmp_path / "valid_members.parquet")
    again = validate_population(pd.read_parquet(tmp_path / "valid_families.parquet"),
                                pd.read_parquet(tmp_path / "valid_members.parquet"))
    assert again.problems.empty
    pd.testing.assert_frame_equal(again.valid_families, result.valid_families)
    pd.testing.assert_frame_equal(again.valid_members, result.valid_members)


def test_csv_strings_are_parsed_like_typed_values(tmp_path):
    families = valid_families(10, seed=15)
    fam, mem = frames(families)
    fam.to_csv(tmp_path / "f.csv", index=False)
    mem.to_csv(tmp_path / "m.csv", index=False)
    fam_csv = pd.read_csv(tmp_path / "f.csv", dtype=str)
    mem_csv = pd.read_csv(tmp_path / "m.csv", dtype=str)
    from_csv = validate_population(fam_csv, mem_csv)
    assert from_csv.problems.empty, from_csv.problems["message"].tolist()
    from_frames = validate_population(fam, mem)
    pd.testing.assert_frame_equal(from_csv.valid_families, from_frames.valid_families, check_exact=False)
    pd.testing.assert_frame_equal(from_csv.valid_members, from_frames.valid_members)


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------
_FREE_CATEGORIES = [s for s in schema.FAMILY_FIELDS if s.kind == "category" and not s.nullable
                    and s.name not in {r.when for r in CONDITIONAL_RULES}]
_NUMBERS = [s for s in schema.FAMILY_FIELDS if s.kind in ("int", "float")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.sampled_from(_FREE_CATEGORIES), code=st.integers(-5, 30))
def test_category_codes_rejected_iff_not_allowed(spec, code):
    family = example_family("Kprop0001")
    family[spec.name] = code
    result = validate_family_json(family)
    assert result.ok == (code in spec.codes)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.sampled_from(_NUMBERS), value=st.floats(-1e11, 1e11, allow_nan=False) | st.integers(-10, 1000))
def test_numbers_rejected_iff_out_of_range_or_not_whole(spec, value):
    family = example_family("Kprop0002")
    family[spec.name] = value
    result = validate_family_json(family)
    in_range = spec.minimum <= value <= spec.maximum
    whole = spec.kind == "float" or float(value).is_integer()
    assert result.ok == (in_range and whole), result.problems["message"].tolist()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(broken=st.sets(st.integers(0, 19), max_size=20), case=st.integers(0, len(BAD_CASES) - 1))
def test_mixed_batch_keeps_exactly_the_good_families(broken, case):
    families = valid_families(20, seed=16)
    mutate = BAD_CASES[case][3]
    for i in broken:
        mutate(families[i])
    fam, mem = frames(families)
    result = validate_population(fam, mem)
    ids = [f["family_id"] for f in families]
    assert_partition(result, ids)
    assert result.rejected_family_ids == sorted(ids[i] for i in broken)
    assert list(result.valid_families["family_id"]) == [ids[i] for i in range(20) if i not in broken]


# --------------------------------------------------------------------------------------------
# the generator's population (data/synth.py) must satisfy the contract
# --------------------------------------------------------------------------------------------
def test_generated_population_validates_without_problems(request):
    pytest.importorskip("data.synth")
    population = request.getfixturevalue("small_population")
    result = validate_population(population.families, population.members)
    assert result.problems.empty, result.problems.groupby(["table", "field", "check"]).size().to_string() + \
        "\n" + "\n".join(result.problems["message"].head(10))
    assert len(result.valid_families) == len(population.families)
    assert len(result.valid_members) == len(population.members)


def test_photos_and_survey_tables():
    photos = pd.DataFrame({"family_id": ["F00001", "F00001", "F00002"], "kind": ["front", "floor", "side"],
                           "path": ["a.jpg", "b.jpg", "c.jpg"], "wall_label": ["masonry", None, "brick"],
                           "roof_label": [None, None, None], "floor_label": [None, "earth", None],
                           "habitable": [True, None, False]})
    problems = validate_table(photos, "photos")
    assert sorted(zip(problems["field"], problems["value"], strict=True)) == [("kind", "side"), ("wall_label", "brick")]
    assert set(problems["family_id"]) == {"F00002"}  # two photos of one family are not duplicates
    survey = pd.DataFrame({"family_id": ["F00001", "F00001"], "log_pcexp": [13.2, 30.0], "survey_weight": [10.0, 5.0]})
    problems = validate_table(survey, "survey")
    assert sorted(problems["check"]) == ["duplicate", "duplicate", "range"]


def test_pattern_fullmatch_equals_python_re_for_contract_patterns():
    """The vectorised (RE2) pattern check accepts exactly what Python's re.fullmatch accepts, including
    the family-id pattern's NIK-shaped exclusion that RE2 cannot spell as a lookahead."""
    import random
    import re
    import string

    from features import schema
    from features.validation import SMALL_STRING_INPUT, pattern_fullmatch

    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "_-\n \t.é٣"
    values: list[str | None] = []
    for _ in range(5000):
        n = rng.choice([0, 1, 3, 4, 5, 14, 15, 16, 20, 64, 65])
        pool = string.digits if rng.random() < 0.3 else alphabet
        values.append("".join(rng.choice(pool) for _ in range(n)))
    values += ["123456789012345", "12345678901234", "abcd\n", "٣" * 16, "front", "floor\n", None]
    text = pd.Series(values, dtype="string")
    patterns = {spec.pattern for table in ("families", "members", "photos", "survey")
                for spec in schema.field_map(table).values() if spec.pattern}
    assert schema.FAMILY_ID_PATTERN in patterns
    for pattern in patterns:
        expected = [v is not None and re.fullmatch(pattern, v) is not None for v in values]
        assert pattern_fullmatch(text, pattern).tolist() == expected, pattern  # pyarrow RE2 (large input)
        small = slice(len(values) - SMALL_STRING_INPUT, None)  # the Python path (small input), with the edge cases
        assert pattern_fullmatch(text[small], pattern).tolist() == expected[small], pattern
    assert sum(v is not None and re.fullmatch(schema.FAMILY_ID_PATTERN, v) is not None for v in values) > 100


def test_string_in_set_small_and_large_inputs_agree_with_python_membership():
    """Set membership gives the same answer through the small-input Python loop and through pyarrow,
    for every kind of `allowed` the validator passes (Series, Index, list, a prepared region set)."""
    import random

    from features.validation import SMALL_STRING_INPUT, _in_set, _region_value_set, string_in_set

    rng = random.Random(3)
    pool = [f"F{i:05d}" for i in range(60)] + ["11", "32", "99", "3201", ""]
    values = [rng.choice(pool) if rng.random() > 0.1 else None for _ in range(3 * SMALL_STRING_INPUT)]
    allowed = [v for v in pool if rng.random() < 0.5] + [None]
    present = {v for v in allowed if v is not None}
    expected = np.array([v is not None and v in present for v in values])
    text = pd.Series(values, dtype="string")
    for form in (pd.Series(allowed, dtype="string"), pd.Index([v for v in allowed if v is not None]), allowed):
        assert (string_in_set(text, form) == expected).all()  # large input: pyarrow
        assert (string_in_set(text[:40], form) == expected[:40]).all()  # small input: Python loop
    provinces = _region_value_set("province_code")
    codes = set(provinces.to_pylist())
    assert {"11", "32"} <= codes and "99" not in codes
    for part in (text[:40], text):
        listed = part.to_numpy(dtype=object, na_value=None)
        assert (_in_set(part, provinces) == np.array([v is not None and v in codes for v in listed])).all()


def test_small_and_large_inputs_find_the_same_region_mismatches_and_repeated_ids():
    """Up to SMALL_STRING_INPUT rows the province/regency agreement and the repeated-id check run in
    Python, above it in pyarrow and pandas: both report the same rows (null codes are no mismatch)."""
    from features.validation import SMALL_STRING_INPUT

    families = valid_families(SMALL_STRING_INPUT + 20, seed=11)
    for i in (2, 30, SMALL_STRING_INPUT + 5):
        _foreign_regency(families[i])
    families[5]["regency_code"] = None
    families[9]["province_code"] = None
    families[12]["family_id"] = families[33]["family_id"] = families[4]["family_id"]
    fam, _ = frames(families)

    def found(table: pd.DataFrame) -> list[tuple[int, str, str]]:
        problems = validate_table(table, "families")
        problems = problems[problems["check"].isin(["region", "duplicate"])]
        return sorted(zip(problems["row"].astype(int), problems["check"], problems["field"], strict=True))

    large = found(fam)
    small = found(fam.iloc[:40])
    assert small == [p for p in large if p[0] < 40]
    assert small == [(2, "region", "regency_code"), (4, "duplicate", "family_id"), (12, "duplicate", "family_id"),
                     (30, "region", "regency_code"), (33, "duplicate", "family_id")]
    assert (SMALL_STRING_INPUT + 5, "region", "regency_code") in large

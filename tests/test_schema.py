"""The contract as JSON Schema and through the CLI (`desil schema`, `desil validate`, `desil pseudonymise`).

jsonschema is not a dependency, so a small checker below covers the keywords our generator emits
(type, enum, minimum, maximum, pattern, required, properties, items, minItems, $ref, allOf,
if/then/else, not, propertyNames)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import cli
from features import schema
from features.json_schema import contract_schema, example_family, family_request_schema, table_row_schema
from features.pseudonym import pseudonymise
from features.validation import CONDITIONAL_RULES, validate_family_json

_TYPES = {"integer": lambda v: isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float)
          and v.is_integer(), "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
          "boolean": lambda v: isinstance(v, bool), "string": lambda v: isinstance(v, str),
          "null": lambda v: v is None, "object": lambda v: isinstance(v, dict),
          "array": lambda v: isinstance(v, list)}


def json_errors(instance: Any, node: dict, root: dict, path: str = "$") -> list[str]:
    """Minimal draft 2020-12 checker for the keywords the generator uses; returns error strings."""
    errors: list[str] = []
    if "$ref" in node:
        target = root
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        errors += json_errors(instance, target, root, path)
    if "type" in node:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        if not any(_TYPES[t](instance) for t in types):
            return [f"{path}: {instance!r} is not {types}"]
    if "enum" in node and instance not in node["enum"]:
        errors.append(f"{path}: {instance!r} not in enum")
    if isinstance(instance, int | float) and not isinstance(instance, bool):
        if "minimum" in node and instance < node["minimum"]:
            errors.append(f"{path}: {instance} < minimum")
        if "maximum" in node and instance > node["maximum"]:
            errors.append(f"{path}: {instance} > maximum")
    if isinstance(instance, str) and "pattern" in node and not re.search(node["pattern"], instance):
        errors.append(f"{path}: {instance!r} does not match pattern")
    if isinstance(instance, dict):
        errors += [f"{path}: missing {k}" for k in node.get("required", []) if k not in instance]
        for key, sub in node.get("properties", {}).items():
            if key in instance:
                errors += json_errors(instance[key], sub, root, f"{path}.{key}")
        if "propertyNames" in node:
            for key in instance:
                errors += json_errors(key, node["propertyNames"], root, f"{path}[key {key}]")
    if isinstance(instance, list):
        if len(instance) < node.get("minItems", 0):
            errors.append(f"{path}: fewer than minItems")
        if "items" in node:
            for i, item in enumerate(instance):
                errors += json_errors(item, node["items"], root, f"{path}[{i}]")
    for sub in node.get("allOf", []):
        errors += json_errors(instance, sub, root, path)
    if "if" in node:
        branch = node.get("then") if not json_errors(instance, node["if"], root, path) else node.get("else")
        if branch is not None:
            errors += json_errors(instance, branch, root, path)
    if "not" in node and not json_errors(instance, node["not"], root, path):
        errors.append(f"{path}: matches a 'not' schema")
    return errors


# --------------------------------------------------------------------------------------------
# JSON Schema
# --------------------------------------------------------------------------------------------
def test_row_schemas_cover_every_field_with_its_constraints():
    for table, specs in schema.TABLES.items():
        doc = table_row_schema(table)
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert list(doc["properties"]) == [s.name for s in specs]
        assert doc["required"] == [s.name for s in specs if not s.nullable]
        for spec in specs:
            prop = doc["properties"][spec.name]
            types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
            assert ("null" in types) == spec.nullable, spec.name
            if spec.kind == "category":
                assert [c for c in prop["enum"] if c is not None] == list(spec.codes)
                for cat in spec.categories:
                    assert cat.label_id in prop["description"] and cat.label_en in prop["description"]
            if spec.kind in ("int", "float"):
                assert (prop["minimum"], prop["maximum"]) == (spec.minimum, spec.maximum)
            if spec.pattern:
                assert prop["pattern"] == spec.pattern
    contract = contract_schema()
    assert set(contract["$defs"]) == {f"{t}_row" for t in schema.TABLES} | {"family_with_members"}
    json.dumps(contract)  # serialisable


def test_request_schema_accepts_the_example_and_rejects_bad_families():
    doc = family_request_schema()
    good = example_family("Kschema001")
    assert json_errors(good, doc, doc) == []
    assert doc["examples"] == [example_family()]
    bad_age = copy.deepcopy(good)
    bad_age["members"][0]["age"] = 130
    assert any("age" in e for e in json_errors(bad_age, doc, doc))
    no_power = copy.deepcopy(good)
    no_power["pln_installed_power"] = None  # lighting_source 1 requires it
    assert json_errors(no_power, doc, doc)
    with_nik = copy.deepcopy(good)
    with_nik["NIK"] = "3201012345678901"
    assert any("key NIK" in e for e in json_errors(with_nik, doc, doc))
    assert json_errors({**good, "members": []}, doc, doc)


_FAMILY_SPECS = [s for s in schema.FAMILY_FIELDS if s.kind in ("category", "int", "float", "bool")]
_RULE_FIELDS = {r.field for r in CONDITIONAL_RULES} | {r.when for r in CONDITIONAL_RULES}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=st.sampled_from(_FAMILY_SPECS),
       value=st.one_of(st.none(), st.booleans(), st.integers(-3, 1200), st.floats(-10, 1e5, allow_nan=False)))
def test_json_schema_and_validator_agree_on_single_fields(spec, value):
    """For one changed family field, the exported schema and the validator give the same verdict, except
    the validator's documented leniency: a bool field also takes the numbers 0 and 1 (CSV input)."""
    doc = family_request_schema()
    family = example_family("Kagree0001")
    family[spec.name] = value
    schema_ok = not json_errors(family, doc, doc)
    lenient = spec.kind == "bool" and not isinstance(value, bool) and value in (0, 1)
    assert validate_family_json(family).ok == (schema_ok or lenient), (spec.name, value)


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------
def test_schema_command_text_markdown_and_json(tmp_path):
    runner = CliRunner()
    text = runner.invoke(cli, ["schema", "--table", "members"], env={"COLUMNS": "220"})
    assert text.exit_code == 0, text.output
    for spec in schema.MEMBER_FIELDS:
        assert spec.name in text.output
    assert "Kepala keluarga" in text.output
    md_file = tmp_path / "contract.md"
    md = runner.invoke(cli, ["schema", "--format", "markdown", "--out", str(md_file)])
    assert md.exit_code == 0, md.output
    content = md_file.read_text()
    for table, specs in schema.TABLES.items():
        assert f"## {table}" in content
        assert all(f"`{s.name}`" in content for s in specs)
    out = runner.invoke(cli, ["schema", "--format", "json-schema", "--table", "families"])
    assert out.exit_code == 0
    assert json.loads(out.output) == table_row_schema("families")


def _write_population(tmp_path, families: list[dict]) -> tuple[str, str]:
    fam_rows, mem_rows = [], []
    for fam in copy.deepcopy(families):
        members = fam.pop("members")
        fam_rows.append(fam)
        mem_rows += [{"family_id": fam["family_id"], **m} for m in members]
    fam_path, mem_path = tmp_path / "families.parquet", tmp_path / "members.parquet"
    schema.coerce_dtypes(pd.DataFrame(fam_rows), "families").to_parquet(fam_path)
    schema.coerce_dtypes(pd.DataFrame(mem_rows), "members").to_parquet(mem_path)
    return str(fam_path), str(mem_path)


def test_validate_command_exit_codes_and_report(tmp_path):
    runner = CliRunner()
    good = [example_family(f"Kcli{i:04d}") for i in range(5)]
    fam, mem = _write_population(tmp_path, good)
    ok = runner.invoke(cli, ["validate", "--families", fam, "--members", mem])
    assert ok.exit_code == 0, ok.output
    assert "0 errors" in ok.output
    bad = copy.deepcopy(good)
    bad[1]["floor_material"] = 42
    bad[3]["members"][2]["age"] = 121
    fam, mem = _write_population(tmp_path, bad)
    report = tmp_path / "problems.csv"
    res = runner.invoke(cli, ["validate", "--families", fam, "--members", mem, "--report", str(report)])
    assert res.exit_code == 1, res.output
    assert "2 errors" in res.output and "Kcli0001" in res.output
    problems = pd.read_csv(report)
    assert sorted(problems["family_id"]) == ["Kcli0001", "Kcli0003"]
    assert set(problems["field"]) == {"floor_material", "age"}


def test_pseudonymise_command(tmp_path, pseudonym_key):
    runner = CliRunner()
    src = tmp_path / "raw.csv"
    kk = ["3201012345678901", "0301012345678902", "3201012345678901"]
    pd.DataFrame({"no_kk": kk, "nama": ["A", "B", "C"], "floor_area_m2": [30, 40, 50]}).to_csv(src, index=False)
    out = tmp_path / "out.parquet"
    refused = runner.invoke(cli, ["pseudonymise", "--input", str(src), "--column", "no_kk", "--out", str(out)])
    assert refused.exit_code != 0 and "nama" in refused.output and not out.exists()
    res = runner.invoke(cli, ["pseudonymise", "--input", str(src), "--column", "no_kk", "--out", str(out),
                              "--drop", "nama"])
    assert res.exit_code == 0, res.output
    assert pseudonym_key not in res.output and kk[0] not in res.output
    table = pd.read_parquet(out)
    assert list(table.columns) == ["family_id", "floor_area_m2"]
    assert list(table["family_id"]) == [pseudonymise(k, pseudonym_key) for k in kk]  # leading zero kept
    assert table["family_id"][0] == table["family_id"][2] != table["family_id"][1]


def test_pseudonymise_command_without_key(tmp_path, monkeypatch):
    monkeypatch.delenv("DESIL_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("DESIL_PSEUDONYM_KEY_FILE", raising=False)
    src = tmp_path / "raw.csv"
    pd.DataFrame({"no_kk": ["3201012345678901"]}).to_csv(src, index=False)
    res = CliRunner().invoke(cli, ["pseudonymise", "--input", str(src), "--column", "no_kk",
                                   "--out", str(tmp_path / "o.parquet")])
    assert res.exit_code != 0 and "no pseudonymisation key" in res.output


@pytest.mark.parametrize("table", list(schema.TABLES))
def test_schema_command_each_table(table):
    res = CliRunner().invoke(cli, ["schema", "--table", table, "--format", "markdown"])
    assert res.exit_code == 0 and f"## {table}" in res.output
